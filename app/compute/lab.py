"""What the Lab computes: a model key per chosen cell (from ``app.compute.models``, so a cell is
read here exactly as on the other pages), the summary table's rows, and the claims table
(``cells.science.claims``: the stored figures and one row measured live on the box's text)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from app.compute import gradient_profiles as gradients
from app.compute import models
from cells.science import claims
from cells.science.gradients import GradientProfile


def keys(archs: Sequence[str], model: str) -> gradients.Keys:
    """display name -> model key per cell: the shipped trained model where there is one (with
    ``model="trained"``), else seeded random weights of :data:`app.compute.models.RANDOM_HIDDEN` units."""
    found = models.resolve_each(archs, model, "text", hidden=models.RANDOM_HIDDEN)
    return tuple(found.items())


def weights_note(loaded: dict[str, models.Loaded], model: str) -> str:
    """Which cells are trained and which have random weights, in one sentence."""
    trained = [n for n, m in loaded.items() if m.trained]
    fresh = [n for n, m in loaded.items() if not m.trained]
    parts = []
    if trained:
        parts.append(f"trained models (shipped with gatescope or yours): {', '.join(trained)}")
    if fresh:
        why = "as chosen" if model == "random" else "gatescope ships no trained model of these"
        parts.append(f"random weights, the same {models.RANDOM_HIDDEN} units and seed 0 for each "
                     f"({why}): {', '.join(fresh)}")
    return "Weights: " + "; ".join(parts) + "."


def summary_rows(loaded: dict[str, models.Loaded], profs: dict[str, GradientProfile]
                 ) -> list[dict[str, object]]:
    """One row per cell: its gates, size, parameters, weights and memory span."""
    rows = []
    for name, m in loaded.items():
        cell = m.cell
        p = profs.get(name)
        rows.append({
            "cell": name,
            "gates": ", ".join(cell.sigmoid_gates) or "none",
            "hidden units": cell.hidden_size,
            "parameters": int(cell.num_params),
            "weights": "trained" if m.trained else "random",
            "memory span (tokens)": gradients.span_text(p) if p is not None else "",
        })
    return rows


@st.cache_data(show_spinner=False)
def claims_data() -> dict:
    return claims.load_claims()


@st.cache_data(max_entries=32, show_spinner=False)
def _forget_bias_spans(text: str) -> tuple[int, int, int]:
    """The memory spans of a random LSTM with forget-gate bias 0 and 1 on ``text``, and its length."""
    found = tuple((f"bias {b:g}", models.resolve(claims.FORGET_BIAS_CELL, "random", "text",
                                                 hidden=models.RANDOM_HIDDEN,
                                                 forget_bias=b)) for b in (0.0, 1.0))
    profs = gradients.profiles(found, text)
    return profs["bias 0"].memory_span, profs["bias 1"].memory_span, len(text)


def claim_rows(text: str) -> list[claims.Claim]:
    """The precomputed rows and, when the sequence has two characters or more, the live one."""
    rows = claims.claims_table(claims_data())
    if len(text) >= 2:
        span0, span1, length = _forget_bias_spans(text[:gradients.JACOBIAN_MAX_TOKENS])
        rows.append(claims.forget_bias_span(span0, span1, length, models.RANDOM_HIDDEN))
    return rows
