"""Melodies: a notation to type them, and notes as tokens.

The notation (:func:`parse`) is a list of words separated by spaces or newlines:

    3/4  C4 q D4 q E4 h | r q G4 e. A4 s B4 h |

* a note is a pitch, then its duration: ``C4 q``. A pitch is a letter A-G, an optional ``#`` or
  ``b`` (``##``/``bb`` too) and an octave 0-8 (``C4`` is middle C, ``A4`` 440 Hz);
* ``r`` and a duration is a rest: ``r q``;
* durations: ``w`` whole, ``h`` half, ``q`` quarter, ``e`` eighth, ``s`` sixteenth; a dot makes
  one half as long again (``q.`` is 1.5 quarters), two dots three quarters again (``h..``);
* ``|`` is a bar line (optional). A time signature such as ``3/4`` or ``6/8`` may come before the
  first note (default 4/4): without bar lines, bars are counted from the first note by it.

A note is one token, pitch and duration together (``"C4 q"``, ``"r e."``): one step of the cell
per note, so the gates line up with the notes and the model predicts the next note whole. Pitches
are spelt one way (C C# D Eb E F F# G Ab A Bb B): ``Gb4`` and ``F#4`` are the same key and the
same token. A token the vocabulary lacks reads as the unknown token ``?``.

The models that read and continue melodies are in ``cells.models.melody``; the corpus (music21's
Essen folk songs) is read only by ``scripts/train_melody.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

DURATIONS = {"w": 4.0, "h": 2.0, "q": 1.0, "e": 0.5, "s": 0.25}
"""Duration letters -> length in quarter notes."""
DOTS = {"": 1.0, ".": 1.5, "..": 1.75}
PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
"""How a token spells each of the 12 pitch classes."""
REST = "r"
UNKNOWN_NOTE = "?"
"""The unknown token: a note whose pitch or duration the vocabulary lacks."""
MAX_PROBLEMS = 8
"""Most problems a parse lists one by one (the rest are counted)."""

_STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_PITCH = re.compile(r"([A-Ga-g])(##|bb|#|b)?([0-8])")
_DURATION = re.compile(r"([whqes])(\.{0,2})")
_GLUED = re.compile(r"([A-Ga-g](?:##|bb|#|b)?[0-8]|[rR])[:/]?([whqes]\.{0,2})")
_METER = re.compile(r"(\d{1,2})/(1|2|4|8|16)")
_BAR = {"|", "||", "|]", "[|", "|:", ":|", ":|:"}


def pitch_name(midi: int) -> str:
    """The token spelling of a MIDI pitch: 60 -> "C4", 70 -> "Bb4"."""
    return f"{PITCH_CLASSES[midi % 12]}{midi // 12 - 1}"


def duration_name(quarters: float) -> str | None:
    """The duration word of a length in quarters (1.5 -> "q."), or None when there is none."""
    for letter, base in DURATIONS.items():
        for dots, factor in DOTS.items():
            if abs(base * factor - quarters) < 1e-6:
                return letter + dots
    return None


def duration_quarters(word: str) -> float:
    """Length in quarters of a duration word ("e." -> 0.75); ValueError if it is not one."""
    m = _DURATION.fullmatch(word)
    if not m:
        raise ValueError(f"{word!r} is not a duration")
    return DURATIONS[m[1]] * DOTS[m[2]]


def note_token(midi: int | None, duration: str) -> str:
    """The token of a note (``midi`` None: a rest): "C4 q", "r e."."""
    return f"{REST if midi is None else pitch_name(midi)} {duration}"


@dataclass(frozen=True)
class Note:
    """One note or rest: ``midi`` (None for a rest), its duration word, where it was typed
    (1-based line and column; 0 for a generated note) and how it was spelt."""

    midi: int | None
    duration: str
    line: int = 0
    column: int = 0
    spelt: str = ""

    @property
    def quarters(self) -> float:
        return duration_quarters(self.duration)

    @property
    def token(self) -> str:
        return note_token(self.midi, self.duration)

    @property
    def label(self) -> str:
        """The note as typed (``Gb4 q`` stays ``Gb4 q``), for chart labels."""
        return f"{self.spelt or (REST if self.midi is None else pitch_name(self.midi))} {self.duration}"

    @classmethod
    def from_token(cls, token: str) -> Note:
        """The note of a token ("C4 q"); ValueError for the unknown token or a bad one."""
        pitch, _, duration = token.partition(" ")
        duration_quarters(duration)
        if pitch == REST:
            return cls(None, duration)
        midi = _midi(pitch)
        if midi is None:
            raise ValueError(f"{token!r} is not a note token")
        return cls(midi, duration)


def _midi(word: str) -> int | None:
    m = _PITCH.fullmatch(word)
    if not m:
        return None
    shift = {None: 0, "#": 1, "##": 2, "b": -1, "bb": -2}[m[2]]
    return 12 * (int(m[3]) + 1) + _STEPS[m[1].upper()] + shift


@dataclass(frozen=True)
class Problem:
    """A word of the notation that could not be read: where (1-based line and column) and why."""

    line: int
    column: int
    word: str
    message: str

    def __str__(self) -> str:
        word = self.word if len(self.word) <= 20 else self.word[:20] + "…"
        return f"line {self.line}, column {self.column}: {word!r} {self.message}"


class NotationError(ValueError):
    """The notation has problems (``.problems``, in order); the message lists the first ones."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(describe_problems(self.problems))


def describe_problems(problems: Sequence[Problem]) -> str:
    """One line per problem, the first :data:`MAX_PROBLEMS`, and how many more there are."""
    lines = [str(p) for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"... and {len(problems) - MAX_PROBLEMS} more")
    return "\n".join(lines)


@dataclass(frozen=True)
class Meter:
    """A time signature: ``beats``/``unit`` (6/8: six eighths)."""

    beats: int = 4
    unit: int = 4

    @property
    def bar_quarters(self) -> float:
        return self.beats * 4.0 / self.unit

    @property
    def beat_quarters(self) -> float:
        """One beat: a dotted quarter in compound time (6/8, 9/8, 12/8), else 4/unit quarters."""
        if self.unit == 8 and self.beats in (6, 9, 12):
            return 1.5
        return 4.0 / self.unit

    def __str__(self) -> str:
        return f"{self.beats}/{self.unit}"


@dataclass(frozen=True)
class Melody:
    """Notes read from the notation, where bars start, the time signature and any problems.

    ``bar_starts``: indices of the notes that start a bar after a typed ``|`` (``typed_bars``),
    else every bar counted from the first note by ``meter``.
    """

    notes: tuple[Note, ...] = ()
    meter: Meter = field(default_factory=Meter)
    typed_bars: bool = False
    bar_after: tuple[int, ...] = ()  # typed: the number of notes before each bar line
    problems: tuple[Problem, ...] = ()

    def __len__(self) -> int:
        return len(self.notes)

    @property
    def tokens(self) -> list[str]:
        return [n.token for n in self.notes]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(n.label for n in self.notes)

    @property
    def quarters(self) -> np.ndarray:
        """(T,) each note's length in quarters."""
        return np.array([n.quarters for n in self.notes], dtype=np.float64)

    @property
    def onsets(self) -> np.ndarray:
        """(T,) when each note starts, in quarters from the first."""
        q = self.quarters
        return np.concatenate([[0.0], np.cumsum(q)[:-1]]) if len(q) else q

    def positions(self) -> np.ndarray:
        """(T,) where each note starts in its bar, in quarters (0: on the bar line). Notes before
        the first typed bar line are a pickup: counted back from that line."""
        onsets = self.onsets
        bar = self.meter.bar_quarters
        if not self.typed_bars:
            return np.mod(onsets, bar)
        starts = sorted({i for i in self.bar_after if i < len(onsets)})
        if not starts:  # only a closing bar line
            return np.mod(onsets - (onsets[-1] + self.notes[-1].quarters if len(onsets) else 0), bar)
        pos = np.empty(len(onsets))
        first = onsets[starts[0]]
        pos[: starts[0]] = np.mod(onsets[: starts[0]] - first, bar)
        for k, s in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(onsets)
            pos[s:end] = onsets[s:end] - onsets[s]
        return pos

    @property
    def bar_starts(self) -> tuple[int, ...]:
        """Indices of the notes that start a bar (not the first note, unless after a typed |)."""
        if self.typed_bars:
            return tuple(sorted({i for i in self.bar_after if 0 < i < len(self.notes)}))
        pos = self.positions()
        return tuple(int(t) for t in np.flatnonzero(np.abs(pos) < 1e-6) if t > 0)

    def to_notation(self) -> str:
        """The melody written back in the notation (parses to the same tokens and bars)."""
        words = [] if self.meter == Meter() else [str(self.meter)]
        bars = set(self.bar_after) if self.typed_bars else set()
        for i, note in enumerate(self.notes):
            if i in bars and i > 0:
                words.append("|")
            words.append(note.token)
        if self.typed_bars and len(self.notes) in bars:
            words.append("|")
        return " ".join(words)


def melody_of(tokens: Iterable[str], meter: Meter | None = None) -> Melody:
    """A melody from note tokens (the unknown token and bad tokens are skipped), bars by ``meter``."""
    notes = []
    for tok in tokens:
        try:
            notes.append(Note.from_token(tok))
        except ValueError:
            continue
    return Melody(tuple(notes), meter or Meter())


def parse(text: str, *, strict: bool = True, max_notes: int | None = None) -> Melody:
    """The melody written in ``text`` (see the module docstring).

    ``strict``: any problem raises :class:`NotationError` listing where (line, column) and why.
    Otherwise the words that cannot be read are skipped and listed in ``Melody.problems``.
    ``max_notes`` stops reading after that many notes (the rest is not checked).
    """
    if not isinstance(text, str):
        raise TypeError("the notation is a str")
    reader = _NotationReader()
    for line_no, line in enumerate(text.splitlines() or [""], start=1):
        for m in re.finditer(r"\S+", line):
            if max_notes is not None and len(reader.notes) >= max_notes:
                break
            reader.read(m.group(), line_no, m.start() + 1)
    reader.flush_pending()
    problems = sorted(reader.problems, key=lambda p: (p.line, p.column))
    if strict and problems:
        raise NotationError(problems)
    return Melody(tuple(reader.notes), reader.meter, typed_bars=bool(reader.bars),
                  bar_after=tuple(reader.bars), problems=tuple(problems))


@dataclass
class _NotationReader:
    """:func:`parse`'s state, one word at a time: the notes and bar lines read, the time
    signature, a pitch or rest still awaiting its duration, and the problems found."""

    notes: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    bars: list[int] = field(default_factory=list)  # the number of notes before each bar line
    meter: Meter = field(default_factory=Meter)
    pending: tuple[int | None, str, int, int] | None = None  # (midi or None: a rest, word, line, col)
    after_bad: bool = False  # the last word was a bad note: a duration after it belongs to it

    def read(self, word: str, line: int, col: int) -> None:
        if self.after_bad and _DURATION.fullmatch(word):  # the bad note's duration: one problem
            self.after_bad = False
            return
        self.after_bad = False
        if self.pending is not None and _DURATION.fullmatch(word):
            midi, spelt, pline, pcol = self.pending
            self.notes.append(Note(midi, word, pline, pcol, "" if midi is None else spelt))
            self.pending = None
            return
        self.flush_pending()
        midi = _midi(word)
        if midi is not None and 0 <= midi <= 127:
            self.pending = (midi, word, line, col)
        elif midi is not None:
            self.problem(line, col, word, "is outside the MIDI range")
            self.after_bad = True
        elif word in (REST, "R"):
            self.pending = (None, word, line, col)
        elif word in _BAR:
            self.bars.append(len(self.notes))
        elif _METER.fullmatch(word):
            self.read_meter(word, line, col)
        else:
            self.after_bad = _is_unknown_word(word)
            self.problem(line, col, word, _why_not_read(word))

    def read_meter(self, word: str, line: int, col: int) -> None:
        if self.notes:
            self.problem(line, col, word, "is a time signature: it goes before the first note")
            return
        beats, unit = map(int, _METER.fullmatch(word).groups())
        if beats == 0:
            self.problem(line, col, word, "has no beats")
        else:
            self.meter = Meter(beats, unit)

    def flush_pending(self) -> None:
        """A pitch or rest with no duration after it is a problem."""
        if self.pending is not None:
            _, word, line, col = self.pending
            self.problem(line, col, word, "needs a duration after it (w h q e s, dots allowed: "
                         "C4 q, r e.)")
            self.pending = None

    def problem(self, line: int, col: int, word: str, message: str) -> None:
        self.problems.append(Problem(line, col, word, message))


def _is_unknown_word(word: str) -> bool:
    """A word that is no part of the notation at all (not a stray duration, a pitch glued to its
    duration or a bar line inside a word): a duration after it belongs to it."""
    return not (_DURATION.fullmatch(word) or _GLUED.fullmatch(word) or "|" in word)


def _why_not_read(word: str) -> str:
    """Why a word that is no pitch, rest, bar line or time signature cannot be read."""
    if _DURATION.fullmatch(word):
        return "is a duration with no pitch or rest before it (write C4 q, or r q for a rest)"
    glued = _GLUED.fullmatch(word)
    if glued:
        return f"needs a space between the pitch and the duration: {glued[1]} {glued[2]}"
    if "|" in word:
        return "has a bar line inside it: put spaces around |"
    return ("is not a pitch (a letter A-G, an optional # or b, an octave 0-8: C4 is middle C), a "
            "rest (r), a duration (w h q e s) or a bar line (|)")
