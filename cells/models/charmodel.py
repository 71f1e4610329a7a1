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
from typing import Any

import numpy as np

from cells.core.cell import Cell
from cells.core.readout import Readout
from cells.core.stack import Stack
from cells.models.encoders import UNKNOWN_CHAR, CharEncoder
from cells.models.reader import Reader
from cells.models.sampling import write

DEFAULT_VOCAB = "\n" + "".join(ch for ch in string.printable if ch.isprintable())
"""The vocabulary of untrained models: printable ASCII and the newline."""


class CharModel(Reader):
    """A reader of characters: a vocabulary with an unknown token, a cell over one-hot
    characters, and a next-character readout."""

    encoder: CharEncoder
    readout: Readout

    def __init__(self, cell: Cell | Stack, vocab: str, readout: Readout,
                 meta: dict[str, Any] | None = None) -> None:
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocab has repeated characters")
        if cell.input_size != len(vocab) + 1:
            raise ValueError(f"cell takes {cell.input_size} inputs; vocab needs {len(vocab) + 1} "
                             "(its characters and the unknown token)")
        super().__init__(cell, CharEncoder(vocab), readout, meta)

    def __repr__(self) -> str:
        return (f"CharModel({self.cell.arch}, hidden_size={self.cell.hidden_size}, "
                f"vocab={len(self.vocab)} chars)")

    @property
    def vocab(self) -> str:
        return self.encoder.vocab

    @property
    def vocab_size(self) -> int:
        """V: the known characters plus the unknown token (the encoder's inputs)."""
        return self.encoder.input_size

    @property
    def unknown_id(self) -> int:
        return self.encoder.unknown_id

    @classmethod
    def untrained(cls, arch: str, hidden_size: int, seed: int, vocab: str = DEFAULT_VOCAB,
                  dtype: type = np.float64, **init: Any) -> CharModel:
        """A model with seeded random weights (the engine's init, ``init`` passed on to
        ``cells.init_params``, and a torch-style readout)."""
        fresh = Reader.untrained(arch, CharEncoder(vocab), hidden_size, seed=seed, dtype=dtype, **init)
        return cls(fresh.cell, vocab, fresh.readout, fresh.meta)

    def bits_per_char(self, text: str) -> float:
        """Mean -log2 probability of each character given the ones before it (needs 2+ chars)."""
        ids = self.encoder.ids(text)
        if len(ids) < 2:
            raise ValueError("bits per character needs a text of at least 2 characters")
        return float(-np.mean(self.log_probs_of_next(ids)) / np.log(2))

    def sample(self, prefix: str, n: int, *, temperature: float = 1.0, seed: int = 0) -> str:
        """``n`` characters written after ``prefix`` (an empty prefix means a paragraph start, "\\n").

        p(c) is proportional to p_t(c)^(1/temperature); ``temperature=0`` is greedy (argmax); the
        unknown token is never drawn. :func:`cells.models.sampling.write` gives the traces and
        distributions too.
        """
        return write(self, prefix, n, temperature=temperature, seed=seed).text

    def top_next(self, probs_row: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` likeliest next characters of a (V,) distribution, as (char, probability)."""
        order = np.argsort(-np.asarray(probs_row), kind="stable")[:k]
        chars = self.vocab + UNKNOWN_CHAR
        return [(chars[i], float(probs_row[i])) for i in order]
