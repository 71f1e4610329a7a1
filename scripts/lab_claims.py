"""Precompute the gate lab's claims rows that need minutes of training (cells/claims_data/lab_claims.json).

    OPENBLAS_NUM_THREADS=1 python scripts/lab_claims.py --part chars    # ~25 min on one core
    OPENBLAS_NUM_THREADS=1 python scripts/lab_claims.py --part adding   # ~5 min on one core

``chars``: every cell of the comparison (the LSTM, Greff et al.'s six variants, the GRU, the MGU,
the tanh RNN, and the LSTM with forget-gate bias 0) learns next-character prediction on Debian's
``fortunes`` with the same budget: ``--hidden`` units, ``--chars`` characters seen (random
128-character windows, batch 32, Adam 1e-2 with cosine decay to 1e-3, clipping at 1, float32),
seeds 0, 1 and 2. The corpus and its held-out split are scripts/train_char.py's (every 20th fortune
held out); each model is scored in bits per character on the whole held-out text.

``adding``: the adding problem at T = 100 (Hochreiter & Schmidhuber's length) for the LSTM, the
GRU and the tanh RNN, within the limits of ``cells.science.claims.ADDING_LIMITS`` (bench/bench_adding.py
prints the same run against the claim).

Each part rewrites its own section of the JSON, with the command that made it; the table on the
Lab page (``cells.science.claims.claims_table``) decides from these figures whether each claim held.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from train_char import MIN_CHAR_COUNT, find_fortunes, learning_rate  # noqa: E402

from cells.io import corpora  # noqa: E402
from cells.models.charmodel import CharModel  # noqa: E402
from cells.models.encoders import build_vocab  # noqa: E402
from cells.science import claims  # noqa: E402
from cells.train.tasks import CharTask  # noqa: E402
from cells.train.trainer import Trainer  # noqa: E402

WINDOW, BATCH, LR = 128, 32, 1e-2


def train_chars(arch: str, forget_bias: float, *, hidden: int, chars: float, seed: int,
                task: CharTask, vocab: str, held_out: str) -> dict:
    """One model: train on ``chars`` characters, score the held-out fortunes in bits/char."""
    model = CharModel.untrained(arch, hidden, seed, vocab, dtype=np.float32, forget_bias=forget_bias)
    trainer = Trainer(model.cell, model.readout, loss="xent", at_every_step=True, lr=LR)
    rng = np.random.default_rng([seed, 0])
    steps = int(np.ceil(chars / (WINDOW * BATCH)))
    start = time.perf_counter()
    for step in range(1, steps + 1):
        x, y = task.batch(rng, BATCH, np.float32)
        trainer.step(x, y, learning_rate(LR, step / steps))
    seconds = time.perf_counter() - start
    trained = CharModel(trainer.cell, vocab, trainer.readout, {})
    bpc = trained.bits_per_char(held_out)
    params = trained.cell.num_params + trained.readout.weight.size + trained.readout.bias.size
    return {"bpc": round(bpc if np.isfinite(bpc) else 99.0, 4), "seconds": round(seconds, 1),
            "params": int(params)}


def part_chars(args: argparse.Namespace) -> dict:
    train_text, held_text = corpora.read_fortunes(find_fortunes())
    vocab = build_vocab(train_text, min_count=MIN_CHAR_COUNT)
    task = CharTask(train_text, WINDOW, vocab)
    print(f"{len(train_text):,} training chars, {len(held_text):,} held out, vocab {len(vocab)} + 1",
          flush=True)
    results: dict[str, dict] = {}
    for seed in args.seeds:
        for name, (arch, forget_bias) in claims.CHAR_MODELS.items():
            r = train_chars(arch, forget_bias, hidden=args.hidden, chars=args.chars, seed=seed,
                            task=task, vocab=vocab, held_out=held_text)
            entry = results.setdefault(name, {"arch": arch, "forget_bias": forget_bias,
                                              "params": r["params"], "bpc": [], "seconds": []})
            entry["bpc"].append(r["bpc"])
            entry["seconds"].append(r["seconds"])
            print(f"seed {seed} {name:12} {r['bpc']:.4f} bits/char  {r['seconds']:.0f} s  "
                  f"{r['params']:,} params", flush=True)
    return {
        "command": "OPENBLAS_NUM_THREADS=1 python scripts/lab_claims.py --part chars "
                   f"--hidden {args.hidden} --chars {args.chars:g} --seeds "
                   f"{' '.join(map(str, args.seeds))}",
        "corpus": "Debian's fortunes (scripts/train_char.py's reading), every 20th fortune held out",
        "hidden": args.hidden, "chars": args.chars, "seeds": list(args.seeds),
        "held_out_chars": len(held_text), "window": WINDOW, "batch": BATCH, "lr": LR,
        "models": results,
    }


def part_adding(args: argparse.Namespace) -> dict:
    runs = {}
    for arch in claims.ADDING_ARCHS:
        r = claims.run_adding(arch, seed=0)
        runs[arch] = r
        print(f"adding T={claims.ADDING_LIMITS['length']} {arch:5} test MSE {r['test_mse']:.4f} "
              f"solved {r['solved']} steps {r['steps']} {r['seconds']:.0f} s, first batch < 0.01 at "
              f"{r['first_step_below']}", flush=True)
    return {"command": "OPENBLAS_NUM_THREADS=1 python scripts/lab_claims.py --part adding",
            "limits": claims.ADDING_LIMITS, "runs": runs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("chars", "adding"), required=True)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--chars", type=float, default=2e6, help="characters seen by each model")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", type=Path, default=claims.CLAIMS_FILE)
    args = ap.parse_args()
    start = time.perf_counter()
    section = part_chars(args) if args.part == "chars" else part_adding(args)
    section["total_seconds"] = round(time.perf_counter() - start)
    data = json.loads(args.out.read_text()) if args.out.exists() else {}
    data[args.part] = section
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {args.out} ({args.part}, {section['total_seconds']} s)", flush=True)


if __name__ == "__main__":
    main()
