"""The experiments tour end to end in headless Chromium: open the tour, click one experiment, land
on its preset view (the preset text in the box, its chart drawn, the URL shareable, no failure).

Uses the server and Chromium fixtures of conftest.py (``app_url``, ``page``, ``new_page``) and checks
every page with ``e2e.assert_no_failure`` (no exception, no page-guard error box).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urljoin, urlsplit

from e2e import BOX, assert_no_failure

from app.compute.experiments import EXPERIMENTS, by_id

CURVES = """() => [...document.querySelectorAll('.js-plotly-plot')].some(gd =>
    ['RNN', 'LSTM', 'GRU'].every(n => gd.data.some(t => t.name === n)))"""


def test_the_tour_opens_an_experiment_on_its_preset_view(page, app_url):
    page.goto(f"{app_url}/experiments")
    page.wait_for_selector(f".st-key-open_{EXPERIMENTS[-1].id} button", timeout=90_000)
    titles = page.locator("h3").all_inner_texts()
    assert [t.split(". ", 1)[1] for t in titles if ". " in t] == [e.title for e in EXPERIMENTS]
    assert_no_failure(page)

    e = by_id("forget-bias-0")
    page.locator(f".st-key-open_{e.id} button").click()
    page.wait_for_url(f"{app_url}/gradients?*", timeout=60_000)
    page.wait_for_function(f"() => document.querySelector('{BOX}')?.value === {e.view.seq!r}",
                           timeout=90_000)
    page.wait_for_function(CURVES, timeout=90_000)
    assert_no_failure(page)
    assert page.get_by_text("Fresh weights:").count() == 1  # the preset's random weights
    metric = page.locator('[data-testid="stMetric"]').first.inner_text()
    assert "RNN memory span" in metric
    query = dict(parse_qsl(urlsplit(page.url).query))
    assert query == e.view.to_query()  # the address bar holds the shareable preset


def test_a_shared_experiment_link_opens_the_preset_with_its_unit_on_top(new_page, app_url):
    page = new_page()
    page.goto(f"{app_url}/experiments")
    e = by_id("forget-gate")
    link = page.get_by_role("link", name=e.title, exact=True)
    link.wait_for(timeout=90_000)
    href = link.get_attribute("href")
    assert_no_failure(page)
    other = new_page()  # another visitor, in a fresh context
    other.goto(urljoin(f"{app_url}/experiments", href))
    other.wait_for_function(f"() => document.querySelector('{BOX}')?.value === {e.view.seq!r}",
                            timeout=90_000)
    heatmaps = other.locator(".js-plotly-plot .gtitle", has_text="gates and states")
    heatmaps.wait_for(timeout=90_000)
    assert f"unit {e.view.unit} (top row)" in heatmaps.text_content()
    assert_no_failure(other)
