"""Shared views end to end: a URL opened in headless Chromium shows the same sequence, in the text
box and on the charts, the same model and the same scrubbed step; and the URL the app writes while
someone works, opened in another browser, shows what they saw. Also: a chart saved from Plotly's
own toolbar is a PNG named after the page, the cell and the chart.

Uses the server and Chromium fixtures of conftest.py (``app_url``, ``new_page``) and checks every
view with ``e2e.assert_no_failure``. A view is read once the page shows what the test expects (the
GRU's rows and equations after choosing the GRU, say): right after an edit the charts still show the
last view for a moment, the scrubber longest (it is drawn when scrolled to).
"""

from __future__ import annotations

import struct
from urllib.parse import parse_qs, quote, urlsplit

from e2e import BOX, HEATMAP_BLOCKS, assert_no_failure, wait_until_drawn

import cells

VIEW = """() => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const [heatmaps, scrubber] = plots.slice(-2);  // the last two (in text mode a story comes first)
  const box = scrubber && scrubber.parentElement;
  const slider = box && box.querySelector('.gs-player-controls input');
  if (plots.length < 2 || !slider) return null;
  const ticks = [...heatmaps.querySelectorAll('.subplot.xy .xaxislayer-above .xtick text')];
  return {
    ticks: ticks.map(t => t.textContent),
    rows: (""" + HEATMAP_BLOCKS + """)(heatmaps),
    steps: Number(slider.max) + 1,
    active: Number(slider.value),
    title: box.querySelector('.gs-player-caption').textContent,
  };
}"""


GRU = """v => v.rows.join(' ') === 'r z n h' && ['r', 'z', 'n'].every(g => v.title.includes(g + 't = '))"""
"""Whether a view (:data:`VIEW`) is the GRU's: its gates' rows on the heatmaps, and its gates'
equations (r_t = ..., z_t = ..., n_t = ...) in the scrubber's caption."""


def view_of(page, steps: int, shows: str = "v => true") -> dict:
    """The drawn view once both Gates charts hold ``steps`` tokens and the view is one ``shows``
    (a JS predicate of the view) holds for, and the page shows no failure."""
    wait_until_drawn(page, f"() => {{ const v = ({VIEW})(); return v !== null && v.steps === {steps}"
                           f" && ({shows})(v); }}")
    assert_no_failure(page)
    return page.evaluate(VIEW)


def test_a_shared_url_with_awkward_characters_opens_the_same_sequence_and_step(new_page, app_url):
    text = 'é & 50% + "x" <b>'
    page = new_page()
    page.goto(f"{app_url}/?seq={quote(text)}&arch=gru&step=6")
    page.wait_for_selector(BOX, timeout=90_000)
    view = view_of(page, len(text))
    assert page.locator(BOX).input_value() == text
    assert view["ticks"][0] in ("é", "\ufffd")  # the unknown-token label if the model lacks é
    assert view["ticks"][1:] == ["␣", "&", "␣", "5", "0", "%", "␣", "+", "␣", '"', "x", '"', "␣",
                                 "<", "b", ">"]
    assert view["rows"] == ["r", "z", "n", "h"]
    assert all(f"{gate}t = " in view["title"] for gate in "rzn")  # the GRU's equations
    assert view["active"] == 6 and view["title"].startswith("step 6 of 16 · token «%»")


def test_the_url_the_app_writes_reopens_the_same_view_in_another_browser(new_page, app_url):
    """The address bar holds the view as soon as the page shows it (the app writes the URL in the
    run that draws the view, and the browser applies it before it draws the charts): copied then,
    it opens the same view in another browser."""
    author = new_page()
    author.goto(app_url)
    author.wait_for_selector(BOX, timeout=90_000)
    text = "share me, please"
    box = author.locator(BOX)
    box.fill(text)
    box.press("Control+Enter")
    assert view_of(author, len(text))["rows"] == ["f", "i", "o", "g", "c", "h"]  # the LSTM's
    author.locator('[data-testid="stSelectbox"]', has_text="Cell").click()  # the cell choice
    author.get_by_role("option", name="GRU", exact=True).click()
    seen = view_of(author, len(text), GRU)  # both charts show the GRU
    shared = author.url  # copied at once: no wait for the address bar
    assert parse_qs(urlsplit(shared).query) == {"seq": [text], "arch": ["gru"]}

    reader = new_page()
    reader.goto(shared)
    reader.wait_for_selector(BOX, timeout=90_000)
    assert view_of(reader, len(text)) == seen
    assert reader.locator(BOX).input_value() == text
    assert reader.url == shared  # opening the view does not rewrite its URL


def test_a_shared_numbers_mode_url_reads_the_same_series(new_page, app_url):
    page = new_page()
    page.goto(f"{app_url}/?mode=numbers&seq={quote('0.5, -1, 2, 1e3')}")
    page.wait_for_selector(BOX, timeout=90_000)
    view = view_of(page, 4)
    assert page.locator(BOX).input_value() == "0.5, -1, 2, 1e3"
    assert view["ticks"] == ["0.5", "-1", "2", "1e+03"]


def test_the_toolbar_saves_a_chart_as_a_named_png(new_page, app_url):
    page = new_page()
    page.goto(f"{app_url}/?seq=png&arch=gru")
    page.wait_for_selector(BOX, timeout=90_000)
    view_of(page, 3)
    plots = page.locator(".js-plotly-plot")
    heatmaps = plots.nth(plots.count() - 2)  # the heatmaps, before the scrubber
    heatmaps.hover()
    with page.expect_download(timeout=60_000) as download:
        heatmaps.locator('.modebar-btn[data-title^="Download plot"]').click()
    assert download.value.suggested_filename == "gatescope-gates-gru.png"
    with open(download.value.path(), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_the_scrubber_saves_as_png_with_the_steps_caption(new_page, app_url):
    """The scrubber's caption (step, token, equations) is the page's, above the chart; its PNG
    carries it as a title: the picture is the chart's height plus the caption's."""
    page = new_page()
    page.goto(f"{app_url}/?seq=png&arch=gru&step=2")
    page.wait_for_selector(BOX, timeout=90_000)
    view_of(page, 3)
    scrubber = page.locator(".js-plotly-plot").last
    scrubber.hover()
    with page.expect_download(timeout=60_000) as download:
        scrubber.locator('.modebar-btn[data-title^="Download plot"]').click()
    assert download.value.suggested_filename == "gatescope-scrubber-gru.png"
    with open(download.value.path(), "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])  # the IHDR chunk
    chart = page.evaluate("() => { const l = [...document.querySelectorAll('.js-plotly-plot')]"
                          ".pop()._fullLayout; return [l.width, l.height]; }")
    lines = 2 + len(cells.cell_class("gru").equation_lines)  # step, "equations of unit", equations
    assert width == 2 * chart[0]  # scale 2
    assert height >= 2 * (chart[1] + 14 * lines)  # room above the chart for the caption's lines
