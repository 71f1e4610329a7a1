"""Whole models in files: :func:`read_model` (any file -> a ``Reader``), :func:`save_model` (a
``Reader`` -> gatescope's own ``.npz``), and the recurrent layers alone (:func:`load`, :func:`save`).

What a file is gets decided once, here: its format from its bytes (``cells.io.files``), then what
the model is from a table (:data:`OWN_KINDS`, gatescope's own ``.npz`` files by their ``kind``) or
from the parts a state_dict holds (``cells.io.layouts``: recurrent layers, an embedding, a head).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO

import numpy as np

from cells.core.cell import Cell
from cells.core.readout import READOUT_BIAS, READOUT_WEIGHT, Readout
from cells.core.registry import make_cell
from cells.core.stack import Stack
from cells.io import files, layouts
from cells.io.errors import WeightsFileError, refusing
from cells.io.npz import DEFAULT_MAX_BYTES, NPZ, Source, save_arrays, text_array
from cells.io.vocab import MAX_VOCAB_BYTES, VOCAB_KEY, parse_vocab
from cells.models.charmodel import CharModel
from cells.models.encoders import (
    NORMALISE_KEY,
    CharEncoder,
    CodePointEncoder,
    EmbeddingEncoder,
    Encoder,
    NumberEncoder,
)
from cells.models.melody import MelodyModel, NoteEncoder
from cells.models.reader import LABELS_KEY, Reader

CHAR_KIND = "charmodel"
"""``kind`` in the meta of a character model's file (``CharModel``)."""
SERIES_KIND = "series"
"""``kind`` in the meta of a series model's file (a 1-input cell and a next-value readout)."""
MELODY_KIND = "melody"
"""``kind`` in the meta of a melody model's file (``MelodyModel``: note tokens)."""


VOCAB_FIX = """\
import json
from safetensors.torch import save_model
tokens = [...]  # the vocabulary, in id order (token 0 first)
save_model(model, "model.safetensors", metadata={"vocab": json.dumps(tokens)})
"""
"""How to save a model with its vocabulary (a classifier adds "labels": json.dumps(classes))."""


class MissingVocabularyError(WeightsFileError):
    """A model that reads tokens through an embedding came without its vocabulary. ``what``: the
    model and its embedding, in words, and why that needs a vocabulary."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what}; save it in the file's metadata, or pass it: read_model(src, vocab=...)",
                         fix=VOCAB_FIX)
        self.what = what


def cast_floats(arrays: Mapping[str, np.ndarray], dtype: type) -> dict[str, np.ndarray]:
    """``arrays`` with every float array as ``dtype`` (ints and bytes kept): the one float cast."""
    return {k: (a.astype(dtype, copy=False) if a.dtype.kind == "f" else a) for k, a in arrays.items()}


# -- gatescope's own files, by kind -----------------------------------------------------------------


def _pop_readout(arrays: dict[str, np.ndarray]) -> Readout:
    """Take the readout's two arrays out of ``arrays``; a ValueError if either is missing."""
    missing = [k for k in (READOUT_WEIGHT, READOUT_BIAS) if k not in arrays]
    if missing:
        raise WeightsFileError(f"the model's readout is missing: no array(s) {', '.join(missing)}")
    return Readout(arrays.pop(READOUT_WEIGHT), arrays.pop(READOUT_BIAS))


def _pop_vocab(arrays: dict[str, np.ndarray], what: str) -> np.ndarray:
    if VOCAB_KEY not in arrays:
        raise WeightsFileError(f"{what}: missing array {VOCAB_KEY}")
    return arrays.pop(VOCAB_KEY)


def _char_model(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> CharModel:
    codes = _pop_vocab(arrays, "character model")
    if codes.ndim != 1 or codes.dtype.kind not in "iu" or np.any(codes < 0) or np.any(codes > 0x10FFFF):
        raise WeightsFileError(f"{VOCAB_KEY}: expected a 1-D array of Unicode code points")
    readout = _pop_readout(arrays)
    return CharModel(cell_from_arrays(arrays, meta), "".join(map(chr, codes.tolist())), readout, meta)


def _melody_model(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> MelodyModel:
    raw = _pop_vocab(arrays, "melody model")
    with refusing(f"{VOCAB_KEY}: not a JSON list of note tokens"):  # RecursionError too: deep nesting
        vocab = json.loads(bytes(np.asarray(raw, np.uint8)).decode())
    if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
        raise WeightsFileError(f"{VOCAB_KEY}: not a JSON list of note tokens")
    readout = _pop_readout(arrays)
    return MelodyModel(cell_from_arrays(arrays, meta), vocab, readout, meta)


def _series_model(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Reader:
    readout = _pop_readout(arrays)
    encoder = NumberEncoder.from_meta(meta)
    meta.pop(NORMALISE_KEY, None)
    return Reader(cell_from_arrays(arrays, meta), encoder, readout, meta)


OWN_KINDS: dict[str, Callable[[dict[str, np.ndarray], dict[str, Any]], Reader]] = {
    CHAR_KIND: _char_model,
    MELODY_KIND: _melody_model,
    SERIES_KIND: _series_model,
}
"""gatescope's own ``.npz`` files: ``kind`` in the meta -> the reader its arrays make."""


def model_arrays(reader: Reader) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Every array of ``reader`` and the meta that says what it is: the cell's (``arch`` and
    torch-named parameters), the readout's, the encoder's vocabulary or embedding. The inverse
    of :func:`read_model` for an ``.npz``."""
    arrays = cell_arrays(reader.cell)
    meta = dict(reader.meta)
    encoder = reader.encoder
    if reader.readout is not None:
        arrays.update(reader.readout.params)
    if isinstance(encoder, CharEncoder):
        arrays[VOCAB_KEY] = np.array([ord(ch) for ch in encoder.vocab], dtype=np.int32)
        meta["kind"] = CHAR_KIND
    elif isinstance(encoder, NoteEncoder):
        arrays[VOCAB_KEY] = text_array(json.dumps(list(encoder.vocab)))
        meta["kind"] = MELODY_KIND
    elif isinstance(encoder, EmbeddingEncoder):
        arrays[layouts.EMBEDDING_KEY] = encoder.weight
        arrays[VOCAB_KEY] = text_array(json.dumps(list(encoder.tokens), ensure_ascii=False))
        meta["unit"] = encoder.unit
    elif isinstance(encoder, NumberEncoder) and reader.readout is not None:
        meta.update(encoder.meta, kind=SERIES_KIND)
    return arrays, meta


def save_model(reader: Reader, dest: str | os.PathLike | BinaryIO, dtype: type = np.float64) -> None:
    """Write ``reader`` to an ``.npz`` (no pickle), floats as ``dtype``; :func:`read_model` reads it."""
    arrays, meta = model_arrays(reader)
    save_arrays(dest, cast_floats(arrays, dtype), meta)


# -- any file -> a reader ---------------------------------------------------------------------------


def read_model(src: Source, *, vocab: Any = None, labels: Any = None, max_bytes: int = DEFAULT_MAX_BYTES,
               max_hidden: int = layouts.MAX_HIDDEN, max_layers: int = layouts.MAX_LAYERS,
               dtype: type = np.float64) -> Reader:
    """The model in a file, as a :class:`Reader`, weights as ``dtype``. The file's kind is read
    from its content (``.npz``, ``.safetensors``, Keras 3 ``.keras``; pickles refused: see
    ``cells.io.files``; the layouts read: ``cells.io.layouts``). Any bad file is a ``ValueError``
    that says what is wrong; ``max_bytes`` of array data, ``max_hidden`` units and ``max_layers``
    layers are checked before anything large is allocated.

    * an ``.npz`` with meta ``kind`` (:data:`OWN_KINDS`): a character, melody or series model;
    * an embedding (+ head): a language model over a vocabulary (``EmbeddingEncoder``); the
      vocabulary comes from the file or ``vocab`` (a list of tokens, a token -> id dict, text or
      bytes holding either as JSON or one token per line, a binary file or an ``os.PathLike`` path
      to read them from), which wins if both are given; a str is always the vocabulary's text,
      never a path; a head whose outputs are not the vocabulary is a classifier, its class names
      from the file's meta ``labels`` or ``labels`` (the same forms as ``vocab``), which wins;
    * a head without embedding: next-value predictions on the cell's inputs;
    * anything else is a bare cell or stack (``cells.save``, or torch's or Keras's arrays): with
      one input it reads numbers, with I > 1 inputs text by code point (``CodePointEncoder``).
    """
    arrays, meta, file_kind = files.read_arrays(src, max_bytes=max_bytes, max_hidden=max_hidden,
                                                max_layers=max_layers)
    kind = meta.pop("kind", None)
    arrays = cast_floats(arrays, dtype)
    if file_kind == NPZ and isinstance(kind, str) and kind in OWN_KINDS:  # a JSON list is unhashable
        return OWN_KINDS[kind](arrays, meta)
    parts = layouts.model_parts(arrays, meta, file_kind)
    meta = {k: v for k, v in meta.items() if k != VOCAB_KEY}
    if parts.notes:
        meta[READ_NOTES_KEY] = list(parts.notes)
    if labels is not None:
        meta[LABELS_KEY] = list(parse_vocab(_vocab_source(labels)))
    with _described(parts):
        cell = make_cell(parts.arch, parts.params)
    readout = None if parts.head is None else Readout(*parts.head)
    if parts.embedding is None:
        encoder = _plain_encoder(cell)
    else:
        tokens = parse_vocab(_vocab_source(vocab)) if vocab is not None else parts.vocab
        if tokens is None:
            raise MissingVocabularyError(
                f"{layouts.describe(parts.params, parts.arch)} that reads tokens through an embedding "
                f"of {parts.embedding.shape[0]} rows, but the file has no vocabulary (its tokens in id "
                "order), so its input cannot be made from a text")
        unit = parts.unit or ("char" if all(len(t) == 1 or _special(t) for t in tokens) else "word")
        encoder = EmbeddingEncoder(tokens, parts.embedding, unit)
    with _described(parts):
        return Reader(cell, encoder, readout, meta)


READ_NOTES_KEY = "read_notes"
"""A reader's meta: what was read differently from the file as it is (``ModelParts.notes``)."""



@contextmanager
def _described(parts: layouts.ModelParts) -> Iterator[None]:
    """A ValueError raised while the parts become a model, as a WeightsFileError that first says
    what the file holds."""
    try:
        yield
    except WeightsFileError:
        raise
    except ValueError as e:
        raise WeightsFileError(f"{layouts.describe(parts.params, parts.arch)}: {e}") from e


def _special(token: str) -> bool:
    return len(token) > 2 and token.startswith("<") and token.endswith(">")


def _plain_encoder(cell: Cell | Stack) -> Encoder:
    return NumberEncoder() if cell.input_size == 1 else CodePointEncoder(cell.input_size)


def _vocab_source(vocab: Any) -> Any:
    """A vocabulary argument as what ``parse_vocab`` reads: a path's or a file's bytes."""
    if isinstance(vocab, os.PathLike):
        with open(vocab, "rb") as f:
            return f.read(MAX_VOCAB_BYTES + 1)
    if hasattr(vocab, "read"):
        return vocab.read(MAX_VOCAB_BYTES + 1)
    return vocab


# -- the recurrent layers alone ---------------------------------------------------------------------


def cell_arrays(cell: Cell | Stack) -> dict[str, np.ndarray]:
    """The arrays that store ``cell`` in a file: ``arch`` and the parameters.

    A file holding more (a character model's readout, say) adds its own arrays beside these.
    """
    return {"arch": text_array(cell.arch), **cell.params}


def cell_from_arrays(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Cell | Stack:
    """The cell that ``arrays`` (as ``load_arrays`` returns them) describe: ``arch`` (or meta's
    "arch") and the parameters under PyTorch's names, ``torch.nn.LSTMCell``'s names or Keras's.
    Any array beyond those is refused, so take a file's other arrays out first.
    """
    arrays = dict(arrays)
    arch = layouts.arch_marker(arrays.pop("arch", None), meta.get("arch"))
    if any(k in arrays for k in layouts.KERAS_KEYS):
        return make_cell(arch, layouts.from_keras(arch, *layouts.keras_arrays(arrays)))
    params = {layouts.CELL_STYLE_NAMES.get(k, k): a for k, a in arrays.items()}
    if len(params) < len(arrays):
        raise WeightsFileError("the file holds a parameter both with and without the _l0 suffix")
    return make_cell(arch, params)


def save(dest: str | os.PathLike | BinaryIO, cell: Cell | Stack, /, **meta: Any) -> None:
    """Write ``cell``'s parameters, its ``arch`` and the JSON-able ``meta`` to an ``.npz``."""
    if meta.get("arch", cell.arch) != cell.arch:
        raise ValueError(f"meta arch={meta['arch']!r} contradicts the cell's arch {cell.arch!r}")
    save_arrays(dest, cell_arrays(cell), meta)


def load(src: Source, *, max_bytes: int = DEFAULT_MAX_BYTES, max_hidden: int = layouts.MAX_HIDDEN,
         max_layers: int = layouts.MAX_LAYERS) -> tuple[Cell | Stack, dict]:
    """Read a weights file -> (cell, meta): a ``Cell``, or a ``Stack`` for several layers.

    The file's kind is read from its content, never its name (see :func:`read_model`). Only the
    recurrent layers are read here: a file with an embedding or a head is refused
    (:func:`read_model` reads whole models). The cell keeps the file's dtype (float32 or float64;
    float16 becomes float32); any bad file is a ``ValueError`` saying what is wrong.
    """
    arrays, meta, kind = files.read_arrays(src, max_bytes=max_bytes, max_hidden=max_hidden,
                                           max_layers=max_layers)
    if kind == NPZ:
        return cell_from_arrays(arrays, meta), meta
    parts = layouts.model_parts(arrays, meta, kind)
    extra = [name for name, part in (("an embedding", parts.embedding), ("a head", parts.head))
             if part is not None]
    if extra:
        raise WeightsFileError(f"unexpected: the file holds {' and '.join(extra)} beside the recurrent "
                               "layers; read the whole model with cells.read_model")
    if parts.notes:
        meta[READ_NOTES_KEY] = list(parts.notes)
    with _described(parts):
        return make_cell(parts.arch, parts.params), meta

