"""A visitor's own bidirectional classifier, uploaded through the sidebar in headless Chromium: the
page draws its class probabilities over the text (the classes named from the file), the backward
direction is a choice beside the layer that the URL keeps, and nothing on the way shows an error
box, a formula that failed to typeset or a JavaScript error.

Uses the server and Chromium fixtures of conftest.py (``app_url``, ``new_page``) and the waits of
tests/e2e.py.
"""

from __future__ import annotations

import json
import string
from urllib.parse import quote

import torch
from e2e import BOX, assert_no_failure, wait_until_drawn
from safetensors.torch import save_file

TOKENS = list(string.printable[:95])
CLASSES = ["sport", "weather", "music"]
TEXT = "Rain and wind all day"

PROBABILITIES = """() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(
    gd => (gd.layout?.title?.text || '').startsWith('The class probabilities'));
  if (!gd || !gd._fullLayout || !gd._fullData) return null;
  return {names: gd._fullData.map(t => t.name), tokens: gd._fullLayout.meta?.tokens,
          points: gd._fullData.map(t => t.y.length)};
}"""


def classifier_file(path) -> None:
    """Embedding -> 2-layer bidirectional LSTM -> Linear(2H, 3), saved the documented way."""
    torch.manual_seed(0)
    model = torch.nn.ModuleDict({"embedding": torch.nn.Embedding(len(TOKENS), 8),
                                 "rnn": torch.nn.LSTM(8, 12, num_layers=2, bidirectional=True),
                                 "fc": torch.nn.Linear(24, len(CLASSES))})
    save_file(model.state_dict(), path,
              metadata={"vocab": json.dumps(TOKENS), "labels": json.dumps(CLASSES)})


def test_a_bidirectional_classifier_uploaded_in_the_sidebar_shows_its_class_probabilities(new_page, app_url,
                                                                                        tmp_path):
    path = tmp_path / "tagger.safetensors"
    classifier_file(path)
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{app_url}/?seq={quote(TEXT)}")
    page.wait_for_selector(BOX, timeout=90_000)
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"][accept*=".safetensors"]')
    uploader.set_input_files(str(path))

    shown = f"() => {{ const v = ({PROBABILITIES})(); return v !== null && v.tokens === {len(TEXT)}; }}"
    wait_until_drawn(page, shown)
    assert_no_failure(page)
    drawn = page.evaluate(PROBABILITIES)
    assert sorted(drawn["names"]) == sorted(CLASSES)  # the classes, named from the file
    assert drawn["points"] == [len(TEXT)] * len(CLASSES)  # a probability after every token
    assert "model=upload-" in page.url
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "bidirectional LSTM, 2 layers of 12 units per direction" in sidebar
    assert "a classifier of 3 classes" in sidebar

    page.get_by_text("backward ←", exact=False).click()  # the direction, beside the layer
    wait_until_drawn(page, """() => location.search.includes('direction=1') && [...document
        .querySelectorAll('.js-plotly-plot')].some(gd => (gd.layout?.title?.text || '')
        .includes('backward direction'))""")
    assert_no_failure(page)
    assert page.locator(".katex-error").count() == 0
    assert errors == []
