"""The Write page's one function: the shipped LSTM, GRU and RNN of a corpus each continue a
beginning (``cells.write``), cached; what the charts need, per model, as a :class:`Written`.

    written = writing.write_all("code", prompt, n=200, temperature=0.8, seed=0)   # one per cell

Everything here is NumPy in, NumPy out (no Streamlit calls but the cache); the charts are
``app.charts.writing``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

import cells
from app.compute import models
from app.view.sequence import mark_unknown, token_label
from app.view.state import MAX_WRITE

WRITERS = models.BASELINES
"""The shipped cells that write, in the page's column order."""

PROMPT_SHOWN = 200
"""The coloured text shows at most the last this many characters of the beginning (the model
reads all of it)."""

TOP_K = 8
"""Candidates the next-character chart shows at each written step."""

WRITE_ENTRIES = 12
"""Writings the cache keeps (each at most ~2 MB: 6 float32 (600, 128) arrays)."""


@dataclass(frozen=True, eq=False)
class Written:
    """One model's writing, ready to draw.

    ``shown`` is the shown part of the beginning (its last :data:`PROMPT_SHOWN` characters, as the
    model read it: an empty beginning is a newline) followed by the writing; ``start`` is where the
    writing starts in it. ``labels`` (S,) are the visible labels of ``shown`` (unknown characters
    as the unknown token), ``rows`` the cell's gates, c (LSTM) and h over it, (S, H) float32 each.
    At each written step k: ``top_labels``/``top_probs`` (N, K) the model's K likeliest next
    characters and probabilities (temperature 1), ``chosen_rank`` (N,) the rank of the character
    written (0 = likeliest), ``chosen_p`` (N,) its probability.
    """

    arch: str
    shown: str
    start: int
    labels: tuple[str, ...]
    text: str  # the writing alone
    rows: dict[str, np.ndarray]
    top_labels: np.ndarray  # (N, K) str
    top_probs: np.ndarray  # (N, K)
    chosen_rank: np.ndarray  # (N,) int
    chosen_p: np.ndarray  # (N,)
    entropy: float  # mean entropy (bits) of the distributions drawn from
    unknown_chars: tuple[str, ...]
    description: str
    problem: str = ""


def most_active(w: Written) -> int:
    """The unit whose h varies most over the writing (over everything shown if nothing is written)."""
    h = w.rows["h"][w.start:] if w.start < len(w.shown) else w.rows["h"]
    return int(np.argmax(h.std(axis=0)))


def written_of(arch: str, loaded: models.Loaded, prompt: str, n: int, temperature: float,
               seed: int) -> Written:
    """``loaded``'s reader continues ``prompt`` by ``n`` characters (uncached, see :func:`write_all`)."""
    reader = loaded.reader
    w = cells.write(reader, prompt, n, temperature=temperature, seed=seed)
    P = len(w.prompt)
    cut = max(P - PROMPT_SHOWN, 0)
    shown = w.prompt[cut:] + w.text
    after = models.trace_rows(reader.cell, w.trace)
    rows = {name: np.concatenate([before[cut:], after[name]]).astype(np.float32)  # (S, H)
            for name, before in models.trace_rows(reader.cell, w.prompt_trace).items()}
    tokens = reader.encoder.tokens
    prompt_unknown = reader.encoder.ids(w.prompt) == reader.encoder.unknown_id
    unknown = np.zeros(len(shown), dtype=bool)
    unknown[: P - cut] = prompt_unknown[cut:]
    labels = mark_unknown(tuple(map(token_label, shown)), unknown)
    order = np.argsort(-w.probs, axis=1, kind="stable")  # (N, V)
    top = order[:, :TOP_K]
    visible = np.array([token_label(t) for t in tokens], dtype=object)  # (V,)
    ranks = np.argmax(order == w.ids[:, None], axis=1) if n else np.zeros(0, dtype=np.int64)
    steps = np.arange(n)
    drawn = np.clip(w.drawn, 1e-300, 1.0)
    entropy = float(-(w.drawn * np.log2(drawn)).sum(axis=1).mean()) if n else 0.0
    return Written(
        arch=arch, shown=shown, start=P - cut, labels=labels, text=w.text,
        rows=rows, top_labels=visible[top], top_probs=np.take_along_axis(w.probs, top, axis=1),
        chosen_rank=ranks, chosen_p=w.probs[steps, w.ids],
        entropy=entropy,
        unknown_chars=tuple(dict.fromkeys(ch for ch, u in zip(w.prompt, prompt_unknown, strict=True) if u)),
        description=loaded.description, problem=loaded.problem or loaded.note,
    )


@st.cache_data(max_entries=WRITE_ENTRIES, show_spinner=False)
def _written(key: models.ModelKey, prompt: str, n: int, temperature: float, seed: int,
             _loaded: models.Loaded) -> Written:
    return written_of(key.arch, _loaded, prompt, n, temperature, seed)


def write_all(corpus: str, prompt: str, n: int, temperature: float, seed: int) -> list[Written]:
    """The shipped LSTM, GRU and RNN of ``corpus`` ("prose" or "code") each continue ``prompt``
    by ``n`` characters (at most :data:`~app.view.state.MAX_WRITE`) at ``temperature`` (0: greedy, the
    seed then plays no part) from ``seed``; cached per model and arguments."""
    n = int(min(max(n, 1), MAX_WRITE))
    temperature = float(max(temperature, 0.0))
    seed = 0 if temperature == 0 else int(seed)
    out = []
    for arch in WRITERS:
        key = models.resolve(arch, "trained", "text", corpus=corpus)
        out.append(_written(key, prompt, n, temperature, seed, models.load(key)))
    return out
