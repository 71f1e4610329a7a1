"""Encoders: a sequence -> a cell's inputs (T, I) and the (T,) mask of tokens it does not know.

* :class:`CharEncoder`: characters one-hot by a vocabulary; the last id is "unknown" (the shipped
  character models, ``CharModel``);
* :class:`CodePointEncoder`: characters one-hot by Unicode code point, ``ord(ch) < I`` (a bare
  cell with I > 1 inputs: I = 128 reads ASCII); any other character is the all-zero input;
* :class:`NumberEncoder`: a series, one value per step (a bare cell with one input);
* :class:`EmbeddingEncoder`: tokens (characters or words) by id through an embedding matrix
  (``nn.Embedding``): a whole language model, embedding + stack + linear head + vocabulary;
* ``cells.models.melody.NoteEncoder``: note tokens one-hot by a vocabulary.

Every encoder states what it reads (``mode``: "text", "numbers" or "notes"), its token unit
(``unit``: "char", "word", "note" or "value") and, when a next-token readout can sit on top of it,
what each of that readout's outputs stands for (``tokens``; None when there is no such readout).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

UNKNOWN_CHAR = "\ufffd"
"""How an unknown character is shown among a model's guesses (the Unicode replacement character)."""


def one_hot(ids: np.ndarray, size: int, dtype: type = np.float64) -> np.ndarray:
    """One-hot vectors: ids of any shape (...) -> (..., size)."""
    ids = np.asarray(ids)
    out = np.zeros((*ids.shape, size), dtype=dtype)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


def build_vocab(text: str, max_size: int | None = None, min_count: int = 1) -> str:
    """The characters of ``text`` by falling frequency (ties by code point), at most ``max_size``."""
    counts = Counter(text)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    chars = [ch for ch, n in ranked if n >= min_count]
    return "".join(chars[:max_size])


def char_ids(text: str, vocab: str) -> np.ndarray:
    """Character ids (T,) under ``vocab``; a character not in it gets the unknown id ``len(vocab)``."""
    index = {ch: i for i, ch in enumerate(vocab)}
    unknown = len(vocab)
    return np.fromiter((index.get(ch, unknown) for ch in text), dtype=np.int64, count=len(text))


class Encoder(Protocol):
    """Turns a sequence into a cell's inputs: ``encode(sequence, dtype) -> (x (T, I), unknown (T,))``."""

    mode: str  # "text" (a str), "numbers" (a (T,) array) or "notes" (notation)
    unit: str  # one token is a "char", a "word", a "note" or a "value"
    input_size: int
    tokens: tuple[str, ...] | str | None  # a next-token readout's outputs, or None: no such readout

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
    unit = "char"

    @property
    def tokens(self) -> str:
        """What each output of a next-character readout stands for: the vocabulary, then unknown."""
        return self.vocab + UNKNOWN_CHAR

    def ids(self, text: str) -> np.ndarray:
        """Character ids (T,)."""
        return char_ids(text, self.vocab)

    def split(self, text: str) -> list[str]:
        return list(text)

    def encode(self, text: str, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        ids = self.ids(text)
        return one_hot(ids, self.input_size, dtype), ids == self.unknown_id  # (T, V), (T,)

    def describe(self) -> str:
        return f"characters one-hot by a vocabulary of {len(self.vocab)}"


@dataclass(frozen=True)
class CodePointEncoder:
    """Characters one-hot by Unicode code point: ``ch`` is input ``ord(ch)`` when ``ord(ch) < I``;
    any other character is the all-zero input (the cell sees only its biases), marked unknown."""

    input_size: int
    mode = "text"
    unit = "char"
    tokens = None

    def split(self, text: str) -> list[str]:
        return list(text)

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
    unit = "value"
    input_size = 1
    tokens = None

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
        except (TypeError, KeyError, OverflowError) as exc:  # OverflowError: an int past float's range
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
