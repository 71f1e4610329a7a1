"""The Gradients page's measurements, cached: each cell's gradient profile and what-if distances.

The models come from ``app.compute.models`` (keys from :func:`keys`); shared by ``pages/gradients.py``
and the experiments (``app/experiments.py``), so an experiment's read-out is the page's own number.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import streamlit as st

import cells
from app.compute import models
from cells.science import gradients as grad

JACOBIAN_MAX_TOKENS = 200
"""The page reads at most this many tokens: the Jacobian pass costs O(T G H^3) per cell and
layer, and this keeps a re-render around a second at H = 256."""

SECONDS_PER_EDIT = 1.5
"""The Jacobian passes of one edit should take at most about this long (a large upload's token cap)."""

SECONDS_PER_CUBE = 0.08e-9
"""Cost of the Jacobian pass per token, per layer carried and per G·H^3, rounded up from
measurements on the 2-core development machine (one LSTM: 0.049 ns at H = 128, 0.030 at 256,
0.017 at 512; a stack adds the rows passed down between layers), so the cap errs on the fast side
(``bench/bench_gradients.py`` measures the page's work per size)."""

MIN_TOKENS = 2

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


def token_cap(models_: Mapping[str, models.Loaded]) -> int:
    """How many tokens the page measures for these models: :data:`JACOBIAN_MAX_TOKENS`, fewer when
    their Jacobian passes would take longer than :data:`SECONDS_PER_EDIT` (a large upload). A stack
    of L layers is measured at every layer in one pass that carries rows through all L layers."""
    seconds_per_token = 0.0
    for m in models_.values():
        cell, L = m.cell, getattr(m.cell, "num_layers", 1) * max(1, len(getattr(m.cell, "directions", ())))
        seconds_per_token += SECONDS_PER_CUBE * cell.blocks * cell.hidden_size**3 * L  # both directions'
        # passes, each through all layers, for a bidirectional model
    return int(np.clip(SECONDS_PER_EDIT / seconds_per_token, MIN_TOKENS, JACOBIAN_MAX_TOKENS))


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
    out = {}
    for name, m in _loaded.items():
        x = inputs(m, text)[0]  # (T, I)
        num_layers = getattr(m.cell, "num_layers", 1)
        directions = getattr(m.cell, "directions", ("",))
        if num_layers == 1 and len(directions) == 1:
            out[name] = grad.gradient_profile(m.cell, x)
            continue
        trace = m.cell.forward(x)
        for d, direction in enumerate(directions):
            by_layer = cells.jacobian_norms_by_layer(m.cell, trace, direction=d)  # (L, T), one pass
            for k in range(num_layers):  # d h^top_{T-1} / d h^(k)_t: through depth and time
                label = " ".join(part for part in (name, f"layer {k}" if num_layers > 1 else "", direction)
                                 if part)
                out[label] = grad.gradient_profile(m.cell, x, trace, layer=k, log_norms=by_layer[k],
                                                   direction=d)
    return out


def profiles(cells_keys: Keys, text: str) -> dict[str, grad.GradientProfile]:
    """The gradient profile of each cell on ``text`` (at most :func:`token_cap` characters); a
    stack's at each of its layers, named "<cell> layer k"; a bidirectional model's for each
    direction too, "<cell> layer k backward" (in its reading order: ``GradientProfile.in_time_order``)."""
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
