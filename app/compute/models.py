"""The one place pages get models from: a view resolves to a :class:`ModelKey`, a key loads a
:class:`Loaded` reader, and a reader's reading of a sequence is cached as a :class:`Reading`.

    key = models.resolve(arch, model, mode)      # the view (and this visitor's upload) -> a key
    loaded = models.load(key)                    # a cells.Reader and what it is, cached
    reading = models.read(key, prepared)         # the whole reading, cached (all units)
    shown = reading.shown(pin)                   # the units a chart shows, chosen outside the cache

A key is frozen and small (a NamedTuple): the shipped model of a cell (``"trained"``), seeded
random weights (``"random"``, with their knobs), or this visitor's upload (``"upload"``, named by
its file's digest; the reader itself lives in the session, see ``app.compute.upload``). Every cache in
the app is keyed by it, so one model is read one way on every page.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import streamlit as st

import cells
from app.compute import upload
from app.compute.lru import LRUMap
from app.view.sequence import Prepared, token_label
from app.view.state import CORPORA
from cells.core.cell import Cell
from cells.core.diagnostics import SATURATED_ABOVE, SATURATED_BELOW
from cells.models.charmodel import DEFAULT_VOCAB
from cells.models.encoders import CharEncoder, NumberEncoder
from cells.models.melody import MelodyModel
from cells.models.reader import Reader, state_after
from cells.science.decisions import Decision, decide

BASELINES = ("rnn", "lstm", "gru")
"""The cells gatescope ships trained models of, in the order comparison pages show them."""

RANDOM_HIDDEN = 64
"""Hidden size of random-weight models on the single-cell pages (trained ones have their own)."""

RANDOM_SCHEME = (
    "seeded random weights: every weight and bias uniform on (-1/√H, 1/√H), PyTorch's default "
    "scale, forget-gate bias 1"
)

CORPUS_LABELS = {"prose": "English prose", "code": "Python code"}

MODEL_LABELS = {"trained": "trained", "random": "random weights"}

CLASSIFIER = "topics"
"""The ``model`` choice of the shipped topic classifiers (``<arch>-topics``: which fortune
collection a text is from, scripts/train_topics.py), and their corpus."""


def model_labels(mode: str) -> dict[str, str]:
    """The shipped weights a page in ``mode`` offers: the trained models, in text mode the topic
    classifiers too, and random weights."""
    if mode != "text":
        return dict(MODEL_LABELS)
    return {"trained": "trained", CLASSIFIER: "trained topic classifier", "random": "random weights"}

SHOW_UNITS = 32
"""Charts show at most this many hidden units: the ones whose h varies most over the sequence."""

TOP_GUESSES = 5
"""How many next-character guesses each step keeps."""

READ_ENTRIES = 16
"""Readings the cache keeps (each at most ~6 MB: 6 float32 (T, H) arrays at T = 2,000, H = 128)."""

RESUME_EVERY = 64
"""A text's reading keeps the model's state after every RESUME_EVERY characters: the next text
that begins the same way (an edit mostly changes the end) is read on from there."""

RESUME_ENTRIES = 8
"""Readings kept to read on from (:data:`RESUME_EVERY`), besides the cache's copies."""


class ModelKey(NamedTuple):
    """Which model reads a sequence: the key of every model cache."""

    source: str  # "trained" | "random" | "upload"
    arch: str  # a registered cell name (an upload: its own)
    mode: str  # "text" | "numbers" | "notes" (melodies, cells.melody)
    seed: int = 0  # random weights
    hidden: int = RANDOM_HIDDEN  # random weights
    radius: float | None = None  # random weights: spectral radius of each W_hh block, or PyTorch's
    forget_bias: float = 1.0  # random weights
    digest: str = ""  # upload: the file's digest
    corpus: str = ""  # trained: what the shipped model learnt ("" is the mode's default corpus)

    @property
    def cell(self) -> type[Cell]:
        """The cell class: its gates, states and equations."""
        return cells.cell_class(self.arch)


def chosen_upload(model: str, mode: str) -> upload.Uploaded | None:
    """This visitor's upload when ``model`` names it and it reads ``mode``; else None."""
    up = upload.current()
    return up if up is not None and model == up.key and up.mode == mode else None


def aligned(reader: Reader) -> bool:
    """True when ``reader`` reads one token per character or value, as the shipped models do, so
    its steps line up with theirs on the pages that compare cells."""
    return reader.mode == "numbers" or reader.per_character


def resolve(arch: str, model: str, mode: str, *, seed: int = 0, hidden: int = RANDOM_HIDDEN,
            radius: float | None = None, forget_bias: float = 1.0, corpus: str = "",
            same_kind: bool = False) -> ModelKey:
    """The key of the model a page reads with: ``model`` is "trained", "random" or the upload's
    name (``upload.Uploaded.key``). The upload is read when it is this visitor's, it reads
    ``mode`` and (``same_kind``, on pages that compare cells token by token with the shipped
    character models) it is an ``arch`` reading one character per token; otherwise an upload's
    name falls back to the trained model. Unknown names fall back to "trained"."""
    up = chosen_upload(model, mode)
    if up is not None and (not same_kind or (up.arch == arch and aligned(up.reader))):
        return ModelKey("upload", up.arch, mode, digest=up.digest)
    if arch not in cells.CELLS:
        arch = BASELINES[1]
    if model == "random":
        return ModelKey("random", arch, mode, seed, hidden, radius, forget_bias)
    if model == CLASSIFIER and mode == "text":
        return ModelKey("trained", arch, mode, corpus=CLASSIFIER)
    if mode == "text" and corpus == CORPORA[0]:  # prose is the text models' default: one key
        corpus = ""
    corpus = "" if corpus == DEFAULT_CORPUS.get(mode, "") else corpus  # one key per shipped model
    return ModelKey("trained", arch, mode, corpus=corpus)


def resolve_each(archs: Iterable[str], model: str, mode: str, **knobs) -> dict[str, ModelKey]:
    """display name -> key for each of ``archs`` (see :func:`resolve` with ``same_kind``); a
    chosen upload of another kind is added at the end."""
    keys = {cells.cell_class(a).display_name: resolve(a, model, mode, same_kind=True, **knobs)
            for a in archs}
    up = chosen_upload(model, mode)
    if up is not None and up.arch not in archs and aligned(up.reader):
        keys[f"{up.reader.cell.display_name} (yours)"] = resolve(up.arch, model, mode)
    return keys


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True, eq=False)
class Loaded:
    """A reader and what the page says about it.

    ``trained``: weights learnt from data (shipped or uploaded). ``problem``: why the shipped
    weights asked for are not shown (a file that could not be read: the page warns), or "".
    ``note``: a plain remark (say, no trained model of this cell is shipped).
    """

    reader: Reader
    description: str
    trained: bool
    problem: str = ""
    note: str = ""

    @property
    def cell(self) -> Cell:
        return self.reader.cell


DEFAULT_CORPUS = {"text": "", "numbers": "series", "notes": "melody"}
"""What the shipped models of each mode learnt when a page names no corpus: English prose (the
fortunes), noisy sines, folk melodies (the Essen collection)."""

NUMBERS_CORPORA = {"series": "noisy sines", "sunspots": "yearly sunspots, 1700-1958"}
"""What the shipped numbers models learnt: corpus -> label (``<arch>-<corpus>.npz``)."""


def shipped_name(arch: str, mode: str, corpus: str = "") -> str:
    """The ``cells.pretrained`` name of the shipped ``arch`` model for ``mode`` and ``corpus``:
    "lstm", "lstm-series", "lstm-code", ..."""
    corpus = corpus or DEFAULT_CORPUS.get(mode, "")
    return f"{arch}-{corpus}" if corpus else arch


def _random(key: ModelKey) -> Reader:
    if key.mode == "notes":
        return MelodyModel.untrained(key.arch, key.hidden, key.seed, forget_bias=key.forget_bias,
                                     recurrent_radius=key.radius)
    encoder = CharEncoder(DEFAULT_VOCAB) if key.mode == "text" else NumberEncoder()
    return Reader.untrained(key.arch, encoder, key.hidden, seed=key.seed,
                            forget_bias=key.forget_bias, recurrent_radius=key.radius)


def _random_description(key: ModelKey) -> str:
    radius = "" if key.radius is None else f", W_hh spectral radius {key.radius:g}"
    return (f"{key.cell.display_name}, {key.hidden} units, {RANDOM_SCHEME} (forget bias "
            f"{key.forget_bias:g}{radius}), seed {key.seed}")


def _trained_description(reader: Reader) -> str:
    """What a shipped model is, from its file's meta: size, corpus, held-out figures."""
    meta = reader.meta
    text = f"{reader.cell.display_name}, {reader.cell.hidden_size} units, trained by gatescope on "
    text += str(meta.get("trained_on", "a corpus described in the README"))
    if "heldout_prose_bpc" in meta:
        text += f"; {meta['heldout_prose_bpc']} bits/char on held-out English prose"
    if "heldout_code_bpc" in meta:
        text += f"; {meta['heldout_code_bpc']} bits/char on held-out Python files"
    if "test_mse" in meta:
        text += f"; test MSE {meta['test_mse']}"
    if "heldout" in meta:
        text += f"; the last {meta['heldout']} values never trained on"
    if "heldout_accuracy" in meta:
        text += (f"; it names the topic of {meta['heldout_accuracy']:.0%} of held-out fortunes "
                 f"(a bag of characters: {meta.get('baseline_heldout_accuracy', float('nan')):.0%})")
    if "heldout_loglik_per_note" in meta:
        text += (f"; held-out log-likelihood {meta['heldout_loglik_per_note']:.3f} nats per note "
                 f"(bigram baseline {meta.get('bigram_loglik_per_note', float('nan')):.3f})")
    return text


@st.cache_resource(max_entries=24, show_spinner=False)
def _load_shipped_or_random(key: ModelKey) -> Loaded:
    if key.source == "random":
        return Loaded(_random(key), _random_description(key), trained=False)
    name = shipped_name(key.arch, key.mode, key.corpus)
    fallback = key._replace(source="random", seed=0, hidden=RANDOM_HIDDEN)

    def random_instead(problem: str = "", note: str = "") -> Loaded:
        return Loaded(_random(fallback), _random_description(fallback), False, problem, note)

    if name not in cells.available_pretrained():
        if key.arch in BASELINES:  # shipped with gatescope: its absence is a broken install
            return random_instead(problem=f"The trained {key.cell.display_name} is missing: no file "
                                  f"{name}.npz in cells/weights_data. These are random weights, "
                                  "not a trained model.")
        return random_instead(note=f"gatescope ships no trained {key.cell.display_name} for "
                              f"{key.mode}: these are random weights.")
    try:
        reader = cells.pretrained(name)
    except (ValueError, OSError) as exc:
        return random_instead(problem=f"The trained {key.cell.display_name} could not be loaded "
                              f"({exc}). These are random weights, not a trained model.")
    return Loaded(reader, _trained_description(reader), trained=True)


def load(key: ModelKey) -> Loaded:
    """The model ``key`` names: the upload from this visitor's session, else a cached shipped or
    random reader. A shipped model that cannot be loaded gives random weights and says so
    (:attr:`Loaded.problem`)."""
    if key.source == "upload":
        up = upload.current()
        if up is not None and up.digest == key.digest:
            return Loaded(up.reader, up.description, trained=True)
        key = key._replace(source="trained", digest="")  # the upload was cleared meanwhile
    return _load_shipped_or_random(key)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, eq=False)
class Shown:
    """The units a chart shows (``units``, most active first, a pinned one on top) and every row
    (gates in display order, then c, then h) cut to them: (T, U) float32 each."""

    units: np.ndarray  # (U,) int
    rows: dict[str, np.ndarray]
    pinned: bool  # units[0] is the pinned unit

    @property
    def h(self) -> np.ndarray:
        return self.rows["h"]


@dataclass(frozen=True, eq=False)
class Reading:
    """One sequence read by one model, everything the pages draw: every unit, float32.

    ``cell`` is the cell's class (its gates, roles, states and equations); ``rows`` are the
    gates in the cell's display order, then c (a cell with a cell state) and h, each (T, H), in
    the sequence's order (a bidirectional model's backward direction too: row t is its state after
    reading from the end back to token t). A projected LSTM's h row is each unit's o·tanh(c),
    before the projection; ``projected`` is h itself, (T, P). ``saturation`` covers all units:
    gate -> (left (H,), right (H,)).
    """

    cell: type[Cell]
    hidden_size: int
    layer: int  # the layer shown (0 for a single cell; a stack's layers count from the input)
    num_layers: int
    labels: tuple[str, ...]  # (T,) a visible label per token the model read
    rows: dict[str, np.ndarray]
    unknown: np.ndarray  # (T,) bool: tokens the model does not know
    unknown_chars: tuple[str, ...]
    guesses: tuple[tuple[tuple[str, float], ...], ...]  # (T, k) (visible label, p); () without
    saturation: dict[str, tuple[np.ndarray, np.ndarray]]
    direction: int = 0  # the direction shown: 0 forward, 1 backward (a bidirectional model's)
    directions: int = 1  # 2 for a bidirectional model
    projected: np.ndarray | None = None  # (T, P) a projected LSTM's h

    @property
    def backward(self) -> bool:
        """True when the rows are a backward direction's, which read the sequence from its end."""
        return self.direction == 1

    @property
    def where(self) -> str:
        """", layer k of L" for a stacked model and, for a bidirectional one, its direction
        (", backward direction ← ..."); nothing for a single cell."""
        name = f", layer {self.layer} of {self.num_layers}" if self.num_layers > 1 else ""
        if self.directions == 2:
            name += (", backward direction ← (reads from the last token back to the first)" if self.backward
                     else ", forward direction →")
        return name

    def in_reading_order(self, rows: dict[str, np.ndarray], labels: Sequence[str]
                         ) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
        """``rows`` (T, ·) and ``labels`` in the order the shown direction read them: reversed for
        a backward direction (its step 0 is the last token), as they are otherwise."""
        if not self.backward:
            return rows, tuple(labels)
        return {name: a[::-1] for name, a in rows.items()}, tuple(labels[::-1])

    @property
    def h(self) -> np.ndarray:
        return self.rows["h"]

    @property
    def length(self) -> int:
        return self.h.shape[0]

    def shown(self, pin: int = -1, k: int = SHOW_UNITS) -> Shown:
        """The ``k`` units whose h varies most (``pin`` first when it is a unit), in
        :func:`by_peak` order so that units active at the same time sit together."""
        units = by_peak(self.h, most_active_units(self.h, k, pin), pinned=0 <= pin < self.hidden_size)
        return Shown(units, {name: a[:, units] for name, a in self.rows.items()},
                     pinned=0 <= pin < self.hidden_size)


def most_active_units(h: np.ndarray, k: int = SHOW_UNITS, pin: int = -1) -> np.ndarray:
    """Indices of the ``k`` units whose h (T, H) has the largest standard deviation over time.

    ``pin``, a unit index (-1: none), is shown in any case, first: an experiment's carrier unit
    can vary little and still be the one to watch (see app/experiments.py).
    """
    order = np.argsort(-h.std(axis=0), kind="stable")  # (H,)
    if 0 <= pin < h.shape[1]:
        order = np.r_[pin, order[order != pin]]
    return order[:k]


def by_peak(h: np.ndarray, units: np.ndarray, pinned: bool = False) -> np.ndarray:
    """``units`` sorted by the step where each one's h (T, H) departs most from its own mean over
    the text, so that units that fire together sit together and a diagonal shows the reading
    order; a pinned first unit stays first."""
    head, rest = (units[:1], units[1:]) if pinned else (units[:0], units)
    deviation = np.abs(h[:, rest] - h[:, rest].mean(axis=0))  # (T, U)
    return np.r_[head, rest[np.argsort(np.argmax(deviation, axis=0), kind="stable")]].astype(int)


def guesses_of(tokens: Sequence[str], probs: np.ndarray) -> tuple[tuple[tuple[str, float], ...], ...]:
    """The :data:`TOP_GUESSES` likeliest next tokens (visible labels) after every step of
    ``probs`` (T, V), ``tokens`` naming the V outputs: one sort of the whole array."""
    labels = [token_label(tok) for tok in tokens]  # (V,)
    top = np.argsort(-probs, axis=1, kind="stable")[:, :TOP_GUESSES]  # (T, k)
    return tuple(
        tuple((labels[i], float(p)) for i, p in zip(ids, row[ids], strict=True))
        for ids, row in zip(top, probs, strict=True)
    )


def trace_rows(cell: Cell, trace: cells.Trace) -> dict[str, np.ndarray]:
    """What the pages draw and export of a trace, by name: the cell's gates in display order, then
    c (a cell with a cell state) and h; (T, [B,] H) each, views of the trace. A projected LSTM's h
    row is each unit's o·tanh(c), before the projection (its h has P numbers, not one per unit)."""
    gates = trace.gates
    rows = {g.name: gates[g.name] for g in cell.gates}
    if trace.c is not None:
        rows["c"] = trace.c
    rows["h"] = trace._public(trace.extra["m"]) if cell.projected else trace.h
    return rows


def shown_trace(trace: cells.Trace | cells.BidirectionalTrace, layer: int, direction: int
                ) -> tuple[cells.Trace, int, int, int]:
    """The trace of one layer (-1 or out of range: the top) and, for a bidirectional model, one
    direction, in the sequence's order: (trace, layer, num_layers, directions)."""
    if isinstance(trace, cells.BidirectionalTrace):
        L = trace.num_layers
        layer = layer if 0 <= layer < L else L - 1
        return trace.aligned(layer, direction), layer, L, 2
    layers = getattr(trace, "layers", (trace,))
    layer = layer if 0 <= layer < len(layers) else len(layers) - 1
    return layers[layer], layer, len(layers), 1


@dataclass(frozen=True, eq=False)
class Resumable:
    """A text's reading and what reading on from inside it takes: after every
    :data:`RESUME_EVERY` characters (block k ends at character (k + 1) * RESUME_EVERY), the
    model's state (``cells.models.reader.state_after``) and, per sigmoid gate, how many steps so far
    each unit spent saturated low and high (the reading's saturation, counted)."""

    text: str
    reading: Reading
    states: tuple[tuple[np.ndarray, np.ndarray | None], ...]
    saturated: tuple[dict[str, tuple[np.ndarray, np.ndarray]], ...]
    reader: weakref.ref  # the reader that read it: only its own readings are read on from

    def start_for(self, text: str, reader: Reader) -> int:
        """How many of ``text``'s characters this reading has read for ``reader`` (whole blocks
        of the common beginning, leaving at least one character to read): 0 if none."""
        if self.reader() is not reader:
            return 0
        n = min(len(self.text), len(text))
        same = next((k for k in range(n) if self.text[k] != text[k]), n)
        return min(min(same, len(text) - 1) // RESUME_EVERY, len(self.states)) * RESUME_EVERY


def _saturated_counts(cell: Cell, trace: cells.Trace, ends: Iterable[int]) -> list[dict]:
    """For each t in ``ends``: gate -> (steps saturated low, steps saturated high) per unit over
    the first t steps of ``trace`` (``cells.gate_saturation``, counted instead of averaged)."""
    counts = {g: (np.cumsum(trace.gates[g] < SATURATED_BELOW, axis=0),
                  np.cumsum(trace.gates[g] > SATURATED_ABOVE, axis=0))
              for g in cell.sigmoid_gates}  # (T, H) each
    return [{g: (below[t - 1], above[t - 1]) for g, (below, above) in counts.items()} for t in ends]


def _added(a: dict, b: dict) -> dict:
    """Two :func:`_saturated_counts` entries summed: the counts over both stretches of steps."""
    return {g: (a[g][0] + b[g][0], a[g][1] + b[g][1]) for g in a}


def reading_of(loaded: Loaded, sequence: str | np.ndarray, layer: int = -1,
               start: tuple[int, Resumable] | None = None, direction: int = 0
               ) -> tuple[Reading, Resumable | None]:
    """Read ``sequence`` with ``loaded``'s reader (uncached; see :func:`read`); ``layer`` picks a
    stack's layer (-1 or out of range: the top one), ``direction`` a bidirectional model's (0
    forward, 1 backward).

    ``start`` = (n, resumable): the first n characters of a text are ones ``resumable`` read
    (:meth:`Resumable.start_for`); only the rest is read, from the model's state after them, and
    the reading is the same as from the start. Returns the reading and, for a text a character
    model reads, what a next text can start from (else None).
    """
    reader, cell = loaded.reader, loaded.reader.cell
    begin, before = start if start is not None else (0, None)
    blocks = begin // RESUME_EVERY
    h0, c0 = before.states[blocks - 1] if before else (None, None)
    read = reader.read(sequence[begin:], h0, c0)  # what comes after the first ``begin`` tokens
    trace = read.trace
    directions = 2 if isinstance(trace, cells.BidirectionalTrace) else 1
    direction = direction if directions == 2 and direction in (0, 1) else 0
    shown, layer, num_layers, _ = shown_trace(trace, layer, direction)
    rows = {name: a.astype(np.float32) for name, a in trace_rows(cell, shown).items()}
    unknown = np.asarray(read.unknown, bool)
    guesses = () if read.probs is None else guesses_of(reader.encoder.tokens, read.probs)
    T = begin + len(unknown)
    ends = range(begin + RESUME_EVERY, T + 1, RESUME_EVERY)  # the new blocks' ends, in the text
    *counts, total = _saturated_counts(cell, shown, [t - begin for t in [*ends, T]])
    if before is not None:  # the first ``begin`` steps are the earlier reading's
        done, so_far = before.reading, before.saturated[blocks - 1]
        rows = {name: np.concatenate([done.rows[name][:begin], a]) for name, a in rows.items()}
        unknown = np.concatenate([done.unknown[:begin], unknown])
        guesses = done.guesses[:begin] + guesses
        counts, total = [_added(so_far, c) for c in counts], _added(so_far, total)
    if reader.mode in ("text", "notes"):
        tokens = reader.tokens_of(sequence)
        labels = tuple(map(token_label, tokens))
        unknown_chars = tuple(dict.fromkeys(t for t, u in zip(tokens, unknown, strict=True) if u))
    else:
        labels, unknown_chars = tuple(f"{v:.3g}" for v in np.asarray(sequence)), ()
    reading = Reading(
        cell=cell.cell_class if hasattr(cell, "cell_class") else type(cell),
        hidden_size=cell.hidden_size,
        layer=layer,
        num_layers=num_layers,
        labels=labels,
        rows=rows,  # (T, H) each
        unknown=unknown,
        unknown_chars=unknown_chars,
        guesses=guesses,
        saturation={g: (below / T, above / T) for g, (below, above) in total.items()},
        direction=direction,
        directions=directions,
        projected=shown.h.astype(np.float32) if cell.projected else None,
    )
    if not (reader.mode == "text" and reader.per_character) or directions == 2:
        return reading, None  # a bidirectional model reads the whole text again: no state to read on from
    states = (*(before.states[:blocks] if before else ()),
              *(state_after(trace, t - begin - 1) for t in ends))
    saturated = (*(before.saturated[:blocks] if before else ()), *counts)
    return reading, Resumable(sequence, reading, states, saturated, weakref.ref(reader))


@st.cache_resource(show_spinner=False)
def _resumables() -> LRUMap[tuple[ModelKey, int, str], Resumable]:
    return LRUMap(RESUME_ENTRIES)


@st.cache_data(max_entries=READ_ENTRIES, show_spinner=False)
def _read(key: ModelKey, text: str, values: np.ndarray, layer: int, direction: int,
          _loaded: Loaded) -> Reading:
    """The reading of a sequence by the model ``key`` names (``_loaded``, not hashed, is it).

    A text is read on from the kept reading (:data:`RESUME_ENTRIES`) of this model and layer that
    shares the longest beginning with it, if one shares a :data:`RESUME_EVERY` characters."""
    if key.mode == "numbers":
        return reading_of(_loaded, values, layer, direction=direction)[0]
    store = _resumables()
    starts = [(r.start_for(text, _loaded.reader), r) for (k, lay, _), r in store.items()
              if (k, lay) == (key, layer)]
    start = max(starts, key=lambda s: s[0], default=(0, None))
    reading, resumable = reading_of(_loaded, text, layer, start if start[0] else None, direction)
    if resumable is not None:
        store.put((key, layer, text), resumable)
    return reading


def read(key: ModelKey, seq: Prepared, layer: int = -1, direction: int = 0) -> Reading:
    """``seq`` read by the model ``key`` names, cached per key, sequence, layer (a stack's; -1:
    the top one) and direction (a bidirectional model's: 0 forward, 1 backward)."""
    return _read(key, "" if key.mode == "numbers" else seq.text, seq.values, layer, direction, load(key))


@st.cache_data(max_entries=16, show_spinner=False)
def _decision(key: ModelKey, text: str, _loaded: Loaded) -> Decision:
    return decide(_loaded.reader, text)


def decision(key: ModelKey, seq: Prepared) -> Decision | None:
    """How the classifier ``key`` names decides on ``seq`` (``cells.science.decisions.decide``),
    cached; None for a model that is not a classifier or a text of no tokens."""
    loaded = load(key)
    if not loaded.reader.classifies or key.mode != "text" or not loaded.reader.tokens_of(seq.text):
        return None
    return _decision(key, seq.text, loaded)


@st.cache_data(max_entries=64, show_spinner=False)
def _continuation(key: ModelKey, tokens: tuple[str, ...], n: int, temperature: float, seed: int,
                  _loaded: Loaded) -> tuple[str, ...]:
    return tuple(_loaded.reader.continue_melody(list(tokens), n, temperature=temperature, seed=seed))


def continuation(key: ModelKey, tokens: Sequence[str], n: int, *, temperature: float,
                 seed: int) -> tuple[str, ...]:
    """``n`` note tokens the melody model ``key`` names draws after ``tokens`` (cached per key,
    melody, length, temperature and seed; ``MelodyModel.continue_melody``)."""
    return _continuation(key, tuple(tokens), n, float(temperature), int(seed), load(key))


@st.cache_data(max_entries=16, ttl=300, show_spinner=False)
def _step_seconds(key: ModelKey, tokens: int, _loaded: Loaded) -> dict[str, float]:
    return cells.seconds_per_token(_loaded.cell, tokens)


def step_seconds(key: ModelKey, tokens: int = 200) -> dict[str, float]:
    """:func:`cells.seconds_per_token` of the model ``key`` names on this server, re-measured
    every 5 minutes."""
    return _step_seconds(key, tokens, load(key))
