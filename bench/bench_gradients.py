"""The Gradients page's work for one edit with an uploaded model of each size, against its goal.

One edit measures every cell's gradient curve (``app.compute.gradient_profiles.profiles``: the exact Jacobian
pass of ``cells.jacobian_norms``, per layer of a stack) over the first ``token_cap`` tokens, for
the three shipped character models and the upload in place of the LSTM. The token cap is chosen
per model size so that this stays under ``app.compute.gradient_profiles.SECONDS_PER_EDIT``; this
script measures what it takes here, for uploads from 128 units to the largest accepted (1024 units, 4 layers).

    OPENBLAS_NUM_THREADS=1 python bench/bench_gradients.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cells
from app.compute import gradient_profiles as gradients
from app.compute import models
from cells.models.encoders import CharEncoder
from cells.models.reader import Reader

TEXT = ("When the old lighthouse keeper finally climbed the hundred and twelve steps to the lamp "
        "room, he found that the storm had already passed and the sea was as calm as glass.") * 2
SIZES = ((128, 1), (256, 2), (512, 1), (1024, 1), (1024, 4))
REPEATS = 3


def stacked_lstm(hidden: int, layers: int) -> Reader:
    """A random LSTM stack over the shipped vocabulary, as an upload of that size would read."""
    encoder = CharEncoder(cells.pretrained("lstm").vocab)
    params = {}
    for k in range(layers):
        inputs = encoder.input_size if k == 0 else hidden
        layer = cells.init_params("lstm", inputs, hidden, seed=k)
        params.update({name.replace("_l0", f"_l{k}"): a for name, a in layer.items()})
    return Reader(cells.make_cell("lstm", params), encoder)


def main() -> None:
    shipped = {name: models.load(key) for name, key in gradients.keys("trained")}
    print(f"goal: one edit's Jacobian passes under about {gradients.SECONDS_PER_EDIT:g} s")
    print(f"{'upload':>16} {'token cap':>9} {'seconds (median of 3)':>22}")
    for hidden, layers in SIZES:
        upload = models.Loaded(stacked_lstm(hidden, layers), "bench upload", trained=False)
        loaded = {**shipped, "LSTM": upload}
        cap = gradients.token_cap(loaded)
        text = TEXT[:cap]
        runs = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            gradients._profiles.__wrapped__((), text, loaded)  # uncached: the work of one edit
            runs.append(time.perf_counter() - start)
        print(f"{f'H={hidden}, L={layers}':>16} {cap:>9} {np.median(runs):>22.2f}")


if __name__ == "__main__":
    main()
