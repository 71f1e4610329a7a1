"""Cached models and traces: the only place pages get cells from.

* :func:`load_model` (``st.cache_resource``): a character model for text mode, a 1-input cell for
  numbers mode. ``model="trained"`` asks ``cells.pretrained`` (``"lstm"``/``"gru"`` for text,
  ``"lstm-series"``/``"gru-series"`` for numbers); when those weights are not there, or for
  ``model="random"``, the cell gets seeded random weights (:data:`RANDOM_SCHEME`), and the page says
  so through :attr:`Loaded.description`.
* :func:`read_sequence` (``st.cache_data``, bounded): one forward pass over the typed sequence,
  kept as a small :class:`Reading` (the :data:`SHOW_UNITS` most active units only, so a cache
  entry stays well under a few MB even at the input limit).
* :func:`step_seconds` (``st.cache_data`` with a TTL): the measured time per step on this server.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

import cells
from app.ui import token_label
from cells.base import Cell
from cells.charmodel import UNKNOWN_CHAR, CharModel
from cells.pretrained import pretrained, pretrained_meta

RANDOM_HIDDEN = 64
"""Hidden size of random-weight models (trained ones have their own size)."""

RANDOM_SCHEME = (
    "seeded random weights: every weight and bias uniform on (-1/√H, 1/√H), PyTorch's default "
    "scale, LSTM forget-gate bias 1"
)

MODEL_NAMES = ("trained", "random")
MODEL_LABELS = {"trained": "trained", "random": "random weights"}

SHOW_UNITS = 32
"""Charts show at most this many hidden units: the ones whose h varies most over the sequence."""

TOP_GUESSES = 5
"""How many next-character guesses each step keeps."""

GATE_ORDER = {"lstm": ("f", "i", "o", "g"), "gru": ("r", "z", "n")}
"""Display order of the gates: the sigmoid gates first, the tanh candidate last."""


@dataclass(frozen=True)
class Loaded:
    """A cell ready to read sequences, and one line that says what it is (shown on the page)."""

    cell: Cell
    charmodel: CharModel | None  # text mode; None for a numbers-mode cell
    trained: bool
    description: str


def _pretrained(name: str) -> tuple[CharModel | Cell | None, str]:
    """``cells.pretrained(name)``, or None and the reason it is not available."""
    try:
        return pretrained(name), ""
    except (ValueError, KeyError, FileNotFoundError, OSError) as exc:
        return None, f"no trained weights named {name!r} ({exc})"


def _trained_description(arch: str, cell: Cell, meta: dict) -> str:
    """What a shipped model is, from its file's meta: size, corpus, held-out bits/char."""
    text = f"{arch.upper()}, {cell.hidden_size} units, trained by gatescope on "
    text += str(meta.get("trained_on", "a corpus described in the README"))
    if "heldout_prose_bpc" in meta:
        text += f"; {meta['heldout_prose_bpc']} bits/char on held-out English prose"
    return text


@st.cache_resource(max_entries=12, show_spinner=False)
def load_model(arch: str, model: str, mode: str, seed: int = 0) -> Loaded:
    """The ``arch`` cell for ``mode`` ("text" | "numbers"), trained if ``model == "trained"`` and
    weights are shipped, else with :data:`RANDOM_SCHEME` weights of size :data:`RANDOM_HIDDEN`."""
    arch = arch if arch in cells.ARCHS else "lstm"  # the Gradients page also loads the "rnn"
    reason = "random weights were chosen"
    if model == "trained":
        name = arch if mode == "text" else f"{arch}-series"
        found, reason = _pretrained(name)
        if isinstance(found, CharModel) and mode == "text":
            return Loaded(found.cell, found, True, _trained_description(arch, found.cell, found.meta))
        if isinstance(found, Cell) and mode == "numbers":
            return Loaded(found, None, True, _trained_description(arch, found, pretrained_meta(name)))
    what = f"{arch.upper()}, {RANDOM_HIDDEN} units, {RANDOM_SCHEME}, seed {seed} ({reason})"
    if mode == "text":
        charmodel = CharModel.untrained(arch, RANDOM_HIDDEN, seed)
        return Loaded(charmodel.cell, charmodel, False, what)
    params = cells.init_params(arch, 1, RANDOM_HIDDEN, seed=seed)
    return Loaded(cells.make_cell(arch, params), None, False, what)


@dataclass(frozen=True)
class Reading:
    """One sequence read by one cell, reduced to what the pages draw.

    ``units`` are the shown units' indices (most active first); every (T, U) array has one column
    per shown unit. ``saturation`` covers ALL units of the cell.
    """

    arch: str
    description: str
    hidden_size: int
    units: np.ndarray  # (U,) int
    gates: dict[str, np.ndarray]  # name -> (T, U), in GATE_ORDER
    c: np.ndarray | None  # (T, U), LSTM only
    h: np.ndarray  # (T, U)
    unknown: np.ndarray  # (T,) bool, text mode: not in the vocabulary
    unknown_chars: tuple[str, ...]
    guesses: tuple[tuple[tuple[str, float], ...], ...]  # (T, k) (visible label, p); () numbers
    saturation: dict[str, tuple[np.ndarray, np.ndarray]]  # gate -> (left (H,), right (H,))


def most_active_units(h: np.ndarray, k: int = SHOW_UNITS, pin: int = -1) -> np.ndarray:
    """Indices of the ``k`` units whose h (T, H) has the largest standard deviation over time.

    ``pin``, a unit index (-1: none), is shown in any case, first: an experiment's carrier unit
    can vary little and still be the one to watch (see app/experiments.py).
    """
    order = np.argsort(-h.std(axis=0), kind="stable")  # (H,)
    if 0 <= pin < h.shape[1]:
        order = np.r_[pin, order[order != pin]]
    return order[:k]


def guesses_of(charmodel: CharModel, probs: np.ndarray) -> tuple[tuple[tuple[str, float], ...], ...]:
    """The :data:`TOP_GUESSES` likeliest next characters (visible labels) after every step of
    ``probs`` (T, V): one sort of the whole array, as :meth:`CharModel.top_next` ranks a row."""
    labels = [token_label(ch) for ch in charmodel.vocab + UNKNOWN_CHAR]  # (V,) by character id
    top = np.argsort(-probs, axis=1, kind="stable")[:, :TOP_GUESSES]  # (T, k)
    return tuple(
        tuple((labels[i], float(p)) for i, p in zip(ids, row[ids], strict=True))
        for ids, row in zip(top, probs, strict=True)
    )


def reading_from(
    cell: Cell,
    description: str,
    trace: cells.Trace,
    unknown: np.ndarray,
    unknown_chars: tuple[str, ...],
    guesses: tuple[tuple[tuple[str, float], ...], ...],
    pin: int = -1,
) -> Reading:
    """A :class:`Reading` of ``cell``'s ``trace`` (T, H), reduced to the most active units
    (``pin`` first, if it is a unit: see :func:`most_active_units`)."""
    units = most_active_units(trace.h, pin=pin)

    def shown(a: np.ndarray) -> np.ndarray:  # (T, H) -> (T, U) float32, to keep entries small
        return a[:, units].astype(np.float32)

    return Reading(
        arch=cell.arch,
        description=description,
        hidden_size=cell.hidden_size,
        units=units,
        gates={name: shown(trace.gates[name]) for name in GATE_ORDER[cell.arch]},
        c=None if trace.c is None else shown(trace.c),
        h=shown(trace.h),
        unknown=np.asarray(unknown, bool),
        unknown_chars=unknown_chars,
        guesses=guesses,
        saturation=cells.gate_saturation(cell, trace),
    )


@st.cache_data(max_entries=32, show_spinner=False)
def read_sequence(
    arch: str, model: str, mode: str, text: str, values: np.ndarray, seed: int = 0, pin: int = -1
) -> Reading:
    """Run the cell over the sequence (``text`` in text mode, ``values`` (T,) in numbers mode);
    ``pin``: a unit shown first in any case (-1: none)."""
    loaded = load_model(arch, model, mode, seed)
    cell, charmodel = loaded.cell, loaded.charmodel
    if charmodel is not None:
        read = charmodel.trace(text)
        trace, unknown = read.trace, read.unknown
        guesses = guesses_of(charmodel, read.probs)
        vocab = charmodel.vocab
        unknown_chars = tuple(dict.fromkeys(ch for ch in text if ch not in vocab))
    else:
        trace = cell.forward(np.asarray(values, dtype=cell.dtype).reshape(-1, 1))  # x (T, 1)
        unknown, guesses, unknown_chars = np.zeros(trace.length, bool), (), ()
    return reading_from(cell, loaded.description, trace, unknown, unknown_chars, guesses, pin)


def inputs_for(loaded: Loaded, text: str, values: np.ndarray) -> np.ndarray:
    """The cell's input matrix (T, I) for a sequence: one-hot characters or the 1-D series."""
    if loaded.charmodel is not None:
        return loaded.charmodel.inputs(loaded.charmodel.encode(text))
    return np.asarray(values, dtype=loaded.cell.dtype).reshape(-1, 1)


@st.cache_data(max_entries=16, ttl=300, show_spinner=False)
def step_seconds(arch: str, model: str, mode: str, seed: int = 0, tokens: int = 200) -> dict[str, float]:
    """:func:`cells.seconds_per_token` of the loaded cell on this server, re-measured every 5 min."""
    return cells.seconds_per_token(load_model(arch, model, mode, seed).cell, tokens)
