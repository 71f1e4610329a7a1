"""The heatmaps: every gate and state of the shown units, token by token, as blocks of one
heatmap, each block on its own fixed scale (gates 0..1 Cividis; candidates and h -1..1 RdBu;
c RdBu over ±its range), a long sequence drawn at about a screen's resolution."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from app.charts.base import (
    GATE_SCALE,
    STATE_SCALE,
    cell_state_range,
    figure,
    plot_text,
    row_titles,
    sigmoid_rows,
    token_categories,
    token_meta,
    token_ticks,
)
from cells.core.cell import Gate

MAX_COLUMNS = 500
"""Most columns a heatmap draws: a longer sequence is drawn at about a screen's resolution, one
column per k consecutive steps (their mean), the fewest k that fits. The scrubber and the CSV
export keep every step."""


def column_starts(T: int, max_columns: int = MAX_COLUMNS) -> np.ndarray:
    """The first step of each heatmap column: every step, or every k-th for T > ``max_columns``."""
    every = max(1, math.ceil(T / max_columns))
    return np.arange(0, T, every)


def columns(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``values`` (T, U) as one row per column (C, U), float32: the mean of each column's steps."""
    values = np.asarray(values, np.float32)
    if len(starts) == len(values):
        return values
    sums = np.add.reduceat(values.astype(np.float64), starts, axis=0)  # (C, U)
    counts = np.diff(np.r_[starts, len(values)])[:, None]
    return (sums / counts).astype(np.float32)


def column_categories(labels: Sequence[str], starts: np.ndarray) -> list[str]:
    """One unique category per heatmap column: ``"12: «c»"`` (step: token), or for a column of
    several steps ``"12–15: «cats»"`` (first–last step: their tokens)."""
    if len(starts) == len(labels):
        return token_categories(labels)
    ends = [*starts[1:], len(labels)]
    return [f"{a}–{b - 1}: «{''.join(plot_text(label) for label in labels[a:b])}»"
            for a, b in zip(starts, ends, strict=True)]


GATE_BAND = (0.0, 0.49)
SIGNED_BAND = (0.51, 1.0)
"""Where the gates' Cividis and the signed rows' RdBu sit on :func:`state_heatmaps`' one
composite colour scale (the gap between them is never drawn)."""


def _squeezed(scale: str, band: tuple[float, float]) -> tuple[tuple[float, str], ...]:
    lo, hi = band
    return tuple((lo + (hi - lo) * float(at), colour) for at, colour in get_colorscale(scale))


COMPOSITE_SCALE = _squeezed(GATE_SCALE, GATE_BAND) + _squeezed(STATE_SCALE, SIGNED_BAND)
"""Cividis squeezed into :data:`GATE_BAND`, RdBu into :data:`SIGNED_BAND`: one colour scale for a
heatmap whose rows are gates and signed values alike."""


def composite_values(values: np.ndarray, sigmoid: bool, half_range: float = 1.0) -> np.ndarray:
    """Where ``values`` fall on :data:`COMPOSITE_SCALE`: a gate's 0..1 in the gate band, a
    signed value's ``-half_range..half_range`` in the signed band (beyond it: the band's ends)."""
    lo, hi = GATE_BAND if sigmoid else SIGNED_BAND
    unit = np.clip(values, 0.0, 1.0) if sigmoid else (np.clip(values / half_range, -1.0, 1.0) + 1) / 2
    return (lo + (hi - lo) * unit).astype(np.float32)


def heatmap_rows(name: str, units: Sequence[int]) -> list[str]:
    """The y categories of one block of :func:`state_heatmaps`: ``"f · unit 4"``."""
    return [f"{name} · unit {u}" for u in units]


def state_heatmaps(
    rows: Mapping[str, np.ndarray],
    labels: Sequence[str],
    units: Sequence[int],
    *,
    gates: Sequence[Gate],
    title: str = "",
) -> go.Figure:
    """Every row of ``rows`` (in the order given: gates, then c and h), (T, U) each for the U
    shown ``units``, as a block of one heatmap, one block under the other; ``gates`` is the
    cell's description of its gates (titles, roles).

    labels: (T,) token labels. x = token (characters as tick labels), y = unit, block by block
    (categories :func:`heatmap_rows`); the hover shows token, row, unit and value.

    One heatmap trace on one pair of axes, not a subplot per row: the browser draws it in about
    a third of the time (README, "Benchmarks"). Every block keeps its own fixed scale: ``z`` holds
    each value's place on :data:`COMPOSITE_SCALE` (gates 0..1 Cividis; candidates and h
    -1..1 RdBu; c RdBu over ±:func:`cell_state_range`), ``customdata`` the values themselves.
    Two colour bars (two invisible one-cell traces) show the gates' scale and the signed one.
    """
    U = rows["h"].shape[1]  # h (T, U)
    unit_px = max(5.0, 110 / U)  # a block is at least 110 px tall
    starts = column_starts(len(labels))  # (C,) first step of each column
    every = int(starts[1] - starts[0]) if len(starts) > 1 else 1  # steps per column
    tokens = column_categories(labels, starts)  # (C,) one category per column, shown by the hover
    blocks = _blocks(rows, units, starts, row_titles(gates), sigmoid_rows(gates),
                     gap=math.ceil(22 / unit_px))  # blank rows above each block: its title
    step_word = "step" if every == 1 else f"mean of {every} steps"
    data = [{"type": "heatmap", "z": blocks.places, "customdata": blocks.values,
             "x": tokens, "y": blocks.categories, "zmin": 0.0, "zmax": 1.0,
             "colorscale": [list(stop) for stop in COMPOSITE_SCALE], "showscale": False,
             "hoverongaps": False, "name": "gates and states",
             "hovertemplate": f"{step_word} %{{x}}<br>%{{y}} = %{{customdata:.3f}}<extra></extra>"}]
    layout = _colour_bars(data, tokens[:1], blocks.categories[:1])
    positions, ticktext = token_ticks([labels[t] for t in starts])
    layout.update(
        xaxis={"type": "category", "tickmode": "array", "tickvals": [tokens[t] for t in positions],
               "ticktext": ticktext, "tickangle": 0, "showgrid": False, "side": "top",
               "tickfont": {"size": 11},
               "title": {"text": "token (step t →)" if every == 1 else
                         f"token (step t →; one column per {every} steps, their mean; every step "
                         "in the scrubber and the CSV)"}},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": blocks.categories,
               "autorange": "reversed", "showgrid": False, "showticklabels": U <= 16, "ticks": "",
               "tickmode": "array", "tickvals": blocks.unit_rows,
               "ticktext": [f"unit {u}" for _ in rows for u in units],
               "title": {"text": "unit" if U > 16 else ""}},
        annotations=blocks.titles,
        height=round(len(blocks.categories) * unit_px) + 150 + (40 if title else 0),
        margin={"l": 55, "r": 10, "t": 120 if title else 80, "b": 20},
        title={"text": title, "x": 0, "xanchor": "left", "y": 1, "yref": "container",
               "yanchor": "top", "pad": {"t": 12}, "font": {"size": 15}},
        meta=token_meta(len(labels)),
    )
    return figure(data, layout)


@dataclass(frozen=True)
class _Blocks:
    """The rows of :func:`state_heatmaps`, block under block: ``places`` (R, C) on
    :data:`COMPOSITE_SCALE`, ``values`` (R, C) for the hover, one y ``category`` per row (blank
    rows above each block hold its title: ``titles``, Plotly annotations), and which categories
    are units (``unit_rows``)."""

    places: np.ndarray
    values: np.ndarray
    categories: list[str]
    unit_rows: list[str]
    titles: list[dict[str, Any]]


def _blocks(rows: Mapping[str, np.ndarray], units: Sequence[int], starts: np.ndarray,
            titles: Mapping[str, str], sigmoid: frozenset[str], gap: int) -> _Blocks:
    c_max = cell_state_range(rows.get("c"))
    blank = np.full((gap, len(starts)), np.nan, np.float32)  # (gap, C)
    places, values, categories, annotations = [], [], [], []
    unit_rows: list[str] = []
    for k, (name, block) in enumerate(rows.items()):
        by_column = columns(block, starts).T  # (U, C)
        places.append(blank)  # above every block: its title
        values.append(blank)
        categories += [" " * (k * gap + j) for j in range(1, gap + 1)]  # unique, never shown
        annotations.append({
            "text": titles.get(name, name) + (f" (colour ends ±{c_max:.2g})" if name == "c" else ""),
            "x": 0, "xref": "paper", "xanchor": "left", "y": len(categories) - 0.5,
            "yref": "y", "yanchor": "bottom", "showarrow": False, "font": {"size": 13}})
        places.append(composite_values(by_column, name in sigmoid, c_max if name == "c" else 1.0))
        values.append(by_column)
        block_rows = heatmap_rows(name, units)
        unit_rows += block_rows
        categories += block_rows
    return _Blocks(np.vstack(places), np.vstack(values), categories, unit_rows, annotations)


def _colour_bars(data: list[dict[str, Any]], x: list[str], y: list[str]) -> dict[str, Any]:
    """Two colour bars, the gates' scale and the signed one: two invisible one-cell traces added
    to ``data``, and their colour axes (the layout they start)."""
    layout: dict[str, Any] = {}
    bars = {"coloraxis": (GATE_SCALE, 0.0, 1.0, "gates (0 to 1)", 0.8),
            "coloraxis2": (STATE_SCALE, -1.0, 1.0, "candidate, h (−1 to 1)", 0.3)}
    for axis, (scale, lo, hi, label, middle) in bars.items():
        data.append({"type": "heatmap", "z": [[lo]], "x": x, "y": y,
                     "coloraxis": axis, "opacity": 0, "hoverinfo": "skip"})  # its bar only
        layout[axis] = {"colorscale": get_colorscale(scale), "cmin": lo, "cmax": hi,
                        "colorbar": {"title": {"text": label, "side": "right"}, "y": middle,
                                     "len": 0.35, "yanchor": "middle", "thickness": 14}}
    return layout
