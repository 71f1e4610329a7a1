"""The music page's model-free parts: the melody box read into notes, its sound, its rhythm.

The notation is parsed by ``cells.music.notation`` (leniently: unreadable words are skipped and listed),
the sound synthesised by ``cells.music.sound``; both are cached here. Models come from ``app.compute.models``
(mode ``"notes"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import streamlit as st

from app.view.sequence import Prepared
from cells.music import sound
from cells.music.notation import Melody, melody_of, parse
from cells.music.rhythm import rhythm_properties
from cells.science import interpret

MAX_NOTES = 400
"""Most notes the page reads from the box; later ones are cut (the page says so)."""
CONTINUE_NOTES = 16
"""Notes each model adds to the melody."""


@dataclass(frozen=True, eq=False)
class ReadMelody:
    """The box's melody: ``prepared.text`` is its canonical notation (what the models read, and
    the caches' key), ``melody`` the notes, ``problems`` what could not be read, ``cut`` whether
    notes past :data:`MAX_NOTES` were left out."""

    prepared: Prepared
    melody: Melody
    cut: bool


def read_melody(raw: object) -> ReadMelody:
    """The melody box's content read into notes; never raises."""
    raw = raw if isinstance(raw, str) else ""
    melody = parse(raw, strict=False, max_notes=MAX_NOTES + 1)
    cut = len(melody) > MAX_NOTES
    if cut:
        bars = tuple(b for b in melody.bar_after if b <= MAX_NOTES)
        melody = Melody(melody.notes[:MAX_NOTES], melody.meter, melody.typed_bars and bool(bars), bars,
                        melody.problems)
    text = melody.to_notation()
    return ReadMelody(Prepared("notes", text=text, labels=melody.labels), melody, cut)


@st.cache_data(max_entries=32, show_spinner=False)
def _sound(notes: tuple[tuple[int | None, float], ...]) -> sound.Sound:
    return sound.synthesize(notes)


def melody_sound(melody: Melody) -> sound.Sound:
    """The melody as a WAV (``cells.music.sound``, bounded), cached."""
    return _sound(tuple((n.midi, n.quarters) for n in melody.notes))


def tokens_sound(tokens: Sequence[str]) -> sound.Sound:
    """Note tokens (a model's continuation) as a WAV, cached."""
    return melody_sound(melody_of(tokens))


@st.cache_data(max_entries=32, show_spinner=False)
def _ranking(text: str, states: np.ndarray) -> tuple[dict, dict]:
    melody = parse(text)
    props = rhythm_properties(melody)
    return props, interpret.best_units(states, props, k=3)


def rank_rhythm_units(read: ReadMelody, states: np.ndarray) -> tuple[dict[str, np.ndarray], dict]:
    """The rhythm properties of the melody and the best units of ``states`` (T, H) for each
    (``cells.science.interpret.best_units``), cached."""
    return _ranking(read.prepared.text, np.ascontiguousarray(states))
