"""The Train page: app.compute.training's caps, store and helpers, then the page under AppTest.

The page's step cap comes from ``app.compute.training.step_cap()``, which reads the environment variable
``GATESCOPE_TRAIN_MAX_STEPS`` on every run (it can only lower ``MAX_STEPS``); these tests set it
to a handful of steps so a whole training of three cells takes well under a second.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from apptest import assert_clean, chart_specs, heatmap_blocks, open_page, plotly_array

from app.compute import training
from cells.train import tasks

TINY = 5


@pytest.fixture
def tiny_cap(monkeypatch):
    monkeypatch.setenv("GATESCOPE_TRAIN_MAX_STEPS", str(TINY))


# --------------------------------------------------------------------------- app.compute.training


def test_step_cap_can_only_be_lowered_by_the_environment(monkeypatch):
    assert training.MAX_STEPS == 2000 and training.MAX_SECONDS == 20.0  # the limits, by value
    monkeypatch.setenv("GATESCOPE_TRAIN_MAX_STEPS", "7")
    assert training.step_cap() == 7
    assert training.Settings.capped("adding", 50, 32, 2000).steps == 7
    monkeypatch.setenv("GATESCOPE_TRAIN_MAX_STEPS", str(10 * training.MAX_STEPS))
    assert training.step_cap() == training.MAX_STEPS
    monkeypatch.setenv("GATESCOPE_TRAIN_MAX_STEPS", "lots")
    assert training.step_cap() == training.MAX_STEPS


def test_a_cap_between_the_choices_is_offered_as_it_is(monkeypatch):
    """An environment cap of 700 offers 250, 500 and 700 steps (not a silent 250)."""
    monkeypatch.setenv("GATESCOPE_TRAIN_MAX_STEPS", "700")
    assert training.step_choices() == (250, 500, 700)
    assert training.Settings.capped("adding", 50, 32, 700).steps == 700
    assert training.Settings.capped("adding", 50, 32, 2000).steps == 700
    at = open_page("train.py")
    assert at.selectbox(key="train_steps").options == ["250", "500", "700"]
    assert at.selectbox(key="train_steps").value == 700


def test_settings_from_hand_edited_values_fall_back_to_the_offered_ones():
    s = training.Settings.capped("rm -rf", 10**6, -3, 10**9)
    assert (s.task, s.length, s.hidden) == ("adding", 50, 32)
    assert s.steps <= training.MAX_STEPS and s.max_seconds == training.MAX_SECONDS


def test_example_labels_mark_what_the_task_is_about():
    x, _ = tasks.AddingTask(6).batch(np.random.default_rng(0), 1)
    labels = training.example_labels("adding", x[:, 0])
    marked = np.flatnonzero(x[:, 0, 1])
    assert [i for i, lab in enumerate(labels) if lab != "·"] == list(marked)
    assert labels[marked[0]] == f"★{x[marked[0], 0, 0]:.2f}"
    recall = tasks.RecallTask(5)
    x, y = recall.batch(np.random.default_rng(0), 1)
    labels = training.example_labels("recall", x[:, 0])
    assert labels == ("ABCD"[int(y[0])], "·", "·", "·", "?")
    assert training.target_text("recall", y[0]) == labels[0]


def test_live_losses_redraw_on_the_first_and_the_last_step_when_redraws_are_rare():
    live = training.LiveLosses(steps=4, redraw_seconds=float("inf"))
    due = [live.add("lstm", s, 1.0 / s) for s in range(1, 5)]
    assert due == [True, False, False, True]
    np.testing.assert_allclose(live.arrays()["LSTM"], [1, 1 / 2, 1 / 3, 1 / 4])
    assert live.progress("rnn", 4) == pytest.approx(1 / 3)
    assert live.progress("gru", 2) == pytest.approx((2 + 0.5) / 3)


def test_train_all_stops_each_cell_at_the_time_cap_and_keeps_the_result():
    settings = training.Settings("adding", 10, 8, steps=1000, seed=3, max_seconds=0.0)
    seen = []
    runs = training.train_all(settings, lambda arch, step, loss: seen.append((arch, step)))
    assert seen == [("rnn", 1), ("lstm", 1), ("gru", 1)]  # one step each, then the clock stops it
    assert runs.stopped_by_time == ["RNN", "LSTM", "GRU"]
    assert training.cached(settings) is runs
    for run in runs.runs.values():
        assert run.steps == 1 and run.losses.shape == (1,)
        assert run.rows["h"].shape == (10, 8) and run.profile.log_norms.shape == (10,)
    assert list(runs.runs["lstm"].rows) == ["f", "i", "o", "g", "c", "h"]
    assert list(runs.runs["gru"].rows) == ["r", "z", "n", "h"]
    assert list(runs.runs["rnn"].rows) == ["h"]


def test_a_second_training_waits_for_the_first_and_gives_up_politely(monkeypatch):
    monkeypatch.setattr(training, "WAIT_SECONDS", 0.05)
    lock = training._server_lock()
    holder = threading.Thread(target=lambda: (lock.acquire(), release.wait(), lock.release()))
    release = threading.Event()
    holder.start()
    try:
        while not lock.locked():
            pass
        with pytest.raises(training.ServerBusyError, match="another visitor"):
            training.train_all(training.Settings("adding", 10, 8, 1, seed=4), lambda *a: None)
    finally:
        release.set()
        holder.join()


# --------------------------------------------------------------------------- the page


@pytest.mark.parametrize("task", training.TASKS)
def test_the_page_trains_three_cells_and_shows_loss_results_gates_and_gradients(tiny_cap, task):
    at = open_page("train.py", train_task=task, train_length=10, train_hidden=8)
    assert_clean(at)
    assert at.info and not at.metric and not chart_specs(at)  # nothing until Train
    assert any(f"at most {TINY} steps" in c.value for c in at.caption)
    at.button(key=training.TRAIN_BUTTON).click().run()
    assert_clean(at)
    assert [m.label for m in at.metric] == ["RNN", "LSTM", "GRU"]
    for m in at.metric:
        assert m.value.startswith("MSE ") if task == "adding" else m.value.endswith("% right")
    assert sum(f"{TINY} steps in" in c.value for c in at.caption) == 3
    specs = chart_specs(at)
    loss = specs[0]
    assert loss["layout"]["yaxis"]["type"] == "log"
    assert [t["name"] for t in loss["data"] if t.get("showlegend") is not False] == ["RNN", "LSTM", "GRU"]
    assert all(plotly_array(t["x"]).tolist() == list(range(1, TINY + 1)) for t in loss["data"])
    assert [t.label for t in at.tabs] == ["RNN", "LSTM", "GRU"]
    gates = specs[1:4]
    assert [list(heatmap_blocks(s)) for s in gates] == [
        ["h"], ["f", "i", "o", "g", "c", "h"], ["r", "z", "n", "h"]]
    curves = [t["name"] for t in specs[4]["data"] if t.get("mode") == "lines"]
    assert curves[:3] == ["RNN", "LSTM", "GRU"]  # then the span threshold


def test_a_second_visitor_with_the_same_settings_gets_the_cached_results(tiny_cap):
    first = open_page("train.py", train_length=20, train_hidden=16)
    first.button(key=training.TRAIN_BUTTON).click().run()
    assert_clean(first)
    trained = [m.value for m in first.metric]
    second = open_page("train.py", train_length=20, train_hidden=16)
    assert_clean(second)
    assert training.TRAIN_BUTTON not in [b.key for b in second.button]  # the results are there
    assert [m.value for m in second.metric] == trained
    assert any("cached" in c.value for c in second.caption)
