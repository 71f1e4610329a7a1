"""cells.write: the shipped character models continue a text, sampled or greedy."""

from __future__ import annotations

import numpy as np
import pytest
from apptest import HOSTILE

import cells
from cells.core.readout import Readout
from cells.models.charmodel import CharModel


@pytest.fixture(scope="module", params=["lstm", "gru-code"])
def model(request):
    return cells.pretrained(request.param)


def entropy_bits(p: np.ndarray) -> np.ndarray:
    """Entropy in bits of each row of p (N, V)."""
    return -(p * np.log2(np.where(p > 0, p, 1.0))).sum(axis=1)


def test_the_same_seed_writes_the_same_text_and_another_seed_another(model):
    a = cells.write(model, "for i in ", 120, temperature=1.0, seed=3)
    b = cells.write(model, "for i in ", 120, temperature=1.0, seed=3)
    assert a.text == b.text and len(a.text) == 120
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.probs, b.probs)
    assert a.text != cells.write(model, "for i in ", 120, temperature=1.0, seed=4).text


def test_the_written_text_is_its_ids_and_the_traces_are_the_reading_of_the_whole(model):
    w = cells.write(model, "The (x", 60, temperature=0.9, seed=1)
    assert w.text == "".join(model.vocab[i] for i in w.ids)
    whole = model.read(w.prompt + w.text).trace  # read from scratch, in one go
    np.testing.assert_allclose(np.concatenate([w.prompt_trace.h, w.trace.h]), whole.h, atol=1e-12)
    for name in whole.gates:
        np.testing.assert_allclose(np.concatenate([w.prompt_trace.gates[name], w.trace.gates[name]]),
                                   whole.gates[name], atol=1e-12)
    # the distribution before each written character is the model's after the one before it
    probs = model.read(w.prompt + w.text).probs  # (P + N, V)
    np.testing.assert_allclose(w.probs, probs[len(w.prompt) - 1:-1], atol=1e-12)
    assert model.sample("The (x", 60, temperature=0.9, seed=1) == w.text


def test_temperature_zero_is_greedy_and_a_tiny_temperature_writes_the_same(model):
    greedy = cells.write(model, "def f(", 150, temperature=0, seed=0)
    unknown = model.unknown_id
    np.testing.assert_array_equal(greedy.ids, np.argmax(greedy.probs[:, :unknown], axis=1))
    assert (greedy.drawn.max(axis=1) == 1).all() and (greedy.drawn.sum(axis=1) == 1).all()
    assert greedy.text == cells.write(model, "def f(", 150, temperature=0, seed=99).text  # no randomness
    for seed in (0, 1, 2):
        assert cells.write(model, "def f(", 150, temperature=1e-3, seed=seed).text == greedy.text
    # and a usual temperature does not (else the test above could not fail)
    assert cells.write(model, "def f(", 150, temperature=1.0, seed=0).text != greedy.text


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_each_character_is_drawn_from_p_to_the_power_one_over_temperature(model, temperature):
    w = cells.write(model, "import ", 40, temperature=temperature, seed=0)
    unknown = model.unknown_id
    expected = w.probs[:, :unknown] ** (1 / temperature)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(w.drawn[:, :unknown], expected, rtol=1e-9, atol=1e-15)
    assert (w.drawn[:, unknown] == 0).all()


def test_the_first_character_is_drawn_as_often_as_its_probability():
    model = cells.pretrained("lstm")
    draws = [cells.write(model, "The c", 1, temperature=1.0, seed=s) for s in range(1500)]
    p = draws[0].drawn[0]  # (V,) the same distribution every time
    counts = np.bincount([int(d.ids[0]) for d in draws], minlength=p.size) / len(draws)
    likely = p > 0.05
    assert likely.sum() >= 2  # a real choice, not one certain character
    np.testing.assert_allclose(counts[likely], p[likely], atol=0.04)  # ~3.5 standard errors


def test_a_higher_temperature_draws_from_flatter_distributions_measured(model):
    """The mean entropy of the distributions drawn from grows with the temperature, and the
    characters written are more varied (their own empirical entropy grows too)."""
    mean_entropy, text_entropy = [], []
    for temperature in (0.3, 0.7, 1.0, 1.5):
        w = cells.write(model, "class ", 300, temperature=temperature, seed=0)
        mean_entropy.append(entropy_bits(w.drawn).mean())
        counts = np.bincount(w.ids) / len(w.ids)
        text_entropy.append(entropy_bits(counts[None, counts > 0])[0])
    assert np.all(np.diff(mean_entropy) > 0.1), mean_entropy
    assert text_entropy[-1] > text_entropy[0] + 0.3, text_entropy


def test_the_unknown_token_is_never_drawn_even_when_the_model_wants_it():
    m = cells.pretrained("lstm")
    bias = m.readout.bias.copy()
    bias[m.unknown_id] += 30.0  # the model now puts nearly all its probability on "unknown"
    keen = CharModel(m.cell, m.vocab, Readout(m.readout.weight, bias), m.meta)
    for temperature in (0, 1e-3, 1.0, 2.0):
        w = cells.write(keen, "The \x00\x01 ", 80, temperature=temperature, seed=5)
        assert w.probs[:, keen.unknown_id].min() > 0.99  # it wants the unknown token...
        assert (w.ids < keen.unknown_id).all()  # ...and never gets it
        assert cells.models.encoders.UNKNOWN_CHAR not in w.text


@pytest.mark.parametrize("name", list(HOSTILE))
def test_any_beginning_gets_a_writing(model, name):
    w = cells.write(model, HOSTILE[name][:2000], 30, temperature=0.8, seed=0)
    assert len(w.text) == 30 and set(w.text) <= set(model.vocab)
    assert w.prompt == (HOSTILE[name][:2000] or "\n")  # an empty beginning reads as a newline
    assert w.trace.h.shape == (30, model.cell.hidden_size)


def test_bad_arguments_and_models_that_cannot_write_are_refused():
    model = cells.pretrained("rnn")
    for temperature in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="temperature"):
            cells.write(model, "a", 3, temperature=temperature)
    with pytest.raises(ValueError, match="cannot write"):
        cells.write(model, "a", -1)
    assert cells.write(model, "a", 0).text == ""
    with pytest.raises(ValueError, match="character model"):
        cells.write(cells.pretrained("lstm-series"), "a", 3)
