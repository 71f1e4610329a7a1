"""The literature's claims about gated cells, beside what gatescope measured.

Each :class:`Claim` is one row of the Lab page's table: what a paper found, what gatescope measured
under its own (smaller) budget and on which data (a :class:`Setting`: the Bach chorales, the
fortunes at a converged budget, the fortunes early in learning, the adding problem), and whether
the finding held there. The figures that need minutes of
training come from ``cells/claims_data/lab_claims.json``, written by ``scripts/lab_claims.py``
(its command is stored beside the figures); whether a claim *held* is always computed here from
those figures, never stored.

The papers:

* Greff, Srivastava, Koutník, Steunebrink & Schmidhuber (2017), "LSTM: A Search Space Odyssey":
  removing the forget gate (NFG) or the output activation (NOAF) hurt performance most on all
  three of their data sets (speech, handwriting, and music: the JSB chorales); coupling the input
  and forget gates (CIFG), removing the input gate (NIG) or the output gate (NOG) cost little.
  Their per-variant figures are box plots (Fig. 3), not numbers in the text: the table quotes
  their findings, not values read off a picture.
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

LAB_MODELS: dict[str, tuple[str, float]] = {
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
"""The models of ``scripts/lab_claims.py`` (chars and music): name -> (cell, forget bias).
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
MSE below ``cells.train.tasks.ADDING_SOLVED_MSE`` on 1,000 fresh sequences."""

def run_adding(arch: str, *, seed: int = 0, limits: dict[str, Any] | None = None) -> dict[str, Any]:
    """The adding problem within :data:`ADDING_LIMITS`: test MSE, solved, steps, seconds, and the
    first step whose training batch scored below the pass mark (None if none)."""
    lim = limits or ADDING_LIMITS
    r = train_task(arch, "adding", length=lim["length"], hidden_size=lim["hidden"], steps=lim["steps"],
                   seed=seed, max_seconds=lim["seconds"])
    below = next((step for step, loss in r.history if loss < ADDING_SOLVED_MSE), None)
    return {"test_mse": round(float(r.test_loss), 5), "solved": bool(r.solved), "steps": r.steps,
            "seconds": round(r.seconds, 1), "first_step_below": below}


CHUNG_JSB = {"rnn": (8.82, 9.10), "lstm": (8.15, 8.67), "gru": (6.94, 8.54)}
"""Chung, Gulcehre, Cho & Bengio (2014), Table 2, JSB Chorales: (train, test) NLL per step of cells
of about 20k parameters (bench/bench_chung.py prints its run beside them)."""


@dataclass(frozen=True)
class Setting:
    """Where a family of rows was measured: the JSON section, the figure stored per seed, its unit,
    and how small a difference counts as "about equal" there."""

    key: str
    value: str
    unit: str
    small_gap: float
    label: str


MUSIC = Setting("music", "test_nll", "nats/step", 0.1,
                "Bach chorales (music21), ~20k parameters, early-stopped")
"""Greff et al.'s music task. 0.1 nats per step is about 1% of a test NLL near 9 (Chung et al.'s
GRU and LSTM differ by 0.13 on JSB)."""
CHARS = Setting("chars", "bpc", "bits/char", 0.05, "fortunes, 64 units, 16M characters")
CHARS_EARLY = Setting("chars-early", "bpc", "bits/char", 0.05,
                      "fortunes, 64 units, 2M characters: early learning")
"""The same models after 2M characters: how fast each cell learns, not where it ends."""
SETTINGS = (MUSIC, CHARS, CHARS_EARLY)
"""The model comparisons, in the table's order."""


# --------------------------------------------------------------------------- the table

HELD, NOT_HELD, UNCLEAR = "yes", "no", "within noise"
"""A claim's verdict here: held, did not hold, or the difference is within the seeds' spread."""


@dataclass(frozen=True)
class Claim:
    """One row: a claim, the paper's finding, where and what gatescope measured, whether it held.

    ``source`` says where the figure comes from: the shipped JSON's command, or "live" (computed
    when the page loads, in milliseconds)."""

    claim: str
    paper: str
    finding: str
    setting: str
    measured: str
    held: str
    source: str


@dataclass(frozen=True)
class Figure:
    """A model's figure (held-out bits/char, test NLL per step, ...) over the seeds."""

    name: str
    mean: float
    std: float  # sample standard deviation over the seeds (0 with one seed)
    seeds: int
    params: int

    @classmethod
    def of(cls, name: str, values: list[float], params: int = 0) -> Figure:
        v = np.asarray(values, dtype=np.float64)
        return cls(name, float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0, int(v.size),
                   params)

    def text(self, digits: int = 3) -> str:
        spread = f" ± {self.std:.{digits}f}" if self.seeds > 1 else ""
        return f"{self.mean:.{digits}f}{spread}"


def load_claims(path: Path = CLAIMS_FILE) -> dict[str, Any]:
    """The precomputed figures (``scripts/lab_claims.py``), or {} when the file is missing."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def figures(data: dict[str, Any], setting: Setting) -> dict[str, Figure]:
    """name (:data:`LAB_MODELS`) -> its figure over its seeds, from the JSON's section for ``setting``."""
    models = data.get(setting.key, {}).get("models", {})
    return {name: Figure.of(name, entry[setting.value], int(entry.get("params", 0)))
            for name, entry in models.items()}


def noise(*figs: Figure) -> float:
    """Twice the larger seed spread: a difference below it is not told apart from chance."""
    return 2.0 * max(f.std for f in figs)


def _delta(a: Figure, b: Figure) -> str:
    return f"{a.mean - b.mean:+.3f}"


def _where(setting: Setting, *figs: Figure) -> str:
    fewest, most = min(f.seeds for f in figs), max(f.seeds for f in figs)
    count = f"{most}" if fewest == most else f"{fewest}–{most}"
    return f"{setting.label}; {count} seed{'s' if most > 1 else ''}"


DISPLAY = {"lstm": "LSTM", "lstm-nig": "NIG", "lstm-nfg": "NFG", "lstm-nog": "NOG",
           "lstm-niaf": "NIAF", "lstm-noaf": "NOAF", "lstm-cifg": "CIFG", "gru": "GRU",
           "mgu": "MGU", "rnn": "RNN", "lstm-fb0": "LSTM, forget bias 0"}
"""Short names for the table (Greff et al.'s abbreviations)."""


def greff_worst(figs: dict[str, Figure], setting: Setting, source: str) -> Claim:
    ranked = sorted(GREFF_VARIANTS, key=lambda n: figs[n].mean, reverse=True)  # worst first
    held = HELD if set(ranked[:2]) == set(GREFF_WORST) else NOT_HELD
    lstm = figs["lstm"]
    measured = (f"worst first: {', '.join(f'{DISPLAY[n]} {_delta(figs[n], lstm)}' for n in ranked)} "
                f"{setting.unit} against the LSTM's {lstm.text()}")
    return Claim("Greff's ordering: NFG and NOAF hurt most", "Greff et al. (2017)",
                 "Of the eight variants, removing the forget gate (NFG) or the output activation (NOAF) "
                 "hurt most, on all three data sets (speech, handwriting, music)",
                 _where(setting, *figs.values()), measured, held, source)


def greff_cheap(figs: dict[str, Figure], setting: Setting, source: str) -> Claim:
    lstm = figs["lstm"]
    costs = {n: figs[n].mean - lstm.mean for n in GREFF_CHEAP}
    held = HELD if all(c < setting.small_gap for c in costs.values()) else NOT_HELD
    measured = (", ".join(f"{DISPLAY[n]} {_delta(figs[n], lstm)}" for n in GREFF_CHEAP)
                + f" {setting.unit} against the LSTM (cheap: less than +{setting.small_gap:g})")
    return Claim("CIFG, NIG and NOG cost little", "Greff et al. (2017)",
                 "Coupling the input and forget gates (CIFG), or removing the input gate (NIG) or the "
                 "output gate (NOG), did not hurt significantly", _where(setting, *figs.values()),
                 measured, held, source)


def about_equal(a: Figure, b: Figure, setting: Setting, name: str, paper: str, finding: str,
                source: str) -> Claim:
    """A claim that ``a`` does about as well as ``b``: held when ``a`` is less than the setting's
    small gap worse."""
    diff = a.mean - b.mean
    held = HELD if diff < setting.small_gap else NOT_HELD
    measured = (f"{DISPLAY[a.name]} {a.text()} ({a.params:,} params) vs {DISPLAY[b.name]} {b.text()} "
                f"({b.params:,}): {diff:+.3f} {setting.unit}")
    return Claim(name, paper, finding, _where(setting, a, b), measured, held, source)


def difference_verdict(gain: float, margin: float) -> str:
    """The noise rule: a gain (positive: the claim's way) within ``margin`` of zero is unclear."""
    return UNCLEAR if abs(gain) <= margin else HELD if gain > 0 else NOT_HELD


def forget_bias(figs: dict[str, Figure], setting: Setting, source: str) -> Claim:
    zero, one = figs["lstm-fb0"], figs["lstm"]
    gain = zero.mean - one.mean  # > 0: bias 1 is better
    measured = (f"LSTM with forget bias 1: {one.text()}, with 0: {zero.text()} {setting.unit} "
                f"(bias 1 better by {gain:+.3f}; seed noise ±{noise(zero, one):.3f})")
    return Claim("Forget-gate bias 1 beats 0 (LSTM)", "Jozefowicz et al. (2015)",
                 "Initialising the LSTM's forget-gate bias to 1 improved it on nearly every task and "
                 "closed most of its gap to the GRU", _where(setting, zero, one), measured,
                 difference_verdict(gain, noise(zero, one)), source)


def comparison_rows(data: dict[str, Any], setting: Setting) -> list[Claim]:
    """Greff's two claims, CIFG ≈ LSTM, MGU ≈ GRU and the forget-gate bias on one setting's
    figures; none when the JSON lacks the section or a model a row needs."""
    figs = figures(data, setting)
    if not set(LAB_MODELS) <= set(figs):
        return []
    source = data[setting.key]["command"]
    return [
        greff_worst(figs, setting, source),
        greff_cheap(figs, setting, source),
        about_equal(figs["lstm-cifg"], figs["lstm"], setting, "CIFG ≈ LSTM", "Greff et al. (2017)",
                    "Coupling the input gate to the forget gate (i = 1 − f) costs nothing measurable "
                    "and saves a quarter of the cell's parameters", source),
        about_equal(figs["mgu"], figs["gru"], setting, "MGU ≈ GRU with fewer parameters",
                    "Zhou et al. (2016)", "The minimal gated unit (one gate) is about as accurate as "
                    "the GRU (two gates) with a third fewer cell parameters", source),
        forget_bias(figs, setting, source),
    ]


def adding(section: dict[str, Any]) -> Claim:
    """Hochreiter & Schmidhuber's adding problem: held when the LSTM and the GRU solve it at every
    stored seed and the RNN at none."""
    lim, runs = section["protocol"], section["models"]

    def one(arch: str) -> str:
        r = runs[arch]
        if len(r["seeds"]) == 1:
            below = r["first_step_below"][0]
            state = f"solved, batch MSE below {ADDING_SOLVED_MSE:g} from step {below}" \
                if r["solved"][0] else "not solved"
            return (f"{arch.upper()} test MSE {r['test_mse'][0]:.4f} ({state}; {r['steps'][0]} steps, "
                    f"{r['seconds'][0]:.0f} s)")
        return (f"{arch.upper()} solved at {sum(r['solved'])} of {len(r['seeds'])} seeds "
                f"(test MSE {Figure.of(arch, r['test_mse']).text(4)})")

    held = HELD if all(runs["lstm"]["solved"]) and all(runs["gru"]["solved"]) \
        and not any(runs["rnn"]["solved"]) else NOT_HELD
    measured = (f"T = {lim['length']}, {lim['hidden']} units, at most {lim['steps']:,} steps and "
                f"{lim['seconds']:g} s per cell: " + "; ".join(one(a) for a in ADDING_ARCHS))
    seeds = sorted(set().union(*(r["seeds"] for r in runs.values())))
    return Claim("The adding problem at T = 100: LSTM and GRU solve it, the RNN does not",
                 "Hochreiter & Schmidhuber (1997); Cho et al. (2014)",
                 "The LSTM solves the adding problem at T = 100, where gradient descent on a plain RNN "
                 "fails; the GRU's gates do the same job",
                 f"adding problem, chrono initialisation; seed{'s' if len(seeds) > 1 else ''} "
                 f"{', '.join(map(str, seeds))}", measured, held, section["command"])


def steps_to_solve(entry: dict[str, Any], cap: int) -> Figure:
    """Steps to solve over the seeds, an unsolved run counted at ``cap`` (so a mean that includes
    one is a lower bound)."""
    return Figure.of(entry["arch"], [cap if s is None else s for s in entry["steps_to_solve"]])


def adding_bias(section: dict[str, Any]) -> list[Claim]:
    """Forget-gate bias 1 vs 0 on the adding problem, one row per length: the noise rule on the
    mean steps to solve (unsolved runs counted at the cap)."""
    cfg = section["protocol"]
    rows = []
    for length, sub in sorted(section["lengths"].items(), key=lambda kv: int(kv[0])):
        models = sub["models"]
        if not {"lstm", "lstm-fb0"} <= set(models):
            continue
        one, zero = (steps_to_solve(models[n], cfg["max_steps"]) for n in ("lstm", "lstm-fb0"))
        gain = zero.mean - one.mean  # > 0: bias 1 solves sooner
        measured = (f"bias 1: {_solved(models['lstm'], one)}; bias 0: {_solved(models['lstm-fb0'], zero)}"
                    f"; bias 1 sooner by {gain:+.0f} steps (seed noise ±{noise(zero, one):.0f}; "
                    f"unsolved counted at the {cfg['max_steps']:,}-step cap)")
        seeds = models["lstm"]["seeds"]
        rows.append(Claim(f"Forget-gate bias 1 beats 0: adding problem, T = {length}",
                          "Jozefowicz et al. (2015)",
                          "With bias 0 the forget gate starts near 0.5, so the LSTM forgets and its "
                          "gradient fades over long lags; bias 1 helps it learn them",
                          f"adding problem, {cfg['hidden']} units, steps to held-out MSE < "
                          f"{ADDING_SOLVED_MSE:g} (checked every {cfg['check_every']}); seeds "
                          f"{', '.join(map(str, seeds))}", measured,
                          difference_verdict(gain, noise(zero, one)), section["command"]))
    return rows


def _solved(entry: dict[str, Any], fig: Figure) -> str:
    got = entry["steps_to_solve"]
    solved = [s for s in got if s is not None]
    return (f"{'never' if not solved else f'{fig.text(0)} steps'} (solved at {len(solved)} of "
            f"{len(got)} seeds: {', '.join('—' if s is None else str(s) for s in got)})")


FORGET_BIAS_CELL = "lstm"
"""The cell Jozefowicz et al.'s forget-gate bias claim is about (the live row reads a random one)."""


def forget_bias_span(span_zero: int, span_one: int, length: int, hidden: int) -> Claim:
    """The live row: the memory span (``cells.science.gradients.memory_span``) of a random LSTM with
    forget-gate bias 0 and with 1, on the page's sequence of ``length`` tokens."""
    held = UNCLEAR if span_one == span_zero else HELD if span_one > span_zero else NOT_HELD
    reach = " (the whole sequence)" if span_one >= length - 1 else ""
    measured = (f"memory span {span_zero} tokens with bias 0, {span_one}{reach} with bias 1")
    return Claim("Why bias 1: the gradient reaches further back", "Jozefowicz et al. (2015)",
                 "With bias 0 the forget gate starts near 0.5, so the gradient along c halves at "
                 "every step; bias 1 (σ(1) ≈ 0.73) lets it reach further back",
                 f"live: a random LSTM, {hidden} units, on the sequence in the box ({length} tokens)",
                 measured, held, "live")


def claims_table(data: dict[str, Any]) -> list[Claim]:
    """The precomputed rows of the table from the JSON ``data`` (:func:`load_claims`): each
    setting's comparisons, then the adding problem's rows; a part the JSON lacks gives no rows.
    Every verdict is computed here from the figures."""
    rows = [row for setting in SETTINGS for row in comparison_rows(data, setting)]
    if "adding" in data:
        rows.append(adding(data["adding"]))
    if "adding-bias" in data:
        rows += adding_bias(data["adding-bias"])
    return rows


def music_table(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The chorale models, best first: size, test NLL over the seeds, where early stopping chose
    the weights and where the test NLL itself stopped falling (the budget was enough when both
    are well inside it), and Chung et al.'s figure where they measured the cell."""
    section = data.get(MUSIC.key, {})
    models, figs = section.get("models", {}), figures(data, MUSIC)
    rows = []
    for name in sorted(figs, key=lambda n: figs[n].mean):
        entry, paper = models[name], CHUNG_JSB.get(name)
        lowest = [section["protocol"]["check_every"] * (int(np.argmin(c)) + 1) for c in entry["test_curve"]]
        rows.append({"cell": DISPLAY[name], "hidden": entry["hidden"], "parameters": entry["params"],
                     "seeds": len(entry["seeds"]), "test NLL per step": figs[name].text(2),
                     "best validation step": _steps_range(entry["best_step"]),
                     "test NLL lowest at step": _steps_range(lowest),
                     "Chung et al. 2014 (test)": f"{paper[1]:.2f}" if paper else ""})
    return rows


def _steps_range(steps: list[int]) -> str:
    return f"{min(steps):,}–{max(steps):,}" if min(steps) != max(steps) else f"{steps[0]:,}"


GREFF_FIGURES = (
    "Greff et al.'s own JSB figures are not set beside these: their per-variant results are box "
    "plots (Fig. 3, test NLL of 200 random-search trials per variant, and of the best 10%), and "
    "no text we could reach gives those values as numbers; reading them off the picture would be "
    "guessing. Their findings are quoted in the claims table instead. Chung et al.'s Table 2 gives "
    "JSB test NLLs for the RNN, the LSTM and the GRU (~20k parameters): shown beside ours, on "
    "different data (Boulanger-Lewandowski's JSB set and split, not music21's chorales on a beat grid)."
)
"""What the page and the README say about the paper's figures."""


def chars_curve(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``chars`` models' held-out bits/char at every checkpoint (mean over the seeds), and how
    much the last stretch gained: the record that the budget is about enough."""
    section = data.get(CHARS.key, {})
    every = section.get("protocol", {}).get("checkpoint_chars")
    rows = []
    for name, entry in section.get("models", {}).items():
        if "curve" not in entry:
            continue
        mean = np.mean(np.asarray(entry["curve"], dtype=np.float64), axis=0)
        row: dict[str, Any] = {"cell": DISPLAY[name], "seeds": len(entry["seeds"])}
        row |= {f"{(k + 1) * every / 1e6:g}M": round(float(v), 3) for k, v in enumerate(mean)}
        row[f"gain over the last {every / 1e6:g}M"] = round(float(mean[-2] - mean[-1]), 3)
        rows.append(row)
    return rows
