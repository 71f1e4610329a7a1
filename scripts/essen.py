"""Read the Essen folk songs of music21's corpus into plain melodies (training time only).

    python scripts/essen.py            # parses the corpus once (~4 min), caches it as JSON

``music21`` is a training-time dependency (``pip install music21``; it is not in
requirements.txt, and neither cells/ nor app/ imports it). The parsed melodies are cached in
``~/.cache/gatescope/essen.json`` (never committed). Each melody is the first part of one song,
ties merged (``stripTies``), grace notes dropped, a chord read as its top note; songs without a
time signature are left out (their position in the bar is undefined). Each note is
``[midi or null (a rest), quarter length, offset in its bar (quarters), bar length (quarters)]``.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path

CACHE = Path.home() / ".cache" / "gatescope" / "essen.json"
#: Test files of the collection, left out.
SKIP = {"test0.abc", "test1.abc", "testd.abc", "teste.abc"}


def _song(score) -> dict | None:
    part = score.parts[0] if score.parts else score
    with contextlib.suppress(Exception):  # a malformed tie: read as written
        part = part.stripTies()
    measures = list(part.getElementsByClass("Measure"))
    if not measures:
        return None
    ts = None
    notes = []
    for m in measures:
        ts = m.timeSignature or ts
        if ts is None:
            return None
        bar = float(ts.barDuration.quarterLength)
        pad = float(m.paddingLeft or 0.0)
        for n in m.notesAndRests:
            ql = float(n.quarterLength)
            if ql <= 0:  # grace note
                continue
            if n.isRest:
                midi = None
            elif n.isChord:
                midi = max(p.midi for p in n.pitches)
            else:
                midi = n.pitch.midi
            notes.append([midi, ql, float(n.offset) + pad, bar])
    if len(notes) < 8:
        return None
    return {"title": str(score.metadata.title or "") if score.metadata else "",
            "meter": ts.ratioString if ts is not None else "", "notes": notes}


def read_essen(cache: Path = CACHE) -> list[dict]:
    """Every usable Essen melody: {"file", "number", "title", "meter", "notes"}; cached."""
    if cache.is_file():
        return json.loads(cache.read_text())
    import music21  # training time only

    root = Path(music21.__file__).parent / "corpus" / "essenFolksong"
    songs = []
    start = time.perf_counter()
    for path in sorted(root.glob("*.abc")):
        if path.name in SKIP:
            continue
        opus = music21.converter.parse(path, forceSource=True)
        scores = opus.scores if hasattr(opus, "scores") else [opus]
        for k, score in enumerate(scores):
            try:
                song = _song(score)
            except Exception as exc:  # one bad song does not stop the corpus
                print(f"  skipped {path.name} #{k}: {type(exc).__name__}", file=sys.stderr)
                continue
            if song is not None:
                songs.append({"file": path.name, "number": k, **song})
        print(f"{path.name}: {len(songs)} melodies so far, {time.perf_counter() - start:.0f}s", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(songs))
    return songs


if __name__ == "__main__":
    print(len(read_essen()), "melodies cached in", CACHE)
