"""Match (LSTMVis's select and match): select a span of your text, see which units switch on
there, and find everywhere else in a corpus they do.

View code only: the selection, the corpus and the matches come from ``app.compute.matching`` (which
reads the corpora with ``cells``), the charts from ``app.charts.match``.
"""

from __future__ import annotations

import streamlit as st

from app.charts import match as match_charts
from app.charts.base import NEUTRAL_TEMPLATE, chart_config
from app.compute import matching, models
from app.widgets import inputs
from app.widgets import match as widgets
from app.widgets import page as ui


def header() -> None:
    st.title("Match: where else do these units switch on?")
    ui.explain(
        "LSTMVis's question (Strobelt et al. 2017): select a span of your text and the units that "
        "are on at every step of it (their state at or above the threshold) and off just before "
        "it are selected. Then the model reads a corpus it never trained on, and every run where "
        "the selected units are on again is ranked: all of them on first, then fewer other units "
        "on (a cleaner match), then longer. If the units track what you think they track, the "
        "matches should look like your span.",
        guide="match",
    )


def choose_model() -> tuple[str, models.ModelKey, models.Loaded, tuple[int, ...], str, str]:
    """The kind, cell, weights, layers, state and sign widgets: the kind, the model's key, the
    model, its layers, the state and the sign."""
    kind = widgets.kind_choice()
    arch = inputs.arch_choice("Model")
    model = inputs.model_choice(models.MODEL_LABELS, matching.mode_of(kind), horizontal=False)
    key = matching.resolve(kind, arch, model, seed=ui.view_state().seed)
    loaded = models.load(key)
    return (kind, key, loaded, widgets.layers_choice(loaded.cell), widgets.state_choice(loaded.cell),
            widgets.sign_choice())


def corpus_for(kind: str) -> matching.Corpus | None:
    """The visitor's corpus, or the held-out corpus of ``kind``; None (and why, on the page) when
    neither is here."""
    own = widgets.own_corpus()
    if own is not None:
        return own
    with st.spinner("Reading the held-out corpus, once on this server (the melodies: minutes the "
                    "first time on a machine)..."):
        found = matching.shipped_corpus(kind)
    if isinstance(found, str):
        st.info(found, icon=":material/info:")
        return None
    return found


def show_selection(view: matching.MatchView, per_character: bool, text: str) -> None:
    """The text to pick the span on, what the span is and selects, and the selected units."""
    st.plotly_chart(
        match_charts.pick_text(text, view.labels, view.on_count(), len(view.units), view.span,
                               per_character=per_character).update_layout(template=NEUTRAL_TEMPLATE),
        key=widgets.PICK_KEY, on_select=lambda: widgets.picked(view.length), selection_mode="points",
        config=chart_config("match-text"), theme=None,
    )
    st.caption(f"The span, tokens {view.span[0]} to {view.span[1] - 1} (outlined; click a token, then "
               "another, to pick a new one; each token is shaded by how many selected units are on):")
    st.text(view.text_of(view.span))


def show_hint(view: matching.MatchView) -> None:
    """Nothing is selected: say so, and what would select something (with a button each)."""
    hint = view.hint
    relation = "at or above" if view.signed > 0 else "at or below minus"
    st.warning(f"No unit is on ({relation} {view.threshold:.2f}) at every step of this span and off "
               "just before it, so there is nothing to match.", icon=":material/search_off:")
    if hint is None:
        return
    if hint.threshold is not None:
        units = ", ".join(view.unit_names[u] for u in hint.threshold_units[:6])
        st.button(f"Use threshold {hint.threshold:.2f}: it selects {units}", icon=":material/tune:",
                  on_click=st.session_state.__setitem__, args=("threshold", hint.threshold),
                  help="The threshold nearest the one set at which this span selects a unit.")
    else:
        st.caption("No threshold selects a unit over this whole span: every unit is either off "
                   "somewhere in it or already on just before it.")
    if hint.span is not None:
        units = ", ".join(view.unit_names[u] for u in hint.span_units[:6])
        st.button(f"Select tokens {hint.span[0]} to {hint.span[1] - 1} instead: they select {units}",
                  icon=":material/select:", on_click=st.session_state.__setitem__, args=("span", hint.span),
                  help="The longest part of the span that selects a unit at this threshold:")
        st.text(view.text_of(hint.span))


def show_matches(view: matching.MatchView) -> None:
    """The matches in the corpus, the histogram of their lengths, or why there are none."""
    searched = view.searched
    relation = "at or above" if view.signed > 0 else "at or below minus"
    st.subheader(f"Matches in {searched.corpus.name}")
    size = f"{searched.steps:,} steps of {searched.read:,} pieces"
    if searched.read < len(searched.corpus.pieces):
        size += (f" (the first {searched.read:,} of {len(searched.corpus.pieces):,}: "
                 f"{matching.MAX_CORPUS_VALUES:,} states at most are kept for a model this wide)")
    if not view.matches:
        st.info(f"Nothing matches: in {size}, no selected unit is on ({relation} {view.threshold:.2f}) "
                "for 2 steps in a row. The most any of them reaches there is "
                f"{view.signed * view.reach:+.2f}: a lower threshold, or another span, may match.",
                icon=":material/search_off:")
        return
    st.caption(f"Searched {size}. The {len(view.matches)} best runs where the {len(view.units)} "
               f"selected units are on: all {len(view.units)} first, then fewer other units on, then "
               "longer. Click a row to load that piece of the corpus into the box, the match selected.")
    widgets.matches_table(view)
    ui.show_chart(match_charts.length_histogram(view.full_lengths, [row.length for row in view.matches]),
                  "match-lengths", key="match_lengths")
    st.caption(f"{len(view.full_lengths):,} runs of 2 steps or more have all {len(view.units)} selected "
               "units on; the listed matches are the best 50 of every run with at least one on.")


def main() -> None:
    left, right = st.columns([3, 1])
    with right:
        kind, key, loaded, layers, state, sign = choose_model()
    with left:
        seq = inputs.sequence_input(numbers=False)
    ui.upload_note(ui.view_state().model, matching.mode_of(kind), "reads your text and searches the corpus")
    if seq.length == 0:
        st.info("Type a sequence above, then select a span of it.", icon=":material/keyboard:")
        return
    reading = matching.box_reading(key, seq, layers)
    if reading.length == 0:
        st.info("The model reads no token in the box: type a few.", icon=":material/keyboard:")
        return
    ui.show_model(loaded.description, loaded.problem, loaded.note)
    if not loaded.trained:
        st.warning("These are random weights: what their units track is chance.", icon=":material/warning:")
    ui.show_unknown(reading.unknown_chars)
    c1, c2 = st.columns(2)
    with c1:
        span = widgets.span_slider(reading.labels)
    with c2:
        threshold = widgets.threshold_slider(matching.threshold_limit(reading, state))
    corpus = corpus_for(kind)
    view = matching.match_view(key, seq, matching.Query(span, threshold, state, sign, layers), corpus)
    show_selection(view, loaded.reader.per_character, seq.text)
    if not len(view.units):
        show_hint(view)
        return
    shown = view.units[:matching.SHOWN_UNITS]
    names = ", ".join(view.unit_names[u] for u in view.units[:40])
    st.caption(f"Selected: {len(view.units)} unit(s), {names}"
               + (f" (the first {len(shown)} drawn)" if len(view.units) > len(shown) else ""))
    ui.show_chart(match_charts.selected_lines(view.values, view.labels, shown, view.unit_names,
                                              view.threshold, view.signed, view.span),
                  "match-units", key="match_units")
    if view.searched is not None:
        show_matches(view)


with ui.page_guard():
    header()
with ui.page_guard():
    widgets.corpus_sidebar()
with ui.page_guard():
    main()
