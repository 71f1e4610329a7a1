"""Character-level language models: a vocabulary, a recurrent cell and a softmax readout.

Reading a text c_0 c_1 ... c_{T-1}, one character at a time from a zero state:

    x_t = onehot(id(c_t))                  V = len(vocab) + 1 inputs; the last id is "unknown"
    h_t = cell(x_t, h_{t-1})
    p_t = softmax(W h_t + b)               the distribution of c_{t+1}, over the same V ids

Bits per character of a text are the mean of -log2 p_t[id(c_{t+1})] over t = 0..T-2: every
character after the first is predicted, unknown characters included (as the unknown id).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from os import PathLike
from typing import Any, BinaryIO

import numpy as np

from cells import tasks, weights
from cells.base import Cell, Trace
from cells.readers import (
    CHAR_KIND,
    UNKNOWN_CHAR,
    VOCAB_KEY,
    CharEncoder,
    Reader,
    cell_and_readout,
    write,
)
from cells.train import Readout, log_softmax

__all__ = ["CHUNK", "DEFAULT_VOCAB", "KIND", "UNKNOWN_CHAR", "VOCAB_KEY", "CharModel", "CharTrace"]

#: The vocabulary of untrained models: printable ASCII and the newline.
DEFAULT_VOCAB = "\n" + "".join(ch for ch in string.printable if ch.isprintable())
#: ``kind`` in a saved model's meta.
KIND = CHAR_KIND
#: Characters per forward pass when scoring long texts (the state is carried across chunks).
CHUNK = 2048


@dataclass(frozen=True, eq=False)
class CharTrace:
    """A text read by a CharModel.

    trace: the cell's Trace, unbatched (T, H); ids (T,) character ids; probs (T, V) the
    next-character distribution after each character; unknown (T,) True where the character is
    not in the vocabulary.
    """

    trace: Trace
    ids: np.ndarray
    probs: np.ndarray
    unknown: np.ndarray


class CharModel(Reader):
    """A reader of characters: a vocabulary with an unknown token, a cell over one-hot
    characters, and a next-character readout."""

    def __init__(self, cell: Cell, vocab: str, readout: Readout,
                 meta: dict[str, Any] | None = None) -> None:
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocab has repeated characters")
        if cell.input_size != len(vocab) + 1:
            raise ValueError(f"cell takes {cell.input_size} inputs; vocab needs {len(vocab) + 1} "
                             "(its characters and the unknown token)")
        super().__init__(cell, CharEncoder(vocab), readout, meta)
        self.vocab = vocab
        self.readout: Readout = readout

    def __repr__(self) -> str:
        return (f"CharModel({self.cell.arch}, hidden_size={self.cell.hidden_size}, "
                f"vocab={len(self.vocab)} chars)")

    @property
    def vocab_size(self) -> int:
        """V: the known characters plus the unknown token (the encoder's inputs)."""
        return self.encoder.input_size

    @property
    def unknown_id(self) -> int:
        return self.encoder.unknown_id

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def untrained(cls, arch: str, hidden_size: int, seed: int, vocab: str = DEFAULT_VOCAB,
                  dtype: type = np.float64, **init: Any) -> CharModel:
        """A model with seeded random weights (the engine's init, ``init`` passed on to
        ``cells.init_params``, and a torch-style readout)."""
        fresh = Reader.untrained(arch, CharEncoder(vocab), hidden_size, seed=seed, dtype=dtype, **init)
        return cls(fresh.cell, vocab, fresh.readout, fresh.meta)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any] | None = None,
                    dtype: type = np.float64) -> CharModel:
        """The inverse of ``to_arrays``; weights are cast to ``dtype``. Bad arrays: ValueError."""
        rest = dict(arrays)
        if VOCAB_KEY not in rest:
            raise ValueError(f"character model: missing array {VOCAB_KEY}")
        codes = rest.pop(VOCAB_KEY)
        if codes.ndim != 1 or codes.dtype.kind not in "iu" or np.any(codes < 0) \
                or np.any(codes > 0x10FFFF):
            raise ValueError(f"{VOCAB_KEY}: expected a 1-D array of Unicode code points")
        vocab = "".join(chr(int(c)) for c in codes)
        cell, readout = cell_and_readout(rest, meta or {}, dtype)
        return cls(cell, vocab, readout, meta)

    @classmethod
    def load(cls, path: str | PathLike | bytes | BinaryIO, dtype: type = np.float64) -> CharModel:
        """Read a model written by ``save``, weights as ``dtype``; any bad file is a ValueError."""
        arrays, meta = weights.load_arrays(path)
        if meta.pop("kind", None) != KIND:
            raise ValueError("not a character model file (its meta lacks kind='charmodel')")
        return cls.from_arrays(arrays, meta, dtype)

    # -- reading text ----------------------------------------------------------------------------

    def encode(self, text: str) -> np.ndarray:
        """Character ids (T,); characters not in the vocabulary get the unknown id."""
        return self.encoder.ids(text)

    def inputs(self, ids: np.ndarray) -> np.ndarray:
        """One-hot inputs (T, V) in the cell's dtype."""
        return tasks.one_hot(ids, self.vocab_size, self.cell.dtype)

    def trace(self, text: str) -> CharTrace:
        """Read ``text`` from a zero state: the cell trace and the distribution after each char."""
        read = self.read(text)
        return CharTrace(trace=read.trace, ids=self.encode(text), probs=read.probs,
                         unknown=read.unknown)

    def _log2_probs_of_next(self, ids: np.ndarray) -> np.ndarray:
        """log2 p_t[id_{t+1}] for t = 0..T-2, reading in chunks with the state carried over."""
        out = []
        h = c = None
        for start in range(0, len(ids) - 1, CHUNK):
            chunk = ids[start:start + CHUNK + 1]                 # this chunk and its next char
            tr = self.cell.forward(self.inputs(chunk[:-1]), h, c)
            logp = log_softmax(self.readout(tr.h).astype(np.float64))   # (t, V)
            out.append(np.take_along_axis(logp, chunk[1:, None], axis=1)[:, 0] / np.log(2))
            h, c = tr.h[-1], None if tr.c is None else tr.c[-1]
        return np.concatenate(out)

    def bits_per_char(self, text: str) -> float:
        """Mean -log2 probability of each character given the ones before it (needs 2+ chars)."""
        ids = self.encode(text)
        if len(ids) < 2:
            raise ValueError("bits per character needs a text of at least 2 characters")
        return float(-np.mean(self._log2_probs_of_next(ids)))

    def sample(self, prefix: str, n: int, *, temperature: float = 1.0, seed: int = 0) -> str:
        """``n`` characters written after ``prefix`` (an empty prefix means a paragraph start, "\\n").

        p(c) is proportional to p_t(c)^(1/temperature); ``temperature=0`` is greedy (argmax); the
        unknown token is never drawn. :func:`cells.readers.write` gives the traces and
        distributions too.
        """
        return write(self, prefix, n, temperature=temperature, seed=seed).text

    def top_next(self, probs_row: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` likeliest next characters of a (V,) distribution, as (char, probability)."""
        order = np.argsort(-np.asarray(probs_row), kind="stable")[:k]
        chars = self.vocab + UNKNOWN_CHAR
        return [(chars[i], float(probs_row[i])) for i in order]
