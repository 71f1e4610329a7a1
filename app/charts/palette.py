"""The app's colours for cells: the Okabe-Ito palette (distinguishable with the common
colour-vision deficiencies), handed out in the registry's order, so a cell has the same colour on
every chart and a newly registered cell gets its own without touching this file; a cell without a
memory path (the tanh RNN) is also dashed, so the charts read without colour."""

from __future__ import annotations

import zlib

import cells

OKABE_ITO = ("#0072B2", "#CC79A7", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#999999")
"""Blue, reddish purple, vermillion, bluish green, orange, sky blue, grey: Okabe-Ito's colours that
read on the light and the dark theme (its yellow and black do not), in the order cells get them."""
GUIDE_COLOUR = "#888888"  # reference lines: readable on light and dark backgrounds


def cell_colour(arch: str) -> str:
    """The colour of cell ``arch`` (a registered name), the same on every chart: the registry's
    n-th cell gets the palette's n-th colour (the LSTM blue, the GRU purple, the RNN vermillion);
    a name the registry does not hold gets one fixed by the name."""
    index = cells.ARCHS.index(arch) if arch in cells.ARCHS else zlib.crc32(arch.encode())
    return OKABE_ITO[index % len(OKABE_ITO)]


def cell_dash(arch: str) -> str:
    """A cell without a memory path (the tanh RNN, by its own facts) is also dashed, so the charts
    read without colour."""
    cls = cells.CELLS.get(arch)
    return "dash" if cls is not None and cls.memory_gate is None and not cls.has_cell_state else "solid"
