"""gatescope's entry point: ``streamlit run app/main.py``.

Declares the pages with ``st.navigation`` and keeps the view (sequence, model, knobs) in the URL's
query parameters, so any view can be shared as a link (see ``app/state.py``).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts app/, not the repo, on sys.path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app.component import live_chart  # noqa: E402
from app.widgets import page as ui  # noqa: E402
from app.widgets import upload  # noqa: E402

# (file in pages/, title, icon, url_path). The first is the home page.
PAGES = [
    ("gates.py", "Gates", ":material/tune:", "gates"),
    ("gradients.py", "Gradients", ":material/trending_down:", "gradients"),
    ("compare.py", "LSTM vs GRU", ":material/compare_arrows:", "compare"),
    ("cells.py", "Cells", ":material/format_color_text:", "cells"),
    ("match.py", "Match", ":material/manage_search:", "match"),
    ("write.py", "Write", ":material/edit_note:", "write"),
    ("train.py", "Train", ":material/model_training:", "train"),
    ("experiments.py", "Experiments", ":material/science:", "experiments"),
    ("music.py", "Melodies", ":material/music_note:", "music"),
    ("lab.py", "Lab", ":material/biotech:", "lab"),
    ("docs.py", "Guide", ":material/menu_book:", "docs"),
]

st.set_page_config(page_title="gatescope", page_icon=str(ROOT / "app" / "icon.png"), layout="wide")
live_chart.serve_plotly_js()
ui.init_session()
page = st.navigation(
    [
        st.Page(ROOT / "pages" / file, title=title, icon=icon, url_path=url, default=(i == 0))
        for i, (file, title, icon, url) in enumerate(PAGES)
    ]
)
with ui.page_guard():  # before the page, so a new upload shows on this very run
    upload.sidebar()
page.run()
ui.sync_url(page.url_path)
