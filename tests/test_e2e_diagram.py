"""The cell, drawn, in the browser: the diagram beside the Gates page's scrubber (LSTM, GRU, MGU,
CIFG, the tanh RNN), both cells at one step on LSTM vs GRU, one per cell on the Lab. Stepping the
scrubber (its slider, its arrow keys) redraws each diagram in the browser, and every gate's and
state's ``data-value`` is the engine's number for the followed unit at that step, computed here
with ``cells`` directly. The way back shows the engine's local derivatives; both themes read.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import numpy as np
import pytest
from e2e import DRAW_ALL, assert_no_failure

import cells

TEXT = "Cells, drawn: (a) and 'b'."
UNIT = 5
STEPS = 60_000

DIAGRAM_VALUES = """(figure) => {
  const read = attribute => Object.fromEntries([...figure.querySelectorAll(`[${attribute}]`)]
    .map(el => [el.getAttribute(attribute), Number(el.getAttribute('data-value'))]));
  return {title: figure.querySelector('figcaption').textContent, gates: read('data-gate'),
          states: read('data-state'), nodes: read('data-node')};
}"""
"""One drawn diagram's numbers: its title, gate -> value, state -> value, node -> value."""

CAPTION = "(box) => box.querySelector('.gs-player-caption').textContent"


def engine_rows(arch: str, source: str, text: str, unit: int) -> dict[str, np.ndarray]:
    """The followed unit's gates and states over ``text``, from the engine: the shipped model of
    ``arch``, or (``source`` "random") the seeded random cell the page says it reads with (64
    units, seed 0, forget bias 1, gatescope's character vocabulary)."""
    if source == "trained":
        reader = cells.pretrained(arch)
    else:
        reader = cells.Reader.untrained(arch, cells.CharEncoder(cells.DEFAULT_VOCAB), 64, seed=0,
                                        forget_bias=1.0)
    trace = reader.read(text).trace
    rows = {**trace.gates, "h": trace.h, **({"c": trace.c} if trace.c is not None else {})}
    return {name: a[:, unit] for name, a in rows.items()}


def open_page(page, url: str, errors: list[str]):
    """Open ``url``, scroll until every chart is drawn and a diagram is on the page."""
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function(f"() => ({DRAW_ALL})() && document.querySelector('.gs-diagram')", timeout=STEPS)


def check_step(values: dict, rows: dict[str, np.ndarray], t: int, arch: str) -> None:
    """A diagram's numbers at step t against the engine's: every gate, the new and old states."""
    cls = cells.cell_class(arch)
    assert set(values["gates"]) == set(cls.gate_names)
    for gate, value in values["gates"].items():
        assert value == pytest.approx(rows[gate][t], abs=1e-3), (arch, t, gate)
    for state in cls.states:
        assert values["states"][state] == pytest.approx(rows[state][t], abs=1e-3), (arch, t, state)
        before = rows[state][t - 1] if t else 0.0
        assert values["states"][f"{state}_prev"] == pytest.approx(before, abs=1e-3), (arch, t, state)
    if arch == "lstm-cifg":  # its input gate is drawn as 1 - f
        assert values["nodes"]["i"] == pytest.approx(1 - rows["f"][t], abs=1e-3)


@pytest.mark.parametrize("arch, source", [("lstm", "trained"), ("gru", "trained"), ("rnn", "trained"),
                                          ("mgu", "random"), ("lstm-cifg", "random")])
def test_stepping_the_scrubber_redraws_the_diagram_with_the_engine_s_numbers(page, app_url, arch, source):
    errors: list[str] = []
    sent = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(frame)))
    open_page(page, f"{app_url}/?seq={quote(TEXT)}&arch={arch}&model={source}&unit={UNIT}", errors)
    assert_no_failure(page)
    if source == "random":  # the page says which random cell it reads with: the one built here
        model = page.get_by_text(re.compile(r"^Model: ")).inner_text()
        assert "64 units" in model and "seed 0" in model and "forget bias 1" in model, model
    rows = engine_rows(arch, source, TEXT, UNIT)
    box = page.locator(".gs-chart-box").filter(has=page.locator(".gs-diagram")).first
    box.scroll_into_view_if_needed()
    figure = box.locator(".gs-diagram-box")
    values = figure.evaluate(DIAGRAM_VALUES)
    assert values["title"] == f"The {cells.cell_class(arch).display_name} cell, unit {UNIT}"
    check_step(values, rows, 0, arch)
    sent.clear()
    slider = box.get_by_role("slider", name="Scrubber step", exact=True)
    slider.fill("7")  # the slider, dragged to step 7
    page.wait_for_function(f"(box) => ({CAPTION})(box).startsWith('step 7 of')", arg=box.element_handle())
    check_step(figure.evaluate(DIAGRAM_VALUES), rows, 7, arch)
    slider.press("ArrowRight")  # the keyboard steps it
    slider.press("ArrowRight")
    slider.press("ArrowLeft")
    page.wait_for_function(f"(box) => ({CAPTION})(box).startsWith('step 8 of')", arg=box.element_handle())
    check_step(figure.evaluate(DIAGRAM_VALUES), rows, 8, arch)
    assert sent == []  # all in the browser: nothing asked of the server
    assert errors == []
    assert_no_failure(page)


WAY_BACK = """(figure) => ({
  derivatives: Object.fromEntries([...figure.querySelectorAll('text.gs-deriv')]
    .map(el => [el.dataset.wire, getComputedStyle(el).display === 'none' ? null : el.textContent])),
  path: figure.querySelector('[data-path]')?.getAttribute('data-value'),
  note: getComputedStyle(figure.querySelector('[data-path]')).display,
})"""


@pytest.mark.parametrize("arch, belt, memory", [("lstm", "cprev>fc", "f"), ("gru", "hprev>zh", "z")])
def test_the_way_back_shows_the_local_derivatives_at_the_scrubbed_step(page, app_url, arch, belt, memory):
    errors: list[str] = []
    open_page(page, f"{app_url}/?seq={quote(TEXT)}&arch={arch}&unit={UNIT}&step=4", errors)
    rows = engine_rows(arch, "trained", TEXT, UNIT)
    box = page.locator(".gs-chart-box").filter(has=page.locator(".gs-diagram")).first
    box.scroll_into_view_if_needed()
    figure = box.locator(".gs-diagram-box")
    assert figure.evaluate(WAY_BACK)["note"] == "none"  # forward first
    toggle = box.get_by_role("button", name="∂ The way back")
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    shown = figure.evaluate(WAY_BACK)
    assert shown["note"] != "none"
    t = 4  # the scrubber opened at step 4 (the URL's step)
    # along the memory state's belt, the local derivative is the memory gate: the forget product's factor
    assert float(shown["derivatives"][belt].replace("−", "-")) == pytest.approx(rows[memory][t], abs=0.006)
    assert float(shown["path"]) == pytest.approx(rows[memory][t], abs=1e-3)
    box.get_by_role("slider", name="Scrubber step", exact=True).press("ArrowRight")
    page.wait_for_function(f"(box) => ({CAPTION})(box).startsWith('step 5 of')", arg=box.element_handle())
    assert float(figure.evaluate(WAY_BACK)["path"]) == pytest.approx(rows[memory][5], abs=1e-3)
    assert errors == []
    assert_no_failure(page)


def test_lstm_vs_gru_draws_both_cells_at_the_same_step(page, app_url):
    errors: list[str] = []
    open_page(page, f"{app_url}/compare?seq={quote(TEXT)}", errors)
    box = page.locator(".gs-chart-box").filter(has=page.locator(".gs-diagram")).first
    box.scroll_into_view_if_needed()
    slider = box.get_by_role("slider", name="Scrubber step", exact=True)
    slider.fill("3")
    page.wait_for_function(f"(box) => ({CAPTION})(box).startsWith('step 3 of')", arg=box.element_handle())
    figures = box.locator(".gs-diagram-box")
    assert figures.count() == 2
    for k, arch in enumerate(("lstm", "gru")):
        values = figures.nth(k).evaluate(DIAGRAM_VALUES)
        name, unit = values["title"].removeprefix("The ").split(" cell, unit ")
        assert name == cells.cell_class(arch).display_name
        check_step(values, engine_rows(arch, "trained", TEXT, int(unit)), 3, arch)
    boxes = [figures.nth(k).bounding_box() for k in range(2)]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"]  # side by side
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 5
    assert errors == []
    assert_no_failure(page)


def test_the_lab_draws_one_small_diagram_per_chosen_cell(page, app_url):
    errors: list[str] = []
    open_page(page, f"{app_url}/lab?seq={quote(TEXT)}&cells=lstm,lstm-nfg,mgu", errors)
    box = page.locator(".gs-chart-box").filter(has=page.locator(".gs-diagram")).first
    box.scroll_into_view_if_needed()
    figures = box.locator(".gs-diagram-box")
    titles = [figures.nth(k).evaluate(DIAGRAM_VALUES)["title"] for k in range(figures.count())]
    assert [t.split(" cell")[0] for t in titles] == ["The LSTM", "The LSTM-NFG", "The MGU"]
    box.get_by_role("slider", name="Scrubber step", exact=True).fill("6")
    page.wait_for_function(f"(box) => ({CAPTION})(box).startsWith('step 6 of')", arg=box.element_handle())
    sources = {"lstm": "trained", "lstm-nfg": "random", "mgu": "random"}  # no shipped NFG or MGU
    for k, arch in enumerate(sources):
        values = figures.nth(k).evaluate(DIAGRAM_VALUES)
        unit = int(values["title"].split(" unit ")[1])
        check_step(values, engine_rows(arch, sources[arch], TEXT, unit), 6, arch)
    assert "f" not in figures.nth(1).evaluate(DIAGRAM_VALUES)["gates"]  # NFG: no forget gate
    assert errors == []
    assert_no_failure(page)


CONTRASTS = """(figure) => {
  const rgb = colour => colour.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = colour => { const [r, g, b] = rgb(colour).map(v => v / 255)
      .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => p - q);
    return (y + 0.05) / (x + 0.05); };
  let node = figure, page = 'rgba(0, 0, 0, 0)';
  while (node && /rgba\\(0, 0, 0, 0\\)|transparent/.test(page)) {
    page = getComputedStyle(node).backgroundColor; node = node.parentElement; }
  const texts = [...figure.querySelectorAll('svg text')].filter(t => getComputedStyle(t).display !== 'none');
  return {page, texts: texts.map(t => {
    const shape = t.closest('[data-node]')?.querySelector('.gs-shape');
    const ground = t.classList.contains('gs-on-bg') || !shape ? page : getComputedStyle(shape).fill;
    return [t.textContent, ratio(getComputedStyle(t).fill, ground)]; })};
}"""
"""Every visible text of a diagram with its contrast against what is behind it: the page's
background (found up the tree), or the filled shape it sits on."""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_diagram_reads_in_the_light_and_the_dark_theme(new_page, app_url, scheme):
    page = new_page(color_scheme=scheme)
    errors: list[str] = []
    open_page(page, f"{app_url}/?seq={quote(TEXT)}&unit={UNIT}", errors)
    figure = page.locator(".gs-diagram-box").first
    figure.scroll_into_view_if_needed()
    seen = figure.evaluate(CONTRASTS)
    dark = np.mean([float(v) for v in re.findall(r"[\d.]+", seen["page"])[:3]]) < 128
    assert dark == (scheme == "dark"), seen["page"]  # the theme followed the browser's preference
    assert len(seen["texts"]) > 15
    low = [(text, round(ratio, 2)) for text, ratio in seen["texts"] if ratio < 4.5]
    assert low == [], f"text below 4.5:1 in the {scheme} theme: {low}"
    assert errors == []
