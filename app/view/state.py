"""The view state: everything a shared URL has to carry, in one place.

Like TensorFlow Playground's ``state.ts`` (which keeps the whole view in the URL hash), one small
dataclass, :class:`ViewState`, names every knob of a view. It is read from and written to the URL's
query parameters only here:

* :meth:`ViewState.from_query` turns query parameters (strings, possibly hand-edited garbage) into a
  valid state. It never raises: a value that does not parse, or is out of range, falls back to the
  field's default.
* :meth:`ViewState.to_query` gives the parameters back as ``dict[str, str]``, leaving out fields
  that equal their defaults so shared URLs stay short.
* :func:`sync` writes a state to ``st.query_params`` (any mutable mapping).

The field names double as the ``st.session_state`` keys of the widgets that edit them (``seq`` is
the sequence text box on every page, as the README's "The app's rules" require).
:meth:`ViewState.from_session` reads the widgets' values with the same tolerant parsing.
Everything here is pure and testable without Streamlit (``app.widgets.page`` passes it the URL).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlencode

from cells.core.registry import ARCHS
from cells.music.tunes import DEFAULT_TUNE, TUNES

DEFAULT_TEXT = "The cat sat on the mat, and then it said: \"I'm not moving (ever) again.\""
"""The default English sentence: words, punctuation, a quote and brackets the gates can track."""

DEFAULT_SPAN = (DEFAULT_TEXT.index('"') + 1, DEFAULT_TEXT.rindex('"'))
"""The Match page's default span: the inside of the default sentence's quotation (token indices,
end exclusive): "I'm not moving (ever) again." without its quotes."""

DEFAULT_CODE = (
    "def greet(name):\n"
    '    print("Nice to see you, " + name + "!")  # (a greeting)\n'
    "    return len(name)\n"
)
"""The Match page's default Python code: a string, brackets and a comment."""

DEFAULT_SERIES = ", ".join(f"{math.sin(2 * math.pi * t / 12):.2f}" for t in range(36))
"""The default numbers-mode series: three periods of a sine wave, comma-separated."""

DEFAULT_MELODY = TUNES[DEFAULT_TUNE]
"""The music page's default melody (in ``cells.music.notation``'s notation)."""

MODES = ("text", "numbers")

CORPORA = ("prose", "code")
"""What the shipped text models learnt: English prose (the fortunes: "lstm", ...) or Python source
code ("lstm-code", ...). A page's corpus choice picks the shipped models (``app.compute.models``) and, on
Cells, the properties ranked (``cells.science.interpret.PROPERTY_SETS``)."""

KINDS = ("prose", "code", "melody")
"""What the Match page reads and searches: English prose, Python code, melodies (the shipped models
of each kind, and the held-out part of their corpus)."""

_CODE_STRING = DEFAULT_CODE.index('"') + 1  # where the string's inside starts

KIND_DEFAULTS = {
    "prose": (DEFAULT_TEXT, DEFAULT_SPAN),
    "code": (DEFAULT_CODE, (_CODE_STRING, DEFAULT_CODE.index('"', _CODE_STRING))),
    "melody": (DEFAULT_MELODY, (0, 4)),
}
"""Each kind's default sequence and span on the Match page: the inside of the sentence's quotation,
of the code's string, the melody's first bar."""

STATES = ("h", "c")
"""The states a unit's activation is read from on the Match page: hidden state h, cell state c."""

SIGNS = ("+", "-")
"""When a unit counts as on, on the Match page: at or above the threshold (+), at or below minus
the threshold (-: a unit that switches the other way)."""

MAX_THRESHOLD = 100.0
"""Largest threshold accepted (a cell state c is unbounded; h lies in [-1, 1]); the smallest is 0."""

LAB_CELLS = ("lstm", "gru", "rnn", "lstm-nfg", "lstm-noaf", "lstm-cifg", "mgu")
"""The cells the Lab page compares when the view names none (``cells``)."""

MAX_WRITE = 400
"""Most characters a model writes on the Write page."""

MAX_QUERY_SEQ = 20_000
"""Longest ``seq`` accepted from a URL; the pages cut further (see ``app.widgets.page.MAX_CHARS``)."""

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def _choice(options: tuple[str, ...]) -> Any:
    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in options:
            raise ValueError(text)
        return text

    return parse


def _bounded(kind: type, lo: float, hi: float) -> Any:
    def parse(value: Any) -> int | float:
        number = kind(float(value)) if kind is int else kind(value)
        if not (math.isfinite(number) and lo <= number <= hi):
            raise ValueError(value)
        return number

    return parse


def _name(value: Any) -> str:
    text = str(value).strip().lower()
    if not _NAME.fullmatch(text):
        raise ValueError(text)
    return text


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise ValueError(text)
    return text in ("true", "1")


def _cells(value: Any) -> tuple[str, ...]:
    """Registered cell names, from "lstm,gru" (a URL) or a list (the Lab's multiselect); any name
    that is not a registered cell makes the whole value invalid."""
    names = value.split(",") if isinstance(value, str) else list(value)
    picked = tuple(dict.fromkeys(str(n).strip().lower() for n in names if str(n).strip()))
    if any(n not in ARCHS for n in picked):
        raise ValueError(value)
    return picked


def _span(value: Any) -> tuple[int, int]:
    """Token indices (start, end), end exclusive, from "12-20" (a URL) or a pair (the range slider)."""
    parts = value.split("-") if isinstance(value, str) else list(value)
    if len(parts) != 2:
        raise ValueError(value)
    start, end = (int(str(p).strip()) for p in parts)
    if not 0 <= start < end <= MAX_QUERY_SEQ:
        raise ValueError(value)
    return start, end


def _layers(value: Any) -> tuple[int, ...]:
    """Layer indices of a stack, from "0,1" (a URL) or a list (a multiselect); () is the top one."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    picked = tuple(sorted({int(str(p).strip()) for p in parts if str(p).strip()}))
    if any(not 0 <= k < 64 for k in picked):
        raise ValueError(value)
    return picked


def _seq(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value[:MAX_QUERY_SEQ]


_PARSERS: dict[str, Any] = {
    "seq": _seq,
    "mode": _choice(MODES),
    "arch": _choice(ARCHS),  # every registered cell
    "model": _name,
    "step": _bounded(int, 0, 10**6),
    "hidden": _bounded(int, 1, 512),
    "radius": _bounded(float, 0.0, 4.0),
    "forget_bias": _bounded(float, -5.0, 5.0),
    "length": _bounded(int, 1, 20_000),
    "seed": _bounded(int, 0, 2**31 - 1),
    "unit": _bounded(int, -1, 4095),
    "layer": _bounded(int, -1, 63),
    "direction": _bounded(int, 0, 1),
    "trained_on": _name,
    "horizon": _bounded(int, 1, 100),
    "corpus": _choice(CORPORA),
    "temperature": _bounded(float, 0.0, 2.0),
    "greedy": _flag,
    "chars": _bounded(int, 1, MAX_WRITE),
    "sample_seed": _bounded(int, 0, 2**31 - 1),
    "write_unit": _bounded(int, -1, 4095),
    "melody": _seq,
    "cells": _cells,
    "doc": _name,
    "kind": _choice(KINDS),
    "span": _span,
    "threshold": _bounded(float, 0.0, MAX_THRESHOLD),
    "state": _choice(STATES),
    "sign": _choice(SIGNS),
    "layers": _layers,
}

_LISTS = frozenset({"cells", "span", "layers"})
"""Fields whose value is a list (a multiselect's): a list is the value, not repeated parameters."""


@dataclass(frozen=True)
class ViewState:
    """One view of gatescope: what is typed, which model reads it, which knobs are set.

    ``page`` is the page's url_path (``""`` is the home page, Gates); it is the URL's path, not a
    query parameter, so :meth:`to_query` leaves it out and :meth:`url` puts it in front.
    """

    seq: str = DEFAULT_TEXT
    mode: str = "text"  # "text": characters into a char model; "numbers": a 1-D series
    arch: str = "lstm"  # the cell on single-cell pages: a registered name
    model: str = "trained"  # which weights; app.compute.models knows the names, unknown ones fall back
    step: int = 0  # the scrubbed token, 0-based
    hidden: int = 32  # hidden size of the freshly initialised cells (Gradients page)
    radius: float = 1.0  # spectral radius of the recurrent weights (Gradients page)
    forget_bias: float = 1.0  # LSTM forget-gate bias (Gradients page)
    length: int = 100  # input length (Gradients page)
    seed: int = 0  # seed of random weights
    unit: int = -1  # the unit whose equations the scrubber shows; -1: the most active one
    layer: int = -1  # the layer of a stacked model the pages show; -1: the top one
    direction: int = 0  # a bidirectional model's direction the pages show: 0 forward, 1 backward
    trained_on: str = "series"  # numbers mode: what the trained model learnt (models.NUMBERS_CORPORA)
    horizon: int = 5  # numbers mode: how many steps ahead the forecast looks
    corpus: str = "prose"  # what the shipped text models learnt (Cells, Write): "prose" or "code"
    temperature: float = 0.8  # Write, Melodies: sampling temperature (0: greedy)
    greedy: bool = False  # Write: always the likeliest character (temperature 0)
    chars: int = 200  # Write: characters written
    sample_seed: int = 0  # Write, Melodies: the seed of the sampling
    write_unit: int = -1  # Write: the unit colouring the text; -1: each model's most active one
    melody: str = DEFAULT_MELODY  # the music page's notation box (cells.music.notation)
    cells: tuple[str, ...] = LAB_CELLS  # Lab: the cells compared, registered names
    doc: str = "pages"  # Guide: the document of docs/ shown (app.compute.docs)
    kind: str = "prose"  # Match: what is read and searched ("prose", "code", "melody")
    span: tuple[int, int] = DEFAULT_SPAN  # Match: the selected tokens [start, end)
    threshold: float = 0.3  # Match: a unit is on at a step when its state is at least this (LSTMVis's)
    state: str = "h"  # Match: the state read, h or c
    sign: str = "+"  # Match: on at or above the threshold (+), or at or below minus it (-)
    layers: tuple[int, ...] = ()  # Match: a stack's layers searched at once; () the top one
    page: str = ""  # url_path of the page; "" is Gates (home)

    @classmethod
    def from_query(cls, params: Mapping[str, Any], page: str = "") -> ViewState:
        """The state that ``params`` describe; bad or missing values become defaults. Never raises."""
        return cls(page=page if isinstance(page, str) else "", **_parse_known(params))

    @classmethod
    def from_session(cls, session: Mapping[str, Any], base: ViewState | None = None) -> ViewState:
        """``base`` (defaults if None) updated with the widget values found in ``session``.

        Same tolerant parsing as :meth:`from_query`: a widget key holding a bad value is ignored.
        """
        return replace(base or cls(), **_parse_known(session))

    def to_query(self) -> dict[str, str]:
        """Query parameters for this state, fields equal to their defaults left out."""
        default = ViewState()
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "page" or value == getattr(default, f.name):
                continue
            out[f.name] = _format(f.name, value)
        return out

    def url(self) -> str:
        """A relative URL that opens this view: ``page?query`` (``./?query`` for the home page)."""
        query = urlencode(self.to_query())
        path = self.page or "./"
        return f"{path}?{query}" if query else path


def _parse_known(params: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``params`` that parse; everything else (missing, garbage) is left out."""
    values: dict[str, Any] = {}
    for key, parse in _PARSERS.items():
        try:
            raw = params[key]
        except Exception:  # missing key, or a mapping that fails: the default it is
            continue
        if isinstance(raw, list | tuple) and key not in _LISTS:  # repeated: the last one wins
            raw = raw[-1] if raw else None
        try:
            values[key] = parse(raw)
        except (TypeError, ValueError, OverflowError):
            continue
    return values


def _format(name: str, value: Any) -> str:
    if name == "span":
        return f"{value[0]}-{value[1]}"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    return str(value)


def sync(state: ViewState, params: MutableMapping[str, str]) -> None:
    """Write ``state`` to ``params`` (the page's ``st.query_params``), replacing what was there.

    Only keys that change are touched, so an unchanged view does not rewrite the URL.
    """
    wanted = state.to_query()
    for key in [k for k in params if k in _PARSERS and k not in wanted]:
        del params[key]
    for key, value in wanted.items():
        if params.get(key) != value:
            params[key] = value
