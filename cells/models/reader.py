"""Readers: a model that reads a sequence is a cell, an encoder and an optional readout.

    x_t, unknown_t = encoder(token_t)       (T, I) inputs and the (T,) mask of unknown tokens
    h_t = cell(x_t, h_{t-1})                 the cell's trace: gates, states
    y_t = W h_t + b                          the readout, if any: the next token's distribution
                                             (softmax, text) or the next value (numbers)

Shipped models (``cells.pretrained``), uploaded files (``read_model``) and fresh random cells
(``Reader.untrained``) are all readers, so the app reads every model one way. What kind of file a
model is gets decided here, once, by :func:`read_model`.

Encoders:

* :class:`CharEncoder`: characters one-hot by a vocabulary; the last id is "unknown" (the shipped
  character models, ``CharModel``);
* :class:`CodePointEncoder`: characters one-hot by Unicode code point, ``ord(ch) < I`` (a bare
  cell with I > 1 inputs: I = 128 reads ASCII); any other character is the all-zero input;
* :class:`NumberEncoder`: a series, one value per step (a bare cell with one input);
* :class:`EmbeddingEncoder`: tokens (characters or words) by id through an embedding matrix
  (``nn.Embedding``): a whole language model, embedding + stack + linear head + vocabulary
  (the layouts read are listed in ``cells.formats``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

import numpy as np

from cells import formats, tasks, weights
from cells.base import Cell, Trace
from cells.factory import init_params, make_cell
from cells.stack import Stack
from cells.train import READOUT_BIAS, READOUT_WEIGHT, Readout, log_softmax

UNKNOWN_CHAR = "\ufffd"
"""How an unknown character is shown among a model's guesses (the Unicode replacement character)."""
VOCAB_KEY = "vocab"
"""Array name of a character vocabulary (Unicode code points, int32) in a saved model."""
CHAR_KIND = "charmodel"
"""``kind`` in the meta of a character model's file."""
SERIES_KIND = "series"
"""``kind`` in the meta of a series model's file (a 1-input cell and a next-value readout)."""
MELODY_KIND = "melody"
"""``kind`` in the meta of a melody model's file (``cells.melody.MelodyModel``: note tokens)."""


class MissingVocabularyError(ValueError):
    """A model that reads tokens through an embedding came without its vocabulary."""


class Encoder(Protocol):
    """Turns a sequence into a cell's inputs: ``encode(sequence, dtype) -> (x (T, I), unknown (T,))``."""

    mode: str  # "text" (a str) or "numbers" (a (T,) array)
    input_size: int

    def encode(self, sequence: Any, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]: ...

    def describe(self) -> str: ...


class VocabularyIds:
    """What an encoder over a vocabulary with one unknown token after it shares: ids 0..V-2 are the
    vocabulary's tokens, the last id (V - 1) is "unknown", and the input is one-hot over all V."""

    vocab: str | tuple[str, ...]

    @property
    def input_size(self) -> int:
        return len(self.vocab) + 1

    @property
    def unknown_id(self) -> int:
        return len(self.vocab)


@dataclass(frozen=True)
class CharEncoder(VocabularyIds):
    """Characters one-hot by ``vocab``; a character not in it is the unknown id ``len(vocab)``."""

    vocab: str
    mode = "text"

    @property
    def tokens(self) -> str:
        """What each output of a next-character readout stands for: the vocabulary, then unknown."""
        return self.vocab + UNKNOWN_CHAR

    def ids(self, text: str) -> np.ndarray:
        """Character ids (T,)."""
        return tasks.encode(text, self.vocab)

    def encode(self, text: str, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        ids = self.ids(text)
        return tasks.one_hot(ids, self.input_size, dtype), ids == self.unknown_id  # (T, V), (T,)

    def describe(self) -> str:
        return f"characters one-hot by a vocabulary of {len(self.vocab)}"


@dataclass(frozen=True)
class CodePointEncoder:
    """Characters one-hot by Unicode code point: ``ch`` is input ``ord(ch)`` when ``ord(ch) < I``;
    any other character is the all-zero input (the cell sees only its biases), marked unknown."""

    input_size: int
    mode = "text"

    def encode(self, text: str, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        codes = np.fromiter(map(ord, text), dtype=np.int64, count=len(text))  # (T,)
        unknown = codes >= self.input_size
        x = np.zeros((len(text), self.input_size), dtype=dtype)  # (T, I)
        known = np.flatnonzero(~unknown)
        x[known, codes[known]] = 1.0
        return x, unknown

    def describe(self) -> str:
        return f"characters one-hot by code point (the first {self.input_size})"


NORMALISE_KEY = "normalise"
"""Meta key of a series model's normalisation: {"offset": m, "scale": s}, the model reads (v - m) / s."""


@dataclass(frozen=True)
class NumberEncoder:
    """A series, one value per step: values (T,) -> x (T, 1) = (values - offset) / scale; no value
    is unknown. A model trained on a normalised series keeps the statistics here (its file's meta,
    :data:`NORMALISE_KEY`), and :meth:`decode` maps its next-value outputs back to the series' units."""

    offset: float = 0.0
    scale: float = 1.0
    mode = "numbers"
    input_size = 1

    def __post_init__(self) -> None:
        if not (math.isfinite(self.offset) and math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"a series' normalisation needs a finite offset and a finite scale > 0, got "
                             f"offset {self.offset!r}, scale {self.scale!r}")

    @property
    def normalises(self) -> bool:
        return (self.offset, self.scale) != (0.0, 1.0)

    def encode(self, values: np.ndarray, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        v = np.asarray(values, dtype=np.float64).reshape(-1, 1)  # (T, 1)
        x = ((v - self.offset) / self.scale).astype(dtype) if self.normalises else v.astype(dtype)
        return x, np.zeros(x.shape[0], dtype=bool)

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """A next-value readout's outputs (normalised) in the series' own units."""
        out = np.asarray(outputs, dtype=np.float64)
        return out * self.scale + self.offset if self.normalises else out

    def describe(self) -> str:
        if self.normalises:
            return f"a series, one value per step, read as (value - {self.offset:.4g}) / {self.scale:.4g}"
        return "a series, one value per step"

    @property
    def meta(self) -> dict[str, Any]:
        """What a file records of this encoder (nothing when it does not normalise)."""
        return {NORMALISE_KEY: {"offset": self.offset, "scale": self.scale}} if self.normalises else {}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> NumberEncoder:
        """The encoder a file's meta describes (:data:`NORMALISE_KEY`), the plain one without it."""
        stats = meta.get(NORMALISE_KEY)
        if stats is None:
            return cls()
        try:
            return cls(float(stats["offset"]), float(stats["scale"]))
        except (TypeError, KeyError) as exc:
            raise ValueError(f"the file's {NORMALISE_KEY} must be {{\"offset\": m, \"scale\": s}}, "
                             f"got {stats!r:.200}") from exc


UNKNOWN_TOKEN = "<unk>"
"""The vocabulary entry that unknown tokens become, when a vocabulary has it."""
END_OF_LINE = "<eos>"
"""The token PyTorch's word_language_model puts at the end of every line; a newline reads as it."""


@dataclass(frozen=True, eq=False)
class EmbeddingEncoder:
    """Tokens by id through an embedding: x_t = weight[id(token_t)], (T, E).

    ``tokens``: the vocabulary in id order (V); ``weight``: (V, E), ``nn.Embedding``'s; ``unit``:
    "char" (every character a token) or "word" (whitespace-separated words; a newline is
    ``<eos>`` when the vocabulary has it, as in PyTorch's word_language_model). An unknown token
    is ``<unk>`` when the vocabulary has one, else the all-zero input; either way it is marked.
    """

    tokens: tuple[str, ...]
    weight: np.ndarray  # (V, E)
    unit: str = "char"
    mode = "text"

    def __post_init__(self) -> None:
        if self.unit not in ("char", "word"):
            raise ValueError(f"unit must be 'char' or 'word', got {self.unit!r}")
        if self.weight.ndim != 2 or self.weight.shape[0] != len(self.tokens):
            raise ValueError(f"the embedding has shape {self.weight.shape}: expected one row per token of "
                             f"the vocabulary ({len(self.tokens)})")
        if not np.all(np.isfinite(self.weight)):
            raise ValueError("the embedding contains NaN or infinity")
        object.__setattr__(self, "_index", {tok: i for i, tok in enumerate(self.tokens)})

    @property
    def input_size(self) -> int:
        return self.weight.shape[1]

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    @property
    def unknown_id(self) -> int | None:
        """The id of ``<unk>``, or None when the vocabulary has none."""
        return self._index.get(UNKNOWN_TOKEN)

    def split(self, text: str) -> list[str]:
        """The tokens of ``text``: its characters, or its words (and ``<eos>`` at each newline)."""
        if self.unit == "char":
            return list(text)
        eol = END_OF_LINE in self._index
        lines = text.split("\n")
        out: list[str] = []
        for k, line in enumerate(lines):
            out.extend(line.split())
            if eol and k < len(lines) - 1:
                out.append(END_OF_LINE)
        return out

    def ids(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Token ids (T,) and the unknown mask (T,); an unknown token's id is ``<unk>``'s or -1."""
        fallback = -1 if self.unknown_id is None else self.unknown_id
        toks = self.split(text)
        ids = np.fromiter((self._index.get(t, -1) for t in toks), dtype=np.int64, count=len(toks))
        unknown = ids < 0
        ids[unknown] = fallback
        return ids, unknown

    def encode(self, text: str, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        ids, unknown = self.ids(text)
        x = self.weight.astype(dtype, copy=False)[np.maximum(ids, 0)]  # (T, E)
        x[ids < 0] = 0.0
        return x, unknown

    def describe(self) -> str:
        what = "characters" if self.unit == "char" else "words"
        return f"{what} through an embedding of {self.vocab_size} tokens x {self.input_size}"


@dataclass(frozen=True, eq=False)
class Read:
    """A sequence read by a :class:`Reader` from a zero state.

    trace: the cell's Trace, unbatched (T, H); unknown (T,): tokens the encoder does not know;
    probs (T, V): the next-token distribution after each token (a text model's readout), else
    None; predictions (T, O): a numbers model's next-value readout, else None.
    """

    trace: Trace
    unknown: np.ndarray
    probs: np.ndarray | None = None
    predictions: np.ndarray | None = None


def state_after(trace: Trace, t: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(h, c) after step ``t`` of an unbatched ``trace``, shaped as ``forward``'s h0 and c0 take
    them: (H,) for a cell, (L, H) for a stack (c None without a cell state)."""
    layers = getattr(trace, "layers", None)
    if layers is None:
        return trace.h[t].copy(), None if trace.c is None else trace.c[t].copy()
    h = np.stack([layer.h[t] for layer in layers])  # (L, H)
    return h, None if layers[0].c is None else np.stack([layer.c[t] for layer in layers])


@dataclass(frozen=True, eq=False)
class Writing:
    """What a character model wrote after a beginning (:func:`write`).

    prompt: the text it read first (an empty beginning reads as a newline: a paragraph's or a
    file's start); ids (N,): the written character ids, never the unknown one; text: those
    characters. prompt_trace (P, H): the cell reading the prompt from a zero state; trace (N, H):
    the cell reading each written character, from the state the prompt left (together, exactly the
    reading of ``prompt + text``). probs (N, V): the model's next-character distribution before
    each written character (temperature 1, unknown included); drawn (N, V): the one it was drawn
    from (temperature applied, unknown 0; one-hot at temperature 0, greedy).
    """

    prompt: str
    ids: np.ndarray
    text: str
    prompt_trace: Trace
    trace: Trace
    probs: np.ndarray
    drawn: np.ndarray
    temperature: float
    seed: int


def check_temperature(temperature: float) -> None:
    """A sampling temperature is 0 (greedy) or positive and finite; else a ValueError."""
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be 0 (greedy) or positive, got {temperature}")


def draw(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> tuple[int, np.ndarray]:
    """One token from ``logits`` (K,) over the known tokens (the unknown one left out by the
    caller): p proportional to softmax(logits)^(1/temperature), drawn with ``rng``; temperature 0
    is greedy (argmax, the first on a tie, no randomness). Returns the token and the (K,)
    distribution it was drawn from (one-hot when greedy)."""
    if temperature == 0:
        p = np.zeros(len(logits))
        token = int(np.argmax(logits))
        p[token] = 1.0
        return token, p
    p = np.exp(log_softmax(logits / temperature))
    return int(rng.choice(len(p), p=p)), p


def write(reader: Reader, prompt: str, n: int, *, temperature: float = 1.0, seed: int = 0) -> Writing:
    """Let a character model (one cell over a :class:`CharEncoder`, with its readout) continue
    ``prompt`` by ``n`` characters, one at a time, each read back in before the next is chosen.

    Character k is drawn from p_k(c) proportional to p_k(c)^(1/temperature) over the known
    characters (the unknown token is never drawn), with ``numpy.random.default_rng(seed)``: the
    same arguments write the same text. ``temperature=0`` is greedy: the likeliest known character
    (argmax, the first on a tie), no randomness. ``temperature`` -> 0 tends to greedy; 1 samples
    the model's own distribution; above 1 flattens it.
    """
    encoder = reader.encoder
    if not isinstance(encoder, CharEncoder) or reader.readout is None or isinstance(reader.cell, Stack):
        raise ValueError("writing needs a character model: one cell over a vocabulary and a "
                         "next-character readout")
    check_temperature(temperature)
    if n < 0:
        raise ValueError(f"cannot write {n} characters")
    cell, readout = reader.cell, reader.readout
    V, unknown = encoder.input_size, encoder.unknown_id
    rng = np.random.default_rng(seed)
    start = prompt or "\n"
    prompt_trace = reader.read(start).trace
    h0, c0 = state_after(prompt_trace, -1)
    ids = np.zeros(n, dtype=np.int64)
    probs = np.zeros((n, V))
    drawn = np.zeros((n, V))
    h, c = h0, c0
    for k in range(n):
        logits = readout(h).astype(np.float64)  # (V,)
        probs[k] = np.exp(log_softmax(logits))
        nxt, drawn[k, :unknown] = draw(logits[:unknown], temperature, rng)
        ids[k] = nxt
        if k < n - 1:
            h, c, _ = cell.step(tasks.one_hot(np.array(nxt), V, cell.dtype), h, c)
    trace = cell.forward(tasks.one_hot(ids, V, cell.dtype), h0, c0)  # (N, H)
    return Writing(start, ids, "".join(encoder.vocab[i] for i in ids), prompt_trace, trace, probs,
                   drawn, float(temperature), seed)


def cast_floats(arrays: dict[str, np.ndarray], dtype: type) -> dict[str, np.ndarray]:
    """``arrays`` with every float array as ``dtype`` (ints and bytes kept): the one float cast."""
    return {k: (a.astype(dtype, copy=False) if a.dtype.kind == "f" else a) for k, a in arrays.items()}


class Reader:
    """A cell, the encoder that makes its inputs, and an optional readout on its hidden states."""

    def __init__(self, cell: Cell | Stack, encoder: Encoder, readout: Readout | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        if encoder.input_size != cell.input_size:
            raise ValueError(f"the cell takes {cell.input_size} inputs; its encoder makes "
                             f"{encoder.input_size} ({encoder.describe()})")
        if readout is not None:
            if readout.weight.ndim != 2 or readout.weight.shape[1] != cell.hidden_size \
                    or readout.bias.shape != readout.weight.shape[:1]:
                raise ValueError(f"readout must be (O, {cell.hidden_size}) and (O,), got "
                                 f"{readout.weight.shape} and {readout.bias.shape}")
            if isinstance(encoder, CharEncoder) and readout.weight.shape[0] != encoder.input_size:
                raise ValueError(f"a character model's readout has one row per character and "
                                 f"the unknown token ({encoder.input_size}), got "
                                 f"{readout.weight.shape[0]}")
            for key, a in ((READOUT_WEIGHT, readout.weight), (READOUT_BIAS, readout.bias)):
                if not np.all(np.isfinite(a)):
                    raise ValueError(f"{key}: contains NaN or infinity")
            if isinstance(encoder, EmbeddingEncoder) and readout.weight.shape[0] != encoder.vocab_size:
                raise ValueError(f"the head has {readout.weight.shape[0]} outputs; the vocabulary has "
                                 f"{encoder.vocab_size} tokens")
        self.cell = cell
        self.encoder = encoder
        self.readout = readout
        self.meta = dict(meta or {})

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.cell.arch}, hidden_size={self.cell.hidden_size}, "
                f"{self.encoder.describe()}, readout={self.readout is not None})")

    @property
    def mode(self) -> str:
        """"text" or "numbers": what the reader reads."""
        return self.encoder.mode

    @property
    def guesses_tokens(self) -> bool:
        """True when the readout gives a next-token distribution (a character or melody model)."""
        return self.readout is not None and (isinstance(self.encoder, CharEncoder | EmbeddingEncoder)
                                             or self.encoder.mode == "notes")

    @property
    def per_character(self) -> bool:
        """True when every character of a text is one token (not a word model, not numbers)."""
        return self.mode == "text" and getattr(self.encoder, "unit", "char") == "char"

    def tokens_of(self, text: str) -> list[str]:
        """The tokens the model reads in ``text``: its characters, or its words for a word model."""
        split = getattr(self.encoder, "split", None)
        return list(text) if split is None else split(text)

    @property
    def num_params(self) -> int:
        extra = 0 if self.readout is None else self.readout.weight.size + self.readout.bias.size
        return self.cell.num_params + extra

    def read(self, sequence: str | np.ndarray, h0: np.ndarray | None = None,
             c0: np.ndarray | None = None) -> Read:
        """Read ``sequence`` (a str in text mode, values (T,) in numbers mode) from a zero state,
        or from ``h0`` (and ``c0``): the state after what came before it ((H,) a cell's,
        (L, H) a stack's; see :func:`state_after`)."""
        x, unknown = self.encoder.encode(sequence, self.cell.dtype)  # (T, I), (T,)
        trace = self.cell.forward(x, h0, c0)  # h (T, H)
        if self.readout is None:
            return Read(trace, unknown)
        outputs = self.readout(trace.h).astype(np.float64)  # (T, O)
        if self.guesses_tokens:
            return Read(trace, unknown, probs=np.exp(log_softmax(outputs)))
        if isinstance(self.encoder, NumberEncoder) and outputs.shape[1] == 1:
            outputs = self.encoder.decode(outputs)  # the next value, in the series' units
        return Read(trace, unknown, predictions=outputs)

    # -- files -----------------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every array of the model: the cell's (``arch`` and torch-named parameters), the
        readout's, and a character vocabulary as Unicode code points."""
        arrays = weights.cell_arrays(self.cell)
        if self.readout is not None:
            arrays.update(self.readout.params)
        if isinstance(self.encoder, CharEncoder):
            arrays[VOCAB_KEY] = np.array([ord(ch) for ch in self.encoder.vocab], dtype=np.int32)
        if isinstance(self.encoder, EmbeddingEncoder):
            arrays[formats.EMBEDDING_KEY] = self.encoder.weight
            arrays[VOCAB_KEY] = weights.text_array(json.dumps(list(self.encoder.tokens), ensure_ascii=False))
        if hasattr(self.encoder, "to_arrays"):  # an encoder that stores itself (cells.melody)
            arrays.update(self.encoder.to_arrays())
        return arrays

    @property
    def kind(self) -> str | None:
        """The file kind that :func:`read_model` recognises: a character or series model."""
        if isinstance(self.encoder, CharEncoder):
            return CHAR_KIND
        if isinstance(self.encoder, NumberEncoder) and self.readout is not None:
            return SERIES_KIND
        return getattr(self.encoder, "kind", None)

    def save(self, path: str | os.PathLike | BinaryIO, dtype: type = np.float64) -> None:
        """Write the model to an .npz (no pickle), floats as ``dtype``; :func:`read_model` reads it."""
        kind = {} if self.kind is None else {"kind": self.kind}
        if isinstance(self.encoder, NumberEncoder):
            kind.update(self.encoder.meta)
        if isinstance(self.encoder, EmbeddingEncoder):
            kind["unit"] = self.encoder.unit
        weights.save_arrays(path, cast_floats(self.to_arrays(), dtype), {**self.meta, **kind})

    # -- fresh models ----------------------------------------------------------------------------

    @classmethod
    def untrained(cls, arch: str, encoder: Encoder, hidden_size: int, *, seed: int,
                  forget_bias: float = 1.0, recurrent_radius: float | None = None,
                  dtype: type = np.float64) -> Reader:
        """A cell with seeded random weights (``cells.init_params``) over ``encoder``; a text
        model over a vocabulary gets a random next-character readout too."""
        params = init_params(arch, encoder.input_size, hidden_size, seed=seed, dtype=dtype,
                             forget_bias=forget_bias, recurrent_radius=recurrent_radius)
        readout = None
        if isinstance(encoder, CharEncoder) or encoder.mode == "notes":
            readout = Readout.init(hidden_size, encoder.input_size, seed=seed + 1, dtype=dtype)
        return cls(make_cell(arch, params), encoder, readout, {"trained_on": "nothing (random weights)"})


def read_model(src: weights.Source | bytes, *, vocab: Any = None,
               max_bytes: int = weights.DEFAULT_MAX_BYTES, max_hidden: int = formats.MAX_HIDDEN,
               max_layers: int = formats.MAX_LAYERS, dtype: type = np.float64) -> Reader:
    """The model in a file, as a :class:`Reader`, weights as ``dtype``. The file's kind is read
    from its content (``.npz``, ``.safetensors``, Keras 3 ``.keras``; pickles refused: see
    ``cells.formats``, which lists the layouts read). Any bad file is a ``ValueError`` that says
    what is wrong; ``max_bytes`` of array data, ``max_hidden`` units and ``max_layers`` layers are
    checked before anything large is allocated.

    * meta ``kind="charmodel"``: a character model (``CharModel``): cell, readout, vocabulary;
    * meta ``kind="series"``: a 1-input cell and its next-value readout;
    * meta ``kind="melody"``: a melody model (``cells.melody.MelodyModel``): cell, readout, notes;
    * an embedding (+ head): a language model over a vocabulary (:class:`EmbeddingEncoder`); the
      vocabulary comes from the file or ``vocab`` (a list of tokens, a token -> id dict, or a path,
      bytes or file holding either as JSON, or one token per line), which wins if both are given;
    * a head without embedding: next-value predictions on the cell's inputs;
    * anything else is a bare cell or stack (``cells.save``, or torch's or Keras's arrays): with
      one input it reads numbers, with I > 1 inputs text by code point (:class:`CodePointEncoder`).
    """
    arrays, meta, file_kind = formats.read_arrays(src, max_bytes=max_bytes, max_hidden=max_hidden,
                                                  max_layers=max_layers)
    kind = meta.pop("kind", None)
    arrays = cast_floats(arrays, dtype)
    if file_kind == formats.NPZ and kind == CHAR_KIND:
        from cells.charmodel import CharModel

        return CharModel.from_arrays(arrays, meta, dtype)
    if file_kind == formats.NPZ and kind == MELODY_KIND:
        from cells.melody import MelodyModel

        return MelodyModel.from_arrays(arrays, meta, dtype)
    if file_kind == formats.NPZ and kind == SERIES_KIND:
        readout = _pop_readout(arrays)
        encoder = NumberEncoder.from_meta(meta)
        meta.pop(NORMALISE_KEY, None)
        cell = weights.cell_from_arrays(arrays, meta)
        return Reader(cell, encoder, readout, meta)
    parts = formats.model_parts(arrays, meta, file_kind)
    cell = make_cell(parts.arch, parts.params)
    readout = None if parts.head is None else Readout(*parts.head)
    if parts.embedding is None:
        return Reader(cell, _plain_encoder(cell), readout, meta)
    tokens = formats.parse_vocab(_vocab_source(vocab)) if vocab is not None else parts.vocab
    if tokens is None:
        raise MissingVocabularyError(
            f"the model reads tokens through an embedding of {parts.embedding.shape[0]} rows, but "
            "the file has no vocabulary: pass one, read_model(src, vocab=...)")
    unit = parts.unit or ("char" if all(len(t) == 1 or _special(t) for t in tokens) else "word")
    encoder = EmbeddingEncoder(tokens, parts.embedding, unit)
    meta = {k: v for k, v in meta.items() if k != VOCAB_KEY}
    return Reader(cell, encoder, readout, meta)


def _special(token: str) -> bool:
    return len(token) > 2 and token.startswith("<") and token.endswith(">")


def _plain_encoder(cell: Cell | Stack) -> Encoder:
    return NumberEncoder() if cell.input_size == 1 else CodePointEncoder(cell.input_size)


def _vocab_source(vocab: Any) -> Any:
    """A vocabulary argument as what ``formats.parse_vocab`` reads: a path's or a file's bytes."""
    if isinstance(vocab, os.PathLike) or (isinstance(vocab, str) and os.path.isfile(vocab)):
        with open(vocab, "rb") as f:
            return f.read(formats.MAX_VOCAB_BYTES + 1)
    if hasattr(vocab, "read"):
        return vocab.read(formats.MAX_VOCAB_BYTES + 1)
    return vocab


def cell_and_readout(arrays: dict[str, np.ndarray], meta: dict[str, Any],
                     dtype: type) -> tuple[Cell | Stack, Readout]:
    """The recurrent layers and the readout of a whole model's ``arrays`` (its vocabulary already
    taken out), floats as ``dtype``; a ValueError if the readout is missing."""
    rest = cast_floats(arrays, dtype)
    readout = _pop_readout(rest)
    return weights.cell_from_arrays(rest, meta), readout


def _pop_readout(arrays: dict[str, np.ndarray]) -> Readout:
    """Take the readout's two arrays out of ``arrays``; a ValueError if either is missing."""
    missing = [k for k in (READOUT_WEIGHT, READOUT_BIAS) if k not in arrays]
    if missing:
        raise ValueError(f"the model's readout is missing: no array(s) {', '.join(missing)}")
    return Readout(arrays.pop(READOUT_WEIGHT), arrays.pop(READOUT_BIAS))
