"""Interpretable cells: which hidden units track which simple property of the text they read.

Karpathy, Johnson & Fei-Fei (2015, "Visualizing and Understanding Recurrent Networks") found
units of character-level LSTMs that switch on inside quotes, count the position in a line or
track the depth of brackets. This module looks for such units the simple way:

1. :func:`text_properties` turns a text c_0 .. c_{T-1} into property signals p_t, one number per
   character, each describing the text *after reading c_t* (what the cell could know at step t):
   inside quotes, inside brackets, position in the word and in the line, is a space, ...
2. :func:`correlations` scores every unit j of a state a (T, H) (the LSTM's c or h, the GRU's h)
   against every property p by the Pearson correlation over the text,

       r_j = sum_t (a_tj - mean_j)(p_t - mean_p) / sqrt(sum_t (a_tj - mean_j)^2 sum_t (p_t - mean_p)^2),

   NaN when the property or the unit is constant over the text (no correlation to speak of).
3. :func:`best_units` ranks the units of each property by |r|.

A correlation over one short text is weak evidence (with H units, the best |r| of pure noise
grows with H and shrinks with T), so the ranking is a place to start looking, not a proof.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

QUOTES = '"'
"""The quote character that opens and closes a quotation (straight double quote)."""
OPENING = "([{"
CLOSING = ")]}"
VOWELS = "aeiouAEIOU"
PUNCTUATION = ".,;:!?'\"()[]{}-"


def _mask(text: str, test: Callable[[str], bool]) -> np.ndarray:
    """(T,) 1.0 where ``test(c_t)``, else 0.0."""
    return np.fromiter((test(ch) for ch in text), dtype=np.float64, count=len(text))


def inside_quotes(text: str) -> np.ndarray:
    """(T,) 1 from an opening ``"`` (included) up to the closing one (excluded), else 0.

    Quotes pair up in order: after an odd number of them the reader is inside a quotation.
    """
    count = np.cumsum(_mask(text, lambda ch: ch == QUOTES))  # quotes read so far, c_t included
    return count % 2


def bracket_depth(text: str) -> np.ndarray:
    """(T,) how many brackets ``( [ {`` are open after reading c_t (a stray closer counts as 0)."""
    depth = np.zeros(len(text))
    open_now = 0
    for t, ch in enumerate(text):
        if ch in OPENING:
            open_now += 1
        elif ch in CLOSING:
            open_now = max(open_now - 1, 0)
        depth[t] = open_now
    return depth


def inside_brackets(text: str) -> np.ndarray:
    """(T,) 1 while at least one bracket is open (the opening bracket included), else 0."""
    return (bracket_depth(text) > 0).astype(np.float64)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "'"


def word_position(text: str) -> np.ndarray:
    """(T,) 1, 2, 3, ... for the characters of a word (letters, digits, apostrophes); 0 elsewhere."""
    position = np.zeros(len(text))
    run = 0
    for t, ch in enumerate(text):
        run = run + 1 if _is_word_char(ch) else 0
        position[t] = run
    return position


def line_position(text: str) -> np.ndarray:
    """(T,) the column of c_t: 0 for the first character of a line, 1 for the next, ...

    A newline ends its line: it has the column it sits at, and the character after it is column 0.
    """
    column = np.zeros(len(text))
    col = 0
    for t, ch in enumerate(text):
        column[t] = col
        col = 0 if ch == "\n" else col + 1
    return column


def after_space(text: str) -> np.ndarray:
    """(T,) 1 where the previous character is a space (c_{t-1} == " "), else 0; 0 at t = 0."""
    out = np.zeros(len(text))
    out[1:] = _mask(text[:-1], lambda ch: ch == " ")
    return out


PROPERTIES: dict[str, tuple[str, Callable[[str], np.ndarray]]] = {
    "inside quotes": ('between an opening " and its closing one', inside_quotes),
    "inside brackets": ("while a ( [ or { is open", inside_brackets),
    "position in word": ("1, 2, 3, ... along a word; 0 between words", word_position),
    "position in line": ("the column: characters since the last newline", line_position),
    "after a space": ("the previous character is a space", after_space),
    "is a space": ("the character is a space", lambda text: _mask(text, lambda ch: ch == " ")),
    "is a vowel": ("a e i o u, either case", lambda text: _mask(text, lambda ch: ch in VOWELS)),
    "is upper case": ("a capital letter", lambda text: _mask(text, str.isupper)),
    "is punctuation": (f"one of {PUNCTUATION}", lambda text: _mask(text, lambda ch: ch in PUNCTUATION)),
}
"""name -> (what it means, function text -> (T,) signal). Every signal describes the text after
reading character t, so a unit can only track it from what it has read so far."""


def text_properties(text: str) -> dict[str, np.ndarray]:
    """Every property of :data:`PROPERTIES` for ``text``: name -> (T,) float64 signal."""
    return {name: signal(text) for name, (_, signal) in PROPERTIES.items()}


def _varies(centred: np.ndarray, norms: np.ndarray, axis: int) -> np.ndarray:
    """Which units (axis 0: columns) or signals (axis 1: rows) of a centred array vary: their norm
    exceeds round-off, 1e-12 * max(1, largest |entry|) * sqrt(number of steps)."""
    scale = max(1.0, float(np.abs(centred).max(initial=0.0)))
    return norms > 1e-12 * scale * np.sqrt(centred.shape[axis])


def correlations(states: np.ndarray, signals: np.ndarray) -> np.ndarray:
    """Pearson correlation of every signal with every unit: (P, H) from states (T, H), signals (P, T).

    NaN where the signal or the unit is constant over the T steps (its standard deviation is zero
    up to round-off), and everywhere when T < 2.
    """
    a = np.asarray(states, dtype=np.float64)           # (T, H)
    p = np.atleast_2d(np.asarray(signals, dtype=np.float64))  # (P, T)
    if a.shape[0] != p.shape[1]:
        raise ValueError(f"states have {a.shape[0]} steps, signals {p.shape[1]}")
    a = a - a.mean(axis=0)
    p = p - p.mean(axis=1, keepdims=True)
    a_norm = np.sqrt((a * a).sum(axis=0))               # (H,)
    p_norm = np.sqrt((p * p).sum(axis=1))               # (P,)
    r = np.full((p.shape[0], a.shape[1]), np.nan)       # (P, H)
    unit_ok, signal_ok = _varies(a, a_norm, 0), _varies(p, p_norm, 1)
    if a.shape[0] >= 2 and unit_ok.any() and signal_ok.any():
        cov = p[signal_ok] @ a[:, unit_ok]              # (P', H')
        r[np.ix_(signal_ok, unit_ok)] = cov / np.outer(p_norm[signal_ok], a_norm[unit_ok])
    return np.clip(r, -1.0, 1.0)


def why_unranked(signal: np.ndarray) -> str | None:
    """Why a property cannot rank units over this text, or None when it can.

    A constant signal correlates with nothing. A signal that climbs by exactly one per character
    (the position in the line of a one-line text) is the step number itself: any unit that
    drifts as the text goes on correlates with it, whatever the unit tracks.
    """
    signal = np.asarray(signal, dtype=np.float64)  # (T,)
    if signal.size < 2 or np.ptp(signal) == 0:
        return "constant in this text"
    if np.all(np.diff(signal) == 1):
        return "the step number itself in this text"
    return None


@dataclass(frozen=True)
class UnitScore:
    """One unit's correlation with one property over a text (``r`` signed, ranked by |r|)."""

    prop: str
    unit: int
    r: float


def best_units(states: np.ndarray, properties: dict[str, np.ndarray], k: int = 3
               ) -> dict[str, list[UnitScore]]:
    """The ``k`` units with the largest |r| for each property, best first.

    states (T, H); properties: name -> (T,) signal. A property that cannot rank units over this
    text (:func:`why_unranked`: no quote in it, say) gets an empty list.
    """
    names = [n for n in properties if why_unranked(properties[n]) is None]
    out: dict[str, list[UnitScore]] = {n: [] for n in properties}
    if not names:
        return out
    r = correlations(states, np.stack([properties[n] for n in names]))  # (P, H)
    for name, row in zip(names, r, strict=True):
        valid = np.flatnonzero(np.isfinite(row))
        order = valid[np.argsort(-np.abs(row[valid]), kind="stable")][:k]
        out[name] = [UnitScore(name, int(j), float(row[j])) for j in order]
    return out


STRUCTURE = ("inside quotes", "inside brackets", "position in word", "position in line")
"""The properties that need memory (Karpathy et al.'s quote and line-length cells), tried first
when a page picks one unit to show."""


def strongest_unit(states: np.ndarray, text: str, min_r: float = 0.5) -> UnitScore | None:
    """The one unit to show first for ``text``: the best unit of the :data:`STRUCTURE` property it
    tracks best, if |r| >= ``min_r``; else the best of any property; None when no property varies.

    states (T, H): one state per character (c or h).
    """
    best = {name: scores[0] for name, scores in best_units(states, text_properties(text), k=1).items()
            if scores}
    if not best:
        return None
    structural = [best[n] for n in STRUCTURE if n in best and abs(best[n].r) >= min_r]
    return max(structural or best.values(), key=lambda s: abs(s.r))
