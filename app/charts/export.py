"""Export: the trace of the current view as a long-format table and CSV.

One row per (step, unit, gate): the columns are :data:`COLUMNS`, ``gate`` runs over the rows of a
reading (``app.compute.models.Reading.rows``): the cell's gates in the page's order, then ``c`` (a cell
with a cell state) and ``h``. So a reading of T tokens with U units has
``T * U * (gates + c + h)`` rows, e.g. an LSTM's 4 gates, c and h make 6 per token and unit.
``pandas.DataFrame.to_csv`` writes floats as their shortest exact repr, so the CSV reads back
bit for bit.

Charts are exported as PNG by Plotly's own toolbar (the camera icon), named by
:func:`app.charts.base.chart_config`. Pure: no Streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

COLUMNS = ("step", "token", "unit", "gate", "value")


def trace_frame(
    labels: Sequence[str],
    rows: Mapping[str, np.ndarray],
    units: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The trace as a long table with :data:`COLUMNS`, sorted by step, then unit, then gate.

    labels: (T,) token labels; rows: name -> (T, U), in the order the table lists them; units:
    the (U,) unit numbers the columns stand for (default 0..U-1).
    """
    T, U = next(iter(rows.values())).shape
    if len(labels) != T:
        raise ValueError(f"{len(labels)} token labels for a trace of {T} steps")
    units = np.arange(U) if units is None else np.asarray(units)
    if units.shape != (U,):
        raise ValueError(f"{units.shape[0]} unit numbers for {U} columns")
    values = np.stack([np.asarray(rows[name]) for name in rows], axis=-1)  # (T, U, K)
    K = values.shape[-1]
    step = np.repeat(np.arange(T), U * K)  # (T*U*K,)
    return pd.DataFrame({
        "step": step,
        "token": np.asarray(labels, dtype=object)[step],
        "unit": np.tile(np.repeat(units, K), T),
        "gate": np.tile(np.asarray(list(rows), dtype=object), T * U),
        "value": values.reshape(-1).astype(np.float64),
    }, columns=list(COLUMNS))
