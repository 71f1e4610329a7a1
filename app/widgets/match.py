"""The Match page's widgets: the visitor's corpus in the sidebar, what is read (kind, layers,
state, sign), the span (a range over the tokens, or two clicks on the text) and the threshold, and
the list of matches, where a click on one loads it into the box.

Every value that makes the view is a :class:`~app.view.state.ViewState` field (``kind``, ``span``,
``threshold``, ``state``, ``sign``, ``layers``), so it is in the URL; the visitor's corpus stays in
the session, as an uploaded model does.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.charts.match import PICK_TRACE
from app.compute import matching
from app.compute.upload import literal_markdown
from app.view.state import KIND_DEFAULTS, KINDS, MAX_THRESHOLD, SIGNS
from app.widgets import inputs

OWN_CORPUS = "match_own_corpus"
"""Session key: the visitor's corpus (``matching.Corpus``), or absent."""
OWN_ERROR = "match_own_corpus_error"
"""Session key: why the visitor's last corpus file was refused."""
OWN_FILE = "match_own_corpus_file"
"""Session key: the uploader's file id already read."""
SEARCH_OWN = "match_search_own"
"""Session key (a checkbox): search the visitor's corpus rather than the shipped one."""
PICK_KEY = "match_pick"
"""The clickable text's key (its selection is the clicked token)."""
ANCHOR = "match_anchor"
"""Session key: the token clicked first, waiting for the click on the span's last token."""
LOADS = "match_loads"
"""Session key: how many matches were loaded (a new list of matches is a new table widget)."""

SIGN_LABELS = {"+": "at or above the threshold", "-": "at or below minus the threshold"}


# --------------------------------------------------------------------------- the visitor's corpus


def own_corpus() -> matching.Corpus | None:
    """The visitor's corpus, when one was read and the box to search it is ticked."""
    corpus = st.session_state.get(OWN_CORPUS)
    if not isinstance(corpus, matching.Corpus) or not st.session_state.get(SEARCH_OWN, True):
        return None
    return corpus


def corpus_sidebar() -> None:
    """The sidebar's "Your corpus" box: a .txt uploader, what was read or why it was refused."""
    session = st.session_state
    sidebar = st.sidebar
    sidebar.subheader("Your corpus")
    file = sidebar.file_uploader(
        f"Text to search (.txt, at most {matching.MAX_OWN_CORPUS_MB} MB)", type=["txt"],
        key="match_corpus_file", max_upload_size=matching.MAX_OWN_CORPUS_MB,
        help="UTF-8 text, one piece per paragraph (blank lines between them). The Match page "
        "searches it with the chosen model instead of the model's held-out corpus. It stays in "
        "your browser session only.")
    if file is None:
        for key in (OWN_CORPUS, OWN_ERROR, OWN_FILE):
            session.pop(key, None)
    elif session.get(OWN_FILE) != file.file_id:
        session[OWN_FILE] = file.file_id
        try:
            session[OWN_CORPUS] = matching.read_own_corpus(file.getvalue())
            session[OWN_ERROR] = None
        except ValueError as exc:
            session[OWN_CORPUS], session[OWN_ERROR] = None, str(exc)
    if session.get(OWN_ERROR):
        sidebar.error("This corpus was refused: " + literal_markdown(session[OWN_ERROR]),
                      icon=":material/block:")
    elif isinstance(session.get(OWN_CORPUS), matching.Corpus):
        sidebar.success(f"Read: {session[OWN_CORPUS].name}.", icon=":material/check:")
        sidebar.checkbox("Search your corpus", value=True, key=SEARCH_OWN,
                         help="Untick to search the chosen model's held-out corpus again.")


# --------------------------------------------------------------------------- what is read


def kind_choice() -> str:
    """What is read and searched (``key="kind"``); a box holding another kind's default sequence
    (and span) gets this kind's."""
    kind = inputs.choice("kind", "Read and search", KINDS, format_func=matching.KIND_LABELS.get,
                         help="English prose: the models trained on Debian's fortunes search the "
                         "fortunes they never saw. Python code: the code models search held-out "
                         "standard-library files. Melodies: the melody models search held-out "
                         "Essen folk songs.")
    session = st.session_state
    defaults = {text: span for text, span in KIND_DEFAULTS.values()}
    if session.get("seq") in defaults and session["seq"] != KIND_DEFAULTS[kind][0]:
        session["seq"], session["span"] = KIND_DEFAULTS[kind]
    return kind


def layers_choice(cell: Any) -> tuple[int, ...]:
    """A stack's layers searched side by side (``key="layers"``): the top one by default."""
    count = getattr(cell, "num_layers", 1)
    if count <= 1:
        return ()
    options = list(range(count))
    chosen = [k for k in st.session_state.get("layers", ()) if k in options] or [count - 1]
    st.session_state["layers"] = chosen
    picked = st.multiselect("Layers", options, key="layers",
                            format_func=lambda k: f"layer {k}" + (" (top)" if k == count - 1 else ""),
                            help="Several layers at once: their units are selected and matched "
                            "together (LSTMVis's issue #22). Layer 0 reads the input.")
    return tuple(picked)


def state_choice(cell: Any) -> str:
    """h or c (``key="state"``) for a cell with a cell state; h otherwise."""
    if not cell.has_cell_state:
        st.session_state["state"] = "h"
        return "h"
    return inputs.choice("state", "State", ("h", "c"), format_func={"h": "hidden state h",
                         "c": "cell state c"}.get, help="LSTMVis reads the hidden state h; "
                         "Karpathy et al. coloured the cell state c.")


def sign_choice() -> str:
    """When a unit counts as on (``key="sign"``): above the threshold, or below minus it."""
    return inputs.choice("sign", "A unit is on", SIGNS, format_func=SIGN_LABELS.get, horizontal=False,
                         help="LSTMVis counts a unit as on when its state is at or above the "
                         "threshold. Many units switch the other way (the GRU's quote unit goes "
                         "negative inside quotes): 'at or below minus the threshold' selects them.")


# --------------------------------------------------------------------------- the span


def span_slider(labels: tuple[str, ...]) -> tuple[int, int]:
    """The span as a range over the tokens (``key="span"``): [start, end), at least one token."""
    T = len(labels)
    session = st.session_state
    raw = session.get("span", KIND_DEFAULTS["prose"][1])
    try:
        start, end = (int(v) for v in raw)
    except (TypeError, ValueError):
        start, end = KIND_DEFAULTS["prose"][1]
    session["span"] = matching.clamp_span((start, end), T)
    if T == 1:
        return session["span"]
    return st.slider("Span (tokens, end excluded)", 0, T, key="span",
                     help="Drag either end, or click the span's first and last tokens in the text "
                     "below. The span is selected tokens start to end - 1.")


def threshold_slider(limit: float) -> float:
    """The threshold (``key="threshold"``), from 0 to ``limit`` in hundredths."""
    session = st.session_state
    value = session.get("threshold", 0.3)
    session["threshold"] = round(min(max(float(value), 0.0), limit), 2)
    return st.slider("Threshold", 0.0, limit, step=0.01, key="threshold",
                     help="A unit is on at a step when its state there is at or above the threshold "
                     "(LSTMVis: 0.3); with 'at or below minus the threshold', when it is at or below "
                     f"its negative. At most {MAX_THRESHOLD:g} by URL.")


def picked(labels_count: int) -> None:
    """The clickable text's callback: the first click picks the span's first token, the second
    its last (in either order)."""
    session = st.session_state
    event = session.get(PICK_KEY)
    points = [p for p in (event.selection.points if event else []) if p.get("curve_number") == PICK_TRACE]
    if not points:
        return
    token = int(points[-1]["point_index"])
    if not 0 <= token < labels_count:
        return
    anchor = session.pop(ANCHOR, None)
    if anchor is None:
        session[ANCHOR] = token
        session["span"] = (token, token + 1)
    else:
        session["span"] = (min(anchor, token), max(anchor, token) + 1)


# --------------------------------------------------------------------------- the matches


def load_match(view: matching.MatchView, key: str) -> None:
    """The table's callback: the chosen match's piece of the corpus into the box, its span
    selected."""
    session = st.session_state
    rows = session[key].selection.rows if session.get(key) else []
    if not rows:
        return
    session["seq"], session["span"] = matching.loaded_box(view, view.matches[rows[0]])
    session.pop(ANCHOR, None)
    session[LOADS] = session.get(LOADS, 0) + 1


def matches_table(view: matching.MatchView) -> None:
    """The matches, best first: the corpus around each (the match in its own column), its length
    and counts; clicking a row loads it into the box."""
    frame = pd.DataFrame([{
        "#": row.rank, "before": row.before, "match": row.matched, "after": row.after,
        "length": row.length, "selected on": row.on, "others on": row.others,
    } for row in view.matches])
    key = f"match_table_{st.session_state.get(LOADS, 0)}"
    st.dataframe(
        frame, hide_index=True, key=key, on_select=lambda: load_match(view, key), selection_mode="single-row",
        column_config={
            "before": st.column_config.TextColumn(width="medium", alignment="right"),
            "match": st.column_config.TextColumn(width="medium", help="The matched tokens"),
            "after": st.column_config.TextColumn(width="medium"),
            "selected on": st.column_config.NumberColumn(help="Selected units on at every step of the match"),
            "others on": st.column_config.NumberColumn(help="Other units on at every step of the match: "
                                                       "fewer is a cleaner match"),
        })
