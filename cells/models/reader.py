"""Readers: a model that reads a sequence is a cell, an encoder and an optional readout.

    x_t, unknown_t = encoder(token_t)       (T, I) inputs and the (T,) mask of unknown tokens
    h_t = cell(x_t, h_{t-1})                 the cell's trace: gates, states
    y_t = W h_t + b                          the readout, if any: the next token's distribution
                                             (softmax, text) or the next value (numbers)

Shipped models (``cells.pretrained``), uploaded files (``cells.read_model``) and fresh random
cells (:meth:`Reader.untrained`) are all readers, so the app reads every model one way. The
encoders are in ``cells.models.encoders``; files are ``cells.io``'s concern.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from cells.core.bidirectional import BidirectionalTrace
from cells.core.cell import Cell, Trace
from cells.core.readout import READOUT_BIAS, READOUT_WEIGHT, Readout, log_softmax
from cells.core.registry import init_params, make_cell
from cells.core.stack import Stack
from cells.models.encoders import Encoder, NumberEncoder, one_hot

SCORE_CHUNK = 2048
"""Tokens per forward pass when scoring a long sequence (the state is carried across chunks)."""


@dataclass(frozen=True, eq=False)
class Read:
    """A sequence read by a :class:`Reader` from a zero state (or a given one).

    trace: the cell's Trace, unbatched (T, H); unknown (T,): tokens the encoder does not know;
    logits (T, O): the head on the top output after each token, torch's ``head(rnn(x)[0])``
    (None without a head); probs (T, V): the next-token distribution after each token (a
    next-token model), else None; class_probs (T, O): a classifier's class probabilities after
    each token (softmax of the logits; the last row is its decision), else None; predictions
    (T, O): a numbers model's next-value readout in the series' units, else None.
    """

    trace: Trace
    unknown: np.ndarray
    logits: np.ndarray | None = None
    probs: np.ndarray | None = None
    predictions: np.ndarray | None = None
    class_probs: np.ndarray | None = None


def state_after(trace: Trace, t: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(h, c) after step ``t`` of an unbatched ``trace``, shaped as ``forward``'s h0 and c0 take
    them: (H,) for a cell, (L, H) for a stack (c None without a cell state). A bidirectional
    model has none: its backward direction's state at t depends on the tokens after t."""
    if isinstance(trace, BidirectionalTrace):
        raise ValueError("a bidirectional model reads the whole sequence at once: its state after a "
                         "token depends on the tokens after it, so no reading goes on from there")
    layers = getattr(trace, "layers", None)
    if layers is None:
        return trace.h[t].copy(), None if trace.c is None else trace.c[t].copy()
    h = np.stack([layer.h[t] for layer in layers])  # (L, H)
    return h, None if layers[0].c is None else np.stack([layer.c[t] for layer in layers])


DECISION_KEY = "decision"
"""A classifier's meta: what its decision reads, :data:`LAST_OUTPUT` (the default) or
:data:`FINAL_STATES`."""
LAST_OUTPUT = "last output"
"""The decision is the head on the output after the last token, ``head(rnn(x)[0][-1])``: for a
single-direction model, its final state."""
FINAL_STATES = "final states"
"""The decision is the head on each direction's final state, the forward one after the last
token and the backward one after the first (torch's ``head(cat(h_n[-2], h_n[-1]))``, Keras's
``Bidirectional`` without ``return_sequences``); the same as :data:`LAST_OUTPUT` for a single
direction."""

LABELS_KEY = "labels"
"""Where a classifier's file keeps its class names: a JSON list (meta, or safetensors metadata)."""


def parse_labels(raw: Any, outputs: int) -> tuple[str, ...]:
    """A classifier's class names from ``raw`` (a list of str, or its JSON text), one per output of
    its head; a ValueError that says what is wrong for anything else."""
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ValueError("labels: not a JSON list of class names") from None
    if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
        raise ValueError("labels: expected a JSON list of class names (strings)")
    if len(raw) != outputs:
        raise ValueError(f"labels: {len(raw)} class names for a head of {outputs} outputs")
    if len(set(raw)) != len(raw):
        raise ValueError("labels: a class name appears twice")
    return tuple(raw)


class Reader:
    """A cell, the encoder that makes its inputs, and an optional readout on its hidden states.

    The readout is a next-token head when its outputs are the encoder's tokens, a classifier when
    they are not or when ``meta`` names its classes (``labels``), else (numbers) a next-value head.
    """

    def __init__(self, cell: Cell | Stack, encoder: Encoder, readout: Readout | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        if encoder.input_size != cell.input_size:
            raise ValueError(f"the cell takes {cell.input_size} inputs; its encoder makes "
                             f"{encoder.input_size} ({encoder.describe()})")
        self.meta = dict(meta or {})
        self.labels: tuple[str, ...] | None = None
        if readout is not None:
            width = cell.output_size  # H, 2H for both directions, the projection's size
            if readout.weight.ndim != 2 or readout.weight.shape[1] != width \
                    or readout.bias.shape != readout.weight.shape[:1]:
                raise ValueError(f"the head (readout) must be (O, {width}) and (O,) for the {width} "
                                 f"outputs of the recurrent layers, got {readout.weight.shape} and "
                                 f"{readout.bias.shape}")
            for key, a in ((READOUT_WEIGHT, readout.weight), (READOUT_BIAS, readout.bias)):
                if not np.all(np.isfinite(a)):
                    raise ValueError(f"{key}: contains NaN or infinity")
            outputs = readout.weight.shape[0]
            if self.meta.get(LABELS_KEY) is not None:
                self.labels = parse_labels(self.meta[LABELS_KEY], outputs)
            elif encoder.tokens is not None and outputs != len(encoder.tokens):
                self.labels = tuple(f"class {k}" for k in range(outputs))  # a classifier, unnamed
            if self.labels is not None:
                self.meta[LABELS_KEY] = list(self.labels)
        self.cell = cell
        self.encoder = encoder
        self.readout = readout

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.cell.arch}, hidden_size={self.cell.hidden_size}, "
                f"{self.encoder.describe()}, readout={self.readout is not None})")

    @property
    def mode(self) -> str:
        """"text", "numbers" or "notes": what the reader reads."""
        return self.encoder.mode

    @property
    def guesses_tokens(self) -> bool:
        """True when the readout gives a next-token distribution (over the encoder's tokens)."""
        return self.readout is not None and self.encoder.tokens is not None and self.labels is None

    @property
    def classifies(self) -> bool:
        """True when the readout is a classifier: its outputs are :attr:`labels`, not tokens."""
        return self.labels is not None

    @property
    def per_character(self) -> bool:
        """True when every character of a text is one token (not a word model, not numbers)."""
        return self.mode == "text" and self.encoder.unit == "char"

    def tokens_of(self, sequence: Any) -> list[str]:
        """The tokens the model reads in ``sequence``: characters, words or notes."""
        return self.encoder.split(sequence)

    @property
    def num_params(self) -> int:
        extra = 0 if self.readout is None else self.readout.weight.size + self.readout.bias.size
        return self.cell.num_params + extra

    def read(self, sequence: Any, h0: np.ndarray | None = None, c0: np.ndarray | None = None) -> Read:
        """Read ``sequence`` (a str in text mode, values (T,) in numbers mode, notation or tokens in
        notes mode) from a zero state, or from ``h0`` (and ``c0``): the state after what came before
        it ((H,) a cell's, (L, H) a stack's; see :func:`state_after`)."""
        x, unknown = self.encoder.encode(sequence, self.cell.dtype)  # (T, I), (T,)
        trace = self.cell.forward(x, h0, c0)  # h (T, H)
        if self.readout is None:
            return Read(trace, unknown)
        logits = self.readout(trace.h).astype(np.float64)  # (T, O)
        if self.guesses_tokens:
            return Read(trace, unknown, logits, probs=np.exp(log_softmax(logits)))
        if self.classifies:
            return Read(trace, unknown, logits, class_probs=np.exp(log_softmax(logits)))
        predictions = logits
        if isinstance(self.encoder, NumberEncoder) and logits.shape[1] == 1:
            predictions = self.encoder.decode(logits)  # the next value, in the series' units
        return Read(trace, unknown, logits, predictions=predictions)

    def inputs(self, ids: np.ndarray) -> np.ndarray:
        """One-hot inputs (T, I) of token ids, in the cell's dtype (an encoder of one-hot ids)."""
        return one_hot(ids, self.encoder.input_size, self.cell.dtype)

    def log_probs_of_next(self, ids: np.ndarray) -> np.ndarray:
        """ln p_t[id_{t+1}] for t = 0..T-2 of one sequence of one-hot token ids, read from a zero
        state in chunks of :data:`SCORE_CHUNK` with the state carried over: (T-1,) nats."""
        return np.concatenate(list(self._chunked_log_probs(ids))) if len(ids) > 1 else np.zeros(0)

    def _chunked_log_probs(self, ids: np.ndarray) -> Iterator[np.ndarray]:
        h = c = None
        for start in range(0, len(ids) - 1, SCORE_CHUNK):
            chunk = ids[start:start + SCORE_CHUNK + 1]  # this chunk and its next token
            trace = self.cell.forward(self.inputs(chunk[:-1]), h, c)
            logp = log_softmax(self.readout(trace.h).astype(np.float64))  # (t, V)
            yield np.take_along_axis(logp, chunk[1:, None], axis=1)[:, 0]
            h, c = state_after(trace, -1)

    @classmethod
    def untrained(cls, arch: str, encoder: Encoder, hidden_size: int, *, seed: int,
                  forget_bias: float = 1.0, recurrent_radius: float | None = None,
                  dtype: type = np.float64) -> Reader:
        """A cell with seeded random weights (``cells.init_params``) over ``encoder``; an encoder of
        tokens gets a random next-token readout too."""
        params = init_params(arch, encoder.input_size, hidden_size, seed=seed, dtype=dtype,
                             forget_bias=forget_bias, recurrent_radius=recurrent_radius)
        readout = None
        if encoder.tokens is not None:
            readout = Readout.init(hidden_size, len(encoder.tokens), seed=seed + 1, dtype=dtype)
        return cls(make_cell(arch, params), encoder, readout, {"trained_on": "nothing (random weights)"})
