"""Guided experiments: the catalogue, each read-out pointing the way its text says, the carrier
finder on a hand-built cell, every preset opening under AppTest (from the tour's button and from
its shared URL), the tour listing them all."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from apptest import assert_clean
from conftest import MAIN
from streamlit.testing.v1 import AppTest

import cells
from app.charts.experiments import carrier_figure, word_ticks
from app.compute import experiments as ex
from app.view.state import ViewState
from cells.core.readout import Readout
from cells.models.charmodel import DEFAULT_VOCAB, CharModel
from cells.science import carriers
from cells.train.trainer import train_task

TOUR = "../pages/experiments.py"  # relative to app/main.py
IDS = [e.id for e in ex.EXPERIMENTS]


# --------------------------------------------------------------------------- the catalogue


def test_ids_are_unique_and_every_target_page_exists():
    assert len(set(IDS)) == len(IDS) == 7
    for e in ex.EXPERIMENTS:
        assert e.script.exists(), e.script
        assert e.claim and e.look and e.title


@pytest.mark.parametrize("experiment_id", IDS)
def test_the_shareable_url_describes_exactly_the_preset_view(experiment_id):
    e = ex.by_id(experiment_id)
    parts = urlsplit(e.url())
    page = parts.path.strip("./")
    assert ViewState.from_query(dict(parse_qsl(parts.query)), page=page) == e.view


def test_experiments_for_a_page_are_the_ones_that_open_it():
    assert [e.id for e in ex.experiments_for("gradients")] == [
        "rnn-forgets", "forget-bias-0", "short-sequence"]
    assert [e.id for e in ex.experiments_for("")] == ["forget-gate", "update-gate"]
    assert [e.id for e in ex.experiments_for("train")] == ["long-range"]
    assert ex.experiments_for("cells") == [] and ex.experiments_for("no-such-page") == []


# --------------------------------------------------------------------------- read-outs point the way


def spans(experiment_id: str) -> dict[str, tuple[int, bool]]:
    profiles = ex.gradient_profiles(ex.by_id(experiment_id).view)
    return {name: (p.memory_span, p.span_reaches_start) for name, p in profiles.items()}


def test_rnns_forget_rnn_span_shortest_then_lstm_then_gru():
    s = spans("rnn-forgets")
    assert not s["RNN"][1]  # the RNN's span ends inside the text, not at its start
    assert s["RNN"][0] < s["LSTM"][0] < s["GRU"][0]
    readout = ex.by_id("rnn-forgets").read()
    assert readout.value("RNN memory span") == s["RNN"][0]


def test_forget_bias_0_makes_the_lstm_forget_faster_than_the_rnn_and_bias_1_restores_it():
    s = spans("forget-bias-0")
    assert s["LSTM"][0] < s["RNN"][0] and not s["LSTM"][1]
    biased = replace(ex.by_id("forget-bias-0").view, forget_bias=1.0)
    lstm = ex.gradient_profiles(biased)["LSTM"]
    assert lstm.memory_span > s["RNN"][0]  # the page's text: switch to 1 and watch it grow


def test_on_the_short_sequence_every_span_reaches_the_start():
    s = spans("short-sequence")
    T = len(ex.SHORT_TEXT)
    assert s == {"RNN": (T - 1, True), "LSTM": (T - 1, True), "GRU": (T - 1, True)}


def test_the_catalogue_names_the_units_the_trained_models_carry_the_quote_on():
    found = ex.quote_carriers(ex.QUOTE_TEXT)
    assert {arch: c.unit for arch, c in found.items()} == ex.CARRIERS
    for c in found.values():
        assert (c.start, c.end) == (ex.QUOTE_OPEN, ex.QUOTE_CLOSE)


def test_the_lstm_carrier_keeps_its_forget_gate_open_and_its_cell_state_apart():
    c = ex.quote_carriers(ex.QUOTE_TEXT)["lstm"]
    assert c.mean_inside("f") > 0.95
    assert c.start < c.written < c.end - 40  # the mark is made early in the quote
    assert c.log_keep > -1.0  # the highway keeps more than a tenth across the quote
    assert c.log_keep > c.log_keep_median + 10  # the median unit keeps ten decades less
    gap = np.abs(c.change)  # (T,) what the opening quote changed
    assert gap[: c.start].max() == 0.0
    assert gap[c.end - 1] > 0.5 * gap[c.written] > 0  # most of it is still there at the end


def test_the_gru_carrier_keeps_with_z_and_so_writes_little_while_the_lstm_keeps_and_writes():
    readout = ex.by_id("update-gate").read()
    z, write = readout.value("GRU keeps: z"), readout.value("GRU writes: 1 − z")
    assert z > 0.95 and write == pytest.approx(1 - z) and write < 0.05
    f, i = readout.value("LSTM keeps: f"), readout.value("LSTM writes: i")
    assert f > 0.95 and f + i > 1.5  # the LSTM's two dials are not tied to sum to 1


def test_carrier_finds_the_one_unit_a_hand_built_lstm_carries_the_quote_on():
    """H = 3: every unit's input gate open, only unit 2's forget gate open (bias +20, f ≈ 1), and
    only the quote writes (to unit 2's candidate). Unit 2 must be the carrier, keeping all of it."""
    vocab, H, k = 'ab"', 3, 2
    V = len(vocab) + 1
    params = {name: np.zeros_like(a) for name, a in cells.init_params("lstm", V, H, seed=0).items()}
    bias = params["bias_ih_l0"]  # blocks i, f, g, o of H each
    bias[:H] = 20.0  # i ≈ 1
    bias[H: 2 * H] = -20.0  # f ≈ 0 ...
    bias[H + k] = 20.0  # ... except unit k
    bias[3 * H:] = 20.0  # o ≈ 1
    params["weight_ih_l0"][2 * H + k, vocab.index('"')] = 1.0  # g_k = tanh(1) at the quote
    model = CharModel(cells.make_cell("lstm", params), vocab, Readout.init(H, V, seed=1))
    text = 'ab"abab"a'
    c = carriers.carrier(model, text, 2, 7)
    assert c.unit == k
    assert c.memory[6] == pytest.approx(np.tanh(1.0), rel=1e-6) and c.memory_without[6] == 0.0
    assert c.written == 2  # i ≈ 1 writes it at the quote itself
    assert c.log_keep == pytest.approx(0.0, abs=1e-6) and c.log_keep_median < -30


def test_carrier_refuses_a_quote_that_is_not_inside_the_text():
    with pytest.raises(ValueError):
        carriers.carrier(CharModel.untrained("lstm", 4, 0), "ab", 1, 5)


def test_gru_has_three_quarters_of_the_lstm_parameters_at_every_size():
    table = ex.costs()
    assert tuple(table) == ex.COST_SIZES
    for H, c in table.items():
        V = len(DEFAULT_VOCAB) + 1
        assert c["lstm"].num_params == 4 * H * (V + H + 2)  # G·H·(I + H + 2), G = 4
        assert c["gru"].num_params * 4 == c["lstm"].num_params * 3
        assert c["lstm"].seconds > 0 and c["gru"].seconds > 0
    readout = ex.by_id("gru-cheaper").read()
    assert readout.value("GRU / LSTM parameters") == 0.75
    assert len(readout.metrics) == 1 + len(ex.COST_SIZES)


def test_adding_preset_is_what_the_train_page_offers_and_untrained_says_so():
    from app.compute import training

    settings = ex.adding_settings()
    assert settings.task == "adding" and settings.length in training.LENGTHS
    assert settings.hidden in training.HIDDEN_SIZES
    if training.cached(settings) is None:
        readout = ex.by_id("long-range").read()
        assert readout.metrics == () and "press Train" in readout.note


def test_at_the_adding_preset_lstm_and_gru_solve_it_and_the_rnn_does_not():
    """The long-range claim itself, trained as the Train page does (about 30 s here)."""
    solved = {
        arch: train_task(arch, "adding", length=ex.ADDING["length"], hidden_size=ex.ADDING["hidden"],
                         steps=ex.ADDING["steps"], seed=0).solved
        for arch in ("rnn", "lstm", "gru")
    }
    assert solved == {"rnn": False, "lstm": True, "gru": True}


# --------------------------------------------------------------------------- under AppTest


def tour() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=120).run()
    return at.switch_page(TOUR).run()


def test_the_tour_lists_every_experiment_with_its_read_out_and_a_button(monkeypatch):
    # the time-per-step read-outs are measured again every COST_SECONDS: one measuring period for
    # the page and the check below, else a run across a period's end compares two measurements
    monkeypatch.setattr(ex, "COST_SECONDS", 10**12)
    at = tour()
    assert_clean(at)
    assert [s.value for s in at.main.subheader] == [
        f"{n}. {e.title}" for n, e in enumerate(ex.EXPERIMENTS, start=1)]
    shown = [(m.label, m.value) for m in at.main.metric]
    assert shown == [(m.label, m.text) for e in ex.EXPERIMENTS for m in e.read().metrics]
    profiles = ex.gradient_profiles(ex.by_id("rnn-forgets").view)
    assert shown[0] == ("RNN memory span", f"{profiles['RNN'].memory_span} tokens")
    assert ("unit", f"#{ex.CARRIERS['lstm']}") in shown
    for e in ex.EXPERIMENTS:
        assert at.button(key=f"open_{e.id}").label == "Open this experiment"


def assert_preset_view(at: AppTest, e: ex.Experiment) -> None:
    """The target page is drawn, clean, with the preset's knobs in its widgets."""
    assert_clean(at)
    state = at.session_state
    for key, value in e.session_values().items():
        if key not in ("step", "unit", "train_steps"):  # pages clamp these to what they can show
            assert state[key] == value, key
    if e.page == "train":
        assert at.title[0].value.startswith("Train")
        assert at.selectbox(key="train_length").value == ex.ADDING["length"]
    else:
        assert at.text_area(key="seq").value == e.view.seq


@pytest.mark.parametrize("experiment_id", IDS)
def test_each_experiment_opens_from_the_tour_in_one_click(experiment_id):
    e = ex.by_id(experiment_id)
    at = tour()
    at.button(key=f"open_{e.id}").click().run()
    assert_preset_view(at, e)
    assert {k: at.query_params[k] for k in at.query_params} == e.view.to_query()  # shareable
    if e.page == "gradients":  # the page's own spans are the read-out's
        shown = {m.label: m.value for m in at.metric}
        for m in e.read().metrics:
            assert shown[m.label] == m.text


def test_an_experiment_opens_from_its_shared_url_in_a_new_session():
    e = ex.by_id("forget-bias-0")
    at = AppTest.from_file(MAIN, default_timeout=120)
    for key, value in e.view.to_query().items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"../pages/{e.script.name}").run()
    assert_preset_view(at, e)
    assert at.radio(key="model").value == "random" and at.radio(key="forget_bias").value == 0.0


def test_kept_fractions_read_as_percentages_then_powers_of_ten():
    assert ex.fraction_text(np.log10(0.43)) == "43%"
    assert ex.fraction_text(-2.0) == "1%"
    assert ex.fraction_text(-20.93) == "10⁻²¹"


@pytest.mark.parametrize("page", ["gradients", "", "compare", "train"])
def test_each_page_links_to_its_experiments_and_a_link_loads_the_preset_there(page):
    at = AppTest.from_file(MAIN, default_timeout=120).run()
    at.switch_page(str(ex.experiments_for(page)[0].script)).run()
    assert_clean(at)
    links = [b for b in at.button if b.key and b.key.startswith("experiment_link_")]
    assert [b.key for b in links] == [f"experiment_link_{e.id}" for e in ex.experiments_for(page)]
    e = ex.experiments_for(page)[-1]
    at.button(key=f"experiment_link_{e.id}").click().run()
    assert_preset_view(at, e)


def test_a_pinned_unit_is_shown_first_even_when_it_barely_varies():
    from app.compute.models import most_active_units

    h = np.array([[0.0, 1.0, 0.5, 0.2], [0.0, -1.0, -0.5, 0.21]])  # (T, H): unit 0 constant
    assert list(most_active_units(h, 2)) == [1, 2]
    assert list(most_active_units(h, 2, pin=0)) == [0, 1]
    assert list(most_active_units(h, 3, pin=2)) == [2, 1, 3]
    assert list(most_active_units(h, 2, pin=9)) == [1, 2]  # not a unit of this cell: ignored


def test_carrier_figure_draws_gates_highway_product_and_the_change_for_each_cell():
    found = ex.quote_carriers(ex.QUOTE_TEXT)
    fig = carrier_figure(found, ex.QUOTE_TEXT)
    names = [t.name for t in fig.data]
    assert names[:3] == ["f (keep)", "i (write)", "running product of f (the highway)"]
    assert names[4:6] == ["z (keep; writes 1 − z)", "running product of z (the highway)"]
    assert names[3].startswith("c − c′") and names[6].startswith("h − h′")
    for product, c in ((fig.data[2], found["lstm"]), (fig.data[5], found["gru"])):
        assert product.x[0] == c.written and product.x[-1] == c.end - 1
        assert product.y[-1] == pytest.approx(10.0 ** c.log_keep)
    np.testing.assert_allclose(fig.data[3].y, found["lstm"].change)
    assert list(fig.layout.xaxis.ticktext[:3]) == ["She", "looked", "up"]


def test_word_ticks_mark_word_starts_escaped_and_thinned():
    assert word_ticks("a <b> c") == ([0, 2, 6], ["a", "&lt;b&gt;", "c"])
    positions, labels = word_ticks(" ".join(["w"] * 130), max_ticks=60)
    assert len(positions) == len(labels) <= 60 and positions[:2] == [0, 6]
