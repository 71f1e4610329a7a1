"""The inputs every page shares: the sequence box (``key="seq"``), the cell, weights, corpus and
layer choices, and radios and sliders bound to the view's keys that survive hand-edited URLs.

Each widget's key is a :class:`~app.view.state.ViewState` field, so its value is in the URL.
Beside the box in numbers mode, an example series or a column of an uploaded CSV
(``app.widgets.series_source``) fills the box, which stays the one source of the series.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

import cells
from app.compute import upload
from app.view.sequence import MAX_CHARS, MAX_NUMBERS, Prepared, prepare
from app.view.state import DEFAULT_SERIES, DEFAULT_TEXT, MODES
from app.widgets import series_source


def _swap_default_text(mode: str) -> None:
    """If the box holds the other mode's default (say, the sentence in numbers mode), show this
    mode's default instead. Runs before the box is drawn, so it may set its value."""
    defaults = {"text": DEFAULT_TEXT, "numbers": DEFAULT_SERIES}
    if st.session_state.get("seq") in defaults.values():
        st.session_state["seq"] = defaults[mode]


def sequence_input(*, numbers: bool = True, label: str = "Sequence") -> Prepared:
    """The sequence box (``key="seq"``) and, if ``numbers``, the text/numbers switch.

    Shows the notes about cutting/dropping and returns the :class:`Prepared` sequence.
    """
    session = st.session_state
    if not isinstance(session.get("seq"), str):
        session["seq"] = DEFAULT_TEXT
    mode = "text"
    if numbers:
        mode = choice(
            "mode", "Read the box as", MODES, horizontal=True,
            format_func={"text": "text (characters)", "numbers": "numbers (a series)"}.get,
            help="Numbers: a comma-separated time series, fed to the cell one value at a time.",
        )
        _swap_default_text(mode)
    loaded_notes: tuple[str, ...] = ()
    if mode == "numbers":  # examples and a CSV upload, written into the box before it is drawn
        loaded_notes = series_source.sources(MAX_NUMBERS)
    st.text_area(
        label,
        key="seq",
        height=100,
        help=f"Up to {MAX_CHARS:,} characters (numbers mode: {MAX_NUMBERS:,} values); "
        "longer input is cut.",
    )
    prepared = prepare(session.get("seq"), mode)
    for note in (*loaded_notes, *prepared.notes):
        st.warning(note, icon=":material/content_cut:")
    return prepared


def choice(
    key: str,
    label: str,
    options: Sequence[Any],
    *,
    horizontal: bool = True,
    format_func: Callable[[Any], Any] | None = None,
    on_change: Callable[[], None] | None = None,
    help: str | None = None,
    selectbox: bool = False,
) -> Any:
    """``st.radio`` (or ``st.selectbox``) bound to ``key``.

    A session value not among ``options`` (say, from a hand-edited URL) resets to the first option.
    """
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    common = {"key": key, "on_change": on_change, "help": help, "format_func": format_func or str}
    if selectbox:
        return st.selectbox(label, options, **common)
    return st.radio(label, options, horizontal=horizontal, **common)


def slider(
    key: str, label: str, lo: float, hi: float, *, step: float | None = None,
    default: float | None = None, help: str | None = None, disabled: bool = False,
) -> Any:
    """``st.slider`` bound to ``key``; the session value is clamped into [lo, hi] and cast to lo's type.

    This is what keeps a hand-edited URL (``?hidden=100000``) from becoming a Streamlit error.
    With nothing to choose (``hi <= lo``, say a one-token sequence) no slider is drawn and ``lo``
    is the value.
    """
    kind = type(lo)
    if hi <= lo:
        st.session_state[key] = lo
        return lo
    value = st.session_state.get(key, lo if default is None else default)
    try:
        value = kind(min(max(float(value), lo), hi))
    except (TypeError, ValueError, OverflowError):
        value = kind(lo if default is None else default)
    st.session_state[key] = value
    return st.slider(label, min_value=lo, max_value=hi, step=step, key=key, help=help, disabled=disabled)


def arch_choice(label: str = "Cell", options: Sequence[str] | None = None) -> str:
    """A cell (``key="arch"``): every registered one, or ``options``, by display name."""
    options = tuple(options or cells.ARCHS)
    return choice("arch", label, options, selectbox=len(options) > 4,
                  format_func=lambda a: cells.cell_class(a).display_name)


def text_corpus_choice(corpora: Mapping[str, str], label: str, why: str) -> str:
    """What the shipped text models learnt (``key="corpus"``): corpus -> label; ``why`` says what
    the choice changes on this page."""
    return choice("corpus", label, tuple(corpora), format_func=corpora.get,
                  help="English prose: models trained on Debian's fortunes. Python code: models "
                  f"trained on the standard library's source. {why}")


def corpus_choice(corpora: Mapping[str, str]) -> str:
    """What the trained numbers model learnt (``key="trained_on"``): corpus -> label."""
    return choice("trained_on", "Trained on", tuple(corpora), horizontal=True, format_func=corpora.get,
                  help="Noisy sines: a mix of one or two sine waves. Sunspots: the yearly sunspot "
                  "numbers, whose last 50 years the models never saw (see the forecast below).")


def layer_choice(cell: Any) -> int:
    """For a stacked model (``cell.num_layers`` > 1), the layer to show (``key="layer"``, 0 reads
    the input, the top one by default); -1 (the top, the only one) for a single cell."""
    num_layers = getattr(cell, "num_layers", 1)
    if num_layers <= 1:
        return -1
    options = list(range(num_layers))
    if st.session_state.get("layer") not in options:
        st.session_state["layer"] = num_layers - 1
    return st.selectbox(
        "Layer", options, key="layer",
        format_func=lambda k: f"layer {k}" + (" (top)" if k == num_layers - 1 else " (reads the input)"
                                              if k == 0 else ""),
        help="Your model stacks layers: layer 0 reads the input, each layer above reads the "
        "hidden states of the one below, and the top layer's h is what the model outputs.")


DIRECTION_NAMES = ("forward →: reads the first token first", "backward ←: reads the last token first")


def direction_choice(cell: Any) -> int:
    """For a bidirectional model (``cell.directions``), the direction to show (``key="direction"``):
    0 forward, 1 backward, which reads the sequence from its end; 0 for any other model."""
    if len(getattr(cell, "directions", ())) < 2:
        return 0
    return choice("direction", "Direction", (0, 1), horizontal=False, format_func=DIRECTION_NAMES.__getitem__,
                  help="Your model is bidirectional: each layer is two cells, one reading the sequence "
                  "from the first token to the last, the other from the last token back to the first. "
                  "Its output after token t is both directions' h side by side: the forward one has "
                  "read tokens 0..t, the backward one tokens t..T-1.")


def model_choice(labels: Mapping[str, str], mode: str, *, horizontal: bool = True,
                 help: str | None = None) -> str:
    """The "Weights" radio (``key="model"``): the shipped choices, plus this visitor's upload.

    The upload is listed on every page, even one that cannot show it in ``mode`` (its label then
    says what it reads), so that visiting such a page never resets the choice nor the URL.
    """
    up = upload.current()
    options = tuple(labels)
    names = dict(labels)
    if up is not None:
        options += (up.key,)
        names[up.key] = "your upload" + ("" if up.mode == mode else f" (reads {up.mode})")
    return choice("model", "Weights", options, horizontal=horizontal, help=help,
                  format_func=lambda m: names.get(m, m))
