"""The real series gatescope ships (data/, sources in data/README.md) and uploaded CSV tables,
read once and cached (``cells.io.series_csv.read_csv`` says what is wrong with a bad file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from cells.io.series_csv import Table, read_csv

DATA_DIR = Path(__file__).resolve().parents[2] / "data"

EXAMPLES = {
    "sunspots": ("sunspots.csv", "sunspots", "yearly sunspot numbers, 1700-2008"),
    "co2": ("co2.csv", "co2", "Mauna Loa CO2 (ppm), monthly, 1958-2001"),
}
"""name -> (file in data/, column, label): the shipped series (sources in data/README.md)."""

EXAMPLE_CORPUS = {"sunspots": "sunspots"}
"""example -> the corpus of the shipped models trained on it: choosing it picks those models."""



@st.cache_data(max_entries=4, show_spinner=False)
def example_values(name: str) -> np.ndarray:
    """The shipped series ``name`` (a key of :data:`EXAMPLES`), all of it."""
    file, column, _ = EXAMPLES[name]
    table = read_csv(DATA_DIR / file, max_rows=10**6)
    return table.series([c.name for c in table.columns].index(column))[0]


@st.cache_data(max_entries=8, show_spinner=False)
def csv_table(data: bytes, max_rows: int) -> Table:
    return read_csv(data, max_rows=max_rows)
