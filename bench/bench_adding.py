"""The adding problem at T = 100 (Hochreiter & Schmidhuber's length): LSTM and GRU solve it within
the stated limits, the tanh RNN beside them.

    OPENBLAS_NUM_THREADS=1 python bench/bench_adding.py [--seed 0]

Limits (``cells.science.claims.ADDING_LIMITS``): 32 units, at most 3,000 steps (batches of 64) and 180 s of
training per cell, whichever comes first; chrono gate-bias initialisation; solved = test MSE below
0.01 on 1,000 fresh sequences (always answering 1 scores 1/6). The claim holds when the LSTM and
the GRU solve it and the RNN does not. ``scripts/lab_claims.py --part adding`` stores the same run
(seed 0) for the Lab page's table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cells.science import claims


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    lim = claims.ADDING_LIMITS
    print(f"adding problem, T = {lim['length']}, {lim['hidden']} units, at most {lim['steps']:,} steps "
          f"and {lim['seconds']:g} s per cell, seed {args.seed}")
    print(f"{'cell':5} {'test MSE':>9} {'solved':>6} {'steps':>5} {'seconds':>7} "
          f"{'first step with batch MSE < 0.01':>32}")
    runs = {}
    for arch in claims.ADDING_ARCHS:
        r = runs[arch] = claims.run_adding(arch, seed=args.seed)
        below = r["first_step_below"]
        print(f"{arch:5} {r['test_mse']:9.4f} {r['solved']!s:>6} {r['steps']:5d} {r['seconds']:7.1f} "
              f"{below if below is not None else '-':>32}", flush=True)
    models = {arch: {"seeds": [args.seed], **{k: [v] for k, v in r.items()}} for arch, r in runs.items()}
    row = claims.adding({"protocol": lim, "models": models, "command": "bench/bench_adding.py"})
    print(f"claim ({row.paper}): {row.finding}.\nheld here: {row.held}")


if __name__ == "__main__":
    main()
