"""CharModel (vocabulary, trace, bits/char, sampling, save/load) and the shipped pretrained models."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import cells
from cells.io import model_files, npz
from cells.io.pretrained import WEIGHTS_DIR, available_pretrained, pretrained
from cells.models.charmodel import CharModel
from cells.models.encoders import UNKNOWN_CHAR
from cells.models.reader import SCORE_CHUNK as CHUNK
from cells.train.tasks import SeriesTask

PROSE = Path(__file__).resolve().parent.parent / "scripts" / "data" / "heldout_prose.txt"


@pytest.fixture(scope="module", params=cells.ARCHS)
def model(request) -> CharModel:
    return CharModel.untrained(request.param, 12, seed=0)


def test_ids_map_unknown_characters_to_the_last_id(model):
    ids = model.encoder.ids("ab\u00e9\n")
    assert ids.tolist() == [model.vocab.index("a"), model.vocab.index("b"), len(model.vocab),
                            model.vocab.index("\n")]
    x = model.inputs(ids)
    assert x.shape == (4, len(model.vocab) + 1) and np.all(x.sum(1) == 1) and x[2, -1] == 1


def test_trace_gives_a_distribution_after_every_character(model):
    text = "Hello, w\u00f6rld \U0001f600!"
    ct = model.read(text)
    V = len(model.vocab) + 1
    assert ct.probs.shape == (len(text), V) and ct.trace.h.shape == (len(text), 12)
    assert np.allclose(ct.probs.sum(1), 1.0) and np.all(ct.probs > 0)
    assert ct.unknown.tolist() == [ch not in model.vocab for ch in text]


def test_bits_per_char_is_the_mean_surprise_of_each_next_character_across_chunks(model):
    rng = np.random.default_rng(0)
    text = "".join(rng.choice(list("abc de\n"), size=CHUNK + 300))    # longer than one chunk
    probs, ids = model.read(text).probs, model.encoder.ids(text)
    direct = -np.mean(np.log2(probs[np.arange(len(text) - 1), ids[1:]]))
    assert model.bits_per_char(text) == pytest.approx(direct, rel=1e-10)


def test_untrained_model_predicts_about_uniformly(model):
    bits = model.bits_per_char("the cat sat on the mat, and then it sat on the hat.")
    assert abs(bits - np.log2(len(model.vocab) + 1)) < 0.3


def test_bits_per_char_needs_two_characters(model):
    with pytest.raises(ValueError, match="at least 2"):
        model.bits_per_char("a")


def test_sample_is_reproducible_from_the_seed_and_uses_known_characters(model):
    a = model.sample("The ", 40, seed=1)
    assert a == model.sample("The ", 40, seed=1)
    assert a != model.sample("The ", 40, seed=2)
    assert len(a) == 40 and set(a) <= set(model.vocab)
    assert len(model.sample("", 5, temperature=0.5, seed=0)) == 5
    with pytest.raises(ValueError, match="temperature"):
        model.sample("a", 3, temperature=-1)
    greedy = model.sample("The ", 20, temperature=0, seed=1)  # temperature 0: greedy, no randomness
    assert greedy == model.sample("The ", 20, temperature=0, seed=2)


def test_top_next_ranks_characters_and_shows_the_unknown_token():
    m = CharModel.untrained("gru", 4, seed=0, vocab="ab")
    guesses = m.top_next(np.array([0.2, 0.1, 0.7]), k=2)
    assert guesses == [(UNKNOWN_CHAR, 0.7), ("a", 0.2)]


def test_save_load_round_trip_keeps_every_array_and_the_meta(model, tmp_path):
    model.meta["note"] = "round trip"
    path = tmp_path / "m.npz"
    cells.save_model(model, path)
    back = cells.read_model(path)
    assert isinstance(back, CharModel)
    assert back.vocab == model.vocab and back.cell.arch == model.cell.arch
    assert back.meta == model.meta
    arrays, back_arrays = model_files.model_arrays(model)[0], model_files.model_arrays(back)[0]
    assert arrays.keys() == back_arrays.keys()
    for key, a in arrays.items():
        assert np.array_equal(back_arrays[key], a), key
    text = "round trip\n"
    assert np.array_equal(back.read(text).probs, model.read(text).probs)


def test_float32_file_loads_as_float64_close_to_the_original(model):
    buf = io.BytesIO()
    cells.save_model(model, buf, dtype=np.float32)
    back = cells.read_model(buf.getvalue())
    assert back.cell.dtype == np.float64
    assert back.bits_per_char("float32 weights") == pytest.approx(
        model.bits_per_char("float32 weights"), abs=1e-4)


def test_a_plain_cell_file_reads_as_a_bare_cell_and_garbage_is_refused(tmp_path):
    path = tmp_path / "cell.npz"
    model_files.save(path, cells.make_cell("rnn", cells.init_params("rnn", 3, 2, seed=0)))
    plain = cells.read_model(path)
    assert not isinstance(plain, CharModel) and plain.readout is None
    with pytest.raises(ValueError, match=r"not a valid \.npz"):
        cells.read_model(b"not a zip file")


def test_mismatched_readout_or_vocab_is_a_value_error():
    m = CharModel.untrained("lstm", 4, seed=0, vocab="abc")
    with pytest.raises(ValueError, match="vocab needs"):
        CharModel(m.cell, "ab", m.readout)
    arrays, meta = model_files.model_arrays(m)
    arrays["readout.bias"] = arrays["readout.bias"][:-1]
    buf = io.BytesIO()
    npz.save_arrays(buf, arrays, meta)
    with pytest.raises(ValueError, match="readout"):
        cells.read_model(buf.getvalue())


# ---------------------------------------------------------------------------------------------
# the shipped models


def unigram_bits(text: str) -> float:
    """Bits/char of the best unigram model for ``text``: its own character entropy (a lower
    bound for any unigram model, so beating it is a fair bar)."""
    counts = np.array(list(Counter(text).values()), dtype=float)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def test_all_three_models_are_shipped():
    assert set(available_pretrained()) >= {"lstm", "gru", "rnn", "lstm-series", "gru-series",
                                            "rnn-series"}
    with pytest.raises(ValueError, match="no pretrained model"):
        pretrained("transformer")


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn"])
def test_pretrained_model_beats_a_unigram_model_on_unseen_prose(name):
    prose = PROSE.read_text(encoding="utf-8")
    m = pretrained(name)
    assert m.cell.arch == name and m.cell.dtype == np.float64
    assert m.bits_per_char(prose) < unigram_bits(prose) - 1.0
    assert m.meta["heldout_prose_bpc"] == pytest.approx(m.bits_per_char(prose), abs=0.01)


def test_gated_models_reach_the_target_and_beat_the_rnn_on_unseen_prose():
    prose = PROSE.read_text(encoding="utf-8")
    bits = {name: pretrained(name).bits_per_char(prose) for name in ("lstm", "gru", "rnn")}
    assert bits["lstm"] <= 2.3 and bits["gru"] <= 2.3
    assert bits["lstm"] < bits["rnn"] and bits["gru"] < bits["rnn"]
    sizes = {pretrained(name).cell.hidden_size for name in bits}
    assert len(sizes) == 1                                          # same hidden size: fair


@pytest.mark.parametrize("arch", ("lstm", "gru", "rnn"))  # the shipped series models
def test_series_models_predict_the_next_value_better_than_repeating_the_last(arch):
    name = f"{arch}-series"
    reader = pretrained(name)
    cell = reader.cell
    assert reader.mode == "numbers" and reader.readout is not None
    assert cell.arch == arch and cell.input_size == 1 and cell.dtype == np.float64
    arrays, meta = npz.load_arrays(WEIGHTS_DIR / f"{name}.npz")
    assert meta == {**reader.meta, "kind": "series"}
    x, y = SeriesTask(100).batch(np.random.default_rng(12345), 200)    # fresh series
    pred = cell.forward(x).h @ arrays["readout.weight"].T.astype(float) + arrays["readout.bias"]
    mse = float(np.mean((pred - y) ** 2))
    assert mse < 0.5 * float(np.mean((x - y) ** 2))
    assert mse == pytest.approx(meta["test_mse"], rel=0.2)
