"""The models people train, on the pages: a bidirectional classifier uploaded through the sidebar
(its two directions, its decision forming token by token, both directions' gradients), a
projected LSTM's projection, the shipped topic classifiers, and a refusal said on the page itself
with its fix as code. Expected numbers come from PyTorch (the uploaded module itself) or from the
engine's own functions checked against PyTorch in tests/test_bidirectional.py and
tests/test_models_read.py, never from app/."""

from __future__ import annotations

import string

import numpy as np
import torch
from apptest import assert_clean, chart_specs, heatmap_blocks, plotly_array, run_app
from conftest import ROOT
from safetensors.torch import save

import cells

TOKENS = list(string.printable[:95])  # printable ASCII: a character model
CLASSES = ["spam", "ham"]
TEXT = "Win money now!"
GATES, GRADIENTS = (str(ROOT / "pages" / f"{name}.py") for name in ("gates", "gradients"))


class TinyClassifier(torch.nn.Module):
    """Embedding -> 2-layer bidirectional GRU (or projected LSTM) -> Linear(2H, 2)."""

    def __init__(self, arch: str = "gru", proj: int = 0, bidirectional: bool = True, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        module = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[arch]
        extra = {"proj_size": proj} if proj else {}
        self.embedding = torch.nn.Embedding(len(TOKENS), 6)
        self.rnn = module(6, 5, num_layers=2, bidirectional=bidirectional, **extra)
        self.fc = torch.nn.Linear((proj or 5) * (2 if bidirectional else 1), len(CLASSES))
        for p in self.parameters():
            torch.nn.init.uniform_(p, -0.9, 0.9)
        self.double()

    def run(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(rnn(x)[0], fc(rnn(x)[0])) for ``text``, as torch computes them."""
        with torch.no_grad():
            out, _ = self.rnn(self.embedding(torch.tensor([TOKENS.index(ch) for ch in text])))
            return out.numpy(), self.fc(out).numpy()


def file_of(model: torch.nn.Module, **extra: str) -> bytes:
    import json

    meta = {"vocab": json.dumps(TOKENS), "labels": json.dumps(CLASSES), **extra}
    return save({k: v.contiguous() for k, v in model.state_dict().items()}, metadata=meta)


def uploaded(data: bytes, text: str = TEXT, name: str = "model.safetensors"):
    at = run_app({"seq": text})
    at.file_uploader(key="upload_file").set_value((name, data, "application/octet-stream"))
    return at.run()


def chart(at, title: str) -> dict:
    return next(s for s in chart_specs(at) if s["layout"].get("title", {}).get("text", "").startswith(title))


def trace_values(trace: dict, key: str = "y") -> np.ndarray:
    values = trace[key]
    return plotly_array(values) if isinstance(values, dict) else np.array(values, dtype=float)


def test_a_bidirectional_classifier_shows_how_its_decision_forms():
    model = TinyClassifier()
    at = uploaded(file_of(model))
    assert_clean(at)
    assert at.radio(key="direction").value == 0 and at.selectbox(key="layer").value == 1
    _, logits = model.run(TEXT)
    probs = torch.softmax(torch.tensor(logits), -1).numpy()  # (T, 2): torch's head after each token
    figure = chart(at, "The class probabilities")
    curves = {t["name"]: trace_values(t) for t in figure["data"]}
    assert set(curves) == set(CLASSES)
    for k, name in enumerate(CLASSES):
        np.testing.assert_allclose(curves[name], probs[:, k], rtol=1e-9, err_msg=name)
    leading = probs.argmax(axis=1)
    flips = [t for t in range(1, len(TEXT)) if leading[t] != leading[t - 1]]
    assert [s["x0"] for s in figure["layout"]["shapes"]] == flips
    decided = CLASSES[int(np.argmax(logits[-1]))]
    assert any(decided in m.value for m in at.metric)
    bars = chart(at, "What each token did")
    moved = trace_values(bars["data"][0])
    np.testing.assert_allclose(moved, np.diff(np.r_[0.5, probs[:, CLASSES.index(decided)]]), rtol=1e-9)


def test_the_backward_direction_is_shown_in_the_url_and_read_from_the_end():
    model = TinyClassifier()
    at = uploaded(file_of(model))
    at.radio(key="direction").set_value(1).run()
    assert_clean(at)
    assert at.query_params["direction"] == "1"
    assert any("from its last token back to the first" in c.value for c in at.caption)
    out, _ = model.run(TEXT)
    heatmaps = chart(at, "GRU, layer 1 of 2, backward direction")
    units, rows = heatmap_blocks(heatmaps)["h"]  # (U, T), the sequence's order
    np.testing.assert_allclose(rows, out[:, 5:][:, units].T, rtol=1e-6, atol=1e-7)  # torch's 2nd half
    scrubber = chart_specs(at)[-1]
    captions = scrubber["player"]["captions"]
    assert "token «!»" in captions[0] and "token «W»" in captions[-1]  # it plays from the end


def test_both_directions_gradients_through_depth_on_the_gradients_page():
    model = TinyClassifier()
    at = uploaded(file_of(model))
    at.switch_page(GRADIENTS).run()
    assert_clean(at)
    spec = chart_specs(at)[0]
    curves = {t["name"]: trace_values(t) for t in spec["data"] if t.get("mode") == "lines"
              and "threshold" not in t["name"]}
    reader = at.session_state["upload"].reader
    trace = reader.cell.forward(reader.encoder.encode(TEXT)[0])
    for d, direction in enumerate(("forward", "backward")):
        expected = cells.jacobian_norms_by_layer(reader.cell, trace, direction=d)  # (L, T), own order
        for k in range(2):
            want = expected[k][::-1] if d else expected[k]  # drawn in the sequence's order
            np.testing.assert_allclose(curves[f"GRU layer {k} {direction}"], want, rtol=1e-9)


def test_a_projected_lstm_shows_its_projection():
    model = TinyClassifier("lstm", proj=3, bidirectional=False)
    at = uploaded(file_of(model))
    assert_clean(at)
    assert any("projected to 3" in c.value for c in at.caption)
    out, _ = model.run(TEXT)  # (T, 3): the projected h of the top layer
    units, rows = heatmap_blocks(chart(at, "h_t = W_hr"))["h"]
    assert units == [0, 1, 2]
    np.testing.assert_allclose(rows, out.T, rtol=1e-6, atol=1e-7)


def test_a_refused_file_is_said_on_the_page_above_its_charts_with_the_fix():
    model = TinyClassifier()
    sd = {**model.state_dict(), "attention.weight": torch.zeros(4, dtype=torch.float64)}
    at = uploaded(save({k: v.contiguous() for k, v in sd.items()}))
    assert not at.exception and len(at.error) == 1  # the sidebar's refusal
    warning = next(w.value for w in at.warning if "refused" in w.value)
    assert "this page shows LSTM, 128 units, trained by gatescope" in warning  # the model shown
    assert any("a 2-layer bidirectional GRU of 5 units" in t.value and "attention" in t.value
               for t in at.text)
    fix = next(c.value for c in at.code if "keep = " in c.value)
    assert fix.count("\n") >= 2 and 'save_file(sd, "model.safetensors")' in fix  # lines kept
    assert len(chart_specs(at)) == 3
    at.switch_page(GRADIENTS).run()
    assert any("refused" in w.value for w in at.warning)  # every page says it


def test_the_shipped_topic_classifier_reads_a_fortune():
    at = run_app({"seq": "The program crashed and the computer lost my files.", "model": "topics"})
    assert_clean(at)
    reader = cells.pretrained("lstm-topics")
    assert any("held-out fortunes" in c.value for c in at.caption)
    figure = chart(at, "The class probabilities")
    assert {t["name"] for t in figure["data"]} == {n.replace("&", "&amp;") for n in reader.labels}  # as
    # Plotly shows it literally
    expected = reader.read("The program crashed and the computer lost my files.").class_probs
    computers = next(t for t in figure["data"] if t["name"] == "computers")
    np.testing.assert_allclose(trace_values(computers), expected[:, 0], rtol=1e-9)


def test_the_sidebars_save_line_for_a_classifier_works_as_written(tmp_path, monkeypatch):
    from app.compute.upload import SAVE_TORCH_TOKENS

    model = TinyClassifier()
    monkeypatch.chdir(tmp_path)
    exec(SAVE_TORCH_TOKENS, {"model": model, "tokens": TOKENS, "classes": CLASSES})
    reader = cells.read_model(tmp_path / "model.safetensors")
    assert reader.labels == tuple(CLASSES) and isinstance(reader.cell, cells.Bidirectional)
    _, logits = model.run(TEXT)
    np.testing.assert_allclose(reader.read(TEXT).logits, logits, rtol=1e-9)
