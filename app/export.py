"""Export: the trace of the current view as a long-format table and CSV.

One row per (token, unit, gate): the columns are :data:`COLUMNS`, ``gate`` runs over the cell's
gates in the page's order, then ``c`` (LSTM) and ``h``. So a reading of T tokens with U units has
``T * U * (gates + c + h)`` rows, e.g. an LSTM's 4 gates, c and h make 6 per token and unit.

Charts are exported as PNG by Plotly's own toolbar (the camera icon), named by
:func:`app.charts.chart_config`. Everything here is pure except :func:`download_button`, which
imports Streamlit when it is called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

COLUMNS = ("token_index", "token", "unit", "gate", "value")


def trace_frame(
    labels: Sequence[str],
    h: np.ndarray,
    gates: Mapping[str, np.ndarray],
    c: np.ndarray | None = None,
    units: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The trace as a long table with :data:`COLUMNS`, sorted by token, then unit, then gate.

    labels: (T,) token labels; h, c and every gate: (T, U); units: the (U,) unit numbers the
    columns stand for (default 0..U-1).
    """
    rows = {**gates, **({"c": c} if c is not None else {}), "h": h}
    T, U = h.shape
    if len(labels) != T:
        raise ValueError(f"{len(labels)} token labels for a trace of {T} steps")
    units = np.arange(U) if units is None else np.asarray(units)
    if units.shape != (U,):
        raise ValueError(f"{units.shape[0]} unit numbers for {U} columns")
    values = np.stack([np.asarray(rows[name]) for name in rows], axis=-1)  # (T, U, K)
    K = values.shape[-1]
    token_index = np.repeat(np.arange(T), U * K)  # (T*U*K,)
    return pd.DataFrame({
        "token_index": token_index,
        "token": np.asarray(labels, dtype=object)[token_index],
        "unit": np.tile(np.repeat(units, K), T),
        "gate": np.tile(np.asarray(list(rows), dtype=object), T * U),
        "value": values.reshape(-1).astype(np.float64),
    }, columns=list(COLUMNS))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV with a header row, values at full float64 precision."""
    return frame.to_csv(index=False, float_format="%.17g").encode("utf-8")


def file_name(page: str, arch: str, what: str, ext: str) -> str:
    """``gatescope-<page>-<arch>-<what>.<ext>``, the export naming used across the app."""
    return f"gatescope-{page}-{arch}-{what}.{ext}"


def download_button(
    labels: Sequence[str],
    h: np.ndarray,
    gates: Mapping[str, np.ndarray],
    c: np.ndarray | None,
    units: Sequence[int],
    *,
    page: str,
    arch: str,
) -> None:
    """A "Download the trace (CSV)" button; the CSV is only built when it is clicked."""
    import streamlit as st

    T, U = h.shape
    st.download_button(
        "Download the trace (CSV)",
        data=lambda: csv_bytes(trace_frame(labels, h, gates, c, units)),
        file_name=file_name(page, arch, "trace", "csv"),
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        help=f"Columns {', '.join(COLUMNS)}: one row per token, shown unit and gate "
        f"({T} × {U} × {len(gates) + (c is not None) + 1} rows).",
    )
