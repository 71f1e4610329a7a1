"""Series files: the one reader and writer of CSV series (pure: bytes in, arrays out).

    table = read_csv(data)                   # bytes, str or a path; ValueError says what is wrong
    table.numeric                            # the columns that hold numbers
    values, notes = table.series(k)          # column k's finite values, and what was dropped or cut
    write_csv(path, {"year": years, "sunspots": counts})

A file is UTF-8 text (a byte-order mark is allowed; UTF-16 with its mark too), fields separated by
commas, semicolons or tabs (sniffed), an optional header row (the first row is a header when any
of its fields is not a number). A column is offered as a series when at least one of its cells is
a finite number; empty cells, text, ``nan`` and ``inf`` are dropped from it and counted. Only the
first ``max_rows`` data rows are read; the rest are counted, so the caller can say the series was
cut. Notes never quote the file's content (column names included): a page shows them as they are.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

MAX_CSV_BYTES = 20 * 2**20
"""Largest series file read (20 MB: a million rows of a few columns)."""

DEFAULT_MAX_ROWS = 2000
"""Data rows read by default (the app passes its own limit, ``app.ui.MAX_NUMBERS``)."""

MAX_COLUMNS = 100
"""Most columns a series file may have."""

DELIMITERS = ",;\t"


@dataclass(frozen=True, eq=False)
class Column:
    """One column of a CSV: its name (the header's, or "column k") and every cell read as a float
    (NaN where the cell is empty or not a number), with the counts of each kind of bad cell."""

    name: str
    values: np.ndarray  # (n,) float64, NaN where no finite number
    empty: int  # cells with nothing in them
    text: int  # cells that are not numbers
    non_finite: int  # nan, inf, -inf, or numbers beyond float64's range

    @property
    def finite(self) -> int:
        return int(np.isfinite(self.values).sum())


@dataclass(frozen=True, eq=False)
class Table:
    """A CSV read by :func:`read_csv`: its columns (the first ``read_rows`` data rows) and the number
    of data rows in the whole file (``total_rows``; more than ``read_rows`` when it was cut)."""

    columns: tuple[Column, ...]
    read_rows: int
    total_rows: int
    has_header: bool

    @property
    def numeric(self) -> tuple[int, ...]:
        """Indices of the columns that hold at least one finite number."""
        return tuple(k for k, c in enumerate(self.columns) if c.finite > 0)

    @property
    def empty_columns(self) -> int:
        """How many columns have no cell with anything in it."""
        return sum(c.empty == len(c.values) for c in self.columns)

    def default_column(self) -> int:
        """The column to offer first: the first numeric one that is not an evenly spaced index
        (a year or a row number), else the first numeric one."""
        for k in self.numeric:
            v = self.columns[k].values
            steps = np.diff(v)
            if len(v) < 3 or not (np.all(np.isfinite(steps)) and np.ptp(steps) == 0 and steps[0] != 0):
                return k
        return self.numeric[0]

    def series(self, k: int) -> tuple[np.ndarray, tuple[str, ...]]:
        """Column ``k``'s finite values, in file order, and notes on what was dropped or cut."""
        col = self.columns[k]
        values = col.values[np.isfinite(col.values)]
        notes = []
        if col.empty:
            notes.append(f"Dropped {col.empty:,} empty cells of this column.")
        if col.text:
            notes.append(f"Dropped {col.text:,} cells of this column that are not numbers.")
        if col.non_finite:
            notes.append(f"Dropped {col.non_finite:,} cells of this column that are nan or infinite.")
        if self.total_rows > self.read_rows:
            notes.append(f"The file has {self.total_rows:,} rows; only the first {self.read_rows:,} are "
                         f"read (the limit on a series, {self.read_rows:,} values).")
        return values, tuple(notes)


def _decode(data: bytes) -> str:
    """The file's text: UTF-8 (a BOM allowed) or UTF-16 with its BOM; anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValueError("the file starts like UTF-16 text but is not: save it as CSV UTF-8") from exc
    if b"\0" in data[:65536]:
        raise ValueError("this is not a text file (it contains NUL bytes): a CSV is text, one row per line")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} at position "
                         f"{exc.start:,} is not UTF-8): save it as CSV UTF-8") from exc


def _number(cell: str) -> float | None:
    """A cell as a float (nan and inf included), or None when it is not a number."""
    try:
        return float(cell)
    except ValueError:
        return None


def _sniff(text: str) -> str:
    sample = text[:8192]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _source_bytes(src: bytes | str | os.PathLike, max_bytes: int) -> bytes:
    if isinstance(src, bytes):
        data = src
    elif isinstance(src, str) and "\n" in src:  # the text of a CSV
        data = src.encode("utf-8")
    else:
        with open(src, "rb") as f:
            data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"the file is larger than {max_bytes / 2**20:g} MB, the most a series file may be")
    return data


def read_csv(src: bytes | str | os.PathLike, *, max_rows: int = DEFAULT_MAX_ROWS,
             max_bytes: int = MAX_CSV_BYTES) -> Table:
    """The columns of a CSV (see the module docstring). ``src``: the file's bytes, a path, or the
    text of a CSV (a str with a newline). A file that has no number in it, or is not text, is a
    ``ValueError`` that says why."""
    text = _decode(_source_bytes(src, max_bytes))
    if not text.strip():
        raise ValueError("the file is empty")
    try:
        reader = csv.reader(io.StringIO(text), delimiter=_sniff(text))
        rows = list(islice((r for r in reader if any(cell.strip() for cell in r)), max_rows + 2))
    except csv.Error as exc:  # e.g. a field larger than csv's limit
        raise ValueError(f"the file is not a CSV this reader understands ({exc})") from exc
    if not rows:
        raise ValueError("the file has no rows with anything in them")
    first = [cell.strip() for cell in rows[0]]
    has_header = any(cell and _number(cell) is None for cell in first)
    body = rows[1:] if has_header else rows
    total_rows = len(body)
    if total_rows > max_rows:  # cut: count the rest without parsing it
        total_rows = sum(1 for line in io.StringIO(text) if line.strip()) - int(has_header)
        body = body[:max_rows]
    if not body:
        raise ValueError("the file has a header row and no data rows below it")
    width = max(len(first), *(len(r) for r in body))
    if width > MAX_COLUMNS:
        raise ValueError(f"the file has {width:,} columns; a series file may have at most {MAX_COLUMNS}")
    names = [(first[k] if has_header and k < len(first) and first[k] else f"column {k + 1}")
             for k in range(width)]
    columns = []
    for k in range(width):
        values = np.full(len(body), np.nan)
        empty = text_cells = non_finite = 0
        for i, row in enumerate(body):
            cell = row[k].strip() if k < len(row) else ""
            if not cell:
                empty += 1
                continue
            number = _number(cell)
            if number is None:
                text_cells += 1
            elif not math.isfinite(number):
                non_finite += 1
            else:
                values[i] = number
        columns.append(Column(names[k][:200], values, empty, text_cells, non_finite))
    table = Table(tuple(columns), len(body), max(total_rows, len(body)), has_header)
    if not table.numeric:
        raise ValueError(f"no column of this file holds numbers ({width} column(s), {len(body):,} rows "
                         "read): a series is a column of numbers")
    return table


def write_csv(path: str | os.PathLike, columns: dict[str, Sequence[float] | Sequence[str]], *,
              digits: int = 10) -> None:
    """Write equal-length columns (numbers, or text such as dates) to a CSV with a header: numbers
    to ``digits`` significant digits, NaN as an empty cell. :func:`read_csv` reads it back."""
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")

    def cell(v: float | str) -> str:
        if isinstance(v, str):
            return v
        return "" if not math.isfinite(v) else f"{float(v):.{digits}g}"

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(columns))
    for row in zip(*columns.values(), strict=True):
        writer.writerow([cell(v) for v in row])
    Path(path).write_text(out.getvalue(), encoding="utf-8")


def format_series(values: np.ndarray, digits: int = 10) -> str:
    """A series as the sequence box holds it: comma-separated numbers, shortest form."""
    return ", ".join(f"{v:.{digits}g}" for v in np.asarray(values, dtype=np.float64))
