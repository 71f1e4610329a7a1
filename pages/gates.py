"""Gates (home page): type a sequence and watch an LSTM or a GRU read it, gate by gate."""

import streamlit as st

from app import charts, export, models, ui, upload
from app.experiments import experiment_links

PIN = "gates_pin"
"""Session key: the unit pinned to the heatmaps' top row (a cache argument of the reading)."""
PICKED = "gates_picked_unit"
"""Session key: the unit last picked in "Equations for unit", which only chooses equations."""


def _picked() -> None:
    """The equations picker changed ``unit``: remember that this value is a display choice."""
    st.session_state[PICKED] = st.session_state["unit"]


def pinned_unit(unit: int) -> int:
    """The unit to pin to the top row for the view's ``unit``.

    A ``unit`` from the URL or an experiment's preset is pinned; one picked for the equations
    (always a unit already shown) keeps the pin as it was, so the model is not read again and the
    rows keep their order.
    """
    session = st.session_state
    if PICKED not in session or session[PICKED] != unit:
        session.pop(PICKED, None)
        session[PIN] = unit
    return session[PIN]


def main() -> None:
    st.title("Gates: watch a cell read your sequence")
    ui.explain(
        "Each row of the heatmaps is one hidden unit, each column one token of your sequence. "
        "Gates are fractions between 0 (closed: colour dark blue) and 1 (open: yellow), on the "
        "same fixed Cividis scale everywhere; the candidate, the cell state c and the hidden "
        "state h are signed (red negative, blue positive). Below, the scrubber replays the "
        "reading one token at a time with the cell's equations filled in."
    )
    left, right = st.columns([3, 1])
    with right:
        arch = ui.arch_choice()
        model = upload.model_choice(models.MODEL_LABELS, st.session_state.get("mode", "text"))
    with left:
        seq = ui.sequence_input()
    state = ui.view_state()
    if seq.length == 0:
        st.info("Type a sequence above to see the gates.", icon=":material/keyboard:")
        return
    pin = pinned_unit(state.unit)
    reading = upload.read_sequence(arch, model, seq.mode, seq.text, seq.values, state.seed,
                                   pin=pin)
    if 0 <= state.unit != pin and state.unit not in reading.units:
        # a unit picked for the equations that this sequence no longer shows: pin it, so the
        # equations keep following it
        pin = st.session_state[PIN] = state.unit
        reading = upload.read_sequence(arch, model, seq.mode, seq.text, seq.values, state.seed,
                                       pin=pin)
    arch = reading.arch  # an uploaded model has its own
    st.caption(f"Model: {reading.description}.")
    ui.show_unknown(reading.unknown_chars)
    labels = ui.mark_unknown(seq.labels, reading.unknown)
    shown = f"the {len(reading.units)} of {reading.hidden_size} units whose h varies most"
    if pin >= 0 and reading.units[0] == pin:  # pinned (an experiment's unit)
        shown = f"unit {pin} (top row) and the {len(reading.units) - 1} others whose h varies most"
    ui.show_chart(
        charts.state_heatmaps(reading.gates, reading.h, labels, reading.units, reading.c,
                              title=f"{arch.upper()} gates and states, {shown}"),
        f"gates-{arch}", key="gates_heatmaps",
    )
    st.download_button(
        "Download these values as CSV", icon=":material/download:", on_click="ignore",
        data=lambda: export.trace_frame(labels, reading.h, reading.gates, reading.c,
                                        reading.units).to_csv(index=False),
        file_name=f"gatescope-gates-{arch}.csv", mime="text/csv",
        help="One row per token, shown unit and gate or state: step, token, unit, gate, value. "
        "Every chart also saves as PNG from its toolbar (camera icon).",
    )

    st.subheader("Step through it")
    st.caption(
        "Press play or drag the slider: the bars are every shown unit's gates at that step, the "
        "title has the cell's equations for one unit with that step's numbers"
        + (", and the right panel the model's top guesses for the next character." if
           reading.guesses else ".")
    )
    c1, c2 = st.columns(2)
    with c1:
        units = [-1, *map(int, reading.units)]
        unit = ui.choice("unit", "Equations for unit", units, horizontal=False,
                         format_func=lambda u: "the most active" if u == -1 else f"unit {u}",
                         on_change=_picked, selectbox=True)
    with c2:
        step = ui.slider("step", "Scrubber opens at step", 0, seq.length - 1)
    follow = 0 if unit == -1 else units.index(unit) - 1
    ui.show_chart(
        charts.scrubber(arch, reading.gates, reading.h, labels, reading.units, c=reading.c,
                        guesses=reading.guesses, follow=follow, active=step),
        f"scrubber-{arch}", key="gates_scrubber",
    )


with ui.page_guard():
    main()
    experiment_links("")
