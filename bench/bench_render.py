"""How long the Gates page takes to re-render after an edit, against a minimal Streamlit page.

    python bench/bench_render.py [--edits 12] [--runs 3] [--lengths 100 2000]

Both pages run under ``streamlit run`` on this machine and are driven by Debian's headless
Chromium through Playwright. One edit = fill the sequence box with a text of a new length, commit
it (Ctrl+Enter), and wait until the charts in the browser show that length (``CHARTS_READY``: the
token count each chart carries, or its heatmap columns and scrubber steps). The Gates page draws
three charts in text mode (one unit's story, the heatmaps, the scrubber).

Charts are drawn when they come into view (``app.component.live_chart``), so each edit is timed two ways:

* **in view**: a 1400 x 1000 window at the top of the page, until every chart in the window shows
  the edit (Gates: the story and the heatmaps; the scrubber is further down and is drawn when a
  visitor scrolls to it);
* **whole page**: a window tall enough (1400 x WHOLE_PAGE_HEIGHT) for every chart to be in view,
  until all of them show the edit (Gates: all three).

The minimal page has one text box and one heatmap (32 random rows by the text's length, float32),
built by the app's own figure constructor (``app.charts.base.figure``) and drawn by the app's own
``ui.show_chart`` (template, config, theme), so the ratio measures what the Gates page draws and
nothing else. The two pages are edited in turn, each edit of one right after the same edit of the
other, so load from elsewhere on this shared machine hits both alike.

Two text lengths: about 100 characters (edits of 67 to 144) and about 2,000 (1,916 to 2,000,
the page's limit). Prints, for each length, window and run, the median of both pages and the
ratio, then the median ratio over the runs; the goals are at most 2x at ~100 characters and at
most 3x at 2,000.

Then the scrubber: moves its step slider to different steps and times each move until the step's
frame is drawn (all in the browser, no server round trip; goal under 100 ms).
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
from e2e import CHARTS_READY  # noqa: E402

MINIMAL_PAGE = f'''
import sys
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
import numpy as np
import streamlit as st
from app.charts import base as charts
from app.component import live_chart
from app.widgets import page as ui

live_chart.ensure_plotly_js(Path(__file__).parent / "static")
text = st.text_area("Sequence", "The cat sat on the mat.", key="seq", height=100)
z = np.random.default_rng(0).uniform(size=(32, max(1, len(text)))).astype(np.float32)
ui.show_chart(charts.figure(
    [{{"type": "heatmap", "z": z, "x": np.arange(z.shape[1]), "coloraxis": "coloraxis"}}],
    {{"coloraxis": {{"colorscale": "Cividis", "cmin": 0, "cmax": 1}}}}), "minimal", key="minimal")
'''

BASE = "The quick brown fox jumps over the lazy dog, and then it said: \"not again\". "
WINDOW = {"width": 1400, "height": 1000}
"""The browser window of the "in view" timing (and of the scrubber's)."""
WHOLE_PAGE_HEIGHT = 3600
"""The window height at which every chart of the Gates page is in view (the page is ~3,000 px)."""
GOALS = {100: 2.0, 2000: 3.0}
"""Text length -> the most the Gates page may take, in multiples of the minimal page."""


def text_of(length: int, k: int) -> str:
    """Edit k's text (k = 0 is the warm-up): about ``length`` characters, 7 more every edit, never
    beyond the page's limit of 2,000."""
    start = 60 if length <= 100 else min(length, 2000) - 84
    return (BASE * 40)[: start + 7 * k]


def time_edits(pages: dict[str, tuple[str, int]], edits: int, length: int = 100,
               whole_page: bool = False) -> dict[str, list[float]]:
    """Seconds from committing an edit to the charts showing it, ``edits`` edits per page: every
    chart in a :data:`WINDOW` at the top of the page, or (``whole_page``) every chart of the page
    in a window tall enough to hold them all.

    pages: name -> (script, number of charts). Every page gets its own server and browser tab,
    and the edits go round the pages in turn, so a busy machine slows them all alike.
    """
    viewport = {**WINDOW, "height": WHOLE_PAGE_HEIGHT} if whole_page else WINDOW
    from playwright.sync_api import sync_playwright

    servers = {name: start_server(script) for name, (script, _) in pages.items()}
    seconds: dict[str, list[float]] = {name: [] for name in pages}
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            tabs = {}
            for name, (_, url) in servers.items():
                tabs[name] = browser.new_page(viewport=viewport)
                tabs[name].goto(url)
                tabs[name].locator('textarea[aria-label="Sequence"]').wait_for(timeout=60_000)
            for k in range(edits + 1):  # the first edit warms up each server and is not counted
                text = text_of(length, k)
                for name, tab in tabs.items():
                    tab.bring_to_front()
                    box = tab.locator('textarea[aria-label="Sequence"]')
                    box.fill(text)
                    start = time.perf_counter()
                    box.press("Control+Enter")
                    ready = {"count": pages[name][1] if whole_page else 1, "T": len(text),
                             "scroll": False, "inView": not whole_page}
                    tab.wait_for_function(CHARTS_READY, arg=ready, timeout=120_000, polling=10)
                    if k:
                        seconds[name].append(time.perf_counter() - start)
            browser.close()
    finally:
        for proc, _ in servers.values():
            stop_server(proc)
    return seconds


SCRUB_STEP = """async ([x, withChart]) => {
  const box = [...document.querySelectorAll('.gs-chart-box')].find(b => b.__player);
  const slider = box.__player.slider;
  const gd = box.querySelector('.js-plotly-plot');
  const step = Math.round(x * Number(slider.max));
  const drawn = withChart ? new Promise(resolve => gd.once('plotly_afterplot', resolve)) : null;
  const start = performance.now();
  slider.value = step;
  slider.dispatchEvent(new Event('input', {bubbles: true}));
  if (drawn) await Promise.race([drawn, new Promise(r => setTimeout(r, 5000))]);
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));  // painted
  return performance.now() - start;
}"""
"""Milliseconds from moving the page's player's step slider (to fraction ``x`` of its steps) to its
chart (if ``withChart``) redrawn with that step's frame (Plotly's ``plotly_afterplot``; a step
animates to its frame, with no transition, so no ``plotly_animated`` event comes) and the page
painted. Over 5,000 ms means the chart was never redrawn."""

SPOTS = [0.1, 0.9, 0.3, 0.7, 0.5, 0.2, 0.8, 0.4, 0.6]
"""Where successive slider moves go, as fractions of the steps: far apart, so every frame differs."""


def time_scrubbing(moves: int, length: int = 100) -> list[float]:
    """Seconds from a move of the scrubber's step slider to the new step's frame being drawn."""
    from playwright.sync_api import sync_playwright

    proc, url = start_server(MAIN)
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport=WINDOW)
            page.goto(url)
            box = page.locator('textarea[aria-label="Sequence"]')
            box.wait_for(timeout=60_000)
            text = text_of(length, 0)
            box.fill(text)
            box.press("Control+Enter")
            page.wait_for_function(CHARTS_READY, arg={"count": 3, "T": len(text)}, timeout=120_000)
            page.locator(".gs-player-controls input").scroll_into_view_if_needed()
            ms = [page.evaluate(SCRUB_STEP, [SPOTS[k % len(SPOTS)], True]) for k in range(moves)]
            browser.close()
    finally:
        stop_server(proc)
    return [m / 1e3 for m in ms]


def summary(name: str, seconds: list[float]) -> float:
    median = statistics.median(seconds)
    p90 = sorted(seconds)[int(0.9 * (len(seconds) - 1))]
    print(f"{name:<34} median {median * 1e3:7.1f} ms   p90 {p90 * 1e3:7.1f} ms   (n={len(seconds)})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=12, help="timed edits per page, per run")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per length (fresh servers each); 0 times the scrubber alone")
    parser.add_argument("--lengths", type=int, nargs="+", default=[100, 2000])
    parser.add_argument("--no-scrub", action="store_true", help="skip the scrubber's timing")
    args = parser.parse_args()
    windows = {"in view": False, "whole page": True}
    ratios: dict[tuple[str, int], list[float]] = {(w, n): [] for w in windows for n in args.lengths}
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL_PAGE)
        for run in range(args.runs):
            for length in args.lengths:
                for window, whole_page in windows.items():
                    seconds = time_edits({"minimal": (str(minimal), 1), "gates": (MAIN, 3)},
                                         args.edits, length, whole_page)
                    print(f"-- run {run + 1}, ~{length} characters, {window}")
                    base = summary("minimal page (1 heatmap)", seconds["minimal"])
                    gates = summary(f"Gates page ({'all 3 charts' if whole_page else 'charts in view'})",
                                    seconds["gates"])
                    ratios[window, length].append(gates / base)
                    print(f"ratio Gates / minimal: {gates / base:.2f}x", flush=True)
    for (window, length), values in ratios.items():
        if not values:
            continue
        goal = GOALS.get(length)
        print(f"~{length} characters, {window}: median ratio {statistics.median(values):.2f}x over "
              f"{len(values)} runs ({', '.join(f'{v:.2f}' for v in values)})"
              + (f"; goal <= {goal:g}x" if goal else ""))
    if not args.no_scrub:
        for length in args.lengths:
            summary(f"scrubber step, ~{length} chars", time_scrubbing(args.edits, length))


if __name__ == "__main__":
    main()
