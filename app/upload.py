"""Your own model: the sidebar's uploader and this visitor's session slot for the model it read.

What a file may hold is decided by ``cells.read_model`` (``.npz`` only, no pickle, sizes checked
before anything is allocated, nothing in the file is ever executed): a character model
(``CharModel.save``) reads text with its vocabulary and next-character guesses; a series model
(``scripts/train_series.py``) reads numbers; a bare cell (``cells.save``, or the two-line PyTorch
and Keras recipes shown in the sidebar) with one input reads numbers, with I > 1 inputs reads text
one-hot by Unicode code point. Every registered cell is taken, with at most :data:`MAX_HIDDEN`
units; the file is limited to :data:`MAX_UPLOAD_MB` MB by the uploader (and by
``server.maxUploadSize`` in ``.streamlit/config.toml``), its arrays to :data:`MAX_ARRAY_BYTES`.

The model lives in the visitor's ``st.session_state`` under :data:`UPLOAD_KEY`; its name in the
``model`` query parameter is ``upload-<first 16 hex digits of the file's SHA-256>``. Pages reach it
through ``app.models`` only. A shared URL naming an upload shows the shipped model to anyone who
has not uploaded that same file, and says so.

:func:`parse` (bytes in, :class:`Uploaded` out, ``ValueError`` for any bad file) is pure; the rest
draws the sidebar box.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import streamlit as st

import cells
from cells.readers import Reader
from cells.weights import KERAS_SNIPPET, TORCH_SNIPPET

MAX_UPLOAD_MB = 5
"""Largest file the uploader takes, in MB (the same as ``server.maxUploadSize``)."""

MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 2**20
MAX_ARRAY_BYTES = 8 * 2**20
"""Largest total of a file's arrays, uncompressed (a compressed .npz may hold more than its size)."""

MAX_HIDDEN = 512
"""Largest hidden size an uploaded cell may have (the charts and the reading stay fast)."""

KEY_PREFIX = "upload-"
UPLOAD_KEY = "upload"  # st.session_state: the current Uploaded, or None
_ERROR_KEY = "upload_error"  # st.session_state: why the last file was refused, or None
_FILE_ID_KEY = "upload_file_id"  # st.session_state: the uploader's file id already read
_WIDGET_KEY = "upload_file"
SHIPPED_MODEL = "trained"
"""The ``model`` choice a cleared upload falls back to."""

FORMATS = (
    "An .npz of NumPy arrays, never pickle. A character model saved by gatescope's training code "
    "(CharModel.save) reads text, with its vocabulary and next-character guesses; a series model "
    "(scripts/train_series.py) reads numbers mode. A bare cell of any kind gatescope knows "
    "(cells.save, or the recipes below) with input size 1 reads numbers mode, one value per "
    "step; with input size I > 1 it reads text one-hot by Unicode code point (character ch is "
    "input ord(ch) when ord(ch) < I, so I = 128 reads ASCII; any other character is the all-zero "
    "input, shown as unknown) and makes no guesses, having no readout."
)
"""What a weights file may be, in words (developer text, shown on the page)."""


@dataclass(frozen=True, eq=False)
class Uploaded:
    """A model read from an uploaded file. ``filename`` came from the visitor: show it with
    ``st.text`` only, never inside Markdown."""

    filename: str
    digest: str  # first 16 hex digits of the file's SHA-256
    reader: Reader

    @property
    def key(self) -> str:
        """The model's name in the ``model`` query parameter."""
        return KEY_PREFIX + self.digest

    @property
    def arch(self) -> str:
        return self.reader.cell.arch

    @property
    def mode(self) -> str:
        """The sequence mode the model reads: "text" or "numbers"."""
        return self.reader.mode

    @property
    def description(self) -> str:
        """One line saying what the model is (no text from the file in it)."""
        cell, reader = self.reader.cell, self.reader
        what = (f"{cell.display_name}, {cell.hidden_size} units, uploaded by you "
                f"({self.digest[:8]}), reading {reader.encoder.describe()}")
        if reader.guesses_tokens:
            return f"{what}, with next-character guesses"
        if reader.readout is None and self.mode == "text":
            return f"{what} (no readout, so no next-character guesses)"
        return what


def parse(data: bytes, filename: str = "") -> Uploaded:
    """The model in an uploaded file's bytes. Any file the app cannot show is a ``ValueError``
    whose message says what is wrong (plain text; it may quote bits of the file)."""
    if len(data) == 0:
        raise ValueError("the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file has {len(data):,} bytes, more than the limit of "
                         f"{MAX_UPLOAD_BYTES:,} ({MAX_UPLOAD_MB} MB)")
    reader = cells.read_model(data, max_bytes=MAX_ARRAY_BYTES)
    if reader.cell.hidden_size > MAX_HIDDEN:
        raise ValueError(f"the cell has {reader.cell.hidden_size} hidden units; the app reads at "
                         f"most {MAX_HIDDEN}")
    digest = hashlib.sha256(data).hexdigest()[:16]
    return Uploaded(filename=str(filename), digest=digest, reader=reader)


def literal_markdown(text: str, limit: int = 500) -> str:
    """``text`` as a Markdown code span, which shows every character as itself: no links (not
    even bare URLs, which GFM links outside code), images, emphasis, HTML, ``:colour[...]``
    directives or ``$`` maths. The fence is one backtick longer than the longest run of backticks
    in ``text``; newlines become spaces and the text is cut to ``limit`` characters."""
    text = " ".join(text[:limit].split())
    fence = "`" * (1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{fence} {text} {fence}"


# --------------------------------------------------------------------------- Streamlit


def current() -> Uploaded | None:
    """This visitor's uploaded model, if any."""
    up = st.session_state.get(UPLOAD_KEY)
    return up if isinstance(up, Uploaded) else None


def _receive(file: Any) -> None:
    """Read a newly uploaded file into the session (once per file); a cleared uploader drops it."""
    session = st.session_state
    if file is None:
        up = current()
        if up is not None and session.get("model") == up.key:
            session["model"] = SHIPPED_MODEL
        for key in (UPLOAD_KEY, _ERROR_KEY, _FILE_ID_KEY):
            session.pop(key, None)
        return
    if session.get(_FILE_ID_KEY) == file.file_id:
        return
    session[_FILE_ID_KEY] = file.file_id
    try:
        up = parse(file.getvalue(), file.name)
    except ValueError as exc:
        session[UPLOAD_KEY], session[_ERROR_KEY] = None, str(exc)
        return
    session[UPLOAD_KEY], session[_ERROR_KEY] = up, None
    session["model"] = up.key  # show it at once, in the mode it reads (the sequence box then
    session["mode"] = up.mode  # swaps a default text for a default series, or back)


def sidebar() -> None:
    """The sidebar's "Your own model" part: the uploader, what was read (or why the file was
    refused), and, folded, what a file may be and the recipes that write one from PyTorch or Keras."""
    session = st.session_state
    wanted = session.get("model")
    sidebar = st.sidebar
    sidebar.subheader("Your own model")
    sidebar.caption(
        "Upload a recurrent model's weights and the Gates page reads your sequence with it; "
        "LSTM vs GRU and Gradients put it in place of the trained cell of its kind (or beside "
        "them), and Cells ranks its units. "
        "Nothing in the file is run, and it stays in your browser session only."
    )
    _receive(sidebar.file_uploader(
        "Weights file (.npz)", type=["npz"], key=_WIDGET_KEY, max_upload_size=MAX_UPLOAD_MB,
        help=f"At most {MAX_UPLOAD_MB} MB. {FORMATS}",
    ))
    up, error = current(), session.get(_ERROR_KEY)
    if error:
        sidebar.error("This file was refused: " + literal_markdown(error), icon=":material/block:")
    elif up is not None:
        sidebar.success("Read. " + up.description + ".", icon=":material/check:")
        sidebar.text(f"file: {up.filename[:120]}")
        if session.get("mode", "text") != up.mode:
            sidebar.info(f"Your model reads {up.mode} mode: switch 'Read the box as' to {up.mode} "
                         "to see it.", icon=":material/swap_horiz:")
    elif isinstance(wanted, str) and wanted.startswith(KEY_PREFIX):
        sidebar.info("This link showed a model uploaded in another browser session, which only its "
                     "uploader has; the page shows the shipped model. Upload the same file to see "
                     "it.", icon=":material/info:")
    with sidebar.expander("Which files? From PyTorch or Keras in two lines"):
        st.caption(FORMATS)
        st.caption("From a PyTorch nn.LSTM / nn.GRU (one layer):")
        st.code(TORCH_SNIPPET, language="python")
        st.caption("From a Keras LSTM / GRU layer:")
        st.code(KERAS_SNIPPET, language="python")
