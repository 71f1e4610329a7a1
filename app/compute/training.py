"""Bounded, cached training runs for the Train and Lab pages.

A visitor picks a task, a length, a hidden size, a number of steps and (on the Lab page) the cells;
:func:`train_all` trains each cell on it with ``cells.train.trainer.train_task`` (the Train page's are a
tanh RNN, an LSTM and a GRU) and keeps what the page draws (:class:`ArchRun`: the loss curve, the
test result, the trained cell's gates and gradient profile on one task example).

Bounds, so one visitor cannot hold the server for minutes:

* at most :func:`step_cap` steps per cell (:data:`MAX_STEPS`; the environment variable
  ``GATESCOPE_TRAIN_MAX_STEPS`` can only lower it: the tests set it to a handful of steps);
* at most :data:`MAX_SECONDS` seconds of training per cell (``train_task``'s ``max_seconds``),
  and :data:`MAX_TOTAL_SECONDS` for all the cells of one training (more than three cells share it);
* one training at a time on the server (:func:`_server_lock`): a second visitor waits for it.

Results are cached per settings (:class:`Settings`, the cap included) in a bounded store shared by
all sessions, so a second visitor asking for the same settings gets them at once. (It is a
``st.cache_resource`` store rather than ``st.cache_data`` because the training reports live
progress through a callback that draws on the page, which ``st.cache_data`` cannot replay.) The
widgets and the live chart are ``app.widgets.training``'s.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

import cells
from app.compute.lru import LRUMap
from app.compute.models import BASELINES, most_active_units, trace_rows
from cells.science.gradients import GradientProfile, gradient_profile
from cells.train import tasks
from cells.train.trainer import TrainResult, train_task

ARCHS = BASELINES
"""The Train page's cells."""
NAMES = {arch: cells.cell_class(arch).display_name for arch in cells.ARCHS}
TASKS = ("adding", "recall")
LENGTHS = (10, 20, 50, 100)
HIDDEN_SIZES = (8, 16, 32, 64)
STEP_CHOICES = (250, 500, 1000, 2000)
DEFAULTS = {"task": "adding", "length": 50, "hidden": 32, "steps": 1000}
"""Where a visitor starts: the adding problem at the size of the issue's benchmark, where the LSTM
and the GRU solve it within the caps and the RNN does not."""

MAX_STEPS = 2000
"""Most training steps per cell. ``GATESCOPE_TRAIN_MAX_STEPS`` in the environment lowers it."""

MAX_SECONDS = 20.0
"""Most seconds of training per cell (so at most about a minute for the three)."""

MAX_TOTAL_SECONDS = 3 * MAX_SECONDS
"""Most seconds of one training, all its cells together: k > 3 cells get MAX_TOTAL_SECONDS / k each."""

WAIT_SECONDS = MAX_TOTAL_SECONDS + 30
"""How long a visitor waits for another visitor's training before being told to try again."""

SEED = 0
"""Seed of the weights, the training batches and the held-out test sequences."""

SHOW_UNITS = 16
"""The gate charts show the units whose h varies most on the example, at most this many."""

CACHE_ENTRIES = 24
"""Settings whose results the store keeps (least recently used dropped first)."""

SYMBOLS = "ABCD"  # the recall task's symbols, as the page labels them

TRAIN_BUTTON = "train_start"
"""Widget key of the Train page's start button."""


def step_cap() -> int:
    """:data:`MAX_STEPS`, or ``GATESCOPE_TRAIN_MAX_STEPS`` if that is a smaller positive number."""
    try:
        override = int(os.environ.get("GATESCOPE_TRAIN_MAX_STEPS", MAX_STEPS))
    except ValueError:
        override = MAX_STEPS
    return max(1, min(MAX_STEPS, override))


def step_choices() -> tuple[int, ...]:
    """The step counts a visitor can pick: :data:`STEP_CHOICES` below the cap, and the cap
    itself (so a cap of 700 offers 250, 500 and 700). The one place the cap meets the page."""
    cap = step_cap()
    return (*(s for s in STEP_CHOICES if s < cap), cap)


def seconds_per_cell(count: int) -> float:
    """The time cap of each of ``count`` cells trained together: :data:`MAX_SECONDS`, or an equal
    share of :data:`MAX_TOTAL_SECONDS` when there are more than three."""
    return min(MAX_SECONDS, MAX_TOTAL_SECONDS / max(1, count))


@dataclass(frozen=True)
class Settings:
    """One training request; the key of the result store. ``steps`` is already capped, ``archs``
    are the cells trained, in the order they train and are shown."""

    task: str
    length: int
    hidden: int
    steps: int
    seed: int = SEED
    max_seconds: float = MAX_SECONDS
    archs: tuple[str, ...] = ARCHS

    @classmethod
    def capped(cls, task: str, length: int, hidden: int, steps: int,
               archs: tuple[str, ...] = ARCHS) -> Settings:
        """Settings from the page's widgets: unknown values fall back, steps capped, unknown cells
        dropped (none left: the Train page's three), the time cap shared among the cells."""
        archs = tuple(dict.fromkeys(a for a in archs if a in cells.CELLS)) or ARCHS
        return cls(
            task=task if task in TASKS else DEFAULTS["task"],
            length=length if length in LENGTHS else DEFAULTS["length"],
            hidden=hidden if hidden in HIDDEN_SIZES else DEFAULTS["hidden"],
            steps=int(steps) if steps in step_choices() else step_cap(),
            max_seconds=seconds_per_cell(len(archs)),
            archs=archs,
        )


# --------------------------------------------------------------------------- task facts


def loss_name(task: str) -> str:
    return "mean squared error" if task == "adding" else "cross-entropy (nats)"


def references(task: str) -> dict[str, float]:
    """Loss levels worth a line on the loss chart: the pass mark and what guessing scores.

    Adding: always answering 1, the mean of a sum of two Uniform(0, 1) values, scores its variance
    2 * 1/12 = 1/6. Recall: a uniform guess among the symbols scores log(number of symbols) nats.
    """
    if task == "adding":
        return {f"pass mark {tasks.ADDING_SOLVED_MSE:g}": tasks.ADDING_SOLVED_MSE,
                "always answering 1: 1/6": 1.0 / 6.0}
    return {f"guessing: ln {len(SYMBOLS)}": float(np.log(len(SYMBOLS)))}


def pass_mark(task: str) -> str:
    """The task's pass mark in words (the one ``Task.solved`` applies)."""
    if task == "adding":
        return f"test MSE below {tasks.ADDING_SOLVED_MSE:g}"
    return f"test accuracy at least {tasks.RECALL_SOLVED_ACCURACY:.0%}"


def example_labels(task: str, x: np.ndarray) -> tuple[str, ...]:
    """One tick label per step of a task input x (T, I).

    Adding: a marked value as ``★0.42``, an unmarked one as ``·``. Recall: the symbol to remember
    (``A``..``D``), a distractor ``·``, the query ``?``.
    """
    if task == "adding":
        return tuple(f"★{v:.2f}" if marked > 0.5 else "·" for v, marked in x)
    ids = x.argmax(axis=1)  # (T,) one-hot tokens
    query = x.shape[1] - 1
    return tuple(SYMBOLS[i] if i < len(SYMBOLS) else "?" if i == query else "·" for i in ids)


def answer_text(task: str, output: np.ndarray) -> str:
    """A readout output (O,) in the task's terms: the predicted sum, or the likeliest symbol."""
    if task == "adding":
        return f"{float(output[0]):.3f}"
    return SYMBOLS[int(np.argmax(output))]


def target_text(task: str, y: np.ndarray) -> str:
    """An example's target in the task's terms: the sum (1,), or the symbol id ()."""
    if task == "adding":
        return f"{float(np.ravel(y)[0]):.3f}"
    return SYMBOLS[int(y)]


# --------------------------------------------------------------------------- live progress


REDRAW_SECONDS = 0.5
"""The live loss chart is redrawn at most this often (a redraw per step would slow training)."""


class LiveLosses:
    """The losses seen so far while training runs, and when the page should redraw them.

    ``add(arch, step, loss)`` records one step and returns True when :data:`REDRAW_SECONDS` have
    passed since the last redraw or the cell reached its last step.
    """

    def __init__(self, steps: int, redraw_seconds: float = REDRAW_SECONDS,
                 archs: tuple[str, ...] = ARCHS) -> None:
        self.steps = steps
        self.archs = archs
        self.redraw_seconds = redraw_seconds
        self.losses: dict[str, list[float]] = {}
        self._last_draw = -float("inf")

    def add(self, arch: str, step: int, loss: float) -> bool:
        self.losses.setdefault(NAMES[arch], []).append(loss)
        now = time.perf_counter()
        if step >= self.steps or now - self._last_draw >= self.redraw_seconds:
            self._last_draw = now
            return True
        return False

    def progress(self, arch: str, step: int) -> float:
        """Fraction of the whole run (all its cells) done after ``step`` steps of ``arch``."""
        return min(1.0, (self.archs.index(arch) + step / self.steps) / len(self.archs))

    def arrays(self) -> dict[str, np.ndarray]:
        """name -> (S,) losses so far."""
        return {name: np.asarray(values) for name, values in self.losses.items()}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class ArchRun:
    """What the page shows for one trained cell. Arrays over the example are (T, U) for the U
    shown ``units``."""

    arch: str
    losses: np.ndarray  # (S,) training-batch loss per step
    test_loss: float
    test_accuracy: float | None
    solved: bool
    seconds: float
    steps: int
    units: np.ndarray  # (U,)
    rows: dict[str, np.ndarray]  # the cell's gates in display order, then c and h: (T, U) each
    profile: GradientProfile
    answer: str  # the trained model's answer on the example

    @property
    def name(self) -> str:
        return NAMES[self.arch]

    @property
    def cell(self) -> type[cells.Cell]:
        return cells.cell_class(self.arch)

    @property
    def score(self) -> str:
        """The test result in the pass mark's terms: MSE (adding) or accuracy (recall)."""
        if self.test_accuracy is None:
            return f"MSE {self.test_loss:.2g}"
        return f"{self.test_accuracy:.0%} right"


@dataclass(frozen=True, eq=False)
class Runs:
    """The cells trained with one :class:`Settings`, and the example they are shown on."""

    settings: Settings
    runs: dict[str, ArchRun]  # arch -> run
    labels: tuple[str, ...]  # (T,) the example's tick labels
    target: str  # the example's right answer

    @property
    def stopped_by_time(self) -> list[str]:
        return [r.name for r in self.runs.values() if r.steps < self.settings.steps]


def summarise(result: TrainResult, task: str, x: np.ndarray) -> ArchRun:
    """Reduce a training result on ``task`` to what the page draws, reading the example x (T, I)
    once: its gates, the trained model's answer and its gradient profile."""
    trace = result.cell.forward(x)  # (T, H)
    profile = gradient_profile(result.cell, x, trace)
    units = most_active_units(trace.h, SHOW_UNITS)
    rows = trace_rows(result.cell, trace)
    output = result.readout(trace.h[-1])  # (O,) the answer, read from the last hidden state
    return ArchRun(
        arch=result.arch,
        losses=np.array([loss for _, loss in result.history], dtype=np.float32),
        test_loss=result.test_loss,
        test_accuracy=result.test_accuracy,
        solved=result.solved,
        seconds=result.seconds,
        steps=result.steps,
        units=units,
        rows={name: a[:, units] for name, a in rows.items()},
        profile=profile,
        answer=answer_text(task, output),
    )


@st.cache_resource(show_spinner=False)
def _store() -> LRUMap[Settings, Runs]:
    return LRUMap(CACHE_ENTRIES)


@st.cache_resource(show_spinner=False)
def _server_lock() -> threading.Lock:
    """Held while a training runs: one at a time on this server."""
    return threading.Lock()


def cached(settings: Settings) -> Runs | None:
    """The results for ``settings`` if any visitor trained them already."""
    return _store().get(settings)


class ServerBusyError(RuntimeError):
    """Another visitor's training did not finish within :data:`WAIT_SECONDS`."""


def train_all(settings: Settings, on_step: Callable[[str, int, float], None]) -> Runs:
    """Train each of ``settings.archs`` (one training at a time on the server), store the result.

    ``on_step(arch, step, loss)`` is called after every training step. If the page is stopped
    midway (the visitor changes a setting), nothing is stored and the server lock is released.
    """
    lock = _server_lock()
    if not lock.acquire(timeout=WAIT_SECONDS):
        raise ServerBusyError("another visitor's training is still running; try again in a minute")
    try:
        found = cached(settings)  # trained by the visitor we waited for?
        if found is not None:
            return found
        runs, x, target = {}, None, ""
        for arch in settings.archs:
            result = train_task(
                arch, settings.task, length=settings.length, hidden_size=settings.hidden,
                steps=settings.steps, seed=settings.seed, max_seconds=settings.max_seconds,
                callback=lambda step, loss, arch=arch: on_step(arch, step, loss),
            )
            if x is None:
                x, y = result.example(settings.seed)  # the same example for every cell
                target = target_text(settings.task, y)
            runs[arch] = summarise(result, settings.task, x)
        out = Runs(settings, runs, example_labels(settings.task, x), target)
        _store().put(settings, out)
        return out
    finally:
        lock.release()
