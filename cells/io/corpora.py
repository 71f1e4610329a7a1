"""The corpora the shipped models learnt from, and the one definition of their held-out parts.

Training (scripts/train_char.py, scripts/train_melody.py) and the Match page (which searches the
held-out part, text the models never trained on) read them here, so they agree on what is held
out. Nothing here is shipped or committed: each corpus is read where it is installed.

* **English prose**: Debian's ``fortunes`` package (``apt-get install fortunes``), from
  :data:`FORTUNE_DIRS`. Each fortune is reflowed to one line per paragraph; collections that are
  not ordinary English (:data:`FORTUNES_EXCLUDED`) and paragraphs that are not prose are left out.
  Every :data:`HELD_OUT_EVERY`-th fortune (in sorted file order) is held out.
* **Python code**: the ``.py`` files of this Python's standard library, without test suites,
  codec tables, pydoc's data and installed packages (:data:`CODE_EXCLUDED`). Every
  :data:`HELD_OUT_EVERY`-th file (in sorted path order) is held out.
* **Melodies**: the Essen folk songs of ``music21``'s corpus, a training-time dependency that is
  imported only when a melody is parsed (never at import time). Each melody is the first part of
  one song, ties merged, grace notes dropped, a chord read as its top note; songs without a time
  signature are left out. The parsed melodies are cached as JSON in :data:`ESSEN_CACHE`. Every
  :data:`MELODY_HELD_OUT_EVERY`-th melody is held out.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import re
import sys
import sysconfig
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from cells.music.notation import UNKNOWN_NOTE, duration_name, note_token

Item = TypeVar("Item")

FORTUNE_DIRS = (Path("/usr/share/games/fortunes"), Path("/usr/share/fortune"))
"""Where Debian (and others) install the fortunes."""

FORTUNES_EXCLUDED = frozenset({"ascii-art", "translate-me", "tao"})
"""Fortune collections left out: pictures, text that is not English, and scripture."""

HELD_OUT_EVERY = 20
"""Every 20th fortune, and every 20th standard-library file, is held out."""

CODE_EXCLUDED = frozenset({"test", "tests", "idle_test", "encodings", "pydoc_data", "site-packages",
                           "dist-packages", "__pycache__"})
"""Parts of the standard library left out of the code corpus: test suites (large, and not ordinary
code), generated codec tables, pydoc's data, installed packages."""

MELODY_HELD_OUT_EVERY = 10
"""Every 10th Essen melody is held out."""

ESSEN_CACHE = Path.home() / ".cache" / "gatescope" / "essen.json"
"""The parsed Essen melodies (never committed): parsing the corpus takes minutes."""

ESSEN_SKIP = frozenset({"test0.abc", "test1.abc", "testd.abc", "teste.abc"})
"""Test files of the Essen collection, left out."""


def held_out(items: Sequence[Item], every: int) -> tuple[list[Item], list[Item]]:
    """(training items, held-out items): item k is held out when k is a multiple of ``every``."""
    train, held = [], []
    for k, item in enumerate(items):
        (held if k % every == 0 else train).append(item)
    return train, held


# --------------------------------------------------------------------------- English prose


def find_fortunes() -> Path | None:
    """The installed fortunes' directory, or None when the package is not installed."""
    return next((d for d in FORTUNE_DIRS if (d / "fortunes").is_file()), None)


def reflow(fortune: str) -> list[str]:
    """A fortune's paragraphs, each on one line with runs of whitespace made single spaces."""
    fortune = re.sub(r".\x08", "", fortune)                 # overstrike: keep the last character
    fortune = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", fortune)  # other control chars -> spaces
    paragraphs = re.split(r"\n\s*\n", fortune)
    lines = [" ".join(p.split()) for p in paragraphs]
    return [p for p in lines if p and _is_prose(p)]


def _is_prose(paragraph: str) -> bool:
    """Mostly letters and spaces: drops ASCII art, tables and line noise."""
    wordy = sum(ch.isalpha() or ch == " " for ch in paragraph)
    return wordy >= 0.75 * len(paragraph)


def fortunes(directory: Path) -> list[str]:
    """Every fortune of the collections in ``directory`` (sorted by file), as written."""
    found = []
    for path in sorted(directory.iterdir()):
        if path.suffix or path.is_symlink() or not path.is_file() or path.name in FORTUNES_EXCLUDED:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f for f in re.split(r"^%\s*$", text, flags=re.MULTILINE) if f.strip()]
    return found


def fortune_paragraphs(directory: Path) -> tuple[list[str], list[str]]:
    """(training paragraphs, held-out paragraphs), one line each: every 20th fortune held out."""
    train, held = held_out(fortunes(directory), HELD_OUT_EVERY)
    return [p for f in train for p in reflow(f)], [p for f in held for p in reflow(f)]


def read_fortunes(directory: Path) -> tuple[str, str]:
    """(training text, held-out text): one paragraph per line (the character models' corpus)."""
    train, held = fortune_paragraphs(directory)
    return "\n".join(train) + "\n", "\n".join(held) + "\n"


# --------------------------------------------------------------------------- Python code


def stdlib_directory() -> Path:
    """This Python's standard library (always there: it runs this code)."""
    return Path(sysconfig.get_paths()["stdlib"])


def code_files(directory: Path) -> list[Path]:
    """The corpus's ``.py`` files under ``directory``, in sorted path order."""
    return [f for f in sorted(directory.rglob("*.py"))
            if not CODE_EXCLUDED & set(f.relative_to(directory).parts) and f.is_file()]


def read_code(path: Path) -> str:
    """One source file as the corpus holds it: newlines as ``\\n``, no blank lines around it."""
    return path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").strip("\n") + "\n"


def code_split(directory: Path) -> tuple[list[Path], list[Path]]:
    """(training files, held-out files): every 20th file held out."""
    return held_out(code_files(directory), HELD_OUT_EVERY)


def read_code_corpus(directory: Path) -> tuple[str, str]:
    """(training text, held-out text): the files of each part joined by a blank line."""
    train, held = code_split(directory)
    return "\n\n".join(map(read_code, train)), "\n\n".join(map(read_code, held))


# --------------------------------------------------------------------------- melodies


def essen_available(cache: Path = ESSEN_CACHE) -> bool:
    """True when the melodies can be read: parsed before (the cache), or music21 is installed."""
    return cache.is_file() or importlib.util.find_spec("music21") is not None


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


def read_essen(cache: Path = ESSEN_CACHE) -> list[dict]:
    """Every usable Essen melody: {"file", "number", "title", "meter", "notes"}, each note
    ``[midi or None (a rest), quarter length, offset in its bar (quarters), bar length
    (quarters)]``. Read from ``cache`` when it is there; else parsed with music21 (minutes) and
    cached."""
    if cache.is_file():
        return json.loads(cache.read_text())
    import music21  # training-time dependency: imported only to parse the corpus

    root = Path(music21.__file__).parent / "corpus" / "essenFolksong"
    songs = []
    start = time.perf_counter()
    for path in sorted(root.glob("*.abc")):
        if path.name in ESSEN_SKIP:
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


def melody_split(songs: Sequence[dict]) -> tuple[list[dict], list[dict]]:
    """(training melodies, held-out melodies): every 10th melody held out."""
    return held_out(songs, MELODY_HELD_OUT_EVERY)


def song_tokens(song: dict) -> list[str]:
    """A corpus melody as note tokens (the unknown token where the notation has no word)."""
    out = []
    for midi, ql, _, _ in song["notes"]:
        name = duration_name(ql)
        ok = name is not None and (midi is None or 12 <= midi <= 119)
        out.append(note_token(midi, name) if ok else UNKNOWN_NOTE)
    return out


# --------------------------------------------------------------------------- pieces


def pieces(document: Sequence[Item], size: int) -> list[Sequence[Item]]:
    """``document`` (a text, or a list of tokens) cut into consecutive pieces of at most ``size``
    items; a text is cut after a newline where one falls in the piece's second half."""
    out = []
    start = 0
    while len(document) - start > size:
        cut = start + size
        if isinstance(document, str):
            newline = document.rfind("\n", start + size // 2, cut)
            cut = newline + 1 if newline >= 0 else cut
        out.append(document[start:cut])
        start = cut
    if start < len(document):
        out.append(document[start:])
    return out
