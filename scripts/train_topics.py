"""Train the shipped topic classifiers (cells.pretrained "lstm-topics", "gru-topics", "rnn-topics")
on Debian's ``fortunes``: which collection a fortune comes from, read one character at a time.

    OPENBLAS_NUM_THREADS=1 python scripts/train_topics.py --arch lstm     # lstm-topics.npz

The corpus is read at training time from /usr/share/games/fortunes (``apt-get install fortunes``)
and never committed. The topics (:data:`TOPICS`) are collections, or two collections on one
subject merged; each fortune is one text (its paragraphs reflowed as scripts/train_char.py does,
joined by a space), cut to its first :data:`MAX_CHARS` characters. Every
:data:`HELD_OUT_EVERY`-th fortune of each topic is held out, never trained on, and scored at the
end: accuracy (the share of held-out fortunes whose topic is the likeliest after the last
character) and balanced accuracy (the mean over topics of each one's share found).

The model is what an upload of the same kind would be: characters one-hot through an identity
embedding (the vocabulary's characters seen at least :data:`MIN_CHAR_COUNT` times, then
``<unk>``), the recurrent cell, and a linear head on its output at every step whose last step is
the decision (softmax over the topics), trained with cross-entropy on that last step and, with weight
``--replicate``, at every step (target replication, Lipton, Kale, Elkan & Wetzel 2016, "Learning
to Diagnose with LSTM Recurrent Neural Networks": the topic is the target after every character
too, which gives the model a signal at every step and makes its probabilities along the text
meaningful); ``cells.train.trainer.Trainer``, exact BPTT, Adam with a cosine decay, the gradient
norm clipped at 1. Batches draw every topic equally often (the small ones repeated), and fortunes of similar
length together, each cropped to a random window of the batch's shortest length. The baseline,
written to the same file's meta: a bag of characters (each fortune's character frequencies,
standardised) into a multinomial logistic regression with the same balanced weighting, trained to
convergence by full-batch Adam. Everything is seeded (``--seed``); weights are written as float32
with the command and the figures in the file's meta.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from train_char import find_fortunes, learning_rate, reflow  # noqa: E402

import cells  # noqa: E402
from cells.core.readout import Readout, log_softmax  # noqa: E402
from cells.io.pretrained import WEIGHTS_DIR  # noqa: E402
from cells.models.encoders import UNKNOWN_TOKEN, EmbeddingEncoder, build_vocab  # noqa: E402
from cells.models.reader import Reader  # noqa: E402
from cells.train.trainer import Adam, Trainer, cross_entropy  # noqa: E402

TOPICS = {
    "computers": ("computers",),
    "science": ("science",),
    "politics & law": ("politics", "law"),
    "love": ("love", "men-women"),
    "food": ("food",),
}
"""Topic -> the fortune collections it is made of."""
HELD_OUT_EVERY = 5
MAX_CHARS = 400
"""Characters of a fortune read (training windows and held-out texts alike)."""
MIN_CHARS = 20
"""Shorter fortunes are left out: too little to read."""
MIN_CHAR_COUNT = 10
"""Characters seen fewer times than this in the training texts read as ``<unk>``."""


def fortunes_of(directory: Path, collection: str) -> list[str]:
    """The fortunes of one collection, each as one line of text."""
    raw = (directory / collection).read_text(encoding="utf-8", errors="replace")
    texts = (" ".join(reflow(f)) for f in raw.split("\n%\n"))
    return [t[:MAX_CHARS] for t in texts if len(t) >= MIN_CHARS]


def read_topics(directory: Path) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(training, held-out) lists of (text, topic id): every HELD_OUT_EVERY-th fortune held out."""
    train, held_out = [], []
    for label, (name, collections) in enumerate(TOPICS.items()):
        texts = [t for c in collections for t in fortunes_of(directory, c)]
        for k, text in enumerate(texts):
            (held_out if k % HELD_OUT_EVERY == 0 else train).append((text, label))
        print(f"{name}: {len(texts)} fortunes ({', '.join(collections)})", flush=True)
    return train, held_out


class ReplicatedTargets(Trainer):
    """A trainer whose loss is Lipton et al.'s target replication: (1 - alpha) times the
    cross-entropy of the last step plus alpha times its mean over every step, the target (B,) the
    same at every step. The readout runs on every h_t (``at_every_step``)."""

    def __init__(self, *args, alpha: float, **kwargs) -> None:
        super().__init__(*args, loss="xent", at_every_step=True, **kwargs)
        self.alpha = alpha

    def _loss(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """out (T, B, O), y (B,) -> (loss, dL/d out)."""
        every, d_every = cross_entropy(out, np.broadcast_to(y, out.shape[:2]))
        last, d_last = cross_entropy(out[-1], y)
        d_out = self.alpha * d_every
        d_out[-1] += (1 - self.alpha) * d_last
        return self.alpha * every + (1 - self.alpha) * last, d_out


class Batches:
    """Class-balanced batches of similar-length fortunes, cropped to the batch's shortest."""

    def __init__(self, data: list[tuple[np.ndarray, int]], batch: int, classes: int,
                 rng: np.random.Generator) -> None:
        self.data, self.batch, self.rng = data, batch, rng
        self.by_class = [[k for k, (_, y) in enumerate(data) if y == c] for c in range(classes)]

    def epoch(self) -> list[list[int]]:
        """One pass: every topic as often as the largest (resampled), grouped by length."""
        most = max(map(len, self.by_class))
        picked = np.concatenate([self.rng.choice(ids, most, replace=len(ids) < most)
                                 for ids in self.by_class])
        lengths = np.array([len(self.data[k][0]) for k in picked]) + self.rng.uniform(0, 8, len(picked))
        ordered = picked[np.argsort(lengths)]
        batches = [ordered[s:s + self.batch].tolist() for s in range(0, len(ordered), self.batch)]
        self.rng.shuffle(batches)
        return batches

    def arrays(self, ids: list[int], size: int) -> tuple[np.ndarray, np.ndarray]:
        """x (T, B, size) one-hot float32, y (B,): random windows of the shortest length."""
        T = min(len(self.data[k][0]) for k in ids)
        x = np.zeros((T, len(ids), size), np.float32)
        for b, k in enumerate(ids):
            seq = self.data[k][0]
            start = self.rng.integers(0, len(seq) - T + 1)
            x[np.arange(T), b, seq[start:start + T]] = 1.0
        return x, np.array([self.data[k][1] for k in ids])


def accuracy(predicted: np.ndarray, truth: np.ndarray, classes: int) -> tuple[float, float]:
    """(accuracy, balanced accuracy: the mean over classes of the share of each found)."""
    recall = [np.mean(predicted[truth == c] == c) for c in range(classes)]
    return float(np.mean(predicted == truth)), float(np.mean(recall))


def bag_of_characters(train: list[tuple[np.ndarray, int]], held_out: list[tuple[np.ndarray, int]],
                      size: int, classes: int, seed: int) -> tuple[float, float]:
    """The baseline's (accuracy, balanced accuracy) on the held-out fortunes: character
    frequencies, standardised, into a class-balanced multinomial logistic regression."""

    def features(data):
        counts = np.stack([np.bincount(ids, minlength=size) for ids, _ in data]).astype(np.float64)
        return counts / counts.sum(axis=1, keepdims=True), np.array([y for _, y in data])

    x, y = features(train)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    x = (x - mean) / std
    weight = len(y) / (classes * np.bincount(y, minlength=classes))[y]  # (N,) balanced
    rng = np.random.default_rng(seed)
    params = {"W": rng.normal(0, 0.01, (size, classes)), "b": np.zeros(classes)}
    adam = Adam(params, lr=1e-2)
    for _ in range(3000):
        logits = x @ params["W"] + params["b"]
        p = np.exp(log_softmax(logits))
        p[np.arange(len(y)), y] -= 1.0
        d = p * (weight / len(y))[:, None]  # d(weighted mean cross-entropy)/d logits
        adam.step({"W": x.T @ d + 1e-3 * params["W"], "b": d.sum(axis=0)})
    xt, yt = features(held_out)
    predicted = (((xt - mean) / std) @ params["W"] + params["b"]).argmax(axis=1)
    return accuracy(predicted, yt, classes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=("lstm", "gru", "rnn"), required=True)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--replicate", type=float, default=0.5,
                    help="weight of the every-step loss (target replication; 0: the last step only)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="default: cells/weights_data/<arch>-topics.npz")
    args = ap.parse_args()
    out = args.out or WEIGHTS_DIR / f"{args.arch}-topics.npz"

    directory = find_fortunes()
    train_texts, held_texts = read_topics(directory)
    labels = list(TOPICS)
    classes = len(labels)
    vocab = build_vocab("".join(t for t, _ in train_texts), min_count=MIN_CHAR_COUNT)
    tokens = (*vocab, UNKNOWN_TOKEN)
    encoder = EmbeddingEncoder(tokens, np.eye(len(tokens), dtype=np.float32), unit="char")
    size = encoder.input_size
    train = [(encoder.ids(t)[0], y) for t, y in train_texts]
    held_out = [(encoder.ids(t)[0], y) for t, y in held_texts]
    print(f"{len(train)} training fortunes, {len(held_out)} held out; vocabulary {len(vocab)} + <unk>",
          flush=True)
    baseline = bag_of_characters(train, held_out, size, classes, args.seed)
    print(f"bag-of-characters baseline: held-out accuracy {baseline[0]:.3f}, balanced "
          f"{baseline[1]:.3f}", flush=True)

    params = cells.init_params(args.arch, size, args.hidden, seed=args.seed, dtype=np.float32)
    readout = Readout.init(args.hidden, classes, seed=args.seed + 1, dtype=np.float32)
    trainer = ReplicatedTargets(cells.make_cell(args.arch, params), readout, lr=args.lr,
                                alpha=args.replicate)
    batches = Batches(train, args.batch, classes, np.random.default_rng([args.seed, 0]))
    steps = args.epochs * len(batches.epoch())

    def evaluate() -> tuple[Reader, tuple[float, float], float]:
        reader = Reader(trainer.cell, encoder, trainer.readout, {"labels": labels})
        final = np.stack([reader.read(text).logits[-1] for text, _ in held_texts])  # (N, O)
        truth = np.array([y for _, y in held_texts])
        return reader, accuracy(final.argmax(axis=1), truth, classes), cross_entropy(final, truth)[0]

    start, step, running = time.perf_counter(), 0, None
    for epoch in range(1, args.epochs + 1):
        for ids in batches.epoch():
            step += 1
            x, y = batches.arrays(ids, size)
            loss = trainer.step(x, y, learning_rate(args.lr, step / steps))
            running = loss if running is None else 0.98 * running + 0.02 * loss
        _, (acc, balanced), nats = evaluate()
        print(f"epoch {epoch}/{args.epochs} step {step} train {running:.3f} nats (every step and "
              f"last), held-out "
              f"{nats:.3f} nats, accuracy {acc:.3f}, balanced {balanced:.3f}  "
              f"{time.perf_counter() - start:.0f}s", flush=True)
    reader, (acc, balanced), nats = evaluate()
    counts = {name: [sum(y == c for _, y in data) for data in (train_texts, held_texts)]
              for c, name in enumerate(labels)}
    reader.meta.update({
        "labels": labels,
        "trained_on": "Debian's fortunes, each fortune labelled by its collection: "
                      + "; ".join(f"{name} ({', '.join(TOPICS[name])})" for name in labels),
        "task": "topic of a fortune, read one character at a time; the decision is the head on "
                "the last character's output",
        "fortunes_train_heldout": counts,
        "heldout_accuracy": round(acc, 3),
        "heldout_balanced_accuracy": round(balanced, 3),
        "heldout_nats": round(nats, 3),
        "baseline": "bag of characters: standardised character frequencies, multinomial logistic "
                    "regression, class-balanced",
        "baseline_heldout_accuracy": round(baseline[0], 3),
        "baseline_heldout_balanced_accuracy": round(baseline[1], 3),
        "train_seconds": round(time.perf_counter() - start),
        "command": f"OPENBLAS_NUM_THREADS=1 python scripts/train_topics.py --arch {args.arch} "
                   f"--hidden {args.hidden} --epochs {args.epochs} --batch {args.batch} "
                   f"--lr {args.lr:g} --replicate {args.replicate:g} --seed {args.seed}",
    })
    out.parent.mkdir(parents=True, exist_ok=True)
    cells.save_model(reader, out, dtype=np.float32)
    print(f"wrote {out}: {reader.meta}", flush=True)


if __name__ == "__main__":
    main()
