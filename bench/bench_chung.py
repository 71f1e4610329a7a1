"""Chung et al. (2014) on music: a tanh RNN, an LSTM and a GRU of ~20k parameters model Bach chorales.

    pip install music21   # the bench only; cells/ and app/ never import it
    OPENBLAS_NUM_THREADS=1 python bench/bench_chung.py [--steps 3000] [--seed 0]

Chung, Gulcehre, Cho & Bengio (2014), "Empirical Evaluation of Gated Recurrent Neural Networks on
Sequence Modeling", Table 2, JSB Chorales, negative log-likelihood per time step (train / test):
tanh RNN 8.82 / 9.10, LSTM 8.15 / 8.67, GRU 6.94 / 8.54: on the test set GRU < LSTM < RNN, gaps of
0.13 and 0.43 nats per step (the three cells had about 20k parameters each).

The data and the models are scripts/chorales.py's (music21's four-part Bach chorales as piano
rolls on quarter-note beats over 88 keys, every 5th held out as the test set: not
Boulanger-Lewandowski's 382-piece JSB set with its split; the NLL of a step is the sum over the 88
keys, averaged over all predicted steps of whole chorales read from a zero state). The split, the
quantisation and the training differ from the paper, so compare the ordering and the size of the
gaps, not the values.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from chorales import BATCH, LR, WINDOW, Chorales, batch, fresh_trainer, nll_per_step, param_count

from cells.science.claims import CHUNG_JSB as PAPER

ARCHS = ("rnn", "lstm", "gru")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    start = time.perf_counter()
    data = Chorales.load()
    print(f"{data.describe()} ({time.perf_counter() - start:.0f} s to read)", flush=True)
    print(f"{args.steps} steps of Adam (lr {LR:g}, clipping at 1), windows of {WINDOW} beats, batch "
          f"{BATCH}, seed {args.seed}; NLL per step in nats (sum over 88 keys)")
    print(f"{'cell':5} {'hidden':>6} {'params':>7} {'train NLL':>9} {'test NLL':>8} {'seconds':>7}   "
          f"paper train / test")
    for arch in ARCHS:
        trainer = fresh_trainer(arch, seed=args.seed)
        rng = np.random.default_rng([args.seed, 0])
        t0 = time.perf_counter()
        for _ in range(args.steps):
            trainer.step(*batch(rng, data.train))
        seconds = time.perf_counter() - t0
        train_nll = nll_per_step(trainer.cell, trainer.readout, data.train)
        test_nll = nll_per_step(trainer.cell, trainer.readout, data.test)
        paper = PAPER[arch]
        print(f"{arch:5} {trainer.cell.hidden_size:6d} {param_count(trainer):7,d} {train_nll:9.2f} "
              f"{test_nll:8.2f} {seconds:7.0f}   {paper[0]:.2f} / {paper[1]:.2f}", flush=True)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
