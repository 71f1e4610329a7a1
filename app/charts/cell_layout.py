"""Where a cell's diagram puts things (``app.charts.diagram`` draws it): the layout of a cell's
step graph (``Cell.dataflow``) the way Olah drew the LSTM. The memory state runs along the top
(the belt: the LSTM's c, the GRU's and the MGU's h), the layers' boxes sit in a row under it in
the order the ops first read them, each pointwise op goes as far left as its inputs allow without
a line running through another node, and x_t and h_{t-1} come in on a bus under the boxes. Lines
are cubic Béziers that leave and arrive along their ends' ports. Pure: no Streamlit, no Plotly.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cells.core.cell import Cell
from cells.core.dataflow import C_PREV, H_PREV, Dataflow, Layer, Op, X

# -- geometry (SVG user units; the SVG scales to its box) -----------------------------------------

BELT, MID, BOX, BUS = 0, 1, 2, 3
"""Rows: the memory state's belt, the pointwise ops off it, the layers' boxes, the input bus."""
ROW_Y = (40.0, 108.0, 172.0, 234.0)
COL = 68.0
"""Distance between columns."""
LEFT = 40.0
"""x of column 0 (the incoming states)."""
INPUT_Y = 276.0
"""Where x_t comes in, under the bus."""
HEIGHT = 296.0
BOX_W, BOX_H = 52.0, 38.0
R = 14.0
"""An op's circle."""
CHIP_W, CHIP_H = 54.0, 22.0
"""A state's chip (c_{t-1}, c_t, ...)."""
MIN_WIDTH = 330.0
"""The narrowest diagram (the tanh RNN's one box), wide enough for the way back's note."""
TRIES = 8
"""How many columns right of the first possible one a node may move to find a free place."""


@dataclass(frozen=True)
class Spot:
    """A drawn node: where it is and what shape. ``kind``: "source" (a state coming in), "input"
    (x_t), "layer", "op", "sink" (a state going out)."""

    name: str
    kind: str
    col: float
    row: int

    @property
    def x(self) -> float:
        return LEFT + self.col * COL

    @property
    def y(self) -> float:
        return INPUT_Y if self.kind == "input" else ROW_Y[self.row]

    @property
    def half(self) -> tuple[float, float]:
        """Half width and half height of its shape."""
        if self.kind == "layer":
            return BOX_W / 2, BOX_H / 2
        if self.kind == "op":
            return R, R
        if self.kind == "input":
            return 14.0, 10.0
        return CHIP_W / 2, CHIP_H / 2


@dataclass(frozen=True)
class Wire:
    """A line from ``source`` to ``target``: a cubic Bézier (p0, p1, p2, p3). ``kind``: "op" (into a
    pointwise op: a local derivative of its own), "layer" (into a box through weights), "out" (a
    new state leaving), "bus" (x_t and h_{t-1} to the boxes that read them); ``key`` names it
    uniquely."""

    source: str
    target: str
    kind: str
    points: tuple[tuple[float, float], ...]

    @property
    def key(self) -> str:
        return f"{self.source}>{self.target}"

    def path(self) -> str:
        (x0, y0), *rest = self.points
        if len(rest) == 1:
            return f"M{x0:.1f},{y0:.1f} L{rest[0][0]:.1f},{rest[0][1]:.1f}"
        (x1, y1), (x2, y2), (x3, y3) = rest
        return f"M{x0:.1f},{y0:.1f} C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x3:.1f},{y3:.1f}"

    def sample(self, n: int = 40) -> np.ndarray:
        """(n, 2) points along the line, ends excluded."""
        return np.array(self.at(np.linspace(0.04, 0.96, n)[:, None]))

    def at(self, t: float | np.ndarray) -> np.ndarray:
        """The point (or (n, 2) points, for t (n, 1)) a fraction ``t`` of the way (its parameter)."""
        p = np.asarray(self.points)
        if len(p) == 2:
            return p[0] + t * (p[1] - p[0])
        u = 1 - t
        return u ** 3 * p[0] + 3 * u ** 2 * t * p[1] + 3 * u * t ** 2 * p[2] + t ** 3 * p[3]

    def runs_along(self, other: Wire) -> bool:
        """Whether this line shares a stretch of more than 12 px with ``other`` (within 2 px of
        it): two values drawn on one line. Two lines crossing at 20° or more share under 12 px."""
        n = max(8, int(self.length()))  # about one sample a pixel
        near = self.sample(n)[:, None] - other.sample(max(8, int(other.length())))[None]  # (n, m, 2)
        close = np.min(np.linalg.norm(near, axis=2), axis=1) < 2.0  # (n,)
        longest = max((len(list(run)) for on, run in itertools.groupby(close) if on), default=0)
        return longest * self.length() / n > 12.0

    def length(self) -> float:
        """The line's length in px (along the curve)."""
        return float(np.sum(np.linalg.norm(np.diff(self.sample(64), axis=0), axis=1)))

    def direction(self, end: bool) -> tuple[float, float]:
        """The unit tangent at the end (or the start), in the direction of the flow."""
        p = self.points
        a, b = (p[-2], p[-1]) if end else (p[0], p[1])
        dx, dy = b[0] - a[0], b[1] - a[1]
        norm = math.hypot(dx, dy) or 1.0
        return dx / norm, dy / norm


@dataclass(frozen=True)
class Layout:
    """Where a cell's nodes and lines go: computed once per cell from its dataflow."""

    spots: dict[str, Spot]
    wires: tuple[Wire, ...]
    width: float
    memory_state: str
    crowded: tuple[str, ...] = ()  # nodes that found no place clear of the others' lines

    def hits(self, wire: Wire, pad: float = 3.0) -> list[str]:
        """The nodes ``wire`` runs through (not its own ends): none in a good layout."""
        return [s.name for s in self.spots.values() if s.name not in (wire.source, wire.target)
                and _inside(wire.sample(), s, pad)]


def _inside(points: np.ndarray, spot: Spot, pad: float) -> bool:
    """Whether any of ``points`` (n, 2) falls in ``spot``'s shape, grown by ``pad``."""
    hw, hh = spot.half
    near_x = np.abs(points[:, 0] - spot.x) < hw + pad
    return bool(np.any(near_x & (np.abs(points[:, 1] - spot.y) < hh + pad)))


# -- layout ---------------------------------------------------------------------------------------


class _Placer:
    """Lays out a dataflow, Olah's way: the memory state's belt along the top, the boxes in a row
    in the order the ops first read them, each op as far left as its inputs allow without a line
    running through a node, x_t and h_{t-1} on a bus under the boxes."""

    def __init__(self, flow: Dataflow, states: tuple[str, ...]):
        self.flow = flow
        self.memory = states[0]
        self.spots: dict[str, Spot] = {}
        self.wires: list[Wire] = []
        memory_source = C_PREV if self.memory == "c" else H_PREV
        self.belt = _belt_ops(flow, memory_source, self.memory)
        self.add(Spot(memory_source, "source", 0, BELT))
        if self.memory == "c":
            self.add(Spot(H_PREV, "source", 0, BUS))
        self.add(Spot(X, "input", 0.5, BUS))
        self.next_box = 1
        self.crowded: list[str] = []

    def add(self, spot: Spot) -> None:
        self.spots[spot.name] = spot

    def bus_readers(self) -> list[Spot]:
        return [self.spots[la.name] for la in self.flow.layers if la.name in self.spots
                and {X, H_PREV} & set(la.inputs)]

    def fits(self, spot: Spot, wires: Sequence[Wire]) -> bool:
        """Whether ``spot`` can go where it says with its incoming ``wires``: its place free, no
        line through it, none of its lines through another node."""
        if any(s.row == spot.row and abs(s.col - spot.col) < 0.9 and s.kind != "input"
               for s in self.spots.values()):
            return False
        if any(_inside(w.sample(), spot, 3.0) for w in [*self.wires, *self._bus_wires()]):
            return False
        trial = Layout({**self.spots, spot.name: spot}, (), 0, self.memory)
        if any(trial.hits(w) for w in wires):
            return False
        return not any(w.runs_along(e) or e.runs_along(w) for w in wires for e in self.wires
                       if e.source != w.source)

    def place(self, node: Layer | Op, at_least: int = 0) -> None:
        """Put ``node`` in the first column from its earliest (``at_least`` for a box) where it
        :meth:`fits`, the boxes an op reads first (under the op where they can go)."""
        if node.name in self.spots:
            return
        row = BOX if isinstance(node, Layer) else BELT if node.name in self.belt else MID
        if isinstance(node, Op):
            placed = [math.ceil(self.spots[i].col) for i in node.inputs if i in self.spots]
            under = self._free(row, max(placed)) if placed else 0  # where the op will go at the earliest
            for i in node.inputs:  # the boxes it reads, placed when first read
                if isinstance(self.flow.node(i), Layer):
                    self.place(self.flow.node(i), at_least=under)
        else:
            for i in node.inputs:  # a box another box reads (the GRU's r), placed first
                if isinstance(self.flow.node(i), Layer):
                    self.place(self.flow.node(i))
        if isinstance(node, Layer):
            first, kind = max(self.next_box, at_least), "layer"
        else:
            first, kind = math.ceil(max(self.spots[i].col for i in node.inputs)), "op"
        for col in range(first, first + TRIES):
            spot = Spot(node.name, kind, col, row)
            wires = [self.wire(i, spot) for i in node.inputs if i not in (X, H_PREV) or kind == "op"]
            if self.fits(spot, wires):
                break
        else:
            self.crowded.append(node.name)  # no place fits: the last one tried, lines and all
        self.add(spot)
        self.wires += wires
        if kind == "layer":
            self.next_box = int(spot.col) + 1

    def _free(self, row: int, col: int) -> int:
        """The first column from ``col`` with no node in ``row``."""
        taken = {round(s.col) for s in self.spots.values() if s.row == row and s.kind != "input"}
        return next(c for c in range(col, col + len(taken) + 1) if c not in taken)

    def wire(self, source: str, target: Spot) -> Wire:
        """The line from node ``source`` into ``target``: leaving and arriving along the ports'
        directions, a straight line where they line up."""
        a = self.spots[source]
        kind = "layer" if target.kind == "layer" else "out" if target.kind == "sink" else "op"
        start, d0 = self._out_port(a, target)
        end, d3 = self._in_port(a, target)
        if (d0 == d3) and (start[0] == end[0] or start[1] == end[1]):
            return Wire(source, target.name, kind, (start, end))
        if a.kind == "op" and kind == "layer":  # an op's value into a box (r ⊙ h_{t-1}): nearly
            k0 = k3 = 22.0                        # straight, over the boxes between them
        else:
            k0 = max(22.0, 0.55 * abs((end[0] - start[0]) * d0[0] + (end[1] - start[1]) * d0[1]))
            k3 = max(22.0, 0.55 * abs((end[0] - start[0]) * d3[0] + (end[1] - start[1]) * d3[1]))
        p1 = (start[0] + d0[0] * k0, start[1] + d0[1] * k0)
        p2 = (end[0] - d3[0] * k3, end[1] - d3[1] * k3)
        return Wire(source, target.name, kind, (start, p1, p2, end))

    def _out_port(self, a: Spot, b: Spot) -> tuple[tuple[float, float], tuple[float, float]]:
        hw, hh = a.half
        if a.kind == "layer" and a.row != b.row:
            return (a.x, a.y - hh), (0.0, -1.0)
        if a.kind in ("layer", "source") or a.row == b.row or b.kind in ("sink", "layer"):
            return (a.x + hw, a.y), (1.0, 0.0)
        down = b.y > a.y
        if a.col == b.col or not any(w.target == a.name and (self.spots[w.source].y > a.y) == down
                                     and self.spots[w.source].col == a.col for w in self.wires):
            return (a.x, a.y + (hh if down else -hh)), (0.0, 1.0 if down else -1.0)
        d = math.sqrt(0.5)  # its own input comes in from that side: leave at a slant, to the right
        return (a.x + d * hw, a.y + (d * hh if down else -d * hh)), (d, d if down else -d)

    def _in_port(self, a: Spot, b: Spot) -> tuple[tuple[float, float], tuple[float, float]]:
        hw, hh = b.half
        if b.kind == "sink" or a.row == b.row:
            return (b.x - hw, b.y), (1.0, 0.0)
        if b.kind == "layer":  # an extra input of a box (the GRU's r, the MGU's f ⊙ h): into its side
            return (b.x - hw, b.y), (1.0, 0.0)
        below = a.y > b.y
        side = [self.spots[i] for i in self.flow.node(b.name).inputs  # b's inputs on a's side
                if i in self.spots and self.spots[i].row != b.row and (self.spots[i].y > b.y) == below]
        if a.col == max(s.col for s in side):  # the nearest one comes in straight from that side
            return (b.x, b.y + (hh if below else -hh)), (0.0, -1.0 if below else 1.0)
        d = math.sqrt(0.5)  # the others at a slant, from the left of that side
        return (b.x - d * hw, b.y + (d * hh if below else -d * hh)), (d, -d if below else d)

    def _bus_wires(self) -> list[Wire]:
        return bus_wires(self.spots, self.bus_readers(), self.memory)

    def layout(self) -> Layout:
        for op in self.flow.ops:
            self.place(op)
        for layer in self.flow.layers:  # a layer no op reads: the tanh RNN's h
            self.place(layer)
        last = max(s.col for s in self.spots.values())
        states = ("c", "h") if self.memory == "c" else ("h",)
        for col in np.arange(last + 1, last + 4, 0.5):  # the new states leave at the right
            sinks = [Spot(f"{state}_out", "sink", float(col), BELT if state == self.memory else BUS)
                     for state in states]
            wires = [self.wire(state, sink) for state, sink in zip(states, sinks, strict=True)]
            if all(self.fits(sink, [wire]) for sink, wire in zip(sinks, wires, strict=True)):
                break
        for sink in sinks:
            self.add(sink)
        self.wires += wires
        return Layout(dict(self.spots), (*self.wires, *self._bus_wires()),
                      max(MIN_WIDTH, LEFT + float(col) * COL + CHIP_W / 2 + 8), self.memory,
                      tuple(self.crowded))


def _belt_ops(flow: Dataflow, source: str, state: str) -> set[str]:
    """The ops on a path of ops from the memory state's previous value to its new one."""
    reaches = {source}
    for op in flow.ops:
        if reaches & set(op.inputs):
            reaches.add(op.name)
    leads = {state}
    for op in reversed(flow.ops):
        if op.name in leads:
            leads |= set(op.inputs)
    return {op.name for op in flow.ops if op.name in reaches and op.name in leads}


def bus_wires(spots: Mapping[str, Spot], readers: Sequence[Spot], memory: str) -> list[Wire]:
    """The bus under the boxes: h_{t-1} coming in (along the bottom, or down a trunk from the belt
    when h is the memory state), x_t joining from below, a branch up into each box that reads
    them."""
    if not readers:
        return []
    x_in = spots[X]
    bus_y = ROW_Y[BUS]
    end = max(r.x for r in readers)
    if memory == "h":  # from the chip, down a trunk
        top = spots[H_PREV]
        wires = [Wire(H_PREV, "trunk", "bus", ((top.x + CHIP_W / 2, top.y), (x_in.x, top.y))),
                 Wire("trunk", "bus", "bus", ((x_in.x, top.y), (x_in.x, bus_y)))]
    else:
        left = spots[H_PREV]
        wires = [Wire(H_PREV, "bus", "bus", ((left.x + CHIP_W / 2, bus_y), (x_in.x, bus_y)))]
    wires.append(Wire(X, "bus", "bus", ((x_in.x, x_in.y - x_in.half[1]), (x_in.x, bus_y))))
    wires.append(Wire("bus", "bus", "bus", ((x_in.x, bus_y), (end, bus_y))))
    wires += [Wire("bus", r.name, "bus", ((r.x, bus_y), (r.x, r.y + BOX_H / 2))) for r in readers]
    return wires


@functools.lru_cache(maxsize=32)
def cell_layout(cell: type[Cell]) -> Layout:
    """Where ``cell``'s nodes and lines go (cached per cell class)."""
    return _Placer(cell.dataflow, cell.states).layout()
