"""Chart builders of the music page: bar lines on a note axis, one unit's state over the notes.

NumPy arrays in, ``plotly.graph_objects.Figure`` out; no Streamlit calls. Note labels reach the
figures only through ``app.charts.base.plot_text`` (via ``token_categories``/``token_ticks``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from app.charts.base import token_categories, token_ticks

BAR_LINE = {"color": "rgba(128,128,128,0.9)", "width": 1.5, "dash": "dot"}


def bar_line_shapes(bar_starts: Sequence[int]) -> list[dict]:
    """One vertical line per bar line, just before each note that starts a bar (x in category
    positions, the whole height of the figure)."""
    return [{"type": "line", "xref": "x", "yref": "paper", "x0": t - 0.5, "x1": t - 0.5, "y0": 0,
             "y1": 1, "line": BAR_LINE, "layer": "above"} for t in bar_starts]


def mark_bars(fig: go.Figure, bar_starts: Sequence[int]) -> go.Figure:
    """``fig`` (a chart whose x axes are the notes, shared) with its bar lines drawn; returns it."""
    fig.update_layout(shapes=[*(fig.layout.shapes or ()), *bar_line_shapes(bar_starts)])
    return fig


def unit_over_notes(labels: Sequence[str], values: np.ndarray, signal: np.ndarray,
                    bar_starts: Sequence[int], *, title: str, value_name: str,
                    signal_name: str) -> go.Figure:
    """One unit's state (left axis, line and dots) and a property (right axis, dashed steps)
    over the notes, bar lines marked."""
    x = token_categories(labels)
    positions, ticktext = token_ticks(labels)
    fig = go.Figure(
        [
            go.Scatter(x=x, y=np.asarray(values, np.float64), name=value_name, mode="lines+markers",
                       line={"color": "#0072B2", "width": 2},
                       hovertemplate="%{x}<br>" + value_name + " = %{y:.3f}<extra></extra>"),
            go.Scatter(x=x, y=np.asarray(signal, np.float64), name=signal_name, yaxis="y2",
                       mode="lines", line={"color": "#E69F00", "width": 2, "dash": "dash", "shape": "hv"},
                       hovertemplate="%{x}<br>" + signal_name + " = %{y:.3g}<extra></extra>"),
        ],
        layout={
            "title": {"text": title},
            "height": 330,
            "margin": {"l": 55, "r": 55, "t": 60, "b": 60},
            "xaxis": {"type": "category", "tickmode": "array", "tickvals": [x[t] for t in positions],
                      "ticktext": ticktext, "tickangle": 0, "title": {"text": "note (step t →)"}},
            "yaxis": {"title": {"text": value_name}},
            "yaxis2": {"title": {"text": signal_name}, "overlaying": "y", "side": "right",
                       "showgrid": False},
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
        },
    )
    return mark_bars(fig, bar_starts)
