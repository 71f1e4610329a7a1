"""Many sequences read at once: the states of a whole corpus, one row per token, for searching
(``cells.science.match``).

Each sequence is read from a zero state, as a page reads what is typed. Sequences of similar
length go through the cell together (``Cell.forward`` with a batch axis: (T, B, I)), in chunks of
steps that carry the state from one chunk to the next, so memory stays bounded however long a
sequence is; a sequence that has ended leaves the batch. The states of the chosen layers (h, or c
for a cell with a cell state) are kept, side by side, as float16 in one column-major array (each
unit's series contiguous, as ``cells.match_spans`` reads them), every sequence's rows followed by
one separator row of NaN, a step no unit is ever on at (whichever way its sign is read): no match
runs from one sequence into the next.
The cell reads in float32 (twice as fast as float64; the states are kept to float16's 11 bits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cells.core.registry import make_cell
from cells.models.reader import Reader, state_after

BATCH = 32
"""Sequences read together."""

CHUNK = 256
"""Steps of a batch read at once (the gates of B x CHUNK steps are in memory at a time)."""

FLOAT16_MAX = float(np.finfo(np.float16).max)


@dataclass(frozen=True, eq=False)
class ManyStates:
    """The states of many sequences: ``states`` (N, U) float16, column-major, sequence s in rows
    ``starts[s]`` to ``starts[s] + lengths[s]``, each followed by a separator row of NaN."""

    states: np.ndarray
    starts: np.ndarray  # (S,)
    lengths: np.ndarray  # (S,)


def layer_traces(trace: Any) -> tuple:
    """A stack's layer traces, bottom first; a single cell's trace alone."""
    return tuple(getattr(trace, "layers", None) or (trace,))


def read_many(reader: Reader, sequences: Sequence[Any], *, layers: Sequence[int] = (-1,), state: str = "h",
              batch: int = BATCH, chunk: int = CHUNK,
              progress: Callable[[float], None] | None = None) -> ManyStates:
    """Read every sequence (what ``reader.read`` takes: a text, tokens...) from a zero state and
    keep ``state`` ("h" or "c") of each of ``layers`` (a stack's, bottom 0; -1 the top one),
    side by side: U = len(layers) x H units. ``progress(fraction of the tokens read)`` is called
    after every chunk."""
    cell = make_cell(reader.cell.arch, {k: a.astype(np.float32) for k, a in reader.cell.params.items()})
    if state == "c" and not cell.has_cell_state:
        raise ValueError(f"{cell.display_name} has no cell state c")
    lengths = np.array([len(reader.tokens_of(s)) for s in sequences], dtype=np.intp)  # (S,)
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.intp)
    H = cell.hidden_size
    out = np.full((int((lengths + 1).sum()), len(layers) * H), np.nan, dtype=np.float16, order="F")
    order = np.argsort(-lengths, kind="stable")  # longest first: a batch's running sequences are a prefix
    total, done = max(int(lengths.sum()), 1), 0
    for first in range(0, len(order), batch):
        members = order[first:first + batch]
        members = members[lengths[members] > 0]
        if len(members) == 0:
            continue
        x = _inputs(reader, cell, [sequences[s] for s in members], int(lengths[members[0]]))  # (T, B, I)
        h = c = None
        for t0 in range(0, x.shape[0], chunk):
            running = int((lengths[members] > t0).sum())
            if h is not None:  # sequences that ended leave the batch
                h, c = h[..., :running, :], None if c is None else c[..., :running, :]
            trace = cell.forward(x[t0:t0 + chunk, :running], h, c)
            h, c = state_after(trace, -1)
            traces = layer_traces(trace)
            kept = np.concatenate([getattr(traces[k], state) for k in layers], axis=-1)  # (W, B, U)
            steps = np.arange(t0, t0 + kept.shape[0])[:, None]  # (W, 1)
            valid = steps < lengths[members[:running]]  # (W, B)
            rows = starts[members[:running]] + steps  # (W, B)
            out[rows[valid]] = np.clip(kept[valid], -FLOAT16_MAX, FLOAT16_MAX)
            done += int(valid.sum())
            if progress is not None:
                progress(done / total)
    return ManyStates(out, starts, lengths)


def _inputs(reader: Reader, cell: Any, sequences: Sequence[Any], T: int) -> np.ndarray:
    """(T, B, I) the sequences' inputs to ``cell``, zeros after each one's end."""
    x = np.zeros((T, len(sequences), cell.input_size), dtype=cell.dtype)
    for b, sequence in enumerate(sequences):
        inputs, _unknown = reader.encoder.encode(sequence, cell.dtype)  # (T_b, I)
        x[:len(inputs), b] = inputs
    return x
