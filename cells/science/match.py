"""Select and match: the units that switch on over a span, and everywhere else they do.

LSTMVis (Strobelt, Gehrmann, Pfister & Rush 2017, "LSTMVis: A Tool for Visual Analysis of Hidden
State Dynamics in Recurrent Neural Networks") is built around one interaction: form a hypothesis
on a span of text, then test it on a corpus. With states a (T, H) (one row per step, one column per
unit) and a threshold θ, unit u is *on* at step t when a_tu >= θ, *off* when a_tu < θ (a NaN is
neither):

* **Select** (:func:`select_units`): the units on at every step of the span [start, end) and off on
  the ``pad[0]`` steps before it and the ``pad[1]`` steps after it (those that exist). LSTMVis's
  defaults: θ = 0.3, one step of padding before, none after.
* **Match** (:func:`match_spans`): over a corpus, n_t = how many of the k selected units are on at
  step t. The candidates are the maximal runs of n_t >= j for j = k, k-1, ..., 1, at least
  ``min_length`` steps long. Each is scored by how many selected units are on at every one of its
  steps (more first), how many other units are on at every one of its steps too (fewer first: a
  cleaner match), then its length (longer first); ties go to the earlier run. LSTMVis ranks its
  candidates the same way (its ``query_similar_activations``); its "fast" mode searches only the
  first 500,000 steps, this one searches them all.

The ranking needs the other units only for the candidates that can reach the top, so a query costs
about one threshold test over the selected units' columns (k T comparisons) plus one over all units
at the steps of those candidates, never a pass over every unit at every step. States stored
column-major (each unit's series contiguous: ``np.asfortranarray``) make the selected columns cheap
to read; float16 states (a corpus of a million steps of 128 units is 256 MB) are compared through
their bit patterns (:func:`at_least`), exactly, without converting each element.

:func:`selection_hint` says what would select something when a span selects nothing;
:func:`strongest_span` finds the span that selects a given unit; :func:`share_inside` and
:func:`random_spans` measure what the matches tell (docs/match.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

THRESHOLD = 0.3
"""LSTMVis's default threshold: a unit is on at a step when its state there is at least this."""

PAD = (1, 0)
"""LSTMVis's default padding: a selected unit is off on 1 step before the span and 0 after it."""

TOP = 50
"""How many matches LSTMVis shows."""

MIN_LENGTH = 2
"""The shortest run LSTMVis counts as a match."""

F16_CHUNK = 1 << 16
"""float16 states :func:`at_least` compares at a time (a few temporaries of this size stay in the
CPU's cache)."""

_F16_POS_INF_KEY = 0x7C00
"""The order key (:func:`_order_keys`) of float16 +inf: a larger key is a NaN."""


def _order_keys(values: np.ndarray) -> np.ndarray:
    """Integers that sort as float16 ``values`` do: the bits of a non-negative float16 already
    do (as int16); a negative one's magnitude bits are flipped so that larger magnitudes sort
    lower. -0.0 gets -1, just below +0.0's 0; NaNs sort above +inf (positive) or below -inf."""
    bits = values.view(np.int16)
    return bits ^ ((bits >> 15) & np.int16(0x7FFF))


def _float16_at_least(threshold: float) -> np.float16:
    """The smallest float16 b with b >= ``threshold``: for a float16 x, x >= threshold ⇔ x >= b."""
    bound = np.float16(threshold)
    if np.isnan(bound) or float(bound) >= threshold:
        return bound
    return np.nextafter(bound, np.float16(np.inf))


def at_least(values: np.ndarray, threshold: float) -> np.ndarray:
    """``values >= threshold`` (a bool array of the same shape), NaN never on.

    The threshold test. float16 values are compared exactly through order keys of their bits (an
    int16 comparison): NumPy compares float16 by converting every element, many times slower.
    """
    values = np.asarray(values)
    if values.dtype != np.float16:
        return values >= threshold
    bound = _float16_at_least(threshold)
    if np.isnan(bound):  # a NaN threshold: nothing is at least it
        return np.zeros(values.shape, dtype=bool)
    lowest = -1 if bound == 0 else int(_order_keys(np.asarray(bound)))  # -0.0 counts as 0
    values = values if values.flags.forc else np.ascontiguousarray(values)
    out = np.empty(values.shape, dtype=bool, order="F" if values.flags.f_contiguous else "C")
    flat_values, flat_out = values.ravel(order="K"), out.ravel(order="K")  # views, in memory order
    for first in range(0, flat_values.size, F16_CHUNK):  # chunks that stay in the CPU's cache
        keys = _order_keys(flat_values[first:first + F16_CHUNK])
        flat_out[first:first + F16_CHUNK] = (keys >= lowest) & (keys <= _F16_POS_INF_KEY)
    return out


def below(values: np.ndarray, threshold: float) -> np.ndarray:
    """``values < threshold``: off. NaN is never off (nor on)."""
    values = np.asarray(values)
    return ~at_least(values, threshold) & ~np.isnan(values)


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The maximal runs of True in a (T,) bool ``mask``: their starts (R,) and ends (R,), end
    exclusive, in order."""
    edges = np.diff(np.asarray(mask, dtype=np.int8), prepend=0, append=0)  # (T + 1,) +1 in, -1 out
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _check_span(T: int, start: int, end: int, pad: tuple[int, int]) -> None:
    if not 0 <= start < end <= T:
        raise ValueError(f"the span [{start}, {end}) must hold at least one of the {T} steps")
    if len(pad) != 2 or min(pad) < 0:
        raise ValueError(f"pad must be two step counts >= 0, got {pad}")


def select_units(states: np.ndarray, start: int, end: int, threshold: float = THRESHOLD,
                 pad: tuple[int, int] = PAD) -> np.ndarray:
    """The units (sorted indices) of ``states`` (T, H) on at every step of [start, end) and off
    on the ``pad[0]`` steps before ``start`` and the ``pad[1]`` steps from ``end`` that exist
    (a span at the start of the sequence has no steps before it to be off on)."""
    states = np.asarray(states)
    _check_span(states.shape[0], start, end, pad)
    on_span = at_least(states[start:end], threshold).all(axis=0)  # (H,)
    off_before = below(states[max(start - pad[0], 0):start], threshold).all(axis=0)
    off_after = below(states[end:end + pad[1]], threshold).all(axis=0)
    return np.flatnonzero(on_span & off_before & off_after)


@dataclass(frozen=True)
class Match:
    """A run of steps [start, end) where selected units are on.

    ``on``: how many selected units are on at every step of it; ``others``: how many of the other
    units are on at every step of it too. Matches are ranked by ``on`` (more first), ``others``
    (fewer first), then ``length`` (longer first).
    """

    start: int
    end: int
    on: int
    others: int

    @property
    def length(self) -> int:
        return self.end - self.start


def _on_throughout(off_steps: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(R,) 1 for each run [start, end) that a unit is on at every step of: none of its off
    steps (sorted: ``off_steps``) lies in the run."""
    if len(off_steps) == 0:
        return np.ones(len(starts), dtype=np.int32)
    first = np.searchsorted(off_steps, starts)  # the unit's first off step at or after the start
    next_off = off_steps[np.minimum(first, len(off_steps) - 1)]
    return ((first == len(off_steps)) | (next_off >= ends)).astype(np.int32)


def _candidates(count: np.ndarray, k: int, on: np.ndarray, top: int, min_length: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The runs that can reach the top ``top``: (starts, ends, selected units on throughout).

    Level j's runs are the maximal runs of count >= j; a run whose every step has count > j is a
    run of a higher level already, so level j adds the runs that reach down to j. A run of level j
    has at most j selected units on throughout, so once ``top`` runs have more than j, no run of
    level j or below can rank among them and the search stops.
    """
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    off_steps: dict[int, np.ndarray] = {}  # selected column -> its off steps, found when needed
    present = np.flatnonzero(np.bincount(count, minlength=k + 1))  # the counts that occur
    for j in present[present > 0][::-1]:
        if sum(int((c > j).sum()) for _, _, c in found) >= top:
            break
        starts, ends = runs(count >= j)
        keep = ends - starts >= min_length
        if j == k:  # count == k everywhere in them: every selected unit is on throughout
            starts, ends = starts[keep], ends[keep]
            on_run = np.full(len(starts), k, dtype=np.int32)
        else:
            at_j = np.concatenate([[0], np.cumsum(count == j, dtype=np.int32)])  # (T + 1,) count == j so far
            keep &= at_j[ends] > at_j[starts]
            starts, ends = starts[keep], ends[keep]
            on_run = np.zeros(len(starts), dtype=np.int32)
            for column in range(k):
                if column not in off_steps:
                    off_steps[column] = np.flatnonzero(~on[:, column])
                on_run += _on_throughout(off_steps[column], starts, ends)
        found.append((starts, ends, on_run))
    if not found:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, empty.astype(np.int32)
    starts, ends, on_run = (np.concatenate(parts) for parts in zip(*found, strict=True))
    return starts, ends, on_run


CHECK_CHUNK = 1 << 22
"""Most (step, unit) states :func:`_others_on` gathers at once (8 MB of float16)."""

PROBES = (1.0, 0.5, 0.25, 0.75)
"""Where in a run (a fraction of the way from its first step to its last) :func:`_others_on`
looks before it reads every step: a unit off at any of them is not on throughout."""


def _others_on(states: np.ndarray, units: np.ndarray, threshold: float, starts: np.ndarray,
               ends: np.ndarray) -> np.ndarray:
    """(R,) how many units not in ``units`` are on at every step of each run [start, end).

    A unit is on throughout a run only if it is on at the run's first step: one read per run and
    unit, column by column (contiguous in column-major states), leaves the (run, unit) pairs that
    can be; a few more steps of each run (:data:`PROBES`) leave fewer; the rest are read step by
    step, in chunks of at most :data:`CHECK_CHUNK` states."""
    R, H = len(starts), states.shape[1]
    lengths = ends - starts  # (R,)
    rest = np.setdiff1d(np.arange(H), units)  # (U,) the other units
    first_on = np.zeros((len(rest), R), dtype=bool)  # (U, R)
    for row, u in enumerate(rest):
        first_on[row] = at_least(states[starts, u], threshold)
    column, run = np.nonzero(first_on)  # (P,) pairs on at their run's first step, unit by unit
    unit = rest[column]
    for fraction in PROBES:
        step = starts[run] + ((lengths[run] - 1) * fraction).astype(np.intp)
        keep = at_least(states[step, unit], threshold)
        run, unit = run[keep], unit[keep]
    on_throughout = np.zeros(len(run), dtype=bool)
    bounds = np.concatenate([[0], np.cumsum(lengths[run])])  # (P + 1,) where each pair's steps begin
    first = 0
    while first < len(run):  # a chunk of whole pairs, at most CHECK_CHUNK states (or one pair)
        last = max(int(np.searchsorted(bounds, bounds[first] + CHECK_CHUNK, side="right")) - 1, first + 1)
        offsets = bounds[first:last + 1] - bounds[first]  # (p + 1,)
        pair = np.repeat(np.arange(first, last), lengths[run[first:last]])  # (n,) each state's pair
        step = starts[run[pair]] + np.arange(offsets[-1]) - offsets[pair - first]
        off = np.concatenate([[0], np.cumsum(~at_least(states[step, unit[pair]], threshold))])
        on_throughout[first:last] = off[offsets[1:]] == off[offsets[:-1]]
        first = last
    return np.bincount(run[on_throughout], minlength=R).astype(np.int32)


def match_spans(states: np.ndarray, units: Sequence[int] | np.ndarray, threshold: float = THRESHOLD,
                top: int = TOP, min_length: int = MIN_LENGTH) -> list[Match]:
    """The ``top`` runs of ``states`` (T, H) where the selected ``units`` are on, best first
    (see the module's docstring): all k on before k - 1, then fewer other units on throughout,
    then longer, then earlier. A run is at least ``min_length`` steps long. No units: no match.
    """
    states = np.asarray(states)
    T, H = states.shape
    units = np.unique(np.asarray(units, dtype=np.intp))
    if len(units) and not (units[0] >= 0 and units[-1] < H):
        raise ValueError(f"units must be indices of the {H} units, got {units.tolist()}")
    if min_length < 1 or top < 0:
        raise ValueError(f"min_length must be >= 1 and top >= 0, got {min_length} and {top}")
    k = len(units)
    if k == 0 or top == 0 or T == 0:
        return []
    on = at_least(states[:, units], threshold)  # (T, k) the threshold test of the selected units
    count = on.sum(axis=1, dtype=np.int32)  # (T,) n_t: selected units on at step t
    starts, ends, on_run = _candidates(count, k, on, top, min_length)
    if len(starts) == 0:
        return []
    return _ranked(states, units, threshold, top, starts, ends, on_run)


def _ranked(states: np.ndarray, units: np.ndarray, threshold: float, top: int, starts: np.ndarray,
            ends: np.ndarray, on_run: np.ndarray) -> list[Match]:
    """The ``top`` candidates best first, reading the other units of as few as it takes.

    A candidate's key is (-on, others, -length, start); with others >= 0 its best possible key is
    (-on, 0, -length, start). Candidates are read in the order of that best key, in batches that
    grow eightfold (a reading that cannot stop early takes a few calls): once the ``top``-th key
    found so far is no worse than the next candidate's best possible one, no candidate left can
    enter, and the reading stops (when the best runs have no other unit on, only the longest few
    are read)."""
    lengths = ends - starts
    order = np.lexsort((starts, -lengths, -on_run))  # by the best possible key
    starts, ends, on_run, lengths = starts[order], ends[order], on_run[order], lengths[order]
    others = np.zeros(len(starts), dtype=np.int32)
    done, batch = 0, 2 * top
    while done < len(starts):
        others[done:done + batch] = _others_on(states, units, threshold, starts[done:done + batch],
                                               ends[done:done + batch])
        done, batch = min(done + batch, len(starts)), 8 * batch
        if done >= top and done < len(starts):
            read = np.lexsort((starts[:done], -lengths[:done], others[:done], -on_run[:done]))
            worst = read[top - 1]  # the top-th key so far, against the next candidate's best one
            if (-on_run[worst], others[worst], -lengths[worst], starts[worst]) <= \
                    (-on_run[done], 0, -lengths[done], starts[done]):
                break
    best = np.lexsort((starts[:done], -lengths[:done], others[:done], -on_run[:done]))[:top]
    return [Match(int(starts[i]), int(ends[i]), int(on_run[i]), int(others[i])) for i in best]


def full_run_lengths(states: np.ndarray, units: Sequence[int] | np.ndarray, threshold: float = THRESHOLD,
                     min_length: int = MIN_LENGTH) -> np.ndarray:
    """The lengths of every run where all the selected ``units`` are on, at least ``min_length``
    long: the matches of the first rank, all of them (LSTMVis's "strict" length histogram)."""
    units = np.unique(np.asarray(units, dtype=np.intp))
    if len(units) == 0:
        return np.zeros(0, dtype=np.intp)
    starts, ends = runs(at_least(np.asarray(states)[:, units], threshold).all(axis=1))
    lengths = ends - starts
    return lengths[lengths >= min_length]


# --------------------------------------------------------------------------- what would select


@dataclass(frozen=True)
class SelectionHint:
    """What selects something when a span selects nothing.

    ``threshold``: the threshold nearest the one asked (on a grid of ``step``) at which the span
    selects at least one unit (``threshold_units``), or None when no threshold does;
    ``span``: the longest part of the span that selects at least one unit at the threshold asked
    (``span_units``), or None.
    """

    threshold: float | None
    threshold_units: np.ndarray
    span: tuple[int, int] | None
    span_units: np.ndarray


def _nearest_threshold(states: np.ndarray, start: int, end: int, threshold: float, pad: tuple[int, int],
                       step: float, bounds: tuple[float, float]) -> tuple[float | None, np.ndarray]:
    """The grid threshold m * ``step`` in ``bounds`` nearest ``threshold`` at which [start, end)
    selects a unit.

    Unit u is selected at θ when lo_u < θ <= hi_u: hi_u its smallest state over the span, lo_u its
    largest over the padding (-inf without padding steps); a NaN rules the unit out."""
    a = np.asarray(states, dtype=np.float64)
    hi = a[start:end].min(axis=0)  # (H,) NaN if any step is NaN
    pads = np.concatenate([a[max(start - pad[0], 0):start], a[end:end + pad[1]]])
    lo = pads.max(axis=0) if len(pads) else np.full(a.shape[1], -np.inf)
    usable = np.isfinite(hi) & ~np.isnan(lo)
    lowest = np.maximum(np.floor(np.where(usable, lo, 0.0) / step) + 1,  # the first grid point above lo
                        np.ceil(bounds[0] / step))
    highest = np.minimum(np.floor(np.where(usable, hi, 0.0) / step), np.floor(bounds[1] / step))
    usable &= lowest <= highest
    if not usable.any():
        return None, np.zeros(0, dtype=np.intp)
    wanted = np.round(threshold / step)
    nearest = np.clip(wanted, lowest, highest)[usable]  # (U',) each unit's grid point nearest
    for m in sorted(set(nearest.tolist()), key=lambda m: (abs(m - wanted), -m)):
        candidate = round(m * step, 10)
        units = select_units(states, start, end, candidate, pad)
        if len(units):  # (a grid point at lo_u itself is rounded away; the next one is tried)
            return candidate, units
    return None, np.zeros(0, dtype=np.intp)


def _longest_part(states: np.ndarray, start: int, end: int, threshold: float,
                  pad: tuple[int, int]) -> tuple[tuple[int, int] | None, np.ndarray]:
    """The longest [s, e) inside [start, end) that selects a unit at ``threshold`` (ties: the
    earliest). A unit selects [s, e) when it is on over it and off on its padding: with padding
    before, s is where one of the unit's runs of on steps starts; without, any step of the run
    (the span's start, say); likewise e with padding after."""
    states = np.asarray(states)
    T = states.shape[0]
    on = at_least(states, threshold)  # (T, H)
    off = below(states, threshold)
    edges = np.diff(on.T.astype(np.int8), prepend=0, append=0, axis=1)  # (H, T + 1)
    unit, run_start = np.nonzero(edges == 1)  # per unit in order of time: starts and ends pair up
    run_end = np.nonzero(edges == -1)[1]
    s = np.maximum(run_start, start)
    e = np.minimum(run_end, end)
    ok = s < e
    if pad[0]:
        ok &= run_start >= start
    if pad[1]:
        ok &= run_end <= end
    for d in range(1, pad[0] + 1):  # the padding steps that exist are off
        ok &= (s - d < 0) | off[np.maximum(s - d, 0), unit]
    for d in range(pad[1]):
        ok &= (e + d >= T) | off[np.minimum(e + d, T - 1), unit]
    if not ok.any():
        return None, np.zeros(0, dtype=np.intp)
    lengths = np.where(ok, e - s, 0)
    best = np.lexsort((s, -lengths))[0]
    span = (int(s[best]), int(e[best]))
    return span, select_units(states, *span, threshold, pad)


def selection_hint(states: np.ndarray, start: int, end: int, threshold: float = THRESHOLD,
                   pad: tuple[int, int] = PAD, step: float = 0.01, lowest: float = -np.inf,
                   highest: float = np.inf) -> SelectionHint:
    """What would select at least one unit, for a span of ``states`` (T, H) that selects none at
    ``threshold``: the nearest threshold on a grid of ``step`` between ``lowest`` and ``highest``,
    and the longest part of the span."""
    _check_span(np.shape(states)[0], start, end, pad)
    found, units = _nearest_threshold(states, start, end, threshold, pad, step, (lowest, highest))
    span, span_units = _longest_part(states, start, end, threshold, pad)
    return SelectionHint(found, units, span, span_units)


def strongest_span(states: np.ndarray, unit: int, threshold: float = THRESHOLD,
                   pad: tuple[int, int] = PAD) -> tuple[int, int] | None:
    """The span that selects ``unit`` where it is on longest (ties: the larger mean state, then
    the earlier): one of its maximal runs of on steps whose padding is off. None if it has none."""
    states = np.asarray(states)
    T = states.shape[0]
    column = states[:, unit]
    starts, ends = runs(at_least(column, threshold))
    off = below(column, threshold)
    ok = np.ones(len(starts), dtype=bool)
    for d in range(1, pad[0] + 1):
        ok &= (starts - d < 0) | off[np.maximum(starts - d, 0)]
    for d in range(pad[1]):
        ok &= (ends + d >= T) | off[np.minimum(ends + d, T - 1)]
    if not ok.any():
        return None
    sums = np.concatenate([[0.0], np.cumsum(column.astype(np.float64))])
    means = (sums[ends] - sums[starts]) / (ends - starts)
    best = np.lexsort((starts, -means, -(ends - starts), ~ok))[0]
    return int(starts[best]), int(ends[best])


# --------------------------------------------------------------------------- what the matches tell


def share_inside(spans: Sequence[tuple[int, int]], inside: np.ndarray) -> float:
    """The share of ``spans`` [start, end) whose every step is inside (``inside`` (T,) bool): say
    inside quotes in the corpus. NaN for no spans."""
    if not len(spans):
        return float("nan")
    inside = np.asarray(inside, dtype=bool)
    outside = np.concatenate([[0], np.cumsum(~inside)])  # (T + 1,)
    starts, ends = np.asarray(spans, dtype=np.intp).T
    return float(np.mean(outside[ends] == outside[starts]))


def random_spans(lengths: Sequence[int], allowed: np.ndarray, seed: int = 0) -> list[tuple[int, int]]:
    """One span per length in ``lengths``, placed uniformly at random (seeded) among the positions
    where every step is ``allowed`` (T,) (say, not between two documents of a corpus)."""
    allowed = np.asarray(allowed, dtype=bool)
    blocked = np.concatenate([[0], np.cumsum(~allowed)])  # (T + 1,)
    rng = np.random.default_rng(seed)
    spans = []
    for length in lengths:
        starts = np.flatnonzero(blocked[length:] == blocked[:-length]) if 0 < length <= len(allowed) \
            else np.zeros(0, dtype=np.intp)
        if len(starts) == 0:
            raise ValueError(f"no span of {length} allowed steps")
        s = int(rng.choice(starts))
        spans.append((s, s + int(length)))
    return spans


def chance_inside(lengths: Sequence[int], inside: np.ndarray, allowed: np.ndarray) -> float:
    """The share :func:`share_inside` expects of spans of ``lengths`` placed uniformly among the
    ``allowed`` positions (:func:`random_spans`): the exact chance level, no draws."""
    inside = np.asarray(inside, dtype=bool)
    blocked = np.concatenate([[0], np.cumsum(~np.asarray(allowed, dtype=bool))])
    outside = np.concatenate([[0], np.cumsum(~inside)])
    shares = []
    for length in lengths:
        fits = blocked[length:] == blocked[:-length]
        shares.append(np.mean((outside[length:] == outside[:-length])[fits]))
    return float(np.mean(shares))
