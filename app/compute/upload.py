"""Your own model: reading an uploaded file, and this visitor's session slot for the model it read.

What a file may hold is decided by ``cells.read_model``, by content (``.npz``, ``.safetensors``,
Keras 3 ``.keras``; pickled ``.pt``/``.pth``/``.ckpt`` refused with the lines that convert them;
sizes checked before anything is allocated, nothing in the file is ever executed): a whole
language model or classifier (embedding + stacked, possibly bidirectional layers + head, with its
vocabulary and class names in the file or in files uploaded beside it), a character model
(``CharModel.save``), a series model, or a bare cell or stack (one input: numbers; I > 1 inputs:
text one-hot by Unicode code point). Every registered cell is taken, with at most
:data:`MAX_HIDDEN` units and :data:`MAX_LAYERS` layers; the file is limited to
:data:`MAX_UPLOAD_MB` MB by the uploader (and by ``server.maxUploadSize`` in
``.streamlit/config.toml``), its arrays to :data:`MAX_ARRAY_BYTES`. docs/models.md lists what is
read and what is refused.

The model lives in the visitor's ``st.session_state`` under :data:`UPLOAD_KEY`; its name in the
``model`` query parameter is ``upload-<first 16 hex digits of the file's SHA-256>``. Pages reach it
through ``app.compute.models`` only. A shared URL naming an upload shows the shipped model to anyone who
has not uploaded that same file, and says so. A refused file is kept as a :class:`Refusal` under
:data:`ERROR_KEY`, which the sidebar and every page's main area show (``app.widgets.page``).

:func:`parse` (bytes in, :class:`Uploaded` out, :class:`RefusedError` for any bad file) is pure;
:func:`receive` keeps what was read in the session. The sidebar's box is ``app.widgets.upload``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import streamlit as st

import cells
from cells.io.errors import WeightsFileError
from cells.io.model_files import READ_NOTES_KEY, MissingVocabularyError
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
# a PyTorch model (nn.LSTM / nn.GRU / nn.RNN, any num_layers, bidirectional or not, optionally
# an nn.Embedding before it and an nn.Linear after it):
from safetensors.torch import save_model  # save_model keeps tied weights (decoder = encoder) too
save_model(model, "model.safetensors")
"""
SAVE_TORCH_TOKENS = """\
# with an embedding: its vocabulary (tokens in id order); a classifier: its class names too
import json
from safetensors.torch import save_model
save_model(model, "model.safetensors",
           metadata={"vocab": json.dumps(tokens), "labels": json.dumps(classes)})
"""
SAVE_KERAS = """\
# a Keras Sequential of LSTM / GRU / SimpleRNN layers, or Bidirectional ones (optionally an
# Embedding first, a Dense last); its vocabulary and class names go in the boxes below:
model.save("model.keras")
"""

KEY_PREFIX = "upload-"
UPLOAD_KEY = "upload"  # st.session_state: the current Uploaded, or None
ERROR_KEY = "upload_error"  # st.session_state: the last file's Refusal, or None
_FILE_ID_KEY = "upload_file_id"  # st.session_state: the uploader's file id already read
SHIPPED_MODEL = "trained"
"""The ``model`` choice a cleared upload falls back to."""

FORMATS = (
    "A .safetensors file (a PyTorch state_dict), a Keras 3 .keras file or an .npz of NumPy arrays; "
    "never a pickle (.pt, .pth, .ckpt: the lines below convert one). A whole language model "
    "(embedding, 1 to 4 stacked LSTM / GRU / RNN layers, bidirectional or not, linear head) reads "
    "text with next-token guesses; a head whose outputs are not the vocabulary is a classifier, "
    "and the pages show how its decision forms. Its vocabulary and class names come in the file "
    "or as JSON lists (or one per line) uploaded beside it. A bare recurrent layer or stack with "
    "input size 1 reads numbers mode, one value per step; with input size I > 1 it reads text "
    "one-hot by Unicode code point (character ch is input ord(ch) when ord(ch) < I, so I = 128 "
    "reads ASCII; any other character is shown as unknown). docs/models.md lists the key names "
    "read and what is refused."
)
"""What a weights file may be, in words (developer text, shown on the page)."""


@dataclass(frozen=True)
class Refusal:
    """Why a file was refused: ``reason`` (what the file is and why it is not read, plain text),
    ``fix`` (the lines that make a file gatescope reads, or None), ``filename`` (the visitor's:
    plain text only)."""

    reason: str
    fix: str | None
    filename: str


class RefusedError(ValueError):
    """An upload that cannot be shown; ``refusal`` says why."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason if refusal.fix is None else f"{refusal.reason}\n{refusal.fix}")
        self.refusal = refusal


def describe_reader(reader: Reader, source: str = "") -> str:
    """What a model is, in one line: its layers, where it comes from (``source``, say "uploaded
    by you"), what it reads and what its head gives (no text from the file in it)."""
    cell = reader.cell
    layers = getattr(cell, "num_layers", 1)
    what = cell.display_name
    if len(getattr(cell, "directions", ())) == 2:
        what = f"bidirectional {what}"
    what += f", {f'{layers} layers of ' if layers > 1 else ''}{cell.hidden_size} units"
    if len(getattr(cell, "directions", ())) == 2:
        what += " per direction"
    if cell.projected:
        what += f" projected to {getattr(cell, 'direction_size', cell.output_size)}"
    what += f"{', ' + source if source else ''}, reading {reader.encoder.describe()}"
    token = "character" if reader.per_character else "token"
    if reader.classifies:
        return f"{what}, a classifier of {len(reader.labels)} classes"
    if reader.guesses_tokens:
        return f"{what}, with next-{token} guesses"
    if reader.readout is None and reader.mode == "text":
        return f"{what} (no head, so no next-{token} guesses)"
    return what


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
        """One line saying what the model is (class names aside, no text from the file in it)."""
        return describe_reader(self.reader, f"uploaded by you ({self.digest[:8]})")

    @property
    def notes(self) -> tuple[str, ...]:
        """What was read differently from the file as it is (a wrapper's prefix, zero biases)."""
        return tuple(self.reader.meta.get(READ_NOTES_KEY, ()))


def parse(data: bytes, filename: str = "", vocab: bytes | None = None,
          labels: bytes | None = None) -> Uploaded:
    """The model in an uploaded file's bytes (and a vocabulary file's and a class names file's,
    if given). Any file the app cannot show is :class:`RefusedError`, whose :class:`Refusal` says
    what the file is, why it is not read and the fix (plain text; it may quote bits of the file).
    Bytes only: a str would be read as a path on the server's disk."""
    if not all(isinstance(b, bytes) for b in (data, *(x for x in (vocab, labels) if x is not None))):
        raise TypeError("upload.parse takes the uploaded files' bytes (getvalue()), never a path")
    filename = str(filename)

    def refuse(reason: str, fix: str | None = None) -> RefusedError:
        return RefusedError(Refusal(reason, fix, filename))

    if len(data) == 0:
        raise refuse("the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise refuse(f"the file has {len(data):,} bytes, more than the limit of {MAX_UPLOAD_BYTES:,} "
                     f"({MAX_UPLOAD_MB} MB)")
    for what, extra in (("vocabulary", vocab), ("class names", labels)):
        if extra is not None and len(extra) > MAX_VOCAB_MB * 2**20:
            raise refuse(f"the {what} file has more than {MAX_VOCAB_MB} MB")
    try:
        reader = cells.read_model(data, vocab=vocab, labels=labels, max_bytes=MAX_ARRAY_BYTES,
                                  max_hidden=MAX_HIDDEN, max_layers=MAX_LAYERS)
    except MissingVocabularyError as exc:
        raise refuse(f"{exc.what}. Put its vocabulary (a JSON list of its tokens in id order, or one "
                     "token per line) in the Vocabulary box under the model file: the model is read "
                     "again with it. Or save the vocabulary in the file:", exc.fix) from exc
    except WeightsFileError as exc:
        raise refuse(exc.reason, exc.fix) from exc
    except ValueError as exc:
        raise refuse(str(exc)) from exc
    digest = hashlib.sha256(b"\0".join((data, vocab or b"", labels or b""))).hexdigest()[:16]
    return Uploaded(filename=filename, digest=digest, reader=reader)


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


def refusal() -> Refusal | None:
    """Why this visitor's last file was refused, if it was."""
    found = st.session_state.get(ERROR_KEY)
    return found if isinstance(found, Refusal) else None


def receive(file: Any, vocab: Any, labels: Any = None) -> None:
    """Read a newly uploaded file (and vocabulary and class names files) into the session, once
    per set of files; a cleared uploader drops the model."""
    session = st.session_state
    if file is None:
        up = current()
        if up is not None and session.get("model") == up.key:
            session["model"] = SHIPPED_MODEL
        for key in (UPLOAD_KEY, ERROR_KEY, _FILE_ID_KEY):
            session.pop(key, None)
        return
    files_id = tuple(None if f is None else f.file_id for f in (file, vocab, labels))
    if session.get(_FILE_ID_KEY) == files_id:
        return
    session[_FILE_ID_KEY] = files_id
    try:
        extras = (None if f is None else f.getvalue() for f in (vocab, labels))
        up = parse(file.getvalue(), file.name, *extras)
    except RefusedError as exc:
        session[UPLOAD_KEY], session[ERROR_KEY] = None, exc.refusal
        return
    session[UPLOAD_KEY], session[ERROR_KEY] = up, None
    session["model"] = up.key  # show it at once, in the mode it reads (the sequence box then
    session["mode"] = up.mode  # swaps a default text for a default series, or back)
