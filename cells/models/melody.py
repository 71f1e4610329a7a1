"""Melody models: note tokens one-hot by a vocabulary, a recurrent cell and a next-note readout.

    x_t = onehot(id(note_t));  h_t = cell(x_t, h_{t-1});  p_t = softmax(W h_t + b)

A note is one token, pitch and duration together (``"C4 q"``, ``"r e."``; the notation is
``cells.music.notation``'s); a token the vocabulary lacks reads as the unknown token ``?``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cells.core.cell import Cell
from cells.core.readout import Readout
from cells.core.stack import Stack
from cells.models.encoders import VocabularyIds, one_hot
from cells.models.reader import Reader, state_after
from cells.models.sampling import sample
from cells.music.notation import DURATIONS, UNKNOWN_NOTE, Melody, Note, note_token, parse


@dataclass(frozen=True, eq=False)
class NoteEncoder(VocabularyIds):
    """Note tokens one-hot by ``vocab``; a token not in it is the unknown id ``len(vocab)``.

    Reads a melody as notation text (parsed leniently: unreadable words are skipped), a
    :class:`Melody`, or a sequence of tokens.
    """

    vocab: tuple[str, ...]
    mode = "notes"
    unit = "note"

    def __post_init__(self) -> None:
        if len(set(self.vocab)) != len(self.vocab):
            raise ValueError("the note vocabulary has repeated tokens")
        bad = [t for t in self.vocab if not _is_token(t)]
        if bad:
            raise ValueError(f"not note tokens: {', '.join(map(repr, bad[:5]))}")
        object.__setattr__(self, "_index", {tok: i for i, tok in enumerate(self.vocab)})

    @property
    def tokens(self) -> tuple[str, ...]:
        """What each output of the readout stands for: the vocabulary, then the unknown token."""
        return (*self.vocab, UNKNOWN_NOTE)

    def split(self, melody: str | Melody | Sequence[str]) -> list[str]:
        """The tokens of a melody (notation text, a Melody, or tokens)."""
        if isinstance(melody, str):
            return parse(melody, strict=False).tokens
        if isinstance(melody, Melody):
            return melody.tokens
        return list(melody)

    def ids(self, melody: str | Melody | Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids (T,) and the unknown mask (T,)."""
        toks = self.split(melody)
        ids = np.fromiter((self._index.get(t, self.unknown_id) for t in toks), dtype=np.int64,
                          count=len(toks))
        return ids, ids == self.unknown_id

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ids (the unknown id is :data:`UNKNOWN_NOTE`)."""
        return [self.tokens[int(i)] for i in ids]

    def encode(self, melody: Any, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        ids, unknown = self.ids(melody)
        return one_hot(ids, self.input_size, dtype), unknown  # (T, V), (T,)

    def describe(self) -> str:
        return f"notes (pitch and duration) one-hot by a vocabulary of {len(self.vocab)}"


def _is_token(token: str) -> bool:
    try:
        Note.from_token(token)
    except ValueError:
        return False
    return True


def default_vocab() -> tuple[str, ...]:
    """A vocabulary for untrained models: C3..C6 and rests, every plain and dotted w h q e s."""
    durations = [d + dots for d in DURATIONS for dots in ("", ".")]
    pitches = [*range(48, 85), None]
    return tuple(note_token(p, d) for p in pitches for d in durations)


class MelodyModel(Reader):
    """A reader of melodies: note tokens one-hot, a cell, and a next-note readout.

        x_t = onehot(id(note_t));  h_t = cell(x_t, h_{t-1});  p_t = softmax(W h_t + b)

    p_t is the distribution of note t+1 (the unknown token included).
    """

    encoder: NoteEncoder
    readout: Readout

    def __init__(self, cell: Cell | Stack, vocab: Sequence[str], readout: Readout,
                 meta: dict[str, Any] | None = None) -> None:
        encoder = NoteEncoder(tuple(vocab))
        if readout.weight.shape[0] != encoder.input_size:
            raise ValueError(f"the readout has {readout.weight.shape[0]} outputs; the vocabulary "
                             f"has {encoder.input_size} tokens (with the unknown one)")
        super().__init__(cell, encoder, readout, meta)

    def __repr__(self) -> str:
        return (f"MelodyModel({self.cell.arch}, hidden_size={self.cell.hidden_size}, "
                f"vocab={len(self.encoder.vocab)} notes)")

    @classmethod
    def untrained(cls, arch: str, hidden_size: int, seed: int, vocab: Sequence[str] | None = None,
                  dtype: type = np.float64, **init: Any) -> MelodyModel:
        fresh = Reader.untrained(arch, NoteEncoder(tuple(vocab or default_vocab())), hidden_size,
                                 seed=seed, dtype=dtype, **init)
        return cls(fresh.cell, fresh.encoder.vocab, fresh.readout, fresh.meta)

    def _ids(self, melody: Any) -> np.ndarray:
        """Token ids (T,) of a melody: notation, a Melody, tokens, or already ids (an int array)."""
        if isinstance(melody, np.ndarray) and melody.dtype.kind in "iu":
            return melody.astype(np.int64)
        return self.encoder.ids(melody)[0]

    def log_likelihood(self, melodies: Iterable[Any]) -> float:
        """Mean ln p(note | the notes before it) in nats per note, over every note but the first
        of each melody (each read from a zero state). A melody is notation, a Melody, tokens, or
        token ids (an int array)."""
        total, count = 0.0, 0
        for melody in melodies:
            ids = self._ids(melody)
            if len(ids) >= 2:
                lp = self.log_probs_of_next(ids)
                total += float(lp.sum())
                count += lp.size
        if count == 0:
            raise ValueError("the log-likelihood needs a melody of at least 2 notes")
        return total / count

    def continue_melody(self, melody: Any, n: int, *, temperature: float = 1.0,
                        seed: int = 0) -> list[str]:
        """``n`` note tokens drawn after ``melody`` (at least one note), from ``seed``
        (``cells.models.sampling.sample``).

        p(note) is proportional to p_t(note)^(1/temperature); ``temperature`` 0 takes the likeliest
        note every time (greedy). The unknown token is never drawn.
        """
        ids, _ = self.encoder.ids(melody)
        if len(ids) == 0:
            raise ValueError("a continuation needs a melody of at least one note")
        h, c = state_after(self.cell.forward(self.inputs(ids)), -1)
        drawn = sample(self, h, c, n, temperature=temperature, rng=np.random.default_rng(seed))
        return self.encoder.decode(drawn.ids)
