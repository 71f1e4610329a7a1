"""The app's colours for cells: one table, the Okabe-Ito palette (distinguishable with the common
colour-vision deficiencies), the same colour for a cell on every chart; a cell without a memory
path (the tanh RNN) is also dashed, so the charts read without colour."""

from __future__ import annotations

import zlib

import cells

CELL_COLOURS = {"rnn": "#D55E00", "lstm": "#0072B2", "gru": "#CC79A7"}  # vermillion, blue, reddish purple
"""The app's one table of cell colours, by registered cell name; other cells get one of
:data:`MORE_COLOURS`. Chart builders draw curves labelled for people ("LSTM (yours)", "bias 0")
and take, beside them, the cell each curve belongs to: colour and dash follow the cell."""
MORE_COLOURS = ("#009E73", "#E69F00", "#56B4E9", "#F0E442", "#000000", "#999999")
GUIDE_COLOUR = "#888888"  # reference lines: readable on light and dark backgrounds


def cell_colour(arch: str) -> str:
    """The colour of cell ``arch`` (a registered name), the same on every chart: from
    :data:`CELL_COLOURS`, else one of :data:`MORE_COLOURS` fixed by the name."""
    if arch in CELL_COLOURS:
        return CELL_COLOURS[arch]
    return MORE_COLOURS[zlib.crc32(arch.encode()) % len(MORE_COLOURS)]


def cell_dash(arch: str) -> str:
    """A cell without a memory path (the tanh RNN, by its own facts) is also dashed, so the charts
    read without colour."""
    cls = cells.CELLS.get(arch)
    return "dash" if cls is not None and cls.memory_gate is None and not cls.has_cell_state else "solid"
