"""Chart builders of the Train page: NumPy arrays in, ``plotly.graph_objects.Figure`` out.

No Streamlit calls. Curves are keyed by the cells' display names ("RNN", "LSTM", "GRU") and use
the Gradients page's colours and dashes (``app.charts.palette``), so a cell looks
the same on every page.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from app.charts.palette import GUIDE_COLOUR, cell_colour, cell_dash


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """(S,) trailing mean over the last ``window`` values (fewer at the start): a smoothed curve
    whose point s only uses losses up to step s, so it can be drawn while training runs."""
    values = np.asarray(values, dtype=np.float64)  # (S,)
    window = max(1, int(window))
    sums = np.cumsum(np.concatenate([[0.0], values]))  # (S+1,)
    ends = np.arange(1, values.size + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def smoothing_window(max_steps: int) -> int:
    """The moving-average window of a chart whose x axis ends at ``max_steps``: 1/40 of it."""
    return max(1, max_steps // 40)


def loss_figure(
    losses: Mapping[str, np.ndarray],
    *,
    max_steps: int,
    references: Mapping[str, float] | None = None,
    loss_name: str = "loss",
    archs: Mapping[str, str],
) -> go.Figure:
    """Training loss against step on a log scale, one colour per cell.

    ``losses``: name -> (S,) training-batch loss at steps 1..S (S may differ between cells and
    grow while training runs). Each cell gets its raw losses as a faint line and their moving
    average (:func:`smoothing_window`) as a bold one. The x axis is fixed to 1..``max_steps`` so a
    live chart does not rescale as steps arrive. ``references``: label -> loss, drawn as dotted
    horizontal lines (a pass mark, the loss of guessing). ``archs``: name -> the cell (a
    registered name): its colour and dash.
    """
    fig = go.Figure()
    window = smoothing_window(max_steps)
    for name, values in losses.items():
        values = np.asarray(values, dtype=np.float64)  # (S,)
        steps = np.arange(1, values.size + 1)
        colour = cell_colour(archs[name])
        positive = np.where(values > 0, values, np.nan)  # a log axis cannot draw 0
        fig.add_trace(go.Scatter(
            x=steps, y=positive, mode="lines", name=f"{name} (each batch)", legendgroup=name,
            showlegend=False, opacity=0.25, line={"color": colour, "width": 1},
            hoverinfo="skip",
        ))
        fig.add_trace(go.Scatter(
            x=steps, y=moving_average(values, window), mode="lines", name=name, legendgroup=name,
            line={"color": colour, "width": 2.5, "dash": cell_dash(archs[name])},
            hovertemplate=f"{name}, step %{{x}}: %{{y:.4g}}<extra>mean of {window} steps</extra>",
        ))
    for label, value in (references or {}).items():
        fig.add_hline(y=value, line={"color": GUIDE_COLOUR, "dash": "dot", "width": 1})
        fig.add_annotation(  # on a log axis an annotation's y is log10 of the value
            x=1, xref="paper", xanchor="right", y=np.log10(value), yanchor="top",
            showarrow=False, text=label, font={"color": GUIDE_COLOUR},
        )
    fig.update_xaxes(title_text="training step", range=[0, max_steps])
    fig.update_yaxes(title_text=f"{loss_name} (log scale)", type="log", exponentformat="power",
                     dtick=1)  # a tick per decade
    fig.update_layout(
        title={"text": f"Training loss, each batch (faint) and its mean over {window} steps",
               "x": 0, "xanchor": "left"},
        height=420, margin={"l": 70, "r": 20, "t": 70, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        hovermode="x unified",
    )
    return fig
