"""End to end: the real app (``streamlit run app/main.py``) in Debian's headless Chromium.

Fixtures in conftest.py start the server on a free port and launch ``/usr/bin/chromium`` through
Playwright (never ``playwright install``); every page is checked with ``e2e.assert_no_failure`` (no
exception, no error box, no chart that could not be drawn, no formula KaTeX could not typeset, no
JavaScript error). The last tests prove that each of those checks fails when it should, on a
scratch page built from the real ``ui.page_guard``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, start_server, stop_server
from e2e import (
    BOX,
    HEATMAP_BLOCKS,
    assert_no_failure,
    failures,
    js_errors,
    take_js_errors,
    wait_for,
    wait_for_charts,
)

import cells

PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> **x** $y$'

GATES_CHARTS = 3
"""The Gates page's charts in text mode: one unit's story, the heatmaps, the scrubber."""


def type_sequence(page, text: str) -> None:
    box = page.locator(BOX)
    box.fill(text)
    box.press("Control+Enter")


def test_type_a_sequence_and_see_the_gates(page, app_url):
    page.goto(app_url)
    page.wait_for_selector(BOX, timeout=60_000)
    type_sequence(page, "Hello, gates!")
    wait_for_charts(page, 3, len("Hello, gates!"))
    assert_no_failure(page)
    ticks = page.eval_on_selector_all(".xtick text", "els => els.map(e => e.textContent)")
    assert {"H", "␣", "!"} <= set(ticks)


def test_typed_html_does_not_execute_and_shows_as_text(page, app_url):
    page.goto(app_url)
    page.wait_for_selector(BOX, timeout=60_000)
    type_sequence(page, PAYLOAD)
    wait_for_charts(page, 3, len(PAYLOAD))
    assert_no_failure(page)
    assert page.evaluate("window.__xss") is None
    assert page.locator('img[src="x"]').count() == 0
    ticks = page.eval_on_selector_all(".xtick text", "els => els.map(e => e.textContent)")
    assert "<" in ticks and ">" in ticks  # shown literally, not parsed


CAPTION = "() => [...document.querySelectorAll('.gs-player-caption')].pop().textContent"

SHOWS_FRAME = """(name) => { const gd = [...document.querySelectorAll('.js-plotly-plot')].pop();
                            const frame = gd._transitionData._frameHash[name];
                            return !!frame && JSON.stringify(gd.data[0].y)
                                              === JSON.stringify(frame.data[0].y); }"""
"""Whether the scrubber's chart (the page's last) shows its frame ``name`` (a step)."""


def test_the_scrubber_plays_and_steps_in_the_browser(page, app_url):
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket))
    page.goto(app_url)
    page.wait_for_selector(BOX, timeout=60_000)
    T = len(page.locator(BOX).input_value())
    wait_for_charts(page, 3, T)
    assert page.evaluate(CAPTION).startswith(f"step 0 of {T - 1} · token «T»")
    requests = []
    assert sockets  # the app's connection, watched from the start
    for socket in sockets:
        socket.on("framesent", lambda frame: requests.append(frame))
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(f"() => !({CAPTION})().startsWith('step 0 ')", timeout=60_000)
    page.get_by_role("button", name="❚❚ Pause").click()
    slider = page.get_by_role("slider", name="Scrubber step", exact=True)
    slider.focus()
    slider.press("Home")  # a native range input: the keyboard steps it
    slider.press("ArrowRight")
    slider.press("ArrowRight")
    page.wait_for_function(f"() => ({CAPTION})().startsWith('step 2 of')", timeout=60_000)
    page.wait_for_function(SHOWS_FRAME, arg="2", timeout=60_000)  # Plotly animates to step 2's frame
    assert requests == []  # all in the browser: nothing sent to the server
    assert_no_failure(page)


def test_after_an_edit_the_scrubber_steps_the_new_readings_chart(page, app_url):
    # plotly.js 4.1.1's Plotly.react drops a figure's frames when the config changes (it plots
    # anew from the data alone): the scrubber's chart stopped stepping after every edit
    page.goto(app_url)
    page.wait_for_selector(BOX, timeout=60_000)
    wait_for_charts(page, 3, len(page.locator(BOX).input_value()))
    type_sequence(page, "a new reading")
    wait_for_charts(page, 3, len("a new reading"))
    slider = page.get_by_role("slider", name="Scrubber step", exact=True)
    slider.scroll_into_view_if_needed()
    slider.focus()
    slider.press("End")
    page.wait_for_function(f"() => ({CAPTION})().startsWith('step 12 of 12')", timeout=60_000)
    frames = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].pop()
                                        ._transitionData._frames.length""")
    assert frames == len("a new reading")  # one frame a step, the new reading's
    page.wait_for_function(SHOWS_FRAME, arg="12", timeout=60_000)  # the last step's frame
    assert_no_failure(page)


def test_a_shared_url_opens_the_same_sequence(page, app_url):
    page.goto(f"{app_url}/?seq=shared+view&arch=gru")
    page.wait_for_selector(BOX, timeout=60_000)
    wait_for_charts(page, 3, len("shared view"))
    assert page.locator(BOX).input_value() == "shared view"
    blocks = page.evaluate(f"({HEATMAP_BLOCKS})(document.querySelectorAll('.js-plotly-plot')[1])")
    assert blocks == ["r", "z", "n", "h"]
    assert_no_failure(page)


def test_gradients_page_shows_rnn_lstm_and_gru(page, app_url):
    page.goto(f"{app_url}/gradients")
    wait_for(page, """() => [...document.querySelectorAll('.js-plotly-plot')].some(gd =>
                        ['RNN', 'LSTM', 'GRU'].every(n => gd.data.some(t => t.name === n)))""")
    assert_no_failure(page)  # the "why" formulas typeset too
    assert page.locator('[data-testid="stMarkdown"] li .katex').count() >= 3 * 3  # each cell's line


def test_compare_page_draws_both_cells(page, app_url):
    page.goto(f"{app_url}/compare")
    page.wait_for_selector(BOX, timeout=60_000)
    type_sequence(page, "a short one")
    wait_for_charts(page, 3, len("a short one"))
    assert_no_failure(page)


def test_csv_download_of_the_view(page, app_url):
    page.goto(f"{app_url}/?seq=abc")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Download these values as CSV").click()
    assert download.value.suggested_filename == "gatescope-gates-lstm.csv"
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "step,token,unit,gate,value" and lines[1].startswith("0,a,")
    assert_no_failure(page)


UNTYPESET = "- **GRU**: along $h$, $h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}\n\\end{aligned}$"
"""The Gradients page's GRU line before its fix: the last row of the cell's ``aligned`` block, its
end included, which KaTeX cannot typeset alone."""

FAILING_PAGE = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
import cells
from app.widgets import page as ui

how = st.query_params.get("fail", "")
with ui.page_guard():
    st.write("before")
    if how == "guard":
        raise ValueError("caught by the guard")
if how == "raise":
    raise RuntimeError("escaped the page")
if how == "formula":
    st.markdown({UNTYPESET!r})
if how == "cells":  # every registered cell's equations, and its memory update alone
    for arch in cells.ARCHS:
        st.latex(cells.cell_class(arch).equations)
        st.markdown(f"${{cells.cell_class(arch).memory_equation}}$")
st.write("after")
"""
"""A scratch app: ``?fail=guard`` shows the page guard's box, ``raise`` lets an exception escape,
``formula`` shows a formula KaTeX cannot typeset, ``cells`` typesets every registered cell's
equations; anything else, a page with no failure."""


@pytest.fixture(scope="module")
def scratch_url(tmp_path_factory) -> str:
    script = tmp_path_factory.mktemp("scratch") / "failing_page.py"
    script.write_text(FAILING_PAGE, encoding="utf-8")
    proc, url = start_server(str(script))
    yield url
    stop_server(proc)


def test_the_failure_check_sees_the_guard_box_and_exceptions(page, scratch_url):
    """assert_no_failure fails on the page guard's error box and on an escaped exception, on a
    page built from the real ``ui.page_guard``, and passes on the same page when nothing fails;
    the waits fail at once, quoting the failure, rather than waiting for what will not come."""
    page.goto(f"{scratch_url}/?fail=guard")
    page.get_by_text("after").wait_for(timeout=60_000)
    shown = failures(page)
    assert len(shown) == 1 and "This input could not be shown" in shown[0]
    assert shown[0].endswith("| ValueError: caught by the guard")
    with pytest.raises(AssertionError, match="could not be shown"):
        assert_no_failure(page)
    with pytest.raises(AssertionError, match="could not be shown"):
        wait_for(page, "() => false")  # at once: no 90 s wait for a chart that never comes

    page.goto(f"{scratch_url}/?fail=raise")
    page.locator('[data-testid="stException"]').wait_for(timeout=60_000)
    assert len(failures(page)) == 1
    with pytest.raises(AssertionError, match="encountered an error"):  # details are redacted
        assert_no_failure(page)

    page.goto(scratch_url)
    page.get_by_text("after").wait_for(timeout=60_000)
    assert_no_failure(page)


def test_the_failure_check_sees_a_formula_that_did_not_typeset(page, scratch_url):
    """The Gradients page's GRU line as it was (:data:`UNTYPESET`): KaTeX shows it raw, in red, and
    the check quotes it and KaTeX's message."""
    page.goto(f"{scratch_url}/?fail=formula")
    page.get_by_text("after").wait_for(timeout=60_000)
    shown = failures(page)
    assert len(shown) == 1 and shown[0].startswith("formula not typeset: ")
    assert "\\end{aligned}" in shown[0] and "KaTeX parse error" in shown[0]
    with pytest.raises(AssertionError, match="formula not typeset"):
        assert_no_failure(page)


def test_the_failure_check_sees_a_javascript_error(page, scratch_url):
    page.goto(scratch_url)
    page.get_by_text("after").wait_for(timeout=60_000)
    assert_no_failure(page)
    with page.expect_event("pageerror"):
        page.evaluate("() => { setTimeout(() => { throw new TypeError('planted'); }); }")
    errors = js_errors(page)
    assert len(errors) == 1 and errors[0].startswith("JavaScript error: TypeError: planted (at ")
    with pytest.raises(AssertionError, match="TypeError: planted"):
        assert_no_failure(page)
    assert take_js_errors(page) == errors  # checked: the test's own, not reported again
    assert_no_failure(page)


def test_every_cells_equations_typeset(page, scratch_url):
    """Each registered cell's equations (the LSTM vs GRU page) and its memory update alone (the
    Gradients page's "why") are LaTeX that KaTeX typesets: one formula each, no error."""
    page.goto(f"{scratch_url}/?fail=cells")
    page.get_by_text("after").wait_for(timeout=60_000)
    assert_no_failure(page)
    assert page.locator(".katex").count() == 2 * len(cells.ARCHS)


def test_the_app_fetches_nothing_from_the_internet(page, app_url):
    """Every request a visit makes goes to the app's own server (plotly.js, the favicon, fonts):
    the app runs offline."""
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    for path in ("/", "/gradients"):
        page.goto(f"{app_url}{path}")
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)
        assert_no_failure(page)
    outside = [url for url in requests if not url.startswith((app_url, f"blob:{app_url}", "data:"))]
    assert requests and not outside, outside
