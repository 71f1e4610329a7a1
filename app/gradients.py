"""The Gradients page's models and measurements, cached: the tanh RNN, LSTM and GRU it compares.

Shared by ``pages/gradients.py`` and the experiments (``app/experiments.py``), so an experiment's
read-out is the page's own number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import streamlit as st

import cells
from app import models
from app.upload import Uploaded
from cells import gradients as grad
from cells import tasks
from cells.charmodel import DEFAULT_VOCAB

JACOBIAN_MAX_TOKENS = 200
"""The page reads at most this many tokens: the Jacobian pass costs O(T H^3) per cell, and this
keeps a re-render around a second at H = 256."""

ARCH_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def vocab_inputs(vocab: str, dtype: type, text: str) -> tuple[np.ndarray, np.ndarray]:
    """(T, V) one-hot characters of ``vocab`` (the last id is the unknown token) and the (T,)
    mask of the unknown ones."""
    ids = tasks.encode(text, vocab)  # (T,)
    return tasks.one_hot(ids, len(vocab) + 1, dtype), ids == len(vocab)


@dataclass(frozen=True)
class Reader:
    """A cell and how it reads text: ``encode(text)`` gives its inputs (T, I) and the (T,) mask of
    the characters it does not know."""

    cell: cells.Cell
    encode: Callable[[str], tuple[np.ndarray, np.ndarray]]
    description: str

    def inputs(self, text: str) -> np.ndarray:
        """(T, I) the cell's inputs."""
        return self.encode(text)[0]

    def unknown(self, text: str) -> np.ndarray:
        """(T,) bool: the characters the cell does not know."""
        return self.encode(text)[1]


def vocab_reader(cell: cells.Cell, vocab: str, description: str) -> Reader:
    """A cell over one-hot characters of ``vocab``."""
    return Reader(cell, partial(vocab_inputs, vocab, cell.dtype), description)


def span_text(p: grad.GradientProfile) -> str:
    """A memory span in words: "≥ N tokens" when the text, not the model, ends it."""
    return f"≥ {p.memory_span} tokens" if p.span_reaches_start else f"{p.memory_span} tokens"


def weights_key(model: str, hidden: int, radius: float, forget_bias: float,
                seed: int) -> tuple[str, int, float, float, int]:
    """The arguments ``readers``/``profiles``/``edit_distances`` take after the text: the knobs
    only matter for fresh weights, so any other model gets the same cache key whatever they are."""
    if model == "random":
        return model, hidden, radius, forget_bias, seed
    return model, 0, 0.0, 0.0, 0


@st.cache_resource(max_entries=8, show_spinner=False)
def readers(model: str, hidden: int, radius: float, forget_bias: float, seed: int,
            _upload: Uploaded | None = None) -> dict[str, Reader]:
    """RNN, LSTM and GRU: fresh cells built from the knobs for ``model="random"``, else the trained
    character models, the one of ``_upload``'s kind replaced by it when ``model`` is its key
    (``_upload`` is not hashed: ``model`` names it)."""
    if model != "random":
        loaded = {arch: models.load_model(arch, "trained", "text") for arch in ARCH_NAMES}
        out = {ARCH_NAMES[arch]: vocab_reader(m.cell, m.charmodel.vocab, m.description)
               for arch, m in loaded.items()}
        if _upload is not None and model == _upload.key:  # read the way the upload reads text
            out[ARCH_NAMES[_upload.cell.arch]] = Reader(_upload.cell, _upload.inputs,
                                                        _upload.description)
        return out
    out = {}
    for arch, name in ARCH_NAMES.items():
        params = cells.init_params(
            arch, len(DEFAULT_VOCAB) + 1, hidden, seed=seed, forget_bias=forget_bias,
            recurrent_radius=radius,
        )
        out[name] = vocab_reader(cells.make_cell(arch, params), DEFAULT_VOCAB, f"{name}, {hidden} units")
    return out


@st.cache_data(max_entries=32, show_spinner=False)
def profiles(text: str, model: str, hidden: int, radius: float, forget_bias: float,
             seed: int, _upload: Uploaded | None = None) -> dict[str, grad.GradientProfile]:
    """The gradient profile of each cell on ``text`` (at most JACOBIAN_MAX_TOKENS characters)."""
    return {
        name: grad.gradient_profile(r.cell, r.inputs(text))
        for name, r in readers(model, hidden, radius, forget_bias, seed, _upload).items()
    }


@st.cache_data(max_entries=32, show_spinner=False)
def edit_distances(text: str, model: str, hidden: int, radius: float, forget_bias: float, seed: int,
                   position: int, replacement: str,
                   _upload: Uploaded | None = None) -> dict[str, np.ndarray]:
    """||h_t - h'_t|| per cell when character ``position`` of ``text`` becomes ``replacement``."""
    return {
        name: grad.divergence_after_edit(r.cell, r.inputs(text), position, r.inputs(replacement)[0])
        for name, r in readers(model, hidden, radius, forget_bias, seed, _upload).items()
    }
