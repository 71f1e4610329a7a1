"""Training on a page: the length, hidden size and step widgets, and the live race of the cells'
loss curves while ``app.compute.training.train_all`` runs (shared by the Train page and the Lab)."""

from __future__ import annotations

import streamlit as st

from app.charts.training import loss_figure
from app.compute.training import (
    HIDDEN_SIZES,
    LENGTHS,
    NAMES,
    LiveLosses,
    Runs,
    Settings,
    loss_name,
    references,
    step_cap,
    step_choices,
    train_all,
)
from app.widgets import inputs
from app.widgets import page as ui


def size_widgets(prefix: str, defaults: dict[str, int | str], columns: list) -> tuple[int, int, int]:
    """The length, hidden size and step-count widgets (keys ``<prefix>_length``, ``_hidden``,
    ``_steps``; the steps capped by :func:`step_choices`), one in each of ``columns``, starting
    from ``defaults``: (length, hidden, steps). Shared by the Train page and the Lab."""
    cap = step_cap()
    for name, value in defaults.items():
        st.session_state.setdefault(f"{prefix}_{name}", min(value, cap) if name == "steps" else value)
    with columns[0]:
        length = inputs.choice(f"{prefix}_length", "Length T", LENGTHS, selectbox=True,
                           help="Steps per sequence: the lag a cell has to bridge.")
    with columns[1]:
        hidden = inputs.choice(f"{prefix}_hidden", "Hidden size H", HIDDEN_SIZES, selectbox=True)
    with columns[2]:
        steps = inputs.choice(f"{prefix}_steps", "Training steps", step_choices(), selectbox=True,
                          help="Batches of 64 sequences, Adam, clipping at norm 1.")
    return length, hidden, steps


def train_live(settings: Settings, chart_name: str = "train-loss") -> Runs:
    """:func:`train_all` on a page: a progress bar and the loss curves of the cells racing, redrawn
    while the steps come in (at most every :data:`REDRAW_SECONDS`); both are removed at the end.
    Raises :class:`ServerBusyError` like :func:`train_all`."""
    bar = st.progress(0.0, text="Starting…")
    chart = st.empty()
    live = LiveLosses(settings.steps, archs=settings.archs)
    refs = references(settings.task)

    def on_step(arch: str, step: int, loss: float) -> None:
        if not live.add(arch, step, loss):
            return
        bar.progress(live.progress(arch, step),
                     text=f"Training {NAMES[arch]}: step {step:,} of {settings.steps:,}")
        with chart:
            ui.show_chart(loss_figure(live.arrays(), max_steps=settings.steps, references=refs,
                                      loss_name=loss_name(settings.task),
                                      archs={NAMES[a]: a for a in settings.archs}),
                          chart_name, key=f"{chart_name}_live_{sum(map(len, live.losses.values()))}")

    try:
        return train_all(settings, on_step)
    finally:
        bar.empty()
        chart.empty()
