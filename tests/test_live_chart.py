"""Charts that stay mounted (app/live_chart.py): the plotly.js copy, updates in place in Chromium,
and a plain message when plotly.js cannot load."""

from __future__ import annotations

import os
import re

from conftest import MAIN, start_server, stop_server
from e2e import BOX, CHARTS_READY, assert_no_failure, failures

from app import live_chart

GATES_CHARTS = 3


def test_the_installed_plotly_js_is_copied_once_and_a_partial_copy_replaced(tmp_path):
    static = tmp_path / "static"
    live_chart.ensure_plotly_js(static)
    copy = static / "plotly.min.js"
    assert copy.read_bytes() == live_chart.PLOTLY_JS.read_bytes()
    os.utime(copy, (1, 1))
    live_chart.ensure_plotly_js(static)  # identical: left alone
    assert copy.stat().st_mtime == 1
    copy.write_bytes(b"window.Plotly = null;")  # a broken or older copy: replaced
    live_chart.ensure_plotly_js(static)
    assert copy.read_bytes() == live_chart.PLOTLY_JS.read_bytes()
    assert [p.name for p in static.iterdir()] == ["plotly.min.js"]


def test_an_edit_updates_every_gates_chart_in_place(page, app_url):
    """The same chart elements before and after an edit (``st.plotly_chart`` built new ones), each
    showing the new text."""
    page.goto(app_url)
    box = page.locator(BOX)
    box.wait_for(timeout=60_000)
    first = box.input_value()
    page.wait_for_function(CHARTS_READY, arg={"count": GATES_CHARTS, "T": len(first)}, timeout=60_000)
    page.evaluate("() => document.querySelectorAll('.js-plotly-plot').forEach((gd, k) => gd.__mark = k)")
    box.fill("A new text, typed.")
    box.press("Control+Enter")
    page.wait_for_function(CHARTS_READY, arg={"count": GATES_CHARTS, "T": 18}, timeout=60_000)
    marks = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => gd.__mark)")
    assert marks == [0, 1, 2]
    assert_no_failure(page)


def test_without_static_serving_a_chart_says_it_could_not_be_drawn(page):
    """Started without ``server.enableStaticServing`` (not from the repository folder, say), the
    page shows why its charts are missing, and the browser tests' failure check sees it."""
    proc, url = start_server(MAIN, "--server.enableStaticServing", "false")
    try:
        page.goto(url)
        page.locator(f".{live_chart.ERROR_CLASS}").first.wait_for(timeout=60_000)
        shown = failures(page)
        assert len(shown) == GATES_CHARTS
        assert all("This chart could not be drawn: plotly.js did not load" in s for s in shown)
        assert "streamlit run app/main.py" in shown[0]
    finally:
        stop_server(proc)


HOVER = """async ([row, col]) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[1];  // the heatmaps
  const frame = () => new Promise(r => setTimeout(r, 100));  // Plotly throttles hover events
  Plotly.Fx.unhover(gd);
  await frame();
  Plotly.Fx.hover(gd, {xval: col, yval: row});  // category axes: positions
  await frame();
  return gd.querySelector('.hoverlayer').textContent || null;
}"""


def test_the_one_trace_heatmap_hovers_with_the_block_unit_and_exact_value(page, app_url):
    """The heatmaps are one trace whose colours are places on a composite scale: the hover must
    still name the row and unit and give the value itself, and the blank rows between blocks
    have no hover at all."""
    page.goto(f"{app_url}/?seq=Hover+me")
    page.wait_for_function(CHARTS_READY, arg={"count": GATES_CHARTS, "T": 8}, timeout=60_000)
    rows = page.evaluate("() => document.querySelectorAll('.js-plotly-plot')[1].data[0].y")
    first = next(k for k, y in enumerate(rows) if y.startswith("f · unit "))
    shown = page.evaluate(HOVER, [first, 2])
    assert re.fullmatch(r"step 2: «v»f · unit \d+ = \d\.\d{3}", shown), shown  # a gate: 0..1
    c_row = next(k for k, y in enumerate(rows) if y.startswith("c · unit "))
    assert re.search(r"c · unit \d+ = -?\d+\.\d{3}$", page.evaluate(HOVER, [c_row, 0]))
    assert page.evaluate(HOVER, [first - 1, 2]) is None  # the blank row above the block
    assert_no_failure(page)
