"""The sidebar's "Your own model" box: the uploader (the model file, its vocabulary, its class
names), what was read (or why the file was refused, with the fix as code), and, folded, what a
file may be, the lines that write one from PyTorch or Keras, and what is read and what is refused.
Reading the file is ``app.compute.upload``'s; every page's main area says too when a file was
refused (``app.widgets.page.upload_note``)."""

from __future__ import annotations

import streamlit as st

from app.compute.upload import (
    FORMATS,
    KEY_PREFIX,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_UPLOAD_MB,
    MAX_VOCAB_MB,
    SAVE_KERAS,
    SAVE_TORCH,
    SAVE_TORCH_TOKENS,
    WEIGHT_TYPES,
    current,
    literal_markdown,
    receive,
    refusal,
)
from cells.io.files import CONVERT_SNIPPET

WIDGET_KEY = "upload_file"
VOCAB_WIDGET_KEY = "upload_vocab"
LABELS_WIDGET_KEY = "upload_labels"

WHAT_IS_READ = (
    ("`nn.LSTM` / `nn.GRU` / `nn.RNN` (tanh), 1 to 4 layers", "read", "exactly as torch computes it"),
    ("`bidirectional=True`", "read", "both directions; the pages show either"),
    ("`nn.LSTM(proj_size=P)`", "read", "h is the projection, c keeps every unit"),
    ("`bias=False`", "read", "with zero biases, said"),
    ("tied weights (`decoder.weight` is `encoder.weight`)", "read", "saved with `save_model`; said"),
    ("float16, bfloat16 weights", "read", "widened to float32 exactly"),
    ("keys under `module.` / `_orig_mod.` / `model.`", "read", "the wrapper's prefix stripped, said"),
    ("a head of other outputs than the vocabulary", "read", "a classifier: class names in metadata "
     "`labels` or the Class names box"),
    ("Keras `LSTM` / `GRU` / `SimpleRNN`, `Bidirectional` (concat)", "read", "`GRU(reset_after=False)` "
     "as its own cell"),
    ("a `.pt` / `.pth` / `.ckpt` pickle", "refused", "loading a pickle runs code: convert it (below)"),
    ("`nn.RNN(nonlinearity='relu')`", "refused", "only the tanh RNN"),
    ("other modules (attention, layer norm, ...)", "refused", "the model would not be what is shown"),
    ("Keras Bidirectional merge_mode sum / mul / ave", "refused", "which direction a number came from "
     "is lost"),
    ("more than 4 layers or 1,024 units", "refused", "the page's limits"),
    ("integer or quantized weights", "refused", "dequantize to float first"),
)
"""What a file may hold: (model, read or refused, how or why not), for the sidebar's table
(docs/models.md has the full list)."""


def what_is_read_table() -> str:
    """:data:`WHAT_IS_READ` as a Markdown table (developer text only)."""
    rows = [f"| {model} | {verdict} | {why} |" for model, verdict, why in WHAT_IS_READ]
    return "\n".join(["| your model | | how, or why not |", "|---|---|---|", *rows])


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
    labels_file = sidebar.file_uploader(
        "Class names (optional: .json or .txt)", type=["json", "txt"], key=LABELS_WIDGET_KEY,
        max_upload_size=MAX_VOCAB_MB,
        help="For a classifier (a head whose outputs are classes, not tokens): a JSON list of its "
        "class names in output order, or one per line. Without them the classes are numbered.",
    )
    receive(weights_file, vocab_file, labels_file)
    up, refused = current(), refusal()
    if refused is not None:
        sidebar.error("This file was refused: " + literal_markdown(refused.reason, limit=1000),
                      icon=":material/block:")
        if refused.fix:
            sidebar.code(refused.fix, language="python")  # newlines kept: copy it as it is
    elif up is not None:
        sidebar.success("Read. " + up.description + ".", icon=":material/check:")
        sidebar.text(f"file: {up.filename[:120]}")
        for note in up.notes:
            sidebar.caption(f"Read from your file: {note}.")
        if up.reader.classifies:
            sidebar.text("classes: " + ", ".join(up.reader.labels)[:300])  # from the file: plain text
        if session.get("mode", "text") != up.mode:
            sidebar.info(f"Your model reads {up.mode} mode: switch 'Read the box as' to {up.mode} "
                         "to see it.", icon=":material/swap_horiz:")
    elif isinstance(wanted, str) and wanted.startswith(KEY_PREFIX):
        sidebar.info("This link showed a model uploaded in another browser session, which only its "
                     "uploader has; the page shows the shipped model. Upload the same file to see "
                     "it.", icon=":material/info:")
    with sidebar.expander("Which files? From PyTorch or Keras in one line"):
        st.caption(FORMATS)
        st.caption("From PyTorch:")
        st.code(SAVE_TORCH, language="python")
        st.code(SAVE_TORCH_TOKENS, language="python")
        st.caption("From Keras:")
        st.code(SAVE_KERAS, language="python")
        st.caption("A pickled checkpoint (.pt, .pth, .ckpt) is never opened; convert it:")
        st.code(CONVERT_SNIPPET, language="python")
        st.caption("What is read, and what is refused:")
        st.markdown(what_is_read_table())
        st.caption("Examples to try, made from real PyTorch and Keras models: the examples/ folder "
                   "of the repository (scripts/make_examples.py). The full list: docs/models.md.")
