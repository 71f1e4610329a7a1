"""Write: type a beginning and the shipped LSTM, GRU and RNN (of English prose or Python code)
each continue it, side by side, every written character shown with what wrote it.

View code only: the writing comes from ``app.compute.writing`` (``cells.write``, cached), the charts from
``app.charts.writing``.
"""

from __future__ import annotations

import streamlit as st

from app.charts.base import row_titles
from app.charts.writing import next_char_chart, written_text
from app.compute import models, writing
from app.view.state import MAX_WRITE
from app.widgets import inputs
from app.widgets import page as ui
from cells import cell_class

BEGINNINGS = {
    "prose": "The old lighthouse keeper looked at the sea and said",
    "code": ('def read_lines(path):\n    """Return the lines of a file."""\n'
             "    with open(path) as f:\n        "),
}
"""A beginning for each corpus (written for gatescope), loaded by the page's button."""


def _load_beginning() -> None:
    st.session_state["seq"] = BEGINNINGS[st.session_state.get("corpus", "prose")]


def _number(key: str, label: str, lo: int, hi: int, help: str) -> int:
    """``st.number_input`` bound to ``key``, its session value clamped into [lo, hi] first."""
    try:
        value = int(min(max(int(st.session_state.get(key, lo)), lo), hi))
    except (TypeError, ValueError, OverflowError):
        value = lo
    st.session_state[key] = value
    return int(st.number_input(label, min_value=lo, max_value=hi, step=1, key=key, help=help))


def sampling_knobs() -> tuple[float, int, int]:
    """Greedy or the temperature, the seed and how many characters: (temperature, seed, n)."""
    greedy = st.checkbox("Greedy (always the likeliest)", key="greedy",
                         help="Temperature 0: the argmax at every step, no randomness.")
    temperature = inputs.slider("temperature", "Temperature", 0.0, 2.0, step=0.05, default=0.8,
                                disabled=greedy,
                                help="Below 1: safer, more repetitive; above 1: wilder. 0 is greedy.")
    seed = _number("sample_seed", "Seed", 0, 2**31 - 1,
                   "The same beginning, temperature and seed always write the same text.")
    n = inputs.slider("chars", f"Characters to write (at most {MAX_WRITE})", 1, MAX_WRITE, step=1,
                      default=200)
    return (0.0 if greedy else temperature), seed, n


def show_writing(w: writing.Written, unit: int, corpus: str) -> None:
    """One model's writing: its text coloured by a unit's state or gate, and its next-character
    guesses at every written step."""
    cell = cell_class(w.arch)
    st.subheader(cell.display_name)
    ui.show_model(w.description, w.problem)
    titles = row_titles(cell.gates)
    options = [name for name in ("h", "c", *(g.name for g in cell.gates)) if name in w.rows]
    row = inputs.choice(f"write_row_{w.arch}", "Colour by", options, selectbox=True,
                        format_func=titles.get)
    H = w.rows["h"].shape[1]
    j = unit if 0 <= unit < H else writing.most_active(w)
    gate = any(g.name == row and g.sigmoid for g in cell.gates)  # on the 0-1 scale
    ui.show_chart(
        written_text(w.labels, w.rows[row][:, j], w.start, text=w.shown,
                     title=f"{titles[row]} of unit {j}", value_name=f"{row} of unit {j}", gate=gate),
        f"write-{corpus}-{w.arch}", key=f"write_text_{w.arch}",
    )
    st.caption(f"Mean entropy of the distributions drawn from: {w.entropy:.2f} bits; the "
               f"written characters had probability {w.chosen_p.mean():.2f} on average.")
    ui.show_chart(
        next_char_chart([w.labels[w.start + k] for k in range(len(w.text))], w.top_labels,
                        w.top_probs, w.chosen_rank, w.chosen_p,
                        title=f"Next character: the {w.top_probs.shape[1]} likeliest at each step"),
        f"write-next-{corpus}-{w.arch}", key=f"write_next_{w.arch}",
    )
    with st.expander("The writing as plain text"):
        st.code(f"\n{w.text}\n", language=None)  # st.code drops one leading and one
        # trailing newline: these, so that the writing is shown exactly


def main() -> None:
    st.title("Write: the models continue your text")
    ui.explain(
        "Type a beginning. The trained LSTM, GRU and RNN each continue it one character at a time: "
        "at each step the model gives a probability to every next character, one is chosen "
        "(sampled at the temperature, or the likeliest one when greedy) and read back in. Each "
        "written character is coloured by the unit or gate you choose, as it was after reading "
        "that character; below, the model's likeliest next characters at every written step, "
        "the one it wrote marked with a square.",
        guide="pages#write",
    )
    left, right = st.columns([3, 1])
    with right:
        corpus = inputs.text_corpus_choice(models.CORPUS_LABELS, "Models of",
                                           "Both are 128-unit character models.")
        temperature, seed, n = sampling_knobs()
        st.button("Try a beginning", on_click=_load_beginning, icon=":material/edit_note:",
                  help="A sentence to continue, or the start of a Python function.")
    with left:
        seq = inputs.sequence_input(numbers=False, label="Beginning")
    st.caption(
        f"Each model writes {n} characters (the limit is {MAX_WRITE}) "
        + ("greedily: the likeliest character at every step." if temperature == 0 else
           f"at temperature {temperature:g}, seed {seed}.")
        + " An empty beginning reads as a new line (the start of a paragraph or a file). In the "
        f"coloured text, your beginning (its last {writing.PROMPT_SHOWN} characters) is faded with "
        "grey italic letters and a vermilion bar marks where the model starts writing; states are "
        "blue for positive, "
        "red for negative, gates dark blue (0) to yellow (1)."
    )
    with right:
        unit = inputs.choice("write_unit", "Colour by unit", list(range(-1, 128)), selectbox=True,
                             format_func=lambda u: "each model's most active unit" if u == -1
                             else f"unit {u}",
                             help="The most active unit: the one whose h varies most over the writing.")
    ui.refusal_note(f"gatescope's trained LSTM, GRU and RNN of {models.CORPUS_LABELS[corpus]}")
    with st.spinner("Writing..."):
        written = writing.write_all(corpus, seq.text, n, temperature, seed)
    ui.show_unknown(written[0].unknown_chars)
    for column, w in zip(st.columns(len(written)), written, strict=True):
        with column:
            show_writing(w, unit, corpus)


with ui.page_guard():
    main()
