"""Chart builders of the Gradients page: NumPy arrays in, ``plotly.graph_objects.Figure`` out.

No Streamlit calls. Every curve is keyed by its cell's display name ("RNN", "LSTM", "GRU"), which
is also the trace name in the figure. Colours are from the Okabe-Ito palette (distinguishable with
the common colour-vision deficiencies), one per cell and the same on every chart; the RNN's curves
are also dashed so the charts read without colour.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.charts.base import plot_text, token_meta, token_ticks
from app.charts.palette import GUIDE_COLOUR, cell_colour, cell_dash


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    """Plotly draws a gap for None; -inf (an exactly zero Jacobian) and NaN become gaps."""
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def _token_axis(fig: go.Figure, labels: Sequence[str], title: str, **where) -> None:
    """x axis over token positions 0..T-1, ticked with the characters (every k-th if there are many)."""
    positions, texts = token_ticks(labels)
    fig.update_xaxes(
        title_text=title, tickmode="array", tickvals=positions, ticktext=texts, tickangle=0,
        range=[-0.5, max(len(labels), 1) - 0.5], zeroline=False, showgrid=False, **where,
    )
    fig.update_layout(meta=token_meta(len(labels)))


def _hover_tokens(labels: Sequence[str]) -> list[str]:
    return [plot_text(s) for s in labels]


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 70, "r": 20, "t": 70, "b": 60},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        hovermode="x unified",
    )
    return fig


def gradient_figure(
    log_norms: Mapping[str, np.ndarray],
    labels: Sequence[str],
    spans: Mapping[str, int],
    decades: float = 3.0,
    *,
    archs: Mapping[str, str],
    backward: Collection[str] = (),
) -> go.Figure:
    """log10 ||d h_T / d h_t|| against t, one curve per cell, with each cell's memory span marked.

    ``log_norms``: name -> (T,) log10 Jacobian norms (``cells.jacobian_norms``), all of the same
    length. A dotted line marks ``decades`` below the value at T-1 (log10 sqrt(H)), one line per
    hidden size when the cells' sizes differ.
    ``spans``: name -> memory span in tokens; a diamond marks where each span ends.
    ``archs``: name -> the curve's cell (a registered name): its colour and dash.
    ``backward``: the names of curves of a bidirectional model's backward direction, which reads
    from the last token to the first: their gradient is followed from token 0 (the state it ends
    at), so their span counts forward from there and their threshold is from their value at 0.
    """
    fig = go.Figure()
    T = len(labels)
    hover = _hover_tokens(labels)
    for name, values in log_norms.items():
        reversed_ = name in backward
        back = np.arange(T) if reversed_ else np.arange(T - 1, -1, -1)  # tokens back, as it read
        colour = cell_colour(archs[name])
        fig.add_trace(
            go.Scatter(
                x=np.arange(T), y=_finite_or_none(values), name=name, mode="lines",
                line={"color": colour, "width": 2.5, "dash": cell_dash(archs[name])},
                customdata=np.stack([hover, back], axis=1) if T else None,
                hovertemplate=f"{name}: %{{y:.2f}}<extra>token %{{customdata[0]}}, "
                "%{customdata[1]} back</extra>",
            )
        )
        if name in spans and T:
            t_end = spans[name] if reversed_ else T - 1 - spans[name]
            fig.add_trace(
                go.Scatter(
                    x=[t_end], y=_finite_or_none(np.asarray([values[t_end]])), mode="markers",
                    marker={"symbol": "diamond", "size": 11, "color": colour, "line": {"width": 1}},
                    name=f"{name} span end", showlegend=False,
                    hovertemplate=f"{name} memory span: {spans[name]} tokens<extra></extra>",
                )
            )
    ends = sorted({round(float(v[0] if n in backward else v[-1]), 12)  # each curve's followed state
                   for n, v in log_norms.items()}) if T else []
    for k, end in enumerate(ends):  # one threshold per hidden size (log10 sqrt(H) at the last token)
        fig.add_trace(  # a trace, not a shape, so that the legend explains it
            go.Scatter(
                x=[-0.5, T - 0.5], y=[end - decades] * 2, mode="lines",
                name=f"span threshold: 10^-{decades:g} of the value at the last token",
                line={"color": GUIDE_COLOUR, "dash": "dot", "width": 1.5}, showlegend=k == 0,
                hoverinfo="skip",
            )
        )
    _token_axis(fig, labels, "token t")
    fig.update_yaxes(title_text="log10 ‖∂h_T / ∂h_t‖ (Frobenius)")
    return _layout(fig, "How much of the gradient at the last token reaches back to token t", 430)


def why_figure(
    labels: Sequence[str],
    steps: Mapping[str, tuple[np.ndarray, np.ndarray]],
    highways: Mapping[str, tuple[np.ndarray, int, str]],
    *,
    archs: Mapping[str, str],
) -> go.Figure:
    """Why the curves fall: the per-step Jacobians of the cells without a memory path, and the
    memory paths of the gated cells.

    Row 1 (if ``steps``), log scale: name -> (step_norms (T,), step_factors (T,)), the most one
    step can scale a gradient by, ||d h_t / d h_{t-1}||_2, and what each step did scale it by
    (measured), against a line at 1. Then one row per entry of ``highways``: name ->
    (log_products (T, H), best unit, path symbol), the mean over units of log10 prod_{k>t}
    path_k and the best unit's. ``archs``: name -> the cell (a registered name): its colour.
    """
    T = len(labels)
    hover = _hover_tokens(labels)
    titles = [f"{', '.join(steps)}: what one step back does to the gradient (below 1: it shrinks)"
              ] if steps else []
    titles += [
        f"{name}: running product of {gate}, log10 ∏_(k>t) ({gate})_k (0 = carried intact)"
        for name, (_, _, gate) in highways.items()
    ]
    rows = len(titles)
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, subplot_titles=titles, vertical_spacing=0.1)
    fig.update_annotations(font_size=13, x=0, xanchor="left")
    x = np.arange(T)
    for name, (step_norms, factors) in steps.items():
        colour = cell_colour(archs[name])
        for values, label, line in (
            (step_norms, "‖J_t‖₂: the most one step can do", {"color": colour, "dash": "dot", "width": 1.5}),
            (factors, "measured factor of step t", {"color": colour, "width": 2.5}),
        ):
            fig.add_trace(
                go.Scatter(
                    x=x, y=_finite_or_none(values), name=f"{name} {label}", mode="lines", line=line,
                    legend="legend", text=hover,
                    hovertemplate=f"token %{{text}}: %{{y:.3f}}<extra>{name} {label}</extra>",
                ),
                row=1, col=1,
            )
    if steps:
        fig.add_hline(y=1.0, line={"color": GUIDE_COLOUR, "dash": "dash", "width": 1}, row=1, col=1)
        fig.update_yaxes(title_text="factor per step", type="log", row=1, col=1)
    for row, (name, (log_products, best, gate)) in enumerate(highways.items(), start=1 + bool(steps)):
        colour = cell_colour(archs[name])
        legend = "legend" if row == 1 else f"legend{row}"
        for values, label, line in (
            (log_products.mean(axis=1), "mean over units", {"color": colour, "width": 2.5}),
            (log_products[:, best], f"best unit (#{best})", {"color": colour, "width": 1.5, "dash": "dot"}),
        ):
            fig.add_trace(
                go.Scatter(
                    x=x, y=_finite_or_none(values), name=f"{name} {label}", mode="lines", line=line,
                    legend=legend, text=hover,
                    hovertemplate=f"token %{{text}}: log10 ∏({gate}) = %{{y:.2f}}"
                    f"<extra>{name} {label}</extra>",
                ),
                row=row, col=1,
            )
        fig.update_yaxes(title_text=f"log10 ∏ {gate}", row=row, col=1)
    for row in range(1, rows + 1):
        _token_axis(fig, labels, "token t" if row == rows else "", row=row, col=1)
        top = fig.layout[f"yaxis{'' if row == 1 else row}"].domain[1]
        fig.update_layout({  # each row's legend on its title's line, right-aligned
            f"legend{'' if row == 1 else row}": {
                "x": 1, "xanchor": "right", "y": top, "yanchor": "bottom", "orientation": "h",
                "bgcolor": "rgba(0,0,0,0)",
            }
        })
    fig.update_xaxes(showticklabels=True)
    fig.update_layout(hovermode="x unified", height=250 * rows + 40,
                      margin={"l": 70, "r": 20, "t": 40, "b": 60})
    return fig


def divergence_figure(
    distances: Mapping[str, np.ndarray],
    labels: Sequence[str],
    position: int,
    tol: float,
    *,
    archs: Mapping[str, str],
) -> go.Figure:
    """||h_t - h'_t|| on a log scale after token ``position`` was changed, one curve per cell
    (``archs``: name -> the cell, a registered name: its colour and dash).

    Steps before the edit (distance 0) are not drawn; a dotted line marks the tolerance.
    """
    fig = go.Figure()
    T = len(labels)
    hover = _hover_tokens(labels)
    x = np.arange(position, T)
    for name, d in distances.items():
        d = np.asarray(d, dtype=np.float64)[position:]
        fig.add_trace(
            go.Scatter(
                x=x, y=[float(v) if v > 0 else None for v in d], name=name, mode="lines",
                line={"color": cell_colour(archs[name]), "width": 2.5, "dash": cell_dash(archs[name])},
                text=hover[position:],
                hovertemplate=f"{name}: %{{y:.2e}}<extra>token %{{text}}</extra>",
            )
        )
    fig.add_hline(y=tol, line={"color": GUIDE_COLOUR, "dash": "dot", "width": 1})
    fig.add_annotation(  # on a log axis an annotation's y is log10 of the value
        x=1, xref="paper", xanchor="right", y=np.log10(tol), yanchor="top", showarrow=False,
        text=f"tolerance {tol:g}", font={"color": GUIDE_COLOUR},
    )
    if T:
        fig.add_vline(x=position, line={"color": GUIDE_COLOUR, "width": 1})
        fig.add_annotation(
            x=position, y=1, yref="paper", xanchor="left", yanchor="bottom", showarrow=False,
            text="edited token", font={"color": GUIDE_COLOUR},
        )
    _token_axis(fig, labels, "token t")
    fig.update_yaxes(type="log", title_text="‖h_t − h′_t‖ (log scale)", exponentformat="power")
    return _layout(fig, "How long one changed token stays visible in the hidden state", 400)
