"""cells.interpret: text properties on hand-built texts, and unit rankings on hand-built units."""

from __future__ import annotations

import numpy as np
import pytest

from cells.science import interpret


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


# --------------------------------------------------------------------------- code


def marks(text: str, signal: np.ndarray) -> str:
    """The characters of ``text`` where ``signal`` is 1, others as "."; for readable expectations."""
    return "".join(ch if v else "." for ch, v in zip(text, signal, strict=True))


def test_a_string_runs_from_its_opening_quote_to_before_its_closing_one():
    text = 'x = "a(b#" + \'c\' + ""'
    scan = interpret.scan_code(text)
    assert marks(text, scan.string) == '...."a(b#....\'c....".'
    assert scan.string.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0]
    assert scan.comment.sum() == 0  # the # is inside a string
    assert scan.depth.sum() == 0  # so is the (


def test_triple_quoted_strings_span_lines_and_only_three_quotes_close_them():
    text = 's = """a "b" \'\'c\nd"""\ny'
    scan = interpret.scan_code(text)
    assert marks(text, scan.string) == '...."""a "b" \'\'c\nd""...'
    start, end = text.index('"""'), text.rindex('"""') + 2  # the last quote closes: excluded
    assert scan.string.tolist() == [float(start <= t < end) for t in range(len(text))]


def test_escaped_quotes_do_not_close_a_string_and_a_newline_ends_an_unterminated_one():
    text = "a = 'it\\'s' + 'open\nb = (1"
    scan = interpret.scan_code(text)
    first = text.index("'")
    closing = text.index("s'") + 1  # the quote after "it\'s"
    assert scan.string[first:closing].all() and not scan.string[closing]
    newline = text.index("\n")
    assert scan.string[newline - 4:newline].all() and not scan.string[newline:].any()
    assert scan.depth[-2:].tolist() == [1, 1]  # the bracket on the next line is code again


def test_a_comment_runs_from_the_hash_to_the_end_of_its_line():
    text = "x = [1,  # one (\n2]  # done"
    scan = interpret.scan_code(text)
    assert marks(text, scan.comment) == ".........# one (.....# done"
    hash1, newline, hash2 = text.index("#"), text.index("\n"), text.rindex("#")
    expected = [float(hash1 <= t < newline or t >= hash2) for t in range(len(text))]
    assert scan.comment.tolist() == expected
    assert scan.depth[text.index("(")] == 1  # a bracket in a comment does not count
    assert scan.depth.tolist()[text.index("2")] == 1 and scan.depth[text.index("]")] == 0


def test_brackets_nest_in_code_and_a_stray_closer_stays_at_zero():
    text = "f(a[1], {2: (3)}) ) ("
    props = interpret.text_properties(text, "code")
    assert props["bracket depth"].tolist() == [0, 1, 1, 2, 2, 1, 1, 1, 2, 2, 2, 2, 3, 3, 2, 1, 0, 0, 0, 0, 1]
    assert props["inside brackets"].tolist() == [float(d > 0) for d in props["bracket depth"]]


def test_indentation_counts_leading_spaces_and_tabs_in_levels_of_four():
    text = "if x:\n    y = 1  \n\tz\n        w\n"
    indent = interpret.scan_code(text).indent
    lines = text.split("\n")[:-1]
    starts = np.cumsum([0] + [len(line) + 1 for line in lines[:-1]])
    # after the leading whitespace, the whole line has its indentation in levels
    assert [indent[s + len(line) - 1] for s, line in zip(starts, lines, strict=True)] == [0, 1, 1, 2]
    assert indent[starts[1]:starts[1] + 4].tolist() == [0.25, 0.5, 0.75, 1.0]  # while reading it
    assert indent[text.index("y = 1") + 6] == 1  # spaces after code are not indentation
    assert indent[text.index("z")] == 1  # a tab is four columns


@pytest.mark.parametrize("text", [
    "", "'", '"""', "'''unclosed\n\n", "\\", ")))(((", "# only", "x = '\\", "\t\t", "😀 'é' \u202e",
    'f"{x!r:>{w}}"', "def f(\n    a,", 'b"""x""" \'', "''''''x",
])
def test_the_scanner_never_fails_on_partial_code(text):
    props = interpret.text_properties(text, "code")
    assert set(props) == set(interpret.CODE_PROPERTIES)
    for name, signal in props.items():
        assert signal.shape == (len(text),) and np.all(np.isfinite(signal)), name
        np.testing.assert_array_equal(interpret.CODE_PROPERTIES[name][1](text), signal)


def test_six_quotes_are_an_empty_triple_quoted_string():
    text = "''''''x"
    assert interpret.scan_code(text).string.tolist() == [1, 1, 1, 1, 1, 0, 0]
