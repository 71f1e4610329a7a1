"""The gate lab: the claims table (cells.claims) from the shipped figures, app.compute.training with any
list of cells, and the Lab page under AppTest (default cells, hostile sequences, a tiny training).

The page's step cap comes from ``GATESCOPE_TRAIN_MAX_STEPS`` (it can only lower the Train page's
cap); the training test sets it to a handful of steps.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from apptest import HOSTILE, assert_clean, chart_specs, heatmap_blocks, open_page, players, run_app

import cells
from app.compute import training
from app.compute.lru import LRUMap
from app.widgets import lab
from cells.models.charmodel import DEFAULT_VOCAB
from cells.science import claims

TINY = 5
NAMES = {a: cells.cell_class(a).display_name for a in cells.ARCHS}


# --------------------------------------------------------------------------- cells.claims


@pytest.fixture(scope="module")
def shipped() -> dict:
    data = claims.load_claims()
    assert data, f"{claims.CLAIMS_FILE} is missing: run scripts/lab_claims.py"
    return data


def test_the_shipped_figures_store_no_verdicts_and_record_their_commands(shipped):
    def keys(node) -> set[str]:
        if isinstance(node, dict):
            return set(node) | set().union(*(keys(v) for v in node.values()))
        return set().union(*(keys(v) for v in node)) if isinstance(node, list) else set()

    assert not keys(shipped) & {"held", "verdict", "holds"}  # verdicts are computed, not stored
    assert set(shipped) == {"chars", "adding"}
    assert "scripts/lab_claims.py --part chars" in shipped["chars"]["command"]
    assert "scripts/lab_claims.py --part adding" in shipped["adding"]["command"]
    models = shipped["chars"]["models"]
    assert set(models) == set(claims.CHAR_MODELS)
    for name, entry in models.items():
        assert len(entry["bpc"]) == len(shipped["chars"]["seeds"]) == 3, name
        assert all(0.5 < b < 8 for b in entry["bpc"]), name  # bits/char of a 94-symbol vocabulary
    assert set(shipped["adding"]["runs"]) == set(claims.ADDING_ARCHS)


def test_the_table_has_a_row_per_claim_with_a_computed_verdict(shipped):
    rows = claims.claims_table(shipped)
    assert [r.paper for r in rows] == ["Greff et al. (2017)"] * 3 + [
        "Zhou et al. (2016)", "Jozefowicz et al. (2015)",
        "Hochreiter & Schmidhuber (1997); Cho et al. (2014)"]
    assert all(r.held in (claims.HELD, claims.NOT_HELD, claims.UNCLEAR) for r in rows)
    figs = claims.char_figures(shipped)
    ranked = sorted(claims.GREFF_VARIANTS, key=lambda n: -figs[n].mean)
    assert rows[0].held == (claims.HELD if set(ranked[:2]) == set(claims.GREFF_WORST) else claims.NOT_HELD)
    assert f"{figs['lstm'].mean:.3f}" in rows[0].measured
    cifg_gap = figs["lstm-cifg"].mean - figs["lstm"].mean
    assert rows[2].held == (claims.HELD if cifg_gap < claims.SMALL_GAP else claims.NOT_HELD)
    assert f"{cifg_gap:+.3f}" in rows[2].measured
    runs = shipped["adding"]["runs"]
    expected = runs["lstm"]["solved"] and runs["gru"]["solved"] and not runs["rnn"]["solved"]
    assert rows[-1].held == (claims.HELD if expected else claims.NOT_HELD)


def _with_bpc(data: dict, **means: float) -> dict:
    """A copy of ``data`` whose models ``name=mean`` have all seeds at ``mean``."""
    out = copy.deepcopy(data)
    for name, mean in means.items():
        out["chars"]["models"][name.replace("_", "-")]["bpc"] = [mean] * 3
    return out


def test_the_verdicts_follow_the_figures_not_a_stored_answer(shipped):
    worst = _with_bpc(shipped, lstm=2.0, lstm_nfg=3.0, lstm_noaf=2.9, lstm_nig=2.01, lstm_nog=2.02,
                      lstm_niaf=2.5, lstm_cifg=2.01)
    rows = claims.claims_table(worst)
    assert [r.held for r in rows[:3]] == [claims.HELD, claims.HELD, claims.HELD]
    swapped = _with_bpc(worst, lstm_nfg=2.03, lstm_cifg=2.6)
    rows = claims.claims_table(swapped)
    assert [r.held for r in rows[:3]] == [claims.NOT_HELD, claims.NOT_HELD, claims.NOT_HELD]
    assert "CIFG +0.600" in rows[1].measured

    fb = _with_bpc(shipped, lstm=2.0, lstm_fb0=2.2)
    assert claims.claims_table(fb)[4].held == claims.HELD
    fb = _with_bpc(shipped, lstm=2.2, lstm_fb0=2.0)
    assert claims.claims_table(fb)[4].held == claims.NOT_HELD
    noisy = copy.deepcopy(fb)
    noisy["chars"]["models"]["lstm"]["bpc"] = [1.9, 2.2, 2.5]  # spread 0.3: 0.2 is within noise
    assert claims.claims_table(noisy)[4].held == claims.UNCLEAR

    assert claims.claims_table(_with_bpc(shipped, gru=2.0, mgu=2.04))[3].held == claims.HELD
    assert claims.claims_table(_with_bpc(shipped, gru=2.0, mgu=2.2))[3].held == claims.NOT_HELD

    rnn_solves = copy.deepcopy(shipped)
    rnn_solves["adding"]["runs"]["rnn"]["solved"] = True
    assert claims.claims_table(rnn_solves)[-1].held == claims.NOT_HELD
    assert claims.claims_table({}) == []


def test_the_live_row_compares_the_memory_spans_of_the_two_biases():
    assert claims.forget_bias_span(5, 30, 80, 64).held == claims.HELD
    assert claims.forget_bias_span(30, 5, 80, 64).held == claims.NOT_HELD
    assert claims.forget_bias_span(79, 79, 80, 64).held == claims.UNCLEAR
    assert "(the whole sequence)" in claims.forget_bias_span(5, 79, 80, 64).measured


def test_the_shipped_json_is_small():
    assert claims.CLAIMS_FILE.stat().st_size < 20_000
    json.loads(claims.CLAIMS_FILE.read_text())


# --------------------------------------------------------------------------- app.compute.training, any cells


def test_settings_for_many_cells_share_the_time_cap_and_key_the_store_apart(monkeypatch):
    three = training.Settings.capped("adding", 50, 32, 1000)
    assert three.archs == ("rnn", "lstm", "gru") and three.max_seconds == training.MAX_SECONDS
    seven = training.Settings.capped("adding", 50, 32, 1000, archs=lab.DEFAULT_ARCHS)
    assert seven.archs == lab.DEFAULT_ARCHS
    assert seven.max_seconds == pytest.approx(60 / 7)  # three cells' 3 x 20 s, shared by seven
    assert training.Settings.capped("adding", 50, 32, 1000, archs=("gru", "x; rm", "gru")).archs == ("gru",)
    assert training.Settings.capped("adding", 50, 32, 1000, archs=("nope",)).archs == training.ARCHS
    store = LRUMap(4)  # the training store's kind (app/training.py _store)
    store.put(three, "three")
    assert store.get(seven) is None and store.get(three) == "three"


def test_train_all_trains_the_cells_it_is_given_in_their_order():
    settings = training.Settings("adding", 10, 8, steps=2, seed=5, archs=("mgu", "lstm-cifg"))
    seen = []
    runs = training.train_all(settings, lambda arch, step, loss: seen.append((arch, step)))
    assert seen == [("mgu", 1), ("mgu", 2), ("lstm-cifg", 1), ("lstm-cifg", 2)]
    assert list(runs.runs) == ["mgu", "lstm-cifg"]
    assert list(runs.runs["mgu"].rows) == ["f", "n", "h"]
    assert list(runs.runs["lstm-cifg"].rows) == ["f", "o", "g", "c", "h"]
    live = training.LiveLosses(steps=4, archs=settings.archs)
    assert live.progress("lstm-cifg", 2) == pytest.approx((1 + 0.5) / 2)
    live.add("mgu", 1, 0.5)
    assert list(live.arrays()) == ["MGU"]


# --------------------------------------------------------------------------- the page


def test_the_page_shows_the_default_cells_gates_gradients_parameters_and_claims():
    at = open_page("lab.py")
    assert_clean(at)
    assert tuple(at.multiselect(key=lab.CELLS_KEY).value) == lab.DEFAULT_ARCHS
    summary = at.dataframe[0].value
    names = [NAMES[a] for a in lab.DEFAULT_ARCHS]
    assert summary["cell"].tolist() == names
    for arch, gates in zip(lab.DEFAULT_ARCHS, summary["gates"], strict=True):
        assert gates == (", ".join(cells.cell_class(arch).sigmoid_gates) or "none")
    # trained where shipped, random (64 units) elsewhere, and the page says so
    assert summary.set_index("cell")["weights"].to_dict() == {
        n: ("trained" if n in ("LSTM", "GRU", "RNN") else "random") for n in names}
    assert any("random weights, the same 64 units" in c.value for c in at.caption)
    specs = chart_specs(at)
    gradient = specs[0]
    assert [t["name"] for t in gradient["data"] if t.get("mode") == "lines"][:7] == names
    gates = specs[1:8]
    for arch, spec in zip(lab.DEFAULT_ARCHS, gates, strict=True):
        cls = cells.cell_class(arch)
        assert list(heatmap_blocks(spec)) == [*(g.name for g in cls.gates), "h"]
        assert [a["text"] for a in spec["layout"]["annotations"]] == [
            *(g.title for g in cls.gates), "hidden state h"]
    (drawn,) = players(at)  # one small diagram per chosen cell, stepped together
    assert [d["title"].split(" cell,")[0] for d in drawn["diagrams"]] == [f"The {n}" for n in names]
    assert at.button(key=lab.TRAIN_BUTTON)  # nothing trained yet
    table = at.table[0].value
    assert len(table) == 7 and table["held here?"].isin(["yes", "no", "within noise"]).all()
    assert table["paper"].iloc[-1] == "Jozefowicz et al. (2015)"  # the live row


def test_the_parameter_counts_are_the_cells_own():
    at = open_page("lab.py", cells=["lstm", "lstm-cifg", "mgu"], model="random")
    assert_clean(at)
    summary = at.dataframe[0].value
    H, I = 64, len(DEFAULT_VOCAB) + 1  # random weights read one-hot characters, unknown included
    for arch, params in zip(["lstm", "lstm-cifg", "mgu"], summary["parameters"], strict=True):
        cell = cells.make_cell(arch, cells.init_params(arch, I, H, seed=0))
        assert params == cell.num_params
    assert summary["parameters"].tolist() == [4 * H * (I + H + 2), 3 * H * (I + H + 2),
                                              2 * H * (I + H + 2)]


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_sequences_never_break_the_page(name):
    at = open_page("lab.py", seq=HOSTILE[name])
    assert_clean(at)
    text = HOSTILE[name]
    if len(text) < 2:
        assert any("at least two characters" in i.value for i in at.info)
    else:
        assert len(chart_specs(at)) == 1 + len(lab.DEFAULT_ARCHS)
    assert len(at.table[0].value) >= 6  # the precomputed claims are always there


def test_the_chosen_cells_are_in_the_url_and_a_shared_lab_url_opens_them():
    at = open_page("lab.py", cells=["mgu", "lstm", "gru"])  # picked out of the lab's order
    assert_clean(at)
    assert at.query_params["cells"] == "lstm,gru,mgu"  # in the lab's order
    shared = run_app({"cells": "lstm,gru,mgu"}).switch_page("../pages/lab.py").run()
    assert_clean(shared)
    assert shared.multiselect(key=lab.CELLS_KEY).value == ["lstm", "gru", "mgu"]
    assert shared.dataframe[0].value["cell"].tolist() == [NAMES[a] for a in ("lstm", "gru", "mgu")]
    garbage = run_app({"cells": "lstm,transformer"}).switch_page("../pages/lab.py").run()
    assert_clean(garbage)  # an unknown cell: the lab's defaults
    assert tuple(garbage.multiselect(key=lab.CELLS_KEY).value) == lab.DEFAULT_ARCHS


def test_no_cell_picked_says_so_and_keeps_the_claims():
    at = open_page("lab.py", cells=[])
    assert_clean(at)
    assert any("at least one cell" in i.value for i in at.info)
    assert not chart_specs(at) and not at.dataframe and len(at.table[0].value) == 7


def test_a_tiny_training_races_the_chosen_cells_and_is_cached(monkeypatch):
    monkeypatch.setenv("GATESCOPE_TRAIN_MAX_STEPS", str(TINY))
    picked = ["lstm-cifg", "mgu", "rnn"]
    at = open_page("lab.py", cells=picked, lab_length=10, lab_hidden=8)
    assert_clean(at)
    assert any(f"at most {TINY} steps" in c.value for c in at.caption)
    at.button(key=lab.TRAIN_BUTTON).click().run()
    assert_clean(at)
    scores = at.dataframe[1].value
    assert scores["cell"].tolist() == ["RNN", "LSTM-CIFG", "MGU"]  # the registry's order
    assert scores["steps"].tolist() == [TINY] * 3
    assert np.all(scores["test MSE"] > 0)
    loss = next(s for s in chart_specs(at) if s["layout"]["yaxis"].get("type") == "log")
    legend = [t["name"] for t in loss["data"] if t.get("showlegend") is not False]
    assert legend == ["RNN", "LSTM-CIFG", "MGU"]
    again = open_page("lab.py", cells=picked, lab_length=10, lab_hidden=8)
    assert_clean(again)
    assert lab.TRAIN_BUTTON not in [b.key for b in again.button]
    assert again.dataframe[1].value["test MSE"].tolist() == scores["test MSE"].tolist()
