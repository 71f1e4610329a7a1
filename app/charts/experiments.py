"""The experiments' own chart: one panel per cell over a quotation's characters, the carrier
unit's keep and write gates, the running product of its memory gate, and what the opening quote
changed in its memory (``cells.science.carriers``)."""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import cells
from app.charts.base import plot_text
from app.charts.palette import cell_colour
from app.view.sequence import token_label
from cells.science.carriers import Carrier

GATE_STYLES = {"f": ("f (keep)", "solid"), "i": ("i (write)", "dot"),
               "z": ("z (keep; writes 1 − z)", "solid")}
"""The gates a carrier panel draws: the ones the story is about (keep and write)."""

MAX_WORD_TICKS = 60


def word_ticks(text: str, max_ticks: int = MAX_WORD_TICKS) -> tuple[list[int], list[str]]:
    """Tick positions at the first character of each word, labelled with the word (at most
    ``max_ticks`` of them, evenly thinned), so the axis reads as the text."""
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", text)]
    words = words[:: max(1, -(-len(words) // max_ticks))]
    return [k for k, _ in words], [plot_text(w[:14]) for _, w in words]


def carrier_figure(carriers: dict[str, Carrier], text: str) -> go.Figure:
    """One panel per cell over the text's characters: the carrier's keep/write gates and the running
    product of its highway gate since the quote was written (left axis, 0 to 1), and what the
    opening character changed in its memory, c − c′ or h − h′ (right axis)."""
    rows = list(carriers.values())
    fig = make_subplots(
        rows=len(rows), cols=1, shared_xaxes=True, vertical_spacing=0.2,
        subplot_titles=[f"{cells.cell_class(c.arch).display_name} unit #{c.unit}" for c in rows],
        specs=[[{"secondary_y": True}] for _ in rows],
    )
    t = np.arange(len(text))
    chars = [plot_text(label) for label in map(token_label, text)]
    hover = "%{y:.3f}"
    for row, c in enumerate(rows, start=1):
        name = cells.cell_class(c.arch).display_name
        colour = cell_colour(c.arch)
        common = {"row": row, "col": 1, "legendgroup": name, "legendgrouptitle_text": name}
        for gate, (label, dash) in GATE_STYLES.items():
            if gate in c.gates:
                fig.add_scatter(x=t, y=c.gates[gate], name=label,
                                hovertemplate=hover, line={"color": colour, "dash": dash, "width": 1.5},
                                **common)
        product = np.cumprod(c.gates[c.highway][c.written + 1: c.end])
        fig.add_scatter(x=t[c.written: c.end], y=np.r_[1.0, product],
                        name=f"running product of {c.highway} (the highway)", hovertemplate=hover,
                        line={"color": "#009E73", "width": 3}, **common)
        memory = cells.cell_class(c.arch).memory_state
        fig.add_scatter(x=t, y=c.change, customdata=chars,
                        hovertemplate="«%{customdata}» " + hover,
                        name=f"{memory} − {memory}′: what the quote changed in {memory} (right axis)",
                        line={"color": "#E69F00", "width": 3}, secondary_y=True, **common)
        fig.add_vrect(x0=c.start - 0.5, x1=c.end + 0.5, fillcolor="#888888", opacity=0.15,
                      line_width=0, row=row, col=1)
        fig.update_yaxes(title_text="gate", range=[0, 1.05], secondary_y=False, row=row, col=1)
        fig.update_yaxes(title_text=f"{memory} − {memory}′", secondary_y=True, showgrid=False,
                         tickformat=".1f", row=row, col=1)
    positions, labels = word_ticks(text)
    fig.update_xaxes(tickvals=positions, ticktext=labels, tickangle=-45, showgrid=False,
                     showticklabels=True, range=[-0.5, len(text) - 0.5])
    fig.update_layout(height=380 * len(rows) + 60, margin={"l": 60, "r": 60, "t": 40, "b": 40},
                      hovermode="x unified",
                      legend={"orientation": "h", "yanchor": "top", "y": -0.25 / len(rows)})
    return fig
