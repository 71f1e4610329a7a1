"""The token scrubber: one animation frame per step, played by the page (a step slider and a play
button under the chart, the step's caption with the cell's equations filled in above it)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from app.charts.base import (
    GATE_COLOURS,
    OTHER_COLOUR,
    axis_id,
    cell_state_range,
    construct,
    plot_text,
    row_titles,
    sigmoid_rows,
    subplot_grid,
    token_meta,
)
from app.charts.diagram import Diagram, cell_diagram
from cells.core.cell import Cell, Gate

MAX_FRAMES = 100
"""Most steps one scrubber holds; a longer sequence gets a window of this many steps around the
step it opens at (the page's "Scrubber opens at step" moves the window). Every frame is parsed
and stored by the browser on every edit, so a window, not the whole text."""

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
    when playing; diagrams: cells drawn beside the caption (``app.charts.diagram``), each with
    its numbers for every frame, stepped with the chart.
    """

    captions: tuple[str, ...]
    active: int = 0
    interval_ms: int = 350
    diagrams: tuple[Diagram, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """What the browser gets (``app.component.live_chart``), JSON-ready."""
        return {"captions": self.captions, "active": self.active, "interval_ms": self.interval_ms,
                "diagrams": [d.to_dict() for d in self.diagrams]}


class AnimatedFigure(go.Figure):
    """A Figure with animation frames and a :class:`Player`; the frames stay plain dicts until
    :meth:`to_dict`.

    Plotly turns every trace of every frame into an object (a few hundred frames of seven bar
    traces take a third of a second); the frames here are built from arrays and need none of
    that, so they are kept as they are and added to the dict that Streamlit and ``to_json`` use.
    """

    def __init__(self, data: list[dict[str, Any]], layout: dict[str, Any],
                 frames: list[dict[str, Any]], player: Player) -> None:
        construct(super().__init__, {"data": data, "layout": layout})  # as :func:`figure`
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
    cell: type[Cell] | None = None,
    input_name: str = "x_t",
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
    the :func:`scrub_window` of steps around ``active``. With the ``cell`` (its facts), the
    player draws the cell beside the caption with unit ``units[follow]``'s numbers at each step
    (:func:`~app.charts.diagram.cell_diagram`; ``input_name``: what its boxes read).
    """
    T, U = rows["h"].shape
    window = scrub_window(T, active)
    active = min(max(active, window.start), window.stop - 1)
    sigmoid = sigmoid_rows(gates)
    names = [*(n for n in rows if n in sigmoid), *(n for n in rows if n not in sigmoid)]  # gates first
    guesses = guesses if len(guesses) == T and T > 0 else ()
    rounded = [_short(rows[n]) for n in names]  # (T, U) each
    data = _step_bars(rounded, guesses, active)
    _style_bars(data, names, sigmoid, row_titles(gates), [f"u{u}" for u in units], bool(guesses))
    frames = [{"name": str(t), "data": _step_bars(rounded, guesses, t)} for t in window]
    captions = tuple(f"<b>step {t} of {T - 1} · token «{plot_text(labels[t])}»</b><br>"
                     + _equations(equation_lines, int(units[follow]), step_numbers(rows, follow, t))
                     for t in window)
    state_range = cell_state_range(rows.get("c"))
    layout = _scrubber_layout(T, U, state_range, bool(guesses))
    diagrams = () if cell is None else (
        cell_diagram(cell, {n: a[:, follow] for n, a in rows.items()}, window, active,
                     state_range=state_range, unit=int(units[follow]), input_name=input_name),)
    player = Player(captions, active=active - window.start, diagrams=diagrams)
    return AnimatedFigure(data, layout, frames, player)


def diagram_player(cells_rows: Sequence[tuple[type[Cell], Mapping[str, np.ndarray], int]],
                   labels: Sequence[str], active: int = 0, scale: float = 1.0) -> Player:
    """A player of cell diagrams alone, no chart: each cell drawn with one unit's numbers, all at
    the same step, a caption naming the step and its token.

    cells_rows: (cell, that unit's rows name -> (T,) (its gates, c, h, read from the zero state),
    unit) per cell; labels (T,); scale: the diagrams' size (1: the Gates page's).
    """
    window = scrub_window(len(labels), active)
    active = min(max(active, window.start), window.stop - 1)
    captions = tuple(f"<b>step {t} of {len(labels) - 1} · token «{plot_text(labels[t])}»</b>" for t in window)
    diagrams = tuple(cell_diagram(cell, rows, window, active, state_range=cell_state_range(rows.get("c")),
                                  unit=unit, scale=scale)
                     for cell, rows, unit in cells_rows)
    return Player(captions, active=active - window.start, diagrams=diagrams)


def step_numbers(rows: Mapping[str, np.ndarray], follow: int, t: int) -> dict[str, float]:
    """One unit's numbers at step t: every row's value (gates, c, h) and the states it read,
    ``hprev`` and ``cprev`` (zero at t = 0: the reading starts from the zero state)."""
    numbers = {n: float(rows[n][t, follow]) for n in rows}
    for state in ("h", "c"):
        if state in rows:
            numbers[f"{state}prev"] = float(rows[state][t - 1, follow]) if t else 0.0
    return numbers


def _step_bars(rounded: Sequence[np.ndarray], guesses: Sequence[Sequence[tuple[str, float]]],
               t: int) -> list[dict[str, Any]]:
    """What changes from step to step: the bars' heights (and the guesses' texts)."""
    out: list[dict[str, Any]] = [{"type": "bar", "y": v[t].tolist()} for v in rounded]
    if guesses:
        out.append({"type": "bar", "x": [round(p, 4) for _, p in guesses[t]],
                    "text": [f"«{plot_text(ch)}» {p:.0%}" for ch, p in guesses[t]]})
    return out


def _style_bars(data: list[dict[str, Any]], names: Sequence[str], sigmoid: frozenset[str],
                titles: Mapping[str, str], x_units: list[str], with_guesses: bool) -> None:
    """What stays: each row's bars on its panel (sigmoid gates left, the rest middle) in its
    colour, and the guesses as horizontal bars on the right."""
    for n, trace in zip(names, data, strict=False):
        col = 1 if n in sigmoid else 2
        trace.update(x=x_units, name=titles.get(n, n), marker={"color": GATE_COLOURS.get(n, OTHER_COLOUR)},
                     xaxis=axis_id("x", col), yaxis=axis_id("y", col),
                     hovertemplate=f"%{{x}}: {n} = %{{y:.3f}}<extra></extra>")
    if with_guesses:
        data[-1].update(y=list(range(len(data[-1]["x"]), 0, -1)), orientation="h",
                        marker={"color": "#999999"}, showlegend=False, textposition="outside",
                        textangle=0, cliponaxis=False, xaxis="x3", yaxis="y3",
                        hovertemplate="%{text}<extra></extra>")


def _scrubber_layout(T: int, U: int, state_max: float, with_guesses: bool) -> dict[str, Any]:
    """Two panels (sigmoid gates on 0..1; candidates and states on ±``state_max``), a third for
    the next-token guesses."""
    cols = 3 if with_guesses else 2
    layout = subplot_grid(1, cols, ["sigmoid gates (0 to 1)", "candidate and states",
                                    "next-character guess"][:cols],
                          column_widths=(0.4, 0.4, 0.2)[:cols], horizontal_spacing=0.06)
    layout.update(barmode="group", bargap=0.15, height=520, meta=token_meta(T),
                  margin={"l": 60, "r": 50, "t": 70, "b": 60},
                  legend={"orientation": "h", "y": 1.1, "x": 0, "yanchor": "bottom"})
    layout["yaxis"].update(range=[0, 1], title={"text": "value"})
    layout["yaxis2"].update(range=[-state_max, state_max])  # bars of the few larger |c| run off
    for axis in ("xaxis", "xaxis2"):
        layout[axis].update(title={"text": "unit"}, tickangle=-90 if U > 12 else 0)
    if with_guesses:
        layout["xaxis3"].update(range=[0, 1], title={"text": "probability"}, tickformat=".0%")
        layout["yaxis3"].update(showticklabels=False)
    return layout
