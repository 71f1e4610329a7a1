"""The experiments on a page: a button per experiment that uses it, loading its preset view
(``app.compute.experiments``' catalogue) into the page's widgets."""

from __future__ import annotations

import streamlit as st

from app.compute.experiments import PAGES_DIR, Experiment, experiments_for


def apply(experiment: Experiment) -> None:
    """Put the preset view into the session's widget values (call before the widgets are drawn,
    or from a widget callback)."""
    for key, value in experiment.session_values().items():
        st.session_state[key] = value


def experiment_links(page: str) -> None:
    """At the bottom of a page: a button per experiment that uses it, loading its preset view
    here, and a link to the whole tour."""
    found = experiments_for(page)
    if not found:
        return
    st.divider()
    st.markdown("**Experiments on this page**: each button loads its preset view here.")
    for e in found:
        st.button(e.title, key=f"experiment_link_{e.id}", on_click=apply, args=(e,), help=e.claim,
                  icon=":material/science:", type="tertiary")
    st.page_link(str(PAGES_DIR / "experiments.py"), label="All experiments, with live read-outs",
                 icon=":material/arrow_forward:")
