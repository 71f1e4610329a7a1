"""Select and match (``cells.select_units``, ``cells.match_spans``) on planted states: the right
units selected (the padding rule, spans at the edges, nothing selected), the planted runs found
and ranked as LSTMVis ranks them (each tie-breaker deciding one case), against a brute-force
ranking on random states, and the helpers the Match page and docs/match.md use."""

from __future__ import annotations

import numpy as np
import pytest

import cells
from cells.science import match

ON, OFF = 0.8, -0.5


def planted(T: int, H: int, on: dict[int, list[tuple[int, int]]]) -> np.ndarray:
    """(T, H) states OFF everywhere but ON over the given [start, end) runs of each unit."""
    states = np.full((T, H), OFF)
    for unit, spans in on.items():
        for start, end in spans:
            states[start:end, unit] = ON
    return states


# --------------------------------------------------------------------------- select


def test_the_units_on_over_the_span_and_off_just_before_it_are_selected():
    states = planted(12, 6, {
        0: [(4, 8)],          # on over the span, off at step 3: selected
        1: [(3, 8)],          # on at step 3, the padding before: not selected
        2: [(4, 7)],          # off at step 7, inside the span: not selected
        3: [(4, 9)],          # on after the span too: selected (no padding after by default)
        5: [(0, 12)],         # on everywhere, so on at step 3: not selected
    })
    assert cells.select_units(states, 4, 8).tolist() == [0, 3]
    assert cells.select_units(states, 4, 8, pad=(0, 0)).tolist() == [0, 1, 3, 5]
    assert cells.select_units(states, 4, 8, pad=(1, 1)).tolist() == [0]  # unit 3 is on at step 8
    assert cells.select_units(states, 4, 8, pad=(2, 0)).tolist() == [0, 3]


def test_a_span_at_the_start_or_the_end_needs_only_the_padding_that_exists():
    states = planted(10, 3, {0: [(0, 3)], 1: [(7, 10)], 2: [(0, 10)]})
    assert cells.select_units(states, 0, 3, pad=(1, 0)).tolist() == [0, 2]  # no step before 0
    assert cells.select_units(states, 0, 3, pad=(5, 1)).tolist() == [0]  # step 3: 0 off, 2 on
    assert cells.select_units(states, 7, 10, pad=(1, 3)).tolist() == [1]  # no step after 9
    assert cells.select_units(states, 0, 10, pad=(1, 1)).tolist() == [2]  # the whole sequence


def test_the_threshold_is_inclusive_and_a_nan_is_neither_on_nor_off():
    states = np.array([[0.0, 0.1, 0.0],
                       [0.3, 0.3, np.nan],
                       [0.3, 0.5, 0.9]])
    assert cells.select_units(states, 1, 3, threshold=0.3).tolist() == [0, 1]
    assert cells.select_units(states, 1, 3, threshold=0.31).tolist() == []
    assert cells.select_units(states, 2, 3, threshold=0.4).tolist() == [1]  # 2: NaN before, not off
    assert cells.select_units(states, 2, 3, threshold=0.4, pad=(0, 0)).tolist() == [1, 2]


def test_nothing_selected_is_an_empty_list_of_indices():
    units = cells.select_units(planted(5, 4, {}), 1, 3)
    assert units.tolist() == [] and units.dtype.kind == "i"


@pytest.mark.parametrize("start, end", [(3, 3), (4, 2), (-1, 2), (0, 6)])
def test_a_span_without_steps_is_refused(start, end):
    with pytest.raises(ValueError, match="span"):
        cells.select_units(planted(5, 2, {}), start, end)


# --------------------------------------------------------------------------- match


def found(matches: list[cells.Match]) -> list[tuple[int, int, int, int]]:
    return [(m.start, m.end, m.on, m.others) for m in matches]


def test_runs_where_all_the_units_are_on_come_before_runs_where_fewer_are():
    states = planted(40, 3, {
        0: [(2, 4), (10, 20), (30, 36)],
        1: [(2, 4), (10, 20), (30, 33)],
        2: [(2, 4), (33, 36)],
    })
    # [2, 4): all 3 on, short; [10, 20): units 0 and 1, longer; [30, 36): two units on at every
    # step, but only unit 0 throughout (1 until 33, 2 from 33)
    assert found(cells.match_spans(states, [0, 1, 2])) == [(2, 4, 3, 0), (10, 20, 2, 0), (30, 36, 1, 0)]


def test_among_runs_with_as_many_units_on_fewer_other_units_come_first():
    states = planted(40, 5, {
        0: [(5, 10), (20, 25), (30, 35)],
        1: [(5, 10), (20, 25), (30, 35)],
        2: [(5, 10), (30, 35), (21, 24)],  # on throughout [5, 10) and [30, 35); not all of [20, 25)
        3: [(30, 35)],
    })
    assert found(cells.match_spans(states, [0, 1])) == [(20, 25, 2, 0), (5, 10, 2, 1), (30, 35, 2, 2)]


def test_among_runs_with_as_many_units_and_others_on_the_longer_come_first_then_the_earlier():
    states = planted(40, 2, {0: [(0, 3), (10, 17), (20, 24), (30, 34)]})
    assert found(cells.match_spans(states, [0])) == [
        (10, 17, 1, 0), (20, 24, 1, 0), (30, 34, 1, 0), (0, 3, 1, 0)]


def test_each_rule_outranks_the_next():
    states = planted(60, 4, {
        0: [(0, 3), (10, 30), (35, 37), (40, 50)],
        1: [(0, 3), (10, 30), (35, 37)],
        2: [(0, 3), (10, 30)],  # another unit on throughout [0, 3) and [10, 30)
        3: [(0, 3)],            # and one more on throughout [0, 3)
    })
    # fewer other units on beats longer ([35, 37) before [10, 30)); more selected units on beats
    # fewer others ([0, 3) before [40, 50))
    assert found(cells.match_spans(states, [0, 1])) == [
        (35, 37, 2, 0), (10, 30, 2, 1), (0, 3, 2, 2), (40, 50, 1, 0)]


def test_a_run_inside_a_longer_run_of_fewer_units_is_a_match_of_its_own():
    states = planted(12, 3, {0: [(0, 10)], 1: [(3, 6)], 2: [(5, 8)]})
    assert found(cells.match_spans(states, [0, 1])) == [(3, 6, 2, 0), (0, 10, 1, 0)]


def test_runs_shorter_than_the_minimum_length_are_left_out():
    states = planted(20, 1, {0: [(2, 3), (6, 8), (12, 15)]})
    assert found(cells.match_spans(states, [0])) == [(12, 15, 1, 0), (6, 8, 1, 0)]
    assert found(cells.match_spans(states, [0], min_length=1)) == [
        (12, 15, 1, 0), (6, 8, 1, 0), (2, 3, 1, 0)]
    assert found(cells.match_spans(states, [0], min_length=3)) == [(12, 15, 1, 0)]


def test_the_top_matches_only_and_none_without_units():
    states = planted(30, 2, {0: [(0, 4), (10, 13), (20, 22)]})
    assert found(cells.match_spans(states, [0], top=2)) == [(0, 4, 1, 0), (10, 13, 1, 0)]
    assert cells.match_spans(states, [0], top=0) == []
    assert cells.match_spans(states, []) == []
    assert cells.match_spans(planted(30, 2, {}), [0]) == []  # never on
    with pytest.raises(ValueError, match="units"):
        cells.match_spans(states, [2])


def test_float16_column_major_states_give_the_same_matches_as_float64():
    rng = np.random.default_rng(0)
    states = rng.uniform(-1, 1, (500, 16)) + 0.6 * (rng.random((500, 16)) < 0.3)
    half = np.asfortranarray(states.astype(np.float16))
    expected = found(cells.match_spans(half.astype(np.float64), [1, 4, 7], top=20))
    assert found(cells.match_spans(half, [1, 4, 7], top=20)) == expected
    assert len(expected) == 20


def lstmvis_ranking(states: np.ndarray, units: list[int], threshold: float, top: int, min_length: int
                    ) -> list[tuple[int, int, int, int]]:
    """LSTMVis's query written out step by step: every maximal run of "at least j selected
    units on" for every j, each checked unit by unit, all sorted."""
    T = states.shape[0]
    on = states >= threshold
    count = on[:, units].sum(axis=1)
    candidates = set()
    for j in range(1, len(units) + 1):
        t = 0
        while t < T:
            if count[t] >= j:
                start = t
                while t < T and count[t] >= j:
                    t += 1
                if t - start >= min_length:
                    candidates.add((start, t))
            else:
                t += 1
    scored = []
    for start, end in candidates:
        throughout = on[start:end].all(axis=0)
        selected = int(throughout[units].sum())
        scored.append((-selected, int(throughout.sum()) - selected, start - end, start, end))
    return [(start, end, -minus_on, others) for minus_on, others, _, start, end in sorted(scored)[:top]]


@pytest.mark.parametrize("seed", range(40))
def test_the_ranking_is_lstmvis_on_random_states(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    T, H = int(rng.integers(1, 300)), int(rng.integers(1, 10))
    states = rng.uniform(-1, 1, (T, H)) + 0.8 * (rng.random((T, H)) < 0.4)
    units = sorted(rng.choice(H, int(rng.integers(1, H + 1)), replace=False).tolist())
    top, min_length = int(rng.integers(1, 12)), int(rng.integers(1, 4))
    monkeypatch.setattr(match, "CHECK_CHUNK", int(rng.integers(1, 50)))  # pairs read in many chunks
    expected = lstmvis_ranking(states, units, 0.3, top, min_length)
    assert found(cells.match_spans(states, units, 0.3, top, min_length)) == expected
    assert found(cells.match_spans(states.astype(np.float16).astype(np.float64), units, 0.3, top,
                                   min_length)) == found(cells.match_spans(states.astype(np.float16), units,
                                                                          0.3, top, min_length))


def test_the_float16_threshold_test_is_exact_for_every_float16():
    every = np.arange(2**16, dtype=np.uint16).view(np.float16)  # all of them, NaNs and infinities
    wide = every.astype(np.float64)
    for threshold in (0.3, 0.0, -0.0, -0.3, 1e-8, -1e-8, 65504.0, np.inf, -np.inf, 0.2998046875, 7.1):
        assert np.array_equal(match.at_least(every, threshold), wide >= threshold), threshold
        assert np.array_equal(match.below(every, threshold), wide < threshold), threshold
    assert not match.at_least(every, np.nan).any()


def test_the_lengths_of_every_run_where_all_the_units_are_on():
    states = planted(30, 3, {0: [(0, 10), (20, 25)], 1: [(2, 4), (6, 10), (20, 21), (23, 25)]})
    assert match.full_run_lengths(states, [0, 1]).tolist() == [2, 4, 2]
    assert match.full_run_lengths(states, [0, 1], min_length=3).tolist() == [4]


# --------------------------------------------------------------------------- hints


def test_when_nothing_is_selected_the_nearest_threshold_that_selects_is_found():
    states = np.full((10, 3), -0.2)
    states[3:7, 0] = [0.25, 0.27, 0.26, 0.29]  # on over [3, 7) at any threshold in (-0.2, 0.25]
    states[3:7, 1] = 0.9
    states[2, 1] = 0.95  # unit 1 is above all its span's values just before: never selectable
    assert cells.select_units(states, 3, 7).tolist() == []
    hint = match.selection_hint(states, 3, 7, threshold=0.3)
    assert hint.threshold == 0.25 and hint.threshold_units.tolist() == [0]
    assert match.selection_hint(states, 3, 7, threshold=-0.5).threshold == -0.19  # just above -0.2
    assert match.selection_hint(states, 3, 7, threshold=-0.5, lowest=0.0).threshold == 0.0
    assert match.selection_hint(states, 3, 7, threshold=0.3, highest=0.2).threshold == 0.2
    assert match.selection_hint(np.full((4, 2), 0.5), 1, 3, threshold=0.3).threshold is None  # pad on


def test_when_nothing_is_selected_the_longest_part_of_the_span_that_selects_is_found():
    states = planted(20, 3, {0: [(5, 8)], 1: [(9, 15)], 2: [(0, 20)]})
    hint = match.selection_hint(states, 4, 13)  # nothing is on over all of [4, 13)
    assert hint.span == (9, 13) and hint.span_units.tolist() == [1]  # without padding after
    assert match.selection_hint(states, 4, 13, pad=(1, 1)).span == (5, 8)  # 1 is on at step 13
    assert match.selection_hint(states, 4, 13, pad=(1, 1)).span_units.tolist() == [0]


def test_the_span_that_selects_a_unit_where_it_is_on_longest_and_strongest():
    states = planted(30, 2, {0: [(2, 5), (10, 14), (20, 24)], 1: [(0, 30)]})
    states[20:24, 0] = 0.9  # as long as [10, 14), stronger
    assert match.strongest_span(states, 0) == (20, 24)
    assert 0 in cells.select_units(states, 20, 24)
    assert match.strongest_span(states, 1) == (0, 30)
    assert match.strongest_span(planted(5, 1, {}), 0) is None


# --------------------------------------------------------------------------- what the matches tell


def test_the_share_of_spans_inside_a_property():
    inside = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 1], dtype=bool)
    spans = [(1, 4), (2, 3), (3, 5), (6, 8), (8, 10)]  # inside, inside, crosses out, inside, starts out
    assert match.share_inside(spans, inside) == 3 / 5
    assert np.isnan(match.share_inside([], inside))


def test_random_spans_fall_where_allowed_and_chance_is_their_expected_share():
    allowed = np.array([1, 1, 1, 0, 1, 1, 1, 1, 0, 1], dtype=bool)  # 0: between two documents
    inside = np.array([0, 1, 1, 0, 1, 1, 0, 0, 0, 1], dtype=bool)
    spans = match.random_spans([2, 3, 1, 4], allowed, seed=3)
    assert [e - s for s, e in spans] == [2, 3, 1, 4]
    assert all(allowed[s:e].all() for s, e in spans)
    assert spans == match.random_spans([2, 3, 1, 4], allowed, seed=3)  # seeded
    # length 2: 5 allowed places, [0,2) [1,3) [4,6) [5,7) [6,8); 2 of them inside: [1,3), [4,6)
    assert match.chance_inside([2], inside, allowed) == pytest.approx(2 / 5)
    assert match.chance_inside([2, 1], inside, allowed) == pytest.approx((2 / 5 + 5 / 8) / 2)
    draws = [match.share_inside(match.random_spans([2] * 50, allowed, seed=s), inside) for s in range(200)]
    assert np.mean(draws) == pytest.approx(2 / 5, abs=0.02)
    with pytest.raises(ValueError, match="no span"):
        match.random_spans([5], allowed)


# --------------------------------------------------------------------------- a corpus's states


def stacked_reader(arch: str) -> cells.Reader:
    """A two-layer random stack over characters."""
    encoder = cells.CharEncoder("abcdefgh \n")
    params = {}
    for k in range(2):
        layer = cells.init_params(arch, encoder.input_size if k == 0 else 6, 6, seed=k)
        params.update({name.replace("_l0", f"_l{k}"): a for name, a in layer.items()})
    return cells.Reader(cells.make_cell(arch, params), encoder)


@pytest.mark.parametrize("arch, state", [("lstm", "c"), ("gru", "h")])
def test_many_sequences_read_in_batches_and_chunks_are_each_read_from_a_zero_state(arch, state):
    from cells.models.batch import read_many

    reader = stacked_reader(arch)
    texts = ["abc", "", "hhhhhhhhhhhhhhhhgggg fff\nbbb", "a", "cab bad", "ggggggggg"]
    many = read_many(reader, texts, layers=(0, 1), state=state, batch=2, chunk=4)
    assert many.states.dtype == np.float16 and many.states.flags.f_contiguous
    assert many.lengths.tolist() == [3, 0, 28, 1, 7, 9]
    assert many.states.shape == (sum(many.lengths) + len(texts), 12)
    for text, start, length in zip(texts, many.starts, many.lengths, strict=True):
        separator = many.states[start + length]
        assert np.isnan(separator).all()
        if length:
            layers = reader.read(text).trace.layers
            expected = np.concatenate([getattr(layer, state) for layer in layers], axis=1)
            # float16 keeps 11 significant bits: within one unit in its last place, and tiny states
            # within float32's error (the corpus is read in float32)
            np.testing.assert_allclose(many.states[start:start + length], expected, rtol=2**-10, atol=1e-5)
