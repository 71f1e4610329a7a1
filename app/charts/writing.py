"""Chart builders of the Write page: what a model wrote, coloured by what wrote it, and what it
could have written at each step.

NumPy arrays in, ``plotly.graph_objects.Figure`` out; no Streamlit calls. Text reaches a figure
only through ``app.charts.base.plot_text`` (as labels of heatmap cells), never as HTML.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from app.charts.base import GATE_SCALE, STATE_SCALE, plot_text
from app.charts.text import ROW_PX, text_grid

WIDTH = 32
"""Characters per row of the written text (three models side by side)."""

WINDOW = 12
"""Written steps the next-character chart shows at first (drag it to see the others)."""

PROB_SCALE = "Blues"
MARK_COLOUR = "#D55E00"
"""Okabe-Ito vermilion: where the writing starts, and the character written at each step."""


def written_text(
    labels: Sequence[str],
    values: np.ndarray,
    start: int,
    *,
    text: str,
    title: str,
    value_name: str,
    gate: bool = False,
    width: int = WIDTH,
) -> go.Figure:
    """``text`` (the beginning's shown part, then the writing from index ``start``) as a grid of
    characters, each coloured by ``values`` (T,), the activation after reading it: on the fixed
    0-1 Cividis gate scale when ``gate``, else red-blue (blue +, red −, white 0) symmetric around 0;
    the title says where the scale ends.

    The beginning is drawn faded with grey italic characters; the writing at full strength; a
    vermilion bar marks the left edge of the first written character ("▶" in its hover).
    """
    T = len(text)
    values = np.asarray(values, dtype=np.float64)  # (T,)
    if values.shape != (T,) or len(labels) != T or not 0 <= start <= T:
        raise ValueError(f"need one value and one label per character and 0 <= start <= {T}: "
                         f"{values.shape} values, {len(labels)} labels, start {start}")
    rows, cols = text_grid(text, width)
    n_rows = int(rows[-1]) + 1 if T else 1
    if gate:
        scale, lo, hi = GATE_SCALE, 0.0, 1.0
    else:
        limit = max(float(np.max(np.abs(values))) if T else 0.0, 1e-6)
        scale, lo, hi = STATE_SCALE, -limit, limit
    fig = go.Figure()
    for part, (a, b) in (("your beginning", (0, start)), ("written", (start, T))):
        z = np.full((n_rows, width), np.nan)  # (R, W) empty cells stay blank
        shown = np.full((n_rows, width), "", dtype=object)
        hover = np.full((n_rows, width), "", dtype=object)
        for t in range(a, b):
            r, c = rows[t], cols[t]
            z[r, c] = values[t]
            safe = plot_text(labels[t])
            shown[r, c] = "" if text[t] == " " else safe
            mark = "▶ " if t == start else ""
            hover[r, c] = f"{mark}{part}, char {t - start if part == 'written' else t}: «{safe}»"
        beginning = part == "your beginning"
        fig.add_trace(go.Heatmap(
            z=z, text=shown, customdata=hover, texttemplate="%{text}", name=part,
            textfont={"size": 12, "family": "monospace", "color": "#888888" if beginning else None,
                      "style": "italic" if beginning else "normal"},
            colorscale=scale, zmin=lo, zmax=hi, zmid=None if gate else 0.0, xgap=1, ygap=1,
            showscale=False, opacity=0.35 if beginning else 1.0, hoverongaps=False,
            hovertemplate=f"%{{customdata}}<br>{value_name} = %{{z:.3f}}<extra></extra>",
        ))
    if start < T:
        r, c = int(rows[start]), int(cols[start])
        fig.add_shape(type="line", x0=c - 0.5, x1=c - 0.5, y0=r - 0.5, y1=r + 0.5,
                      line={"color": MARK_COLOUR, "width": 4})
    fig.update_xaxes(visible=False, range=[-0.7, width - 0.5], fixedrange=True)
    fig.update_yaxes(visible=False, range=[n_rows - 0.5, -0.5], fixedrange=True)
    ends = "0 to 1" if gate else f"darkest at ±{hi:.3g}"
    fig.update_layout(
        title={"text": f"{title} <span style='font-size:12px'>({ends})</span>",
               "x": 0, "xanchor": "left", "font": {"size": 14}},
        height=n_rows * ROW_PX + 50, showlegend=False,
        margin={"l": 10, "r": 10, "t": 36, "b": 10},
    )
    return fig


def next_char_chart(
    written: Sequence[str],
    top_labels: np.ndarray,
    top_probs: np.ndarray,
    chosen_rank: np.ndarray,
    chosen_p: np.ndarray,
    *,
    title: str,
    window: int = WINDOW,
) -> go.Figure:
    """At each written step k (a column, labelled by the character written there), the model's K
    likeliest next characters (rows, likeliest on top) coloured by probability, each cell labelled
    with its character; a vermilion square marks the one written. When the written character is not
    among the K (sampling can draw an unlikely one), the extra bottom row "lower" holds it.

    written (N,) visible labels; top_labels (N, K); top_probs (N, K); chosen_rank (N,) the written
    character's rank (0 = likeliest); chosen_p (N,) its probability. The x axis opens on the
    first ``window`` steps; drag to pan.
    """
    N = len(written)
    top_probs = np.asarray(top_probs, dtype=np.float64)  # (N, K)
    if top_probs.ndim != 2 or top_probs.shape[0] != N:
        raise ValueError(f"need K probabilities per written step ({N}), got {top_probs.shape}")
    K = top_probs.shape[1]
    top_labels = np.asarray(top_labels, dtype=object).reshape(N, K)  # (N, K)
    chosen_rank = np.asarray(chosen_rank, dtype=np.int64)  # (N,)
    chosen_p = np.asarray(chosen_p, dtype=np.float64)  # (N,)
    if chosen_rank.shape != (N,) or chosen_p.shape != (N,):
        raise ValueError(f"need one chosen rank and probability per written step ({N})")
    lower = chosen_rank >= K
    z = np.full((K + 1, N), np.nan)  # (K + 1, N): ranks, then "lower"
    z[:K] = top_probs.T
    z[K, lower] = chosen_p[lower]
    cell_text = np.full((K + 1, N), "", dtype=object)
    cell_text[:K] = np.vectorize(plot_text, otypes=[object])(top_labels.T) if N else cell_text[:K]
    safe_written = [plot_text(w) for w in written]
    cell_text[K, lower] = [safe_written[k] for k in np.flatnonzero(lower)]
    hover = np.full((K + 1, N), "", dtype=object)
    for k in range(N):
        head = f"step {k}: wrote «{safe_written[k]}» (p = {chosen_p[k]:.3f}, rank {chosen_rank[k] + 1})"
        for r in range(K):
            hover[r, k] = f"{head}<br>candidate {r + 1}: «{cell_text[r, k]}»"
        hover[K, k] = head + ("" if lower[k] else "<br>(among the top candidates above)")
    x = np.arange(N)
    y = [f"{r + 1}" for r in range(K)] + ["lower"]
    fig = go.Figure(go.Heatmap(
        x=x, y=y, z=z, text=cell_text, customdata=hover, texttemplate="%{text}",
        textfont={"size": 12, "family": "monospace"}, colorscale=PROB_SCALE, zmin=0.0, zmax=1.0,
        xgap=1, ygap=1, hoverongaps=False, hovertemplate="%{customdata}<br>p = %{z:.3f}<extra></extra>",
        colorbar={"title": {"text": "p", "side": "right"}, "thickness": 10, "len": 0.9},
    ))
    fig.add_trace(go.Scatter(
        x=x, y=[y[min(int(r), K)] for r in chosen_rank], mode="markers", name="written",
        marker={"symbol": "square-open", "size": 17, "color": MARK_COLOUR, "line": {"width": 2.5}},
        hoverinfo="skip",
    ))
    ticks = list(x)
    fig.update_xaxes(tickvals=ticks, ticktext=safe_written, tickangle=0, title_text="written character",
                     range=[-0.5, min(N, window) - 0.5], tickfont={"family": "monospace"})
    fig.update_yaxes(title_text="rank", autorange="reversed", fixedrange=True, type="category")
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 14}},
        height=(K + 1) * 26 + 130, showlegend=False, dragmode="pan",
        margin={"l": 60, "r": 10, "t": 40, "b": 10},
    )
    return fig
