"""The adding problem at length 50, hidden size 32: do LSTM and GRU solve it, and the RNN not?

    OPENBLAS_NUM_THREADS=1 python bench/bench_train.py [--steps 3000] [--seed 0]

Goal (issue 7): LSTM and GRU reach test MSE < 0.01 within 3000 steps and 90 s each; the tanh RNN
is printed beside them (expected to stay near the variance of the target, 1/6 ~ 0.17).
Training stops at 3000 steps or 90 s, whichever comes first, so "solved" below means solved
within both caps. Prints a figure per arch; not a timed test.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cells.train.tasks import ADDING_SOLVED_MSE
from cells.train.trainer import train_task

LENGTH, HIDDEN, SECONDS = 50, 32, 90.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"adding problem, length {LENGTH}, hidden {HIDDEN}, {args.steps} steps max, "
          f"seed {args.seed}; solved = test MSE < {ADDING_SOLVED_MSE}")
    print(f"{'arch':5} {'test MSE':>9} {'solved':>6} {'steps':>5} {'seconds':>7} "
          f"{'first step with batch MSE < 0.01':>32}")
    for arch in ("lstm", "gru", "rnn"):
        r = train_task(arch, "adding", length=LENGTH, hidden_size=HIDDEN, steps=args.steps,
                       seed=args.seed, max_seconds=SECONDS)
        below = next((step for step, loss in r.history if loss < ADDING_SOLVED_MSE), None)
        print(f"{arch:5} {r.test_loss:9.4f} {r.solved!s:>6} {r.steps:5d} {r.seconds:7.1f} "
              f"{below if below is not None else '-':>32}", flush=True)


if __name__ == "__main__":
    main()
