"""The app shell (view state in the URL, input rules) and the Gates page under AppTest."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
from apptest import (
    HOSTILE,
    assert_clean,
    chart_specs,
    gate_charts,
    heatmap_blocks,
    open_page,
    plotly_array,
    run_app,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from app.view import sequence
from app.view.state import DEFAULT_TEXT, ViewState, sync

# --------------------------------------------------------------------------- ViewState


def test_view_state_round_trips_through_the_query():
    state = ViewState(seq="héllo, 世界 & <b>", mode="numbers", arch="gru", model="random", step=7,
                      hidden=48, radius=1.25, forget_bias=2.0, length=300, seed=5, unit=3,
                      cells=("gru", "mgu"))
    query = state.to_query()
    assert query["cells"] == "gru,mgu"
    assert all(isinstance(v, str) for v in query.values())
    assert ViewState.from_query(query) == state


def test_defaults_are_left_out_of_the_query():
    assert ViewState().to_query() == {}
    assert ViewState(arch="gru").to_query() == {"arch": "gru"}
    assert ViewState(page="gradients", hidden=8).url() == "gradients?hidden=8"


@pytest.mark.parametrize("params", [
    {"step": "-3", "hidden": "1e999", "radius": "nan", "arch": "transformer", "mode": "<b>"},
    {"model": "../../etc/passwd", "forget_bias": "inf", "length": "0x10", "unit": "two",
     "cells": "lstm,transformer"},
    {"seq": ["a", "b"], "step": ["1", "2"]},
    {"step": [], "hidden": None, "seed": object()},
])
def test_garbage_query_values_fall_back_to_defaults(params):
    state = ViewState.from_query(params)
    default = ViewState()
    for key, value in params.items():
        if key == "seq" and value:
            assert state.seq == value[-1]
        elif key == "step" and value == ["1", "2"]:
            assert state.step == 2
        else:
            assert getattr(state, key) == getattr(default, key), key


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*ViewState().__dict__, "x"]), st.text(max_size=30)))
def test_from_query_never_raises(params):
    state = ViewState.from_query(params)
    assert state.arch in ("lstm", "gru") and state.mode in ("text", "numbers")
    assert np.isfinite(state.radius) and state.step >= 0


def test_sync_writes_changes_and_removes_stale_keys_only():
    params = {"seq": "old", "arch": "gru", "utm_source": "mail"}
    sync(ViewState(seq="new"), params)
    assert params == {"seq": "new", "utm_source": "mail"}


# --------------------------------------------------------------------------- input rules


def test_long_text_is_cut_to_the_limit_with_a_note():
    prepared = sequence.prepare("x" * (sequence.MAX_CHARS + 5), "text")
    assert prepared.length == sequence.MAX_CHARS and len(prepared.text) == sequence.MAX_CHARS
    assert any(f"{sequence.MAX_CHARS:,}" in note for note in prepared.notes)
    assert sequence.prepare("x" * sequence.MAX_CHARS, "text").notes == ()


@pytest.mark.parametrize("ch, label", [
    (" ", "␣"), ("\n", "⏎"), ("\t", "⇥"), ("\x00", "␀"), ("\x1b", "␛"), ("\x7f", "␡"),
    ("\u202e", "U+202E"), ("\u200b", "U+200B"), ("\u0301", "◌\u0301"), ("a", "a"), ("😀", "😀"),
    ("\u00a0", "U+00A0"),
])
def test_token_labels_make_invisible_characters_visible(ch, label):
    assert sequence.token_label(ch) == label


def test_numbers_mode_drops_and_reports_nan_inf_and_garbage():
    prepared = sequence.prepare("1, 2.5,nan, inf,-inf, abc, ,1e999, -3e-2;4\n5 1e300", "numbers")
    np.testing.assert_array_equal(prepared.values, [1, 2.5, -0.03, 4, 5, sequence.MAX_ABS_VALUE])
    notes = " ".join(prepared.notes)
    assert "1 entries that are not numbers" in notes
    assert "4 entries that are nan or infinite" in notes
    assert "Clipped 1" in notes
    assert prepared.labels == ("1", "2.5", "-0.03", "4", "5", "1e+06")


def test_numbers_mode_cuts_long_series():
    prepared = sequence.prepare(",".join(["1"] * (sequence.MAX_NUMBERS + 1)), "numbers")
    assert prepared.length == sequence.MAX_NUMBERS and prepared.notes


def test_home_page_draws_heatmaps_and_a_scrubber_with_one_frame_per_token():
    at = run_app()
    assert_clean(at)
    assert at.text_area(key="seq").value == DEFAULT_TEXT
    heatmaps, scrubber = gate_charts(at)
    assert list(heatmap_blocks(heatmaps)) == ["f", "i", "o", "g", "c", "h"]
    assert len(scrubber["frames"]) == len(DEFAULT_TEXT)
    assert any("What am I looking at?" in c.value for c in at.caption)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_never_breaks_the_page(name):
    at = run_app()
    at.text_area(key="seq").set_value(HOSTILE[name]).run()
    assert_clean(at)
    text = HOSTILE[name]
    specs = chart_specs(at)
    if not text:
        assert specs == [] and at.info
        return
    frames = gate_charts(at)[1]["frames"]
    assert len(frames) == min(len(text), 2000, 100)  # the text's limit, the scrubber's window
    if len(text) > sequence.MAX_CHARS:
        assert any("only the first 2,000" in w.value for w in at.warning)
    # user text never reaches Markdown: no markdown element holds the payload
    for element in [*at.markdown, *at.caption, *at.info, *at.warning]:
        assert "<script>" not in element.value and "**bold**" not in element.value


def test_unknown_characters_are_named_in_plain_text_and_labelled_on_the_chart():
    at = run_app()
    at.text_area(key="seq").set_value("naïve ☃").run()
    assert_clean(at)
    assert any("unknown token" in i.value for i in at.info)
    assert any("ï" in t.value and "☃" in t.value for t in at.text)
    ticks = gate_charts(at)[0]["layout"]["xaxis"]["ticktext"]
    assert ticks == ["n", "a", sequence.UNKNOWN_LABEL, "v", "e", "␣", sequence.UNKNOWN_LABEL]


def test_gru_has_reset_update_and_candidate_rows():
    at = run_app()
    at.selectbox(key="arch").set_value("gru").run()
    assert_clean(at)
    assert list(heatmap_blocks(gate_charts(at)[0])) == ["r", "z", "n", "h"]
    titles = [a["text"] for a in gate_charts(at)[0]["layout"]["annotations"]]
    assert titles == ["reset gate r", "update gate z", "candidate n (tanh)", "hidden state h"]


def test_numbers_mode_reads_a_series_and_reports_garbage():
    at = run_app()
    at.radio(key="mode").set_value("numbers").run()
    assert_clean(at)
    series = at.text_area(key="seq").value  # the default text was swapped for a default series
    assert series != DEFAULT_TEXT and len(gate_charts(at)[1]["frames"]) == len(series.split(","))
    at.text_area(key="seq").set_value("0.5, nan, 1, inf, oops, 2").run()
    assert_clean(at)
    assert len(gate_charts(at)[1]["frames"]) == 3
    assert {w.value for w in at.warning} >= {"Dropped 1 entries that are not numbers.",
                                             "Dropped 2 entries that are nan or infinite."}
    at.text_area(key="seq").set_value("nan, inf, ,,,").run()
    assert_clean(at)
    assert chart_specs(at) == [] and at.info


def test_picking_a_shown_unit_for_the_equations_leaves_the_heatmap_rows_alone():
    at = run_app()
    heatmaps, _ = gate_charts(at)
    rows, title = heatmap_blocks(heatmaps)["h"][0], heatmaps["layout"]["title"]["text"]
    picked = rows[2]  # the third row: not the top one
    at.selectbox(key="unit").set_value(picked).run()
    assert_clean(at)
    heatmaps, scrubber = gate_charts(at)
    assert heatmap_blocks(heatmaps)["h"][0] == rows  # same order: not read again, unpinned
    assert heatmaps["layout"]["title"]["text"] == title and "top row" not in title
    assert f"equations of unit {picked}:" in scrubber["player"]["captions"][0]
    at.slider(key="step").set_value(3).run()  # a later rerun keeps the order too
    assert heatmap_blocks(gate_charts(at)[0])["h"][0] == rows


def test_a_unit_in_the_url_is_pinned_to_the_top_row_and_picking_another_keeps_it_there():
    at = run_app()
    rows = heatmap_blocks(gate_charts(at)[0])["h"][0]
    pinned = rows[-1]  # shown, but last
    at = run_app({"unit": str(pinned)})
    assert_clean(at)
    heatmaps, _ = gate_charts(at)
    pinned_rows = heatmap_blocks(heatmaps)["h"][0]
    assert pinned_rows[0] == pinned
    assert f"unit {pinned} (top row)" in heatmaps["layout"]["title"]["text"]
    at.selectbox(key="unit").set_value(pinned_rows[1]).run()
    assert_clean(at)
    heatmaps, _ = gate_charts(at)
    assert heatmap_blocks(heatmaps)["h"][0] == pinned_rows
    assert f"unit {pinned} (top row)" in heatmaps["layout"]["title"]["text"]


def test_a_shared_url_opens_the_same_view_and_edits_go_back_into_the_url():
    at = run_app({"seq": "shared view", "arch": "gru", "step": "4"})
    assert_clean(at)
    assert at.text_area(key="seq").value == "shared view" and at.selectbox(key="arch").value == "gru"
    assert gate_charts(at)[1]["player"]["active"] == 4
    at.text_area(key="seq").set_value("edited").run()
    assert at.query_params["seq"] == "edited" and at.query_params["arch"] == "gru"


def test_a_hand_edited_url_with_garbage_still_gives_a_page():
    at = run_app({"seq": "ok", "step": "99999", "arch": "<script>", "unit": "77777", "model": "x y",
              "mode": "numbers!"})
    assert_clean(at)
    assert at.selectbox(key="arch").value == "lstm" and len(chart_specs(at)) == 3


def test_the_page_guard_turns_a_failure_into_a_message_not_a_traceback(monkeypatch):
    from app.compute import models

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded <b>here</b>")

    monkeypatch.setattr(models, "read", broken)
    at = run_app()
    assert not at.exception
    assert len(at.error) == 1 and "could not be shown" in at.error[0].value
    assert any(t.value == "RuntimeError: engine exploded <b>here</b>" for t in at.text)


@pytest.mark.parametrize("page", ["gates.py", "gradients.py", "compare.py", "cells.py", "train.py",
                                  "experiments.py"])
def test_every_page_is_guarded(monkeypatch, page):
    """A failure anywhere in a page body (here: its first line of text) is the guard's message."""
    from app.widgets import page as app_ui

    def broken(*args, **kwargs):
        raise RuntimeError(f"{page} exploded")

    monkeypatch.setattr(app_ui, "explain", broken)
    at = open_page(page)
    assert not at.exception
    assert [e.value for e in at.error] == [
        "This input could not be shown. Nothing is lost: edit the sequence or the settings and "
        "the page tries again."]
    assert any(t.value == f"RuntimeError: {page} exploded" for t in at.text)


def test_csv_export_has_one_row_per_step_unit_and_quantity():
    from app.charts import export
    from app.compute import models

    text = "ab, c"
    seq = sequence.prepare(text, "text")
    shown = models.read(models.resolve("lstm", "random", "text"), seq).shown()
    labels = seq.labels
    table = export.trace_frame(labels, shown.rows, shown.units)
    T, U = len(text), len(shown.units)
    assert list(table.columns) == ["step", "token", "unit", "gate", "value"]
    assert len(table) == T * U * 6  # f i o g, c, h
    row = table[(table.gate == "c") & (table.step == 3) & (table.unit == shown.units[1])]
    assert row.token.item() == "␣" and row.value.item() == pytest.approx(shown.rows["c"][3, 1])
    back = pd.read_csv(io.StringIO(table.to_csv(index=False)), keep_default_na=False)
    assert back.shape == table.shape and list(back.token[:U]) == ["a"] * U


@pytest.fixture
def no_shipped_weights(monkeypatch, tmp_path):
    """The app as installed without cells/weights_data (a broken checkout), caches emptied."""
    from app.compute import models
    from cells.io import pretrained as shipped

    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path)
    models._load_shipped_or_random.clear()
    models._read.clear()
    yield
    models._load_shipped_or_random.clear()
    models._read.clear()


def test_missing_trained_weights_are_said_plainly_not_hidden_behind_random_ones(no_shipped_weights):
    at = run_app()
    assert not at.exception and not at.error
    warnings = [w.value for w in at.warning]
    assert warnings == ["The trained LSTM is missing: no file lstm.npz in cells/weights_data. "
                        "These are random weights, not a trained model."]
    caption = next(c.value for c in at.caption if c.value.startswith("Model: "))
    assert "random weights" in caption and "trained by gatescope" not in caption


def test_the_shipped_model_is_what_the_home_page_reads():
    at = run_app()
    assert_clean(at)
    caption = next(c.value for c in at.caption if c.value.startswith("Model: "))
    assert caption.startswith("Model: LSTM, 128 units, trained by gatescope on")


@pytest.mark.parametrize("arch", ["lstm-cifg", "lstm-nfg", "mgu", "rnn"])
def test_every_registered_cell_shows_its_own_gates_states_and_equations(arch):
    """A cell the app has never heard of by name: its rows, titles and equations come from it."""
    import cells

    cls = cells.cell_class(arch)
    at = open_page("gates.py", arch=arch)
    assert_clean(at)
    heatmaps, scrubber = gate_charts(at)
    titles = [a["text"].split(" (colour ends")[0] for a in heatmaps["layout"]["annotations"]]
    want = [g.title for g in cls.gates] + ["cell state c"] * cls.has_cell_state + ["hidden state h"]
    assert titles == want
    assert list(heatmap_blocks(heatmaps)) == [g.name for g in cls.gates] + ["c"] * cls.has_cell_state + ["h"]
    title = scrubber["player"]["captions"][0]
    assert cls.equation_lines[-1].split(" = ")[0].replace("_t", "<sub>t</sub>") in title
    (diagram,) = scrubber["player"]["diagrams"]  # the cell, drawn beside the scrubber, from its facts
    assert diagram["title"].startswith(f"The {cls.display_name} cell, unit ")
    assert set(re.findall(r'data-gate="(\w+)"', diagram["svg"])) == set(cls.gate_names)
    assert len(diagram["frames"]) == len(scrubber["player"]["captions"])


def test_the_first_picture_is_one_unit_reading_the_text_with_what_it_tracks():
    """Karpathy-style: the typed text coloured by one unit's c, its f, i, o strips beneath, and a
    caption naming the property it tracks with the r measured on this text."""
    import re

    import cells
    from cells.science import interpret

    text = 'He said "wait here" and "come back" (later), "now".'
    at = run_app({"seq": text})
    assert_clean(at)
    story = chart_specs(at)[0]
    caption = next(c.value for c in at.caption if c.value.startswith("Unit "))
    unit, prop, r = re.match(r"Unit (\d+) tracks “(.+?)” .*r = ([+-][0-9.]+)", caption).groups()
    c = cells.pretrained("lstm").read(text).trace.c  # the shipped model, read without the app
    want = interpret.correlations(c, interpret.text_properties(text)[prop][None])[0, int(unit)]
    assert float(r) == pytest.approx(want, abs=0.005) and abs(want) >= 0.5
    memory = story["data"][0]
    shown = plotly_array(memory["z"]) if isinstance(memory["z"], dict) else np.array(memory["z"], float)
    np.testing.assert_allclose(shown[0][~np.isnan(shown[0])][: len(text)], c[:, int(unit)][:80], atol=1e-5)
    assert story["layout"]["yaxis"]["ticktext"] == ["f", "i", "o"]


def test_a_long_text_colours_only_its_first_passage_in_the_first_picture():
    text = ('He said "wait (here)" and left. ' * 30)[:900]
    at = run_app({"seq": text})
    assert_clean(at)
    story = chart_specs(at)[0]
    drawn = sum(1 for row in story["data"][0]["text"] for cell in row if cell)
    spaces = text[:480].count(" ")
    assert drawn == 480 - spaces  # every character of the passage but the spaces, none after it
    assert "(the first 480 characters)" in story["layout"]["title"]["text"]
    assert story["layout"]["meta"]["tokens"] == 900  # the chart is of the 900-token sequence
