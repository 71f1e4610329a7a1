"""Train the shipped character models (cells.pretrained) on Debian's ``fortunes`` package or on
Python source code.

    OPENBLAS_NUM_THREADS=1 python scripts/train_char.py --arch lstm                 # lstm.npz
    OPENBLAS_NUM_THREADS=1 python scripts/train_char.py --arch lstm --corpus code   # lstm-code.npz

The corpus is read at training time from /usr/share/games/fortunes (``apt-get install fortunes``)
and never committed. Each fortune is reflowed to one line per paragraph; collections that are
not ordinary English (ASCII art, the untranslated ones, the scripture-like Tao Te Ching) are left
out. Every 20th fortune is held out for evaluation, along with scripts/data/heldout_prose.txt,
a passage of ordinary English prose written for this project and never trained on.

``--corpus code``: the ``.py`` files of this Python's standard library, read at training time from
``sysconfig.get_paths()["stdlib"]`` and never committed; the test suites, the codec tables of
``encodings``, ``pydoc_data`` and installed packages are left out. Every 20th file (in sorted path
order) is held out. Files are joined by a blank line, tabs and newlines kept as they are.

Both corpora, and their held-out parts, are defined once in ``cells.io.corpora``, which the Match
page reads too: it searches the held-out parts, text the models never trained on.

Training: random windows of ``--window`` characters from a zero state (as CharModel.trace reads a
text), Adam at ``--lr`` with a cosine decay to a tenth of it, the gradient norm clipped at 1. The
budget is a number of characters seen (``--chars``), the same for every arch, so the comparison
is fair. The run is reproducible from ``--seed``. Weights are written as float32.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cells  # noqa: E402
from cells.io import corpora  # noqa: E402
from cells.models.charmodel import CharModel  # noqa: E402
from cells.models.encoders import build_vocab, char_ids  # noqa: E402
from cells.train.tasks import CharTask  # noqa: E402
from cells.train.trainer import Trainer  # noqa: E402

PROSE = ROOT / "scripts" / "data" / "heldout_prose.txt"
#: Characters seen fewer times than this in the training text map to the unknown token.
MIN_CHAR_COUNT = 25
#: Characters of held-out fortunes scored at each evaluation.
EVAL_CHARS = 60_000
#: Characters of held-out code scored in the model's meta (the held-out files, in order).
CODE_EVAL_CHARS = 400_000


def find_fortunes() -> Path:
    """The fortunes directory, or exit with how to install it."""
    found = corpora.find_fortunes()
    if found is None:
        sys.exit("The fortunes corpus was not found in " + " or ".join(map(str, corpora.FORTUNE_DIRS))
                 + ". Install it with:  apt-get install fortunes")
    return found


@dataclass(frozen=True)
class Corpus:
    """What a model is trained on: the texts, what the file's meta says, and where it is written."""

    name: str  # "" (prose: the file is <arch>.npz) or "code" (<arch>-code.npz)
    train: str
    held_out: str
    trained_on: str
    description: str
    evals: dict[str, str]  # meta key -> held-out text scored at the end (and, cut, while training)

    def out_name(self, arch: str) -> str:
        return f"{arch}-{self.name}" if self.name else arch


def prose_corpus() -> Corpus:
    directory = find_fortunes()
    train, held = corpora.read_fortunes(directory)
    return Corpus("", train, held, "Debian's fortunes (quotes, jokes, literature)",
                  f"{directory}, one line per paragraph, without "
                  f"{', '.join(sorted(corpora.FORTUNES_EXCLUDED))}; "
                  f"every {corpora.HELD_OUT_EVERY}th fortune held out",
                  {"heldout_fortunes_bpc": held, "heldout_prose_bpc": PROSE.read_text(encoding="utf-8")})


def code_corpus() -> Corpus:
    directory = corpora.stdlib_directory()
    train, held = corpora.read_code_corpus(directory)
    version = ".".join(map(str, sys.version_info[:3]))
    return Corpus("code", train, held, f"Python source code (the standard library of Python {version})",
                  f"the .py files of {directory}, without {', '.join(sorted(corpora.CODE_EXCLUDED))}; "
                  f"every {corpora.HELD_OUT_EVERY}th file held out",
                  {"heldout_code_bpc": held[:CODE_EVAL_CHARS]})


CORPORA: dict[str, Callable[[], Corpus]] = {"prose": prose_corpus, "code": code_corpus}
#: Characters seen by default, per corpus (the code models: at most about 4 minutes each at one thread).
DEFAULT_CHARS = {"prose": 16e6, "code": 6e6}


def unigram_bits(train: str, held_out: str, vocab: str) -> float:
    """Bits/char of ``held_out`` under the training text's character frequencies (add-one)."""
    ids = char_ids(train, vocab)
    counts = np.bincount(ids, minlength=len(vocab) + 1) + 1.0
    logp = np.log2(counts / counts.sum())
    return float(-logp[char_ids(held_out, vocab)].mean())


def learning_rate(lr: float, progress: float) -> float:
    """Cosine decay from lr to lr/10 as progress goes from 0 to 1."""
    return lr * (0.1 + 0.45 * (1.0 + np.cos(np.pi * min(progress, 1.0))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=cells.ARCHS, required=True)
    ap.add_argument("--corpus", choices=tuple(CORPORA), default="prose")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--chars", type=float, help="characters seen in training (default: 16e6 prose, "
                    "6e6 code)")
    ap.add_argument("--window", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=250, help="steps between evaluations")
    ap.add_argument("--out", type=Path, help="default: cells/weights_data/<arch>.npz (prose), "
                    "<arch>-code.npz (code)")
    args = ap.parse_args()
    if args.chars is None:
        args.chars = DEFAULT_CHARS[args.corpus]

    corpus = CORPORA[args.corpus]()
    out = args.out or ROOT / "cells" / "weights_data" / f"{corpus.out_name(args.arch)}.npz"
    train_text = corpus.train
    vocab = build_vocab(train_text, min_count=MIN_CHAR_COUNT)
    task = CharTask(train_text, args.window, vocab)
    unigram = {k: round(unigram_bits(train_text, text, vocab), 3) for k, text in corpus.evals.items()}
    print(f"corpus {corpus.description}: {len(train_text):,} training chars, "
          f"{len(corpus.held_out):,} held out, vocab {len(vocab)} + unknown; unigram bits/char {unigram}",
          flush=True)

    model = CharModel.untrained(args.arch, args.hidden, args.seed, vocab, dtype=np.float32)
    trainer = Trainer(model.cell, model.readout, loss="xent", at_every_step=True, lr=args.lr)
    rng = np.random.default_rng([args.seed, 0])
    chars_per_step = args.window * args.batch
    steps = int(np.ceil(args.chars / chars_per_step))

    def snapshot(chars_seen: int) -> CharModel:
        corpus_flag = f" --corpus {args.corpus}" if args.corpus != "prose" else ""
        return CharModel(trainer.cell, vocab, trainer.readout, {
            "trained_on": corpus.trained_on,
            "corpus": corpus.description,
            "chars_seen": chars_seen,
            "command": f"python scripts/train_char.py --arch {args.arch}{corpus_flag} --hidden {args.hidden} "
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
            scores = " ".join(f"{k.removesuffix('_bpc')} {m.bits_per_char(text[:EVAL_CHARS]):.3f}"
                              for k, text in corpus.evals.items())
            print(f"step {step}/{steps} chars {step * chars_per_step / 1e6:.2f}M train {running:.3f} "
                  f"{scores} bits/char  {time.perf_counter() - start:.0f}s", flush=True)
    model = snapshot(steps * chars_per_step)
    model.meta["train_seconds"] = round(time.perf_counter() - start)
    for k, text in corpus.evals.items():
        model.meta[k] = round(model.bits_per_char(text), 3)
        model.meta[k.replace("_bpc", "_unigram_bpc")] = unigram[k]
    out.parent.mkdir(parents=True, exist_ok=True)
    cells.save_model(model, out, dtype=np.float32)
    print(f"wrote {out}: {model.meta}", flush=True)


if __name__ == "__main__":
    main()
