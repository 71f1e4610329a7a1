"""Lab: Greff et al.'s LSTM variants, the GRU, the MGU and the RNN side by side; trained live on
the adding problem; and the literature's claims beside what gatescope measured.

View code only: the parts live in ``app.widgets.lab`` (models, training and claims from
``app.compute.models``, ``app.compute.training`` and ``app.compute.lab``).
"""

from __future__ import annotations

import streamlit as st

from app.widgets import inputs, lab
from app.widgets import page as ui

with ui.page_guard():
    st.title("Gate lab: which parts of a gated cell matter?")
    ui.explain(
        "Pick cells: the LSTM, its variants with one part taken away (Greff et al. 2017), the GRU, "
        "the one-gate MGU and the plain RNN. Each reads the sequence in the box: its gates, how far "
        "back its gradient reaches and its parameter count. Train them on the adding problem and "
        "watch their losses race; below, the papers' claims beside what gatescope measured: on the "
        "Bach chorales (Greff et al.'s music task), on text after 16M characters and after 2M (early "
        "learning), and on the adding problem, each with its seeds.",
        guide="lab",
    )
    archs = lab.chosen_cells()
    prepared = inputs.sequence_input(numbers=False)
    model = inputs.model_choice(lab.WEIGHTS, "text", help="Trained: the character models gatescope "
                            "ships (LSTM, GRU, RNN); the other cells have random weights, and say so.")
    if not archs:
        st.info("Pick at least one cell.", icon=":material/checklist:")
    else:
        lab.show_cells(archs, model, prepared)
        st.subheader("Train them on the adding problem")
        lab.show_training(archs)
    st.subheader("The literature's claims, measured here")
    lab.show_claims(prepared.text)
