"""Chart builders of the Match page (LSTMVis's select and match): the sequence as text to pick a
span on, the selected units over the sequence with the threshold, and the lengths of the matches.

NumPy arrays in, ``plotly.graph_objects.Figure`` out; no Streamlit calls. Text reaches a figure
only through ``app.charts.base.plot_text``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from app.charts.base import figure, plot_text, token_meta, token_ticks
from app.charts.palette import GUIDE_COLOUR, OKABE_ITO
from app.charts.text import LINE_WIDTH, text_grid

ROW_PX = 26
"""Height of one row of the picked text, in pixels."""

TOKENS_PER_ROW = 16
"""Tokens to a row when a token is more than a character (a word, a note)."""

SPAN_COLOUR = "#D55E00"
"""The picked span's outline (Okabe-Ito vermilion)."""

LINE_COLOURS = tuple(colour for colour in OKABE_ITO if colour != SPAN_COLOUR)
"""One colour per unit drawn (Okabe-Ito, all but the span's)."""

ON_SCALE = [[0.0, "rgba(0, 114, 178, 0.0)"], [1.0, "rgba(0, 114, 178, 0.6)"]]
"""How many selected units are on at a token: none, clear (the text stays readable in either
theme), to all, Okabe-Ito blue."""

PICK_TRACE = 1
"""The trace of the picked text whose points are the tokens, by index (point i is token i)."""


def token_grid(text: str, labels: Sequence[str], per_character: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """(row (T,), column (T,), columns) of every token: a text wraps between words as the
    Cells page writes it (``text_grid``); other tokens sit :data:`TOKENS_PER_ROW` to a row."""
    if per_character:
        rows, cols = text_grid(text, LINE_WIDTH)
        return rows, cols, LINE_WIDTH
    index = np.arange(len(labels))
    return index // TOKENS_PER_ROW, index % TOKENS_PER_ROW, TOKENS_PER_ROW


def _span_outline(rows: np.ndarray, cols: np.ndarray, span: tuple[int, int]) -> list[dict]:
    """One rectangle around the span's tokens on each row they take."""
    shapes = []
    steps = np.arange(*span)
    for row in np.unique(rows[steps]):
        on_row = cols[steps[rows[steps] == row]]
        shapes.append({"type": "rect", "xref": "x", "yref": "y", "x0": on_row.min() - 0.5,
                       "x1": on_row.max() + 0.5, "y0": row - 0.5, "y1": row + 0.5,
                       "line": {"color": SPAN_COLOUR, "width": 2.5}, "layer": "above"})
    return shapes


def pick_text(text: str, labels: Sequence[str], on_count: np.ndarray, selected: int, span: tuple[int, int],
              *, per_character: bool) -> go.Figure:
    """The sequence as text, each token shaded by how many of the ``selected`` units are on at it
    (``on_count`` (T,)), the span outlined. Its second trace (:data:`PICK_TRACE`) holds one point
    per token, in order, for a click to pick: the page makes the first click the span's first
    token and the second its last."""
    T = len(labels)
    rows, cols, width = token_grid(text, labels, per_character)
    n_rows = int(rows.max()) + 1 if T else 1
    z = np.full((n_rows, width), np.nan)
    shown = np.full((n_rows, width), "", dtype=object)
    z[rows, cols] = on_count
    safe = [plot_text(label) for label in labels]
    for t, (r, c) in enumerate(zip(rows, cols, strict=True)):
        shown[r, c] = "" if per_character and text[t] == " " else safe[t]
    where = [f"token {t}: «{label}», {int(n)} of {selected} selected units on"
             for t, (label, n) in enumerate(zip(safe, on_count, strict=True))]
    data = [
        {"type": "heatmap", "z": z, "text": shown, "texttemplate": "%{text}", "hoverinfo": "skip",
         "textfont": {"size": 13, "family": "monospace"}, "colorscale": ON_SCALE, "zmin": 0,
         "zmax": max(selected, 1), "showscale": False, "xgap": 1, "ygap": 1},
        {"type": "scatter", "mode": "markers", "x": cols, "y": rows, "customdata": np.arange(T),
         "hovertext": where, "hoverinfo": "text", "showlegend": False, "name": "tokens",
         "marker": {"symbol": "square", "size": 18, "opacity": 0.01, "color": GUIDE_COLOUR},
         "selected": {"marker": {"opacity": 0.01}}, "unselected": {"marker": {"opacity": 0.01}}},
    ]
    layout = {
        "xaxis": {"visible": False, "range": [-0.5, width - 0.5], "fixedrange": True},
        "yaxis": {"visible": False, "range": [n_rows - 0.5, -0.5], "fixedrange": True},
        "shapes": _span_outline(rows, cols, span) if T else [],
        "height": n_rows * ROW_PX + 20, "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "clickmode": "event+select", "dragmode": False, "meta": token_meta(T),
    }
    return figure(data, layout)


def selected_lines(values: np.ndarray, labels: Sequence[str], units: Sequence[int], names: Sequence[str],
                   threshold: float, signed: int, span: tuple[int, int], pad_before: int = 1) -> go.Figure:
    """The ``units`` of ``values`` (T, U) over the sequence, the threshold as a line (a unit is on
    at or above it; with ``signed`` -1, at or below minus it), the span shaded and the steps
    before it that a selected unit is off on shaded lighter."""
    T = len(labels)
    steps = np.arange(T)
    data = [{"type": "scatter", "mode": "lines+markers", "x": steps, "y": values[:, u], "name": names[u],
             "line": {"color": LINE_COLOURS[k % len(LINE_COLOURS)], "width": 2},
             "marker": {"size": 4},
             "hovertemplate": f"{names[u]}: %{{y:.3f}} at token %{{x}}<extra></extra>"}
            for k, u in enumerate(units)]
    level = signed * threshold
    relation = "at or above" if signed > 0 else "at or below"
    ticks, texts = token_ticks(labels)
    shapes = [
        {"type": "rect", "xref": "x", "yref": "paper", "x0": span[0] - 0.5, "x1": span[1] - 0.5, "y0": 0,
         "y1": 1, "fillcolor": SPAN_COLOUR, "opacity": 0.12, "line": {"width": 0}, "layer": "below"},
        {"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": level, "y1": level,
         "line": {"color": GUIDE_COLOUR, "width": 2, "dash": "dash"}},
    ]
    if pad_before and span[0] > 0:
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": max(span[0] - pad_before, 0) - 0.5,
                       "x1": span[0] - 0.5, "y0": 0, "y1": 1, "fillcolor": GUIDE_COLOUR, "opacity": 0.12,
                       "line": {"width": 0}, "layer": "below"})
    layout = {
        "xaxis": {"tickmode": "array", "tickvals": ticks, "ticktext": texts, "tickangle": 0,
                  "range": [-0.5, max(T, 1) - 0.5]},
        "yaxis": {"title": {"text": "state"}, "zeroline": True},
        "shapes": shapes,
        "annotations": [{"xref": "paper", "yref": "y", "x": 1, "y": level, "xanchor": "right",
                         "yanchor": "bottom", "showarrow": False,
                         "text": f"threshold: on {relation} {level:+.2f}"}],
        "height": 300, "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "meta": token_meta(T), "hovermode": "x unified",
    }
    return figure(data, layout)


def length_histogram(full_lengths: np.ndarray, shown_lengths: Sequence[int]) -> go.Figure:
    """How long the matches are: every run where all the selected units are on (bars), and the
    matches listed (a second series)."""
    full = np.bincount(np.asarray(full_lengths, dtype=np.intp)) if len(full_lengths) else np.zeros(0)
    shown = np.bincount(np.asarray(shown_lengths, dtype=np.intp)) if len(shown_lengths) else np.zeros(0)
    data = [
        {"type": "bar", "x": np.flatnonzero(full), "y": full[full > 0], "marker": {"color": "#0072B2"},
         "name": "every run with all the units on",
         "hovertemplate": "%{y} runs of %{x} steps<extra></extra>"},
        {"type": "bar", "x": np.flatnonzero(shown), "y": shown[shown > 0], "marker": {"color": SPAN_COLOUR},
         "name": "the matches listed", "hovertemplate": "%{y} listed matches of %{x} steps<extra></extra>"},
    ]
    layout = {"barmode": "group", "xaxis": {"title": {"text": "match length (steps)"}},
              "yaxis": {"title": {"text": "runs"}}, "height": 280,
              "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
              "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}}
    return figure(data, layout)
