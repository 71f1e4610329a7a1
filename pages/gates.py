"""Gates (home page): type a sequence and watch an LSTM or a GRU read it, gate by gate."""

import numpy as np
import streamlit as st

from app.charts import decisions, export, heatmaps, scrubber
from app.charts import text as interpret_charts
from app.charts.forecast import error_frame, forecast_figure
from app.charts.gradients import gradient_figure
from app.compute import forecasts, models, ranking
from app.compute.upload import literal_markdown
from app.view import sequence
from app.widgets import inputs
from app.widgets import page as ui
from app.widgets.experiments import experiment_links
from cells.science import interpret
from cells.science.gradients import SPAN_DECADES

PIN = "gates_pin"
"""Session key: the unit pinned to the heatmaps' top row (chosen outside the reading's cache)."""
PICKED = "gates_picked_unit"
"""Session key: the unit last picked in "Equations for unit", which only chooses equations."""


def _picked() -> None:
    """The equations picker changed ``unit``: remember that this value is a display choice."""
    st.session_state[PICKED] = st.session_state["unit"]


def _follow(unit: int) -> None:
    """The story's button: ``unit`` becomes the view's, pinned to the heatmaps' top row and
    followed by the scrubber's equations and diagram."""
    st.session_state["unit"] = unit
    st.session_state.pop(PICKED, None)


def pinned_unit(unit: int) -> int:
    """The unit to pin to the top row for the view's ``unit``.

    A ``unit`` from the URL or an experiment's preset is pinned; one picked for the equations
    (always a unit already shown) keeps the pin as it was, so the heatmap rows keep their order.
    """
    session = st.session_state
    if PICKED not in session or session[PICKED] != unit:
        session.pop(PICKED, None)
        session[PIN] = unit
    return session[PIN]


STORY_CHARS = 480
"""The first picture colours at most this many characters (six lines): a passage reads better than
a wall of text, and every drawn character costs the browser time (bench/bench_render.py)."""


def show_story(text: str, labels: tuple[str, ...], reading: models.Reading) -> None:
    """The first picture: one unit reading the text (its first :data:`STORY_CHARS` characters),
    coloured by its memory, with its gates; the unit is chosen over the whole text."""
    memory = reading.cell.memory_state  # c, or h for a cell without a cell state
    states = reading.rows[memory]  # (T, H)
    score = ranking.strongest_unit(reading, text)
    unit = int(np.argmax(states.std(axis=0))) if score is None else score.unit
    shown = slice(0, STORY_CHARS)
    gates = {g: reading.rows[g][shown, unit] for g in reading.cell.sigmoid_gates}
    if score is None:
        what = f"Unit {unit}, the unit whose {memory} varies most over your text."
    else:
        what = (f"Unit {unit} tracks “{score.prop}” ({interpret.PROPERTIES[score.prop][0]}): "
                f"r = {score.r:+.2f} over your text, the strongest match of its "
                f"{reading.hidden_size} units. The Cells page ranks every unit.")
    ui.show_chart(
        interpret_charts.unit_story(text[shown], labels[shown], states[shown, unit], gates,
                                    title=f"One unit reading your text: unit {unit}"
                                    + (f" (the first {STORY_CHARS} characters)"
                                       if len(text) > STORY_CHARS else ""),
                                    memory_name=f"{memory} of unit {unit}", of_tokens=len(text)),
        f"gates-story-unit-{unit}", key="gates_story",
    )
    st.caption(what)
    st.button(f"Follow unit {unit} in the heatmaps and the scrubber", key="gates_follow",
              on_click=_follow, args=(unit,), icon=":material/my_location:", type="tertiary")


def header() -> None:
    st.title("Gates: watch a cell read your sequence")
    ui.explain(
        "First, one unit reading your text, the way Karpathy et al. (2015) drew it: the text "
        "coloured by the unit's memory after each character, its gates in thin strips beneath. "
        "Then every gate of the most active units: each row of the heatmaps is one hidden unit, "
        "each column one token of your sequence. "
        "Gates are fractions between 0 (closed: colour dark blue) and 1 (open: yellow), on the "
        "same fixed Cividis scale everywhere; the candidate, the cell state c and the hidden "
        "state h are signed (red negative, blue positive). Below, the scrubber replays the "
        "reading one token at a time with the cell's equations filled in.",
        guide="pages#gates",
    )


def choose_model(mode: str) -> tuple[models.ModelKey, models.Loaded, int, int]:
    """The cell, weights (and numbers mode's corpus), layer and direction widgets: the model's
    key, the model, the layer and the direction shown."""
    arch = inputs.arch_choice()
    model = inputs.model_choice(models.model_labels(mode), mode)
    corpus = ""
    if mode == "numbers" and model == "trained":
        corpus = inputs.corpus_choice(models.NUMBERS_CORPORA)
    key = models.resolve(arch, model, mode, seed=st.session_state.get("seed", 0), corpus=corpus)
    loaded = models.load(key)
    return key, loaded, inputs.layer_choice(loaded.cell), inputs.direction_choice(loaded.cell)


def shown_units(reading: models.Reading, unit: int) -> tuple[models.Shown, int]:
    """The units the charts show, and the one pinned to the top row for the view's ``unit``."""
    pin = pinned_unit(unit)
    shown = reading.shown(pin)
    if 0 <= unit != pin and unit not in shown.units:
        # a unit picked for the equations that this sequence no longer shows: pin it, so the
        # equations keep following it
        pin = st.session_state[PIN] = unit
        shown = reading.shown(pin)
    return shown, pin


def show_heatmaps(reading: models.Reading, shown: models.Shown, pin: int, labels: tuple[str, ...]) -> None:
    """Every gate and state of the shown units, token by token, and their CSV."""
    cell = reading.cell
    which = (f"the {len(shown.units)} of {reading.hidden_size} units whose h varies most, sorted by "
             "the step where each departs most from its average")
    if reading.backward:
        st.caption("The backward direction reads your sequence from its last token back to the first "
                   "(←): each column is its state after reading from the end up to that token, so "
                   "its memory runs from right to left. The scrubber below plays it in that order.")
    if reading.projected is not None:
        st.caption(f"This LSTM is projected (proj_size): each unit's output o·tanh(c), the h rows "
                   f"here, is mapped to h_t = W_hr (o·tanh(c_t)), {reading.projected.shape[1]} numbers, "
                   "which is what the gates read at the next step and what the layer outputs (below).")
    if shown.pinned:  # pinned (an experiment's unit)
        which = (f"unit {pin} (top row) and the {len(shown.units) - 1} others whose h varies most, "
                 "sorted by when each departs most from its average")
    ui.show_chart(
        heatmaps.state_heatmaps(shown.rows, labels, shown.units, gates=cell.gates,
                                title=f"{cell.display_name}{reading.where} gates and states, {which}"),
        f"gates-{cell.arch}", key="gates_heatmaps",
    )
    st.download_button(
        "Download these values as CSV", icon=":material/download:", on_click="ignore",
        data=lambda: export.trace_frame(labels, shown.rows, shown.units).to_csv(index=False),
        file_name=f"gatescope-gates-{cell.arch}.csv", mime="text/csv",
        help="One row per token, shown unit and gate or state: step, token, unit, gate, value. "
        "Every chart also saves as PNG from its toolbar (camera icon).",
    )


def show_projection(reading: models.Reading, labels: tuple[str, ...]) -> None:
    """A projected LSTM's h itself: the P numbers each step outputs."""
    P = reading.projected.shape[1]
    units = np.arange(P)
    ui.show_chart(
        heatmaps.state_heatmaps({"h": reading.projected}, labels, units, gates=(),
                                title=f"h_t = W_hr (o_t·tanh(c_t)): the projection's {P} numbers"
                                + reading.where),
        "gates-projection", key="gates_projection",
    )


def show_scrubber(reading: models.Reading, shown: models.Shown, labels: tuple[str, ...]) -> None:
    """The reading replayed step by step (a backward direction's from the last token): the unit
    whose equations it fills in, where it opens."""
    cell = reading.cell
    st.subheader("Step through it")
    st.caption(
        "Press play, drag the step slider under the chart or step it with the arrow keys: the bars "
        "are every shown unit's gates at that step, the caption above has the cell's equations for "
        "one unit with that step's numbers, and beside it the cell drawn with the same numbers "
        "(each box filled by its value; lines as wide as what they carry; “∂ The way back” shows "
        "the gradient's local derivative on every line)"
        + (", and the right panel the model's top guesses for the next character." if
           reading.guesses else ".")
        + (" The backward direction's steps go from the last token to the first: its step 0 is "
           "your last token." if reading.backward else "")
    )
    c1, c2 = st.columns(2)
    with c1:
        units = [-1, *map(int, shown.units)]
        unit = inputs.choice("unit", "Equations for unit", units, horizontal=False,
                             format_func=lambda u: "the most active" if u == -1 else f"unit {u}",
                             on_change=_picked, selectbox=True)
    with c2:
        step = inputs.slider("step", "Scrubber opens at step", 0, reading.length - 1)
    follow = 0 if unit == -1 else units.index(unit) - 1
    rows, in_order = reading.in_reading_order(shown.rows, labels)  # the order the direction read
    ui.show_chart(
        scrubber.scrubber(rows, in_order, shown.units, gates=cell.gates,
                          equation_lines=cell.equation_lines, guesses=reading.guesses,
                          follow=follow, active=step, cell=cell,
                          input_name="x_t" if reading.layer == 0 else f"h_t of layer {reading.layer - 1}"),
        f"scrubber-{cell.arch}", key="gates_scrubber",
    )


def show_decision(key: models.ModelKey, seq: sequence.Prepared, reading: models.Reading,
                  labels: tuple[str, ...]) -> None:
    """A classifier's decision as it forms: the class probabilities after each token, where the
    likeliest class changes, and what each token did to the decided class."""
    decision = models.decision(key, seq)
    if decision is None:
        return
    st.subheader("The decision, token by token")
    st.metric("Decided class", literal_markdown(decision.label, limit=80),  # from the file: literal
              f"{decision.final[decision.decided]:.0%}", delta_color="off",
              delta_arrow="off", border=True, help="The head's softmax at the decision: "
              + ("both directions' final states (the forward one after the last token, the backward "
                 "one after the first)." if decision.on_final_states else "the output after the last "
                 "token."))
    bidirectional = reading.directions == 2
    st.caption(
        "Each curve is one class's probability after each token: the head on the model's output at "
        "that step"
        + (" (both directions side by side: the forward one has read up to the token, the backward "
           "one from the end back to it, so these are not what the model would decide had the text "
           "ended there)" if bidirectional else ", what the model would decide had the text ended "
           "there")
        + f". Dotted lines: the likeliest class changed ({len(decision.flips)} time"
        + ("" if len(decision.flips) == 1 else "s") + ")."
    )
    ui.show_chart(
        decisions.class_probabilities_figure(decision.probs, labels, decision.labels, decision.decided,
                                             decision.flips, title="The class probabilities as the "
                                             "model reads"),
        "gates-decision", key="gates_decision",
    )
    st.caption(
        "The tokens that moved the decided class's probability most when they were read (below, "
        "the change each token made, and the gradient of the decided class's logit at the decision "
        "with respect to each token's input, times that input: exact, by backpropagation through "
        + ("both directions and " if bidirectional else "") + "every layer):"
    )
    st.text(", ".join(f"«{labels[t]}» (step {t}: {decision.moved[t]:+.1%})"  # user text: plain
                      for t in decision.strongest(5)))
    ui.show_chart(
        decisions.token_influence_figure(labels, decision.moved, decision.gradient_input,
                                         decision.label, title="What each token did to the decision"),
        "gates-decision-tokens", key="gates_decision_tokens",
    )


def main() -> None:
    left, right = st.columns([3, 1])
    with left:
        seq = inputs.sequence_input()
    with right:
        key, loaded, layer, direction = choose_model(seq.mode)
    state = ui.view_state()
    ui.upload_note(state.model, seq.mode, "is the model reading here", shown=loaded.description)
    if seq.length == 0:
        st.info("Type a sequence above to see the gates.", icon=":material/keyboard:")
        return
    reading = models.read(key, seq, layer, direction)
    if reading.length == 0:
        st.info("Your model reads words, and the box holds none: type a few.", icon=":material/keyboard:")
        return
    shown, pin = shown_units(reading, state.unit)
    ui.show_model(loaded.description, loaded.problem, loaded.note)
    ui.show_unknown(reading.unknown_chars)
    labels = sequence.mark_unknown(reading.labels, reading.unknown)
    if loaded.reader.classifies:
        show_decision(key, seq, reading, labels)
    if seq.mode == "text" and loaded.reader.per_character:
        show_story(seq.text, labels, reading)
    show_heatmaps(reading, shown, pin, labels)
    if reading.projected is not None:
        show_projection(reading, labels)
    show_scrubber(reading, shown, labels)
    if seq.mode == "numbers" and key.source == "trained" and forecasts.forecastable(loaded):
        show_forecast(key, seq)


def show_forecast(key: models.ModelKey, seq: sequence.Prepared) -> None:
    """The shipped RNN, LSTM and GRU trained on this real series: forecasts against the naive ones,
    and how far back each one's gradient reaches over the series."""
    st.subheader("Forecast: k steps ahead")
    st.caption(
        "Each trained cell reads the series up to a point and predicts the next value, then reads "
        "its own prediction and predicts again, k times. Beside them, the naive forecast (the last "
        "value) and the seasonal-naive one (the value one cycle earlier). Errors in the series' units."
    )
    view = forecasts.forecast_view(key, seq.values)
    if view.evaluation is None:
        st.info(view.note, icon=":material/info:")
    else:
        ev = view.evaluation
        st.caption(view.note)
        st.dataframe(error_frame(ev), hide_index=True, key="gates_forecast_errors")
        k = inputs.choice("horizon", "Chart the forecasts made this many steps ahead", ev.horizons)
        ui.show_chart(forecast_figure(ev, k, view.archs), "forecast",
                      key="gates_forecast")
    if view.profiles:
        shown = len(view.labels) - view.gradient_start
        st.caption(
            f"How far back each cell's gradient reaches over the last {shown} "
            "values of the series (read from a zero state at the first of them): log10 ‖∂h_T/∂h_t‖."
        )
        ui.show_chart(
            gradient_figure({n: p.log_norms for n, p in view.profiles.items()},
                            view.labels[view.gradient_start:],
                            {n: p.memory_span for n, p in view.profiles.items()}, SPAN_DECADES,
                            archs=view.archs),
            "forecast-gradients", key="gates_forecast_gradients",
        )


with ui.page_guard():
    header()
ui.live_body(main)
with ui.page_guard():
    experiment_links("")
