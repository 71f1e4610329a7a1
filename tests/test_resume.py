"""Reading on from an earlier reading (app/models.py, RESUME_EVERY): a text that begins like one
already read is read from the model's state after their common beginning, and the reading is the
same as reading it from the start: every gate and state value bit for bit, the next-character
probabilities to 1e-12."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

import cells
from app.compute import models
from app.view.state import DEFAULT_TEXT

TEXT = (DEFAULT_TEXT + " Then: «naïve ☃» and more. ") * 4  # 396 characters, some unknown


def loaded(name: str) -> models.Loaded:
    if name == "stack":  # two LSTM layers from a real torch model (scripts/make_examples.py)
        reader = cells.read_model(ROOT / "examples" / "torch-char-lstm2.safetensors")
        return models.Loaded(reader, "a 2-layer LSTM", trained=True)
    return models.load(models.resolve(name, "trained" if name != "lstm-cifg" else "random", "text"))


def assert_same(got: models.Reading, want: models.Reading) -> None:
    assert got.labels == want.labels and got.unknown_chars == want.unknown_chars
    assert list(got.rows) == list(want.rows)
    for name in want.rows:
        np.testing.assert_array_equal(got.rows[name], want.rows[name])
    np.testing.assert_array_equal(got.unknown, want.unknown)
    # the next-character probabilities come from one matrix product over the steps read, whose
    # rounding depends on how many there are: the same to the last bits, not bit for bit
    assert [[ch for ch, _ in g] for g in got.guesses] == [[ch for ch, _ in g] for g in want.guesses]
    np.testing.assert_allclose([[p for _, p in g] for g in got.guesses],
                               [[p for _, p in g] for g in want.guesses], rtol=1e-12, atol=0)
    assert got.saturation.keys() == want.saturation.keys()
    for gate, (left, right) in want.saturation.items():
        np.testing.assert_array_equal(got.saturation[gate][0], left)
        np.testing.assert_array_equal(got.saturation[gate][1], right)


EDITS = {  # an edit -> (the new text, where reading on starts: whole 64-character blocks)
    "appended": (TEXT + "and then some", 384),
    "changed at 200": (TEXT[:200] + "CHANGED" + TEXT[207:], 192),
    "cut at 150": (TEXT[:150], 128),
    "cut at a block end": (TEXT[:128], 64),  # one character is always left to read
}


@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("name,layer", [("lstm", -1), ("gru", -1), ("rnn", -1), ("lstm-cifg", -1),
                                        ("stack", 0), ("stack", 1)])
def test_a_text_read_on_from_an_earlier_one_is_the_text_read_from_the_start(name, layer, edit):
    model = loaded(name)
    _, first = models.reading_of(model, TEXT, layer)
    text, begin = EDITS[edit]
    assert len(TEXT) == 396 and first.start_for(text, model.reader) == begin
    resumed, then = models.reading_of(model, text, layer, (begin, first))
    fresh, again = models.reading_of(model, text, layer)
    assert_same(resumed, fresh)
    trace = model.reader.read(text).trace
    trace = trace.layers[layer] if hasattr(trace, "layers") else trace
    for gate, (left, right) in cells.gate_saturation(model.reader.cell, trace).items():
        np.testing.assert_array_equal(fresh.saturation[gate][0], left)  # the engine's, counted
        np.testing.assert_array_equal(fresh.saturation[gate][1], right)
    assert first.start_for(text, loaded("gru" if name != "gru" else "lstm").reader) == 0  # others
    assert len(then.states) == len(again.states) == len(text) // 64  # one per whole block
    for (h, c), (h_want, c_want) in zip(then.states, again.states, strict=True):
        np.testing.assert_array_equal(h, h_want)
        assert (c is None) == (c_want is None) and (c is None or np.array_equal(c, c_want))


def test_the_cached_read_reads_only_the_end_of_a_text_that_begins_like_the_last(monkeypatch):
    key = models.resolve("lstm", "trained", "text")
    lengths = []
    read = cells.Reader.read

    def counted(self, sequence, h0=None, c0=None):
        lengths.append(len(sequence))
        return read(self, sequence, h0, c0)

    monkeypatch.setattr(cells.Reader, "read", counted)
    models._read.clear()
    models._resumables.clear()  # a fresh, empty store on the next call
    from app.view.sequence import prepare

    models.read(key, prepare(TEXT, "text"))
    longer = TEXT + " More words at the end."
    reading = models.read(key, prepare(longer, "text"))
    assert lengths == [len(TEXT), len(longer) - len(TEXT) // 64 * 64]
    assert_same(reading, models.reading_of(models.load(key), longer)[0])
    models.read(key, prepare("A different text" * 10, "text"))  # no common beginning: all of it
    assert lengths[-1] == 160
