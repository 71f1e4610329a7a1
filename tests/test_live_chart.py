"""Charts that stay mounted (app/live_chart.py): the plotly.js copy, updates in place in Chromium,
and a plain message when plotly.js cannot load."""

from __future__ import annotations

import os
import re

from conftest import MAIN, start_server, stop_server
from e2e import BOX, assert_no_failure, failures, wait_for_charts

from app.component import live_chart

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
    wait_for_charts(page, GATES_CHARTS, len(first))
    page.evaluate("() => document.querySelectorAll('.js-plotly-plot').forEach((gd, k) => gd.__mark = k)")
    box.fill("A new text, typed.")
    box.press("Control+Enter")
    wait_for_charts(page, GATES_CHARTS, 18)
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
    wait_for_charts(page, GATES_CHARTS, 8)
    rows = page.evaluate("() => document.querySelectorAll('.js-plotly-plot')[1].data[0].y")
    first = next(k for k, y in enumerate(rows) if y.startswith("f · unit "))
    shown = page.evaluate(HOVER, [first, 2])
    assert re.fullmatch(r"step 2: «v»f · unit \d+ = \d\.\d{3}", shown), shown  # a gate: 0..1
    c_row = next(k for k, y in enumerate(rows) if y.startswith("c · unit "))
    assert re.search(r"c · unit \d+ = -?\d+\.\d{3}$", page.evaluate(HOVER, [c_row, 0]))
    assert page.evaluate(HOVER, [first - 1, 2]) is None  # the blank row above the block
    assert_no_failure(page)


TOKENS = f"""() => [...document.querySelectorAll('.gs-chart')].map(gd => ({{
  tokens: gd._fullLayout ? gd._fullLayout.meta.tokens : null,
  stale: gd.parentElement.classList.contains('{live_chart.STALE_CLASS}')}}))"""


def test_a_chart_out_of_view_is_drawn_when_it_comes_into_view(page, app_url):
    """An edit redraws the charts in view (1400 x 1000); the scrubber, further down, keeps its last figure,
    faded, until it is scrolled into view, and is then drawn with the new text."""
    page.goto(app_url)
    box = page.locator(BOX)
    box.wait_for(timeout=60_000)
    wait_for_charts(page, GATES_CHARTS, len(box.input_value()))  # all drawn; back at the top
    old = len(box.input_value())
    box.fill("Out of view.")
    box.press("Control+Enter")
    page.wait_for_function(f"() => ({TOKENS})()[0].tokens === 12", timeout=60_000)  # the story
    assert_no_failure(page)  # the run has finished: every chart has its new figure
    story, heatmaps, scrubber = page.evaluate(TOKENS)
    assert story == heatmaps == {"tokens": 12, "stale": False}  # in view (the heatmaps' top)
    assert scrubber == {"tokens": old, "stale": True}  # out of view: the last figure, faded
    page.locator(".gs-chart").last.scroll_into_view_if_needed()
    page.wait_for_function(f"() => ({TOKENS})()[2].tokens === 12", timeout=60_000)
    assert page.evaluate(TOKENS)[2] == {"tokens": 12, "stale": False}
