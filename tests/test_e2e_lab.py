"""The Lab page end to end in headless Chromium: /lab draws its gradient chart, one small heatmap
per default cell and the claims table, with no failure on the page.

Uses the server and Chromium fixtures of conftest.py (``app_url``, ``page``) and
``e2e.assert_no_failure``.
"""

from __future__ import annotations

from e2e import BOX, assert_no_failure, wait_until_drawn

import cells
from app.widgets import lab

NAMES = [cells.cell_class(a).display_name for a in lab.DEFAULT_ARCHS]
CHARTS = f"""() => {{
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const curves = plots.some(gd => {NAMES!r}.every(n => gd.data.some(t => t.name === n)));
  const heatmaps = plots.filter(gd => gd.data.length && gd.data.every(t => t.type === 'heatmap'));
  return curves && heatmaps.length === {len(NAMES)};
}}"""


def test_the_lab_renders_its_charts_and_table(page, app_url):
    page.goto(f"{app_url}/lab")
    page.wait_for_selector(BOX, timeout=90_000)
    wait_until_drawn(page, CHARTS, 120_000)
    assert_no_failure(page)
    assert page.locator('[data-testid="stDataFrame"]').count() == 1  # the cells
    tables = page.locator('[data-testid="stTable"]')
    assert tables.count() == 3  # the claims, the chorale models, the character models' curve
    rows = tables.first.locator("tbody tr")
    assert rows.count() == 19  # five claims on each of three settings, three adding rows, the live one
    assert "Greff" in rows.first.inner_text()
    assert page.get_by_role("button", name=f"Train the {len(NAMES)} cells").count() == 1
