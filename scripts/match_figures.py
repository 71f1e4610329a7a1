"""What a match tells: select the inside of a quotation (of brackets, of a code string) on the Match
page's default text, and measure how many of the top 50 matches in the held-out corpus lie inside
quotes (brackets, strings) too, against 50 random spans of the same lengths.

    OPENBLAS_NUM_THREADS=1 python scripts/match_figures.py

For each shipped model (English: lstm, gru, rnn on the held-out fortunes; code: lstm-code,
gru-code, rnn-code on the held-out standard-library files), each state (h, and c for the LSTM) and
each sign (on at or above +θ, or at or below -θ), the span's units are selected at LSTMVis's θ = 0.3
(``cells.select_units``, padding one step before). When that selects nothing, the nearest threshold
in [0, 1] that selects something is used instead (``selection_hint``, what the page suggests) and
printed. The 50 best matches (``cells.match_spans``) are then scored by ``share_inside``: a match
lies inside quotes when every one of its steps does (``cells.science.interpret.inside_quotes`` of
its piece of the corpus); it begins inside when its first step does. Beside each, the same share
for 50 random spans with the matches' lengths (``random_spans``, seed 0), and the exact chance of
lying inside (``chance_inside``, every placement). The corpora are read as the Match page reads
them (``app.compute.matching.held_out_pieces``: pieces of at most 2,000 tokens, each from a zero
state); the fortunes must be installed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cells
from app.compute.matching import held_out_pieces
from app.view.state import DEFAULT_CODE, DEFAULT_TEXT
from cells.models.batch import read_many
from cells.science import interpret, match

TOP = 50
SEED = 0


def inside_of(text: str, opening: str, closing: str) -> tuple[int, int]:
    """The span between the first ``opening`` and the next ``closing`` after it, both left out."""
    start = text.index(opening) + 1
    return start, text.index(closing, start)


@dataclass(frozen=True)
class Case:
    """A span of a text whose inside is a property: what to select, and what to score against."""

    name: str
    text: str
    span: tuple[int, int]
    inside: Callable[[str], np.ndarray]  # text -> (T,) 1 inside


CASES = {
    "prose": ("", [Case("quote", DEFAULT_TEXT, inside_of(DEFAULT_TEXT, '"', '"'), interpret.inside_quotes),
                   Case("brackets", DEFAULT_TEXT, inside_of(DEFAULT_TEXT, "(", ")"),
                        interpret.inside_brackets)]),
    "code": ("-code", [Case("string", DEFAULT_CODE, inside_of(DEFAULT_CODE, '"', '"'),
                            lambda text: interpret.scan_code(text).string)]),
}


def measure(box: np.ndarray, corpus: np.ndarray, case: Case, inside: np.ndarray, allowed: np.ndarray) -> str:
    """One line of figures: the units the case's span selects in ``box`` (T, H) and how its top
    matches in ``corpus`` (N, H) sit against ``inside`` (N,)."""
    threshold, units = 0.3, cells.select_units(box, *case.span, 0.3)
    if len(units) == 0:
        hint = match.selection_hint(box, *case.span, 0.3, lowest=0.0, highest=1.0)
        threshold, units = hint.threshold, hint.threshold_units
    if threshold is None:
        return "no threshold in [0, 1] selects a unit"
    found = cells.match_spans(corpus, units, threshold, top=TOP)
    spans = [(m.start, m.end) for m in found]
    lengths = [m.length for m in found]
    randomly = match.random_spans(lengths, allowed, SEED)
    begins = [(s, s + 1) for s, _ in spans]
    listed = ", ".join(map(str, units[:6])) + (" ..." if len(units) > 6 else "")
    shares = (match.share_inside(spans, inside), match.share_inside(randomly, inside),
              match.chance_inside(lengths, inside, allowed), match.share_inside(begins, inside),
              match.share_inside([(s, s + 1) for s, _ in randomly], inside))
    return (f"{threshold:5.2f} {listed:18} {len(found):4} {shares[0]:7.2f} {shares[1]:7.2f} {shares[2]:7.3f} "
            f"{shares[3]:7.2f} {shares[4]:7.2f} {np.median(lengths):7.0f}")


def main() -> None:
    print(f"top {TOP} matches against {TOP} random spans of the same lengths (seed {SEED}); 'inside': "
          "every step inside, 'begins': the first step inside")
    print(f"{'model':10} {'state':5} {'sign':4} {'span':9} {'θ':>5} {'units':18} {'n':>4} {'inside':>7} "
          f"{'random':>7} {'chance':>7} {'begins':>7} {'random':>7} {'median length':>7}")
    for kind, (suffix, cases) in CASES.items():
        pieces = held_out_pieces(kind)
        if isinstance(pieces, str):
            print(f"{kind}: {pieces}")
            continue
        allowed = np.concatenate([np.r_[np.ones(len(p), bool), False] for p in pieces])
        insides = {c.name: np.concatenate([np.r_[c.inside(p) > 0, False] for p in pieces]) for c in cases}
        for arch in ("lstm", "gru", "rnn"):
            reader = cells.pretrained(arch + suffix)
            for state in ("h", "c") if reader.cell.has_cell_state else ("h",):
                corpus = read_many(reader, pieces, state=state).states
                for sign, signed in (("+", 1), ("-", -1)):
                    for case in cases:
                        box = signed * getattr(reader.read(case.text).trace, state)
                        figures = measure(box, signed * corpus, case, insides[case.name], allowed)
                        print(f"{arch + suffix:10} {state:5} {sign:4} {case.name:9} {figures}", flush=True)


if __name__ == "__main__":
    main()
