"""Train: a tanh RNN, an LSTM and a GRU learn the same long-lag task, live; then look inside them.

View code only: training, caps and caching live in ``app.compute.training``, the charts in
``app.charts.training``, ``app.charts.base`` and ``app.charts.gradients``.
"""

from __future__ import annotations

import streamlit as st

from app.charts.gradients import gradient_figure
from app.charts.heatmaps import state_heatmaps
from app.charts.training import loss_figure
from app.compute import training
from app.widgets import inputs
from app.widgets import page as ui
from app.widgets import training as train_widgets
from app.widgets.experiments import experiment_links
from cells.science.gradients import SPAN_DECADES
from cells.train.trainer import TEST_SEQUENCES

TASK_LABELS = {"adding": "adding problem", "recall": "recall the first symbol"}
LOOK_FOR = {
    "adding": "What to look for once they have learnt it: the LSTM's input gate i opening at the ★ "
    "steps and its cell state c stepping there and holding in between; the GRU's update gate z "
    "near 1 (h copied) between the ★ steps; the RNN's h, with no gate, rewritten at every step. "
    "Below, the RNN's gradient falls by orders of magnitude over the sequence.",
    "recall": "What to look for once they have learnt it: units set by the first token that keep "
    "their value through the distractors (the LSTM's c, the GRU's h with z near 1), and the "
    "gradient reaching back to that first token.",
}
TASK_TEXT = {
    "adding": "**The adding problem** (Hochreiter & Schmidhuber 1997): each step carries a random "
    "value in [0, 1] and a marker; two values are marked, one in each half of the sequence. "
    "The answer, read from the last hidden state, is the sum of the two marked values. Always "
    "answering 1 scores an error of 1/6: to do better, a cell has to carry the first marked value "
    "across up to T steps.",
    "recall": "**Long-lag recall**: the first token is one of four symbols A–D, then come T − 2 "
    "distractors and a query; at the query the cell must name the first symbol. Guessing scores "
    "ln 4 ≈ 1.39 nats: the symbol has to survive the whole sequence.",
}


def settings_widgets() -> training.Settings:
    cap = training.step_cap()
    cols = st.columns([1.4, 1, 1, 1])
    with cols[0]:
        st.session_state.setdefault("train_task", training.DEFAULTS["task"])
        task = inputs.choice("train_task", "Task", training.TASKS, format_func=TASK_LABELS.get)
    sizes = {k: v for k, v in training.DEFAULTS.items() if k != "task"}
    length, hidden, steps = train_widgets.size_widgets("train", sizes, cols[1:])
    st.markdown(TASK_TEXT[task])
    st.caption(
        f"Bounds: each cell trains for at most {cap:,} steps and {training.MAX_SECONDS:g} seconds, "
        "whichever comes first, and one training runs at a time on this server (a second visitor "
        f"waits). Seed {training.SEED}; results are kept per settings, so anyone choosing the same "
        "settings sees them at once."
    )
    return training.Settings.capped(task, length, hidden, steps)


def show_scores(runs: training.Runs) -> None:
    task = runs.settings.task
    for col, run in zip(st.columns(len(runs.runs)), runs.runs.values(), strict=True):
        with col:
            st.metric(run.name, run.score, border=True,
                      help=f"On {TEST_SEQUENCES:,} fresh test sequences. Pass mark: "
                      f"{training.pass_mark(task)}.")
            if run.solved:
                st.badge("solved", icon=":material/check:", color="green")
            else:
                st.badge("not solved", icon=":material/close:", color="red")
            st.caption(f"{run.steps:,} steps in {run.seconds:.1f} s; test loss {run.test_loss:.3g}; "
                       f"on the example below it answers {run.answer}.")
    if runs.stopped_by_time:
        st.caption(f"Stopped by the {training.MAX_SECONDS:g}-second cap before the last step: "
                   f"{', '.join(runs.stopped_by_time)}.")


def show_inside(runs: training.Runs) -> None:
    st.subheader("Inside the trained cells, on one example")
    marks = "★ marks the two values to add" if runs.settings.task == "adding" else \
        "the first token is the symbol to recall, · a distractor, ? the query"
    st.caption(f"One fresh sequence of the task ({marks}); the right answer is {runs.target}. "
               f"The heatmaps show the {training.SHOW_UNITS} (or fewer) units whose h varies most.")
    st.caption(LOOK_FOR[runs.settings.task])
    tabs = st.tabs([run.name for run in runs.runs.values()])
    for tab, run in zip(tabs, runs.runs.values(), strict=True):
        with tab:
            ui.show_chart(
                state_heatmaps(run.rows, runs.labels, run.units, gates=run.cell.gates,
                               title=f"Trained {run.name}: gates and states on the example"),
                f"train-gates-{run.arch}", key=f"train_gates_{run.arch}",
            )
    ui.show_chart(
        gradient_figure({r.name: r.profile.log_norms for r in runs.runs.values()}, runs.labels,
                        {r.name: r.profile.memory_span for r in runs.runs.values()}, SPAN_DECADES,
                        archs={r.name: r.arch for r in runs.runs.values()}),
        "train-gradients", key="train_gradients",
    )


def main() -> None:
    st.title("Train: RNN vs LSTM vs GRU on a long-lag task")
    ui.explain(
        "Pick a task and press Train: a tanh RNN, an LSTM and a GRU of the same size learn it one "
        "after the other, here on the server, with the loss drawn live on a log scale. Then the "
        "trained cells read one example: their gates, and how far back their gradient reaches.",
        guide="pages#train",
    )
    settings = settings_widgets()
    runs = training.cached(settings)
    if runs is None:
        slot = st.empty()
        if not slot.button("Train the three cells", type="primary", icon=":material/play_arrow:",
                           key=training.TRAIN_BUTTON):
            st.info("Nothing trained with these settings yet: press Train.", icon=":material/school:")
            return
        slot.empty()
        try:
            runs = train_widgets.train_live(settings)
        except training.ServerBusyError as exc:
            st.warning(str(exc), icon=":material/hourglass_top:")
            return
    else:
        st.caption("Trained with these settings earlier on this server: the results are cached.")
    show_scores(runs)
    ui.show_chart(
        loss_figure({r.name: r.losses for r in runs.runs.values()}, max_steps=runs.settings.steps,
                    references=training.references(runs.settings.task),
                    loss_name=training.loss_name(runs.settings.task),
                    archs={r.name: r.arch for r in runs.runs.values()}),
        "train-loss", key="train_loss",
    )
    show_inside(runs)


with ui.page_guard():
    main()
    experiment_links("train")
