"""The cell, drawn: a cell's step as Olah's picture (the memory state as a belt along the top,
boxes for the layers, circles for the pointwise operations, lines that copy and merge), laid out
from the cell's own dataflow (``Cell.dataflow``), with one unit's numbers at every step of a
scrubber's window. Pure: no Streamlit.

:func:`cell_diagram` makes a :class:`Diagram`: an inline SVG drawn at the step shown first, and
one compact :class:`Frame` per step, which the page's player (``app.component.live_chart``) applies
to the SVG as it steps, in the browser: each gate box filled by its value on the heatmaps' fixed
0-1 Cividis scale with its number, the candidates and the states on the signed RdBu scale, each
line as wide as the value it carries. "The way back" (a toggle in the browser) shows instead
the local derivative on every line (the engine's, ``cells.core.diagnostics.step_flow``), each
box's slope, and the memory path: the LSTM's d c_t / d c_{t-1} = f_t along the belt.

The SVG's contract (DESIGN.md): each gate an element with ``data-gate="<symbol>"`` and
``data-value`` (its value at the shown step), each state (c_t, h_t) ``data-state="c"|"h"`` with
``data-value``; every node a ``<title>``. Text on the page's background is ``currentColor`` (the
theme's text colour); text on a filled shape has the ink that contrasts with that fill.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from html import escape
from typing import Any

import numpy as np
from plotly.colors import get_colorscale, hex_to_rgb, unlabel_rgb

from app.charts.base import GATE_SCALE, STATE_SCALE
from app.charts.cell_layout import HEIGHT, Layout, R, Spot, cell_layout
from cells.core.cell import Cell
from cells.core.dataflow import C_PREV, IDENTITY, SIGMA, TANH, Layer
from cells.core.diagnostics import StepFlow, step_flow

# -- drawing ---------------------------------------------------------------------------------------

MAX_WIDTH = 4.5
"""The widest line: for a value (or, on the way back, a derivative) of magnitude 1 or more."""
LUT_STEPS = 100
"""A colour scale is sent as LUT_STEPS + 1 colours; a value's colour is the nearest of them."""
OP_FILL = "#f2b8c6"
"""Olah's pink, for the pointwise operations' circles (with dark ink, in both themes)."""
DARK_INK, LIGHT_INK = "#000000", "#ffffff"
BACK_VIEW = "gs-back-view"
"""The class that, on an element around the diagram, shows the way back: derivatives on the lines,
the boxes' slopes, the memory path, arrowheads pointing back."""

CSS = f"""
.gs-diagram {{ font-family: "Source Sans Pro", sans-serif; font-size: 12px; overflow: visible;
  max-width: 100%; height: auto; }}
.gs-diagram .gs-wire {{ fill: none; stroke: currentColor; stroke-opacity: 0.7; stroke-linecap: round;
  stroke-width: calc(var(--w) * 1px); }}
.gs-diagram polygon {{ fill: currentColor; fill-opacity: 0.8; }}
.gs-diagram .gs-on-bg {{ fill: currentColor; }}
.gs-diagram .gs-shape {{ stroke: currentColor; stroke-opacity: 0.45; stroke-width: 1px; }}
.gs-diagram .gs-num {{ font-variant-numeric: tabular-nums; }}
.gs-diagram .gs-op-value {{ font-size: 11px; }}
.gs-diagram .gs-symbol {{ font-weight: 700; font-style: italic; }}
.gs-diagram .gs-op-symbol {{ font-size: 15px; font-weight: 700; }}
.gs-diagram .gs-op-symbol.gs-small {{ font-size: 10px; }}
.gs-diagram .gs-sub, .gs-diagram .gs-sup {{ font-size: 9px; }}
.gs-diagram .gs-label {{ font-style: italic; }}
.gs-diagram .gs-back, .gs-diagram .gs-deriv, .gs-diagram .gs-slope, .gs-diagram .gs-note {{ display: none; }}
.{BACK_VIEW} .gs-diagram .gs-wire {{ stroke-width: calc(var(--b) * 1px); }}
.{BACK_VIEW} .gs-diagram .gs-weights {{ stroke-dasharray: 4 3; }}
.{BACK_VIEW} .gs-diagram .gs-fwd, .{BACK_VIEW} .gs-diagram .gs-op-value {{ display: none; }}
.{BACK_VIEW} .gs-diagram .gs-back, .{BACK_VIEW} .gs-diagram .gs-deriv, .{BACK_VIEW} .gs-diagram .gs-slope,
.{BACK_VIEW} .gs-diagram .gs-note {{ display: inline; }}
.gs-diagram .gs-deriv {{ font-size: 10.5px; fill: currentColor; font-weight: 600; paint-order: stroke;
  stroke: var(--st-background-color, transparent); stroke-width: 3px; text-anchor: middle; }}
.gs-diagram .gs-slope, .gs-diagram .gs-note {{ font-size: 10.5px; }}
"""
"""The diagram's look, in every SVG (self-contained): lines and text in the theme's text colour."""


# -- colours --------------------------------------------------------------------------------------


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(map(float, hex_to_rgb(colour) if colour.startswith("#") else unlabel_rgb(colour)))


@functools.lru_cache(maxsize=8)
def colour_table(scale: str) -> tuple[str, ...]:
    """LUT_STEPS + 1 colours evenly along a Plotly scale (linear in RGB between its stops)."""
    stops = get_colorscale(scale)
    at = np.array([s for s, _ in stops])
    rgb = np.array([_rgb(c) for _, c in stops])  # (S, 3)
    u = np.linspace(0, 1, LUT_STEPS + 1)
    channels = np.stack([np.interp(u, at, rgb[:, k]) for k in range(3)], axis=1)  # (LUT_STEPS + 1, 3)
    return tuple("#{:02x}{:02x}{:02x}".format(*np.rint(c).astype(int)) for c in channels)


def luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    c = np.array(_rgb(colour)) / 255
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)))
    return (lb + 0.05) / (la + 0.05)


@functools.lru_cache(maxsize=8)
def ink_table(scale: str) -> tuple[str, ...]:
    """For each colour of :func:`colour_table`, the text colour that reads best on it."""
    return tuple(max((DARK_INK, LIGHT_INK), key=lambda ink: contrast(ink, fill))
                 for fill in colour_table(scale))


def colour_index(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Each value's place on a colour table spanning lo..hi (ends beyond it)."""
    unit = np.clip((np.asarray(values, np.float64) - lo) / (hi - lo), 0, 1)
    return np.rint(unit * LUT_STEPS).astype(int)


# -- the diagram ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One step's numbers, in the orders of :class:`Diagram`'s ``nodes``, ``wires`` and ``layers``.

    v: each node's value; k: its place on its colour table (-1: no fill); w: each line's width
    going forward, in tenths of a unit (the size of the value it carries); b: its width on the way
    back (the size of its local derivative, or into a box the box's slope); d: the local
    derivative of each line that has one (``Diagram.derivatives``: not through the weights);
    s: each layer's slope; p: the memory path d s_t / d s_{t-1} and log10 of its product over the
    steps so far (empty without one).
    """

    v: tuple[float, ...]
    k: tuple[int, ...]
    w: tuple[int, ...]
    b: tuple[int, ...]
    d: tuple[float, ...]
    s: tuple[float, ...]
    p: tuple[float, ...]


@dataclass(frozen=True)
class Diagram:
    """A cell drawn for one unit: the SVG (at the step shown first) and the numbers of every
    step of the player's window, which the browser applies to the SVG as it steps.

    nodes: the names of the drawn nodes that have a value (``data-node``), in the frames' order;
    scales: each one's colour table (a key of ``tables``; "" for none); wires: the lines' keys
    (``data-wire``); derivatives: the lines with a local derivative of their own; layers: the
    boxes; tables, inks: each colour table and the ink of text on
    each of its colours; active: the frame the SVG shows; back_class: the class that, on an
    element around the SVG, shows the way back.
    """

    svg: str
    title: str
    nodes: tuple[str, ...]
    scales: tuple[str, ...]
    wires: tuple[str, ...]
    derivatives: tuple[str, ...]
    layers: tuple[str, ...]
    tables: dict[str, tuple[str, ...]]
    inks: dict[str, tuple[str, ...]]
    frames: tuple[Frame, ...]
    active: int
    back_class: str = BACK_VIEW

    def to_dict(self) -> dict[str, Any]:
        """What the browser gets, JSON-ready: the fields as they are, each frame a dict of its
        tuples (``dataclasses.asdict`` would copy every number of every frame, one by one)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["frames"] = [vars(frame) for frame in self.frames]
        return out


def number(v: float, digits: int = 2) -> str:
    """A value as the diagram writes it (and the browser, as it steps): ``digits`` decimals, a
    real minus sign, no minus on a zero."""
    text = f"{v:.{digits}f}"
    return (text[1:] if text.startswith("-") and text.strip("-0.") == "" else text).replace("-", "−")


SYMBOLS = frozenset("ifgorzn")
"""The papers' one-letter gate names: an op that makes one (the CIFG's i = 1 − f) says so (the
ops that make c and h have the states' chips beside them)."""
SUBSCRIPT = re.compile(r"_(\{[^}]*\}|\w+)")
"""Paper notation's subscripts: ``_t``, ``_{t−1}``."""


def _sub(text: str) -> str:
    """Paper notation as SVG text: ``c_{t−1}``'s subscript in a smaller, lowered tspan (the
    baseline restored after it)."""
    parts = SUBSCRIPT.split(text)  # text, subscript, text, ...
    return "".join(escape(part) if k % 2 == 0 else
                   f'<tspan class="gs-sub" dy="3">{escape(part.strip("{}"))}</tspan>'
                   '<tspan dy="-3">\u200b</tspan>' for k, part in enumerate(parts))


def _plain(text: str) -> str:
    """Paper notation read aloud: ``c_{t−1}`` as c(t−1), ``h_t`` as h(t)."""
    return SUBSCRIPT.sub(lambda m: f"({m[1].strip('{}')})", text)


@dataclass(frozen=True)
class _Node:
    """A drawn node with a value: the dataflow node it shows, its name for people, its colour
    scale (table, lo, hi; None: no fill)."""

    spot: Spot
    shows: str
    title: str
    scale: tuple[str, float, float] | None


def _nodes(cell: type[Cell], layout: Layout, state_range: float) -> list[_Node]:
    """The drawn nodes that show a value (all but x_t), with their titles and scales: sigmoid
    gates on the fixed 0-1 Cividis scale, candidates and h on -1..1 RdBu, c (and an unsquashed
    candidate) on ±state_range."""
    flow = cell.dataflow
    gates = {g.name: g for g in cell.gates}
    signed, wide = (STATE_SCALE, -1.0, 1.0), (STATE_SCALE, -state_range, state_range)
    out = []
    for spot in layout.spots.values():
        node = flow.node(spot.name)
        if spot.kind == "input":
            continue
        if spot.kind in ("source", "sink"):
            state = "c" if spot.name in (C_PREV, "c_out") else "h"
            when = "previous" if spot.kind == "source" else "new"
            name = f"{state}_{{t−1}}" if spot.kind == "source" else f"{state}_t"
            kind = "cell" if state == "c" else "hidden"
            out.append(_Node(spot, spot.name if spot.kind == "source" else state,
                             f"{when} {kind} state {_plain(name)}", wide if state == "c" else signed))
        elif isinstance(node, Layer):
            gate = gates.get(node.name)
            title = gate.title if gate else f"{node.activation} layer: the new state {node.name}"
            scale = ((GATE_SCALE, 0.0, 1.0) if node.activation == SIGMA else wide
                     if node.activation == IDENTITY else signed)
            out.append(_Node(spot, spot.name, title, scale))
        else:
            out.append(_Node(spot, spot.name, _plain(flow.formula(spot.name)), None))
    return out


def cell_diagram(
    cell: type[Cell],
    rows: Mapping[str, np.ndarray],
    steps: range,
    active: int,
    *,
    state_range: float = 1.0,
    unit: int | None = None,
    input_name: str = "x_t",
    scale: float = 1.0,
) -> Diagram:
    """``cell`` drawn for one unit at each step of ``steps`` (the player's frames), shown first at
    step ``active``.

    rows: that unit's numbers over the whole reading, name -> (T,): the cell's gates, "c" (with
    a cell state) and "h", read from the zero state; the rest (every op, the local derivatives)
    is the engine's :func:`~cells.core.diagnostics.step_flow` of them. state_range: the
    half-width of c's signed scale (the heatmaps' ``cell_state_range``); unit: named in the
    title; input_name: what the boxes read (x_t; a stack's upper layer, the layer below's h);
    scale: the drawing's size (1: its own; it also shrinks to fit its box).
    """
    layout = cell_layout(cell)
    flow = step_flow(cell, {n: np.asarray(a, np.float64) for n, a in rows.items()})
    nodes = _nodes(cell, layout, state_range)
    steps = list(steps)
    values = np.stack([flow.values[n.shows][steps] for n in nodes], axis=1)  # (S, N)
    places = np.full(values.shape, -1)  # (S, N)
    for j, node in enumerate(nodes):
        if node.scale is not None:
            places[:, j] = colour_index(values[:, j], *node.scale[1:])
    forward, back, derivs = _wire_numbers(layout, flow, nodes, steps)  # (S, W) each
    local = ~np.isnan(derivs[0])  # (W,) the lines with a local derivative
    derivs = derivs[:, local]
    slopes = np.stack([flow.slopes[layer.name][steps] for layer in cell.dataflow.layers], axis=1)
    path = flow.memory_path
    if path is None:
        memory = np.zeros((len(steps), 0))
    else:
        so_far = np.cumsum(np.log10(np.clip(path, 1e-300, None)))  # log10 prod_{k<=t} of the path
        memory = np.stack([path[steps], so_far[steps]], axis=1)  # (S, 2)
    columns = (np.round(values, 4), places, forward, back, np.round(derivs, 3), np.round(slopes, 4),
               np.round(memory, 4))  # (S, ...) each, as lists once: a frame per step, no NumPy per step
    frames = tuple(Frame(*map(tuple, step)) for step in zip(*(c.tolist() for c in columns), strict=True))
    shown = steps.index(active) if active in steps else 0
    tables = {n.scale[0]: colour_table(n.scale[0]) for n in nodes if n.scale}
    inks = {name: ink_table(name) for name in tables}
    title = f"The {cell.display_name} cell" + (f", unit {unit}" if unit is not None else "")
    with_derivative = tuple(w.key for w, on in zip(layout.wires, local, strict=True) if on)
    svg = _svg(cell, layout, nodes, frames[shown], with_derivative, title, input_name, scale)
    return Diagram(svg, title, nodes=tuple(n.spot.name for n in nodes),
                   scales=tuple(n.scale[0] if n.scale else "" for n in nodes),
                   wires=tuple(w.key for w in layout.wires), derivatives=with_derivative,
                   layers=tuple(layer.name for layer in cell.dataflow.layers),
                   tables=tables, inks=inks, frames=frames, active=shown)


def _wire_numbers(layout: Layout, flow: StepFlow, nodes: list[_Node], steps: list[int]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(S, W) each: every line's width forward in tenths of a unit (from the size of the value it
    carries on its node's scale), its width on the way back (from the size of its local
    derivative; a line into a box: the box's slope; the bus: half) and its local derivative (NaN
    through the weights)."""
    S, W = len(steps), len(layout.wires)
    forward, back = np.full((S, W), 0.5), np.full((S, W), 0.5)
    derivs = np.full((S, W), np.nan)
    half_range = {n.shows: max(abs(n.scale[1]), abs(n.scale[2])) for n in nodes if n.scale}
    for j, wire in enumerate(layout.wires):
        if wire.source in flow.values:
            forward[:, j] = np.abs(flow.values[wire.source][steps]) / half_range.get(wire.source, 1.0)
        if wire.kind == "op":
            derivs[:, j] = flow.derivatives[wire.source, wire.target][steps]
            back[:, j] = np.abs(derivs[:, j])
        elif wire.kind == "out":
            derivs[:, j] = back[:, j] = 1.0
        elif wire.target in flow.slopes:  # into a box: the gradient meets its slope, then the weights
            back[:, j] = flow.slopes[wire.target][steps]

    def width(size: np.ndarray) -> np.ndarray:  # tenths of a unit: small integers to send
        return np.rint(10 * (0.6 + (MAX_WIDTH - 0.6) * np.clip(size, 0, 1))).astype(int)

    return width(forward), width(back), derivs


# -- SVG ------------------------------------------------------------------------------------------


def _arrow(x: float, y: float, dx: float, dy: float, cls: str) -> str:
    """A small arrowhead with its tip at (x, y), pointing along (dx, dy)."""
    px, py = -dy, dx
    a = (x - 7 * dx + 3.5 * px, y - 7 * dy + 3.5 * py)
    b = (x - 7 * dx - 3.5 * px, y - 7 * dy - 3.5 * py)
    return f'<polygon class="{cls}" points="{x:.1f},{y:.1f} {a[0]:.1f},{a[1]:.1f} {b[0]:.1f},{b[1]:.1f}"/>'


def _svg(cell: type[Cell], layout: Layout, nodes: list[_Node], frame: Frame, with_derivative: tuple[str, ...],
         title: str, input_name: str, scale: float) -> str:
    """The SVG at one step (``frame``): lines, arrowheads, derivative labels, nodes, the way
    back's note."""
    width = layout.width
    parts = [f'<svg class="gs-diagram" xmlns="http://www.w3.org/2000/svg" role="group" '
             f'viewBox="0 0 {width:.0f} {HEIGHT:.0f}" width="{width * scale:.0f}" '
             f'height="{HEIGHT * scale:.0f}" aria-label="{escape(title)}"><title>{escape(title)}</title>'
             f'<style>{CSS}</style><g class="gs-wires">']
    for j, wire in enumerate(layout.wires):
        weights = " gs-weights" if wire.kind in ("layer", "bus") else ""
        parts.append(f'<path class="gs-wire{weights}" data-wire="{escape(wire.key)}" d="{wire.path()}" '
                     f'style="--w:{frame.w[j] / 10};--b:{frame.b[j] / 10}"/>')
    parts.append('</g><g class="gs-arrows">')
    for wire in layout.wires:
        if wire.target in layout.spots:
            parts.append(_arrow(*wire.points[-1], *wire.direction(end=True), "gs-fwd"))
        if wire.source in layout.spots:
            dx, dy = wire.direction(end=False)
            parts.append(_arrow(*wire.points[0], -dx, -dy, "gs-back"))
    parts.append('</g><g class="gs-derivs">')
    wires = {wire.key: wire for wire in layout.wires}
    for key, d in zip(with_derivative, frame.d, strict=True):
        wire = wires[key]
        x, y = wire.at(0.6 if len(wire.points) == 4 else 0.5)
        parts.append(f'<text class="gs-deriv" data-wire="{escape(key)}" x="{x:.1f}" y="{y - 3:.1f}">'
                     f"{number(d)}</text>")
    parts.append('</g><g class="gs-nodes">')
    x_in = layout.spots["x"]
    parts.append(f'<g class="gs-input" role="img"><title>{escape(_plain(input_name))}: what the boxes '
                 f'read at this step</title><text class="gs-on-bg gs-label" x="{x_in.x:.1f}" '
                 f'y="{x_in.y + 4:.1f}" text-anchor="middle">{_sub(input_name)}</text></g>')
    slopes = dict(zip((layer.name for layer in cell.dataflow.layers), frame.s, strict=True))
    does = {g.name: g.does for g in cell.gates}
    for j, node in enumerate(nodes):
        parts.append(_node_svg(cell, node, frame.v[j], frame.k[j], does.get(node.spot.name, ""),
                               slopes.get(node.spot.name)))
    parts.append("</g>")
    parts.append(_memory_note(cell, layout, frame))
    parts.append("</svg>")
    return "".join(parts)


def _node_svg(cell: type[Cell], node: _Node, value: float, place: int, does: str,
              slope: float | None) -> str:
    """One node at one step: a layer's box (its symbol and activation, its value; on the way
    back its slope), an op's circle (its operation; its value beside it) or a state's chip (its
    name above, its value inside). Filled by its value on its scale, with ink to match."""
    spot = node.spot
    x, y = spot.x, spot.y
    hw, hh = spot.half
    fill, ink = "none", DARK_INK
    if node.scale is not None:
        fill, ink = colour_table(node.scale[0])[place], ink_table(node.scale[0])[place]
    attrs = (f'data-node="{escape(spot.name)}" data-value="{value!r}" data-label="{escape(node.title)}"'
             + (f' data-gate="{escape(spot.name)}"' if spot.name in cell.gate_names else "")
             + (f' data-state="{escape(node.shows)}"' if spot.kind == "sink" else "")
             + (f' data-state="{spot.name.removesuffix("prev")}_prev"' if spot.kind == "source" else ""))
    head = (f'<g class="gs-node gs-{spot.kind}" role="img" {attrs}>'
            f"<title>{escape(node.title)} = {number(value)}</title>"
            + (f"<desc>{escape(does)}</desc>" if does else ""))
    num = f'class="gs-ink gs-num" text-anchor="middle" style="fill:{ink}"'
    if spot.kind == "layer":
        activation = {SIGMA: "σ", TANH: "tanh", IDENTITY: "linear"}[cell.dataflow.node(spot.name).activation]
        return (head + f'<rect class="gs-shape" x="{x - hw:.1f}" y="{y - hh:.1f}" width="{2 * hw:.0f}" '
                f'height="{2 * hh:.0f}" rx="5" style="fill:{fill}"/>'
                f'<text class="gs-ink" x="{x:.1f}" y="{y - 4:.1f}" text-anchor="middle" style="fill:{ink}">'
                f'<tspan class="gs-symbol">{escape(spot.name)}</tspan> {escape(activation)}</text>'
                f'<text {num} x="{x:.1f}" y="{y + 12:.1f}">{number(value)}</text>'
                f'<text class="gs-slope gs-on-bg" x="{x + 4:.1f}" y="{y + hh + 12:.1f}">'
                f'{escape(activation)}′ <tspan class="gs-slope-num">{number(slope)}</tspan></text></g>')
    if spot.kind == "op":
        symbol = cell.dataflow.node(spot.name).kind
        named = f"{escape(spot.name)} = " if spot.name in SYMBOLS else ""  # the CIFG's i = 1 − f
        return (head + f'<circle class="gs-shape" cx="{x:.1f}" cy="{y:.1f}" r="{R:.0f}" '
                f'style="fill:{OP_FILL}"/><text class="gs-op-symbol{" gs-small" if len(symbol) > 2 else ""}" '
                f'x="{x:.1f}" y="{y + 4.5:.1f}" text-anchor="middle" style="fill:{DARK_INK}">{escape(symbol)}'
                f'</text><text class="gs-on-bg gs-op-value" x="{x + R + 2:.1f}" y="{y - R + 2:.1f}">'
                f'{named}<tspan class="gs-num">{number(value)}</tspan></text></g>')
    state = "c" if "c" in spot.name else "h"
    name = f"{state}_{{t−1}}" if spot.kind == "source" else f"{state}_t"
    return (head + f'<rect class="gs-shape" x="{x - hw:.1f}" y="{y - hh:.1f}" width="{2 * hw:.0f}" '
            f'height="{2 * hh:.0f}" rx="{hh:.0f}" style="fill:{fill}"/>'
            f'<text {num} x="{x:.1f}" y="{y + 4:.1f}">{number(value)}</text>'
            f'<text class="gs-on-bg gs-label" x="{x:.1f}" y="{y - hh - 5:.1f}" text-anchor="middle">'
            f"{_sub(name)}</text></g>")


def _memory_note(cell: type[Cell], layout: Layout, frame: Frame) -> str:
    """The way back's summary, under the diagram: the memory path at this step and its product
    over the steps so far, or (the tanh RNN) that h_{t-1} reaches h_t only through the weights."""
    s = layout.memory_state
    y = HEIGHT - 4
    if not frame.p:
        return (f'<text class="gs-note gs-on-bg" x="8" y="{y:.0f}" data-path="memory">'
                f"{_sub('h_{t−1} reaches h_t only through the box: its slope, then Uᵀ')}</text>")
    gate = cell.memory_gate
    factor = "1" if gate is None else f"1 − {gate}_t" if cell.memory_keeps_complement else f"{gate}_t"
    return (f'<text class="gs-note gs-on-bg" x="8" y="{y:.0f}" data-path="memory" '
            f'data-value="{frame.p[0]!r}">'
            f"{_sub(f'∂{s}_t/∂{s}_{{t−1}} along the belt = {factor} = ')}"
            f'<tspan class="gs-path-num">{number(frame.p[0])}</tspan>; over steps 0…t: ∏ = 10'
            f'<tspan class="gs-sup" dy="-5">{number(frame.p[1], 1)}</tspan></text>')
