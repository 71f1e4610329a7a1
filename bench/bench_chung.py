"""Chung et al. (2014) on music: a tanh RNN, an LSTM and a GRU of ~20k parameters model Bach chorales.

    pip install music21   # the bench only; cells/ and app/ never import it
    OPENBLAS_NUM_THREADS=1 python bench/bench_chung.py [--steps 3000] [--seed 0]

Chung, Gulcehre, Cho & Bengio (2014), "Empirical Evaluation of Gated Recurrent Neural Networks on
Sequence Modeling", Table 2, JSB Chorales, negative log-likelihood per time step (train / test):
tanh RNN 8.82 / 9.10, LSTM 8.15 / 8.67, GRU 6.94 / 8.54: on the test set GRU < LSTM < RNN, gaps of
0.13 and 0.43 nats per step (the three cells had about 20k parameters each).

Here the data are built at run time from the Bach chorales in music21's corpus (its .mxl files
with four parts: about 400, not Boulanger-Lewandowski's 382-piece JSB set with its split), as
piano rolls sampled on every quarter-note beat (a key is on at beat t when a note sounds at t)
over the piano's 88 keys; chorales are transposed by nothing. Every 5th chorale (sorted by file
name) is held out as the test set. Each model reads a roll one step at a time and predicts the
next step with a sigmoid per key (``Trainer(loss="bce")``): the NLL of a step is the sum over the
88 keys, and the figures are the mean over all predicted steps of whole chorales read from a zero
state. The split, the quantisation and the training differ from the paper, so compare the
ordering and the size of the gaps, not the values.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cells
from cells.core.readout import Readout
from cells.train.trainer import Trainer, binary_cross_entropy, readout_outputs

KEYS, LOWEST = 88, 21  # the piano's keys: MIDI 21 (A0) to 108 (C8)
TEST_EVERY = 5
WINDOW, BATCH, LR = 32, 32, 3e-3
SIZES = {"rnn": 76, "lstm": 34, "gru": 41}
"""Hidden sizes that give each cell with its 88-key readout about 20k parameters (as in the paper)."""
PAPER = {"rnn": (8.82, 9.10), "lstm": (8.15, 8.67), "gru": (6.94, 8.54)}
"""Chung et al. (2014), Table 2, JSB Chorales: (train, test) NLL per step."""


def piano_roll(score) -> np.ndarray:
    """(T, 88) float: key k is on at quarter-note beat t when a note of pitch 21 + k sounds at t."""
    flat = score.flatten()
    steps = int(np.ceil(float(flat.highestTime)))
    roll = np.zeros((steps, KEYS))
    for n in flat.notes:
        start, end = float(n.offset), float(n.offset) + float(n.quarterLength)
        beats = np.arange(int(np.ceil(start)), int(np.ceil(end)))  # the beats t with start <= t < end
        for p in n.pitches:
            if LOWEST <= p.midi < LOWEST + KEYS:
                roll[beats[beats < steps], p.midi - LOWEST] = 1.0
    return roll


def chorales() -> list[np.ndarray]:
    """The piano rolls of music21's four-part Bach chorales, sorted by file name."""
    from music21 import corpus

    rolls = []
    for path in sorted(corpus.getComposer("bach"), key=lambda p: p.name):
        if path.suffix != ".mxl":
            continue
        score = corpus.parse(path)
        if len(score.parts) != 4:
            continue
        roll = piano_roll(score)
        if roll.shape[0] > WINDOW:
            rolls.append(roll)
    return rolls


def nll_per_step(cell, readout: Readout, rolls: list[np.ndarray]) -> float:
    """Mean over every predicted step of every roll (read whole from a zero state) of the NLL of
    the next step, summed over the 88 keys."""
    total = steps = 0
    for roll in rolls:
        x = roll[:-1, None, :]  # (T-1, 1, 88)
        logits = readout_outputs(cell, readout, x, at_every_step=True)
        loss, _ = binary_cross_entropy(logits, roll[1:, None, :])
        total += loss * (roll.shape[0] - 1)
        steps += roll.shape[0] - 1
    return total / steps


def batch(rng: np.random.Generator, rolls: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Random windows of WINDOW + 1 steps: inputs (W, B, 88) and the next steps (W, B, 88)."""
    out = np.empty((WINDOW + 1, BATCH, KEYS))
    for b, k in enumerate(rng.integers(0, len(rolls), BATCH)):
        start = rng.integers(0, rolls[k].shape[0] - WINDOW)
        out[:, b] = rolls[k][start:start + WINDOW + 1]
    return out[:-1], out[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    start = time.perf_counter()
    rolls = chorales()
    test = rolls[::TEST_EVERY]
    train = [r for k, r in enumerate(rolls) if k % TEST_EVERY]
    print(f"{len(rolls)} chorales from music21's corpus ({time.perf_counter() - start:.0f} s to read): "
          f"{len(train)} train ({sum(r.shape[0] for r in train):,} steps), {len(test)} test "
          f"({sum(r.shape[0] for r in test):,} steps); mean keys on per step "
          f"{np.mean(np.concatenate(train).sum(axis=1)):.2f}", flush=True)
    print(f"{args.steps} steps of Adam (lr {LR:g}, clipping at 1), windows of {WINDOW} beats, batch "
          f"{BATCH}, seed {args.seed}; NLL per step in nats (sum over 88 keys)")
    print(f"{'cell':5} {'hidden':>6} {'params':>7} {'train NLL':>9} {'test NLL':>8} {'seconds':>7}   "
          f"paper train / test")
    for arch, hidden in SIZES.items():
        cell = cells.make_cell(arch, cells.init_params(arch, KEYS, hidden, seed=args.seed))
        readout = Readout.init(hidden, KEYS, seed=args.seed + 1)
        trainer = Trainer(cell, readout, loss="bce", at_every_step=True, lr=LR)
        rng = np.random.default_rng([args.seed, 0])
        t0 = time.perf_counter()
        for _ in range(args.steps):
            trainer.step(*batch(rng, train))
        seconds = time.perf_counter() - t0
        params = trainer.cell.num_params + readout.weight.size + readout.bias.size
        train_nll = nll_per_step(trainer.cell, trainer.readout, train)
        test_nll = nll_per_step(trainer.cell, trainer.readout, test)
        paper = PAPER[arch]
        print(f"{arch:5} {hidden:6d} {params:7,d} {train_nll:9.2f} {test_nll:8.2f} {seconds:7.0f}   "
              f"{paper[0]:.2f} / {paper[1]:.2f}", flush=True)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
