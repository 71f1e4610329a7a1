"""Train the shipped character models (cells.pretrained) on Debian's ``fortunes`` package.

    OPENBLAS_NUM_THREADS=1 python scripts/train_char.py --arch lstm

The corpus is read at training time from /usr/share/games/fortunes (``apt-get install fortunes``)
and never committed. Each fortune is reflowed to one line per paragraph; collections that are
not ordinary English (ASCII art, the untranslated ones, the scripture-like Tao Te Ching) are left
out. Every 20th fortune is held out for evaluation, along with scripts/data/heldout_prose.txt,
a passage of ordinary English prose written for this project and never trained on.

Training: random windows of ``--window`` characters from a zero state (as CharModel.trace reads a
text), Adam at ``--lr`` with a cosine decay to a tenth of it, the gradient norm clipped at 1. The
budget is a number of characters seen (``--chars``), the same for every arch, so the comparison
is fair. The run is reproducible from ``--seed``. Weights are written as float32.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cells  # noqa: E402
from cells.charmodel import CharModel  # noqa: E402
from cells.tasks import CharTask, build_vocab  # noqa: E402
from cells.train import Trainer  # noqa: E402

FORTUNE_DIRS = (Path("/usr/share/games/fortunes"), Path("/usr/share/fortune"))
#: Collections left out: pictures, text that is not English, and scripture.
EXCLUDED = {"ascii-art", "translate-me", "tao"}
HELD_OUT_EVERY = 20
PROSE = ROOT / "scripts" / "data" / "heldout_prose.txt"
#: Characters seen fewer times than this in the training text map to the unknown token.
MIN_CHAR_COUNT = 25
#: Characters of held-out fortunes scored at each evaluation.
EVAL_CHARS = 60_000


def find_fortunes() -> Path:
    """The fortunes directory, or exit with how to install it."""
    for d in FORTUNE_DIRS:
        if (d / "fortunes").is_file():
            return d
    sys.exit("The fortunes corpus was not found in " + " or ".join(map(str, FORTUNE_DIRS))
             + ". Install it with:  apt-get install fortunes")


def reflow(fortune: str) -> list[str]:
    """A fortune's paragraphs, each on one line with runs of whitespace made single spaces."""
    fortune = re.sub(r".\x08", "", fortune)                 # overstrike: keep the last character
    fortune = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", fortune)  # other control chars -> spaces
    paragraphs = re.split(r"\n\s*\n", fortune)
    lines = [" ".join(p.split()) for p in paragraphs]
    return [p for p in lines if p and _is_prose(p)]


def _is_prose(paragraph: str) -> bool:
    """Mostly letters and spaces: drops ASCII art, tables and line noise."""
    wordy = sum(ch.isalpha() or ch == " " for ch in paragraph)
    return wordy >= 0.75 * len(paragraph)


def read_corpus(directory: Path) -> tuple[str, str]:
    """(training text, held-out text): one paragraph per line, every 20th fortune held out."""
    fortunes = []
    for path in sorted(directory.iterdir()):
        if path.suffix or path.is_symlink() or not path.is_file() or path.name in EXCLUDED:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        fortunes += [f for f in re.split(r"^%\s*$", text, flags=re.MULTILINE) if f.strip()]
    train, held_out = [], []
    for k, fortune in enumerate(fortunes):
        (held_out if k % HELD_OUT_EVERY == 0 else train).extend(reflow(fortune))
    return "\n".join(train) + "\n", "\n".join(held_out) + "\n"


def learning_rate(lr: float, progress: float) -> float:
    """Cosine decay from lr to lr/10 as progress goes from 0 to 1."""
    return lr * (0.1 + 0.45 * (1.0 + np.cos(np.pi * min(progress, 1.0))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=cells.ARCHS, required=True)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--chars", type=float, default=16e6, help="characters seen in training")
    ap.add_argument("--window", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=250, help="steps between evaluations")
    ap.add_argument("--out", type=Path, help="default: cells/weights_data/<arch>.npz")
    args = ap.parse_args()
    out = args.out or ROOT / "cells" / "weights_data" / f"{args.arch}.npz"

    directory = find_fortunes()
    train_text, held_text = read_corpus(directory)
    prose = PROSE.read_text(encoding="utf-8")
    vocab = build_vocab(train_text, min_count=MIN_CHAR_COUNT)
    task = CharTask(train_text, args.window, vocab)
    print(f"corpus {directory}: {len(train_text):,} training chars, {len(held_text):,} held out, "
          f"vocab {len(vocab)} + unknown", flush=True)

    model = CharModel.untrained(args.arch, args.hidden, args.seed, vocab, dtype=np.float32)
    trainer = Trainer(model.cell, model.readout, loss="xent", at_every_step=True, lr=args.lr)
    rng = np.random.default_rng([args.seed, 0])
    chars_per_step = args.window * args.batch
    steps = int(np.ceil(args.chars / chars_per_step))

    def snapshot(chars_seen: int) -> CharModel:
        return CharModel(trainer.cell, vocab, trainer.readout, {
            "trained_on": "Debian's fortunes (quotes, jokes, literature)",
            "corpus": f"{directory}, one line per paragraph, without "
                      f"{', '.join(sorted(EXCLUDED))}; every {HELD_OUT_EVERY}th fortune held out",
            "chars_seen": chars_seen,
            "command": f"python scripts/train_char.py --arch {args.arch} --hidden {args.hidden} "
                       f"--chars {args.chars:g} --window {args.window} --batch {args.batch} "
                       f"--lr {args.lr:g} --seed {args.seed}",
        })

    start = time.perf_counter()
    running = None
    for step in range(1, steps + 1):
        x, y = task.batch(rng, args.batch, np.float32)
        loss = trainer.step(x, y, learning_rate(args.lr, step / steps)) / np.log(2)
        running = loss if running is None else 0.98 * running + 0.02 * loss
        if step % args.eval_every == 0 or step == steps:
            m = snapshot(step * chars_per_step)
            print(f"step {step}/{steps} chars {step * chars_per_step / 1e6:.2f}M "
                  f"train {running:.3f} held-out fortunes {m.bits_per_char(held_text[:EVAL_CHARS]):.3f}"
                  f" prose {m.bits_per_char(prose):.3f} bits/char  {time.perf_counter() - start:.0f}s",
                  flush=True)
    model = snapshot(steps * chars_per_step)
    model.meta["heldout_fortunes_bpc"] = round(model.bits_per_char(held_text), 3)
    model.meta["heldout_prose_bpc"] = round(model.bits_per_char(prose), 3)
    model.meta["train_seconds"] = round(time.perf_counter() - start)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out, dtype=np.float32)
    print(f"wrote {out}: {model.meta}", flush=True)


if __name__ == "__main__":
    main()
