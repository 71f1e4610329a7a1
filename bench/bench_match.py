"""A select-and-match query over a million steps of 128 units, against one threshold test of the
selected units' columns in the same run.

The states are float16, column-major (each unit's series contiguous, as the Match page keeps a
corpus's states): 1,000,000 steps x 128 units, 256 MB. Every unit switches on and off as a
two-state Markov chain (on for about 20 steps at a time, off for about 60: on a quarter of the
time, like a unit of the shipped models at LSTMVis's threshold 0.3), and the selected units also
switch on together over planted spans (5% of the steps), as units that track one thing do.

    OPENBLAS_NUM_THREADS=1 python bench/bench_match.py

Printed: the median seconds of

* the reference, ``states[:, units] >= threshold``: NumPy's threshold test of the selected
  columns (float16 compared element by element);
* the engine's threshold test of the same columns (``cells.science.match.at_least``: the same
  answer, through the bits' order);
* ``cells.match_spans`` (top 50) for k = 1, 4 and 8 selected units,

and each query's time as a multiple of the reference's.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cells
from cells.science.match import at_least

T, H = 1_000_000, 128
THRESHOLD = 0.3
MEAN_ON, MEAN_OFF = 20, 60  # steps, the Markov chain's mean run lengths
PLANTED_SHARE = 0.05
REPEATS = 5


def markov_states(seed: int = 0) -> np.ndarray:
    """(T, H) float16, column-major: every unit on (about 0.6) or off (about -0.2) in runs, plus
    noise; the first 8 units also on together over planted spans."""
    rng = np.random.default_rng(seed)
    states = np.empty((T, H), dtype=np.float16, order="F")
    planted = np.zeros(T, dtype=bool)
    starts = rng.choice(T - 64, int(PLANTED_SHARE * T / 32), replace=False)
    for s, length in zip(starts, rng.integers(4, 60, len(starts)), strict=True):
        planted[s:s + length] = True
    pairs = 2 * T // (MEAN_ON + MEAN_OFF) + 1000  # enough off-on pairs of runs to fill T steps
    for unit in range(H):
        lengths = np.stack([rng.geometric(1 / MEAN_OFF, pairs), rng.geometric(1 / MEAN_ON, pairs)], axis=1)
        on = np.repeat(np.tile([False, True], pairs), lengths.ravel())[rng.integers(0, 100):][:T]
        if unit < 8:
            on = on | planted
        states[:, unit] = np.where(on, 0.6, -0.2) + rng.normal(0, 0.15, T)
    return states


def median_seconds(work: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    states = markov_states()
    print(f"states: {T:,} steps x {H} units, float16, column-major: {states.nbytes / 2**20:.0f} MB; "
          f"median of {REPEATS}")
    print(f"{'k':>3} {'reference (NumPy)':>18} {'engine test':>12} {'match_spans':>12} {'x reference':>12}"
          f" {'matches':>8} {'best':>28}")
    for k in (1, 4, 8):
        units = np.arange(k)
        reference = median_seconds(lambda u=units: states[:, u] >= THRESHOLD)
        engine = median_seconds(lambda u=units: at_least(states[:, u], THRESHOLD))
        query = median_seconds(lambda u=units: cells.match_spans(states, u, THRESHOLD))
        found = cells.match_spans(states, units, THRESHOLD)
        best = found[0]
        print(f"{k:>3} {reference:>16.3f} s {engine:>10.3f} s {query:>10.3f} s {query / reference:>11.2f}x"
              f" {len(found):>8} {f'[{best.start}, {best.end}) {best.on} on, {best.others} others':>28}")


if __name__ == "__main__":
    main()
