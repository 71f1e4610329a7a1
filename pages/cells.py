"""Interpretable cells: which hidden units of a character model track the typed text.

View code only: the properties and correlations come from ``cells.science.interpret``, the coloured text
from ``app.charts.text``, the model (trained, random or the visitor's upload) from
``app.compute.models``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from app.charts import base as charts
from app.charts.text import activation_text
from app.compute import matching, models, ranking
from app.view import sequence
from app.widgets import inputs
from app.widgets import page as ui
from cells.science import interpret
from cells.science import match as cells_match

SAMPLE_TEXT = (
    'The keeper looked up from his logbook. "Storm tonight," he said (to nobody in particular), '
    '"and the lamp still smokes."\n'
    "His daughter laughed. \"It always smokes. You said so yourself [in March, and again in "
    'June].\"\n'
    "Outside, the wind rose; the gulls went quiet; the first waves broke over the jetty.\n"
    '"Light it anyway," she said, "and write that down: 9 October, lamp lit, smoke as usual."'
)
"""A longer text with quotes, brackets and several lines, for a fairer ranking (written for
gatescope; not from the training corpus)."""

SAMPLE_CODE = (
    "import os\n\n\n"
    "def largest_files(root, count=10):\n"
    '    """The `count` largest files under root, as (size, path) pairs."""\n'
    "    sizes = []  # (size, path)\n"
    "    for folder, _dirs, names in os.walk(root):\n"
    "        for name in names:\n"
    "            path = os.path.join(folder, name)\n"
    "            try:\n"
    "                sizes.append((os.path.getsize(path), path))\n"
    "            except OSError:  # gone, or not readable\n"
    "                continue\n"
    "    sizes.sort(reverse=True)\n"
    "    return sizes[:count]\n\n\n"
    'if __name__ == "__main__":\n'
    "    for size, path in largest_files('.'):\n"
    '        print(f"{size:>12,}  {path}")\n'
)
"""A Python function with strings, comments, brackets and indentation (written for gatescope; not
from the training corpus)."""

SAMPLES = {"prose": SAMPLE_TEXT, "code": SAMPLE_CODE}


def _load_sample() -> None:
    st.session_state["seq"] = SAMPLES.get(st.session_state.get("corpus"), SAMPLE_TEXT)


@dataclass(frozen=True, eq=False)
class UnitReading:
    """The typed text read by a model: one state per unit and character, and the ranking."""

    states: np.ndarray  # (T, H) the ranked state (c or h)
    corpus: str  # which property set: "prose" or "code" (cells.science.interpret.PROPERTY_SETS)
    properties: dict[str, np.ndarray]  # name -> (T,) signal
    best: dict[str, list[interpret.UnitScore]]  # name -> best units, best first
    unknown_chars: tuple[str, ...]


def read_units(key: models.ModelKey, seq: sequence.Prepared, state: str, layer: int = -1,
               corpus: str = "prose", direction: int = 0) -> UnitReading:
    """The model ``key`` names over the text (``app.compute.models.read``, cached there) and its units of
    a stack's ``layer`` (a bidirectional model's ``direction``) ranked by every property of
    ``corpus``'s set (``app.compute.ranking``, cached)."""
    reading = models.read(key, seq, layer, direction)
    state = state if state in reading.rows else "h"
    properties, best = ranking.rank_units(reading, seq.text, state, corpus)
    return UnitReading(reading.rows[state], corpus, properties, best, reading.unknown_chars)


def ranking_table(reading: UnitReading) -> pd.DataFrame:
    """One row per ranked property: its meaning, its best unit with r, the runners-up; the
    strongest first."""
    rows = []
    for name, scores in reading.best.items():
        if not scores:
            continue
        top = scores[0]
        rows.append({
            "property": name,
            "means": interpret.PROPERTY_SETS[reading.corpus][name][0],
            "best unit": top.unit,
            "correlation r": top.r,
            "runners-up (r)": ", ".join(f"{s.unit} ({s.r:+.2f})" for s in scores[1:]),
        })
    table = pd.DataFrame(rows, columns=["property", "means", "best unit", "correlation r",
                                        "runners-up (r)"])
    return table.sort_values("correlation r", key=abs, ascending=False, kind="stable")


def choose_model(corpus: str) -> tuple[models.ModelKey, models.Loaded, int, int, str]:
    """The model, layer, direction and state widgets: the key, the model, the layer, the direction
    and the state ranked."""
    arch = inputs.arch_choice("Model")
    model = inputs.model_choice(models.model_labels("text"), "text", horizontal=False)
    key = models.resolve(arch, model, "text", seed=ui.view_state().seed, corpus=corpus)
    loaded = models.load(key)
    layer = inputs.layer_choice(loaded.cell)
    direction = inputs.direction_choice(loaded.cell)
    state = "h"
    if key.cell.has_cell_state:  # an uploaded model has its own cell
        state = inputs.choice("cells_state", "Cell state or hidden state", ("c", "h"),
                              format_func=charts.STATE_TITLES.get,
                              help="Karpathy et al. coloured the cell state c.")
    return key, loaded, layer, direction, state


def show_ranking(reading: UnitReading, length: int) -> bool:
    """The table of the best unit per property; False when no property can be ranked."""
    table = ranking_table(reading)
    st.subheader("The best unit for each property")
    if table.empty:
        st.info("No property varies over this text in a way a unit could track: type more.",
                icon=":material/info:")
        return False
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"correlation r": st.column_config.NumberColumn(format="%+.2f")})
    unranked = [f"{name} ({interpret.why_unranked(reading.properties[name])})"
                for name, scores in reading.best.items() if not scores]
    st.caption(
        f"Over {length:,} characters and {reading.states.shape[1]} units. With many units and "
        "a short text some correlation appears by chance (units that drift as the text goes on "
        "match whatever happens late in it): a longer, varied text gives a fairer ranking."
        + (f" Not ranked: {'; '.join(unranked)}." if unranked else "")
    )
    return True


def show_units(reading: UnitReading, seq: sequence.Prepared, key: models.ModelKey, state: str,
               corpus: str, layer: int) -> None:
    """The best units of the chosen property: the text coloured by each one with a link to where
    else it is on (the Match page), and the property."""
    table = ranking_table(reading)
    name = inputs.choice("cells_property", "Show the units for", list(table["property"]), selectbox=True,
                         help="The properties in the table's order: the strongest match first.")
    what = charts.STATE_TITLES[state]
    for score in reading.best[name]:
        ui.show_chart(
            activation_text(seq.text, seq.labels, reading.states[:, score.unit],
                            title=f"Unit {score.unit}, {what}: r = {score.r:+.2f} with “{name}”",
                            value_name=f"{state} of unit {score.unit}"),
            f"cells-{key.arch}-unit-{score.unit}", key=f"cells_unit_{score.unit}",
        )
        url = matching.match_url(ui.view_state(), reading.states, score.unit, score.r, state, corpus, layer)
        if url is None:
            st.caption(f"Unit {score.unit} is on (beyond ±{cells_match.THRESHOLD}) nowhere in this text: "
                       "nothing to search for.")
        else:
            st.link_button(f"Where else is unit {score.unit} on? Select its longest span on the Match page",
                           url, icon=":material/manage_search:", type="tertiary")
    with st.expander(f"The property itself: {name}"):
        ui.show_chart(
            activation_text(seq.text, seq.labels, reading.properties[name],
                            title=f"“{name}”: {interpret.PROPERTY_SETS[corpus][name][0]}",
                            value_name=name),
            "cells-property", key="cells_property_chart",
        )


def main() -> None:
    st.title("Interpretable cells: units that track your text")
    ui.explain(
        "Karpathy, Johnson & Fei-Fei (2015) found units of character-level LSTMs that switch on "
        "inside quotes or count along a line. Here every unit of a character model (gatescope's "
        "trained one, or your upload) is scored against simple properties of the text you type, "
        "by the Pearson correlation r of its activation with the property over the characters; "
        "the best units are shown as your text coloured by their activation (blue positive, "
        "red negative).",
        guide="pages#cells",
    )
    left, right = st.columns([3, 1])
    with right:
        corpus = inputs.text_corpus_choice(models.CORPUS_LABELS, "Text",
                                           "Prose is ranked against properties of prose, code against "
                                           "properties of code (strings, comments, brackets, indentation).")
        key, loaded, layer, direction, state = choose_model(corpus)
    with left:
        seq = inputs.sequence_input(numbers=False)
    with right:
        st.button("Try a longer text", on_click=_load_sample, icon=":material/article:",
                  help="Prose: four lines with quotes and brackets; code: a Python function with "
                  "strings, comments and indentation. More for a unit to be right about.")
    if seq.length < 2:
        st.info("Type at least two characters: a correlation needs a text to vary over.",
                icon=":material/keyboard:")
        return
    ui.upload_note(ui.view_state().model, "text", "is the model ranked here", shown=loaded.description)
    if not loaded.reader.per_character:
        st.info("Your model reads words: the properties here are per character, so its units "
                "cannot be ranked against them. Gates and LSTM vs GRU show it.",
                icon=":material/info:")
        return
    reading = read_units(key, seq, state, layer, corpus, direction)
    ui.show_model(loaded.description, loaded.problem, loaded.note)
    if not loaded.trained:
        st.warning("These are random weights: any match is chance.", icon=":material/warning:")
    ui.show_unknown(reading.unknown_chars)
    if show_ranking(reading, seq.length):
        show_units(reading, seq, key, state, corpus, layer)


with ui.page_guard():
    main()
