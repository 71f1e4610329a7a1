"""Character models trained by this project, shipped as .npz weights in cells/weights_data/.

    m = cells.pretrained("lstm")        # or "gru", "rnn"
    m.bits_per_char("The cat sat on the mat.")

Each was trained by ``scripts/train_char.py`` on Debian's ``fortunes`` (see that script and the
README); the file's meta records the exact command, the characters seen and the held-out
bits/char (``m.meta``). Weights are stored as float32 and loaded as float64 for analysis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cells.charmodel import CharModel

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights_data"


def available_pretrained() -> tuple[str, ...]:
    """Names of the shipped models, sorted."""
    return tuple(sorted(p.stem for p in WEIGHTS_DIR.glob("*.npz")))


def pretrained(name: str, dtype: type = np.float64) -> CharModel:
    """The shipped character model ``name`` ("lstm", "gru", "rnn"), weights as ``dtype``."""
    names = available_pretrained()
    if name not in names:
        raise ValueError(f"no pretrained model {name!r}; shipped: {', '.join(names) or 'none'}")
    return CharModel.load(WEIGHTS_DIR / f"{name}.npz", dtype=dtype)
