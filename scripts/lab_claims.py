"""Precompute the gate lab's claims rows that need minutes of training (cells/claims_data/lab_claims.json).

    OPENBLAS_NUM_THREADS=1 python scripts/lab_claims.py --part music        # ~40 min on one core
    OPENBLAS_NUM_THREADS=1 python scripts/lab_claims.py --part chars        # ~100 min
    OPENBLAS_NUM_THREADS=1 python scripts/lab_claims.py --part chars-early  # ~15 min
    OPENBLAS_NUM_THREADS=1 python scripts/lab_claims.py --part adding       # ~4 min
    OPENBLAS_NUM_THREADS=1 python scripts/lab_claims.py --part adding-bias  # ~20 min

    # one row, one seed, into a scratch file (the stored figure comes back to the printed digits):
    OPENBLAS_NUM_THREADS=1 python scripts/lab_claims.py --part music --cells lstm --seeds 2 --out /tmp/x.json

Every part trains the models of ``--cells`` (default: all of the part's) for each of ``--seeds``,
and writes each (model, seed) into its section of ``--out`` as soon as it is done, keeping what is
there: a model's lists (``test_nll``, ``bpc``, ...) have one value per seed of its ``seeds``, in
increasing seed order, so rows built by several invocations make one section. A section remembers
its protocol (budget, sizes, limits); writing into a section made with another one is refused.

``music`` (Greff et al. 2017 on their music task): the LSTM, Greff's six variants, the GRU, the
MGU, the tanh RNN and the LSTM with forget-gate bias 0, each of ~20k parameters with its 88-key
readout (scripts/chorales.py SIZES), model the Bach chorales of music21's corpus as piano rolls,
trained as bench/bench_chung.py trains (Adam 3e-3, constant, clipping at 1; 32-beat windows,
batch 32) but with early stopping: every 5th of the non-test chorales is a validation set, both
sets are scored every 250 steps, training stops once the validation NLL has not improved for 2,000
steps (or at 10,000), and the test NLL per step at the best validation checkpoint is the figure.

``chars``: the same eleven cells with 64 units learn next-character prediction on Debian's
``fortunes`` (scripts/train_char.py's corpus and held-out split): random 128-character windows,
batch 32, Adam 1e-2 with cosine decay to 1e-3, clipping at 1, float32; each sees ``--chars``
characters (16M) and is scored in bits per character on the whole held-out text, also every 2M
characters on the way (the curve backs the claim that the budget is enough). ``chars-early`` is
the same with 2M characters and no curve: how fast each cell learns, not where it ends.

``adding``: the adding problem at T = 100 for the LSTM, the GRU and the tanh RNN within
``cells.science.claims.ADDING_LIMITS`` (chrono initialisation; bench/bench_adding.py prints the same run).

``adding-bias`` (Jozefowicz et al. 2015): the LSTM with forget-gate bias 1 ("lstm") and 0
("lstm-fb0") on the adding problem at each of ``--lengths`` (100 and 200), 32 units, batches of
64, Adam 1e-2, clipping at 1, float32, no chrono initialisation (it would overwrite the bias). Every
100 steps the MSE on 1,000 held-out sequences is taken; **steps to solve** is the first such step
at which it is below 0.01 (``cells.train.tasks.ADDING_SOLVED_MSE``; always answering 1 scores 1/6).
Training stops there, or unsolved at 5,000 steps (320,000 sequences): stored as null.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import chorales  # noqa: E402
from train_char import MIN_CHAR_COUNT, find_fortunes, learning_rate  # noqa: E402

import cells  # noqa: E402
from cells.core.readout import Readout  # noqa: E402
from cells.io import corpora  # noqa: E402
from cells.models.encoders import build_vocab  # noqa: E402
from cells.science import claims  # noqa: E402
from cells.train.tasks import ADDING_SOLVED_MSE, CharTask, make_task  # noqa: E402
from cells.train.trainer import Trainer  # noqa: E402

COMMAND = "OPENBLAS_NUM_THREADS=1 python scripts/lab_claims.py"
WINDOW, BATCH, LR = 128, 32, 1e-2
"""The character models' training (as scripts/train_char.py)."""
CHECKPOINT_CHARS = 2e6
"""``chars``: held-out bits/char every this many characters seen."""
MUSIC = {"max_steps": 10_000, "check_every": 250, "patience": 2_000}
"""``music``: the early-stopping protocol (steps)."""
ADDING_BIAS = {"hidden": 32, "batch": 64, "lr": 1e-2, "max_steps": 5_000, "check_every": 100,
               "held_out": 1_000}
"""``adding-bias``: the LSTM's size and training, the cap and how often it is checked."""
BIAS_MODELS = ("lstm", "lstm-fb0")

Run = Callable[[str, int], tuple[dict[str, Any], dict[str, Any]]]
"""(model name, seed) -> (the model's constants, this seed's figures)."""


# --------------------------------------------------------------------------- one model, one seed


def train_chars(name: str, seed: int, *, hidden: int, chars: float, task: CharTask, vocab: str,
                held_out: str, curve: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """One character model: ``chars`` characters seen, held-out bits/char at the end (and every
    :data:`CHECKPOINT_CHARS` on the way when ``curve``)."""
    arch, forget_bias = claims.LAB_MODELS[name]
    model = cells.CharModel.untrained(arch, hidden, seed, vocab, dtype=np.float32,
                                      forget_bias=forget_bias)
    trainer = Trainer(model.cell, model.readout, loss="xent", at_every_step=True, lr=LR)
    rng = np.random.default_rng([seed, 0])
    steps = int(np.ceil(chars / (WINDOW * BATCH)))
    every = int(np.ceil(CHECKPOINT_CHARS / (WINDOW * BATCH))) if curve else steps + 1
    points: list[float] = []
    seconds = 0.0
    for step in range(1, steps + 1):
        start = time.perf_counter()
        x, y = task.batch(rng, BATCH, np.float32)
        trainer.step(x, y, learning_rate(LR, step / steps))
        seconds += time.perf_counter() - start
        if step % every == 0 and step < steps:
            points.append(_bits_per_char(trainer, vocab, held_out))
    bpc = _bits_per_char(trainer, vocab, held_out)
    figures = {"bpc": bpc, "seconds": round(seconds, 1)}
    if curve:
        figures["curve"] = [*points, bpc]
    return {"arch": arch, "forget_bias": forget_bias, "params": chorales.param_count(trainer)}, figures


def _bits_per_char(trainer: Trainer, vocab: str, text: str) -> float:
    bpc = cells.CharModel(trainer.cell, vocab, trainer.readout, {}).bits_per_char(text)
    return round(bpc if np.isfinite(bpc) else 99.0, 4)


def train_music(name: str, seed: int, data: chorales.Chorales) -> tuple[dict[str, Any], dict[str, Any]]:
    """One chorale model, early-stopped (:data:`MUSIC`)."""
    arch, forget_bias = claims.LAB_MODELS[name]
    r = chorales.train_early_stopped(arch, data, seed=seed, forget_bias=forget_bias, **MUSIC)
    return ({"arch": arch, "forget_bias": forget_bias, "hidden": chorales.SIZES[arch],
             "params": r.params},
            {"test_nll": round(r.test_nll, 4), "best_step": r.best_step, "steps": r.steps,
             "seconds": round(r.seconds, 1), "test_curve": [round(v, 3) for v in r.test_curve]})


def run_adding(name: str, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """One cell on the adding problem within ``claims.ADDING_LIMITS`` (chrono initialisation)."""
    return {}, claims.run_adding(name, seed=seed)


def steps_to_solve(name: str, seed: int, *, length: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The LSTM with the forget-gate bias of ``name`` on the adding problem at ``length``: the first
    checked step with held-out MSE below the pass mark, or None within the cap (:data:`ADDING_BIAS`)."""
    arch, forget_bias = claims.LAB_MODELS[name]
    cfg = ADDING_BIAS
    task = make_task("adding", length)
    params = cells.init_params(arch, task.input_size, cfg["hidden"], seed=seed,
                               forget_bias=forget_bias, dtype=np.float32)
    trainer = Trainer(cells.make_cell(arch, params),
                      Readout.init(cfg["hidden"], task.output_size, seed=seed + 1, dtype=np.float32),
                      loss=task.loss, at_every_step=task.at_every_step, lr=cfg["lr"])
    rng = np.random.default_rng([seed, 0])
    held_out = task.batch(np.random.default_rng([seed, 1]), cfg["held_out"], np.float32)
    solved_at, mse = None, float("nan")
    start = time.perf_counter()
    for step in range(1, cfg["max_steps"] + 1):
        trainer.step(*task.batch(rng, cfg["batch"], np.float32))
        if step % cfg["check_every"] == 0:
            mse = trainer.evaluate(*held_out)
            if mse < ADDING_SOLVED_MSE:
                solved_at = step
                break
    return ({"arch": arch, "forget_bias": forget_bias},
            {"steps_to_solve": solved_at, "held_out_mse": round(float(mse), 5),
             "seconds": round(time.perf_counter() - start, 1)})


# --------------------------------------------------------------------------- the JSON


def merge_run(models: dict[str, Any], name: str, seed: int, constants: dict[str, Any],
              figures: dict[str, Any]) -> None:
    """Put one (model, seed) into ``models``: the model's constants, and each figure at the seed's
    place in its lists (replacing that seed's old value, if any), seeds kept in increasing order."""
    entry = models.setdefault(name, {"seeds": []})
    entry.update(constants)
    seeds = entry["seeds"]
    if seed in seeds:
        where = seeds.index(seed)
        for key, value in figures.items():
            entry[key][where] = value
        return
    where = int(np.searchsorted(seeds, seed))
    seeds.insert(where, seed)
    for key, value in figures.items():
        entry.setdefault(key, []).insert(where, value)


def open_section(data: dict[str, Any], key: str, protocol: dict[str, Any], **about: Any) -> dict[str, Any]:
    """The section ``key`` of ``data`` (made empty when new), checked to share ``protocol``."""
    section = data.setdefault(key, {"protocol": protocol})
    if section["protocol"] != protocol:
        sys.exit(f"{key}: the file's section was made with {section['protocol']}, not {protocol}: "
                 "write into another --out")
    section.update(about)
    return section


def stored_seeds(models: dict[str, Any]) -> list[int]:
    """Every seed that some model of ``models`` has."""
    return sorted(set().union(*(m["seeds"] for m in models.values())))


def run_all(args: argparse.Namespace, data: dict[str, Any], models: dict[str, Any], run: Run,
            refresh: Callable[[], None], label: str = "") -> None:
    """Every (seed, model) of the invocation, each merged into ``models`` and written to
    ``args.out`` once it is done (``refresh`` first brings the section's command up to date)."""
    for seed in args.seeds:
        for name in args.cells:
            constants, figures = run(name, seed)
            merge_run(models, name, seed, constants, figures)
            refresh()
            write(args.out, data)
            shown = {k: v for k, v in figures.items() if not isinstance(v, list)}
            print(f"{args.part}{label} seed {seed} {name:10} {json.dumps(shown)}", flush=True)


def write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


# --------------------------------------------------------------------------- the parts


def refresher(section: dict[str, Any], part: str, flags: str = "") -> Callable[[], None]:
    """Sets the section's seeds and the command that remakes it whole (every model, every seed)."""
    def refresh() -> None:
        section["seeds"] = stored_seeds(section["models"])
        section["command"] = f"{COMMAND} --part {part}{flags} --seeds {' '.join(map(str, section['seeds']))}"
    return refresh


def part_chars(args: argparse.Namespace, data: dict[str, Any], *, curve: bool) -> None:
    train_text, held_text = corpora.read_fortunes(find_fortunes())
    vocab = build_vocab(train_text, min_count=MIN_CHAR_COUNT)
    task = CharTask(train_text, WINDOW, vocab)
    print(f"{len(train_text):,} training chars, {len(held_text):,} held out, vocab {len(vocab)} + 1",
          flush=True)
    protocol = {"hidden": args.hidden, "chars": args.chars, "window": WINDOW, "batch": BATCH, "lr": LR,
                "checkpoint_chars": CHECKPOINT_CHARS if curve else None}
    section = open_section(
        data, args.part, protocol, held_out_chars=len(held_text),
        corpus="Debian's fortunes (scripts/train_char.py's reading), every 20th fortune held out")
    run_all(args, data, section.setdefault("models", {}), lambda name, seed: train_chars(
        name, seed, hidden=args.hidden, chars=args.chars, task=task, vocab=vocab,
        held_out=held_text, curve=curve),
        refresher(section, args.part, f" --hidden {args.hidden} --chars {args.chars:g}"))


def part_music(args: argparse.Namespace, data: dict[str, Any]) -> None:
    start = time.perf_counter()
    songs = chorales.Chorales.load(validation=True)
    print(f"{songs.describe()} ({time.perf_counter() - start:.0f} s to read)", flush=True)
    protocol = {**MUSIC, "window": chorales.WINDOW, "batch": chorales.BATCH, "lr": chorales.LR}
    section = open_section(data, "music", protocol, data_split=chorales.SPLIT + (
        f"; every {chorales.TEST_EVERY}th of the other chorales is the validation set"),
        data_sizes=songs.describe(), unit="test NLL per step in nats (sum over the 88 keys)")
    run_all(args, data, section.setdefault("models", {}), lambda name, seed: train_music(name, seed, songs),
            refresher(section, "music"))


def part_adding(args: argparse.Namespace, data: dict[str, Any]) -> None:
    section = open_section(data, "adding", claims.ADDING_LIMITS)
    run_all(args, data, section.setdefault("models", {}), run_adding, refresher(section, "adding"))


def part_adding_bias(args: argparse.Namespace, data: dict[str, Any]) -> None:
    section = open_section(data, "adding-bias", ADDING_BIAS)
    by_length = section.setdefault("lengths", {})

    def refresh() -> None:
        seeds = sorted(set().union(*(stored_seeds(s["models"]) for s in by_length.values())))
        section["seeds"] = seeds
        section["command"] = (f"{COMMAND} --part adding-bias --lengths "
                              f"{' '.join(sorted(by_length, key=int))} --seeds {' '.join(map(str, seeds))}")

    for length in args.lengths:
        models = by_length.setdefault(str(length), {"models": {}})["models"]
        run_all(args, data, models, lambda name, seed, T=length: steps_to_solve(name, seed, length=T),
                refresh, label=f" T={length}")


PARTS: dict[str, tuple[Callable[[argparse.Namespace, dict[str, Any]], None], tuple[str, ...]]] = {
    "music": (part_music, tuple(claims.LAB_MODELS)),
    "chars": (lambda args, data: part_chars(args, data, curve=True), tuple(claims.LAB_MODELS)),
    "chars-early": (lambda args, data: part_chars(args, data, curve=False), tuple(claims.LAB_MODELS)),
    "adding": (part_adding, claims.ADDING_ARCHS),
    "adding-bias": (part_adding_bias, BIAS_MODELS),
}
"""part -> (what it runs, the models it offers: --cells defaults to all of them)."""
DEFAULT_CHARS = {"chars": 16e6, "chars-early": 2e6}
DEFAULT_SEEDS = {"music": [0, 1, 2, 3, 4], "chars": [0, 1, 2], "chars-early": [0, 1, 2], "adding": [0],
                 "adding-bias": [0, 1, 2, 3, 4]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=tuple(PARTS), required=True)
    ap.add_argument("--cells", nargs="+", help="the part's models to train (default: all of them)")
    ap.add_argument("--seeds", type=int, nargs="+", help="default: 0-4 (music, adding-bias), 0-2 "
                    "(chars, chars-early), 0 (adding)")
    ap.add_argument("--hidden", type=int, default=64, help="chars: hidden units")
    ap.add_argument("--chars", type=float, help="chars: characters seen (default 16e6; 2e6 early)")
    ap.add_argument("--lengths", type=int, nargs="+", default=[100, 200], help="adding-bias: T")
    ap.add_argument("--out", type=Path, default=claims.CLAIMS_FILE)
    args = ap.parse_args()
    run, offered = PARTS[args.part]
    args.cells = args.cells or list(offered)
    if unknown := set(args.cells) - set(offered):
        ap.error(f"--part {args.part} has no model {', '.join(sorted(unknown))}: choose from "
                 f"{', '.join(offered)}")
    args.seeds = sorted(set(args.seeds or DEFAULT_SEEDS[args.part]))
    args.chars = args.chars or DEFAULT_CHARS.get(args.part)
    data = json.loads(args.out.read_text()) if args.out.exists() else {}
    start = time.perf_counter()
    run(args, data)
    print(f"wrote {args.out} ({args.part}, {time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
