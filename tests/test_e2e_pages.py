"""Every page of the app, opened with its default view in headless Chromium, shows no failure of
any kind: no exception, no error box, no chart that could not be drawn, no formula KaTeX could not
typeset, no JavaScript error (``e2e.assert_no_failure``). The pages are read from ``app/main.py``'s
``PAGES``, so a page added there is visited here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import MAIN
from e2e import SETTLED, assert_no_failure, wait_for, wait_until_drawn


def url_paths() -> list[str]:
    """The url_path of each page in ``PAGES`` (the first, the home page, is served at ``/``)."""
    tree = ast.parse(Path(MAIN).read_text(encoding="utf-8"))
    pages = next(ast.literal_eval(node.value) for node in tree.body
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES")
    return ["", *(url for _, _, _, url in pages[1:])]


@pytest.mark.parametrize("path", url_paths(), ids=lambda path: f"/{path}")
def test_every_page_opens_its_default_view_without_a_failure(page, app_url, path):
    page.goto(f"{app_url}/{path}")
    wait_for(page, SETTLED, timeout_ms=120_000)  # the first run has ended and all it sent is shown
    wait_until_drawn(page, "() => true")  # and every chart, each scrolled into view to be drawn
    assert_no_failure(page)
    assert page.locator('[data-testid="stMain"] h1').count() == 1  # the page's own title, drawn
