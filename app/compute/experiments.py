"""Guided experiments: every claim of the LSTM-vs-GRU story as a view that opens with one click.

The standard story: a plain tanh RNN loses early inputs to vanishing gradients; the LSTM keeps a
protected cell state behind its forget, input and output gates; the GRU merges forget and input
into one update gate and cell and hidden state into one, so it is smaller and faster; both keep
long-range dependencies. Each :class:`Experiment` turns one claim (or one of its limits) into

* a preset :class:`~app.view.state.ViewState` of an existing page, so the experiment IS a shareable URL
  (:meth:`Experiment.url`) whose sequence the student can then edit;
* two or three sentences that say what to look at;
* a live read-out (:class:`Readout`): the numbers the sentences refer to, computed here from
  ``cells`` on the preset (memory spans with ``cells.science.gradients``, the unit that carries an open
  quote, parameter counts and step times, the Train page's stored results).

:func:`experiments_for` lists the experiments that use a page and
``app.widgets.experiments.experiment_links`` draws them there in one line. The read-outs draw
nothing (no ``st.*`` calls, so they are testable alone); the expensive ones are memoised per
process with a bounded ``lru_cache``, shared by every visitor.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

import cells
from app.charts.experiments import carrier_figure
from app.compute import gradient_profiles as gradient_page
from app.compute import models, training
from app.view.state import ViewState
from cells.models.charmodel import DEFAULT_VOCAB
from cells.science import gradients as grad
from cells.science.carriers import Carrier, carrier

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"

LONG_TEXT = (
    "When the old lighthouse keeper finally climbed the hundred and twelve steps to the lamp room, "
    "he found that the storm had already passed and the sea was as calm as glass."
)
"""A long sentence (170 characters) for the memory spans."""

QUOTE_TEXT = (
    'She looked up from the letter and said, "If you ever come back to this town, bring the dog, '
    'the old map and that terrible hat of yours." Then she left.'
)
"""A text with 94 characters inside quotes: the model has to carry "a quote is open" across them."""

QUOTE_OPEN = QUOTE_TEXT.index('"')
QUOTE_CLOSE = QUOTE_TEXT.index('"', QUOTE_OPEN + 1)

SHORT_TEXT = "the cat sat."
"""A sequence shorter than even the RNN's memory span."""

CARRIERS = {"lstm": 77, "gru": 109}
"""The unit of each trained char model that carries the open quote of :data:`QUOTE_TEXT`, as
:func:`carrier` finds it (tests/test_experiments.py checks that it still does)."""


# --------------------------------------------------------------------------- read-outs


@dataclass(frozen=True)
class Metric:
    """One number of a read-out: ``value`` for tests and comparisons, ``text`` as shown."""

    label: str
    value: float
    text: str
    help: str = ""


@dataclass(frozen=True, eq=False)
class Readout:
    """What an experiment measured: metrics in a row, a sentence, and optionally a chart."""

    metrics: tuple[Metric, ...] = ()
    note: str = ""
    figure: go.Figure | None = None

    def value(self, label: str) -> float:
        """The value of the metric called ``label``."""
        return next(m.value for m in self.metrics if m.label == label)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fraction_text(log10: float) -> str:
    """A kept fraction given as its log10, readably: ``43%`` down to 1%, then ``10⁻²¹``."""
    if log10 >= -2:
        return f"{10.0 ** log10:.0%}"
    return "10" + f"{round(log10)}".translate(_SUPERSCRIPT)


def span_metric(name: str, p: grad.GradientProfile) -> Metric:
    """A memory span as the Gradients page words it (``≥`` when the text, not the model, ends it)."""
    return Metric(f"{name} memory span", p.memory_span, gradient_page.span_text(p),
                  f"Tokens back the gradient stays within 10^{grad.SPAN_DECADES:g} of its value at "
                  f"the last token; decay {p.decay_rate:+.3f} decades per token.")


def gradient_profiles(view: ViewState) -> dict[str, grad.GradientProfile]:
    """RNN, LSTM and GRU gradient profiles on a Gradients-page view: the page's own (cached) numbers."""
    keys = gradient_page.keys(view.model, hidden=view.hidden, radius=view.radius,
                              forget_bias=view.forget_bias, seed=view.seed)
    return gradient_page.profiles(keys, view.seq[: view.length])


def spans_readout(view: ViewState) -> Readout:
    """The three memory spans of a Gradients-page view."""
    profiles = gradient_profiles(view)
    return Readout(tuple(span_metric(name, p) for name, p in profiles.items()))


@lru_cache(maxsize=4)
def quote_carriers(text: str) -> dict[str, Carrier]:
    """The trained LSTM's and GRU's carriers of the first quotation in ``text`` (the models from
    ``app.compute.models``, as every page gets them)."""
    start = text.index('"')
    end = text.index('"', start + 1)
    readers = {arch: models.load(models.resolve(arch, "trained", "text")).reader for arch in ("lstm", "gru")}
    return {arch: carrier(reader, text, start, end) for arch, reader in readers.items()}


def lstm_carrier_readout(view: ViewState) -> Readout:
    """The LSTM's forget gate on the unit carrying the view's quote: its running product against
    the median unit's."""
    c = quote_carriers(view.seq)["lstm"]
    span = f"the {c.end - c.written - 1} characters from where the quote's mark on c peaks to the " \
        "closing quote"
    return Readout((
        Metric("unit", c.unit, f"#{c.unit}", "Its c changes most when the opening quote is removed."),
        Metric("forget gate inside the quote", c.mean_inside("f"), f"{c.mean_inside('f'):.3f}",
               "Mean of f_t over the quoted characters."),
        Metric("kept across the quote", c.log_keep, fraction_text(c.log_keep),
               f"Product of this unit's f over {span}: the cell-state highway."),
        Metric("median unit keeps", c.log_keep_median, fraction_text(c.log_keep_median),
               f"The same product for the median unit of the LSTM, over {span}."),
    ), figure=carrier_figure({"lstm": c}, view.seq))


def gru_update_readout(view: ViewState) -> Readout:
    """The GRU's update gate z (keep z, write 1 - z) next to the LSTM's separate f and i."""
    carriers = quote_carriers(view.seq)
    lstm, gru = carriers["lstm"], carriers["gru"]
    f, i, z = lstm.mean_inside("f"), lstm.mean_inside("i"), gru.mean_inside("z")
    return Readout((
        Metric("GRU keeps: z", z, f"{z:.3f}", f"Mean z of GRU unit #{gru.unit} inside the quote."),
        Metric("GRU writes: 1 − z", 1 - z, f"{1 - z:.3f}", "The same gate, read as the input gate."),
        Metric("LSTM keeps: f", f, f"{f:.3f}", f"Mean f of LSTM unit #{lstm.unit} inside the quote."),
        Metric("LSTM writes: i", i, f"{i:.3f}", "A separate gate: f + i need not be 1."),
    ), note=f"LSTM f + i = {f + i:.2f} inside the quote; the GRU's keep + write is 1 by construction.",
        figure=carrier_figure(carriers, view.seq))


COST_SIZES = (32, 128, 512)
"""Hidden sizes the cost experiment measures: small, the trained models' size, large."""

COST_SECONDS = 300
"""How long a cost measurement is reused before it is taken again on this server."""


@dataclass(frozen=True)
class Cost:
    """One cell's size and speed: parameters and measured seconds per ``step()`` call."""

    num_params: int
    seconds: float


COST_RUNS = 7
"""Timed runs per cell and size, the LSTM's and the GRU's alternating so that load from other
processes hits both alike; the median is kept."""


@lru_cache(maxsize=2)
def _costs(sizes: tuple[int, ...], input_size: int, epoch: int) -> dict[int, dict[str, Cost]]:
    del epoch  # only part of the cache key: a new epoch measures again
    out = {}
    for H in sizes:
        made = {arch: cells.make_cell(arch, cells.init_params(arch, input_size, H, seed=0))
                for arch in ("lstm", "gru")}
        runs: dict[str, list[float]] = {arch: [] for arch in made}
        for _ in range(COST_RUNS):
            for arch, cell in made.items():
                runs[arch].append(cells.seconds_per_token(cell, tokens=100, repeats=1)["step"])
        out[H] = {arch: Cost(cell.num_params, float(np.median(runs[arch])))
                  for arch, cell in made.items()}
    return out


def costs(sizes: tuple[int, ...] = COST_SIZES) -> dict[int, dict[str, Cost]]:
    """LSTM and GRU char cells (one-hot printable ASCII in) of each hidden size: parameter count and
    measured time per step on this server, re-measured every :data:`COST_SECONDS` seconds."""
    return _costs(tuple(sizes), len(DEFAULT_VOCAB) + 1, int(time.time() // COST_SECONDS))


def cost_readout(view: ViewState) -> Readout:
    """GRU/LSTM parameter ratio (the same at every size) and time-per-step ratio at each size
    (``view`` is the Compare page's, which shows the trained models' size, 128)."""
    table = costs()
    ratios = {H: c["gru"].num_params / c["lstm"].num_params for H, c in table.items()}
    first = next(iter(ratios.values()))
    return Readout((
        Metric("GRU / LSTM parameters", first, f"{first:.2f}",
               f"The same at every size: {', '.join(f'{r:.3f}' for r in ratios.values())} "
               f"for H = {', '.join(map(str, table))}."),
        *(Metric(f"GRU / LSTM time, H = {H}", c["gru"].seconds / c["lstm"].seconds,
                 f"{c['gru'].seconds / c['lstm'].seconds:.2f}",
                 f"GRU {c['gru'].seconds * 1e6:.0f} µs, LSTM {c['lstm'].seconds * 1e6:.0f} µs per "
                 f"step() on this server (median of {COST_RUNS} runs over 100 tokens).")
          for H, c in table.items()),
    ), note="Time per step(): below 1, the GRU is cheaper. Measured live on this server (again every "
            f"{COST_SECONDS // 60} minutes).")


ADDING = {"task": "adding", "length": 50, "hidden": 32, "steps": 1000}
"""The Train page's settings for the long-range experiment. Measured on this 2-core server: 1,000
steps take 3 to 15 s per cell depending on the load, inside the page's 20-second cap, and end at
test MSE 0.17 (RNN, not solved) against about 0.0003 (LSTM and GRU, solved; pass mark 0.01)."""


def adding_settings() -> training.Settings:
    """:data:`ADDING` as the Train page runs it (steps capped by its step cap)."""
    return training.Settings.capped(**ADDING)


def adding_readout(view: ViewState) -> Readout:
    """The Train page's results for :func:`adding_settings`, if anyone trained them on this server
    (``view`` is the Train page's; its settings are the experiment's ``extra`` session values)."""
    runs = training.cached(adding_settings())
    if runs is None:
        return Readout(note="Not trained on this server yet: open the experiment and press Train "
                            "(about half a minute for the three cells).")
    return Readout(tuple(
        Metric(f"{run.name} test MSE", run.test_loss, f"{run.test_loss:.4f}",
               "solved" if run.solved else "not solved")
        for run in runs.runs.values()
    ), note=f"Pass mark: {training.pass_mark('adding')}.")


# --------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Experiment:
    """One claim, the view that shows it, and what to look at there.

    ``view.page`` is the target page's url_path; ``extra`` holds session values of widgets that
    are not part of :class:`ViewState` (the Train page's settings), as (key, value) pairs.
    """

    id: str
    title: str
    claim: str
    look: str
    view: ViewState
    readout: Callable[[ViewState], Readout] = field(compare=False)  # the live numbers of ``view``
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def page(self) -> str:
        return self.view.page

    @property
    def script(self) -> Path:
        """The target page's file: ``pages/<url_path>.py`` (``gates.py`` for the home page)."""
        return PAGES_DIR / f"{self.page or 'gates'}.py"

    def url(self) -> str:
        """The shareable relative URL of the preset view (``page?query``)."""
        return self.view.url()

    def read(self) -> Readout:
        """The live read-out of the preset view."""
        return self.readout(self.view)

    def session_values(self) -> dict[str, Any]:
        """Session-state values that put the target page's widgets into the preset view."""
        values = {key: value for key, value in asdict(self.view).items() if key != "page"}
        return {**values, **dict(self.extra)}


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(
        "rnn-forgets", "RNNs forget",
        "A plain tanh RNN loses early inputs: its gradient vanishes within a few tokens.",
        "The chart shows how much of the gradient at the last character reaches each earlier one. "
        "The RNN's dashed curve falls fastest: its memory span is the shortest. The LSTM holds on "
        "longer, and the GRU keeps the whole sentence.",
        ViewState(seq=LONG_TEXT, length=len(LONG_TEXT), page="gradients"),
        spans_readout,
    ),
    Experiment(
        "forget-gate", "The forget gate protects the cell state",
        "The LSTM carries information on its cell state c; the forget gate f decides how much of "
        "it survives each step.",
        f"The trained LSTM has to remember that a quote is open for "
        f"{QUOTE_CLOSE - QUOTE_OPEN - 1} characters. Unit #{CARRIERS['lstm']} carries it: its "
        "forget gate stays near 1 inside the quote, so the running product of f, the cell state's "
        "highway, keeps much more than an ordinary unit. The scrubber follows that unit.",
        ViewState(seq=QUOTE_TEXT, arch="lstm", unit=CARRIERS["lstm"], step=QUOTE_CLOSE - 1),
        lstm_carrier_readout,
    ),
    Experiment(
        "update-gate", "The GRU's update gate does both jobs",
        "The GRU has one update gate z where the LSTM has a forget and an input gate: it keeps z "
        "of the old state and writes 1 − z of the new one.",
        f"Same text, read by the GRU. Its unit #{CARRIERS['gru']} carries the open quote with z "
        "near 1, which also means it writes almost nothing new. The LSTM's f and i are separate "
        "dials: it can keep and write at once.",
        ViewState(seq=QUOTE_TEXT, arch="gru", unit=CARRIERS["gru"], step=QUOTE_CLOSE - 1),
        gru_update_readout,
    ),
    Experiment(
        "gru-cheaper", "GRU is cheaper",
        "Three weight blocks instead of four: the GRU has 3/4 of the LSTM's parameters and "
        "3/4 of its multiply-adds per step.",
        "The count is exactly 3/4 at every size. The time is another matter: a step is a "
        "handful of NumPy calls whose fixed overhead does not depend on the number of gates, so "
        "at small H the GRU is no faster, and it gains only as H grows and the matrix products "
        "dominate. The page's table measures the trained models' size, 128.",
        ViewState(seq=LONG_TEXT, page="compare"),
        cost_readout,
    ),
    Experiment(
        "long-range", "Both learn long-range dependencies, the RNN does not",
        "Trained on a task that needs memory across 50 steps, the LSTM and the GRU learn it; the "
        "RNN stays at the level of guessing.",
        "The adding problem: remember one marked number for up to 50 steps and add it to a second. "
        "Press Train and watch the three loss curves: the LSTM and the GRU drop below the pass "
        "mark, the RNN stays near 1/6, the error of always answering 1.",
        ViewState(page="train"),
        adding_readout,
        extra=tuple((f"train_{name}", value) for name, value in ADDING.items()),
    ),
    Experiment(
        "forget-bias-0", "Where the story is too simple: an LSTM that forgets",
        "The LSTM's memory is not automatic: with a forget-gate bias of 0 and untrained weights, "
        "f sits near 0.5 and the LSTM forgets faster than the RNN.",
        "Fresh random weights, forget bias 0, recurrent weights scaled to spectral radius 1.1. The "
        "LSTM's curve now falls faster than the RNN's. Switch the forget bias to 1 or 2 and "
        "watch its span grow: that is why LSTMs are initialised with a positive forget bias.",
        ViewState(seq=LONG_TEXT, model="random", hidden=64, radius=1.1, forget_bias=0.0, length=100,
                  page="gradients"),
        spans_readout,
    ),
    Experiment(
        "short-sequence", "Where the story is too simple: short sequences",
        "On a sequence shorter than its memory span, the plain RNN does just as well.",
        "Twelve characters: every cell's gradient stays within 10³ of its value at the last "
        "character all the way to the first, so all three spans reach the start. Make the text "
        "longer and see where the RNN drops out first.",
        ViewState(seq=SHORT_TEXT, length=len(SHORT_TEXT), page="gradients"),
        spans_readout,
    ),
)


def experiments_for(page: str) -> list[Experiment]:
    """The experiments whose preset view is on the page with url_path ``page`` ("" is Gates)."""
    return [e for e in EXPERIMENTS if e.page == page]


def by_id(experiment_id: str) -> Experiment:
    """The experiment called ``experiment_id`` (KeyError if there is none)."""
    for e in EXPERIMENTS:
        if e.id == experiment_id:
            return e
    raise KeyError(experiment_id)
