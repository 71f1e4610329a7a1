"""Units ranked against properties of the text they read, cached: the Cells page's table and the
Gates page's first picture. The readings themselves come from ``app.compute.models.read`` (cached there);
only the rankings are kept here, keyed by the states ranked (hashed: a few milliseconds at the
input limit) and the text.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.compute import models
from cells.science import interpret

TOP_UNITS = 3
"""Units ranked for each property, best first (the Cells page shows them)."""


@st.cache_data(max_entries=16, show_spinner=False)
def _units(states: np.ndarray, text: str, corpus: str
           ) -> tuple[dict[str, np.ndarray], dict[str, list[interpret.UnitScore]]]:
    properties = interpret.text_properties(text, corpus)
    return properties, interpret.best_units(states, properties, k=TOP_UNITS)


def rank_units(reading: models.Reading, text: str, state: str, corpus: str
               ) -> tuple[dict[str, np.ndarray], dict[str, list[interpret.UnitScore]]]:
    """Every property of ``corpus``'s set over ``text`` (name -> (T,)) and the best units of
    ``reading``'s ``state`` (c or h) for each, best first."""
    return _units(reading.rows[state], text, corpus)


@st.cache_data(max_entries=16, show_spinner=False)
def _strongest(states: np.ndarray, text: str) -> interpret.UnitScore | None:
    return interpret.strongest_unit(states, text)


def strongest_unit(reading: models.Reading, text: str) -> interpret.UnitScore | None:
    """The unit of ``reading``'s memory state to show first (``cells.science.interpret.strongest_unit``),
    cached: the scrubber and the unit picker do not redo it."""
    return _strongest(reading.rows[reading.cell.memory_state], text)
