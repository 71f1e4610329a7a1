"""Chart builders of the forecast section: a ``cells.science.forecast.Evaluation`` in, a Plotly figure or a
table out. No Streamlit calls. Cells keep their colours (``app.charts.palette``); the
naive forecasts are grey, dotted and dash-dotted, so the chart reads without colour.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.charts.palette import GUIDE_COLOUR, cell_colour, cell_dash
from cells.science.forecast import NAIVE, SEASONAL, Evaluation

BASELINE_STYLE = {NAIVE: ("#999999", "dot"), SEASONAL: ("#666666", "dashdot")}
CONTEXT_PERIODS = 3
"""The chart shows this many periods of the series before the scored tail."""


def forecaster_label(name: str, period: int) -> str:
    return f"{SEASONAL} (period {period})" if name == SEASONAL else name


def error_frame(ev: Evaluation) -> pd.DataFrame:
    """One row per forecaster (the cells, then the naive forecasts), MAE and RMSE at every horizon,
    in the series' units."""
    rows = []
    for name, by_k in ev.errors.items():
        row: dict[str, object] = {"forecaster": forecaster_label(name, ev.period)}
        for k in ev.horizons:
            row[f"MAE, {k} ahead"] = round(by_k[k].mae, 2)
            row[f"RMSE, {k} ahead"] = round(by_k[k].rmse, 2)
        rows.append(row)
    return pd.DataFrame(rows)


def forecast_figure(ev: Evaluation, k: int, archs: Mapping[str, str]) -> go.Figure:
    """The series (its last periods and the scored tail, shaded) and every forecaster's forecasts of
    the tail made ``k`` steps before each value; a model's line in its cell's colour (``archs``:
    name -> the cell, a registered name), the naive forecasts grey."""
    first = int(ev.targets[0])
    start = max(0, first - CONTEXT_PERIODS * ev.period)
    t = np.arange(start, len(ev.values))
    fig = go.Figure()
    fig.add_vrect(x0=first - 0.5, x1=len(ev.values) - 0.5, fillcolor=GUIDE_COLOUR, opacity=0.12,
                  line_width=0, annotation_text="scored", annotation_position="top left")
    fig.add_trace(go.Scatter(x=t, y=ev.values[start:], name="series", mode="lines+markers",
                             line={"color": "#000000", "width": 2}, marker={"size": 4},
                             hovertemplate="step %{x}: %{y:.4g}<extra>series</extra>"))
    for name, by_k in ev.forecasts.items():
        colour, dash = BASELINE_STYLE.get(name) or (cell_colour(archs[name]), cell_dash(archs[name]))
        label = forecaster_label(name, ev.period)
        fig.add_trace(go.Scatter(
            x=ev.targets, y=by_k[k], name=label, mode="lines",
            line={"color": colour, "dash": dash, "width": 2 if name in BASELINE_STYLE else 2.5},
            hovertemplate=f"{label}: %{{y:.4g}}<extra>step %{{x}}</extra>"))
    fig.update_xaxes(title_text="step of the series", range=[start - 0.5, len(ev.values) - 0.5])
    fig.update_yaxes(title_text="value")
    fig.update_layout(
        title={"text": f"Forecasts {k} step{'s' * (k != 1)} ahead of the last {len(ev.targets)} values",
               "x": 0, "xanchor": "left"},
        height=430, margin={"l": 70, "r": 20, "t": 70, "b": 60}, hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    )
    return fig
