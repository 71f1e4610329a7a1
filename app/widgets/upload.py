"""The sidebar's "Your own model" box: the uploader, what was read (or why the file was refused),
and, folded, what a file may be and the lines that write one from PyTorch or Keras. Reading the
file is ``app.compute.upload``'s."""

from __future__ import annotations

import streamlit as st

from app.compute.upload import (
    ERROR_KEY,
    FORMATS,
    KEY_PREFIX,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_UPLOAD_MB,
    MAX_VOCAB_MB,
    SAVE_KERAS,
    SAVE_TORCH,
    WEIGHT_TYPES,
    current,
    literal_markdown,
    receive,
)
from cells.io.files import CONVERT_SNIPPET

WIDGET_KEY = "upload_file"
VOCAB_WIDGET_KEY = "upload_vocab"


def sidebar() -> None:
    """The sidebar's "Your own model" part: the uploader, what was read (or why the file was
    refused), and, folded, what a file may be and the recipes that write one from PyTorch or Keras."""
    session = st.session_state
    wanted = session.get("model")
    sidebar = st.sidebar
    sidebar.subheader("Your own model")
    sidebar.caption(
        "Upload a recurrent model's weights and the Gates page reads your sequence with it; "
        "LSTM vs GRU and Gradients put it in place of the trained cell of its kind (or beside "
        "them), and Cells ranks its units. "
        "Nothing in the file is run, and it stays in your browser session only."
    )
    weights_file = sidebar.file_uploader(
        "Model file (.safetensors, .keras, .npz)", type=WEIGHT_TYPES, key=WIDGET_KEY,
        max_upload_size=MAX_UPLOAD_MB,
        help=f"At most {MAX_UPLOAD_MB} MB, {MAX_HIDDEN} units, {MAX_LAYERS} layers. {FORMATS}",
    )
    vocab_file = sidebar.file_uploader(
        "Vocabulary (optional: .json or .txt)", type=["json", "txt"], key=VOCAB_WIDGET_KEY,
        max_upload_size=MAX_VOCAB_MB,
        help="For a model with an embedding whose file holds no vocabulary: a JSON list of its "
        "tokens in id order (or a token -> id object), or a text file with one token per line.",
    )
    receive(weights_file, vocab_file)
    up, error = current(), session.get(ERROR_KEY)
    if error:
        sidebar.error("This file was refused: " + literal_markdown(error), icon=":material/block:")
    elif up is not None:
        sidebar.success("Read. " + up.description + ".", icon=":material/check:")
        sidebar.text(f"file: {up.filename[:120]}")
        if session.get("mode", "text") != up.mode:
            sidebar.info(f"Your model reads {up.mode} mode: switch 'Read the box as' to {up.mode} "
                         "to see it.", icon=":material/swap_horiz:")
    elif isinstance(wanted, str) and wanted.startswith(KEY_PREFIX):
        sidebar.info("This link showed a model uploaded in another browser session, which only its "
                     "uploader has; the page shows the shipped model. Upload the same file to see "
                     "it.", icon=":material/info:")
    with sidebar.expander("Which files? From PyTorch or Keras in two lines"):
        st.caption(FORMATS)
        st.caption("From PyTorch:")
        st.code(SAVE_TORCH, language="python")
        st.caption("From Keras:")
        st.code(SAVE_KERAS, language="python")
        st.caption("A pickled checkpoint (.pt) is never opened; convert it:")
        st.code(CONVERT_SNIPPET, language="python")
        st.caption("Examples to try, made from real PyTorch and Keras models: the examples/ folder "
                   "of the repository (scripts/make_examples.py).")
