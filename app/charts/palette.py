"""The app's colours for cells: one table, the Okabe-Ito palette (distinguishable with the common
colour-vision deficiencies), the same colour for a cell on every chart; a cell without a memory
path (the tanh RNN) is also dashed, so the charts read without colour."""

from __future__ import annotations

import zlib

import cells

CELL_COLOURS = {"RNN": "#D55E00", "LSTM": "#0072B2", "GRU": "#CC79A7"}  # vermillion, blue, reddish purple
"""The app's one table of cell colours, by display name; other cells get :data:`MORE_COLOURS`."""
MORE_COLOURS = ("#009E73", "#E69F00", "#56B4E9", "#F0E442", "#000000", "#999999")
GUIDE_COLOUR = "#888888"  # reference lines: readable on light and dark backgrounds


def cell_colour(name: str) -> str:
    """A cell's colour, the same on every chart: from :data:`CELL_COLOURS`, else one of
    :data:`MORE_COLOURS` fixed by the name (an upload named "LSTM (yours)" takes the LSTM's)."""
    base = name.split(" (")[0]
    if base in CELL_COLOURS:
        return CELL_COLOURS[base]
    return MORE_COLOURS[zlib.crc32(base.encode()) % len(MORE_COLOURS)]


_BY_DISPLAY_NAME = {cls.display_name: cls for cls in cells.CELLS.values()}


def cell_dash(name: str) -> str:
    """A cell without a memory path (the tanh RNN) is also dashed, so the charts read without
    colour; ``name`` is a cell's display name (an upload's or a layer's suffix ignored)."""
    cls = _BY_DISPLAY_NAME.get(name.split(" (")[0].split(" layer ")[0])
    return "dash" if cls is not None and cls.memory_gate is None and not cls.has_cell_state else "solid"
