"""End to end: the Write page in Debian's headless Chromium shows what the models wrote."""

from __future__ import annotations

from urllib.parse import urlencode

from e2e import assert_no_failure, wait_until_drawn

import cells
from app.compute.writing import WRITERS

PROMPT = "def add(a, b):\n    return "


def test_the_write_page_shows_each_models_writing_and_its_charts(page, app_url):
    query = urlencode({"seq": PROMPT, "corpus": "code", "greedy": "true", "chars": "60"})
    page.goto(f"{app_url}/write?{query}")
    wait_until_drawn(  # six charts drawn: per model, the coloured text and the next characters
        page, "() => [...document.querySelectorAll('.js-plotly-plot')].filter(gd => gd._fullData"
        " && gd._fullData.length > 0).length >= 6")
    assert_no_failure(page)
    shown = page.eval_on_selector_all(
        '[data-testid="stMain"] [data-testid="stCode"] code', "els => els.map(e => e.textContent)")
    expected = [cells.write(cells.pretrained(f"{a}-code"), PROMPT, 60, temperature=0).text
                for a in WRITERS]  # the page's column order
    assert shown == expected
    # the coloured text holds the written characters (as heatmap cell labels) after the beginning's
    labels = page.evaluate(
        "() => document.querySelector('.js-plotly-plot').data.map(t => t.text.flat().join(''))")
    assert labels[0].startswith("defadd(a,b):")  # the beginning, spaces drawn as empty cells
    assert labels[1] == "".join(ch for ch in expected[0] if ch != " ").replace("\n", "⏎")
