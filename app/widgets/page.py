"""What every page is framed by: the session seeded from the URL and the URL kept in step with
the view, the page's live body, the "What am I looking at?" line, the model line, charts, and the
guard that turns any exception into a short message, never a traceback.

User text is never rendered as Markdown or HTML: it only ever goes back into the text box, into
``st.text``/``st.code`` (plain text), or into chart labels through ``app.charts.base.plot_text``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import streamlit as st

from app.charts.base import NEUTRAL_TEMPLATE, chart_config
from app.component import live_chart
from app.compute import upload
from app.view.sequence import UNKNOWN_LABEL, token_label
from app.view.state import ViewState, sync

log = logging.getLogger("gatescope")


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
    sync(state, st.query_params)
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


def refusal_note(shown: str) -> bool:
    """If this visitor's last file was refused, say so on the page, above its charts: why, the
    fix as code, and ``shown``, the model the page shows instead. True when it said so."""
    refused = upload.refusal()
    if refused is None:
        return False
    st.warning(f"Your file was refused, so this page shows {shown} instead (the sidebar has the "
               "upload). Why:", icon=":material/block:")
    st.text(refused.reason)  # plain text: it quotes the file
    if refused.fix:
        st.code(refused.fix, language="python")  # newlines kept: copy it as it is
    return True


def upload_note(model: str, mode: str, role: str, shown: str = "gatescope's trained models") -> None:
    """Say on the page, above its charts, what becomes of this visitor's file here: refused (why,
    the fix, and ``shown``, the model shown instead); chosen and shown (``role`` ends the sentence
    "Your upload (GRU) ...", say "replaces the trained GRU"; what was read differently from the
    file); or chosen and not shown here, and what is shown instead. Nothing without a file."""
    if refusal_note(shown):
        return
    up = upload.current()
    if up is None or model != up.key:
        return
    if up.mode == mode:
        st.info(f"Your upload ({up.reader.cell.display_name}) {role}.", icon=":material/upload_file:")
        for note in up.notes:
            st.caption(f"Read from your file: {note}.")
    else:
        st.info(f"Your upload reads {up.mode} mode and this page is reading {mode}, so it cannot "
                   f"be shown here: the page shows {shown} instead. Your choice is kept for the pages "
                   "that can show it.", icon=":material/info:")


def show_model(description: str, problem: str = "", note: str = "") -> None:
    """The "Model: ..." line, and plainly, when the shipped model asked for is not what is shown,
    why (a warning) or a remark (an info box)."""
    st.caption(f"Model: {description}.")
    if problem:
        st.warning(problem, icon=":material/warning:")
    if note:
        st.info(note, icon=":material/info:")


def explain(text: str, *, guide: str) -> None:
    """The "what am I looking at" line under a page title (developer text, Markdown allowed),
    ending with a link to its part of the guide: ``guide`` is a document of docs/ and an anchor in
    it, ``"pages#gates"`` (``app.compute.docs``)."""
    doc, _, anchor = guide.partition("#")
    target = f"docs?doc={doc}" + (f"#{anchor}" if anchor else "")
    st.caption(f"**What am I looking at?** {text} [More in the guide]({target})")


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
    """Draw a Plotly figure full width in the app's neutral look (``app.charts.base.NEUTRAL_TEMPLATE``,
    legible in light and dark themes), with PNG export named ``gatescope-<name>.png``; a chart
    drawn with the same ``key`` on the last run is updated in place (``app.component.live_chart``)."""
    fig.update_layout(template=NEUTRAL_TEMPLATE)
    live_chart.draw(fig, chart_config(name), key)


def show_player(player: Any, key: str) -> None:
    """Draw a player with no chart (``app.charts.scrubber.diagram_player``: cell diagrams stepped
    together); the same ``key`` on the next run updates it in place."""
    live_chart.draw_player(player, key)


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
