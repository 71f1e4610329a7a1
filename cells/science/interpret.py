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


# --------------------------------------------------------------------------- code

TAB_WIDTH = 4
"""Columns a tab counts for in the indentation of code (one indentation level is 4 columns)."""


@dataclass(frozen=True)
class CodeScan:
    """Python source scanned by :func:`scan_code`, one value per character c_t (after reading it).

    string: 1 inside a string literal, from its opening quote (included) to its closing quote
    (excluded), triple-quoted strings included; comment: 1 from a ``#`` outside strings (included)
    to the end of its line (the newline excluded); depth: brackets ``( [ {`` open in code (not in
    strings or comments); indent: the leading whitespace of c_t's line read so far, in
    indentation levels (columns / 4, a tab counting 4 columns).
    """

    string: np.ndarray
    comment: np.ndarray
    depth: np.ndarray
    indent: np.ndarray


def scan_code(text: str) -> CodeScan:
    """Scan Python source one character at a time, by hand: never fails, whatever the text (code
    cut anywhere, unclosed strings and brackets, stray closers, not Python at all).

    The rules are those of Python's tokenizer for what they track: a backslash escapes the next
    character in a string (raw strings too, as for their quotes); a single-quoted string that
    meets the end of its line ends there (unterminated); three quotes open a string that only the
    same three quotes close (the first two quotes of such an opening count as inside it); a stray
    closing bracket counts as 0 open brackets.
    """
    T = len(text)
    string, comment = np.zeros(T), np.zeros(T)
    depth, indent = np.zeros(T), np.zeros(T)
    state = "code"  # "code" | "string" | "comment"
    quote, triple, escaped, run = "", False, False, 0
    opened_at, empty_closed_at = -2, -2  # where the last string opened; where an empty one closed
    open_now, column, leading = 0, 0, True
    for t, ch in enumerate(text):
        if state == "comment":
            if ch == "\n":
                state = "code"
        elif state == "string":
            if escaped:
                escaped, run = False, 0
            elif ch == "\\":
                escaped, run = True, 0
            elif ch == quote:
                run += 1
                if not triple or run == 3:
                    state = "code"
                    if not triple and opened_at == t - 1:
                        empty_closed_at = t
            else:
                run = 0
                if ch == "\n" and not triple:
                    state = "code"
        elif ch == "#":
            state = "comment"
        elif ch in "'\"":
            triple = empty_closed_at == t - 1 and text[t - 1] == ch
            state, quote, escaped, run, opened_at = "string", ch, False, 0, t
            if triple:
                string[t - 1] = 1.0  # the second quote opened a triple-quoted string, not closed one
        elif ch in OPENING:
            open_now += 1
        elif ch in CLOSING:
            open_now = max(open_now - 1, 0)
        string[t] = state == "string"
        comment[t] = state == "comment"
        depth[t] = open_now
        if leading and ch in " \t":
            column += TAB_WIDTH if ch == "\t" else 1
        elif ch != "\n":
            leading = False
        indent[t] = column / TAB_WIDTH
        if ch == "\n":
            column, leading = 0, True
    return CodeScan(string, comment, depth, indent)


def code_properties(text: str) -> dict[str, np.ndarray]:
    """Every property of :data:`CODE_PROPERTIES` for ``text`` (one scan): name -> (T,) signal."""
    scan = scan_code(text)
    return {
        "inside a string": scan.string,
        "inside a comment": scan.comment,
        "inside brackets": (scan.depth > 0).astype(np.float64),
        "bracket depth": scan.depth,
        "indentation depth": scan.indent,
        "position in line": line_position(text),
    }


def _code_property(name: str) -> Callable[[str], np.ndarray]:
    return lambda text: code_properties(text)[name]


CODE_PROPERTIES: dict[str, tuple[str, Callable[[str], np.ndarray]]] = {
    name: (means, _code_property(name)) for name, means in (
        ("inside a string", "between a string's opening quote(s) and its closing one(s)"),
        ("inside a comment", "from a # outside strings to the end of its line"),
        ("inside brackets", "while a ( [ or { is open in the code (not in strings or comments)"),
        ("bracket depth", "how many ( [ { are open in the code"),
        ("indentation depth", "the line's leading whitespace, in levels of 4 columns"),
        ("position in line", "the column: characters since the last newline"),
    )
}
"""Properties of Python source, from :func:`scan_code` (name -> (what it means, text -> (T,)))."""

PROPERTY_SETS: dict[str, dict[str, tuple[str, Callable[[str], np.ndarray]]]] = {
    "prose": PROPERTIES, "code": CODE_PROPERTIES,
}
"""The properties ranked for each kind of text: English prose or Python code."""


def text_properties(text: str, kind: str = "prose") -> dict[str, np.ndarray]:
    """Every property of ``kind``'s set (:data:`PROPERTY_SETS`: "prose", the default, or "code")
    for ``text``: name -> (T,) float64 signal."""
    if kind == "code":
        return code_properties(text)
    return {name: signal(text) for name, (_, signal) in PROPERTY_SETS[kind].items()}


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
