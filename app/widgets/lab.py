"""The Lab page's parts: the chosen cells on the sequence in the box (gates, gradient, parameters),
their live training on the adding problem (``app.widgets.training``: the Train page's lock, caps
and store), and the table of the literature's claims (``app.compute.lab``).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

import cells
from app.charts.gradients import gradient_figure
from app.charts.heatmaps import state_heatmaps
from app.charts.scrubber import diagram_player
from app.charts.training import loss_figure
from app.compute import gradient_profiles as gradients
from app.compute import lab, models, training
from app.view import sequence
from app.view.state import LAB_CELLS
from app.widgets import page as ui
from app.widgets import training as train_widgets
from cells.science import claims
from cells.science.gradients import SPAN_DECADES

LAB_ARCHS = cells.ARCHS
"""The cells the lab offers: every registered cell, in the registry's order."""
DEFAULT_ARCHS = LAB_CELLS
"""The cells compared at first (the view's default, ``app.view.state``)."""
CELLS_KEY = "cells"
"""The multiselect's key: the view's ``cells``, so the choice is in the URL."""
TRAIN_BUTTON = "lab_train"
WEIGHTS = {"trained": "trained where gatescope ships them", "random": "random weights for every cell"}
GATE_UNITS = 8
"""Each cell's small heatmaps show the units whose h varies most, at most this many."""
HEATMAP_SCALE = 0.8
DIAGRAM_SCALE = 0.72
"""The lab's cell diagrams are drawn at this fraction of the Gates page's size (several a row)."""
"""The heatmaps are drawn at this fraction of the Gates page's height (two cells per row)."""
LAB_DEFAULTS = {"length": 50, "hidden": 32, "steps": 1000}
"""Where the lab's training starts: the Train page's defaults."""


def chosen_cells() -> tuple[str, ...]:
    """The multiselect of cells (the view's ``cells``: from the URL, the lab's defaults at first),
    in the lab's order; cells the lab does not offer are left out."""
    session = st.session_state
    picked = session.get(CELLS_KEY)
    if not isinstance(picked, list | tuple):
        picked = list(DEFAULT_ARCHS)
    session[CELLS_KEY] = [a for a in LAB_ARCHS if a in picked]
    picked = st.multiselect(
        "Cells", LAB_ARCHS, key=CELLS_KEY, format_func=lambda a: cells.cell_class(a).display_name,
        help="Greff et al.'s LSTM variants (NIG, NFG, NOG: no input, forget or output gate; NIAF, "
        "NOAF: no input or output activation; CIFG: input gate coupled to the forget gate), the "
        "GRU, the minimal gated unit and the plain tanh RNN.",
    )
    return tuple(a for a in LAB_ARCHS if a in picked)


def show_cells(archs: tuple[str, ...], model: str, prepared: sequence.Prepared) -> None:
    """The chosen cells on the sequence: a summary table, one gradient chart, small heatmaps."""
    cells_keys = lab.keys(archs, model)
    loaded = gradients.loaded(cells_keys)
    for m in loaded.values():
        if m.problem:
            st.warning(m.problem, icon=":material/warning:")
    st.caption(lab.weights_note(loaded, model))
    cap = gradients.token_cap(loaded)
    text = prepared.text[:cap]
    if len(prepared.text) > cap:
        st.caption(f"Reading the first {cap} of {len(prepared.text):,} characters (the gradient "
                   "measurement's cap for these models).")
    if len(text) < 2:
        st.info("Type at least two characters to see the cells' gates and gradients.",
                icon=":material/keyboard:")
        return
    unknown = np.any([gradients.inputs(m, text)[1] for m in loaded.values()], axis=0)  # (T,)
    labels = sequence.mark_unknown(prepared.labels[:len(text)], unknown)
    profs = gradients.profiles(cells_keys, text)
    st.dataframe(lab.summary_rows(loaded, profs), hide_index=True, width="stretch")
    st.caption("Parameters: the cell's own weights and biases (no embedding or readout). Memory "
               f"span: how many tokens back the gradient stays within 10^{SPAN_DECADES:g} of its "
               "value at the last token.")
    fig = gradient_figure({n: p.log_norms for n, p in profs.items()}, labels,
                          {n: p.memory_span for n, p in profs.items()}, SPAN_DECADES,
                          archs={n: p.arch for n, p in profs.items()})
    fig.update_layout(legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1,
                              "yanchor": "top"})  # seven cells: a column beside the chart
    ui.show_chart(fig, "lab-gradients", key="lab_gradients")
    cut = sequence.prepare(text, "text")
    readings = {name: models.read(dict(cells_keys)[name], cut) for name in loaded}
    show_diagrams(readings, labels)
    st.subheader("Each cell's gates on the sequence")
    names = list(loaded)
    for start in range(0, len(names), 2):
        for col, name in zip(st.columns(2), names[start:start + 2], strict=False):
            reading = readings[name]
            shown = reading.shown(k=GATE_UNITS)
            rows = {g.name: shown.rows[g.name] for g in reading.cell.gates}
            rows["h"] = shown.h
            fig = state_heatmaps(rows, labels, shown.units, gates=reading.cell.gates,
                                 title=f"{name}: {', '.join(rows)} ({len(shown.units)} units)")
            fig.update_layout(height=int(fig.layout.height * HEATMAP_SCALE))
            with col:
                arch = reading.cell.arch
                ui.show_chart(fig, f"lab-gates-{arch}", key=f"lab_gates_{arch}")


def show_diagrams(readings: dict[str, models.Reading], labels: tuple[str, ...]) -> None:
    """One small diagram per chosen cell, each with its most active unit's numbers, all at the
    same step: what each variant keeps of the LSTM, seen side by side."""
    st.subheader("Each cell, drawn")
    entries = [(r.cell, {n: a[:, unit] for n, a in r.rows.items()}, unit)
               for r in readings.values() for unit in [int(r.shown(k=1).units[0])]]
    st.caption(
        "Each chosen cell drawn from its own description, with its most active unit's numbers at "
        "the step the slider shows (" + ", ".join(f"{name}: unit {unit}" for name, (_, _, unit)
                                                  in zip(readings, entries, strict=True))
        + "). NFG's belt has no forget gate, CIFG's input gate is the op 1 − f, NOAF shows c "
        "without a tanh; “∂ The way back” puts each line's local derivative on it."
    )
    ui.show_player(diagram_player(entries, labels, scale=DIAGRAM_SCALE), key="lab_diagrams")


# --------------------------------------------------------------------------- training


def training_settings(archs: tuple[str, ...]) -> training.Settings:
    """Length, hidden size and steps of the lab's training (the Train page's choices and caps)."""
    cap = training.step_cap()
    length, hidden, steps = train_widgets.size_widgets("lab", LAB_DEFAULTS, st.columns(3))
    settings = training.Settings.capped("adding", length, hidden, steps, archs=archs)
    st.caption(
        f"Bounds: each cell trains for at most {cap:,} steps and {settings.max_seconds:.3g} seconds "
        f"({training.MAX_TOTAL_SECONDS:g} s shared by all the cells of one training), whichever "
        "comes first; one training runs at a time on this server, and results are kept per "
        f"settings and cells. Seed {training.SEED}; chrono gate-bias initialisation (Tallec & "
        "Ollivier 2018)."
    )
    return settings


def show_training(archs: tuple[str, ...]) -> None:
    """Train the chosen cells on the adding problem, live (or show the cached results)."""
    settings = training_settings(archs)
    runs = training.cached(settings)
    if runs is None:
        slot = st.empty()
        if not slot.button(f"Train the {len(archs)} cells", type="primary",
                           icon=":material/play_arrow:", key=TRAIN_BUTTON):
            st.info("Nothing trained with these settings and cells yet: press Train.",
                    icon=":material/school:")
            return
        slot.empty()
        try:
            runs = train_widgets.train_live(settings, "lab-loss")
        except training.ServerBusyError as exc:
            st.warning(str(exc), icon=":material/hourglass_top:")
            return
    else:
        st.caption("Trained with these settings earlier on this server: the results are cached.")
    st.dataframe([{"cell": r.name, "test MSE": round(float(r.test_loss), 4),
                   "solved": "yes" if r.solved else "no", "steps": r.steps,
                   "seconds": round(r.seconds, 1)} for r in runs.runs.values()],
                 hide_index=True, width="stretch")
    if runs.stopped_by_time:
        st.caption(f"Stopped by the {settings.max_seconds:.3g}-second cap before the last step: "
                   f"{', '.join(runs.stopped_by_time)}.")
    ui.show_chart(
        loss_figure({r.name: r.losses for r in runs.runs.values()}, max_steps=runs.settings.steps,
                    references=training.references("adding"), loss_name=training.loss_name("adding"),
                    archs={r.name: r.arch for r in runs.runs.values()}),
        "lab-loss", key="lab_loss",
    )


# --------------------------------------------------------------------------- claims


def show_claims(text: str) -> None:
    """The claims table (every verdict computed by ``cells.science.claims``), then the figures
    behind the chorale rows and the character models' held-out curve."""
    data = lab.claims_data()
    if not data:
        st.warning("The precomputed figures (cells/claims_data/lab_claims.json) are missing: run "
                   "scripts/lab_claims.py. Only the live row is shown.", icon=":material/warning:")
    rows = lab.claim_rows(text)
    if rows:
        st.table([{"claim": c.claim, "held here?": c.held, "measured on": c.setting, "paper": c.paper,
                   "the paper's finding": c.finding, "gatescope measured": c.measured}
                  for c in rows], hide_index=True)  # a static table: the long texts wrap
    commands = [section["command"] for section in data.values() if "command" in section]
    st.caption(
        "".join(f"Precomputed by `{c}`. " for c in commands)
        + "The row on the forget-gate bias's mechanism runs live on the sequence in the box. "
        f"'{claims.UNCLEAR}': the difference is not larger than twice the spread between seeds; "
        f"'about equal' and 'cost little': less than {claims.MUSIC.small_gap:g} {claims.MUSIC.unit} "
        f"worse on the chorales, {claims.CHARS.small_gap:g} {claims.CHARS.unit} on the fortunes."
    )
    music = claims.music_table(data)
    if music:
        st.subheader("Greff's variants on the Bach chorales")
        st.table(music, hide_index=True)  # static: every row in sight
        st.caption(f"Test NLL per step in nats (summed over the 88 keys), mean ± standard deviation "
                   f"over the seeds, at the checkpoint with the lowest validation NLL. "
                   f"{claims.GREFF_FIGURES}")
    curve = claims.chars_curve(data)
    if curve:
        st.subheader("Have the character models converged?")
        st.table(curve, hide_index=True)
        st.caption("Held-out bits/char (mean over the seeds) after each stretch of characters seen, "
                   "with the learning rate on its cosine decay to the 16M-character end.")
