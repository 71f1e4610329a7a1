"""Charts that stay mounted (app/component/live_chart.py): the plotly.js copy, updates in place in Chromium,
and a plain message when plotly.js cannot load."""

from __future__ import annotations

import os
import re

from conftest import MAIN, start_server, stop_server
from e2e import BOX, assert_no_failure, failures, take_js_errors, wait_for, wait_for_charts

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
        errors = take_js_errors(page)  # the app's page, served for the missing file, read as a script
        assert len(errors) == 1 and "SyntaxError" in errors[0], errors
        shown = failures(page)
        assert len(shown) == GATES_CHARTS
        assert all("This chart could not be drawn: plotly.js did not load" in s for s in shown)
        assert "streamlit run app/main.py" in shown[0]
    finally:
        stop_server(proc)


HOVER = """([row, col]) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[1];  // the heatmaps
  const shown = gd.querySelector('.hoverlayer').textContent;
  Plotly.Fx.hover(gd, {xval: col, yval: row});  // category axes: positions
  return shown;
}"""
"""Hover the heatmaps at (row, column); returns the hover text shown before. Plotly may draw the
hover later (it throttles hover events), so :func:`hover` waits for the text to change."""

HOVER_TEXT = "() => document.querySelectorAll('.js-plotly-plot')[1].querySelector('.hoverlayer').textContent"


def hover(page, row: int, col: int) -> str | None:
    """The hover text at (row, col) of the heatmaps, None if there is none; (row, col) must show a
    text other than the last one hovered (or than none)."""
    before = page.evaluate(HOVER, [row, col])
    page.wait_for_function(f"(before) => ({HOVER_TEXT})() !== before", arg=before, timeout=30_000)
    return page.evaluate(HOVER_TEXT) or None


def test_the_one_trace_heatmap_hovers_with_the_block_unit_and_exact_value(page, app_url):
    """The heatmaps are one trace whose colours are places on a composite scale: the hover must
    still name the row and unit and give the value itself, and the blank rows between blocks
    have no hover at all."""
    page.goto(f"{app_url}/?seq=Hover+me")
    wait_for_charts(page, GATES_CHARTS, 8)
    rows = page.evaluate("() => document.querySelectorAll('.js-plotly-plot')[1].data[0].y")
    first = next(k for k, y in enumerate(rows) if y.startswith("f · unit "))
    shown = hover(page, first, 2)
    assert re.fullmatch(r"step 2: «v»f · unit \d+ = \d\.\d{3}", shown), shown  # a gate: 0..1
    c_row = next(k for k, y in enumerate(rows) if y.startswith("c · unit "))
    assert re.search(r"c · unit \d+ = -?\d+\.\d{3}$", hover(page, c_row, 0))
    assert hover(page, first - 1, 2) is None  # the blank row above the block: the hover goes
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
    far = page.evaluate("() => document.querySelectorAll('.gs-chart')[2].getBoundingClientRect().top"
                        " / innerHeight")
    assert far > 2, far  # the scrubber is well beyond live_chart.NEAR_MARGIN (half a window)
    box.fill("Out of view.")
    box.press("Control+Enter")
    # the new text has reached the three charts: drawn in view, and the scrubber either faded
    # (as it should be) or drawn
    wait_for(page, f"""() => {{ const [story, heatmaps, scrubber] = ({TOKENS})();
        return story.tokens === 12 && heatmaps.tokens === 12
          && (scrubber.stale || scrubber.tokens === 12); }}""")
    assert_no_failure(page)
    story, heatmaps, scrubber = page.evaluate(TOKENS)
    assert story == heatmaps == {"tokens": 12, "stale": False}  # in view (the heatmaps' top)
    assert scrubber == {"tokens": old, "stale": True}  # out of view: the last figure, faded
    page.locator(".gs-chart").last.scroll_into_view_if_needed()
    wait_for(page, f"() => ({TOKENS})()[2].tokens === 12")
    assert page.evaluate(TOKENS)[2] == {"tokens": 12, "stale": False}


def test_leaving_a_page_redraws_nothing_and_throws_nothing(page, app_url):
    """On a switch to another page in the same session, the charts of the page left shrink to
    nothing before they go; a chart must not be relaid out to width 0 then (Plotly throws on it,
    once per chart)."""
    page.goto(app_url)
    box = page.locator(BOX)
    box.wait_for(timeout=60_000)
    wait_for_charts(page, GATES_CHARTS, len(box.input_value()))
    page.locator('[data-testid="stSidebarNav"] a', has_text="Gradients").click()
    wait_for(page, """() => [...document.querySelectorAll('.js-plotly-plot')].some(gd =>
                        ['RNN', 'LSTM', 'GRU'].every(n => gd.data.some(t => t.name === n)))""")
    assert_no_failure(page)
