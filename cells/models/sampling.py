"""Letting a model go on: one token at a time, each drawn from the model's next-token distribution
and read back in before the next is chosen. One loop (:func:`sample`) serves writing text
(:func:`write`) and continuing melodies (``MelodyModel.continue_melody``).

    p_k = softmax(W h_k + b)                    the distribution after what was read
    token_k ~ p_k^(1/temperature)               over the known tokens (never the unknown one)
    h_{k+1} = cell(onehot(token_k), h_k)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cells.core.cell import Trace
from cells.core.readout import log_softmax
from cells.models.encoders import VocabularyIds
from cells.models.reader import Reader, state_after


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


@dataclass(frozen=True, eq=False)
class Sample:
    """Tokens drawn by :func:`sample`: ids (N,), never the unknown one; probs (N, V): the model's
    distribution before each (temperature 1, unknown included); drawn (N, V): the one it was drawn
    from (temperature applied, unknown 0; one-hot at temperature 0)."""

    ids: np.ndarray
    probs: np.ndarray
    drawn: np.ndarray


def sample(reader: Reader, h: np.ndarray, c: np.ndarray | None, n: int, *, temperature: float,
           rng: np.random.Generator) -> Sample:
    """``n`` tokens drawn one at a time from the state (``h``, ``c``) of ``reader``'s cell (a model
    over a vocabulary with its unknown token last, and a next-token readout)."""
    encoder = reader.encoder
    if not isinstance(encoder, VocabularyIds) or not reader.guesses_tokens:
        raise ValueError("sampling needs a model over a vocabulary with a next-token readout")
    check_temperature(temperature)
    if n < 0:
        raise ValueError(f"cannot draw {n} tokens")
    V, unknown = encoder.input_size, encoder.unknown_id
    ids = np.zeros(n, dtype=np.int64)
    probs = np.zeros((n, V))
    drawn = np.zeros((n, V))
    for k in range(n):
        logits = reader.readout(h).astype(np.float64)  # (V,)
        probs[k] = np.exp(log_softmax(logits))
        ids[k], drawn[k, :unknown] = draw(logits[:unknown], temperature, rng)
        if k < n - 1:
            h, c, _ = reader.cell.step(reader.inputs(ids[k : k + 1])[0], h, c)
    return Sample(ids, probs, drawn)


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


def write(reader: Reader, prompt: str, n: int, *, temperature: float = 1.0, seed: int = 0) -> Writing:
    """Let a character model continue ``prompt`` by ``n`` characters (:func:`sample`).

    Character k is drawn from p_k(c) proportional to p_k(c)^(1/temperature) over the known
    characters (the unknown token is never drawn), with ``numpy.random.default_rng(seed)``: the
    same arguments write the same text. ``temperature=0`` is greedy: the likeliest known character
    (argmax, the first on a tie), no randomness. ``temperature`` -> 0 tends to greedy; 1 samples
    the model's own distribution; above 1 flattens it.
    """
    if not reader.per_character or not isinstance(reader.encoder, VocabularyIds):
        raise ValueError("writing needs a character model: a cell over a vocabulary of characters "
                         "and a next-character readout")
    if n < 0:
        raise ValueError(f"cannot write {n} characters")
    start = prompt or "\n"
    prompt_trace = reader.read(start).trace
    h0, c0 = state_after(prompt_trace, -1)
    drawn = sample(reader, h0, c0, n, temperature=temperature, rng=np.random.default_rng(seed))
    trace = reader.cell.forward(reader.inputs(drawn.ids), h0, c0)  # (N, H)
    text = "".join(reader.encoder.vocab[i] for i in drawn.ids)
    return Writing(start, drawn.ids, text, prompt_trace, trace, drawn.probs, drawn.drawn,
                   float(temperature), seed)
