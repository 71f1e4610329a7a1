"""The Gradients page's measurements, cached: each cell's gradient profile and what-if distances.

The models come from ``app.models`` (keys from :func:`keys`); shared by ``pages/gradients.py``
and the experiments (``app/experiments.py``), so an experiment's read-out is the page's own number.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import streamlit as st

from app import models
from cells import gradients as grad

JACOBIAN_MAX_TOKENS = 200
"""The page reads at most this many tokens: the Jacobian pass costs O(T H^3) per cell, and this
keeps a re-render around a second at H = 256."""

Keys = tuple[tuple[str, models.ModelKey], ...]
"""display name -> model key, as a tuple (hashable, ordered): the cells a page compares."""


def keys(model: str, *, hidden: int = models.RANDOM_HIDDEN, radius: float | None = None,
         forget_bias: float = 1.0, seed: int = 0) -> Keys:
    """The page's cells (``models.BASELINES``) for the ``model`` choice: the trained character
    models, fresh random ones from the knobs (``model="random"``), the visitor's upload in place
    of the cell of its kind (or beside them). The knobs only matter for fresh weights."""
    found = models.resolve_each(models.BASELINES, model, "text", hidden=hidden, radius=radius,
                                forget_bias=forget_bias, seed=seed)
    return tuple(found.items())


def span_text(p: grad.GradientProfile) -> str:
    """A memory span in words: "≥ N tokens" when the text, not the model, ends it."""
    return f"≥ {p.memory_span} tokens" if p.span_reaches_start else f"{p.memory_span} tokens"


def loaded(cells_keys: Keys) -> dict[str, models.Loaded]:
    """display name -> the loaded model."""
    return {name: models.load(key) for name, key in cells_keys}


def inputs(m: models.Loaded, text: str) -> tuple[np.ndarray, np.ndarray]:
    """(T, I) the model's inputs for ``text`` and the (T,) mask of what it does not know."""
    return m.reader.encoder.encode(text, m.cell.dtype)


@st.cache_data(max_entries=32, show_spinner=False)
def _profiles(cells_keys: Keys, text: str, _loaded: Mapping[str, models.Loaded]
              ) -> dict[str, grad.GradientProfile]:
    return {name: grad.gradient_profile(m.cell, inputs(m, text)[0]) for name, m in _loaded.items()}


def profiles(cells_keys: Keys, text: str) -> dict[str, grad.GradientProfile]:
    """The gradient profile of each cell on ``text`` (at most JACOBIAN_MAX_TOKENS characters)."""
    return _profiles(cells_keys, text, loaded(cells_keys))


@st.cache_data(max_entries=32, show_spinner=False)
def _edit_distances(cells_keys: Keys, text: str, position: int, replacement: str,
                    _loaded: Mapping[str, models.Loaded]) -> dict[str, np.ndarray]:
    return {
        name: grad.divergence_after_edit(m.cell, inputs(m, text)[0], position,
                                         inputs(m, replacement)[0][0])
        for name, m in _loaded.items()
    }


def edit_distances(cells_keys: Keys, text: str, position: int, replacement: str
                   ) -> dict[str, np.ndarray]:
    """||h_t - h'_t|| per cell when character ``position`` of ``text`` becomes ``replacement``."""
    return _edit_distances(cells_keys, text, position, replacement, loaded(cells_keys))
