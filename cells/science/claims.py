"""The literature's claims about gated cells, beside what gatescope measured.

Each :class:`Claim` is one row of the Lab page's table: what a paper found, what gatescope measured
under its own (smaller) budget, and whether the finding held here. The figures that need minutes of
training come from ``cells/claims_data/lab_claims.json``, written by ``scripts/lab_claims.py``
(its command is stored beside the figures); whether a claim *held* is always computed here from
those figures, never stored.

The papers:

* Greff, Srivastava, Koutník, Steunebrink & Schmidhuber (2017), "LSTM: A Search Space Odyssey":
  removing the forget gate (NFG) or the output activation (NOAF) hurt performance most on all
  three of their data sets; coupling the input and forget gates (CIFG), removing the input gate
  (NIG) or the output gate (NOG) cost little.
* Zhou, Wu, Zhang & Zhou (2016), "Minimal Gated Unit": the MGU, with one gate, does about as well
  as the GRU with two, with fewer parameters.
* Jozefowicz, Zaremba & Sutskever (2015), "An Empirical Exploration of Recurrent Network
  Architectures": a forget-gate bias of 1 makes the LSTM better (and closes most of its gap to
  the GRU); with bias 0 the forget gate starts at 0.5 and the gradient vanishes.
* Hochreiter & Schmidhuber (1997): the LSTM solves the adding problem at T = 100, which gradient
  descent on a plain RNN does not; the GRU (Cho et al. 2014; Chung et al. 2014) does too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cells.train.tasks import ADDING_SOLVED_MSE
from cells.train.trainer import train_task

CLAIMS_FILE = Path(__file__).resolve().parents[1] / "claims_data" / "lab_claims.json"

CHAR_MODELS: dict[str, tuple[str, float]] = {
    "lstm": ("lstm", 1.0),
    "lstm-nig": ("lstm-nig", 1.0),
    "lstm-nfg": ("lstm-nfg", 1.0),
    "lstm-nog": ("lstm-nog", 1.0),
    "lstm-niaf": ("lstm-niaf", 1.0),
    "lstm-noaf": ("lstm-noaf", 1.0),
    "lstm-cifg": ("lstm-cifg", 1.0),
    "gru": ("gru", 1.0),
    "mgu": ("mgu", 0.0),
    "rnn": ("rnn", 1.0),
    "lstm-fb0": ("lstm", 0.0),
}
"""The character models of ``scripts/lab_claims.py --part chars``: name -> (cell, forget bias).
The LSTM family starts with forget-gate bias 1 (Jozefowicz et al.'s advice; "lstm-fb0" is the
LSTM with 0), the MGU with 0 (its f *replaces* h, so a positive bias would make it forget faster;
0 is neutral, like the GRU's PyTorch init); the bias is ignored by cells without such a gate."""

GREFF_VARIANTS = ("lstm-nig", "lstm-nfg", "lstm-nog", "lstm-niaf", "lstm-noaf", "lstm-cifg")
GREFF_WORST = ("lstm-nfg", "lstm-noaf")
"""Greff et al.: the variants that hurt most on all three data sets."""
GREFF_CHEAP = ("lstm-cifg", "lstm-nig", "lstm-nog")
"""Greff et al.: the variants that cost little."""

ADDING_ARCHS = ("lstm", "gru", "rnn")
ADDING_LIMITS: dict[str, Any] = {"length": 100, "hidden": 32, "steps": 3000, "seconds": 180.0}
"""The adding problem at Hochreiter & Schmidhuber's length: each cell trains for at most
``steps`` steps (batches of 64) and ``seconds`` seconds, whichever comes first; solved means test
MSE below ``cells.tasks.ADDING_SOLVED_MSE`` on 1,000 fresh sequences."""

SMALL_GAP = 0.05
"""Bits per character: two cells whose seed-mean figures differ by less than this, and by less
than twice the spread between seeds, count as "about equal"."""


def run_adding(arch: str, *, seed: int = 0, limits: dict[str, Any] | None = None) -> dict[str, Any]:
    """The adding problem within :data:`ADDING_LIMITS`: test MSE, solved, steps, seconds, and the
    first step whose training batch scored below the pass mark (None if none)."""
    lim = limits or ADDING_LIMITS
    r = train_task(arch, "adding", length=lim["length"], hidden_size=lim["hidden"], steps=lim["steps"],
                   seed=seed, max_seconds=lim["seconds"])
    below = next((step for step, loss in r.history if loss < ADDING_SOLVED_MSE), None)
    return {"test_mse": round(float(r.test_loss), 5), "solved": bool(r.solved), "steps": r.steps,
            "seconds": round(r.seconds, 1), "first_step_below": below}


# --------------------------------------------------------------------------- the table

HELD, NOT_HELD, UNCLEAR = "yes", "no", "within noise"
"""A claim's verdict here: held, did not hold, or the difference is within the seeds' spread."""


@dataclass(frozen=True)
class Claim:
    """One row: a claim, the paper's finding, gatescope's figure and whether the claim held here.

    ``source`` says where the figure comes from: the shipped JSON's command, or "live" (computed
    when the page loads, in milliseconds)."""

    claim: str
    paper: str
    finding: str
    measured: str
    held: str
    source: str


@dataclass(frozen=True)
class Figure:
    """A character model's held-out bits per character over the seeds."""

    name: str
    mean: float
    std: float  # sample standard deviation over the seeds (0 with one seed)
    seeds: int
    params: int

    def text(self) -> str:
        spread = f" ± {self.std:.3f}" if self.seeds > 1 else ""
        return f"{self.mean:.3f}{spread}"


def load_claims(path: Path = CLAIMS_FILE) -> dict[str, Any]:
    """The precomputed figures (``scripts/lab_claims.py``), or {} when the file is missing."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def char_figures(data: dict[str, Any]) -> dict[str, Figure]:
    """name (:data:`CHAR_MODELS`) -> its figure, from the JSON's ``chars`` section."""
    out = {}
    for name, entry in data.get("chars", {}).get("models", {}).items():
        bpc = np.asarray(entry["bpc"], dtype=np.float64)
        out[name] = Figure(name, float(bpc.mean()), float(bpc.std(ddof=1)) if bpc.size > 1 else 0.0,
                           int(bpc.size), int(entry["params"]))
    return out


def noise(*figures: Figure) -> float:
    """Twice the larger seed spread: a difference below it is not told apart from chance."""
    return 2.0 * max(f.std for f in figures)


def _delta(a: Figure, b: Figure) -> str:
    return f"{a.mean - b.mean:+.3f}"


DISPLAY = {"lstm": "LSTM", "lstm-nig": "NIG", "lstm-nfg": "NFG", "lstm-nog": "NOG",
           "lstm-niaf": "NIAF", "lstm-noaf": "NOAF", "lstm-cifg": "CIFG", "gru": "GRU",
           "mgu": "MGU", "rnn": "RNN", "lstm-fb0": "LSTM, forget bias 0"}
"""Short names for the table (Greff et al.'s abbreviations)."""


def greff_worst(figs: dict[str, Figure], source: str) -> Claim:
    ranked = sorted(GREFF_VARIANTS, key=lambda n: figs[n].mean, reverse=True)  # worst first
    held = HELD if set(ranked[:2]) == set(GREFF_WORST) else NOT_HELD
    lstm = figs["lstm"]
    measured = (f"worst first: {', '.join(f'{DISPLAY[n]} {_delta(figs[n], lstm)}' for n in ranked)} "
                f"bits/char against the LSTM's {lstm.text()}")
    return Claim("Greff's ordering: NFG and NOAF hurt most", "Greff et al. (2017)",
                 "Of the eight variants, removing the forget gate (NFG) or the output activation (NOAF) "
                 "hurt most, on all three data sets (speech, handwriting, music)", measured, held, source)


def greff_cheap(figs: dict[str, Figure], source: str) -> Claim:
    lstm = figs["lstm"]
    costs = {n: figs[n].mean - lstm.mean for n in GREFF_CHEAP}
    held = HELD if all(c < SMALL_GAP for c in costs.values()) else NOT_HELD
    measured = (", ".join(f"{DISPLAY[n]} {_delta(figs[n], lstm)}" for n in GREFF_CHEAP)
                + f" bits/char against the LSTM (cheap: less than +{SMALL_GAP:g})")
    return Claim("CIFG, NIG and NOG cost little", "Greff et al. (2017)",
                 "Coupling the input and forget gates (CIFG), or removing the input gate (NIG) or the "
                 "output gate (NOG), did not hurt significantly", measured, held, source)


def about_equal(a: Figure, b: Figure, name: str, paper: str, finding: str, source: str) -> Claim:
    """A claim that ``a`` does about as well as ``b``: held when ``a`` is at most SMALL_GAP worse."""
    diff = a.mean - b.mean
    held = HELD if diff < SMALL_GAP else NOT_HELD
    measured = (f"{DISPLAY[a.name]} {a.text()} ({a.params:,} params) vs {DISPLAY[b.name]} {b.text()} "
                f"({b.params:,}): {diff:+.3f} bits/char")
    return Claim(name, paper, finding, measured, held, source)


def forget_bias(figs: dict[str, Figure], source: str) -> Claim:
    zero, one = figs["lstm-fb0"], figs["lstm"]
    gain = zero.mean - one.mean  # > 0: bias 1 is better
    held = UNCLEAR if abs(gain) <= noise(zero, one) else HELD if gain > 0 else NOT_HELD
    measured = (f"LSTM with forget bias 1: {one.text()}, with 0: {zero.text()} bits/char "
                f"(bias 1 better by {gain:+.3f}; seed noise ±{noise(zero, one):.3f})")
    return Claim("Forget-gate bias 1 beats 0 (LSTM)", "Jozefowicz et al. (2015)",
                 "Initialising the LSTM's forget-gate bias to 1 improved it on nearly every task and "
                 "closed most of its gap to the GRU", measured, held, source)


def adding(section: dict[str, Any]) -> Claim:
    lim, runs = section["limits"], section["runs"]

    def one(arch: str) -> str:
        r = runs[arch]
        state = f"solved, batch MSE below {ADDING_SOLVED_MSE:g} from step {r['first_step_below']}" \
            if r["solved"] else "not solved"
        return (f"{arch.upper()} test MSE {r['test_mse']:.4f} ({state}; {r['steps']} steps, "
                f"{r['seconds']:.0f} s)")

    held = HELD if runs["lstm"]["solved"] and runs["gru"]["solved"] and not runs["rnn"]["solved"] \
        else NOT_HELD
    measured = (f"T = {lim['length']}, {lim['hidden']} units, at most {lim['steps']:,} steps and "
                f"{lim['seconds']:g} s per cell: " + "; ".join(one(a) for a in ADDING_ARCHS))
    return Claim("The adding problem at T = 100: LSTM and GRU solve it, the RNN does not",
                 "Hochreiter & Schmidhuber (1997); Cho et al. (2014)",
                 "The LSTM solves the adding problem at T = 100, where gradient descent on a plain RNN "
                 "fails; the GRU's gates do the same job", measured, held, section["command"])


FORGET_BIAS_CELL = "lstm"
"""The cell Jozefowicz et al.'s forget-gate bias claim is about (the live row reads a random one)."""


def forget_bias_span(span_zero: int, span_one: int, length: int, hidden: int) -> Claim:
    """The live row: the memory span (``cells.science.gradients.memory_span``) of a random LSTM with
    forget-gate bias 0 and with 1, on the page's sequence of ``length`` tokens."""
    held = UNCLEAR if span_one == span_zero else HELD if span_one > span_zero else NOT_HELD
    reach = " (the whole sequence)" if span_one >= length - 1 else ""
    measured = (f"random LSTM, {hidden} units, on the sequence in the box ({length} tokens): memory "
                f"span {span_zero} tokens with bias 0, {span_one}{reach} with bias 1")
    return Claim("Why bias 1: the gradient reaches further back", "Jozefowicz et al. (2015)",
                 "With bias 0 the forget gate starts near 0.5, so the gradient along c halves at "
                 "every step; bias 1 (σ(1) ≈ 0.73) lets it reach further back", measured, held, "live")


def claims_table(data: dict[str, Any]) -> list[Claim]:
    """The precomputed rows of the table from the JSON ``data`` (:func:`load_claims`); a part the
    JSON lacks gives no rows. Every verdict is computed here from the figures."""
    rows = []
    figs = char_figures(data)
    if figs:
        chars = data["chars"]
        source = chars["command"]
        rows += [
            greff_worst(figs, source),
            greff_cheap(figs, source),
            about_equal(figs["lstm-cifg"], figs["lstm"], "CIFG ≈ LSTM", "Greff et al. (2017)",
                        "Coupling the input gate to the forget gate (i = 1 − f) costs nothing "
                        "measurable and saves a quarter of the cell's parameters", source),
            about_equal(figs["mgu"], figs["gru"], "MGU ≈ GRU with fewer parameters",
                        "Zhou et al. (2016)", "The minimal gated unit (one gate) is about as accurate "
                        "as the GRU (two gates) with a third fewer cell parameters", source),
            forget_bias(figs, source),
        ]
    if "adding" in data:
        rows.append(adding(data["adding"]))
    return rows
