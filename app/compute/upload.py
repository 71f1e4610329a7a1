"""Your own model: reading an uploaded file, and this visitor's session slot for the model it read.

What a file may hold is decided by ``cells.read_model``, by content (``.npz``, ``.safetensors``,
Keras 3 ``.keras``; pickled ``.pt``/``.pth``/``.ckpt`` refused with the two lines that convert
them; sizes checked before anything is allocated, nothing in the file is ever executed): a whole
language model (embedding + stacked layers + head, with its vocabulary in the file or in a
vocabulary file uploaded beside it), a character model (``CharModel.save``), a series model, or a
bare cell or stack (one input: numbers; I > 1 inputs: text one-hot by Unicode code point). Every
registered cell is taken, with at most :data:`MAX_HIDDEN` units and :data:`MAX_LAYERS` layers; the
file is limited to :data:`MAX_UPLOAD_MB` MB by the uploader (and by ``server.maxUploadSize`` in
``.streamlit/config.toml``), its arrays to :data:`MAX_ARRAY_BYTES`.

The model lives in the visitor's ``st.session_state`` under :data:`UPLOAD_KEY`; its name in the
``model`` query parameter is ``upload-<first 16 hex digits of the file's SHA-256>``. Pages reach it
through ``app.compute.models`` only. A shared URL naming an upload shows the shipped model to anyone who
has not uploaded that same file, and says so.

:func:`parse` (bytes in, :class:`Uploaded` out, ``ValueError`` for any bad file) is pure;
:func:`receive` keeps what was read in the session. The sidebar's box is ``app.widgets.upload``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import streamlit as st

import cells
from cells.io.model_files import MissingVocabularyError
from cells.models.reader import Reader

MAX_UPLOAD_MB = 50
"""Largest file the uploader takes, in MB (the same as ``server.maxUploadSize``)."""

MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 2**20
MAX_ARRAY_BYTES = 64 * 2**20
"""Largest total of a file's arrays, uncompressed (a compressed .npz may hold more than its size)."""

MAX_HIDDEN = 1024
"""Largest hidden size an uploaded model may have."""

MAX_LAYERS = 4
"""Most stacked layers an uploaded model may have."""

MAX_VOCAB_MB = 4
"""Largest vocabulary file, in MB."""

WEIGHT_TYPES = ["npz", "safetensors", "keras", "pt", "pth", "ckpt"]
"""What the uploader offers (a pickled .pt is taken, to be refused with the lines that convert it)."""

SAVE_TORCH = """\
# a PyTorch model (nn.LSTM / nn.GRU / nn.RNN, any num_layers, optionally with an
# nn.Embedding before it and an nn.Linear after it):
from safetensors.torch import save_file
save_file(model.state_dict(), "model.safetensors")
"""
SAVE_KERAS = """\
# a Keras Sequential of LSTM / GRU / SimpleRNN layers (optionally Embedding first, Dense last):
model.save("model.keras")
"""

KEY_PREFIX = "upload-"
UPLOAD_KEY = "upload"  # st.session_state: the current Uploaded, or None
ERROR_KEY = "upload_error"  # st.session_state: why the last file was refused, or None
_FILE_ID_KEY = "upload_file_id"  # st.session_state: the uploader's file id already read
SHIPPED_MODEL = "trained"
"""The ``model`` choice a cleared upload falls back to."""

FORMATS = (
    "A .safetensors file (a PyTorch state_dict), a Keras 3 .keras file or an .npz of NumPy arrays; "
    "never a pickle (.pt, .pth, .ckpt: the recipe below converts one). A whole language model "
    "(embedding, 1 to 4 stacked LSTM / GRU / RNN layers, linear head) reads text with next-token "
    "guesses; its vocabulary comes in the file or as a JSON list (or one token per line) uploaded "
    "beside it. A bare recurrent layer or stack with input size 1 reads numbers mode, one value "
    "per step; with input size I > 1 it reads text one-hot by Unicode code point (character ch is "
    "input ord(ch) when ord(ch) < I, so I = 128 reads ASCII; any other character is shown as "
    "unknown). The README lists the key names read."
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


def parse(data: bytes, filename: str = "", vocab: bytes | None = None) -> Uploaded:
    """The model in an uploaded file's bytes (and a vocabulary file's, if given). Any file the app
    cannot show is a ``ValueError`` whose message says what is wrong (plain text; it may quote bits
    of the file). Bytes only: a str would be read as a path on the server's disk."""
    if not isinstance(data, bytes) or not isinstance(vocab, bytes | None):
        raise TypeError("upload.parse takes the uploaded files' bytes (getvalue()), never a path")
    if len(data) == 0:
        raise ValueError("the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file has {len(data):,} bytes, more than the limit of "
                         f"{MAX_UPLOAD_BYTES:,} ({MAX_UPLOAD_MB} MB)")
    if vocab is not None and len(vocab) > MAX_VOCAB_MB * 2**20:
        raise ValueError(f"the vocabulary file has more than {MAX_VOCAB_MB} MB")
    try:
        reader = cells.read_model(data, vocab=vocab, max_bytes=MAX_ARRAY_BYTES,
                                  max_hidden=MAX_HIDDEN, max_layers=MAX_LAYERS)
    except MissingVocabularyError as exc:
        raise ValueError(f"{exc}. Upload its vocabulary in the Vocabulary box (a JSON list of "
                         "its tokens in id order, or one token per line), then this file again.") from exc
    digest = hashlib.sha256(data + b"\0" + (vocab or b"")).hexdigest()[:16]
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


def receive(file: Any, vocab: Any) -> None:
    """Read a newly uploaded file (and vocabulary file) into the session, once per pair of files;
    a cleared uploader drops the model."""
    session = st.session_state
    if file is None:
        up = current()
        if up is not None and session.get("model") == up.key:
            session["model"] = SHIPPED_MODEL
        for key in (UPLOAD_KEY, ERROR_KEY, _FILE_ID_KEY):
            session.pop(key, None)
        return
    files_id = (file.file_id, None if vocab is None else vocab.file_id)
    if session.get(_FILE_ID_KEY) == files_id:
        return
    session[_FILE_ID_KEY] = files_id
    try:
        up = parse(file.getvalue(), file.name, None if vocab is None else vocab.getvalue())
    except ValueError as exc:
        session[UPLOAD_KEY], session[ERROR_KEY] = None, str(exc)
        return
    session[UPLOAD_KEY], session[ERROR_KEY] = up, None
    session["model"] = up.key  # show it at once, in the mode it reads (the sequence box then
    session["mode"] = up.mode  # swaps a default text for a default series, or back)
