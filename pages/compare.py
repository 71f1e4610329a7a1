"""LSTM vs GRU: the two cells side by side on the same sequence, with their costs measured here."""

import numpy as np
import pandas as pd
import streamlit as st

import cells
from app.charts import base as charts
from app.charts import heatmaps, saturation
from app.charts.scrubber import diagram_player
from app.compute import models
from app.view import sequence
from app.widgets import inputs
from app.widgets import page as ui
from app.widgets.experiments import experiment_links

COMPARED = ("lstm", "gru")
"""The two cells this page sets side by side."""


def facts_table(loaded: dict[str, models.Loaded], timing: dict[str, dict[str, float]]) -> pd.DataFrame:
    """One column per cell: its gates, blocks, states and sizes (from the cell) and the measured
    time per step on this server."""
    return pd.DataFrame({
        name: {
            "gates (sigmoid)": ", ".join(m.cell.sigmoid_gates),
            "weight blocks G": str(m.cell.blocks),
            "state vectors": ", ".join(m.cell.states),
            "hidden size H": str(m.cell.hidden_size),
            "input size I": str(m.cell.input_size),
            "parameters": f"{m.cell.num_params:,}",
            "µs per step (step())": (f"{timing[name]['step'] * 1e6:.1f}" if np.isfinite(timing[name]["step"])
                                     else "none: it reads the whole sequence at once"),
            "µs per token (forward())": f"{timing[name]['forward'] * 1e6:.1f}",
        }
        for name, m in loaded.items()
    })


def show_equations() -> None:
    """Both cells side by side: their equations and what each gate does (from the cells)."""
    for column, arch in zip(st.columns(len(COMPARED)), COMPARED, strict=True):
        cls = cells.cell_class(arch)
        column.markdown(f"**{cls.display_name}** ({cls.paper})")
        column.latex(cls.equations)
        column.caption("; ".join(f"{g.name}: {g.title}, {g.does}" for g in cls.gates) + "; "
                       + ", ".join(charts.STATE_TITLES[s] for s in cls.states) + ".")


def show_costs(keys: dict[str, models.ModelKey], loaded: dict[str, models.Loaded]) -> None:
    """The parameter counts and the time of one step on this server."""
    timing = {name: models.step_seconds(key) for name, key in keys.items()}
    st.dataframe(facts_table(loaded, timing), width="stretch")
    for m in loaded.values():
        if m.problem or m.note:
            ui.show_model(m.description, m.problem, m.note)
    st.caption(
        "Parameters: G·H·(I + H + 2) for G weight blocks (the LSTM's G = 4, the GRU's G = 3), "
        "counted from the cells' arrays. Times: median of 5 runs over 200 tokens on this server, "
        "measured again every 5 minutes. Models: "
        + "; ".join(m.description for m in loaded.values()) + "."
    )


def show_gates(keys: dict[str, models.ModelKey], readings: dict[str, models.Reading]) -> None:
    """Each cell's gates and h on the sequence, for its most active units."""
    for name, reading in readings.items():
        if reading.length == 0:
            st.info(f"{name} reads words, and the box holds none.", icon=":material/info:")
            continue
        labels = sequence.mark_unknown(reading.labels, reading.unknown)
        shown = reading.shown()
        whose = " (your upload)" if keys[name].source == "upload" else ""
        gate_rows = {n: a for n, a in shown.rows.items() if n != "c"}  # gates and h
        ui.show_chart(
            heatmaps.state_heatmaps(gate_rows, labels, shown.units, gates=reading.cell.gates,
                                    title=f"{name}{whose}{reading.where} gates and h, the {len(shown.units)} "
                                    f"of {reading.hidden_size} units whose h varies most"),
            f"compare-gates-{reading.cell.arch}",
        )


def show_diagrams(readings: dict[str, models.Reading]) -> None:
    """Both cells drawn side by side, each with its most active unit's numbers, stepped together."""
    shown = {name: r for name, r in readings.items() if r.length}
    if not shown:
        return
    st.subheader("Both cells, drawn, at the same step")
    T = min(r.length for r in shown.values())
    entries = []
    for reading in shown.values():
        unit = int(reading.shown().units[0])
        entries.append((reading.cell, {n: a[:T, unit] for n, a in reading.rows.items()}, unit))
    first = next(iter(shown.values()))
    labels = sequence.mark_unknown(first.labels[:T], first.unknown[:T])
    st.caption(
        "Each cell as Olah drew it, with its most active unit's numbers at the step the slider "
        "shows: the LSTM's cell state runs along the top through × f and + i g; the GRU's hidden "
        "state runs along the top through × z and + (1 − z) n. Gate boxes are filled by their "
        "value on the 0-1 scale of the heatmaps, states on the signed one; “∂ The way back” puts "
        "each line's local derivative on it."
        + "".join(f" {name}: unit {unit}." for name, (_, _, unit) in zip(shown, entries, strict=True))
    )
    ui.show_player(diagram_player(entries, labels), key="compare_diagrams")


def show_saturation(readings: dict[str, models.Reading]) -> None:
    st.subheader("Gate saturation per unit")
    st.caption(
        "Each dot is one unit's gate: how often it is nearly closed (< 0.1, x) and nearly open "
        "(> 0.9, y) over your sequence, as in Karpathy, Johnson & Fei-Fei (2015). Dots near the "
        "axes' ends are gates that act like switches; dots near the origin stay in between. "
        "All units are counted, not only the ones shown above."
    )
    titles = {g.name: g.title for r in readings.values() for g in r.cell.gates}
    ui.show_chart(
        saturation.saturation_scatter({name: r.saturation for name, r in readings.items()}, titles),
        "compare-saturation",
    )


def main() -> None:
    st.title("LSTM vs GRU")
    ui.explain(
        "The same sequence read by an LSTM and by a GRU. The GRU merges the LSTM's forget and "
        "input gates into one update gate z and keeps no separate cell state, so it has three "
        "weight blocks instead of four. The table counts parameters from the cells themselves "
        "and times one step on this server; the heatmaps and the saturation plot show how each "
        "cell's gates actually behave on your text.",
        guide="pages#lstm-vs-gru",
    )
    left, right = st.columns([3, 1])
    with right:
        model = inputs.model_choice(models.model_labels(st.session_state.get("mode", "text")),
                                    st.session_state.get("mode", "text"), horizontal=False)
    with left:
        seq = inputs.sequence_input()
    state = ui.view_state()
    show_equations()
    keys = models.resolve_each(COMPARED, model, seq.mode, seed=state.seed)
    ui.upload_note(model, seq.mode, "replaces the trained cell of its kind in the table and the "
                   "charts; the other cell is gatescope's trained one",
                   shown="gatescope's trained LSTM and GRU")
    loaded = {name: models.load(key) for name, key in keys.items()}
    show_costs(keys, loaded)
    if seq.length == 0:
        st.info("Type a sequence above to compare the gates.", icon=":material/keyboard:")
        return
    layers = {name: inputs.layer_choice(m.cell) for name, m in loaded.items()}  # a stacked upload's
    directions = {name: inputs.direction_choice(m.cell) for name, m in loaded.items()}  # a bidirectional's
    readings = {name: models.read(key, seq, layers[name], directions[name]) for name, key in keys.items()}
    ui.show_unknown(list(dict.fromkeys(ch for r in readings.values() for ch in r.unknown_chars)))
    show_gates(keys, readings)
    show_diagrams(readings)
    show_saturation(readings)


with ui.page_guard():
    main()
    experiment_links("compare")
