"""The Gradients page's models and measurements, cached: the tanh RNN, LSTM and GRU it compares.

Shared by ``pages/gradients.py`` and the experiments (``app/experiments.py``), so an experiment's
read-out is the page's own number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

import cells
from app import models
from cells import gradients as grad
from cells import tasks
from cells.charmodel import DEFAULT_VOCAB

JACOBIAN_MAX_TOKENS = 200
"""The page reads at most this many tokens: the Jacobian pass costs O(T H^3) per cell, and this
keeps a re-render around a second at H = 256."""

ARCH_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


@dataclass(frozen=True)
class Reader:
    """A cell and the characters it knows (one-hot inputs, the last id is the unknown token)."""

    cell: cells.Cell
    vocab: str
    description: str

    def inputs(self, text: str) -> np.ndarray:
        """(T, V) one-hot characters."""
        return tasks.one_hot(tasks.encode(text, self.vocab), len(self.vocab) + 1, self.cell.dtype)


@st.cache_resource(max_entries=8, show_spinner=False)
def readers(model: str, hidden: int, radius: float, forget_bias: float, seed: int) -> dict[str, Reader]:
    """RNN, LSTM and GRU: the trained character models, or fresh cells built from the knobs."""
    if model == "trained":
        loaded = {arch: models.load_model(arch, "trained", "text") for arch in ARCH_NAMES}
        return {
            ARCH_NAMES[arch]: Reader(m.cell, m.charmodel.vocab, m.description) for arch, m in loaded.items()
        }
    out = {}
    for arch, name in ARCH_NAMES.items():
        params = cells.init_params(
            arch, len(DEFAULT_VOCAB) + 1, hidden, seed=seed, forget_bias=forget_bias,
            recurrent_radius=radius,
        )
        out[name] = Reader(cells.make_cell(arch, params), DEFAULT_VOCAB, f"{name}, {hidden} units")
    return out


@st.cache_data(max_entries=32, show_spinner=False)
def profiles(text: str, model: str, hidden: int, radius: float, forget_bias: float,
             seed: int) -> dict[str, grad.GradientProfile]:
    """The gradient profile of each cell on ``text`` (at most JACOBIAN_MAX_TOKENS characters)."""
    return {
        name: grad.gradient_profile(r.cell, r.inputs(text))
        for name, r in readers(model, hidden, radius, forget_bias, seed).items()
    }


@st.cache_data(max_entries=32, show_spinner=False)
def edit_distances(text: str, model: str, hidden: int, radius: float, forget_bias: float, seed: int,
                   position: int, replacement: str) -> dict[str, np.ndarray]:
    """||h_t - h'_t|| per cell when character ``position`` of ``text`` becomes ``replacement``."""
    return {
        name: grad.divergence_after_edit(r.cell, r.inputs(text), position, r.inputs(replacement)[0])
        for name, r in readers(model, hidden, radius, forget_bias, seed).items()
    }
