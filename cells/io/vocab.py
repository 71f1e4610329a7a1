"""Vocabularies: the tokens of a model with an embedding, in id order, from any of the forms a
file or an upload holds them in."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cells.io.errors import WeightsFileError, refuse_constant, refusing

MAX_VOCAB_BYTES = 2**22
"""Largest vocabulary file or metadata entry read."""
VOCAB_KEY = "vocab"
"""Where a file keeps its vocabulary: an ``.npz`` array, a ``.safetensors`` metadata entry."""

def parse_vocab(src: Any) -> tuple[str, ...] | None:
    """Tokens from any of the vocabulary forms (module docstring), in id order; None for None.

    ``src``: a list/tuple of str; a token -> id dict (ids 0..V-1, each once); an int array of
    code points; a uint8 array or bytes or str of text: a JSON list or dict, else (bytes from a
    file: one token per line; a str: its characters).
    """
    if src is None:
        return None
    if isinstance(src, np.ndarray):
        if src.dtype.kind in "iu" and src.dtype != np.uint8:
            if src.ndim != 1 or np.any(src < 0) or np.any(src > 0x10FFFF):
                raise WeightsFileError("vocab: expected a 1-D array of Unicode code points")
            return tuple(chr(int(c)) for c in src)
        if src.dtype != np.uint8 or src.ndim != 1:
            raise WeightsFileError("vocab: expected UTF-8 text as a uint8 array")
        src = src.tobytes().decode("utf-8", errors="strict")
        return _vocab_from_text(src, lines=False)
    if isinstance(src, bytes | bytearray):
        if len(src) > MAX_VOCAB_BYTES:
            raise WeightsFileError(f"the vocabulary takes {len(src):,} bytes, more than {MAX_VOCAB_BYTES:,}")
        with refusing("the vocabulary is not UTF-8 text"):
            text = bytes(src).decode()
        return _vocab_from_text(text, lines=True)
    if isinstance(src, str):
        return _vocab_from_text(src, lines=False)
    if isinstance(src, Mapping):
        return _vocab_from_ids(src)
    if isinstance(src, Sequence):
        return _vocab_list(list(src))
    raise WeightsFileError(f"vocab: expected tokens, a token -> id dict or text, got {type(src).__name__}")


def _vocab_from_text(text: str, lines: bool) -> tuple[str, ...]:
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        with refusing("the vocabulary is not valid JSON"):
            value = json.loads(stripped, parse_constant=refuse_constant)
        return _vocab_from_ids(value) if isinstance(value, dict) else _vocab_list(value)
    if lines:
        return _vocab_list(text.rstrip("\n").split("\n"))
    return _vocab_list(list(text))


def _vocab_from_ids(mapping: Mapping) -> tuple[str, ...]:
    ids = sorted(mapping.values()) if all(type(v) is int for v in mapping.values()) else None
    if ids != list(range(len(mapping))) or not all(isinstance(k, str) for k in mapping):
        raise WeightsFileError("a token -> id vocabulary must give each id 0..V-1 to one str token")
    return tuple(sorted(mapping, key=mapping.__getitem__))


def _vocab_list(tokens: Any) -> tuple[str, ...]:
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise WeightsFileError("a vocabulary is a list of str tokens")
    if len(set(tokens)) != len(tokens):
        seen: set[str] = set()
        twice = next(t for t in tokens if t in seen or seen.add(t))
        raise WeightsFileError(f"the vocabulary holds {twice!r} twice")
    return tuple(tokens)
