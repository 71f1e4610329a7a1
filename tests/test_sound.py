"""cells.sound: the WAV is a valid file of exactly the notes' length, rests are silence, and the
limits hold."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from cells.music import sound
from cells.music.notation import parse
from cells.music.tunes import TUNES


def read_wav(data: bytes) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getparams(), np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def test_the_header_says_16_bit_mono_at_the_sample_rate():
    s = sound.synthesize([(60, 1.0)])
    assert s.wav[:4] == b"RIFF" and s.wav[8:16] == b"WAVEfmt "
    params, _ = read_wav(s.wav)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, sound.SAMPLE_RATE)
    assert params.comptype == "NONE"


@pytest.mark.parametrize(("tempo", "rate"), [(sound.TEMPO, sound.SAMPLE_RATE), (90, 8000), (137, 22050)])
def test_the_length_is_the_notes_durations_times_the_rate(tempo, rate):
    m = parse(TUNES["Greensleeves (3/4)"])
    s = sound.synthesize([(n.midi, n.quarters) for n in m.notes], tempo=tempo, rate=rate)
    params, samples = read_wav(s.wav)
    expected = round(m.quarters.sum() * 60 / tempo * rate)
    assert params.nframes == len(samples) == expected
    assert params.framerate == rate
    assert s.seconds == pytest.approx(expected / rate)


def test_each_note_sounds_in_its_own_slot_at_its_pitch():
    rate = sound.SAMPLE_RATE
    samples, played, cut = sound.render([(69, 1.0), (None, 1.0), (81, 1.0)], tempo=60, rate=rate)
    assert played == 3 and not cut
    first, rest, third = samples[:rate], samples[rate:2 * rate], samples[2 * rate:]
    assert np.abs(first).max() > 1000 and np.abs(third).max() > 1000
    assert not rest.any()
    for part, f in ((first, 440), (third, 880)):
        spectrum = np.abs(np.fft.rfft(part.astype(float)))
        assert abs(np.argmax(spectrum) * rate / len(part) - f) < 3  # the fundamental is loudest
    assert np.abs(samples).max() <= 32767 * sound.AMPLITUDE + 1


def test_only_rests_give_silence_of_the_right_length():
    s = sound.synthesize([(None, 1.0), (None, 0.5), (None, 2.0)])
    _params, samples = read_wav(s.wav)
    assert len(samples) == round(3.5 * 60 / sound.TEMPO * sound.SAMPLE_RATE)
    assert not samples.any()


def test_an_empty_melody_is_a_valid_empty_file():
    params, samples = read_wav(sound.synthesize([]).wav)
    assert params.nframes == 0 and samples.size == 0


def test_the_limits_drop_notes_and_cut_at_the_longest_file():
    many = [(60, 0.25)] * (sound.MAX_NOTES + 50)
    s = sound.synthesize(many)
    assert s.notes == sound.MAX_NOTES and s.dropped == 50 and s.bounded
    long = [(60, 6.0)] * 40  # 40 dotted whole notes of 3.6 s at 100 per minute: 144 s
    s = sound.synthesize(long)
    params, _ = read_wav(s.wav)
    assert params.nframes == round(sound.MAX_SECONDS * sound.SAMPLE_RATE)
    assert s.cut and s.notes == 17 and s.dropped == 23  # the 17th note is cut at 60 s
    exact = sound.synthesize([(60, 4.0)] * 30)  # 25 whole notes fill 60 s exactly: none is cut
    assert exact.notes == 25 and not exact.cut and exact.dropped == 5
    assert not sound.synthesize([(60, 1.0)]).bounded


def test_bad_lengths_are_refused():
    with pytest.raises(ValueError):
        sound.synthesize([(60, float("nan"))])
    with pytest.raises(ValueError):
        sound.synthesize([(60, 1.0)], tempo=0)
