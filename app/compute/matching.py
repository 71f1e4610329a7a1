"""The Match page's work (LSTMVis's select and match): the units a span of the box selects, and
everywhere else in a corpus they switch on.

    view = matching.match_view(key, seq, Query(...), corpus)   # one call per run of the page

A model searches text it never trained on: the held-out part of its own corpus
(``cells.io.corpora``: the fortunes for the English models, the standard library for the code
models, the Essen melodies for the melody models), or the visitor's own corpus (a ``.txt`` uploaded
in the sidebar: :func:`read_own_corpus`). A corpus is read as the page reads the box: in pieces of
at most ``MAX_CHARS`` tokens, each from a zero state, so a match loaded into the box reads exactly
as it did in the corpus.

A corpus's states are read once per server process and model (``cells.models.batch.read_many``,
with a progress bar) and kept as float16: at most :data:`MAX_CORPUS_VALUES` values each (96 MiB; a
wider model reads fewer pieces, and the page says how many), :data:`CORPUS_ENTRIES` corpora at
once (at most 288 MiB). The held-out fortunes read by a 128-unit model take 30 MiB (121,230 rows,
about 4 s to read here), the held-out standard library 82 MiB (335,104 rows, about 9 s). One corpus
is read at a time on the server: a second visitor asking for the same one waits for it instead of
reading it again. (A store of its own, not a cached function with ``max_entries``: the reading
draws a progress bar, which a cached function could not replay.)
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import streamlit as st

import cells
from app.compute import models
from app.compute.lru import LRUMap
from app.view.sequence import MAX_CHARS, Prepared, token_label
from app.view.state import MAX_THRESHOLD, ViewState
from cells.io import corpora
from cells.models.batch import ManyStates, read_many
from cells.music.notation import UNKNOWN_NOTE, Meter, melody_of
from cells.science import match

KIND_MODES = {"prose": ("text", ""), "code": ("text", "code"), "melody": ("notes", "")}
"""kind -> (the sequence mode, the shipped models' corpus for ``models.resolve``)."""

KIND_LABELS = {"prose": "English prose", "code": "Python code", "melody": "melodies"}

MAX_CORPUS_VALUES = 48 * 2**20
"""Most states kept of one corpus reading (units x steps; as float16, 96 MB)."""

CORPUS_ENTRIES = 3
"""Corpus readings kept at once (each at most :data:`MAX_CORPUS_VALUES` values)."""

MAX_OWN_CORPUS_MB = 1
"""Largest corpus a visitor may upload, in MB of text."""

CONTEXT = 40
"""Tokens of the corpus shown before and after each match."""

SHOWN_UNITS = 8
"""Selected units drawn on the chart of the span (all are matched)."""


def mode_of(kind: str) -> str:
    """The sequence mode a kind reads: "text" or "notes"."""
    return KIND_MODES.get(kind, KIND_MODES["prose"])[0]


def resolve(kind: str, arch: str, model: str, seed: int = 0) -> models.ModelKey:
    """The key of the model that reads ``kind`` (its shipped one, random weights or the upload)."""
    mode, corpus = KIND_MODES.get(kind, KIND_MODES["prose"])
    return models.resolve(arch, model, mode, seed=seed, corpus=corpus)


# --------------------------------------------------------------------------- corpora


@dataclass(frozen=True, eq=False)
class Corpus:
    """What a model searches: ``pieces``, each read from a zero state (texts, or tuples of note
    tokens), named for the page; ``meters``: each melody piece's time signature ("3/4")."""

    name: str
    digest: str  # what the corpus readings are kept under
    pieces: tuple[Any, ...]
    meters: tuple[str, ...] = ()

    def box_text(self, piece: int) -> str:
        """What the sequence box holds to read piece ``piece`` as the corpus did."""
        if not self.meters:
            return self.pieces[piece]
        return melody_of(self.pieces[piece], _meter(self.meters[piece])).to_notation()


def _meter(text: str) -> Meter:
    found = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{1,2})\s*", text or "")
    return Meter(int(found[1]), int(found[2])) if found and int(found[1]) and int(found[2]) else Meter()


def _text_pieces(documents: Sequence[str]) -> list[str]:
    return [piece for document in documents for piece in corpora.pieces(document, MAX_CHARS)]


def held_out_pieces(kind: str) -> list[Any] | str:
    """The held-out part of ``kind``'s training corpus, in the pieces the models read; or, when
    it is not on this server, a sentence that says so."""
    found = _held_out(kind)
    return found if isinstance(found, str) else [piece for piece, _meter_text in found]


def _held_out(kind: str) -> list[tuple[Any, str]] | str:
    """(piece, meter) of the held-out corpus of ``kind`` (a text's meter is ""), or why not."""
    if kind == "code":
        files = corpora.code_split(corpora.stdlib_directory())[1]
        return [(p, "") for p in _text_pieces([corpora.read_code(f) for f in files])]
    if kind == "melody":
        if not corpora.essen_available():
            return MELODIES_MISSING
        melodies = []
        for song in corpora.melody_split(corpora.read_essen())[1]:  # minutes the first time: a parse
            tokens = tuple(t for t in corpora.song_tokens(song) if t != UNKNOWN_NOTE)  # the box's notes
            melodies += [(tuple(piece), song.get("meter", "")) for piece in corpora.pieces(tokens, MAX_CHARS)]
        return melodies
    directory = corpora.find_fortunes()
    if directory is None:
        return FORTUNES_MISSING
    return [(p, "") for p in _text_pieces(corpora.fortune_paragraphs(directory)[1])]


FORTUNES_MISSING = (
    "Debian's fortunes, the English models' corpus, are not installed on this server (looked in "
    f"{' and '.join(map(str, corpora.FORTUNE_DIRS))}; apt-get install fortunes), so their held-out "
    "part cannot be searched here. Upload your own corpus (a .txt file) in the sidebar to search it."
)

MELODIES_MISSING = (
    "The Essen folk songs, the melody models' corpus, come with music21, which is not installed on "
    "this server (pip install music21, a training-time dependency), and no parsed copy of them is "
    f"at {corpora.ESSEN_CACHE}: their held-out part cannot be searched here."
)

CORPUS_NAMES = {
    "prose": "the held-out fortunes (every 20th fortune, never trained on)",
    "code": "the held-out standard library (every 20th file, never trained on)",
    "melody": "the held-out Essen melodies (every 10th, never trained on)",
}


@st.cache_resource(max_entries=3, show_spinner=False)
def shipped_corpus(kind: str) -> Corpus | str:
    """The held-out corpus of ``kind`` (cached: one per kind), or why it is not on this server.
    The melodies are parsed with music21 the first time on a machine (minutes), then read from
    their cache."""
    found = _held_out(kind)
    if isinstance(found, str):
        return found
    pieces, meters = zip(*found, strict=True) if found else ((), ())
    return Corpus(CORPUS_NAMES.get(kind, kind), f"{kind}-{_digest(pieces)}", tuple(pieces),
                  tuple(meters) if kind == "melody" else ())


def _digest(pieces: Sequence[Any]) -> str:
    """What a corpus's readings are kept under: its content's (a file changed on the server, or
    another corpus of the same kind, is another corpus)."""
    content = hashlib.sha256()
    for piece in pieces:
        content.update((piece if isinstance(piece, str) else " ".join(piece)).encode("utf-8", "replace"))
        content.update(b"\0")
    return content.hexdigest()[:16]


def read_own_corpus(data: bytes) -> Corpus:
    """A visitor's corpus: UTF-8 text of at most :data:`MAX_OWN_CORPUS_MB` MB, one piece per
    paragraph (split at blank lines; a long one cut into pieces of ``MAX_CHARS``). A
    ``ValueError`` says why a file is refused."""
    if len(data) > MAX_OWN_CORPUS_MB * 2**20:
        raise ValueError(f"the file has {len(data):,} bytes, more than the limit of "
                         f"{MAX_OWN_CORPUS_MB * 2**20:,} ({MAX_OWN_CORPUS_MB} MB of text)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the file is not UTF-8 text (byte {exc.start:,} is not)") from exc
    if "\x00" in text:
        raise ValueError("the file holds NUL characters: it is not a text file")
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    pieces = tuple(_text_pieces([p for p in paragraphs if p.strip()]))
    if not pieces:
        raise ValueError("the file holds no text")
    return Corpus(f"your corpus ({len(pieces):,} pieces, {sum(map(len, pieces)):,} characters)",
                  f"own-{_digest(pieces)}", pieces)


# --------------------------------------------------------------------------- a corpus's states


@dataclass(frozen=True, eq=False)
class Searched:
    """A corpus read by a model: the states of its first ``read`` pieces (``many``: rows of
    piece p from ``many.starts[p]``, a NaN row after each), their tokens' labels, and the sign the
    states are read with (-: negated, so that "on" is at or below minus the threshold)."""

    corpus: Corpus
    many: ManyStates
    read: int
    labels: tuple[tuple[str, ...], ...]  # (pieces read,) each piece's token labels

    @property
    def steps(self) -> int:
        return int(self.many.lengths.sum())

    def piece_of(self, row: int) -> int:
        return int(np.searchsorted(self.many.starts, row, side="right")) - 1


@dataclass
class _Store:
    """The corpus readings kept on this server, and the lock one reading at a time holds."""

    entries: LRUMap = field(default_factory=lambda: LRUMap(CORPUS_ENTRIES))
    lock: threading.Lock = field(default_factory=threading.Lock)


@st.cache_resource(show_spinner=False)
def _store() -> _Store:
    return _Store()


def top_layers(cell: Any, layers: Sequence[int]) -> tuple[int, ...]:
    """The chosen layers of a stack, bottom first (none chosen, or none valid: the top one)."""
    count = getattr(cell, "num_layers", 1)
    valid = tuple(sorted({k for k in layers if 0 <= k < count}))
    return valid or (count - 1,)


def shown_label(token: str) -> str:
    """A token as a line of text shows it: a space as itself, a newline, tab or control character
    as its visible label (``token_label``)."""
    return token if token == " " else token_label(token)


def _budget(lengths: np.ndarray, units: int) -> int:
    """How many pieces, from the first, fit :data:`MAX_CORPUS_VALUES` (each with its separator)."""
    rows = np.cumsum(lengths + 1)
    return int(np.searchsorted(rows, MAX_CORPUS_VALUES // max(units, 1), side="right"))


def _read(reader: cells.Reader, corpus: Corpus, layers: tuple[int, ...], state: str) -> Searched:
    tokens = [reader.tokens_of(piece) for piece in corpus.pieces]
    read = _budget(np.array([len(t) for t in tokens]), len(layers) * reader.cell.hidden_size)
    bar = st.progress(0.0, text=f"Reading {corpus.name} with the model, once on this server...")
    try:
        many = read_many(reader, corpus.pieces[:read], layers=layers, state=state,
                         progress=lambda done: bar.progress(min(done, 1.0)))
    finally:
        bar.empty()
    labels = tuple(tuple(map(shown_label, t)) for t in tokens[:read])
    return Searched(corpus, many, read, labels)


def corpus_states(key: models.ModelKey, corpus: Corpus, layers: tuple[int, ...], state: str,
                  sign: str) -> Searched:
    """``corpus`` read by the model ``key`` names (its ``layers``' ``state``, side by side; with
    ``sign`` "-" negated), kept on the server (:data:`CORPUS_ENTRIES`)."""
    store = _store()
    wanted = (key, corpus.digest, layers, state, sign)
    found = store.entries.get(wanted)
    if found is not None:
        return found
    with store.lock:  # one reading at a time; a visitor who waited finds it read
        found = store.entries.get(wanted)
        if found is None:
            plus = store.entries.get((*wanted[:4], "+"))
            if plus is None:
                plus = _read(models.load(key).reader, corpus, layers, state)
                store.entries.put((*wanted[:4], "+"), plus)
            found = plus
            if sign == "-":
                negated = ManyStates(np.negative(plus.many.states), plus.many.starts, plus.many.lengths)
                found = Searched(corpus, negated, plus.read, plus.labels)
                store.entries.put(wanted, found)
    return found


# --------------------------------------------------------------------------- select and match


@dataclass(frozen=True)
class Query:
    """What the page asks: the span [start, end) of the box's tokens, the threshold, the state
    (h or c), the sign ("+": on at or above the threshold; "-": at or below minus it) and a
    stack's layers, searched side by side."""

    span: tuple[int, int]
    threshold: float = match.THRESHOLD
    state: str = "h"
    sign: str = "+"
    layers: tuple[int, ...] = ()


@dataclass(frozen=True)
class Row:
    """One match as the page lists it: the corpus around it (``before``, ``matched``, ``after``:
    visible token labels), its counts, and where it is (piece, [start, end) in the piece)."""

    rank: int
    before: str
    matched: str
    after: str
    length: int
    on: int
    others: int
    piece: int
    start: int
    end: int


@dataclass(frozen=True, eq=False)
class MatchView:
    """Everything the Match page draws.

    ``values`` (T, U): the box's states of the chosen layers, as read (not signed); ``signed``: 1
    or -1, what they are multiplied by before the threshold test. ``units``: what ``span``
    selects; ``hint``: what would select something when nothing is. ``searched``: the corpus
    read (None without a selection or a corpus), ``matches`` its best runs, ``full_lengths`` the
    lengths of every run where all the units are on, ``reach``: the most the selected units reach
    (signed) anywhere in it.
    """

    labels: tuple[str, ...]  # (T,) the box's tokens' visible labels (charts)
    shown: tuple[str, ...]  # (T,) the same, a space as itself (lines of text)
    values: np.ndarray
    unit_names: tuple[str, ...]
    span: tuple[int, int]
    threshold: float
    signed: int
    units: np.ndarray
    hint: match.SelectionHint | None = None
    searched: Searched | None = None
    matches: tuple[Row, ...] = ()
    full_lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    reach: float = float("nan")
    joiner: str = ""  # what joins the labels of consecutive tokens: "" for characters, " " for words

    @property
    def length(self) -> int:
        return len(self.labels)

    def on_count(self) -> np.ndarray:
        """(T,) how many of the selected units are on at each token of the box."""
        return match.at_least(self.signed * self.values[:, self.units], self.threshold).sum(axis=1)

    def text_of(self, span: tuple[int, int]) -> str:
        """The box's tokens [start, end) as a line of text."""
        return self.joiner.join(self.shown[span[0]:span[1]])


def box_reading(key: models.ModelKey, seq: Prepared, layers: Sequence[int]) -> models.Reading:
    """The box read by the model ``key`` names (the first of the chosen layers; every layer reads
    the same tokens): its labels and states, for the widgets drawn before the search."""
    loaded = models.load(key)
    stacked = getattr(loaded.cell, "num_layers", 1) > 1
    return models.read(key, seq, top_layers(loaded.cell, layers)[0] if stacked else -1)


def threshold_limit(reading: models.Reading, state: str) -> float:
    """The largest threshold worth offering: 1 for h (it lies in [-1, 1]), the box's largest |c|
    (rounded up, at most the URL's limit) for c."""
    values = reading.rows.get(state)
    if state != "c" or values is None or values.size == 0:
        return 1.0
    return float(min(max(1.0, np.ceil(np.nanmax(np.abs(values)))), MAX_THRESHOLD))


def clamp_span(span: tuple[int, int], T: int) -> tuple[int, int]:
    """``span`` moved inside T >= 1 tokens: at least one token, [0, T)."""
    start = min(max(int(span[0]), 0), T - 1)
    return start, min(max(int(span[1]), start + 1), T)


def unit_names(layers: tuple[int, ...], hidden: int, stacked: bool) -> tuple[str, ...]:
    """A name for each of the len(layers) x ``hidden`` units searched side by side."""
    if not stacked:
        return tuple(f"unit {j}" for j in range(hidden))
    return tuple(f"layer {k} unit {j}" for k in layers for j in range(hidden))


def _row(searched: Searched, rank: int, found: cells.Match, joiner: str) -> Row:
    piece = searched.piece_of(found.start)
    start = found.start - int(searched.many.starts[piece])
    end = start + found.length
    labels = searched.labels[piece]
    before = joiner.join(labels[max(start - CONTEXT, 0):start])
    return Row(rank, before, joiner.join(labels[start:end]), joiner.join(labels[end:end + CONTEXT]),
               found.length, found.on, found.others, piece, start, end)


def match_view(key: models.ModelKey, seq: Prepared, query: Query, corpus: Corpus | None) -> MatchView:
    """The box read by the model ``key`` names, the units ``query.span`` selects, and their
    matches in ``corpus`` (None: none to search)."""
    loaded = models.load(key)
    layers = top_layers(loaded.cell, query.layers)
    stacked = getattr(loaded.cell, "num_layers", 1) > 1
    readings = [models.read(key, seq, k if stacked else -1) for k in layers]
    state = query.state if query.state in readings[0].rows else "h"
    values = np.hstack([r.rows[state] for r in readings])  # (T, U)
    signed = -1 if query.sign == "-" else 1
    labels = readings[0].labels
    shown = tuple(map(shown_label, seq.text)) if loaded.reader.per_character else labels
    common = {"labels": labels, "shown": shown, "values": values, "threshold": query.threshold,
              "unit_names": unit_names(layers, loaded.cell.hidden_size, stacked), "signed": signed,
              "joiner": "" if loaded.reader.per_character else " "}
    if values.shape[0] == 0:
        return MatchView(span=(0, 0), units=np.zeros(0, dtype=np.intp), **common)
    span = clamp_span(query.span, values.shape[0])
    units = cells.select_units(signed * values, *span, query.threshold)
    if len(units) == 0:
        hint = match.selection_hint(signed * values, *span, query.threshold, lowest=0.0,
                                    highest=threshold_limit(readings[0], state))
        return MatchView(span=span, units=units, hint=hint, **common)
    if corpus is None:
        return MatchView(span=span, units=units, **common)
    searched = corpus_states(key, corpus, layers, state, query.sign)
    states = searched.many.states
    found = cells.match_spans(states, units, query.threshold)
    reach = float(np.nanmax(states[:, units].astype(np.float32))) if searched.steps else float("nan")
    rows = tuple(_row(searched, rank, m, common["joiner"]) for rank, m in enumerate(found, 1))
    return MatchView(span=span, units=units, searched=searched, matches=rows, reach=reach,
                     full_lengths=match.full_run_lengths(states, units, query.threshold), **common)


# --------------------------------------------------------------------------- links


def unit_query(values: np.ndarray, unit: int, prefer: str = "+") -> tuple[tuple[int, int], str] | None:
    """The span that selects ``unit`` of ``values`` (T, H) where it is on longest, at LSTMVis's
    threshold, and the sign it is on with (``prefer`` first, then the other); None if it is on
    at neither +0.3 nor -0.3 anywhere."""
    for sign in (prefer, "-" if prefer == "+" else "+"):
        span = match.strongest_span((-1 if sign == "-" else 1) * np.asarray(values), unit)
        if span is not None:
            return span, sign
    return None


def loaded_box(view: MatchView, row: Row) -> tuple[str, tuple[int, int]]:
    """What the box holds to read ``row``'s piece of the corpus again (exactly as the corpus was
    read: from a zero state), and the match's span in it."""
    return view.searched.corpus.box_text(row.piece), (row.start, row.end)



def match_url(view: ViewState, values: np.ndarray, unit: int, r: float, state: str, kind: str,
              layer: int = -1) -> str | None:
    """A link to the Match page with ``unit`` of ``values`` (T, H: the box's ``state``) selected on
    the span where it is on longest (:func:`unit_query`; a unit that tracks something with a
    negative r is tried as on below minus the threshold first), the rest of ``view`` kept; None
    when it is on nowhere at ±0.3."""
    found = unit_query(values, unit, "-" if r < 0 else "+")
    if found is None:
        return None
    span, sign = found
    return replace(view, page="match", kind=kind, span=span, sign=sign, state=state,
                   threshold=match.THRESHOLD, layers=(layer,) if layer >= 0 else ()).url()
