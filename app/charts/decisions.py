"""How a classifier's decision forms while it reads (``cells.science.decisions.Decision``): the
class probabilities after each token with the places the leading class changes, and what each
token did to the decided class.

Arrays in, Plotly figures out; class names and tokens come from the visitor's file and text, so
they enter a figure through ``plot_text`` only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from app.charts.base import figure, plot_text, subplot_grid, token_meta, token_ticks

CLASS_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")
"""Okabe-Ito, one per class; more classes than this cycle (their names tell them apart)."""
TOWARDS, AWAY = "#2166AC", "#B2182B"
"""Bars of a token that moved the decided class up (RdBu's blue) or down (its red)."""
MAX_CLASSES_DRAWN = 12
"""A head of more classes draws the decided class and the likeliest others, this many in all."""


def _steps_axis(labels: Sequence[str]) -> dict:
    positions, texts = token_ticks(labels)
    return {"tickmode": "array", "tickvals": positions, "ticktext": texts, "title": {"text": "token"}}


def class_probabilities_figure(probs: np.ndarray, labels: Sequence[str], classes: Sequence[str],
                               decided: int, flips: Sequence[int], *, title: str = "") -> go.Figure:
    """The probability of each class after each token: probs (T, O), labels (T,) the tokens,
    classes (O,) their names; the decided class drawn thicker, each step where the likeliest class
    changed marked by a dotted line. A head of many classes draws the decided one and the others
    likeliest at some step (:data:`MAX_CLASSES_DRAWN` in all)."""
    T = probs.shape[0]
    steps = np.arange(T)
    order = np.argsort(-probs.max(axis=0), kind="stable")
    drawn = [decided, *(int(k) for k in order if k != decided)][:MAX_CLASSES_DRAWN]
    hover = [plot_text(label) for label in labels]
    data = [{
        "type": "scatter", "mode": "lines", "x": steps, "y": probs[:, k], "name": plot_text(classes[k]),
        "line": {"color": CLASS_COLOURS[k % len(CLASS_COLOURS)], "width": 4 if k == decided else 1.8,
                 "dash": "solid" if k < len(CLASS_COLOURS) else "dot"},
        "customdata": hover, "hovertemplate": f"step %{{x}} «%{{customdata}}»: {plot_text(classes[k])} "
                                              "%{y:.1%}<extra></extra>",
    } for k in drawn]
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": t, "x1": t, "y0": 0, "y1": 1,
               "line": {"color": "#888888", "dash": "dot", "width": 1}} for t in flips]
    layout = {
        "title": {"text": plot_text(title)}, "height": 360, "meta": token_meta(T), "shapes": shapes,
        "xaxis": _steps_axis(labels), "margin": {"l": 60, "r": 20, "t": 60, "b": 60},
        "yaxis": {"range": [0, 1], "tickformat": ".0%", "title": {"text": "probability"}},
        "legend": {"orientation": "h", "y": -0.25},
    }
    return figure(data, layout)


def token_influence_figure(labels: Sequence[str], moved: np.ndarray, gradient_input: np.ndarray,
                           decided: str, *, title: str = "") -> go.Figure:
    """What each token did to the decided class ``decided``: row 1, the change in its probability
    when the token was read (``moved``, (T,)); row 2, the gradient of its logit at the decision
    with respect to the token's input times that input (``gradient_input``, (T,)). Bars up and
    blue pushed towards it, down and red away."""
    T = len(labels)
    steps = np.arange(T)
    hover = [plot_text(label) for label in labels]
    name = plot_text(decided)
    rows = ((moved, f"change in p({name})", "%{y:+.1%}"),
            (gradient_input, "gradient × input", "%{y:+.3g}"))
    layout = subplot_grid(2, 1, [f"what reading each token did to p({name})",
                                 f"∂ logit({name}) / ∂ input · input: how the decision leans on each token"],
                          shared_xaxes=True, vertical_spacing=0.14)
    data = []
    for k, (values, what, number) in enumerate(rows, start=1):
        data.append({
            "type": "bar", "x": steps, "y": values, "name": what, "showlegend": False,
            "marker": {"color": np.where(values >= 0, TOWARDS, AWAY).tolist()},
            "customdata": hover, "xaxis": "x" if k == 1 else f"x{k}", "yaxis": "y" if k == 1 else f"y{k}",
            "hovertemplate": f"step %{{x}} «%{{customdata}}»: {number}<extra></extra>",
        })
    layout.update(title={"text": plot_text(title)}, height=460, meta=token_meta(T), bargap=0.1,
                  margin={"l": 60, "r": 20, "t": 80, "b": 60})
    layout["xaxis2"].update(_steps_axis(labels))
    layout["yaxis"].update(tickformat="+.0%", zeroline=True)
    layout["yaxis2"].update(zeroline=True)
    return figure(data, layout)
