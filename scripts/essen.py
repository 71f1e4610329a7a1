"""Parse the Essen folk songs of music21's corpus once and cache them (training time only).

    python scripts/essen.py            # parses the corpus once (minutes), caches it as JSON

``music21`` is a training-time dependency (``pip install music21``; it is not in
requirements.txt, and neither cells/ nor app/ imports it at import time). The melodies are read by
``cells.io.corpora.read_essen`` (which also gives the held-out split that training and the Match
page share) and cached in ``~/.cache/gatescope/essen.json`` (never committed).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cells.io.corpora import ESSEN_CACHE, read_essen

if __name__ == "__main__":
    print(len(read_essen()), "melodies cached in", ESSEN_CACHE)
