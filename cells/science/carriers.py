"""The unit that carries a quotation, found causally: read a text twice, once with the opening
character replaced by a space, and the carrier is the unit whose memory differs most at the last
character before the closing one; then what its gates did while it carried (the keep gate's
running product along the memory path against the median unit's)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cells.core.cell import Trace
from cells.core.registry import CELLS
from cells.models.reader import Reader
from cells.science.gradients import running_gate_product


@dataclass(frozen=True, eq=False)
class Carrier:
    """The unit of a trained char model that carries an open quote, and what its gates did.

    Found causally: the text is read twice, once with the opening character replaced by a space;
    the carrier is the unit whose memory (the LSTM's c, the GRU's h) differs most between the two
    readings at the last character before the closing one. ``written`` is the step inside the
    quote where that difference is largest: from there on, the highway gate decides what is kept.
    """

    arch: str
    unit: int
    start: int  # position of the opening character
    end: int  # position of the closing character
    written: int  # start <= written < end: where the opening character's mark on memory peaks
    gates: dict[str, np.ndarray]  # gate name -> (T,) the carrier's gate values
    memory: np.ndarray  # (T,) c (LSTM) or h (GRU) of the carrier
    memory_without: np.ndarray  # (T,) the same, reading the text without the opening character
    log_keep: float  # log10 prod of the highway gate (f or z) over written < k < end
    log_keep_median: float  # the same for the median unit

    @property
    def highway(self) -> str:
        return CELLS[self.arch].memory_gate

    @property
    def change(self) -> np.ndarray:
        """(T,) what the opening character changed in the carrier's memory."""
        return self.memory - self.memory_without

    def mean_inside(self, gate: str) -> float:
        """Mean of the carrier's ``gate`` over the quoted characters (between the two quotes)."""
        return float(self.gates[gate][self.start + 1: self.end].mean())


def memory(trace: Trace) -> np.ndarray:
    """(T, H) what a cell carries from step to step: c for the LSTM, h otherwise."""
    return trace.h if trace.c is None else trace.c


def carrier(model: Reader, text: str, start: int, end: int) -> Carrier:
    """The unit of ``model`` that carries the character at ``start`` until ``end`` (see :class:`Carrier`)."""
    if not 0 <= start < end - 1 < len(text):
        raise ValueError(f"need 0 <= start < end - 1 < len(text), got {start}, {end}, {len(text)}")
    arch = model.cell.arch
    trace = model.read(text).trace
    without = model.read(text[:start] + " " + text[start + 1:]).trace
    kept, kept_without = memory(trace), memory(without)  # (T, H)
    unit = int(np.argmax(np.abs(kept[end - 1] - kept_without[end - 1])))
    written = start + int(np.argmax(np.abs(kept[start:end, unit] - kept_without[start:end, unit])))
    highway = model.cell.memory_path(trace)[written:end]  # (L, H)
    log_products = running_gate_product(highway)[0]  # (H,) log10 prod over written < k < end
    return Carrier(
        arch=arch, unit=unit, start=start, end=end, written=written,
        gates={name: g[:, unit] for name, g in trace.gates.items()},
        memory=kept[:, unit], memory_without=kept_without[:, unit],
        log_keep=float(log_products[unit]), log_keep_median=float(np.median(log_products)),
    )
