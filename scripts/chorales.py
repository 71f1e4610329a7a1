"""Bach chorales as piano rolls, and ~20k-parameter models of them: the data and the training of
bench/bench_chung.py (Chung et al. 2014) and scripts/lab_claims.py --part music (Greff et al. 2017).

The rolls are built at run time from the Bach chorales in music21's corpus (its .mxl files with
four parts: 340 of them, not Boulanger-Lewandowski's 382-piece JSB set with its split), sampled
on every quarter-note beat (a key is on at beat t when a note sounds at t) over the piano's 88
keys, transposed by nothing. Every 5th chorale (sorted by file name) is held out as the test set.
A model reads a roll one step at a time and predicts the next step with a sigmoid per key
(``Trainer(loss="bce")``): the NLL of a step is the sum over the 88 keys, and a set's figure is
the mean over all predicted steps of its whole chorales, each read from a zero state.

music21 is a training-time dependency (scripts/requirements-train.txt), imported only when the
rolls are built; cells/ and app/ never import it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cells
from cells.core.readout import Readout
from cells.train.trainer import Trainer, binary_cross_entropy, readout_outputs

KEYS, LOWEST = 88, 21  # the piano's keys: MIDI 21 (A0) to 108 (C8)
TEST_EVERY = 5
WINDOW, BATCH, LR = 32, 32, 3e-3
SIZES = {"rnn": 76, "lstm": 34, "gru": 41, "mgu": 53, "lstm-nig": 41, "lstm-nfg": 41,
         "lstm-nog": 41, "lstm-niaf": 34, "lstm-noaf": 34, "lstm-cifg": 41}
"""Hidden sizes that give each cell with its 88-key readout about 20k parameters (Chung et al.
and Greff et al. compared cells of equal size): 19,392 to 19,944."""
SPLIT = (f"music21's four-part Bach chorales (.mxl) sorted by file name, every {TEST_EVERY}th held "
         "out as the test set; piano rolls on quarter-note beats over 88 keys")


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


@dataclass(frozen=True)
class Chorales:
    """The training, validation and test rolls (no validation rolls: ``valid`` is empty)."""

    train: list[np.ndarray]
    valid: list[np.ndarray]
    test: list[np.ndarray]

    @classmethod
    def load(cls, *, validation: bool = False) -> Chorales:
        """Every :data:`TEST_EVERY`-th chorale is a test piece; with ``validation``, every
        :data:`TEST_EVERY`-th of the others is a validation piece; the rest are for training."""
        rolls = chorales()
        rest = [r for k, r in enumerate(rolls) if k % TEST_EVERY]
        if not validation:
            return cls(rest, [], rolls[::TEST_EVERY])
        return cls([r for k, r in enumerate(rest) if k % TEST_EVERY], rest[::TEST_EVERY],
                   rolls[::TEST_EVERY])

    def describe(self) -> str:
        def size(rolls: list[np.ndarray]) -> str:
            return f"{len(rolls)} ({sum(r.shape[0] for r in rolls):,} beats)"

        keys_on = np.mean(np.concatenate(self.train).sum(axis=1))
        valid = f", {size(self.valid)} validation" if self.valid else ""
        return (f"{len(self.train) + len(self.valid) + len(self.test)} chorales: "
                f"{size(self.train)} train{valid}, {size(self.test)} test; mean keys on per beat "
                f"{keys_on:.2f}")


def nll_per_step(cell: cells.Cell, readout: Readout, rolls: list[np.ndarray]) -> float:
    """Mean over every predicted step of every roll (read whole from a zero state) of the NLL of
    the next step, summed over the 88 keys. The rolls are read as one batch, padded at their ends
    (a roll's steps never see the padding after them), and only their own steps are scored."""
    length = max(r.shape[0] for r in rolls)
    padded = np.zeros((length, len(rolls), KEYS))
    scored = np.zeros((length - 1, len(rolls)), dtype=bool)  # step t predicts beat t + 1 of a roll
    for b, roll in enumerate(rolls):
        padded[:roll.shape[0], b] = roll
        scored[:roll.shape[0] - 1, b] = True
    logits = readout_outputs(cell, readout, padded[:-1], at_every_step=True)  # (T-1, N, 88)
    loss, _ = binary_cross_entropy(logits[scored], padded[1:][scored])
    return loss


def batch(rng: np.random.Generator, rolls: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Random windows of WINDOW + 1 steps: inputs (W, B, 88) and the next steps (W, B, 88)."""
    out = np.empty((WINDOW + 1, BATCH, KEYS))
    for b, k in enumerate(rng.integers(0, len(rolls), BATCH)):
        start = rng.integers(0, rolls[k].shape[0] - WINDOW)
        out[:, b] = rolls[k][start:start + WINDOW + 1]
    return out[:-1], out[1:]


def fresh_trainer(arch: str, *, seed: int, forget_bias: float = 1.0) -> Trainer:
    """A fresh ``arch`` of :data:`SIZES` hidden units (weights from ``seed``) with an 88-key
    readout (``seed + 1``), trained by Adam at ``LR`` with clipping at 1 on the summed key NLL."""
    hidden = SIZES[arch]
    cell = cells.make_cell(arch, cells.init_params(arch, KEYS, hidden, seed=seed,
                                                   forget_bias=forget_bias))
    return Trainer(cell, Readout.init(hidden, KEYS, seed=seed + 1), loss="bce",
                   at_every_step=True, lr=LR)


def param_count(trainer: Trainer) -> int:
    """The cell's and the readout's parameters (any trainer's, not only a chorale model's)."""
    return int(trainer.cell.num_params + trainer.readout.weight.size + trainer.readout.bias.size)


@dataclass(frozen=True)
class EarlyStopped:
    """A model trained with early stopping: its test NLL where its validation NLL was lowest."""

    params: int
    test_nll: float  # at best_step
    best_step: int   # the checkpoint with the lowest validation NLL
    steps: int       # steps trained before stopping
    test_curve: list[float]  # test NLL at every checkpoint, for the record
    seconds: float   # training time, checkpoints excluded


def train_early_stopped(arch: str, data: Chorales, *, seed: int, forget_bias: float = 1.0,
                        max_steps: int, check_every: int, patience: int) -> EarlyStopped:
    """Train on random windows of ``data.train`` (windows drawn from ``[seed, 0]``), scoring the
    validation and test sets every ``check_every`` steps; stop when the validation NLL has not
    improved for ``patience`` steps, or at ``max_steps``. The test NLL reported is the one at the
    checkpoint with the lowest validation NLL (the test set never steers the training)."""
    trainer = fresh_trainer(arch, seed=seed, forget_bias=forget_bias)
    rng = np.random.default_rng([seed, 0])
    best = (np.inf, 0, np.nan)  # (validation NLL, step, test NLL)
    test_curve = []
    seconds = 0.0
    step = 0
    while step < max_steps and step - best[1] < patience:
        start = time.perf_counter()
        for _ in range(check_every):
            trainer.step(*batch(rng, data.train))
        seconds += time.perf_counter() - start
        step += check_every
        valid_nll = nll_per_step(trainer.cell, trainer.readout, data.valid)
        test_curve.append(nll_per_step(trainer.cell, trainer.readout, data.test))
        if valid_nll < best[0]:
            best = (valid_nll, step, test_curve[-1])
    return EarlyStopped(param_count(trainer), float(best[2]), best[1], step, test_curve, seconds)
