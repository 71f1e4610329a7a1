"""What is typed: the sequence box's content read as text or numbers, cut to the limits, every
token given a visible label. Pure (no Streamlit), so every page gets the same rules:

* Text longer than :data:`MAX_CHARS` characters (numbers mode: :data:`MAX_NUMBERS` values) is cut,
  and the notes say so.
* Control, format and combining characters are kept (the model reads them, most as its unknown
  token) but every label shows them visibly: space ``␣``, newline ``⏎``, tab ``⇥``, other control
  characters as their Unicode control pictures, format characters (e.g. right-to-left overrides)
  as ``U+XXXX``, a combining mark on a dotted circle ``◌``.
* Numbers mode parses a comma-separated series; ``nan``, ``inf`` and anything that is not a number
  are reported and dropped; values are clipped to ±:data:`MAX_ABS_VALUE`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cells.models.encoders import UNKNOWN_CHAR

MAX_CHARS = 2000
"""Longest text a page reads; longer input is cut to its first MAX_CHARS characters."""

MAX_NUMBERS = 2000
"""Most values a numbers-mode series may have; later ones are cut."""

MAX_ABS_VALUE = 1e6
"""Numbers-mode values are clipped to [-MAX_ABS_VALUE, MAX_ABS_VALUE] (reported when it happens)."""

UNKNOWN_LABEL = UNKNOWN_CHAR
"""How a character outside the model's vocabulary is labelled: the model reads its unknown token."""

_VISIBLE = {" ": "␣", "\n": "⏎", "\r": "␍", "\t": "⇥", "\x7f": "␡"}


@dataclass(frozen=True)
class Prepared:
    """A sequence ready for a model.

    ``text`` (text mode) is what the model reads, already cut; ``values`` (numbers mode) the finite
    series. ``labels`` has one visible tick label per token and ``notes`` says, in words that never
    quote the user's input, what was cut or dropped.
    """

    mode: str
    text: str = ""
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,) numbers mode
    labels: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def length(self) -> int:
        """Number of tokens T."""
        return len(self.labels)


def token_label(ch: str) -> str:
    """A visible, unambiguous tick label for one character (see the module docstring); a longer
    token (a word model's) is its own label."""
    if len(ch) != 1:
        return ch
    if ch in _VISIBLE:
        return _VISIBLE[ch]
    category = unicodedata.category(ch)
    if category == "Cc":
        return chr(0x2400 + ord(ch)) if ord(ch) < 0x20 else f"U+{ord(ch):04X}"
    if category in ("Cf", "Cs", "Co", "Cn", "Zl", "Zp") or (category == "Zs" and ch != " "):
        return f"U+{ord(ch):04X}"
    if category in ("Mn", "Me", "Mc"):
        return "◌" + ch
    return ch


def prepare_text(raw: str, max_chars: int = MAX_CHARS) -> Prepared:
    """Text mode: cut to ``max_chars`` and label every character."""
    notes = []
    if len(raw) > max_chars:
        notes.append(
            f"Your text has {len(raw):,} characters; only the first {max_chars:,} are shown "
            f"(the limit, MAX_CHARS = {max_chars:,})."
        )
        raw = raw[:max_chars]
    return Prepared("text", text=raw, labels=tuple(token_label(ch) for ch in raw), notes=tuple(notes))


_SEPARATORS = re.compile(r"[,;\s]+")


def parse_numbers(raw: str, max_numbers: int = MAX_NUMBERS) -> Prepared:
    """Numbers mode: a series separated by commas (or semicolons, spaces, newlines).

    Entries that are not numbers, and ``nan``/``inf``, are dropped and counted in the notes.
    """
    entries = [e for e in _SEPARATORS.split(raw) if e]
    values, garbage, non_finite, clipped = [], 0, 0, 0
    for entry in entries:
        try:
            value = float(entry)
        except ValueError:
            garbage += 1
            continue
        if not math.isfinite(value):
            non_finite += 1
            continue
        if abs(value) > MAX_ABS_VALUE:
            value = math.copysign(MAX_ABS_VALUE, value)
            clipped += 1
        values.append(value)
    notes = []
    if garbage:
        notes.append(f"Dropped {garbage:,} entries that are not numbers.")
    if non_finite:
        notes.append(f"Dropped {non_finite:,} entries that are nan or infinite.")
    if clipped:
        notes.append(f"Clipped {clipped:,} values to ±{MAX_ABS_VALUE:g}.")
    if len(values) > max_numbers:
        notes.append(
            f"Your series has {len(values):,} values; only the first {max_numbers:,} are shown "
            f"(the limit, MAX_NUMBERS = {max_numbers:,})."
        )
        values = values[:max_numbers]
    series = np.asarray(values, dtype=np.float64)  # (T,)
    return Prepared(
        "numbers", values=series, labels=tuple(f"{v:.3g}" for v in series), notes=tuple(notes)
    )


def prepare(raw: Any, mode: str) -> Prepared:
    """The sequence box's content read in ``mode`` ("text" or "numbers"); never raises."""
    raw = raw if isinstance(raw, str) else ""
    return parse_numbers(raw) if mode == "numbers" else prepare_text(raw)


def mark_unknown(labels: Sequence[str], unknown: np.ndarray) -> tuple[str, ...]:
    """Tick labels with every unknown-token position shown as :data:`UNKNOWN_LABEL`."""
    return tuple(UNKNOWN_LABEL if u else lab for lab, u in zip(labels, unknown, strict=True))
