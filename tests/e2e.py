"""What every end-to-end test shares: the sequence box's selector, the waits, and the one check
that a page shows no failure.

A page can fail in five ways a visitor sees (or would, with the console open), and each fails a
test (:func:`assert_no_failure`, and every wait here as soon as one shows):

* Streamlit's own exception element (``stException``): an exception that escaped the page;
* the page guard's error box (``app.widgets.page.page_guard``: ``st.error`` "This input could not be shown..."
  followed by the exception's name in ``st.text``), which Streamlit draws as an error alert
  (``stAlertContentError``);
* a chart's message that it could not be drawn (``app.component.live_chart.ERROR_CLASS``);
* a formula KaTeX could not typeset (``.katex-error``: the raw LaTeX in red, KaTeX's message in its
  title);
* an uncaught JavaScript error (Playwright's ``pageerror``), recorded from the moment the page opens
  (:func:`watch`; conftest.py's ``new_page`` watches every page it makes and fails the test, at its
  end, on any error left on a page, checked or not).

The app's only other error box is the upload's refusal of a bad weights file (sidebar, "This file
was refused: ..."), which no test expects unless it uploads one: any error alert is a failure. A
test that uploads a bad file on purpose checks that box itself.

Waits are on what the page shows, never on time. After an edit, Streamlit's script state still
reads "not running" until the server starts the new run, and the browser draws what a run sends
after the run has ended (a lazily loaded element, a chart's component): so a test waits for the
content it expects (a chart of the new length, the rows of the new cell...), and the failure check
first waits for the page to settle (:data:`SETTLED`).

The browser fixtures (``browser``, ``page``, ``new_page``) live in conftest.py; this module holds
what tests import by name (``from e2e import BOX, assert_no_failure``).
"""

from __future__ import annotations

import weakref

BOX = 'textarea[aria-label="Sequence"]'
"""The sequence box every page reads."""

FAILURE = ('[data-testid="stException"], [data-testid="stAlertContentError"], .gs-chart-error, '
           '.katex-error')
"""Streamlit's exception element, any error alert (the page guard's box), a chart's message that
it could not be drawn (``app.component.live_chart.ERROR_CLASS``), or a formula KaTeX could not
typeset."""

TEXTS = """(selector) => [...document.querySelectorAll(selector)]
    .filter(el => !el.parentElement.closest(selector)).map(el => {
  if (el.classList.contains('katex-error')) return `formula not typeset: ${el.textContent} | ${el.title}`;
  const next = el.closest('[data-testid="stElementContainer"]')?.nextElementSibling
    ?.querySelector('[data-testid="stText"]');
  return next ? `${el.innerText} | ${next.innerText}` : el.innerText;
})"""
"""Each failure's text (an exception element's own alert inside it counts once): for the guard's
box the exception line it writes just below, for a formula its LaTeX and KaTeX's message."""

NOT_DRAWN = """gd => !gd._fullLayout || gd.__shown !== gd.__latest
    || gd.parentElement.classList.contains('gs-chart-stale')"""
"""Whether a chart (``.gs-chart``) is not drawn with the latest figure it has received: never drawn,
still drawing it (``app.component.live_chart`` keeps the figure received in ``gd.__latest`` and the
one drawn in ``gd.__shown``), or out of view with an older one (``STALE_CLASS`` on its box)."""

CHART_COMPONENT = '[data-testid="stBidiComponentRegular"]'
"""Streamlit's element of a ``st.components.v2`` component (the app's only one is the chart,
``app.component.live_chart``), there before the component's script has made its box
(``.gs-chart-box``: a chart and its player, or a player alone) in it."""

DRAW_ALL = """() => {
  const notDrawn = """ + NOT_DRAWN + """;
  const made = [...document.querySelectorAll(""" + repr(CHART_COMPONENT) + """)]
    .every(el => el.querySelector('.gs-chart-box'));
  if (!made) return false;  // a chart's component has not run yet
  const behind = [...document.querySelectorAll('.gs-chart')]
    .filter(gd => gd.checkVisibility() && notDrawn(gd));  // not in a closed expander or tab
  if (behind.length) behind[0].scrollIntoView({block: 'center'});
  return behind.length === 0;
}"""
"""True once every chart component on the page has made its chart and every chart (but hidden
ones) is drawn with the latest figure it has received; until then it scrolls to the first one
behind, as a visitor would (``app.component.live_chart`` draws a chart when it comes into view)."""

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
  const hidden = gd => !gd.checkVisibility();  // in a closed expander or another tab
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
    back to the top of the page. Fails at once, quoting it, if a failure shows."""
    wait_for(page, f"() => ({DRAW_ALL})() && ({predicate})()", timeout_ms=timeout_ms)
    page.evaluate(TO_TOP)


def wait_for_charts(page, count: int, T: int, timeout_ms: int = 60_000) -> None:
    """Wait until ``count`` charts show a sequence of T tokens (:data:`CHARTS_READY`), then go
    back to the top of the page. Fails at once, quoting it, if a failure shows."""
    wait_for(page, CHARTS_READY, {"count": count, "T": T}, timeout_ms)
    page.evaluate(TO_TOP)


def wait_for(page, predicate: str, arg: object = None, timeout_ms: int = 90_000) -> None:
    """Wait until the JS ``predicate`` (called with ``arg``) holds on ``page``, or a failure shows
    (:data:`FAILURE`): then fail at once, quoting every failure shown so far (JavaScript errors
    too), rather than when the wait runs out."""
    page.wait_for_function(
        f"(arg) => document.querySelector({FAILURE!r}) !== null || ({predicate})(arg)",
        arg=arg, timeout=timeout_ms)
    shown = shown_now(page)
    assert not shown, f"the page shows {len(shown)} failure(s): {shown}"


HEATMAP_BLOCKS = """(gd) => [...new Set(gd.data[0].y.filter(y => y.includes(' · unit '))
    .map(y => y.split(' · ')[0]))]"""
"""The row names of a drawn ``app.charts.base.state_heatmaps`` chart, block by block (``f``, ``i``...)."""

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
"""The app once a script run has finished (before its first run the state reads "initial")."""

SETTLED = f"""() => document.querySelector({IDLE!r}) !== null
  && document.querySelector('[data-testid="stSkeleton"]') === null
  && [...document.querySelectorAll({CHART_COMPONENT!r})].every(el => el.querySelector('.gs-chart-box'))"""
"""True once the last script run has finished and the browser shows all it sent: no element is
still a placeholder (``stSkeleton``: Streamlit draws one while it loads an element's code, say the
first audio player, or KaTeX for a formula) and every chart component has made its chart. Only
meaningful once the run the test waits for has started: right after an edit the state still reads
"not running" from the last run, so a test first waits for the content it expects."""

_ERRORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""page -> the uncaught JavaScript errors recorded on it by :func:`watch`."""


def watch(page) -> None:
    """Record every uncaught JavaScript error on ``page`` from now on (Playwright's ``pageerror``):
    :func:`failures` reports them. conftest.py's ``new_page`` (and so ``page``) watches every page."""
    errors = _ERRORS.setdefault(page, [])
    page.on("pageerror", lambda error: errors.append(f"JavaScript error: {error.name}: {error.message}"
                                                     + where(error.stack or "")))


def where(stack: str) -> str:
    """" (at <the stack's top frame>)" of a JavaScript error's stack, or nothing."""
    frames = [line.strip() for line in stack.splitlines() if line.strip().startswith("at ")]
    return f" ({frames[0]})" if frames else ""


def js_errors(page) -> list[str]:
    """The uncaught JavaScript errors recorded on ``page`` (see :func:`watch`), oldest first."""
    return list(_ERRORS.get(page, ()))


def take_js_errors(page) -> list[str]:
    """The JavaScript errors recorded on ``page`` so far, forgotten from now on: for a test that
    provokes one on purpose, checks it, and goes on (no later check reports it again)."""
    errors = _ERRORS.get(page, [])
    taken = list(errors)
    errors.clear()
    return taken


def shown_now(page) -> list[str]:
    """Every failure on ``page`` at this moment, without waiting: the failures it shows
    (:data:`FAILURE`) and the JavaScript errors recorded on it."""
    return page.evaluate(TEXTS, FAILURE) + js_errors(page)


def failures(page, timeout_ms: int = 90_000) -> list[str]:
    """Every failure on ``page`` once it has settled (:data:`SETTLED`); [] if none."""
    page.wait_for_function(SETTLED, timeout=timeout_ms)
    return shown_now(page)


def assert_no_failure(page) -> None:
    """Fail the test if the page shows an exception, an error box, a chart it could not draw or a
    formula KaTeX could not typeset, or has had a JavaScript error, quoting each."""
    shown = failures(page)
    assert not shown, f"the page shows {len(shown)} failure(s): {shown}"


CHART_STATES = """() => [...document.querySelectorAll('.gs-chart')].map(gd => {
  const box = gd.parentElement, r = box.getBoundingClientRect();
  return {drawn: !!gd._fullLayout, latest_drawn: gd.__shown === gd.__latest, pending: !!gd.__pending,
          near: !!gd.__near, stale: box.classList.contains('gs-chart-stale'), top: Math.round(r.top),
          width: Math.round(r.width), height: Math.round(r.height)};
})"""
"""What each chart on a page is doing (for a failed test's report): drawn at all, with its latest
figure, one waiting to be drawn, counted as near the window, faded, and where its box is."""


def chart_states(page) -> str:
    """:data:`CHART_STATES` of ``page`` as text, or why it could not be read."""
    try:
        return f"{page.url}: {page.evaluate(CHART_STATES)}"
    except Exception as exc:  # a closed or crashed page: say so, the test's own failure stands
        return f"{page.url}: charts not readable ({exc})"
