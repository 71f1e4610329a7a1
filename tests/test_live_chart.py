"""Charts that stay mounted (app/live_chart.py): the plotly.js copy, updates in place in Chromium,
and a plain message when plotly.js cannot load."""

from __future__ import annotations

import os

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
