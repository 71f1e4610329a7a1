"""The Gradients page: its chart builders alone, then the page under AppTest."""

from __future__ import annotations

import re

import numpy as np
import pytest
from apptest import HOSTILE, assert_clean, chart_specs, open_page, plotly_array, run_app
from streamlit.testing.v1 import AppTest

import cells
from app.charts.gradients import divergence_figure, gradient_figure, why_figure
from app.view import sequence
from app.view.state import DEFAULT_TEXT
from cells.science.gradients import gradient_profile

NAMES = ["RNN", "LSTM", "GRU"]
LONG_SENTENCE = (
    "When the old lighthouse keeper finally climbed the hundred and twelve steps to the lamp room, "
    "he found that the storm had already passed and the sea was as calm as glass."
)


# --------------------------------------------------------------------------- chart builders

ARCH_OF = {"RNN": "rnn", "LSTM": "lstm", "GRU": "gru"}  # each curve's cell: its colour and dash


def test_a_curve_takes_its_cells_colour_and_dash_whatever_its_label():
    fig = gradient_figure({"your upload": np.zeros(3), "bias 0": np.zeros(3)}, list("abc"), {},
                          archs={"your upload": "gru", "bias 0": "rnn"})
    upload, rnn = fig.data[0], fig.data[1]  # Okabe-Ito reddish purple, vermillion
    assert upload.line.color == "#CC79A7" and upload.line.dash == "solid"
    assert rnn.line.color == "#D55E00" and rnn.line.dash == "dash"


def test_gradient_figure_has_one_named_curve_per_cell_with_its_values_and_span_marker():
    T = 6
    log_norms = {n: np.linspace(-k - 1.0, 0.5, T) for k, n in enumerate(NAMES)}
    log_norms["RNN"][0] = -np.inf  # an exactly zero Jacobian: drawn as a gap
    fig = gradient_figure(log_norms, list("abcdef"), {"RNN": 1, "LSTM": 4, "GRU": 5}, archs=ARCH_OF)
    curves = [t for t in fig.data if t.name in NAMES]
    assert [t.name for t in curves] == NAMES
    assert curves[0].y[0] is None
    np.testing.assert_allclose(np.asarray(curves[1].y, dtype=float), log_norms["LSTM"])
    markers = {t.name: t for t in fig.data if t.mode == "markers"}
    assert list(markers["RNN span end"].x) == [4]  # 1 token back from t = 5
    assert list(markers["GRU span end"].x) == [0]
    threshold = [t for t in fig.data if t.name.startswith("span threshold")]
    assert len(threshold) == 1 and list(threshold[0].y) == [pytest.approx(0.5 - 3)] * 2


def test_cells_of_different_sizes_get_a_threshold_each():
    T = 4
    log_norms = {"RNN": np.r_[np.zeros(T - 1), 0.5 * np.log10(64)],
                 "LSTM": np.r_[np.zeros(T - 1), 0.5 * np.log10(128)],
                 "GRU": np.r_[np.zeros(T - 1), 0.5 * np.log10(128)]}
    fig = gradient_figure(log_norms, list("abcd"), {}, archs=ARCH_OF)
    levels = sorted(t.y[0] for t in fig.data if t.name.startswith("span threshold"))
    np.testing.assert_allclose(levels, [0.5 * np.log10(64) - 3, 0.5 * np.log10(128) - 3])


def test_chart_labels_are_escaped_so_plotly_cannot_read_them_as_html():
    labels = ["<", "b", ">", "&", "x"]
    fig = gradient_figure({"RNN": np.zeros(5)}, labels, {}, archs=ARCH_OF)
    assert list(fig.layout.xaxis.ticktext) == ["&lt;", "b", "&gt;", "&amp;", "x"]
    assert "<" not in "".join(fig.data[0].customdata[:, 0])


def test_why_figure_rows_rnn_bound_and_measured_then_gate_highways():
    T, H = 5, 3
    products = np.log10(np.random.default_rng(0).uniform(0.1, 1, size=(T, H)))
    fig = why_figure(list("abcde"), {"RNN": (np.full(T, 1.2), np.r_[np.nan, np.full(T - 1, 0.6)])},
                     {"LSTM": (products, 2, "f"), "GRU": (products * 2, 0, "z")}, archs=ARCH_OF)
    names = [t.name for t in fig.data]
    assert names == ["RNN ‖J_t‖₂: the most one step can do", "RNN measured factor of step t",
                     "LSTM mean over units", "LSTM best unit (#2)", "GRU mean over units",
                     "GRU best unit (#0)"]
    np.testing.assert_allclose(np.asarray(fig.data[2].y, dtype=float), products.mean(axis=1))
    np.testing.assert_allclose(np.asarray(fig.data[5].y, dtype=float), 2 * products[:, 0])
    assert fig.data[1].y[0] is None
    assert fig.layout.yaxis.type == "log"
    assert {fig.data[2].legend, fig.data[4].legend} == {"legend2", "legend3"}


def test_divergence_figure_starts_at_the_edit_and_leaves_out_exact_zeros():
    d = np.array([0.0, 0.0, 1.0, 1e-3, 0.0, 1e-9])
    fig = divergence_figure({"RNN": d}, list("abcdef"), 2, 1e-4, archs=ARCH_OF)
    assert list(fig.data[0].x) == [2, 3, 4, 5]
    assert list(fig.data[0].y) == [1.0, 1e-3, None, 1e-9]
    assert fig.layout.yaxis.type == "log"


# --------------------------------------------------------------------------- the page


def spans(at: AppTest) -> dict[str, int]:
    """The memory spans read off the page's metrics ("12 tokens", "≥ 71 tokens")."""
    out = {}
    for m in at.metric:
        found = re.fullmatch(r"(RNN|LSTM|GRU) memory span", m.label)
        if found:
            out[found.group(1)] = int(re.search(r"\d+", m.value).group())
    return out


def main_chart(at: AppTest) -> dict:
    return chart_specs(at)[0]


def curves(spec: dict) -> dict[str, np.ndarray]:
    return {t["name"]: plotly_array(t["y"]) for t in spec["data"] if t["name"] in NAMES}


def test_default_page_shows_three_named_curves_spans_and_all_charts():
    at = open_page("gradients.py")
    assert_clean(at)
    assert at.text_area(key="seq").value == DEFAULT_TEXT
    specs = chart_specs(at)
    assert len(specs) == 3  # gradients, why, what-if
    assert list(curves(specs[0])) == NAMES
    assert len(curves(specs[0])["RNN"]) == len(DEFAULT_TEXT)
    assert set(spans(at)) == set(NAMES)


def test_why_quotes_each_gated_cells_memory_update_as_one_formula():
    """Each cell's line in "why" names its memory update, one formula KaTeX can typeset alone: no
    row separator or ``aligned`` block of the cell's full equations comes with it."""
    at = open_page("gradients.py")
    why = {line.split("**")[1]: line for m in at.markdown for line in m.value.splitlines()
           if line.startswith("- **")}
    assert r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$" in why["LSTM"]
    assert r"$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$" in why["GRU"]
    for line in why.values():
        assert not any(mark in line for mark in ("&", "\\\\", "aligned")), line


def test_page_numbers_are_the_engines_for_the_loaded_models():
    """The curves and spans on the page are cells.gradients' for the same models and text."""
    at = open_page("gradients.py")
    shown = curves(main_chart(at))
    page_spans = spans(at)
    for arch, name in zip(("rnn", "lstm", "gru"), NAMES, strict=True):
        model = cells.pretrained(arch)  # the shipped character model, read without the app
        profile = gradient_profile(model.cell, model.inputs(model.encoder.ids(DEFAULT_TEXT)))
        np.testing.assert_allclose(shown[name], profile.log_norms, rtol=1e-12)
        assert page_spans[name] == profile.memory_span


@pytest.mark.parametrize("text", [DEFAULT_TEXT, LONG_SENTENCE], ids=["default", "long"])
def test_the_rnn_forgets_sooner_than_the_lstm(text):
    at = open_page("gradients.py", seq=text, length=200)
    assert_clean(at)
    s = spans(at)
    assert s["RNN"] < s["LSTM"], s


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_never_breaks_the_page(name):
    at = open_page("gradients.py", seq=HOSTILE[name])
    assert_clean(at)
    text = HOSTILE[name]
    specs = chart_specs(at)
    if len(text) < 2:
        assert specs == [] and any("at least two characters" in i.value for i in at.info)
        return
    assert list(curves(specs[0])) == NAMES
    assert len(curves(specs[0])["RNN"]) == min(len(text), 100)  # the length slider's default
    if len(text) > sequence.MAX_CHARS:
        assert any("only the first 2,000" in w.value for w in at.warning)
    if len(text) > 100:
        assert any("Measuring the first 100 of" in c.value for c in at.caption)
    for element in [*at.markdown, *at.caption, *at.info, *at.warning]:  # never as Markdown
        assert "<script>" not in element.value and "**bold**" not in element.value
    ticks = "".join(specs[0]["layout"]["xaxis"]["ticktext"])
    assert "<script>" not in ticks and "<img" not in ticks


def test_a_single_character_gives_a_hint_not_a_chart():
    at = open_page("gradients.py", seq="a")
    assert_clean(at)
    assert chart_specs(at) == [] and at.info


@pytest.mark.parametrize("seq", ["ab", "\x00\x00"])
def test_two_tokens_are_enough_for_every_chart(seq):
    at = open_page("gradients.py", seq=seq)
    assert_clean(at)
    assert len(chart_specs(at)) == 3
    assert all(len(y) == 2 for y in curves(main_chart(at)).values())


def test_the_input_length_is_capped_and_the_page_says_so():
    at = open_page("gradients.py", seq="abcdefghij" * 50)
    cap = int(at.slider(key="length").max)
    assert 2 < cap < sequence.MAX_CHARS
    at.slider(key="length").set_value(cap).run()
    assert_clean(at)
    assert len(curves(main_chart(at))["LSTM"]) == cap
    assert any(f"Measuring the first {cap} of 500 characters" in c.value for c in at.caption)
    assert any(f"at most {cap}" in c.value for c in at.caption)


def fresh(**knobs) -> AppTest:
    at = open_page("gradients.py", model="random", **knobs)
    assert_clean(at)
    return at


@pytest.mark.parametrize("forget_bias", [0.0, 1.0, 2.0])
def test_fresh_weights_with_each_forget_bias_state_seed_and_scale(forget_bias):
    at = fresh(forget_bias=forget_bias, seed=3, radius=0.9, hidden=24)
    assert at.radio(key="forget_bias").value == forget_bias
    assert list(curves(main_chart(at))) == NAMES
    stated = " ".join(c.value for c in at.caption)
    assert "seed 3" in stated and "spectral radius 0.9" in stated
    assert f"forget-gate bias {forget_bias:g}" in stated


def test_a_larger_forget_bias_lengthens_the_lstm_memory_span():
    lstm = [spans(fresh(forget_bias=b, seq=LONG_SENTENCE, length=200))["LSTM"] for b in (0.0, 2.0)]
    assert lstm[0] < lstm[1], lstm


def test_a_larger_recurrent_radius_lengthens_the_rnn_memory_span():
    rnn = [spans(fresh(radius=r, seq=LONG_SENTENCE, length=200))["RNN"] for r in (0.5, 1.0)]
    assert rnn[0] < rnn[1], rnn


def test_fresh_weights_hidden_size_reaches_the_cells():
    """The RNN's curve ends at log10 ||I||_F = log10 sqrt(H) for the chosen H."""
    at = fresh(hidden=16)
    assert curves(main_chart(at))["RNN"][-1] == pytest.approx(0.5 * np.log10(16))


def test_what_if_changes_one_token_and_counts_steps_until_the_states_agree():
    at = open_page("gradients.py")
    at.slider(key="gr_edit_pos").set_value(3).run()
    at.text_input(key="gr_edit_char").set_value("Z").run()
    assert_clean(at)
    what_if = chart_specs(at)[2]
    tol = at.select_slider(key="gr_tol").value
    for trace in what_if["data"]:
        assert plotly_array(trace["x"])[0] == 3
        y = plotly_array(trace["y"])
        above = np.nonzero(y >= tol)[0]  # by hand: after the last step at or above tol it is below
        steps = above[-1] + 1 if above.size else 0
        metric = next(m for m in at.metric if m.label.startswith(f"{trace['name']}: steps until below"))
        assert int(re.search(r"\d+", metric.value).group()) == steps


def test_what_if_with_the_same_character_says_nothing_changes():
    at = open_page("gradients.py", seq="abcabc")
    at.text_input(key="gr_edit_char").set_value("a").run()
    assert_clean(at)
    assert any("nothing changes" in i.value for i in at.info)
    assert len(chart_specs(at)) == 2


def test_a_shared_url_opens_fresh_weights_with_its_knobs():
    at = run_app({"model": "random", "hidden": "12", "radius": "1.3", "forget_bias": "2",
                  "seed": "7", "length": "40"}, timeout=120)
    at.switch_page("../pages/gradients.py").run()
    assert_clean(at)
    assert at.radio(key="model").value == "random" and at.slider(key="hidden").value == 12
    assert at.radio(key="forget_bias").value == 2.0 and at.number_input(key="seed").value == 7
    assert len(curves(main_chart(at))["RNN"]) == 40
