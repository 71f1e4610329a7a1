"""Melodies: the notation (cells.music), the note tokens, the melody model's sampling and its file."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest

import cells
from cells.io.model_files import read_model
from cells.models import melody
from cells.music import notation, rhythm
from cells.music.tunes import TUNES
from cells.science import baselines

# --------------------------------------------------------------------------- notation


def test_a_melody_parses_into_notes_with_durations_and_bar_positions():
    m = notation.parse("3/4 G4 q | C5 h E5 q | G5 h. | r e. Bb3 s F#4 q Gb4 h")
    assert m.tokens == ["G4 q", "C5 h", "E5 q", "G5 h.", "r e.", "Bb3 s", "F#4 q", "F#4 h"]
    assert [n.midi for n in m.notes] == [67, 72, 76, 79, None, 58, 66, 66]
    assert m.labels[-1] == "Gb4 h"  # shown as typed, read as the same key as F#4
    np.testing.assert_allclose(m.quarters, [1, 2, 1, 3, 0.75, 0.25, 1, 2])
    assert m.meter == notation.Meter(3, 4) and m.typed_bars
    np.testing.assert_allclose(m.positions(), [2, 0, 2, 0, 0, 0.75, 1, 2])  # G4 is a pickup
    assert m.bar_starts == (1, 3, 4)


def test_without_bar_lines_bars_are_counted_by_the_time_signature():
    m = notation.parse("6/8 C4 q. C4 q. C4 q D4 e E4 q.")
    np.testing.assert_allclose(m.positions(), [0, 1.5, 0, 1, 1.5])
    assert m.bar_starts == (2,)
    assert not notation.parse("C4 w D4 w").typed_bars and notation.parse("C4 w D4 w").bar_starts == (1,)


@pytest.mark.parametrize("text", [*TUNES.values(), "C4 q", "2/4 r s C#5 w.. |", "a0 e C8 h"])
def test_notation_round_trips(text):
    m = notation.parse(text)
    again = notation.parse(m.to_notation())
    assert again.tokens == m.tokens
    assert again.bar_starts == m.bar_starts and again.meter == m.meter
    np.testing.assert_allclose(again.positions(), m.positions())


@pytest.mark.parametrize("name", list(TUNES))
def test_every_shipped_tune_parses_and_its_bars_are_full(name):
    m = notation.parse(TUNES[name])  # strict: any problem raises
    q, bars = m.quarters, [0, *m.bar_after]
    full = [q[a:b].sum() for a, b in itertools.pairwise(bars[1:])]  # after the first bar line
    assert full and set(full) == {m.meter.bar_quarters}, full
    assert 0 < q[: bars[1]].sum() <= m.meter.bar_quarters  # the first bar, or a pickup


@pytest.mark.parametrize(("text", "line", "column", "says"), [
    ("C4 q H4 q", 1, 6, "is not a pitch"),
    ("C4 q D4", 1, 6, "needs a duration"),
    ("C4 q\n  q E4 h", 2, 3, "no pitch or rest before it"),
    ("C4 q\nD4q E4 h", 2, 1, "needs a space between the pitch and the duration: D4 q"),
    ("C4 q x|y", 1, 6, "put spaces around |"),
    ("C4 q 3/4 D4 q", 1, 6, "goes before the first note"),
    ("C4 q D4 z", 1, 6, "needs a duration"),
])
def test_a_bad_word_is_named_with_its_line_and_column(text, line, column, says):
    with pytest.raises(notation.NotationError) as err:
        notation.parse(text)
    first = err.value.problems[0]
    assert (first.line, first.column) == (line, column)
    assert says in first.message
    assert f"line {line}, column {column}" in str(err.value)


def test_a_bad_note_is_one_problem_and_lenient_parsing_keeps_the_rest():
    with pytest.raises(notation.NotationError) as err:
        notation.parse("C4 q H4 q E4 h")
    assert len(err.value.problems) == 1  # its duration is not a second problem
    m = notation.parse("C4 q H4 q E4 h", strict=False)
    assert m.tokens == ["C4 q", "E4 h"] and len(m.problems) == 1


def test_many_problems_are_listed_up_to_a_limit_and_counted():
    err = notation.NotationError([notation.Problem(1, k, "x", "is bad") for k in range(1, 21)])
    assert str(err).count("\n") == notation.MAX_PROBLEMS
    assert str(err).endswith(f"and {20 - notation.MAX_PROBLEMS} more")


def test_max_notes_stops_reading():
    m = notation.parse("C4 q " * 1000 + " garbage", strict=False, max_notes=10)
    assert len(m) == 10 and not m.problems


def test_rhythm_properties_describe_the_melody_after_each_note():
    m = notation.parse("3/4 G4 q | C5 h E5 q | G5 q. A5 e B5 q |")
    props = rhythm.rhythm_properties(m)
    np.testing.assert_allclose(props[rhythm.BAR_POSITION], [0, 2, 0, 1.5, 2, 0])
    np.testing.assert_allclose(props["next note starts a bar"], [1, 0, 1, 0, 0, 1])
    np.testing.assert_allclose(props["next note on a beat"], [1, 1, 1, 0, 1, 1])
    assert set(props) == set(rhythm.RHYTHM_PROPERTIES)


# --------------------------------------------------------------------------- encoder


def test_the_encoder_round_trips_tokens_and_marks_unknown_ones():
    enc = melody.NoteEncoder(("C4 q", "D4 q", "r h", "E4 e."))
    tokens = ["E4 e.", "C4 q", "r h", "D4 q", "C4 q"]
    ids, unknown = enc.ids(tokens)
    assert enc.decode(ids) == tokens and not unknown.any()
    x, unknown = enc.encode("C4 q | C8 w D4 q", np.float32)
    assert x.shape == (3, 5) and x.dtype == np.float32
    assert unknown.tolist() == [False, True, False]
    np.testing.assert_array_equal(x.argmax(1), [0, enc.unknown_id, 1])
    assert enc.decode([enc.unknown_id]) == [notation.UNKNOWN_NOTE]


def test_the_encoder_refuses_a_vocabulary_that_is_not_notes():
    with pytest.raises(ValueError, match="repeated"):
        melody.NoteEncoder(("C4 q", "C4 q"))
    with pytest.raises(ValueError, match="not note tokens"):
        melody.NoteEncoder(("C4 q", "hello"))


# --------------------------------------------------------------------------- the model


@pytest.fixture(scope="module")
def model():
    return melody.MelodyModel.untrained("gru", 16, seed=3)


def test_sampling_is_reproducible_from_the_seed(model):
    a = model.continue_melody("C4 q D4 q E4 h", 20, temperature=1.0, seed=7)
    assert a == model.continue_melody("C4 q D4 q E4 h", 20, temperature=1.0, seed=7)
    assert a != model.continue_melody("C4 q D4 q E4 h", 20, temperature=1.0, seed=8)
    assert len(a) == 20 and notation.UNKNOWN_NOTE not in a
    assert all(tok in model.encoder.vocab for tok in a)


def test_temperature_towards_zero_is_greedy(model):
    greedy = model.continue_melody("C4 q D4 q E4 h", 12, temperature=0)
    # greedy by hand: the likeliest note after each step
    ids, _ = model.encoder.ids("C4 q D4 q E4 h")
    expected = []
    for _ in range(12):
        probs = model.read(model.encoder.decode(ids)).probs[-1, : model.encoder.unknown_id]
        ids = np.r_[ids, np.argmax(probs)]
        expected.append(model.encoder.tokens[ids[-1]])
    assert greedy == expected
    for seed in range(3):
        assert model.continue_melody("C4 q D4 q E4 h", 12, temperature=1e-4, seed=seed) == greedy
    assert model.continue_melody("C4 q D4 q E4 h", 12, temperature=1.0, seed=0) != greedy


def test_sampling_refuses_a_negative_temperature_and_an_empty_melody(model):
    with pytest.raises(ValueError, match="temperature"):
        model.continue_melody("C4 q", 3, temperature=-1)
    with pytest.raises(ValueError, match="at least one note"):
        model.continue_melody("", 3)


def test_a_melody_model_saves_and_reads_back(model):
    buf = io.BytesIO()
    cells.save_model(model, buf, dtype=np.float32)
    back = read_model(io.BytesIO(buf.getvalue()))
    assert isinstance(back, melody.MelodyModel) and back.mode == "notes"
    assert back.encoder.vocab == model.encoder.vocab
    tune = TUNES["Frère Jacques"]
    np.testing.assert_allclose(back.read(tune).probs, model.read(tune).probs, atol=1e-5)
    assert back.log_likelihood([tune]) == pytest.approx(model.log_likelihood([tune]), abs=1e-5)


def test_log_likelihood_scores_every_note_but_the_first(model):
    ids, _ = model.encoder.ids("C4 q D4 q E4 h F4 q")
    probs = model.read("C4 q D4 q E4 h F4 q").probs  # (4, V)
    expected = np.mean(np.log(probs[np.arange(3), ids[1:]]))
    assert model.log_likelihood(["C4 q D4 q E4 h F4 q"]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="at least 2 notes"):
        model.log_likelihood(["C4 q"])


def test_ngram_baselines_count_what_they_see():
    train = [[0, 1, 0, 1, 0, 1]]
    test = [[0, 1, 0]]
    bi = baselines.ngram_log_likelihood(train, test, 3, order=2, alpha=0.0 + 1e-9)
    assert bi == pytest.approx(0.0, abs=1e-6)  # 0 -> 1 -> 0 always
    uni = baselines.ngram_log_likelihood(train, test, 3, order=1, alpha=1e-9)
    assert uni == pytest.approx(np.log(0.5), abs=1e-6)


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn"])
def test_the_shipped_melody_models_load_and_record_their_figures(arch):
    m = cells.pretrained(f"{arch}-melody")
    assert isinstance(m, melody.MelodyModel) and m.cell.arch == arch
    meta = m.meta
    heldout, bigram = meta["heldout_loglik_per_note"], meta["bigram_loglik_per_note"]
    assert heldout > bigram > meta["unigram_loglik_per_note"]
    assert "scripts/train_melody.py" in meta["command"]
    assert meta["bar_unit"]["h"]["unit"] < m.cell.hidden_size
