"""End to end: the Match page in Debian's headless Chromium. Select a span by clicking its first and
last characters in the text, see the units it selects matched in the held-out fortunes, click the
best match and see it loaded into the box, selected."""

from __future__ import annotations

from e2e import BOX, IDLE, assert_no_failure

from app.compute import matching
from app.compute.experiments import CARRIERS
from app.view.sequence import prepare_text
from app.view.state import DEFAULT_SPAN, DEFAULT_TEXT

PICK = '[data-testid="stPlotlyChart"] .js-plotly-plot'
"""The text the span is picked on (the page's one st.plotly_chart)."""

TOKEN_AT = """([t]) => {
  const gd = document.querySelector('""" + PICK + """');
  const points = gd._fullData[1], size = gd._fullLayout._size, box = gd.getBoundingClientRect();
  return {x: box.left + size.l + gd._fullLayout.xaxis.l2p(points.x[t]),
          y: box.top + size.t + gd._fullLayout.yaxis.l2p(points.y[t])};
}"""
"""Where token t of the picked text is on the screen (its point in the chart's second trace)."""

SAYS = """(text) => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
    .some(el => el.innerText.includes(text))
    && document.querySelector('""" + IDLE + """') !== null"""
"""True once the page, done running, has a caption that says ``text``."""


def click_token(page, t: int) -> None:
    page.locator(PICK).scroll_into_view_if_needed()
    where = page.evaluate(TOKEN_AT, [t])
    page.mouse.click(where["x"], where["y"])


def wait_for(page, caption: str) -> None:
    page.wait_for_function(SAYS, arg=caption, timeout=120_000)


def test_select_a_span_on_the_text_match_it_and_load_a_match(page, app_url):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{app_url}/match?arch=gru&sign=-&span=0-3")
    wait_for(page, "The span, tokens 0 to 2")
    first, last = DEFAULT_SPAN[0], DEFAULT_SPAN[1] - 1  # the inside of the quotation
    click_token(page, first)
    wait_for(page, f"The span, tokens {first} to {first}")
    click_token(page, last)
    wait_for(page, f"The span, tokens {first} to {last}")
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=120_000)
    quote_unit = CARRIERS["gru"]  # the GRU's unit that carries an open quote (the Experiments page's)
    wait_for(page, f"Selected: 1 unit(s), unit {quote_unit}")
    assert_no_failure(page)

    # the best match, as the page lists it first, loaded into the box by a click on its row
    key = matching.resolve("prose", "gru", "trained")
    query = matching.Query(DEFAULT_SPAN, sign="-")
    view = matching.match_view(key, prepare_text(DEFAULT_TEXT), query, matching.shipped_corpus("prose"))
    text, (start, end) = matching.loaded_box(view, view.matches[0])
    table = page.locator('[data-testid="stDataFrame"]')
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's marker, under the header
    page.wait_for_function(f"(t) => document.querySelector('{BOX}').value === t", arg=text, timeout=120_000)
    wait_for(page, f"The span, tokens {start} to {end - 1}")
    wait_for(page, f"unit {quote_unit}")  # the match's span selects the quote unit again
    assert_no_failure(page)
    assert page.locator('[data-testid="stDataFrame"]').count() == 1
    assert page.locator(".katex-error").count() == 0
    assert not errors, errors
