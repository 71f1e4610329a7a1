"""Models trained by this project, shipped as .npz weights in cells/weights_data/.

    m = cells.pretrained("lstm")        # or "gru", "rnn": character models (CharModel)
    m.bits_per_char("The cat sat on the mat.")
    r = cells.pretrained("lstm-series")   # or "gru-series", "rnn-series": a numbers Reader
    r.cell, r.readout, r.meta
    s = cells.pretrained("lstm-sunspots")   # or "gru-sunspots", "rnn-sunspots": data/sunspots.csv

The character models were trained by ``scripts/train_char.py`` on Debian's ``fortunes``, the
series models by ``scripts/train_series.py`` on noisy sine mixtures or, normalised, on the
yearly sunspot numbers of 1700-1958 (see those scripts and the README). Each is a
:class:`~cells.models.reader.Reader`, read by ``cells.read_model``; its meta (``.meta``) records the exact
command and the held-out figures. Weights are stored as float32 and loaded as float64.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cells.io.model_files import read_model
from cells.io.npz import load_arrays
from cells.models.reader import Reader

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights_data"


def available_pretrained() -> tuple[str, ...]:
    """Names of the shipped models, sorted."""
    return tuple(sorted(p.stem for p in WEIGHTS_DIR.glob("*.npz")))


def pretrained(name: str, dtype: type = np.float64) -> Reader:
    """The shipped model ``name``, weights as ``dtype``: a CharModel for "lstm", "gru", "rnn";
    a numbers Reader (1-input cell, next-value readout) for "lstm-series", "gru-series",
    "rnn-series". A name that is not shipped is a ValueError listing the shipped ones."""
    return read_model(_path(name), dtype=dtype)


def _path(name: str) -> Path:
    """The file of shipped model ``name``; a ValueError listing the shipped ones for any other."""
    names = available_pretrained()
    if name not in names:
        raise ValueError(f"no pretrained model {name!r}; shipped: {', '.join(names) or 'none'}")
    return WEIGHTS_DIR / f"{name}.npz"


def pretrained_meta(name: str) -> dict[str, Any]:
    """What the file of model ``name`` says about it: training command, corpus, figures (read
    without building the model)."""
    pretrained_path = _path(name)
    meta = load_arrays(pretrained_path)[1]
    meta.pop("kind", None)
    return meta
