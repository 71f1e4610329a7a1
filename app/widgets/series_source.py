"""Real series in numbers mode: example series and a CSV upload that fill the sequence box.

The sequence box (``key="seq"``) stays the one source of the series: choosing an example, or a
column of an uploaded CSV, writes the values into the box (so the view is in the URL, and the box
can still be edited). Files are read by ``cells.io.series_csv.read_csv``, which says what is wrong with a
bad one; the page then shows that message and keeps everything else as it was.

:func:`sources` draws the widgets (called by ``app.widgets.page.sequence_input`` before the box). The
forecast of the models trained on a real series is ``app.compute.forecasts``.
"""

from __future__ import annotations

import streamlit as st

from app.compute.example_series import EXAMPLE_CORPUS, EXAMPLES, csv_table, example_values
from app.compute.upload import literal_markdown
from cells.io.series_csv import format_series

MAX_CSV_MB = 20
"""Largest CSV the uploader takes, in MB (``cells.io.series_csv.MAX_CSV_BYTES``)."""

EXAMPLE_KEY = "series_example"
FILE_KEY = "series_csv"
COLUMN_KEY = "series_column"
_LOADED_KEY = "_series_loaded"  # (file id, column) last written into the box


def _load_example() -> None:
    """The example menu changed: write the series into the box, pick its models, reset the menu."""
    session = st.session_state
    name = session.get(EXAMPLE_KEY)
    if name in EXAMPLES:
        session["seq"] = format_series(example_values(name))
        if name in EXAMPLE_CORPUS:
            session["trained_on"] = EXAMPLE_CORPUS[name]
            session["model"] = "trained"
    session[EXAMPLE_KEY] = ""


def sources(max_numbers: int) -> tuple[str, ...]:
    """The example menu, the CSV uploader and (with a file) its column choice. A newly chosen file
    or column is written into the sequence box, cut to ``max_numbers`` values; returns the notes on
    what was dropped or cut (plain words, never the file's content). Call before the box is drawn."""
    session = st.session_state
    left, right = st.columns(2)
    with left:
        st.selectbox("Load an example series", ("", *EXAMPLES), key=EXAMPLE_KEY, on_change=_load_example,
                     format_func=lambda n: EXAMPLES[n][2] if n else "—",
                     help="Real public-domain series shipped with gatescope (sources in data/README.md). "
                     "The sunspots also pick the models trained on them.")
    with right:
        file = st.file_uploader(
            "Or a CSV file", type=["csv", "tsv", "txt"], key=FILE_KEY, max_upload_size=MAX_CSV_MB,
            help=f"A column of numbers (comma, semicolon or tab separated, UTF-8, a header row or "
            f"not; at most {MAX_CSV_MB} MB). Only its first {max_numbers:,} rows are read.")
    if file is None:
        session.pop(_LOADED_KEY, None)
        return ()
    try:
        table = csv_table(file.getvalue(), max_numbers)
    except ValueError as exc:
        st.warning("This CSV could not be read: " + literal_markdown(str(exc)) + ". The sequence box "
                   "keeps its series.", icon=":material/block:")
        return ()
    loaded = session.get(_LOADED_KEY)
    if loaded is None or loaded[0] != file.file_id or session.get(COLUMN_KEY) not in table.numeric:
        session[COLUMN_KEY] = table.default_column()  # a new file: its likeliest series column
    column = st.selectbox("Column", table.numeric, key=COLUMN_KEY,
                          format_func=lambda k: f"{k + 1}: {table.columns[k].name}",
                          help="The file's columns that hold numbers.")
    values, notes = table.series(column)
    if session.get(_LOADED_KEY) != (file.file_id, column):
        session[_LOADED_KEY] = (file.file_id, column)
        session["seq"] = format_series(values)
    skipped = len(table.columns) - len(table.numeric)
    if skipped:
        notes += (f"{skipped:,} column(s) of the file hold no numbers and are not offered.",)
    return notes
