"""The CSV export: its columns, its row count against the trace, and its values read back."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import cells
from app.charts import export


def traced(arch: str, T: int = 7, I: int = 3, H: int = 5) -> cells.Trace:
    cell = cells.make_cell(arch, cells.init_params(arch, I, H, seed=1))
    return cell.forward(np.random.default_rng(2).normal(size=(T, I)))


def rows_of(trace: cells.Trace) -> dict:
    """The rows a reading exports: every gate, then c (if any) and h."""
    return {**trace.gates, **({} if trace.c is None else {"c": trace.c}), "h": trace.h}


def frame_of(trace: cells.Trace, labels: list[str]) -> pd.DataFrame:
    return export.trace_frame(labels, rows_of(trace))


@pytest.mark.parametrize(("arch", "rows_per_unit"), [("lstm", 4 + 2), ("gru", 3 + 1)])
def test_columns_and_one_row_per_token_unit_and_gate(arch, rows_per_unit):
    trace = traced(arch)
    T, H = trace.h.shape
    frame = frame_of(trace, [f"t{t}" for t in range(T)])
    assert list(frame.columns) == ["step", "token", "unit", "gate", "value"]
    assert len(frame) == T * H * rows_per_unit
    expected_gates = {"lstm": {"i", "f", "g", "o", "c", "h"}, "gru": {"r", "z", "n", "h"}}[arch]
    assert set(frame["gate"]) == expected_gates
    per_cell = frame.groupby(["step", "unit", "gate"]).size()
    assert (per_cell == 1).all() and len(per_cell) == T * H * rows_per_unit


def test_every_value_is_the_traces_value_at_its_token_unit_and_gate():
    trace = traced("lstm")
    labels = list("abcdefg")
    frame = frame_of(trace, labels)
    arrays = {**trace.gates, "c": trace.c, "h": trace.h}
    for row in frame.itertuples(index=False):
        assert row.value == arrays[row.gate][row.step, row.unit]
        assert row.token == labels[row.step]


def test_unit_numbers_are_the_shown_units_not_column_positions():
    trace = traced("gru", H=4)
    units = [17, 3, 40, 8]
    frame = export.trace_frame(list("abcdefg"), rows_of(trace), units=units)
    assert sorted(set(frame["unit"])) == sorted(units)
    z_of_unit_40 = frame[(frame.unit == 40) & (frame.gate == "z")].sort_values("step")
    np.testing.assert_array_equal(z_of_unit_40["value"], trace.gates["z"][:, 2])


def test_csv_reads_back_exactly_with_awkward_tokens():
    trace = traced("lstm", T=6)
    labels = [",", '"', "\n", "=1+1", "é", "␣"]
    frame = frame_of(trace, labels)
    back = pd.read_csv(io.StringIO(frame.to_csv(index=False)), keep_default_na=False,
                       dtype={"token": str})
    assert list(back.columns) == list(export.COLUMNS)
    assert back["token"].tolist() == frame["token"].tolist()
    np.testing.assert_array_equal(back["value"].to_numpy(), frame["value"].to_numpy())  # exact
    assert back["unit"].tolist() == frame["unit"].tolist()


def test_labels_or_units_that_do_not_match_the_trace_are_refused():
    trace = traced("lstm", T=4, H=3)
    with pytest.raises(ValueError, match="3 token labels for a trace of 4 steps"):
        export.trace_frame(list("abc"), rows_of(trace))
    with pytest.raises(ValueError, match="2 unit numbers for 3 columns"):
        export.trace_frame(list("abcd"), rows_of(trace), units=[0, 1])

