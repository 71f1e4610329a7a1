"""The chart builders alone: arrays in, Plotly figures out, no Streamlit."""

from __future__ import annotations

import json

import numpy as np
import plotly.colors
import pytest
from apptest import heatmap_blocks, plotly_array

import cells
from app.charts import base as charts
from app.charts import heatmaps, saturation, scrubber

RNG = np.random.default_rng(0)


LSTM, GRU = cells.LSTM, cells.GRU
LSTM_FACTS = {"gates": LSTM.gates, "equation_lines": LSTM.equation_lines}


def lstm_arrays(T: int, U: int = 6):
    """A real LSTM trace (T steps, U units) from the engine, so the equations must hold."""
    cell = cells.make_cell("lstm", cells.init_params("lstm", 3, U, seed=1))
    tr = cell.forward(RNG.normal(size=(T, 3)))
    gates = {n: tr.gates[n] for n in ("f", "i", "o", "g")}
    return gates, tr.c, tr.h


def lstm_rows(gates, c, h) -> dict:
    """A reading's rows: the gates in display order, then c and h."""
    return {**gates, "c": c, "h": h}


def frames_of(fig) -> list[dict]:
    """The animation frames as Streamlit sends them (``to_dict``)."""
    return fig.to_dict()["frames"]


def labels_of(T: int) -> list[str]:
    return [chr(ord("a") + t % 26) for t in range(T)]


def spec_of(fig) -> dict:
    """A figure as the browser gets it (JSON)."""
    return json.loads(fig.to_json())


def colours(spec: dict, name: str) -> np.ndarray:
    """The colour every cell of block ``name`` of a heatmaps figure is drawn in: its place on the
    trace's colour scale, sampled the way Plotly interpolates."""
    trace = spec["data"][0]
    places = plotly_array(trace["z"])
    rows = [k for k, category in enumerate(trace["y"]) if category.startswith(f"{name} · unit ")]
    block = places[rows]  # (U, C)
    return np.array(plotly.colors.sample_colorscale(trace["colorscale"], block.ravel().tolist()),
                    dtype=object).reshape(block.shape)


def test_heatmaps_one_block_per_gate_then_c_and_h_with_shapes_units_by_tokens():
    gates, c, h = lstm_arrays(T=9, U=5)
    fig = heatmaps.state_heatmaps(lstm_rows(gates, c, h), labels_of(9), [4, 0, 2, 1, 3],
                                gates=LSTM.gates)
    spec = spec_of(fig)
    assert [a["text"] for a in spec["layout"]["annotations"]] == [
        "forget gate f", "input gate i", "output gate o", "candidate g (tanh)",
        "cell state c (colour ends ±1)", "hidden state h"]
    blocks = heatmap_blocks(spec)
    assert list(blocks) == ["f", "i", "o", "g", "c", "h"]
    for units, values in blocks.values():
        assert units == [4, 0, 2, 1, 3] and values.shape == (5, 9)  # (U, T)
    for name, want in {**gates, "c": c, "h": h}.items():
        np.testing.assert_allclose(blocks[name][1], want.T, rtol=1e-6)
    assert [t["type"] for t in spec["data"]] == ["heatmap"] * 3  # the heatmap, two colour bars
    assert spec["data"][1]["opacity"] == spec["data"][2]["opacity"] == 0


def test_gate_colour_scale_is_fixed_0_to_1_whatever_the_values():
    T, U = 7, 3
    narrow = np.full((T, U), 0.5) + RNG.uniform(-0.01, 0.01, (T, U))
    spec = spec_of(heatmaps.state_heatmaps({"f": narrow, "h": np.zeros((T, U))}, labels_of(T),
                                         range(U), gates=LSTM.gates))
    want = np.array(plotly.colors.sample_colorscale("Cividis", narrow.T.ravel().tolist()),
                    dtype=object).reshape(U, T)
    assert (colours(spec, "f") == want).all()  # Cividis over 0..1, not stretched to the values
    bar = spec["layout"]["coloraxis"]  # the gates' colour bar says so
    assert (bar["cmin"], bar["cmax"]) == (0, 1)
    assert [colour for _, colour in bar["colorscale"]] == [
        colour for _, colour in plotly.colors.get_colorscale("Cividis")]


def test_cell_state_scale_is_symmetric_around_zero_and_h_is_fixed_minus_1_to_1():
    gates, c, h = lstm_arrays(T=200)
    c = c * 3.0
    c[5, 0] = 40.0  # one runaway unit must not wash out the others
    rows = lstm_rows(gates, c, h)
    rows["c"][6, 1] = 0.0
    spec = spec_of(heatmaps.state_heatmaps(rows, labels_of(200), range(6), gates=LSTM.gates))
    red_end, middle, blue_end = plotly.colors.sample_colorscale("RdBu", [0.0, 0.5, 1.0])
    c_colours = colours(spec, "c")  # (U, T)
    assert c_colours[0, 5] == blue_end and c_colours[1, 6] == middle
    inside = (c_colours != blue_end) & (c_colours != red_end)
    assert np.mean(inside) >= 0.85  # the 90th percentile of |c| sets the ends, not the runaway
    want_h = np.array(plotly.colors.sample_colorscale("RdBu", ((h.T.ravel() + 1) / 2).tolist()),
                      dtype=object).reshape(6, 200)
    assert (colours(spec, "h") == want_h).all()


def test_hover_names_token_unit_and_value():
    gates, c, h = lstm_arrays(T=4)
    fig = heatmaps.state_heatmaps(lstm_rows(gates, c, h), ["a", "<", "&", "b"], range(6),
                                gates=LSTM.gates)
    trace = fig.data[0]
    assert "%{x}" in trace.hovertemplate and "%{y} = %{customdata:.3f}" in trace.hovertemplate
    assert list(trace.x) == ["0: «a»", "1: «&lt;»", "2: «&amp;»", "3: «b»"]
    assert "f · unit 0" in trace.y and trace.hoverongaps is False  # blank rows have no hover


def test_every_token_is_a_tick_for_short_sequences():
    labels = list("Hi there")
    fig = heatmaps.state_heatmaps({"f": np.zeros((8, 2)), "h": np.zeros((8, 2))}, labels, range(2),
                                gates=LSTM.gates)
    assert list(fig.layout.xaxis.tickvals) == list(fig.data[0].x)
    assert list(fig.layout.xaxis.ticktext) == labels


def test_300_tokens_are_thinned_to_evenly_spaced_readable_ticks():
    positions, texts = charts.token_ticks(labels_of(300))
    assert len(positions) <= charts.MAX_TICKS
    assert positions[0] == 0 and len(set(np.diff(positions))) == 1
    assert texts == [labels_of(300)[p] for p in positions]


def test_long_labels_thin_out_sooner():
    numbers = [f"{v:.3g}" for v in np.linspace(-1, 1, 40)]  # labels like "-0.897"
    positions, _ = charts.token_ticks(numbers)
    assert len(positions) < 40 and len(positions) * 6 <= charts.MAX_TICKS * 2


def test_plot_text_leaves_no_tags_for_plotly_to_read():
    assert charts.plot_text('<img src=x onerror="a()">&') == (
        '&lt;img src=x onerror="a()"&gt;&amp;'
    )


def test_scrubber_has_one_frame_and_one_caption_per_token():
    T = 12
    gates, c, h = lstm_arrays(T)
    fig = scrubber.scrubber(lstm_rows(gates, c, h), labels_of(T), range(6), **LSTM_FACTS)
    frames = frames_of(fig)
    assert len(frames) == T
    assert [f["name"] for f in frames] == [str(t) for t in range(T)]
    assert len(fig.player.captions) == T and fig.player.active == 0
    for t, frame in enumerate(frames):  # bars: f, i, o on the 0-1 axis, then g, c, h
        np.testing.assert_allclose(frame["data"][0]["y"], gates["f"][t], atol=5e-4)  # 3 decimals
        np.testing.assert_allclose(frame["data"][5]["y"], h[t], atol=5e-4)
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    assert fig.player.captions[1].startswith("<b>step 1 of 11 · token «b»</b>")
    assert not fig.layout.sliders and not fig.layout.updatemenus  # the player is the page's own


def test_a_scrubber_opens_at_its_active_step_and_escapes_the_token_in_its_caption():
    T = 60
    gates, c, h = lstm_arrays(T)
    labels = [*labels_of(T)[:7], "<b>", *labels_of(T)[8:]]
    fig = scrubber.scrubber(lstm_rows(gates, c, h), labels, range(6), **LSTM_FACTS, active=7)
    assert fig.player.active == 7
    assert fig.player.captions[7].startswith("<b>step 7 of 59 · token «&lt;b&gt;»</b>")


def test_scrubber_equations_carry_the_steps_own_numbers():
    T, follow, t = 10, 2, 6
    gates, c, h = lstm_arrays(T)
    c_prev = np.vstack([np.zeros((1, 6)), c[:-1]])  # c_{t-1}, zero state first
    fig = scrubber.scrubber(lstm_rows(gates, c, h), labels_of(T), [10, 11, 12, 13, 14, 15],
                          **LSTM_FACTS,
                          follow=follow)
    title = fig.player.captions[t]
    f, i, g = (gates[n][t, follow] for n in "fig")
    assert "unit 12" in title and f"step {t} of {T - 1}" in title
    assert f"= {f:.2f}·({c_prev[t, follow]:.2f}) + {i:.2f}·({g:.2f}) = {c[t, follow]:.2f}" in title
    assert c[t, follow] == pytest.approx(f * c_prev[t, follow] + i * g)  # the engine agrees


def test_gru_scrubber_equations_use_h_prev():
    T, U = 5, 4
    cell = cells.make_cell("gru", cells.init_params("gru", 2, U, seed=3))
    tr = cell.forward(RNG.normal(size=(T, 2)))
    h_prev = np.vstack([np.zeros((1, U)), tr.h[:-1]])
    fig = scrubber.scrubber({**{n: tr.gates[n] for n in "rzn"}, "h": tr.h}, labels_of(T), range(U),
                          gates=GRU.gates, equation_lines=GRU.equation_lines)
    z, n = tr.gates["z"][3, 0], tr.gates["n"][3, 0]
    title = fig.player.captions[3]
    assert f"(1 − {z:.2f})·({n:.2f}) + {z:.2f}·({h_prev[3, 0]:.2f}) = {tr.h[3, 0]:.2f}" in title


def test_scrubber_shows_the_guesses_escaped():
    T = 3
    gates, c, h = lstm_arrays(T)
    guesses = [[("<", 0.5), ("a", 0.25)]] * T
    fig = scrubber.scrubber(lstm_rows(gates, c, h), labels_of(T), range(6), **LSTM_FACTS,
                          guesses=guesses)
    guess = frames_of(fig)[1]["data"][-1]
    assert list(guess["x"]) == [0.5, 0.25] and guess["text"][0] == "«&lt;» 50%"


def test_long_sequences_get_a_window_of_frames_around_the_active_step():
    T = max(scrubber.MAX_FRAMES + 250, 550)
    gates, c, h = lstm_arrays(T, U=2)
    fig = scrubber.scrubber(lstm_rows(gates, c, h), labels_of(T), range(2), **LSTM_FACTS, active=400)
    names = [int(f["name"]) for f in frames_of(fig)]
    assert len(names) == scrubber.MAX_FRAMES and names == list(range(names[0], names[0] + len(names)))
    assert names[fig.player.active] == 400
    assert len(fig.player.captions) == len(names) and fig.player.captions[fig.player.active].startswith(
        "<b>step 400 of")


def test_scrub_window_stays_inside_the_sequence():
    assert scrubber.scrub_window(10, 5) == range(0, 10)
    assert scrubber.scrub_window(1000, 0, 300) == range(0, 300)
    assert scrubber.scrub_window(1000, 999, 300) == range(700, 1000)


def test_saturation_scatter_fixed_axes_and_one_trace_per_gate_and_cell():
    H = 8
    sat = {
        "lstm": {g: (RNG.uniform(0, 0.5, H), RNG.uniform(0, 0.5, H)) for g in "ifo"},
        "gru": {g: (RNG.uniform(0, 0.5, H), RNG.uniform(0, 0.5, H)) for g in "rz"},
    }
    fig = saturation.saturation_scatter(sat, {g.name: g.title for g in (*LSTM.gates, *GRU.gates)})
    points = [t for t in fig.data if t.mode == "markers"]
    assert len(points) == 5 and all(len(t.x) == H for t in points)
    assert points[0].name == "lstm input gate i" and points[3].name == "gru reset gate r"
    assert fig.layout.xaxis.range == (-0.02, 1.02) and fig.layout.yaxis2.range == (-0.02, 1.02)
    np.testing.assert_array_equal(points[0].x, sat["lstm"]["i"][0])


def test_chart_config_names_the_png_export():
    config = charts.chart_config("gates-lstm")
    assert config["toImageButtonOptions"]["filename"] == "gatescope-gates-lstm"
    assert config["toImageButtonOptions"]["format"] == "png"


def test_long_sequences_are_drawn_at_screen_resolution_one_column_per_k_steps():
    T, U = 1234, 3
    gates, c, h = lstm_arrays(T, U)
    fig = heatmaps.state_heatmaps(lstm_rows(gates, c, h), labels_of(T), range(U), gates=LSTM.gates)
    k = int(np.ceil(T / heatmaps.MAX_COLUMNS))  # 3 steps a column
    f = heatmap_blocks(spec_of(fig))["f"][1]  # (U, C)
    assert f.shape == (U, int(np.ceil(T / k))) and f.shape[1] <= heatmaps.MAX_COLUMNS
    np.testing.assert_allclose(f[:, 0], gates["f"][:k].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(f[:, -1], gates["f"][(f.shape[1] - 1) * k:].mean(axis=0), rtol=1e-5)
    assert fig.data[0].x[1] == "3–5: «def»" and len(set(fig.data[0].x)) == f.shape[1]
    assert f"mean of {k} steps" in fig.data[0].hovertemplate
    assert len(fig.layout.xaxis.tickvals) <= charts.MAX_TICKS
    assert set(fig.layout.xaxis.tickvals) <= set(fig.data[0].x)
    assert fig.layout.meta == {"tokens": T}
    short = heatmaps.state_heatmaps(lstm_rows(*lstm_arrays(heatmaps.MAX_COLUMNS, U)),
                                  labels_of(heatmaps.MAX_COLUMNS), range(U), gates=LSTM.gates)
    assert len(short.data[0].x) == heatmaps.MAX_COLUMNS  # every step up to the limit


def test_the_unvalidated_constructor_still_exists_and_agrees(monkeypatch):
    """``charts.figure`` uses Plotly's private ``go.Figure(..., _validate=False)`` (requirements.txt
    does not pin Plotly below the next major for it). This fails loudly the day a Plotly release
    drops that path or makes it build a different figure: then ``charts.figure`` falls back to the
    validating constructor (the app keeps working, each edit a few ms slower), and the fast path
    should be dropped or replaced."""
    import plotly.graph_objects as go

    from app.charts import text as interpret_charts

    spec = {"data": [{"type": "heatmap", "z": np.eye(2, dtype=np.float32), "x": ["a", "b"]}],
            "layout": {"height": 200, "meta": {"tokens": 2}}}
    fast = go.Figure(spec, _validate=False)  # TypeError the day the keyword goes
    assert fast._validate is False, "Plotly ignores _validate=False: drop the private path"
    assert json.loads(fast.to_json()) == json.loads(go.Figure(spec).to_json())

    T = 7
    gates, c, h = lstm_arrays(T, U=3)

    def built() -> list[dict]:
        return [json.loads(fig.to_json()) for fig in (
            heatmaps.state_heatmaps(lstm_rows(gates, c, h), labels_of(T), range(3), gates=LSTM.gates),
            scrubber.scrubber(lstm_rows(gates, c, h), labels_of(T), range(3), **LSTM_FACTS,
                            guesses=[[("a", 0.5)]] * T),
            interpret_charts.unit_story("ab <c>&d", list("ab <c>&d"), [*c[:, 0].tolist(), 0.0],
                                        {g: np.r_[gates[g][:, 0], 0.5] for g in "fio"},
                                        title="t", memory_name="c"),
        )]

    unvalidated = built()
    monkeypatch.setattr(charts, "_UNVALIDATED", False)
    assert built() == unvalidated  # the validating constructor builds the very same JSON
