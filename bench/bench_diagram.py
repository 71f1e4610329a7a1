"""How long a scrubber step takes in the browser with the cell diagram beside it, against the same
step without the diagram, in the same run; and a step of the diagrams alone.

    python bench/bench_diagram.py [--steps 24] [--rounds 3] [--length 100]

The app runs under ``streamlit run`` on this machine, driven by Debian's headless Chromium through
Playwright in a 1400 x 1000 window. One step = set the Gates scrubber's step slider to another
step and dispatch its ``input`` event (what dragging it or an arrow key does), until Plotly has
redrawn the chart with that step's frame (``plotly_afterplot``) and the browser has painted. The
diagram is redrawn in the same handler, before the chart (``app.component.live_chart``).

* **with the diagram**: the page as it is;
* **without**: the same page, the diagram taken out (its box hidden, the player stepping no
  diagram), so the difference is the diagram's own cost per step.

The two alternate in blocks (``--rounds`` of each, ``--steps`` steps a block, the first step of a
block not counted), so load from elsewhere on this shared machine hits both alike. Then the LSTM
vs GRU page's player of two diagrams and no chart: slider moved to painted, and the script part of
that step alone (the frame's numbers written into the SVGs; the rest is the browser's layout and
paint, which a loaded machine stretches). Goal: a step of the diagram under 50 ms; the diagram
adds little to a scrubber step.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_render import SCRUB_STEP, SPOTS, WINDOW, text_of  # noqa: E402
from conftest import MAIN, launch_chromium, start_server, stop_server  # noqa: E402
from e2e import DRAW_ALL  # noqa: E402

DIAGRAMS = """(show) => {
  const box = [...document.querySelectorAll('.gs-chart-box')].find(b => b.__player?.diagrams?.length
                                                                   || b.__hiddenDiagrams);
  const p = box.__player;
  if (show && box.__hiddenDiagrams) { p.diagrams = box.__hiddenDiagrams; box.__hiddenDiagrams = null; }
  if (!show && !box.__hiddenDiagrams) { box.__hiddenDiagrams = p.diagrams; p.diagrams = []; }
  p.diagramBox.style.display = show ? '' : 'none';
}"""
"""Take the diagram out of the scrubber's player (``show`` false) or put it back."""

SCRIPT = """() => {
  const p = [...document.querySelectorAll('.gs-chart-box')].find(b => b.__player?.diagrams?.length).__player;
  const start = performance.now();
  p.show((Number(p.slider.value) + 7) % p.spec.captions.length);
  return performance.now() - start;
}"""
"""Milliseconds of script a step of a player without a chart takes: its diagrams' numbers written
into their SVGs (what the step costs before the browser lays out and paints)."""


def time_steps(page, steps: int, with_chart: bool) -> list[float]:
    """Seconds of ``steps`` + 1 slider moves, the first (after a change of page state) left out."""
    ms = [page.evaluate(SCRUB_STEP, [SPOTS[k % len(SPOTS)], with_chart]) for k in range(steps + 1)]
    return [m / 1e3 for m in ms[1:]]


def open_at_the_diagrams(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(f"() => ({DRAW_ALL})() && document.querySelector('.gs-diagram')", timeout=120_000)
    page.locator(".gs-diagram").first.scroll_into_view_if_needed()


def summary(name: str, seconds: list[float]) -> float:
    median = statistics.median(seconds)
    p90 = sorted(seconds)[int(0.9 * (len(seconds) - 1))]
    print(f"{name:<44} median {median * 1e3:7.1f} ms   p90 {p90 * 1e3:7.1f} ms   (n={len(seconds)})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24, help="timed steps per block")
    parser.add_argument("--rounds", type=int, default=3, help="blocks with and without the diagram")
    parser.add_argument("--length", type=int, default=100, help="characters typed")
    args = parser.parse_args()
    from urllib.parse import quote

    from playwright.sync_api import sync_playwright

    text = text_of(args.length, 0)
    proc, url = start_server(MAIN)
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport=WINDOW)
            open_at_the_diagrams(page, f"{url}/?seq={quote(text)}")
            timed: dict[str, list[float]] = {"with": [], "without": []}
            for _ in range(args.rounds):
                for kind in timed:
                    page.evaluate(DIAGRAMS, kind == "with")
                    timed[kind] += time_steps(page, args.steps, with_chart=True)
            page.evaluate(DIAGRAMS, True)
            page.get_by_role("button", name="∂ The way back").click()
            way_back = time_steps(page, args.steps, with_chart=True)
            open_at_the_diagrams(page, f"{url}/compare?seq={quote(text)}")
            alone = time_steps(page, args.steps * args.rounds, with_chart=False)
            script = [page.evaluate(SCRIPT) / 1e3 for _ in range(args.steps * args.rounds)]
            browser.close()
    finally:
        stop_server(proc)
    print(f"-- Gates, {len(text)} characters, a scrubber step (slider to chart redrawn and painted)")
    with_diagram = summary("with the diagram", timed["with"])
    without = summary("without the diagram (same page, same run)", timed["without"])
    summary("with the diagram, the way back shown", way_back)
    print(f"the diagram's share of a step: {(with_diagram - without) * 1e3:+.1f} ms "
          f"({with_diagram / without:.2f}x)")
    print("-- LSTM vs GRU: two diagrams, no chart (slider to painted)")
    step = summary("a step of the diagrams alone", alone)
    summary("  of which script (numbers into the SVGs)", script)
    print(f"goal: a step of the diagram under 50 ms: {'met' if step < 0.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
