"""Gate saturation per unit (Karpathy, Johnson & Fei-Fei 2015, fig. 3): how often each unit's
gates sit near 0 or near 1."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.charts.base import GATE_COLOURS, OTHER_COLOUR


def saturation_scatter(saturations: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]],
                       titles: Mapping[str, str]) -> go.Figure:
    """Gate saturation per unit, one panel per cell (Karpathy, Johnson & Fei-Fei 2015, fig. 3).

    saturations: cell name -> gate -> (left (H,), right (H,)), the fraction of steps each unit's
    gate is below 0.1 (x) and above 0.9 (y); ``titles``: gate symbol -> its title. Both axes are
    fixed to 0..1; points on the diagonal x + y = 1 are always saturated.
    """
    names = list(saturations)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names,
                        horizontal_spacing=0.08)
    for col, name in enumerate(names, start=1):
        for gate, (left, right) in saturations[name].items():
            fig.add_trace(go.Scatter(
                x=left, y=right, mode="markers", name=f"{name} {titles.get(gate, gate)}",
                marker={"color": GATE_COLOURS.get(gate, OTHER_COLOUR), "size": 7, "opacity": 0.75},
                customdata=np.arange(len(left)),
                hovertemplate=f"unit %{{customdata}}, {gate}: <0.1 %{{x:.0%}}, >0.9 %{{y:.0%}}"
                "<extra></extra>",
            ), row=1, col=col)
        fig.add_trace(go.Scatter(x=[0, 1], y=[1, 0], mode="lines", showlegend=False,
                                 line={"dash": "dot", "color": "#888888", "width": 1},
                                 hoverinfo="skip"), row=1, col=col)
    fig.update_xaxes(range=[-0.02, 1.02], title_text="fraction of steps < 0.1 (left-saturated)",
                     tickformat=".0%")
    fig.update_yaxes(range=[-0.02, 1.02], tickformat=".0%")
    fig.update_yaxes(title_text="fraction of steps > 0.9 (right-saturated)", row=1, col=1)
    fig.update_layout(height=450, margin={"l": 70, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": -0.25})
    return fig
