"""Rhythm signals of a melody: where each note sits in its bar, whether the next one falls on a
beat. What a unit that "keeps the beat" would track (``cells.science.interpret`` ranks units by
their correlation with these, as with the text properties).
"""

from __future__ import annotations

import numpy as np

from cells.music.notation import Melody

RHYTHM_PROPERTIES: dict[str, str] = {
    "position in bar (next note)": "where in the bar the next note starts, in quarters: what the "
                                   "cell must know to place it",
    "position in bar (this note)": "where in the bar this note starts, in quarters",
    "next note on a beat": "1 when the next note starts on a beat of the time signature",
    "next note starts a bar": "1 when the next note is the first of a bar",
    "note length": "this note's length in quarters (a unit copying its input would match it)",
    "is a rest": "1 for a rest",
}
"""name -> what it means. Each signal describes the melody after reading note t."""
BAR_POSITION = "position in bar (next note)"
"""The property of the "maintaining rhythm" unit."""


def rhythm_properties(melody: Melody) -> dict[str, np.ndarray]:
    """Every property of :data:`RHYTHM_PROPERTIES` for ``melody``: name -> (T,) float64 signal."""
    T = len(melody)
    pos = melody.positions()  # (T,)
    q = melody.quarters
    bar = melody.meter.bar_quarters
    nxt = np.empty(T)
    if T:
        nxt[:-1] = pos[1:]
        nxt[-1] = (pos[-1] + q[-1]) % bar if not melody.typed_bars or T - 1 not in melody.bar_after \
            else 0.0
    beat = melody.meter.beat_quarters
    on_beat = np.abs(nxt / beat - np.round(nxt / beat)) < 1e-6
    return {
        "position in bar (next note)": nxt,
        "position in bar (this note)": pos.astype(np.float64),
        "next note on a beat": on_beat.astype(np.float64),
        "next note starts a bar": (np.abs(nxt) < 1e-6).astype(np.float64),
        "note length": q,
        "is a rest": np.array([n.midi is None for n in melody.notes], dtype=np.float64),
    }
