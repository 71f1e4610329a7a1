"""Train the shipped melody models (cells.pretrained("lstm-melody") and the like) on Essen folk songs.

    OPENBLAS_NUM_THREADS=1 python scripts/train_melody.py --arch lstm    # then gru, rnn

The corpus is the Essen folk song collection in music21's corpus (``pip install music21``, a
training-time dependency only; see scripts/essen.py), read at training time and never committed.
Every 10th melody is held out (the split is ``cells.io.corpora``'s, shared with the Match page).
A note is one token, pitch and duration together ("C4 q", "r e.", ``cells.melody``); tokens seen
fewer than ``MIN_COUNT`` times in training, and notes whose length the notation cannot write
(triplets, breves), are the unknown token.

Training: windows of ``--window`` notes that start at the start of a random melody (running on into
the next melodies when it is shorter), from a zero state as the app reads a melody, Adam at ``--lr``
with a cosine decay to a tenth of it, gradient norm clipped at 1. The budget is a number of notes
seen (``--notes``), the same for every cell. The run is reproducible from ``--seed``. The file's
meta records the held-out log-likelihood per note beside a unigram and a bigram baseline (add-0.1,
fitted on the same training melodies, scored on the same held-out notes), and the unit whose state
best tracks the position in the bar: chosen on training melodies, its correlation measured on the
held-out ones (and, for comparison, a least-squares read-out of all units). Weights are written
as float32 to cells/weights_data/<arch>-melody.npz.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from train_char import learning_rate  # noqa: E402

import cells  # noqa: E402
from cells.io import corpora  # noqa: E402
from cells.io.pretrained import WEIGHTS_DIR  # noqa: E402
from cells.models.encoders import one_hot  # noqa: E402
from cells.models.melody import MelodyModel  # noqa: E402
from cells.music.notation import UNKNOWN_NOTE  # noqa: E402
from cells.science import interpret  # noqa: E402
from cells.science.baselines import ngram_log_likelihood  # noqa: E402
from cells.train.trainer import Trainer  # noqa: E402

MIN_COUNT = 5
#: The bar-position unit is chosen on every CHOOSE_EVERY-th training melody (all meters alike).
CHOOSE_EVERY = 9


def next_bar_position(song: dict) -> np.ndarray:
    """(T,) where in the bar the next note starts, in quarters (cells.music.rhythm.BAR_POSITION)."""
    notes = song["notes"]
    pos = np.array([n[2] for n in notes], dtype=np.float64)
    nxt = np.empty(len(notes))
    nxt[:-1] = pos[1:]
    _midi, ql, p, bar = notes[-1]
    nxt[-1] = (p + ql) % bar
    return nxt


def states(model: MelodyModel, melodies: list[np.ndarray], state: str = "h") -> np.ndarray:
    """Every melody read from a zero state, the states stacked: (sum of T, H)."""
    out = []
    for ids in melodies:
        tr = model.cell.forward(model.inputs(ids))
        out.append(tr.c if state == "c" and tr.c is not None else tr.h)
    return np.concatenate(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=cells.ARCHS, required=True)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--notes", type=float, default=8e6, help="notes seen in training")
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=250, help="steps between evaluations")
    ap.add_argument("--out", type=Path, help="default: cells/weights_data/<arch>-melody.npz")
    args = ap.parse_args()
    out = args.out or WEIGHTS_DIR / f"{args.arch}-melody.npz"

    songs = corpora.read_essen()
    train_songs, held_songs = corpora.melody_split(songs)
    counts = Counter(t for s in train_songs for t in corpora.song_tokens(s))
    vocab = tuple(t for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                  if n >= MIN_COUNT and t != UNKNOWN_NOTE)
    model = MelodyModel.untrained(args.arch, args.hidden, args.seed, vocab, dtype=np.float32)
    enc = model.encoder
    train_ids = [enc.ids(corpora.song_tokens(s))[0] for s in train_songs]
    held_ids = [enc.ids(corpora.song_tokens(s))[0] for s in held_songs]
    V = enc.input_size
    stream = np.concatenate(train_ids)
    starts = np.cumsum([0, *map(len, train_ids)])[:-1]
    starts = starts[starts + args.window + 1 <= len(stream)]
    unk = float(np.mean(stream == enc.unknown_id))
    print(f"{len(songs)} melodies: {len(train_songs)} training ({len(stream):,} notes), "
          f"{len(held_songs)} held out ({sum(map(len, held_ids)):,} notes); vocabulary {len(vocab)} "
          f"+ unknown ({unk:.2%} of training notes unknown)", flush=True)
    unigram = ngram_log_likelihood(train_ids, held_ids, V, 1)
    bigram = ngram_log_likelihood(train_ids, held_ids, V, 2)
    print(f"baselines, held-out ln p per note: unigram {unigram:.3f}, bigram {bigram:.3f}", flush=True)

    trainer = Trainer(model.cell, model.readout, loss="xent", at_every_step=True, lr=args.lr)
    rng = np.random.default_rng([args.seed, 0])
    per_step = args.window * args.batch
    steps = int(np.ceil(args.notes / per_step))

    def snapshot() -> MelodyModel:
        return MelodyModel(trainer.cell, vocab, trainer.readout)

    start = time.perf_counter()
    running = None
    for step in range(1, steps + 1):
        first = rng.choice(starts, size=args.batch)  # (B,)
        window = stream[first[None, :] + np.arange(args.window + 1)[:, None]]  # (W+1, B)
        loss = trainer.step(one_hot(window[:-1], V, np.float32), window[1:],
                            learning_rate(args.lr, step / steps))
        running = loss if running is None else 0.98 * running + 0.02 * loss
        if step % args.eval_every == 0 or step == steps:
            ll = snapshot().log_likelihood(held_ids[:300])
            print(f"step {step}/{steps} train {running:.3f} held-out(300) ln p {ll:.3f} "
                  f"{time.perf_counter() - start:.0f}s", flush=True)
    seconds = time.perf_counter() - start
    model = snapshot()
    heldout = model.log_likelihood(held_ids)

    # the unit that tracks the position in the bar: chosen on training melodies, scored held out
    rhythm = {}
    chosen = slice(0, None, CHOOSE_EVERY)
    signal = np.concatenate([next_bar_position(s) for s in train_songs[chosen]])
    held_signal = np.concatenate([next_bar_position(s) for s in held_songs])
    for state in ("h", "c") if model.cell.has_cell_state else ("h",):
        choose, held = states(model, train_ids[chosen], state), states(model, held_ids, state)
        best = interpret.best_units(choose, {"bar": signal}, k=1)["bar"][0]
        r_held = float(interpret.correlations(held, held_signal)[0, best.unit])
        # all units at once: a least-squares read-out fitted on the same training melodies
        coef = np.linalg.lstsq(np.c_[choose, np.ones(len(choose))], signal, rcond=None)[0]
        r_probe = float(np.corrcoef(np.c_[held, np.ones(len(held))] @ coef, held_signal)[0, 1])
        rhythm[state] = {"unit": best.unit, "r_train": round(best.r, 3), "r_heldout": round(r_held, 3),
                         "all_units_r_heldout": round(r_probe, 3)}
        print(f"bar-position unit ({state}): {best.unit}, r = {best.r:+.3f} on "
              f"{len(train_ids[chosen])} training melodies, {r_held:+.3f} held out; all units "
              f"(least squares) {r_probe:.3f} held out", flush=True)

    model.meta.update({
        "trained_on": "the Essen folk songs (music21's corpus), one token per note",
        "corpus": f"music21 corpus essenFolksong, {len(songs)} melodies with a time signature; every "
                  f"{corpora.MELODY_HELD_OUT_EVERY}th held out",
        "notes_seen": steps * per_step,
        "heldout_loglik_per_note": round(heldout, 4),
        "unigram_loglik_per_note": round(unigram, 4),
        "bigram_loglik_per_note": round(bigram, 4),
        "heldout_notes": int(sum(len(s) - 1 for s in held_ids)),
        "bar_unit": rhythm,
        "train_seconds": round(seconds),
        "command": f"python scripts/train_melody.py --arch {args.arch} --hidden {args.hidden} "
                   f"--notes {args.notes:g} --window {args.window} --batch {args.batch} "
                   f"--lr {args.lr:g} --seed {args.seed}",
    })
    out.parent.mkdir(parents=True, exist_ok=True)
    cells.save_model(model, out, dtype=np.float32)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB): {model.meta}", flush=True)


if __name__ == "__main__":
    main()
