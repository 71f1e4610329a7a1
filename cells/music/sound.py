"""Melodies as sound: a WAV file synthesised with NumPy and the standard library's ``wave``.

Each note is a sine and three overtones (amplitudes 1, 1/2, 1/4, 1/8; overtones above the Nyquist
frequency dropped) at the note's equal-tempered frequency, f = 440 · 2^((midi − 69)/12), under an
envelope: a 10 ms linear attack, an exponential decay (e^(−2t), t in seconds) and a 30 ms linear
release at the note's end, so repeated notes are heard apart. A rest is silence. Output: 16-bit
PCM, mono, :data:`SAMPLE_RATE` samples per second. Note k starts at sample round(onset_k · rate),
onsets in seconds at ``tempo`` quarter notes per minute, so the file lasts exactly the notes'
durations: round(sum of quarters · 60 / tempo · rate) samples.

What is rendered is bounded: at most :data:`MAX_NOTES` notes and :data:`MAX_SECONDS` seconds
(later notes are dropped, the last one is cut at the limit).
"""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000
"""Samples per second of the WAV files (16 kHz: overtones up to 8 kHz, 32 kB per second)."""
TEMPO = 100
"""Quarter notes per minute."""
MAX_NOTES = 200
"""Most notes one file plays."""
MAX_SECONDS = 60.0
"""Longest file, in seconds."""
AMPLITUDE = 0.3
"""Peak level of one note, as a fraction of full scale (the overtones included)."""
HARMONICS = (1.0, 0.5, 0.25, 0.125)
ATTACK, RELEASE, DECAY = 0.010, 0.030, 2.0


def frequency(midi: float) -> float:
    """Equal-tempered frequency in Hz of a MIDI pitch (69 = A4 = 440 Hz)."""
    return 440.0 * 2.0 ** ((midi - 69) / 12)


@dataclass(frozen=True)
class Sound:
    """A rendered melody: ``wav`` (the file's bytes), how many notes it plays, its length, and
    how many notes were left out by the limits."""

    wav: bytes
    notes: int
    seconds: float
    dropped: int
    cut: bool  # the last note played was cut at MAX_SECONDS

    @property
    def bounded(self) -> bool:
        return self.dropped > 0 or self.cut


def _tone(midi: int, n: int, rate: int) -> np.ndarray:
    """One note of ``n`` samples, peak about AMPLITUDE: overtones under the envelope, float64."""
    t = np.arange(n) / rate
    f = frequency(midi)
    wave_ = np.zeros(n)
    for k, a in enumerate(HARMONICS, start=1):
        if k * f < rate / 2:
            wave_ += a * np.sin(2 * np.pi * k * f * t)
    envelope = np.minimum(1.0, t / ATTACK) * np.exp(-DECAY * t)
    envelope *= np.clip((n - np.arange(n)) / (RELEASE * rate), 0.0, 1.0)
    return AMPLITUDE / sum(HARMONICS) * wave_ * envelope


def render(notes: Sequence[tuple[int | None, float]], *, tempo: float = TEMPO,
           rate: int = SAMPLE_RATE, max_notes: int = MAX_NOTES,
           max_seconds: float = MAX_SECONDS) -> tuple[np.ndarray, int, bool]:
    """Samples (N,) int16 of ``notes`` ((midi or None for a rest, length in quarters) each);
    returns (samples, notes played, whether the last was cut at ``max_seconds``)."""
    if tempo <= 0 or rate <= 0:
        raise ValueError("tempo and rate must be positive")
    notes = list(notes)[:max_notes]
    quarters = np.array([q for _, q in notes], dtype=np.float64)
    if np.any(~np.isfinite(quarters)) or np.any(quarters < 0):
        raise ValueError("note lengths must be finite and not negative")
    bounds = np.round(np.concatenate([[0.0], np.cumsum(quarters)]) * 60.0 / tempo * rate).astype(np.int64)
    limit = round(max_seconds * rate)
    played = int(np.searchsorted(bounds[:-1], limit, side="left")) if len(notes) else 0
    cut = played > 0 and bounds[played] > limit
    total = min(int(bounds[played]), limit)
    out = np.zeros(total)
    for (midi, _), start, end in zip(notes[:played], bounds[:played], bounds[1:played + 1], strict=True):
        end = min(int(end), total)
        if midi is not None and end > start:
            out[start:end] = _tone(midi, end - start, rate)
    return np.round(np.clip(out, -1.0, 1.0) * 32767).astype(np.int16), played, bool(cut)


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """A mono 16-bit PCM WAV file of ``samples`` (int16)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buf.getvalue()


def synthesize(notes: Sequence[tuple[int | None, float]], *, tempo: float = TEMPO,
               rate: int = SAMPLE_RATE, max_notes: int = MAX_NOTES,
               max_seconds: float = MAX_SECONDS) -> Sound:
    """``notes`` ((midi or None, quarters) each) as a WAV :class:`Sound`, within the limits."""
    samples, played, cut = render(notes, tempo=tempo, rate=rate, max_notes=max_notes,
                                  max_seconds=max_seconds)
    return Sound(wav_bytes(samples, rate), played, len(samples) / rate, len(notes) - played, cut)
