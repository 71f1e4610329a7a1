"""What every end-to-end test shares: the sequence box's selector and the one check that a page
shows no failure.

A page can fail in two ways a visitor sees, and both fail a test:

* Streamlit's own exception element (``stException``): an exception that escaped the page;
* the page guard's error box (``app.widgets.page.page_guard``: ``st.error`` "This input could not be shown..."
  followed by the exception's name in ``st.text``), which Streamlit draws as an error alert
  (``stAlertContentError``).

The app's only other error box is the upload's refusal of a bad weights file (sidebar, "This file
was refused: ..."), which no test expects unless it uploads one: any error alert is a failure. A
test that uploads a bad file on purpose checks that box itself.

The browser fixtures (``browser``, ``page``, ``new_page``) live in conftest.py; this module holds
what tests import by name (``from e2e import BOX, assert_no_failure``).
"""

from __future__ import annotations

BOX = 'textarea[aria-label="Sequence"]'
"""The sequence box every page reads."""

FAILURE = '[data-testid="stException"], [data-testid="stAlertContentError"], .gs-chart-error'
"""Streamlit's exception element, any error alert (the page guard's box), or a chart's message
that it could not be drawn (``app.component.live_chart.ERROR_CLASS``)."""

TEXTS = """(selector) => [...document.querySelectorAll(selector)]
    .filter(el => !el.parentElement.closest(selector)).map(el => {
  const next = el.closest('[data-testid="stElementContainer"]')?.nextElementSibling
    ?.querySelector('[data-testid="stText"]');
  return next ? `${el.innerText} | ${next.innerText}` : el.innerText;
})"""
"""Each failure's text (an exception element's own alert inside it counts once), and for the guard's
box the exception line it writes just below."""

NOT_DRAWN = """gd => !gd._fullLayout || gd.parentElement.classList.contains('gs-chart-stale')"""
"""Whether a chart (``.gs-chart``) is not drawn with its latest figure: never drawn, or out of
view with an older one (``app.component.live_chart.STALE_CLASS`` on its box)."""

DRAW_ALL = """() => {
  const notDrawn = """ + NOT_DRAWN + """;
  const behind = [...document.querySelectorAll('.gs-chart')]
    .filter(gd => gd.getClientRects().length && notDrawn(gd));
  if (behind.length) behind[0].scrollIntoView({block: 'center'});
  return behind.length === 0;
}"""
"""True once every chart on the page (but hidden ones) is drawn with its latest figure; until
then it scrolls to the first one behind, as a visitor would (``app.component.live_chart`` draws a chart
when it comes into view)."""

CHARTS_READY = """({count, T, scroll = true, inView = false}) => {
  if (scroll && !(""" + DRAW_ALL + """)()) return false;  // scrolled to a chart not drawn
  const near = gd => { const r = gd.getBoundingClientRect();
                       return r.bottom > 0 && r.top < innerHeight && r.height > 0; };
  const charts = [...document.querySelectorAll('.gs-chart')].filter(gd => !inView || near(gd));
  if (charts.length < count) return false;
  const notDrawn = """ + NOT_DRAWN + """;
  const shows = gd => {
    if (notDrawn(gd) || !gd._fullData || gd._fullData.length === 0) return false;
    const meta = gd._fullLayout.meta;
    if (meta && meta.tokens !== undefined) return meta.tokens === T;
    return gd._fullData.every(t => t.type !== 'heatmap' || t.x.length === T);
  };
  const hidden = gd => gd.getClientRects().length === 0;  // in a closed expander or another tab
  return charts.every(gd => hidden(gd) || shows(gd));
}"""
"""True once ``count`` charts are on the page and each shows a sequence of T tokens: the token
count a token chart carries in ``layout.meta.tokens`` (``app.charts.base.token_meta``), else (a figure
without it) its heatmaps' columns; a hidden chart (a closed expander, another tab) counts but is
not checked. A chart is drawn when it comes into view (``app.component.live_chart``), so unless ``scroll``
is false this first scrolls to each chart not drawn, as a visitor would (:data:`DRAW_ALL`). With
``inView`` only the charts in the window count (a benchmark's edit as a visitor sees it, without
scrolling)."""

TO_TOP = """() => document.querySelector('[data-testid="stMain"] h1')
    ?.scrollIntoView({block: 'end', behavior: 'instant'})"""
"""Back to the top of the page at once (the waits below scroll down to the charts): a menu opened
while the page still scrolls closes again."""


def wait_until_drawn(page, predicate: str, timeout_ms: int = 90_000) -> None:
    """Wait until every chart is drawn (:data:`DRAW_ALL`) and the JS ``predicate`` holds, then go
    back to the top of the page."""
    page.wait_for_function(f"() => ({DRAW_ALL})() && ({predicate})()", timeout=timeout_ms)
    page.evaluate(TO_TOP)


def wait_for_charts(page, count: int, T: int, timeout_ms: int = 60_000) -> None:
    """Wait until ``count`` charts show a sequence of T tokens (:data:`CHARTS_READY`), then go
    back to the top of the page."""
    page.wait_for_function(CHARTS_READY, arg={"count": count, "T": T}, timeout=timeout_ms)
    page.evaluate(TO_TOP)


HEATMAP_BLOCKS = """(gd) => [...new Set(gd.data[0].y.filter(y => y.includes(' · unit '))
    .map(y => y.split(' · ')[0]))]"""
"""The row names of a drawn ``app.charts.base.state_heatmaps`` chart, block by block (``f``, ``i``...)."""

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
"""The app once the script run has finished: everything the run will draw is on the page."""


def failures(page, timeout_ms: int = 90_000) -> list[str]:
    """The text of every failure on ``page`` once its script run has finished ([] if none)."""
    page.wait_for_selector(IDLE, state="attached", timeout=timeout_ms)
    return page.evaluate(TEXTS, FAILURE)


def assert_no_failure(page) -> None:
    """Fail the test if the page shows an exception or an error box, quoting what it shows."""
    shown = failures(page)
    assert not shown, f"the page shows {len(shown)} failure(s): {shown}"
