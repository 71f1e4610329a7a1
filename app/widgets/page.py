"""Widgets and helpers shared by every page: the sequence box, knobs, captions, the error guard.

Input rules (the README's "The app's rules"), all enforced here so that every page gets them:

* The sequence box is ``st.text_area(key="seq")``. Text longer than :data:`MAX_CHARS` characters
  (numbers mode: :data:`MAX_NUMBERS` values) is cut, and the page says so.
* Control, format and combining characters are kept (the model reads them, most as its unknown
  token) but every label shows them visibly: space ``␣``, newline ``⏎``, tab ``⇥``, other control
  characters as their Unicode control pictures, format characters (e.g. right-to-left overrides)
  as ``U+XXXX``, a combining mark on a dotted circle ``◌``.
* Numbers mode parses a comma-separated series; ``nan``, ``inf`` and anything that is not a number
  are reported and dropped. Beside the box, an example series or a column of an uploaded CSV
  (``app.series``) fills the box, which stays the one source of the series.
* User text is never rendered as Markdown or HTML: it only ever goes back into the text box, into
  ``st.text``/``st.code`` (plain text), or into chart labels through ``app.charts.plot_text``.
* :func:`page_guard` turns any exception into a short message, never a traceback.

The pure parts (:func:`prepare`, :func:`token_label`, :func:`mark_unknown`) need no Streamlit.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import streamlit as st

import cells
from app import live_chart, series, upload
from app.state import DEFAULT_SERIES, DEFAULT_TEXT, MODES, ViewState, sync
from cells.models.encoders import UNKNOWN_CHAR

MAX_CHARS = 2000
"""Longest text a page reads; longer input is cut to its first MAX_CHARS characters."""

MAX_NUMBERS = 2000
"""Most values a numbers-mode series may have; later ones are cut."""

MAX_ABS_VALUE = 1e6
"""Numbers-mode values are clipped to [-MAX_ABS_VALUE, MAX_ABS_VALUE] (reported when it happens)."""

UNKNOWN_LABEL = UNKNOWN_CHAR
"""How a character outside the model's vocabulary is labelled: the model reads its unknown token."""

_VISIBLE = {" ": "␣", "\n": "⏎", "\r": "␍", "\t": "⇥", "\x7f": "␡"}

log = logging.getLogger("gatescope")


# --------------------------------------------------------------------------- pure: inputs


@dataclass(frozen=True)
class Prepared:
    """A sequence ready for a model.

    ``text`` (text mode) is what the model reads, already cut; ``values`` (numbers mode) the finite
    series. ``labels`` has one visible tick label per token and ``notes`` says, in words that never
    quote the user's input, what was cut or dropped.
    """

    mode: str
    text: str = ""
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,) numbers mode
    labels: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def length(self) -> int:
        """Number of tokens T."""
        return len(self.labels)


def token_label(ch: str) -> str:
    """A visible, unambiguous tick label for one character (see the module docstring); a longer
    token (a word model's) is its own label."""
    if len(ch) != 1:
        return ch
    if ch in _VISIBLE:
        return _VISIBLE[ch]
    category = unicodedata.category(ch)
    if category == "Cc":
        return chr(0x2400 + ord(ch)) if ord(ch) < 0x20 else f"U+{ord(ch):04X}"
    if category in ("Cf", "Cs", "Co", "Cn", "Zl", "Zp") or (category == "Zs" and ch != " "):
        return f"U+{ord(ch):04X}"
    if category in ("Mn", "Me", "Mc"):
        return "◌" + ch
    return ch


def prepare_text(raw: str, max_chars: int = MAX_CHARS) -> Prepared:
    """Text mode: cut to ``max_chars`` and label every character."""
    notes = []
    if len(raw) > max_chars:
        notes.append(
            f"Your text has {len(raw):,} characters; only the first {max_chars:,} are shown "
            f"(the limit, MAX_CHARS = {max_chars:,})."
        )
        raw = raw[:max_chars]
    return Prepared("text", text=raw, labels=tuple(token_label(ch) for ch in raw), notes=tuple(notes))


_SEPARATORS = re.compile(r"[,;\s]+")


def parse_numbers(raw: str, max_numbers: int = MAX_NUMBERS) -> Prepared:
    """Numbers mode: a series separated by commas (or semicolons, spaces, newlines).

    Entries that are not numbers, and ``nan``/``inf``, are dropped and counted in the notes.
    """
    entries = [e for e in _SEPARATORS.split(raw) if e]
    values, garbage, non_finite, clipped = [], 0, 0, 0
    for entry in entries:
        try:
            value = float(entry)
        except ValueError:
            garbage += 1
            continue
        if not math.isfinite(value):
            non_finite += 1
            continue
        if abs(value) > MAX_ABS_VALUE:
            value = math.copysign(MAX_ABS_VALUE, value)
            clipped += 1
        values.append(value)
    notes = []
    if garbage:
        notes.append(f"Dropped {garbage:,} entries that are not numbers.")
    if non_finite:
        notes.append(f"Dropped {non_finite:,} entries that are nan or infinite.")
    if clipped:
        notes.append(f"Clipped {clipped:,} values to ±{MAX_ABS_VALUE:g}.")
    if len(values) > max_numbers:
        notes.append(
            f"Your series has {len(values):,} values; only the first {max_numbers:,} are shown "
            f"(the limit, MAX_NUMBERS = {max_numbers:,})."
        )
        values = values[:max_numbers]
    series = np.asarray(values, dtype=np.float64)  # (T,)
    return Prepared(
        "numbers", values=series, labels=tuple(f"{v:.3g}" for v in series), notes=tuple(notes)
    )


def prepare(raw: Any, mode: str) -> Prepared:
    """The sequence box's content read in ``mode`` ("text" or "numbers"); never raises."""
    raw = raw if isinstance(raw, str) else ""
    return parse_numbers(raw) if mode == "numbers" else prepare_text(raw)


def mark_unknown(labels: Sequence[str], unknown: np.ndarray) -> tuple[str, ...]:
    """Tick labels with every unknown-token position shown as :data:`UNKNOWN_LABEL`."""
    return tuple(UNKNOWN_LABEL if u else lab for lab, u in zip(labels, unknown, strict=True))


# --------------------------------------------------------------------------- session and URL


def init_session() -> None:
    """Call once per script run, before ``st.navigation``.

    On a session's first run, widget values are seeded from the URL's query parameters (a shared
    link opens the same view). On every run, the view's keys are re-assigned so that Streamlit
    keeps them while a page without that widget is shown (widget state is otherwise dropped).
    """
    session = st.session_state
    if "_view_loaded" not in session:
        session["_view_loaded"] = True
        loaded = ViewState.from_query(st.query_params.to_dict())
        for key, value in asdict(loaded).items():
            if key != "page":
                session[key] = value
    for key in asdict(ViewState()):
        if key in session:
            session[key] = session[key]


def view_state(page: str = "") -> ViewState:
    """The current view, read from the widgets' session state."""
    return ViewState.from_session(st.session_state, base=ViewState(page=page))


def sync_url(page: str = "") -> ViewState:
    """Write the current view to the URL's query parameters; returns it."""
    state = view_state(page)
    sync(state)
    return state


def live_body(body: Callable[[], None]) -> None:
    """Run a page's interactive part as a fragment (``st.fragment``): an edit of a widget inside
    it reruns ``body`` alone, not the app around it (navigation, sidebar, the page's title and
    links), and the browser redraws only what ``body`` drew (Gates: 50-60 ms less an edit, README
    "Benchmarks"). ``body`` runs under :func:`page_guard`; the URL follows the view after every
    run of it, as after a whole run."""

    @st.fragment
    def fragment() -> None:
        with page_guard():
            body()
        sync_url()  # a whole run syncs again in app/main.py: only changed keys are written

    fragment()


# --------------------------------------------------------------------------- widgets


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
        loaded_notes = series.sources(MAX_NUMBERS)
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


def upload_note(model: str, mode: str, role: str) -> None:
    """Say on the page what becomes of the chosen upload here: ``role`` ends the sentence "Your
    upload (GRU) ..." when it is shown (say, "replaces the trained GRU"), or the page says
    plainly why it cannot show it. Nothing when ``model`` is not the upload."""
    up = upload.current()
    if up is None or model != up.key:
        return
    if up.mode == mode:
        st.info(f"Your upload ({up.reader.cell.display_name}) {role}.", icon=":material/upload_file:")
    else:
        st.info(f"Your upload reads {up.mode} mode and this page is reading {mode}, so it cannot "
                "be shown here: the page shows gatescope's trained models instead. Your choice "
                "is kept for the pages that can show it.", icon=":material/info:")


def show_model(description: str, problem: str = "", note: str = "") -> None:
    """The "Model: ..." line, and plainly, when the shipped model asked for is not what is shown,
    why (a warning) or a remark (an info box)."""
    st.caption(f"Model: {description}.")
    if problem:
        st.warning(problem, icon=":material/warning:")
    if note:
        st.info(note, icon=":material/info:")


def explain(text: str) -> None:
    """The "what am I looking at" line under a page title (developer text, Markdown allowed)."""
    st.caption(f"**What am I looking at?** {text}")


def show_unknown(unknown_chars: Sequence[str]) -> None:
    """Say which typed characters the model does not know (they read as its unknown token)."""
    if not unknown_chars:
        return
    st.info(
        f"{len(unknown_chars)} distinct character(s) are not in the model's vocabulary; the model "
        f"reads each as its unknown token, labelled {UNKNOWN_LABEL} on the charts:",
        icon=":material/help:",
    )
    st.text(" ".join(token_label(ch) for ch in unknown_chars[:200]))


def show_chart(fig: Any, name: str, key: str | None = None) -> None:
    """Draw a Plotly figure full width in the app's neutral look (``app.charts.NEUTRAL_TEMPLATE``,
    legible in light and dark themes), with PNG export named ``gatescope-<name>.png``; a chart
    drawn with the same ``key`` on the last run is updated in place (``app.live_chart``)."""
    from app.charts import NEUTRAL_TEMPLATE, chart_config

    fig.update_layout(template=NEUTRAL_TEMPLATE)
    live_chart.draw(fig, chart_config(name), key)


@contextmanager
def page_guard() -> Iterator[None]:
    """Run a page body; any exception becomes a short message on the page, never a traceback.

    Streamlit's own control flow (``st.rerun``, ``st.stop``, page switches) derives from
    ``BaseException``, not ``Exception``, so it passes through untouched.
    """
    try:
        yield
    except Exception as exc:
        log.exception("page failed")
        st.error(
            "This input could not be shown. Nothing is lost: edit the sequence or the settings "
            "and the page tries again.",
            icon=":material/error:",
        )
        st.text(f"{type(exc).__name__}: {str(exc)[:300]}")
