"""How long the Gates page takes to re-render after an edit, against a minimal Streamlit page.

    python bench/bench_render.py [--edits 12]

Both pages run under ``streamlit run`` on this machine and are driven by Debian's headless
Chromium through Playwright. One edit = fill the sequence box with a text of a new length, commit
it (Ctrl+Enter), and wait until every chart in the browser shows that length (heatmap columns,
scrubber frames). The minimal page has one text box and one heatmap (32 random rows by the text's
length). The two pages are edited in turn, so load from elsewhere on the machine hits both.
Prints the median and p90 of both and the ratio; the goal is a ratio of at most 2.

Then the scrubber: clicks on its slider rail at different steps and times each click until the
frame's title shows the new step (all in the browser, no server round trip; goal under 100 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import MAIN, launch_chromium, start_server, stop_server  # noqa: E402
from test_e2e import CHARTS_READY  # noqa: E402

MINIMAL_PAGE = '''
import numpy as np
import plotly.graph_objects as go
import streamlit as st

text = st.text_area("Sequence", "The cat sat on the mat.", key="seq")
z = np.random.default_rng(0).uniform(size=(32, max(1, len(text))))
st.plotly_chart(go.Figure(go.Heatmap(z=z, x=np.arange(z.shape[1]))))
'''

BASE = "The quick brown fox jumps over the lazy dog, and then it said: \"not again\". "


def time_edits(pages: dict[str, tuple[str, int]], edits: int) -> dict[str, list[float]]:
    """Seconds from committing an edit to every chart showing it, ``edits`` edits per page.

    pages: name -> (script, number of charts). Every page gets its own server and browser tab,
    and the edits go round the pages in turn, so a busy machine slows them all alike.
    """
    from playwright.sync_api import sync_playwright

    servers = {name: start_server(script) for name, (script, _) in pages.items()}
    seconds: dict[str, list[float]] = {name: [] for name in pages}
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            tabs = {}
            for name, (_, url) in servers.items():
                tabs[name] = browser.new_page(viewport={"width": 1400, "height": 1000})
                tabs[name].goto(url)
                tabs[name].locator('textarea[aria-label="Sequence"]').wait_for(timeout=60_000)
            for k in range(edits + 1):  # the first edit warms up each server and is not counted
                text = (BASE * 3)[: 60 + 7 * k]
                for name, tab in tabs.items():
                    tab.bring_to_front()
                    box = tab.locator('textarea[aria-label="Sequence"]')
                    box.fill(text)
                    start = time.perf_counter()
                    box.press("Control+Enter")
                    tab.wait_for_function(CHARTS_READY, arg={"count": pages[name][1], "T": len(text)},
                                          timeout=60_000, polling=10)
                    if k:
                        seconds[name].append(time.perf_counter() - start)
            browser.close()
    finally:
        for proc, _ in servers.values():
            stop_server(proc)
    return seconds


SCRUB_CLICK = """async (x) => {
  const title = () => [...document.querySelectorAll('.gtitle')].pop().textContent;
  const before = title();
  const rail = [...document.querySelectorAll('.slider-rail-rect')].pop().getBoundingClientRect();
  const start = performance.now();
  const at = {clientX: rail.left + x * rail.width, clientY: rail.top + rail.height / 2,
              bubbles: true};
  const target = document.elementFromPoint(at.clientX, at.clientY);
  target.dispatchEvent(new MouseEvent('mousedown', at));
  target.dispatchEvent(new MouseEvent('mouseup', at));
  while (title() === before) {
    await new Promise(r => requestAnimationFrame(r));
    if (performance.now() - start > 5000) return -1;
  }
  return performance.now() - start;
}"""


def time_scrubbing(clicks: int) -> list[float]:
    """Seconds from a click on the scrubber's slider to the new step's frame being drawn."""
    from playwright.sync_api import sync_playwright

    proc, url = start_server(MAIN)
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector(".slider-rail-rect", timeout=60_000)
            page.locator(".slider-rail-rect").last.scroll_into_view_if_needed()
            spots = [0.1, 0.9, 0.3, 0.7, 0.5, 0.2, 0.8, 0.4, 0.6]  # fractions of the rail
            ms = [page.evaluate(SCRUB_CLICK, spots[k % len(spots)]) for k in range(clicks)]
            browser.close()
    finally:
        stop_server(proc)
    return [m / 1e3 for m in ms if m >= 0]


def summary(name: str, seconds: list[float]) -> float:
    median = statistics.median(seconds)
    p90 = sorted(seconds)[int(0.9 * (len(seconds) - 1))]
    print(f"{name:<28} median {median * 1e3:7.1f} ms   p90 {p90 * 1e3:7.1f} ms   (n={len(seconds)})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL_PAGE)
        seconds = time_edits({"minimal": (str(minimal), 1), "gates": (MAIN, 2)}, args.edits)
    base = summary("minimal page (1 heatmap)", seconds["minimal"])
    gates = summary("Gates page (all charts)", seconds["gates"])
    print(f"ratio Gates / minimal: {gates / base:.2f}x (goal <= 2x)")
    summary("scrubber step (browser)", time_scrubbing(args.edits))


if __name__ == "__main__":
    main()
