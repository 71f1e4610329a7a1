"""The cell diagram's builders alone (app/charts/cell_layout.py, app/charts/diagram.py): the layout
of every registered cell, the SVG's contract (DESIGN.md: data-gate, data-state, data-value,
titles), its colours and numbers against the engine's, and the frames the browser steps through.
No Streamlit."""

from __future__ import annotations

import dataclasses
import itertools
import json
import xml.etree.ElementTree as ET

import numpy as np
import plotly.colors
import pytest

import cells
from app.charts import diagram, scrubber
from app.charts.cell_layout import HEIGHT, cell_layout
from cells.core.dataflow import C_PREV, H_PREV

SVG = "{http://www.w3.org/2000/svg}"
T, H = 40, 6


def a_trace(arch: str, seed: int = 1) -> tuple[cells.Cell, cells.Trace]:
    """A cell of ``arch`` and its trace over a T-step sequence from the zero state."""
    cell = cells.make_cell(arch, cells.init_params(arch, 3, H, seed=seed))
    return cell, cell.forward(np.random.default_rng(seed).normal(size=(T, 3)) * 2)


def reading(arch: str) -> dict[str, np.ndarray]:
    """What a page holds of a reading: the gates, c and h of every unit, (T, H) each."""
    trace = a_trace(arch)[1]
    return {**trace.gates, "h": trace.h, **({"c": trace.c} if trace.c is not None else {})}


def unit_rows(rows: dict[str, np.ndarray], unit: int) -> dict[str, np.ndarray]:
    return {name: a[:, unit] for name, a in rows.items()}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def nodes_by(root: ET.Element, attribute: str) -> dict[str, ET.Element]:
    return {el.get(attribute): el for el in root.iter() if el.get(attribute) is not None}


def rgb(colour: str) -> np.ndarray:
    return np.array(plotly.colors.hex_to_rgb(colour) if colour.startswith("#")
                    else plotly.colors.unlabel_rgb(colour), dtype=float)


def fill_of(el: ET.Element) -> str:
    shape = next(child for child in el if child.get("class", "").startswith("gs-shape"))
    return shape.get("style").removeprefix("fill:")


# -- layout ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_every_cell_is_laid_out_without_a_line_through_a_node_or_nodes_on_each_other(arch):
    layout = cell_layout(cells.cell_class(arch))
    assert layout.crowded == ()  # every node found a place of its own within a few columns
    for wire in layout.wires:
        assert layout.hits(wire) == [], f"{wire.key} runs through {layout.hits(wire)}"
    for a, b in itertools.combinations(layout.spots.values(), 2):
        (aw, ah), (bw, bh) = a.half, b.half
        apart = abs(a.x - b.x) >= aw + bw or abs(a.y - b.y) >= ah + bh
        assert apart, f"{a.name} and {b.name} overlap"
    for spot in layout.spots.values():
        w, h = spot.half
        assert spot.x - w >= 0 and spot.x + w <= layout.width and 0 <= spot.y - h <= spot.y + h <= HEIGHT


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_lines_from_different_nodes_never_run_on_top_of_each_other(arch):
    """Lines may cross and may meet where they end, but two values never share a stretch of line."""
    layout = cell_layout(cells.cell_class(arch))
    for a, b in itertools.combinations(layout.wires, 2):
        if a.source == b.source or "bus" in (a.kind, b.kind):
            continue  # one value forking, or the bus, one line by design
        assert not a.runs_along(b) and not b.runs_along(a), f"{a.key} runs along {b.key}"


def test_the_memory_state_runs_along_the_top_and_each_variant_draws_its_change():
    spots = {arch: cell_layout(cells.cell_class(arch)).spots for arch in cells.ARCHS}
    wires = {arch: {w.key for w in cell_layout(cells.cell_class(arch)).wires} for arch in cells.ARCHS}
    assert spots["lstm"][C_PREV].y == spots["lstm"]["c"].y == spots["lstm"]["fc"].y  # the belt
    assert spots["lstm"]["h"].y > spots["lstm"]["c"].y
    assert spots["gru"][H_PREV].y == spots["gru"]["h"].y == spots["gru"]["zh"].y  # h is the GRU's belt
    assert "cprev>c" in wires["lstm-nfg"] and "fc" not in spots["lstm-nfg"]  # no forget gate on the belt
    assert spots["lstm-cifg"]["i"].kind == "op" and "f>i" in wires["lstm-cifg"]  # i drawn as 1 − f
    assert "tanh_c" not in spots["lstm-noaf"] and "c>h" in wires["lstm-noaf"]  # no tanh before h
    assert "r>n" in wires["gru"] and "fh>n" in wires["mgu"]  # r scales U h; the MGU's n reads f ⊙ h
    assert [s.kind for s in spots["rnn"].values()] == ["source", "input", "layer", "sink"]


# -- the SVG at one step --------------------------------------------------------------------------


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_each_gate_and_state_carries_its_value_at_the_shown_step(arch):
    cell, rows = cells.cell_class(arch), reading(arch)
    unit, active = 4, 17
    d = diagram.cell_diagram(cell, unit_rows(rows, unit), range(T), active, unit=unit)
    root = parse(d.svg)
    gates = nodes_by(root, "data-gate")
    assert set(gates) == set(cell.gate_names)
    for name, el in gates.items():
        assert float(el.get("data-value")) == pytest.approx(rows[name][active, unit], abs=1e-4)
    states = nodes_by(root, "data-state")
    assert set(states) == {*cell.states, *(f"{s}_prev" for s in cell.states)}
    for s in cell.states:
        assert float(states[s].get("data-value")) == pytest.approx(rows[s][active, unit], abs=1e-4)
        previous = float(states[f"{s}_prev"].get("data-value"))
        assert previous == pytest.approx(rows[s][active - 1, unit], abs=1e-4)
    assert root.get("aria-label") == f"The {cell.display_name} cell, unit {unit}"


def test_the_lstm_s_ops_show_the_belt_s_numbers():
    rows = reading("lstm")
    u, t = 2, 9
    values = {el.get("data-node"): float(el.get("data-value"))
              for el in parse(diagram.cell_diagram(cells.LSTM, unit_rows(rows, u), range(T), t).svg).iter()
              if el.get("data-node")}
    f, i, g, o, c = (rows[n][t, u] for n in "figoc")
    assert values["fc"] == pytest.approx(f * rows["c"][t - 1, u], abs=1e-4)  # c_{t-1} × f
    assert values["ig"] == pytest.approx(i * g, abs=1e-4)  # + i g
    assert values["c"] == pytest.approx(c, abs=1e-4)
    assert values["tanh_c"] == pytest.approx(np.tanh(c), abs=1e-4)
    assert values["h"] == pytest.approx(o * np.tanh(c), abs=1e-4)


def test_the_cifg_input_gate_is_one_minus_f_and_not_a_gate_of_its_own():
    rows = reading("lstm-cifg")
    root = parse(diagram.cell_diagram(cells.cell_class("lstm-cifg"), unit_rows(rows, 1), range(T), 5).svg)
    i = nodes_by(root, "data-node")["i"]
    assert i.get("data-gate") is None
    assert float(i.get("data-value")) == pytest.approx(1 - rows["f"][5, 1], abs=1e-4)


def test_gates_are_filled_on_the_fixed_cividis_scale_and_signed_values_on_rdbu():
    rows = reading("lstm")
    u, t = 3, 20
    root = parse(diagram.cell_diagram(cells.LSTM, unit_rows(rows, u), range(T), t, state_range=2.0).svg)
    nodes = nodes_by(root, "data-node")
    for name, scale, lo, hi in (("f", "Cividis", 0, 1), ("o", "Cividis", 0, 1), ("g", "RdBu", -1, 1),
                                ("hprev", "RdBu", -1, 1), ("c_out", "RdBu", -2, 2)):
        value = float(nodes[name].get("data-value"))
        place = float(np.clip((value - lo) / (hi - lo), 0, 1))
        expected = plotly.colors.sample_colorscale(scale, [place])[0]
        assert np.abs(rgb(fill_of(nodes[name])) - rgb(expected)).max() <= 3, name


def test_text_on_a_filled_shape_has_readable_ink_and_the_rest_the_theme_s_colour():
    """WCAG AA (4.5:1) for every value's fill; text elsewhere takes the page's text colour."""
    for scale in ("Cividis", "RdBu"):
        for fill, ink in zip(diagram.colour_table(scale), diagram.ink_table(scale), strict=True):
            assert diagram.contrast(fill, ink) >= 4.5, (scale, fill, ink)
    assert diagram.contrast(diagram.OP_FILL, diagram.DARK_INK) >= 4.5
    rows = reading("gru")
    root = parse(diagram.cell_diagram(cells.GRU, unit_rows(rows, 0), range(T), 3).svg)
    for node in (el for el in root.iter() if el.get("data-node")):
        shape = fill_of(node)
        for text in node.iter(f"{SVG}text"):
            classes = text.get("class", "").split()
            if "gs-on-bg" in classes:
                assert "fill" not in (text.get("style") or "")  # currentColor, from the stylesheet
            else:
                ink = text.get("style").removeprefix("fill:")
                assert diagram.contrast(ink, shape) >= 4.5, (node.get("data-node"), ink, shape)
    assert ".gs-diagram .gs-on-bg { fill: currentColor; }" in diagram.CSS


def test_every_node_has_a_title_with_its_value():
    rows = reading("mgu")
    root = parse(diagram.cell_diagram(cells.cell_class("mgu"), unit_rows(rows, 5), range(T), 7).svg)
    for node in (el for el in root.iter() if el.get("data-node")):
        title = node.find(f"{SVG}title").text
        assert title == f"{node.get('data-label')} = {diagram.number(float(node.get('data-value')))}"
    titles = {n.get("data-node"): n.find(f"{SVG}title").text for n in root.iter() if n.get("data-node")}
    assert titles["fh"].startswith("f × h(t−1) = ")
    assert titles["f"].startswith("forget gate = ")


# -- frames ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn", "lstm-nfg", "mgu"])
def test_each_frame_holds_that_step_s_numbers_and_the_memory_path_the_engine_s(arch):
    cell, rows = cells.cell_class(arch), reading(arch)
    u = 1
    window = range(10, 30)
    d = diagram.cell_diagram(cell, unit_rows(rows, u), window, 12)
    assert len(d.frames) == len(window) and d.active == 2
    engine, trace = a_trace(arch)
    path = engine.memory_path(trace)
    for k, t in enumerate(window):
        frame = d.frames[k]
        values = dict(zip(d.nodes, frame.v, strict=True))
        for gate in cell.gate_names:
            assert values[gate] == pytest.approx(rows[gate][t, u], abs=1e-4)
        assert values["h_out"] == pytest.approx(rows["h"][t, u], abs=1e-4)
        if path is None:
            assert frame.p == ()
        else:
            assert frame.p[0] == pytest.approx(path[t, u], abs=1e-4)
            assert frame.p[1] == pytest.approx(np.sum(np.log10(path[: t + 1, u])), abs=1e-3)


def test_the_way_back_carries_each_line_s_local_derivative():
    rows = reading("lstm")
    u, t = 0, 11
    d = diagram.cell_diagram(cells.LSTM, unit_rows(rows, u), range(T), t)
    derivative = dict(zip(d.derivatives, d.frames[t].d, strict=True))
    f, i, g, c = (rows[n][t, u] for n in "figc")
    assert derivative["cprev>fc"] == pytest.approx(f, abs=1e-3)  # along the belt: f
    assert derivative["fc>c"] == derivative["ig>c"] == 1.0
    assert derivative["f>fc"] == pytest.approx(rows["c"][t - 1, u], abs=1e-3)
    assert derivative["i>ig"] == pytest.approx(g, abs=1e-3)
    assert derivative["g>ig"] == pytest.approx(i, abs=1e-3)
    assert derivative["c>tanh_c"] == pytest.approx(1 - np.tanh(c) ** 2, abs=1e-3)
    assert derivative["o>h"] == pytest.approx(np.tanh(c), abs=1e-3)
    assert "bus>f" in d.wires and "bus>f" not in derivative  # through the weights: no one number
    slopes = dict(zip(d.layers, d.frames[t].s, strict=True))
    assert slopes["f"] == pytest.approx(f * (1 - f), abs=1e-4)
    assert slopes["g"] == pytest.approx(1 - g * g, abs=1e-4)


def test_a_window_s_numbers_travel_once_and_stay_small():
    rows = reading("lstm")
    long = {n: np.tile(a, (3, 1)) for n, a in rows.items()}  # 120 steps: the window holds 100
    fig = scrubber.scrubber(long, [str(k % 10) for k in range(120)], list(range(H)),
                            gates=cells.LSTM.gates, equation_lines=cells.LSTM.equation_lines, follow=2,
                            active=60, cell=cells.LSTM)
    (d,) = fig.player.diagrams
    assert len(d.frames) == len(fig.player.captions) == scrubber.MAX_FRAMES
    assert d.active == fig.player.active
    same = json.loads(json.dumps(d.to_dict())) == json.loads(json.dumps(dataclasses.asdict(d)))
    assert same  # what the browser gets, made without asdict's copy of every number
    size = len(json.dumps(d.to_dict(), ensure_ascii=False))
    assert size < len(d.svg) + scrubber.MAX_FRAMES * 600  # one SVG, and a few hundred bytes a step


def test_a_player_of_diagrams_alone_steps_every_cell_together_and_escapes_the_tokens():
    lstm_rows, gru_rows = reading("lstm"), reading("gru")
    labels = ["<b>", *"abcdefghij" * 4][:T]
    player = scrubber.diagram_player([(cells.LSTM, unit_rows(lstm_rows, 0), 0),
                                      (cells.GRU, unit_rows(gru_rows, 3), 3)], labels, active=0)
    assert [d.title for d in player.diagrams] == ["The LSTM cell, unit 0", "The GRU cell, unit 3"]
    assert all(len(d.frames) == len(player.captions) == T for d in player.diagrams)
    assert "«&lt;b&gt;»" in player.captions[0] and "<b>" not in "".join(d.svg for d in player.diagrams)


@pytest.mark.parametrize("value, text", [(0.125, "0.12"), (-0.5, "−0.50"), (-0.001, "0.00"), (0.0, "0.00"),
                                         (12.345, "12.35"), (-3.0, "−3.00")])
def test_numbers_are_written_with_a_real_minus_and_no_negative_zero(value, text):
    assert diagram.number(value) == text
