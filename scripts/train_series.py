"""Train the shipped numbers-mode models (cells.pretrained("lstm-series") and the like, numbers Readers).

    OPENBLAS_NUM_THREADS=1 python scripts/train_series.py --arch lstm

Each predicts the next value of a noisy mixture of sine waves (``cells.tasks.SeriesTask``: one
or two sines, periods 6 to 40 steps, noise 0.05) from the values so far. Training uses
``cells.train_task`` (Adam, gradient norm clipped at 1), reproducible from ``--seed``; the file
records the test MSE beside two references: the noise floor and always predicting the last value.
Weights are written as float32 to cells/weights_data/<arch>-series.npz.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cells  # noqa: E402
from cells.pretrained import WEIGHTS_DIR  # noqa: E402
from cells.readers import NumberEncoder, Reader  # noqa: E402
from cells.train import TEST_SEQUENCES, mse_loss, train_task  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=cells.ARCHS, required=True)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    r = train_task(args.arch, "series", length=args.length, hidden_size=args.hidden,
                         steps=args.steps, seed=args.seed,
                         callback=lambda step, loss: step % 500 or print(step, f"{loss:.5f}"))
    x, y = r.task.batch(np.random.default_rng([args.seed, 1]), TEST_SEQUENCES)
    meta = {
        "trained_on": "noisy mixtures of one or two sine waves (next-value prediction)",
        "test_mse": round(r.test_loss, 5),
        "noise_floor_mse": round(r.task.noise ** 2, 6),
        "last_value_mse": round(mse_loss(x, y)[0], 5),
        "command": f"python scripts/train_series.py --arch {args.arch} --hidden {args.hidden} "
                   f"--length {args.length} --steps {args.steps} --seed {args.seed}",
    }
    out = WEIGHTS_DIR / f"{args.arch}-series.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    Reader(r.cell, NumberEncoder(), r.readout, meta).save(out, dtype=np.float32)  # kind="series"
    print(f"wrote {out} in {r.seconds:.0f}s: {meta}")


if __name__ == "__main__":
    main()
