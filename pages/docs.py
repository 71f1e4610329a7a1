"""Guide: the reference documents of docs/ inside the app, so every page's "What am I looking at?"
line can link to its part of them.

View code only: the documents are read and their links pointed for the app by ``app.compute.docs``.
"""

import streamlit as st

from app.compute import docs
from app.widgets import inputs
from app.widgets import page as ui

TITLES = {"pages": "The pages in detail", "architecture": "Architecture", "engine": "The engine",
          "models": "Your own model", "upload-safety": "Upload safety", "shipped-models": "Shipped models",
          "lab": "The gate lab", "match": "Select and match", "diagram": "The cell, drawn",
          "benchmarks": "Benchmarks", "e2e": "Browser tests"}
"""How the document menu names each document (a document not listed shows its file name)."""

with ui.page_guard():
    names = docs.doc_names()
    inputs.choice("doc", "Document", names, selectbox=True,
                  format_func=lambda n: TITLES.get(n, f"{n}.md"))
    for block in docs.read_doc(st.session_state["doc"]):
        if block.image is None:
            st.markdown(block.text)  # developer text from docs/, never a visitor's
        elif block.image.is_file():
            st.image(str(block.image), caption=block.text)
