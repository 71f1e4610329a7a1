"""Train the shipped numbers-mode models (numbers Readers): on noisy sines, or on a real series.

    OPENBLAS_NUM_THREADS=1 python scripts/train_series.py --arch lstm                   # sines
    OPENBLAS_NUM_THREADS=1 python scripts/train_series.py --arch lstm --corpus sunspots  # data/

Sines (``--corpus series``, cells.pretrained("lstm-series")): each model predicts the next value
of a noisy mixture of sine waves (``cells.train.tasks.SeriesTask``: one or two sines, periods 6 to 40
steps, noise 0.05) from the values so far; the file records the test MSE beside two references:
the noise floor and always predicting the last value.

A real series (``--corpus sunspots``, cells.pretrained("lstm-sunspots")): the column of
data/<corpus>.csv, its last ``--heldout`` values never trained on. The model reads the series
normalised by the training part's mean and standard deviation (kept in the file, applied by the
model's NumberEncoder) and trains on random windows of the training part (``WindowTask``). The
file records its forecast errors on the held-out tail, k steps ahead (``cells.forecast``),
beside the naive and the seasonal-naive forecasts'. ``--validate`` holds out ``--heldout`` more
values before the tail and scores on those instead (for choosing settings without looking at the
tail), and writes nothing.

Training uses ``cells.train_task`` (Adam, gradient norm clipped at 1), reproducible from
``--seed``. Weights are written as float32 to cells/weights_data/<arch>-<corpus>.npz.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cells  # noqa: E402
from cells.io.pretrained import WEIGHTS_DIR  # noqa: E402
from cells.io.series_csv import read_csv  # noqa: E402
from cells.models.encoders import NumberEncoder  # noqa: E402
from cells.models.reader import Reader  # noqa: E402
from cells.science import forecast  # noqa: E402
from cells.train.trainer import TEST_SEQUENCES, mse_loss, train_task  # noqa: E402

DATA = ROOT / "data"
# corpus -> (column, period of its cycle in steps, what it is)
REAL = {
    "sunspots": ("sunspots", 11, "yearly sunspot numbers"),
    "co2": ("co2", 12, "monthly Mauna Loa CO2 (ppm)"),
}
HORIZONS = (1, 5, 11)


def sines(args: argparse.Namespace) -> tuple[Reader, dict, float]:
    r = train_task(args.arch, "series", length=args.length, hidden_size=args.hidden,
                   steps=args.steps, seed=args.seed,
                   callback=lambda step, loss: step % 500 or print(step, f"{loss:.5f}"))
    x, y = r.task.batch(np.random.default_rng([args.seed, 1]), TEST_SEQUENCES)
    meta = {
        "trained_on": "noisy mixtures of one or two sine waves (next-value prediction)",
        "test_mse": round(r.test_loss, 5),
        "noise_floor_mse": round(r.task.noise ** 2, 6),
        "last_value_mse": round(mse_loss(x, y)[0], 5),
    }
    return Reader(r.cell, NumberEncoder(), r.readout, meta), meta, r.seconds


def real(args: argparse.Namespace) -> tuple[Reader, dict, float]:
    column, period, what = REAL[args.corpus]
    table = read_csv(DATA / f"{args.corpus}.csv", max_rows=10**6)
    k = [c.name for c in table.columns].index(column)
    values, notes = table.series(k)
    assert not notes, notes
    first_year = table.columns[0].values[0] if table.columns[0].finite else None
    end = len(values) - args.heldout * (2 if args.validate else 1)  # the training part: values[:end]
    train = values[:end]
    offset, scale = float(np.mean(train)), float(np.std(train))
    r = train_task(args.arch, "values", length=args.length, hidden_size=args.hidden, steps=args.steps,
                   seed=args.seed, values=(train - offset) / scale,
                   callback=lambda step, loss: step % 500 or print(step, f"{loss:.5f}"))
    encoder = NumberEncoder(round(offset, 6), round(scale, 6))
    reader = Reader(r.cell, encoder, r.readout)
    scored = values[:end + args.heldout]  # the tail: the held-out values (or the validation ones)
    ev = forecast.evaluate({"model": reader}, scored, args.heldout, HORIZONS, period)
    errors = {name: {str(h): [round(e.mae, 2), round(e.rmse, 2)] for h, e in by_k.items()}
              for name, by_k in ev.errors.items()}
    meta = {
        "trained_on": f"{what}, the first {end} values of data/{args.corpus}.csv"
                      + (f" ({first_year:.0f}-{first_year + end - 1:.0f})" if first_year else ""),
        "corpus": args.corpus,
        "period": period,
        "heldout": args.heldout,
        "train_window_mse": round(r.test_loss, 5),
        "heldout_errors": errors,  # forecaster -> horizon -> [MAE, RMSE], series units
    }
    return Reader(r.cell, encoder, r.readout, meta), meta, r.seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=cells.ARCHS, required=True)
    ap.add_argument("--corpus", choices=["series", *REAL], default="series")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--length", type=int, default=None, help="window (default: 100 sines, 64 real)")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--heldout", type=int, default=50, help="a real series' tail never trained on")
    ap.add_argument("--validate", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.length = args.length or (100 if args.corpus == "series" else 64)

    reader, meta, seconds = sines(args) if args.corpus == "series" else real(args)
    command = (f"python scripts/train_series.py --arch {args.arch} --hidden {args.hidden} "
               f"--length {args.length} --steps {args.steps} --seed {args.seed}")
    if args.corpus != "series":
        command += f" --corpus {args.corpus} --heldout {args.heldout}"
    reader.meta["command"] = command
    if args.validate:
        print(f"validation ({seconds:.0f}s): {meta}")
        return
    out = WEIGHTS_DIR / f"{args.arch}-{args.corpus}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    cells.save_model(reader, out, dtype=np.float32)  # kind="series", the normalisation in the meta
    print(f"wrote {out} in {seconds:.0f}s: {reader.meta}")


if __name__ == "__main__":
    main()
