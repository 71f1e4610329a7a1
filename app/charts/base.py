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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale
from plotly.subplots import make_subplots

from cells.core.cell import Gate

GATE_SCALE = "Cividis"
STATE_SCALE = "RdBu"
MAX_TICKS = 90
"""Most token tick labels on one axis; longer sequences label every k-th token."""

MAX_FRAMES = 100
"""Most steps one scrubber holds; a longer sequence gets a window of this many steps around the
step it opens at (the page's "Scrubber opens at step" moves the window). Every frame is parsed
and stored by the browser on every edit, so a window, not the whole text."""

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


def cell_state_range(c: np.ndarray | None) -> float:
    """Half-width of the symmetric scale for the cell state c: 1, or wider to hold 90% of |c|.

    A few LSTM units count far past the rest (|c| of 30 where most stay below 2); scaling to the
    maximum would wash every other unit out, so the top 10% saturate at the scale's ends instead.
    """
    if c is None or c.size == 0:
        return 1.0
    return max(1.0, float(np.percentile(np.abs(c), 90)))


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
    titles = row_titles(gates)
    sigmoid = sigmoid_rows(gates)
    U = rows["h"].shape[1]  # h (T, U)
    unit_px = max(5.0, 110 / U)  # a block is at least 110 px tall
    gap = math.ceil(22 / unit_px)  # blank rows above each block: room for its title
    starts = column_starts(len(labels))  # (C,) first step of each column
    every = int(starts[1] - starts[0]) if len(starts) > 1 else 1  # steps per column
    tokens = column_categories(labels, starts)  # (C,) one category per column, shown by the hover
    c_max = cell_state_range(rows.get("c"))
    blank = np.full((gap, len(starts)), np.nan, np.float32)  # (gap, C)
    places, values, categories, annotations = [], [], [], []
    unit_rows: list[str] = []  # the categories that are units (the others are blank)
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
    step_word = "step" if every == 1 else f"mean of {every} steps"
    data = [{"type": "heatmap", "z": np.vstack(places), "customdata": np.vstack(values),
             "x": tokens, "y": categories, "zmin": 0.0, "zmax": 1.0,
             "colorscale": [list(stop) for stop in COMPOSITE_SCALE], "showscale": False,
             "hoverongaps": False, "name": "gates and states",
             "hovertemplate": f"{step_word} %{{x}}<br>%{{y}} = %{{customdata:.3f}}<extra></extra>"}]
    bars = {"coloraxis": (GATE_SCALE, 0.0, 1.0, "gates (0 to 1)", 0.8),
            "coloraxis2": (STATE_SCALE, -1.0, 1.0, "candidate, h (−1 to 1)", 0.3)}
    layout: dict[str, Any] = {}
    for axis, (scale, lo, hi, label, middle) in bars.items():
        data.append({"type": "heatmap", "z": [[lo]], "x": tokens[:1], "y": categories[:1],
                     "coloraxis": axis, "opacity": 0, "hoverinfo": "skip"})  # its bar only
        layout[axis] = {"colorscale": get_colorscale(scale), "cmin": lo, "cmax": hi,
                        "colorbar": {"title": {"text": label, "side": "right"}, "y": middle,
                                     "len": 0.35, "yanchor": "middle", "thickness": 14}}
    positions, ticktext = token_ticks([labels[t] for t in starts])
    layout.update(
        xaxis={"type": "category", "tickmode": "array", "tickvals": [tokens[t] for t in positions],
               "ticktext": ticktext, "tickangle": 0, "showgrid": False, "side": "top",
               "tickfont": {"size": 11},
               "title": {"text": "token (step t →)" if every == 1 else
                         f"token (step t →; one column per {every} steps, their mean; every step "
                         "in the scrubber and the CSV)"}},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": categories,
               "autorange": "reversed", "showgrid": False, "showticklabels": U <= 16, "ticks": "",
               "tickmode": "array", "tickvals": unit_rows,
               "ticktext": [f"unit {u}" for _ in rows for u in units],
               "title": {"text": "unit" if U > 16 else ""}},
        annotations=annotations,
        height=round(len(categories) * unit_px) + 150 + (40 if title else 0),
        margin={"l": 55, "r": 10, "t": 120 if title else 80, "b": 20},
        title={"text": title, "x": 0, "xanchor": "left", "y": 1, "yref": "container",
               "yanchor": "top", "pad": {"t": 12}, "font": {"size": 15}},
        meta=token_meta(len(labels)),
    )
    return figure(data, layout)


def _axis_id(prefix: str, n: int) -> str:
    """Plotly's axis names: x, x2, x3 (traces) or xaxis, xaxis2 (layout) for subplot n >= 1."""
    return prefix if n == 1 else f"{prefix}{n}"


@functools.lru_cache(maxsize=32)
def _grid_layout(rows: int, cols: int, titles: tuple[str, ...], **kwargs: Any) -> str:
    return make_subplots(rows=rows, cols=cols, subplot_titles=titles, **kwargs).layout.to_json()


def _grid(rows: int, cols: int, titles: Sequence[str], **kwargs: Any) -> dict[str, Any]:
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
    return _construct(go.Figure, {"data": data, "layout": layout})


def _construct(make: Any, spec: dict[str, Any]) -> Any:
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


def _short(values: np.ndarray) -> np.ndarray:
    """Values for frames, rounded to 3 decimals, what the hover shows (once per array; a frame
    takes a row's ``tolist()``): frames skip Plotly's binary array encoding, and full float reprs
    would triple their size in the page. A bar 1,000th of its axis is under a pixel."""
    return np.round(np.asarray(values, np.float64), 3)


@dataclass(frozen=True)
class Player:
    """How an animated figure is played, drawn by the page around the chart (``app.component.live_chart``):
    above it the caption of the frame shown, under it a play button and a step slider.

    captions: one per frame, in the frames' order (HTML; user text in them escaped with
    :func:`plot_text`); active: the index of the frame shown first; interval_ms: a frame's time
    when playing.
    """

    captions: tuple[str, ...]
    active: int = 0
    interval_ms: int = 350


class AnimatedFigure(go.Figure):
    """A Figure with animation frames and a :class:`Player`; the frames stay plain dicts until
    :meth:`to_dict`.

    Plotly turns every trace of every frame into an object (a few hundred frames of seven bar
    traces take a third of a second); the frames here are built from arrays and need none of
    that, so they are kept as they are and added to the dict that Streamlit and ``to_json`` use.
    """

    def __init__(self, data: list[dict[str, Any]], layout: dict[str, Any],
                 frames: list[dict[str, Any]], player: Player) -> None:
        _construct(super().__init__, {"data": data, "layout": layout})  # as :func:`figure`
        self._plain_frames = frames
        self._player = player  # a Figure takes no public attributes but its own properties

    @property
    def player(self) -> Player:
        return self._player

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "frames": self._plain_frames}


def _sub(text: str) -> str:
    """Paper notation to Plotly text: ``x_t`` -> x<sub>t</sub>, ``h_[t−1]`` -> h<sub>t−1</sub>."""
    return re.sub(r"_(\[[^\]]*\]|\w+)", lambda m: f"<sub>{m[1].strip('[]')}</sub>", text)


@functools.lru_cache(maxsize=32)
def _equation_text(lines: tuple[str, ...]) -> tuple[str, ...]:
    """A cell's ``equation_lines`` as Plotly text, made once per cell: a scrubber fills them in
    for every frame. Placeholders have no underscore, so :func:`_sub` leaves them alone."""
    return tuple(map(_sub, lines))


def _equations(lines: tuple[str, ...], unit: int, values: Mapping[str, float]) -> str:
    """A cell's equations for one unit, with one step's numbers in them (HTML: ``<br>`` and
    ``<sub>``, which Plotly's text reads too)."""
    numbers = {k: f"{x:.2f}" for k, x in values.items()}
    return f"equations of unit {unit}:<br>" + "<br>".join(
        line.format(**numbers) for line in _equation_text(lines))


def scrub_window(length: int, active: int, max_frames: int = MAX_FRAMES) -> range:
    """The steps a scrubber holds: all of them, or ``max_frames`` steps around ``active``."""
    start = min(max(0, active - max_frames // 2), max(0, length - max_frames))
    return range(start, min(length, start + max_frames))


def scrubber(
    rows: Mapping[str, np.ndarray],
    labels: Sequence[str],
    units: Sequence[int],
    *,
    gates: Sequence[Gate],
    equation_lines: tuple[str, ...],
    guesses: Sequence[Sequence[tuple[str, float]]] = (),
    follow: int = 0,
    active: int = 0,
) -> AnimatedFigure:
    """The token scrubber: one Plotly animation frame per step, played by a :class:`Player` (a
    step slider and a play button under the chart, the step's caption above it).

    Each frame shows, at step t: every row's value per shown unit as bars (sigmoid gates on a
    fixed 0-1 axis; candidates, c and h on a -1..1 axis widened to fit c) and the model's top
    next-character ``guesses`` (if any); its caption names the step and its token and fills the
    cell's ``equation_lines`` for unit ``units[follow]`` with that step's numbers. Moving the
    slider happens in the browser: no server round trip.

    rows: name -> (T, U), the cell's gates then c (if it has one) and h; ``gates`` its gate
    descriptions; labels (T,); guesses (T, k) of (char, probability). The sequence starts from the
    zero state, so h_{t-1} and c_{t-1} are the previous rows (zero at t = 0). A long sequence gets
    the :func:`scrub_window` of steps around ``active``.
    """
    h, c = rows["h"], rows.get("c")
    T, U = h.shape
    window = scrub_window(T, active)
    active = min(max(active, window.start), window.stop - 1)
    sigmoid = sigmoid_rows(gates)
    titles = row_titles(gates)
    sig = [n for n in rows if n in sigmoid]
    signed = [n for n in rows if n not in sigmoid]  # candidates, c, h
    with_guesses = len(guesses) == T and T > 0
    cols = 3 if with_guesses else 2
    layout = _grid(1, cols, ["sigmoid gates (0 to 1)", "candidate and states",
                             "next-character guess"][:cols],
                   column_widths=(0.4, 0.4, 0.2)[:cols], horizontal_spacing=0.06)
    x_units = [f"u{u}" for u in units]
    state_max = cell_state_range(c)  # bars of the few larger |c| run off the axis
    rounded = [_short(rows[n]) for n in [*sig, *signed]]  # (T, U) each

    def bars(t: int) -> list[dict[str, Any]]:
        """What changes from step to step: the bars' heights (and the guesses' texts)."""
        out: list[dict[str, Any]] = [{"type": "bar", "y": v[t].tolist()} for v in rounded]
        if with_guesses:
            out.append({"type": "bar", "x": [round(p, 4) for _, p in guesses[t]],
                        "text": [f"«{plot_text(ch)}» {p:.0%}" for ch, p in guesses[t]]})
        return out

    def caption(t: int) -> str:
        numbers = {n: float(rows[n][t, follow]) for n in rows}
        numbers.update(hprev=float(h[t - 1, follow]) if t else 0.0)
        if c is not None:
            numbers.update(cprev=float(c[t - 1, follow]) if t else 0.0)
        return (f"<b>step {t} of {T - 1} · token «{plot_text(labels[t])}»</b><br>"
                + _equations(equation_lines, int(units[follow]), numbers))

    data = bars(active)
    for n, trace in zip([*sig, *signed], data, strict=False):
        col = 1 if n in sigmoid else 2
        trace.update(x=x_units, name=titles.get(n, n),
                     marker={"color": GATE_COLOURS.get(n, OTHER_COLOUR)}, xaxis=_axis_id("x", col),
                     yaxis=_axis_id("y", col),
                     hovertemplate=f"%{{x}}: {n} = %{{y:.3f}}<extra></extra>")
    if with_guesses:
        data[-1].update(y=list(range(len(data[-1]["x"]), 0, -1)), orientation="h",
                        marker={"color": "#999999"}, showlegend=False, textposition="outside",
                        textangle=0, cliponaxis=False,
                        xaxis="x3", yaxis="y3", hovertemplate="%{text}<extra></extra>")
    frames = [{"name": str(t), "data": bars(t)} for t in window]
    layout.update(
        barmode="group", bargap=0.15, height=520, meta=token_meta(T),
        margin={"l": 60, "r": 50, "t": 70, "b": 60},
        legend={"orientation": "h", "y": 1.1, "x": 0, "yanchor": "bottom"},
    )
    layout["yaxis"].update(range=[0, 1], title={"text": "value"})
    layout["yaxis2"].update(range=[-state_max, state_max])
    for axis in ("xaxis", "xaxis2"):
        layout[axis].update(title={"text": "unit"}, tickangle=-90 if U > 12 else 0)
    if with_guesses:
        layout["xaxis3"].update(range=[0, 1], title={"text": "probability"}, tickformat=".0%")
        layout["yaxis3"].update(showticklabels=False)
    player = Player(captions=tuple(caption(t) for t in window), active=active - window.start)
    return AnimatedFigure(data, layout, frames, player)


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
