"""Your own model: upload a weights file and the pages read your sequence with it.

Gates and Cells show it alone; LSTM vs GRU and Gradients show it in place of the trained cell of
its kind (:func:`model_for`, :func:`load_model`, :func:`read_sequence`, :func:`read_text`, and
``app.gradients.readers`` through :meth:`Uploaded.inputs`); a page that cannot show it (say, a
numbers-mode upload on a page that reads text) says so and keeps the choice (:func:`model_choice`,
:func:`note`).

What a file may hold (read by ``cells.load_arrays``: ``.npz`` only, no pickle, sizes checked before
anything is allocated, nothing in the file is ever executed):

* **A character model** as the training code writes it (``CharModel.save``,
  ``scripts/train_char.py``): a cell, its readout and its vocabulary. It reads **text** exactly as
  the shipped models do, next-character guesses included.
* **A series model** as the training code writes it (``scripts/train_series.py``, meta
  ``kind="series"``): a 1-input cell and its readout. It reads **numbers** mode (the readout's
  next-value guesses are not drawn).
* **A bare cell** (``cells.save``, or the two-line PyTorch/Keras recipes shown in the sidebar,
  :data:`cells.weights.TORCH_SNIPPET` and :data:`cells.weights.KERAS_SNIPPET`) with input size I:

  - I = 1: a series model. It reads **numbers** mode, one value per step.
  - I > 1: it reads **text**, each character one-hot by its Unicode code point: character ``ch``
    is input ``ord(ch)`` when ``ord(ch) < I`` (so I = 128 reads ASCII, I = 256 Latin-1), and any
    other character is the all-zero input (the cell sees only its biases), marked unknown on the
    charts. A bare cell has no readout, so there are no next-character guesses.

Only LSTMs and GRUs are taken (the Gates page shows gates; a tanh RNN has none), with at most
:data:`MAX_HIDDEN` units. The file is limited to :data:`MAX_UPLOAD_MB` MB by the uploader (and by
``server.maxUploadSize`` in ``.streamlit/config.toml``), its arrays to :data:`MAX_ARRAY_BYTES`.

The model lives in the visitor's ``st.session_state`` under :data:`UPLOAD_KEY`; its name in the
``model`` query parameter is ``upload-<first 16 hex digits of the file's SHA-256>``. A shared URL
naming an upload shows the shipped model to anyone who has not uploaded that same file, and says so.

:func:`parse` (bytes in, :class:`Uploaded` out, ``ValueError`` for any bad file) and
:meth:`Uploaded.read` are pure; the rest draws the sidebar box and picks the model on a page.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

import cells
from app import models, ui
from app.state import ARCHS
from cells.base import Cell, Trace
from cells.charmodel import KIND, CharModel
from cells.pretrained import SERIES_KIND
from cells.train import READOUT_BIAS, READOUT_WEIGHT
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

FORMATS = (
    "An .npz of NumPy arrays, never pickle. A character model saved by gatescope's training code "
    "(CharModel.save) reads text, with its vocabulary and next-character guesses; a series model "
    "(scripts/train_series.py) reads numbers mode. A bare LSTM or "
    "GRU (cells.save, or the recipes below) with input size 1 reads numbers mode, one value per "
    "step; with input size I > 1 it reads text one-hot by Unicode code point (character ch is "
    "input ord(ch) when ord(ch) < I, so I = 128 reads ASCII; any other character is the all-zero "
    "input, shown as unknown) and makes no guesses, having no readout."
)
"""What a weights file may be, in words (developer text, shown on the page)."""


@dataclass(frozen=True, eq=False)
class Uploaded:
    """A model read from an uploaded file.

    ``charmodel`` is set for a character-model file; a bare cell has only ``cell``. ``filename``
    came from the visitor: show it with ``st.text`` only, never inside Markdown.
    """

    filename: str
    digest: str  # first 16 hex digits of the file's SHA-256
    cell: Cell
    charmodel: CharModel | None

    @property
    def key(self) -> str:
        """The model's name in the ``model`` query parameter and the caches."""
        return KEY_PREFIX + self.digest

    @property
    def mode(self) -> str:
        """The sequence mode the model reads: "numbers" for a 1-input bare cell, else "text"."""
        return "numbers" if self.charmodel is None and self.cell.input_size == 1 else "text"

    @property
    def description(self) -> str:
        """One line saying what the model is (no text from the file in it)."""
        cell = self.cell
        what = f"{cell.arch.upper()}, {cell.hidden_size} units, uploaded by you ({self.digest[:8]})"
        if self.charmodel is not None:
            return f"{what}: a character model with {len(self.charmodel.vocab)} known characters"
        if self.mode == "numbers":
            return f"{what}: a bare cell with 1 input, reading the series"
        return (f"{what}: a bare cell with {cell.input_size} inputs, reading characters one-hot "
                "by code point (no readout, so no next-character guesses)")

    def read(self, text: str, values: np.ndarray) -> tuple[Trace, np.ndarray, np.ndarray | None]:
        """Read a sequence from a zero state: (trace, unknown (T,) bool, probs (T, V) or None).

        ``text`` is read in text mode, ``values`` (T,) in numbers mode (see :attr:`mode`).
        """
        if self.charmodel is not None:
            read = self.charmodel.trace(text)
            return read.trace, read.unknown, read.probs
        if self.mode == "numbers":
            x = np.asarray(values, dtype=self.cell.dtype).reshape(-1, 1)  # (T, 1)
            return self.cell.forward(x), np.zeros(len(x), bool), None
        x, unknown = self.inputs(text)
        return self.cell.forward(x), unknown, None

    def inputs(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Text mode: the cell's inputs (T, I) for ``text``, and the (T,) mask of the characters
        it does not know (a character model's unknown token; no input slot by code point)."""
        if self.charmodel is not None:
            ids = self.charmodel.encode(text)  # (T,)
            return self.charmodel.inputs(ids), ids == self.charmodel.unknown_id
        return code_point_inputs(text, self.cell.input_size)


def code_point_inputs(text: str, input_size: int) -> tuple[np.ndarray, np.ndarray]:
    """One-hot inputs (T, I) by code point, and the (T,) mask of characters with no input slot.

    Character ``ch`` is input ``ord(ch)`` when ``ord(ch) < input_size``; any other is all zeros.
    """
    codes = np.fromiter(map(ord, text), dtype=np.int64, count=len(text))  # (T,)
    unknown = codes >= input_size
    x = np.zeros((len(text), input_size))  # (T, I)
    known = np.flatnonzero(~unknown)
    x[known, codes[known]] = 1.0
    return x, unknown


def parse(data: bytes, filename: str = "") -> Uploaded:
    """The model in an uploaded file's bytes. Any file the app cannot show is a ``ValueError``
    whose message says what is wrong (plain text; it may quote bits of the file)."""
    if len(data) == 0:
        raise ValueError("the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file has {len(data):,} bytes, more than the limit of "
                         f"{MAX_UPLOAD_BYTES:,} ({MAX_UPLOAD_MB} MB)")
    arrays, meta = cells.load_arrays(data, max_bytes=MAX_ARRAY_BYTES)
    if meta.get("kind") == KIND:
        charmodel = CharModel.from_arrays(arrays, {k: v for k, v in meta.items() if k != "kind"})
        cell = charmodel.cell
    else:
        charmodel = None
        if meta.get("kind") == SERIES_KIND:  # its readout guesses the next value: not drawn
            arrays = {k: a for k, a in arrays.items() if k not in (READOUT_WEIGHT, READOUT_BIAS)}
        cell = cells.cell_from_arrays(arrays, meta)
        cell = cells.make_cell(cell.arch, {k: v.astype(np.float64) for k, v in cell.params.items()})
    if cell.arch not in ARCHS:
        raise ValueError(f"this is a {cell.arch.upper()}: the Gates page shows the gates of an LSTM "
                         "or a GRU, and a tanh RNN has none")
    if cell.hidden_size > MAX_HIDDEN:
        raise ValueError(f"the cell has {cell.hidden_size} hidden units; the app reads at most "
                         f"{MAX_HIDDEN}")
    digest = hashlib.sha256(data).hexdigest()[:16]
    return Uploaded(filename=str(filename), digest=digest, cell=cell, charmodel=charmodel)


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
            session["model"] = models.MODEL_NAMES[0]
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
        "Upload an LSTM's or a GRU's weights and the Gates page reads your sequence with it; "
        "LSTM vs GRU and Gradients put it in place of the trained cell of its kind, and Cells "
        "ranks its units. "
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


def model_choice(labels: Mapping[str, str], mode: str, *, horizontal: bool = True,
                 help: str | None = None) -> str:
    """The "Weights" radio (``key="model"``): the shipped choices, plus this visitor's upload.

    The upload is listed on every page, even one that cannot show it in ``mode`` (its label then
    says what it reads), so that visiting such a page never resets the choice nor the URL.
    """
    up = current()
    options = tuple(models.MODEL_NAMES)
    names = dict(labels)
    if up is not None:
        options += (up.key,)
        names[up.key] = "your upload" + ("" if up.mode == mode else f" (reads {up.mode})")
    return ui.choice("model", "Weights", options, horizontal=horizontal, help=help,
                     format_func=lambda m: names.get(m, m))


def shown(model: str, mode: str, arch: str | None = None) -> Uploaded | None:
    """This visitor's upload when ``model`` names it, it reads ``mode`` and (given ``arch``) it is
    an ``arch``; else None."""
    up = current()
    if up is None or model != up.key or up.mode != mode:
        return None
    return up if arch in (None, up.cell.arch) else None


def model_for(arch: str | None, model: str, mode: str) -> str:
    """The weights a page reads for the chosen ``model``: the upload's key when it can be shown
    (see :func:`shown`), else ``model`` if it is a shipped name, else the first, "trained"."""
    up = shown(model, mode, arch)
    if up is not None:
        return up.key
    return model if model in models.MODEL_NAMES else models.MODEL_NAMES[0]


def _loaded(up: Uploaded) -> models.Loaded:
    return models.Loaded(up.cell, up.charmodel, True, up.description)


def load_model(arch: str, model: str, mode: str, seed: int = 0) -> models.Loaded:
    """:func:`app.models.load_model`, or the upload itself when ``model_for(arch, model, mode)``
    names it."""
    name = model_for(arch, model, mode)
    up = shown(name, mode)
    return models.load_model(arch, name, mode, seed) if up is None else _loaded(up)


def read_text(arch: str, model: str, text: str, seed: int = 0) -> tuple[models.Loaded, Trace,
                                                                           np.ndarray]:
    """``text`` read by the ``arch`` character model :func:`app.models.load_model` gives, or by
    the upload (of any arch) when ``model`` names a text-mode one: (what read it, the trace,
    unknown (T,) bool)."""
    name = model_for(None, model, "text")
    up = shown(name, "text")
    if up is not None:
        trace, unknown, _ = up.read(text, np.zeros(0))
        return _loaded(up), trace, unknown
    loaded = models.load_model(arch, name, "text", seed)
    read = loaded.charmodel.trace(text)
    return loaded, read.trace, read.unknown


def shown_arch(arch: str, model: str, mode: str) -> str:
    """The cell a single-cell page shows: the upload's when ``model`` names it and it reads
    ``mode``, else ``arch``."""
    up = shown(model, mode)
    return arch if up is None else up.cell.arch


@st.cache_data(max_entries=4, ttl=300, show_spinner=False)
def _upload_step_seconds(_up: Uploaded, key: str, tokens: int = 200) -> dict[str, float]:
    """:func:`cells.seconds_per_token` of the upload (``key`` names it), re-measured every 5 min."""
    return cells.seconds_per_token(_up.cell, tokens)


def step_seconds(arch: str, model: str, mode: str, seed: int = 0) -> dict[str, float]:
    """:func:`app.models.step_seconds` of what :func:`load_model` gives."""
    name = model_for(arch, model, mode)
    up = shown(name, mode)
    if up is None:
        return models.step_seconds(arch, name, mode, seed)
    return _upload_step_seconds(up, up.key)


def note(model: str, mode: str, role: str) -> None:
    """Say on the page what becomes of the chosen upload here: ``role`` ends the sentence "Your
    upload, a GRU, ..." when it is shown (say, "replaces the trained GRU"), or the page says
    plainly why it cannot show it. Nothing when ``model`` is not the upload."""
    up = current()
    if up is None or model != up.key:
        return
    if up.mode == mode:
        st.info(f"Your upload, a {up.cell.arch.upper()}, {role}.", icon=":material/upload_file:")
    else:
        st.info(f"Your upload reads {up.mode} mode and this page is reading {mode}, so it cannot "
                "be shown here: the page shows gatescope's trained models instead. Your choice "
                "is kept for the pages that can show it.", icon=":material/info:")


@st.cache_data(max_entries=16, show_spinner=False)
def _read_upload(_up: Uploaded, key: str, text: str, values: np.ndarray, pin: int) -> models.Reading:
    """The upload's :class:`~app.models.Reading` of a sequence, cached by the file's digest
    (``key``) and the sequence; ``_up`` is not hashed (it is what ``key`` names)."""
    trace, unknown, probs = _up.read(text, values)
    guesses = () if probs is None else models.guesses_of(_up.charmodel, probs)
    unknown_chars = () if _up.mode == "numbers" else tuple(
        dict.fromkeys(ch for ch, u in zip(text, unknown, strict=True) if u))
    return models.reading_from(_up.cell, _up.description, trace, unknown, unknown_chars, guesses,
                               pin)


def read_sequence(arch: str, model: str, mode: str, text: str, values: np.ndarray,
                  seed: int = 0, pin: int = -1) -> models.Reading:
    """:func:`app.models.read_sequence`, or the upload's reading when ``model`` names it and it
    reads ``mode`` (of any arch: ``arch`` is the shipped cell's); an upload that cannot be shown
    reads as the trained model (see :func:`model_for`)."""
    up = shown(model, mode)
    if up is not None:
        return _read_upload(up, up.key, text, values, pin)
    return models.read_sequence(arch, model_for(None, model, mode), mode, text, values, seed, pin)

