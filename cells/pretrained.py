"""Models trained by this project, shipped as .npz weights in cells/weights_data/.

    m = cells.pretrained("lstm")        # or "gru", "rnn": character models (CharModel)
    m.bits_per_char("The cat sat on the mat.")
    cell = cells.pretrained("lstm-series")   # or "gru-series", "rnn-series": a 1-input Cell

The character models were trained by ``scripts/train_char.py`` on Debian's ``fortunes``, the
series cells by ``scripts/train_series.py`` on noisy sine mixtures (see those scripts and the
README). Each file's meta records the exact command and the held-out figures (``m.meta``; for a
series cell, ``pretrained_meta(name)``). Weights are stored as float32 and loaded as float64.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cells import weights
from cells.base import Cell
from cells.charmodel import CharModel
from cells.train import READOUT_BIAS, READOUT_WEIGHT

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights_data"
#: ``kind`` in the meta of a series model's file.
SERIES_KIND = "series"
SERIES_SUFFIX = "-series"


def available_pretrained() -> tuple[str, ...]:
    """Names of the shipped models, sorted."""
    return tuple(sorted(p.stem for p in WEIGHTS_DIR.glob("*.npz")))


def _path(name: str) -> Path:
    names = available_pretrained()
    if name not in names:
        raise ValueError(f"no pretrained model {name!r}; shipped: {', '.join(names) or 'none'}")
    return WEIGHTS_DIR / f"{name}.npz"


def pretrained(name: str, dtype: type = np.float64) -> CharModel | Cell:
    """The shipped model ``name``, weights as ``dtype``: a CharModel for "lstm", "gru", "rnn";
    the trained Cell (1 input) for "lstm-series", "gru-series", "rnn-series"."""
    path = _path(name)
    if not name.endswith(SERIES_SUFFIX):
        return CharModel.load(path, dtype=dtype)
    arrays, meta = weights.load_arrays(path)
    if meta.get("kind") != SERIES_KIND:
        raise ValueError(f"{path.name}: not a series model file")
    cell_arrays = {k: (a.astype(dtype) if a.dtype.kind == "f" else a) for k, a in arrays.items()
                   if k not in (READOUT_WEIGHT, READOUT_BIAS)}
    return weights.cell_from_arrays(cell_arrays, meta)


def pretrained_meta(name: str) -> dict[str, Any]:
    """What the file of model ``name`` says about it: training command, corpus, figures."""
    return weights.load_arrays(_path(name))[1]
