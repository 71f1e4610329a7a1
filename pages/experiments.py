"""Experiments: a short tour, one claim of the LSTM-vs-GRU story per stop, each a one-click view.

View code only: the catalogue, the read-outs and their numbers live in ``app.compute.experiments``.
"""

import streamlit as st

from app.compute.experiments import EXPERIMENTS, Experiment
from app.widgets import page as ui
from app.widgets.experiments import apply


def open_experiment(e: Experiment) -> None:
    """Load the preset into the session's widget values and go to its page, URL included."""
    apply(e)
    st.switch_page(str(e.script), query_params=e.view.to_query())


def show(number: int, e: Experiment) -> None:
    with st.container(border=True):
        st.subheader(f"{number}. {e.title}")
        st.markdown(f"**Claim.** {e.claim}")
        st.markdown(f"**What to look at.** {e.look}")
        readout = e.read()
        if readout.metrics:
            for col, m in zip(st.columns(len(readout.metrics)), readout.metrics, strict=True):
                col.metric(m.label, m.text, help=m.help or None)
        if readout.note:
            st.caption(readout.note)
        if readout.figure is not None:
            with st.expander("The carrying unit, character by character (shaded: the quotation)"):
                ui.show_chart(readout.figure, f"experiment-{e.id}", key=f"experiment_chart_{e.id}")
        left, right = st.columns([1, 3], vertical_alignment="center")
        if left.button("Open this experiment", key=f"open_{e.id}", type="primary",
                       icon=":material/science:"):
            open_experiment(e)
        right.caption(f"Or share it: [{e.title}]({e.url()}) (a link to the preset view).")


with ui.page_guard():
    st.title("Experiments: the story, claim by claim")
    ui.explain(
        "Each stop is one claim of the standard story (RNNs forget; the LSTM's gates protect its "
        "cell state; the GRU merges them and is cheaper; both learn long-range dependencies) or "
        "one of its limits. The numbers under each claim are measured live on its preset; open it "
        "to see the page behind them, then edit the sequence and the knobs to test the claim "
        "yourself.",
        guide="pages#experiments",
    )
    for number, experiment in enumerate(EXPERIMENTS, start=1):
        show(number, experiment)
