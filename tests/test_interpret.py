"""cells.interpret: text properties on hand-built texts, and unit rankings on hand-built units."""

from __future__ import annotations

import numpy as np
import pytest

from cells import interpret


def test_inside_quotes_starts_at_the_opening_quote_and_ends_before_the_closing_one():
    np.testing.assert_array_equal(interpret.inside_quotes('a"bc"d"e'), [0, 1, 1, 1, 0, 0, 1, 1])


def test_bracket_depth_nests_and_a_stray_closer_does_not_go_below_zero():
    text = "a(b[c]d)e)(f"
    np.testing.assert_array_equal(interpret.bracket_depth(text), [0, 1, 1, 2, 2, 1, 1, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(interpret.inside_brackets(text), [0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1])


def test_word_position_counts_letters_digits_and_apostrophes():
    np.testing.assert_array_equal(interpret.word_position("it's ok, 42"),
                                  [1, 2, 3, 4, 0, 1, 2, 0, 0, 1, 2])


def test_line_position_restarts_after_each_newline():
    np.testing.assert_array_equal(interpret.line_position("ab\ncd\n\ne"), [0, 1, 2, 0, 1, 2, 0, 0])


def test_after_space_looks_at_the_previous_character():
    np.testing.assert_array_equal(interpret.after_space("a b  c"), [0, 0, 1, 0, 1, 1])
    np.testing.assert_array_equal(interpret.after_space(" "), [0])


def test_character_classes():
    props = interpret.text_properties('Hi, "you"!')
    np.testing.assert_array_equal(props["is a vowel"], [0, 1, 0, 0, 0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(props["is upper case"], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(props["is a space"], [0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(props["is punctuation"], [0, 0, 1, 0, 1, 0, 0, 0, 1, 1])


@pytest.mark.parametrize("text", ["", "x", "😀 e\u0301 שלום\x00\u202e", "<b>&amp;</b>\n\t" * 50])
def test_every_property_has_one_finite_value_per_character(text):
    props = interpret.text_properties(text)
    assert list(props) == list(interpret.PROPERTIES)
    for name, signal in props.items():
        assert signal.shape == (len(text),), name
        assert np.all(np.isfinite(signal)), name


def test_a_unit_equal_to_the_in_quote_indicator_ranks_first_with_correlation_one():
    text = 'She said "stop it" and left (quietly). "Fine," he said.'
    props = interpret.text_properties(text)
    rng = np.random.default_rng(0)
    states = rng.normal(size=(len(text), 20))           # (T, H) noise units
    states[:, 7] = props["inside quotes"]               # unit 7 is the quote detector
    states[:, 3] = -2.0 * props["inside brackets"] + 5  # unit 3: an inverted, scaled bracket unit
    best = interpret.best_units(states, props, k=3)
    assert best["inside quotes"][0].unit == 7
    assert best["inside quotes"][0].r == pytest.approx(1.0)
    assert best["inside quotes"][0].prop == "inside quotes"
    assert best["inside brackets"][0].unit == 3
    assert best["inside brackets"][0].r == pytest.approx(-1.0)
    for scores in best.values():  # ranked by |r|, best first
        assert [abs(s.r) for s in scores] == sorted((abs(s.r) for s in scores), reverse=True)


def test_correlations_match_numpy_corrcoef():
    rng = np.random.default_rng(1)
    states = rng.normal(size=(50, 6)) * rng.uniform(0.01, 100, size=6) + rng.normal(size=6)
    signals = rng.integers(0, 4, size=(3, 50)).astype(float)
    r = interpret.correlations(states, signals)  # (P, H)
    expected = np.corrcoef(signals, states.T)[:3, 3:]
    np.testing.assert_allclose(r, expected, atol=1e-12)


def test_constant_units_and_constant_properties_have_no_correlation():
    states = np.column_stack([np.full(6, 0.3), np.arange(6.0)])  # unit 0 never moves
    signals = np.array([np.ones(6), [0, 1, 0, 1, 0, 1.0]])      # property 0 never changes
    r = interpret.correlations(states, signals)
    assert np.isnan(r[0]).all() and np.isnan(r[:, 0]).all()
    assert np.isfinite(r[1, 1])
    best = interpret.best_units(states, {"flat": signals[0], "alternating": signals[1]})
    assert best["flat"] == []
    assert [s.unit for s in best["alternating"]] == [1]


def test_a_text_without_quotes_gives_no_quote_unit():
    text = "no quotes here"
    best = interpret.best_units(np.random.default_rng(2).normal(size=(len(text), 4)),
                                interpret.text_properties(text))
    assert best["inside quotes"] == []
    assert len(best["position in word"]) == 3


def test_one_character_ranks_nothing_and_mismatched_lengths_raise():
    assert all(v == [] for v in interpret.best_units(np.ones((1, 3)),
                                                     interpret.text_properties("a")).values())
    with pytest.raises(ValueError, match="steps"):
        interpret.correlations(np.zeros((4, 2)), np.zeros((1, 5)))


def test_a_property_that_is_the_step_number_ranks_no_unit():
    text = "one line, no newline"
    props = interpret.text_properties(text)
    assert interpret.why_unranked(props["position in line"]) == "the step number itself in this text"
    assert interpret.why_unranked(props["inside quotes"]) == "constant in this text"
    assert interpret.why_unranked(props["position in word"]) is None
    drifting = np.arange(len(text), dtype=float)[:, None] * np.ones((1, 3))  # (T, 3) pure drift
    best = interpret.best_units(drifting, props)
    assert best["position in line"] == [] and best["inside quotes"] == []
    two_lines = interpret.text_properties("ab\ncd")  # columns 0 1 2 0 1: not the step number
    assert interpret.best_units(drifting[:5], two_lines)["position in line"]


def test_strongest_unit_prefers_a_structural_property_it_tracks_well():
    text = 'a "quoted bit" and more "another quote" end'
    quotes = interpret.inside_quotes(text)
    states = np.stack([
        interpret.PROPERTIES["is a space"][1](text),  # unit 0: a perfect "is a space" detector
        quotes + 0.3 * np.sin(np.arange(len(text))),  # unit 1: tracks quotes, noisily
        np.cos(np.arange(len(text))),                 # unit 2: noise
    ], axis=1)
    score = interpret.strongest_unit(states, text)
    assert (score.prop, score.unit) == ("inside quotes", 1)
    assert 0.5 <= score.r < 1.0
    # with no structural property tracked well enough, the overall best
    weak = states.copy()
    weak[:, 1] = np.cos(0.5 * np.arange(len(text)))
    assert interpret.strongest_unit(weak, text).prop == "is a space"
    assert interpret.strongest_unit(states[:1, :], text[:1]) is None  # nothing varies
