"""Chart builders: NumPy arrays in, ``plotly.graph_objects.Figure`` out. No Streamlit calls.

Colour scales (both readable with the common colour-vision deficiencies):

* the sigmoid gates (a cell's ``Gate`` records with role ``"sigmoid"``: LSTM f i o, GRU r z),
  which live in [0, 1], use **Cividis** on a FIXED 0-1 range, so the same colour means the same
  gate value on every chart and every input;
* the candidates (LSTM g, GRU n) and the hidden state h, which live in [-1, 1], use **RdBu**
  (red negative, blue positive) on a fixed -1..1 range, centred at 0;
* a cell state c, which is unbounded, uses RdBu centred at 0 and symmetric (±max |c|).

Which row is which comes from the cell's own description (``cells.Gate``: symbol, title, role)
and its ``equation_lines``; nothing here knows a cell by name.

Token axes label every token with its (visible, escaped) character while that stays readable and
thin out to every k-th token beyond :data:`MAX_TICKS` tokens. Text that came from a user only
enters a figure through :func:`plot_text`, because Plotly reads a little HTML in labels.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cells.core.cell import Gate

GATE_SCALE = "Cividis"
STATE_SCALE = "RdBu"
MAX_TICKS = 90
"""Most token tick labels on one axis; longer sequences label every k-th token."""

STATE_TITLES = {"c": "cell state c", "h": "hidden state h"}
GATE_COLOURS = {  # Okabe-Ito, a colour-blind-safe qualitative palette, by the papers' symbols
    "f": "#E69F00", "i": "#56B4E9", "o": "#009E73", "g": "#CC79A7",
    "r": "#E69F00", "z": "#56B4E9", "n": "#CC79A7", "c": "#D55E00", "h": "#0072B2",
}
OTHER_COLOUR = "#999999"
"""A symbol the table does not know (a new cell's gate)."""


def row_titles(gates: Sequence[Gate]) -> dict[str, str]:
    """What a chart calls each row: the cell's gate titles, then the states."""
    return {**{g.name: g.title for g in gates}, **STATE_TITLES}


def sigmoid_rows(gates: Sequence[Gate]) -> frozenset[str]:
    """The rows on the fixed 0-1 gate scale."""
    return frozenset(g.name for g in gates if g.sigmoid)
NEUTRAL_TEMPLATE = go.layout.Template(layout={
    "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
    "font": {"color": "#777777", "family": "Source Sans Pro, sans-serif", "size": 13},
    "colorway": ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442"],
    "xaxis": {"gridcolor": "rgba(128,128,128,0.25)", "zerolinecolor": "rgba(128,128,128,0.6)",
              "linecolor": "rgba(128,128,128,0.6)"},
    "yaxis": {"gridcolor": "rgba(128,128,128,0.25)", "zerolinecolor": "rgba(128,128,128,0.6)",
              "linecolor": "rgba(128,128,128,0.6)"},
    "legend": {"bgcolor": "rgba(0,0,0,0)"},
    "hoverlabel": {"font": {"size": 13}},
})
"""One look for every chart in both of Streamlit's themes: transparent backgrounds, mid-grey text
(about 4.5:1 contrast on white and on Streamlit's dark background). Drawing with Streamlit's own
Plotly theme instead doubles the time a browser needs to re-render the Gates page."""

def chart_config(name: str) -> dict[str, Any]:
    """Plotly config for ``ui.show_chart``: PNG export from the toolbar as ``gatescope-<name>.png``."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": f"gatescope-{name}", "scale": 2},
    }


def plot_text(text: str) -> str:
    """``text`` with ``&``, ``<`` and ``>`` as entities, which Plotly shows literally (no tags)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def token_ticks(labels: Sequence[str], max_ticks: int = MAX_TICKS) -> tuple[list[int], list[str]]:
    """Tick positions and texts for a token axis: every token, or every k-th one if there are many.

    ``max_ticks`` one-character labels fit; longer labels (numbers mode's values) thin out more.
    """
    width = sum(len(label) for label in labels) / max(1, len(labels))  # mean characters
    every = max(1, math.ceil(len(labels) * max(1.0, (width + 1) / 2) / max_ticks))
    positions = list(range(0, len(labels), every))
    return positions, [plot_text(labels[t]) for t in positions]


def token_categories(labels: Sequence[str]) -> list[str]:
    """One unique, readable category per step for a token axis: ``"12: c"`` (step: token)."""
    return [f"{t}: «{plot_text(label)}»" for t, label in enumerate(labels)]


def cell_state_range(c: np.ndarray | None) -> float:
    """Half-width of the symmetric scale for the cell state c: 1, or wider to hold 90% of |c|.

    A few LSTM units count far past the rest (|c| of 30 where most stay below 2); scaling to the
    maximum would wash every other unit out, so the top 10% saturate at the scale's ends instead.
    """
    if c is None or c.size == 0:
        return 1.0
    return max(1.0, float(np.percentile(np.abs(c), 90)))


def axis_id(prefix: str, n: int) -> str:
    """Plotly's axis names: x, x2, x3 (traces) or xaxis, xaxis2 (layout) for subplot n >= 1."""
    return prefix if n == 1 else f"{prefix}{n}"


@functools.lru_cache(maxsize=32)
def _grid_layout(rows: int, cols: int, titles: tuple[str, ...], **kwargs: Any) -> str:
    return make_subplots(rows=rows, cols=cols, subplot_titles=titles, **kwargs).layout.to_json()


def subplot_grid(rows: int, cols: int, titles: Sequence[str], **kwargs: Any) -> dict[str, Any]:
    """A fresh layout dict of a subplot grid (axes, domains, subplot titles), as make_subplots
    makes it; cached, since the grid depends only on these arguments."""
    return json.loads(_grid_layout(rows, cols, tuple(titles), **kwargs))


def token_meta(T: int) -> dict[str, int]:
    """``layout.meta`` of a chart of a T-token sequence: the browser tests and benchmarks read it
    (``gd._fullLayout.meta.tokens``) to know the chart shows the sequence just typed."""
    return {"tokens": int(T)}


def figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """The one constructor of the app's figures from plain dicts, without Plotly's per-property
    validation when Plotly still offers that.

    The builders here make every property themselves from arrays, and validating costs 7-15 ms a
    chart on every edit (measured: the Gates page's three charts, 100 and 2,000 characters). The
    unvalidated path is Plotly's private ``go.Figure(..., _validate=False)``; should a Plotly
    release drop it, this falls back to the public, validating constructor (same figure, slower),
    and ``tests/test_charts.py::test_the_unvalidated_constructor_still_exists_and_agrees`` fails
    to say so.
    """
    return construct(go.Figure, {"data": data, "layout": layout})


def construct(make: Any, spec: dict[str, Any]) -> Any:
    """``make(spec)`` (go.Figure or a figure's ``__init__``) unvalidated if Plotly allows it, else
    validated."""
    if _UNVALIDATED:
        try:
            return make(spec, _validate=False)
        except TypeError:  # a Plotly without the private keyword
            pass
    return make(spec)


_UNVALIDATED = True
"""Whether :func:`figure` may try Plotly's private unvalidated path (tests switch it off to
compare both paths)."""
