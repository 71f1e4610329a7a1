"""A language model with tied weights (PyTorch's word_language_model with --tied: the decoder's
weight is the encoder's), saved with the lines gatescope documents, read and checked against
torch."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import cells
from app.compute import upload
from cells.io.files import CONVERT_SNIPPET
from cells.io.model_files import READ_NOTES_KEY, VOCAB_FIX

TOKENS = list(" abcdefghijklmnopqrstuvwxyz.,'")
TEXT = "the cat's hat, a bat."


class TiedLM(torch.nn.Module):
    """word_language_model's RNNModel with tie_weights=True (embedding size = hidden size)."""

    def __init__(self, vocab: int, hidden: int = 12, layers: int = 2):
        super().__init__()
        self.encoder = torch.nn.Embedding(vocab, hidden)
        self.rnn = torch.nn.LSTM(hidden, hidden, layers)
        self.decoder = torch.nn.Linear(hidden, vocab)
        self.decoder.weight = self.encoder.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.rnn(self.encoder(ids))[0])


@pytest.fixture
def model() -> TiedLM:
    torch.manual_seed(0)
    return TiedLM(len(TOKENS)).double()


def torch_logits(model: TiedLM) -> np.ndarray:
    ids = torch.tensor([TOKENS.index(ch) for ch in TEXT])
    with torch.no_grad():
        return model(ids).numpy()  # (T, V)


def assert_reads_like_torch(reader, model: TiedLM) -> None:
    read = reader.read(TEXT)
    np.testing.assert_allclose(read.logits, torch_logits(model), rtol=1e-6, atol=1e-9)
    (note,) = [n for n in reader.meta[READ_NOTES_KEY] if "tied" in n]
    assert "decoder.weight" in note and "encoder.weight" in note


def test_save_file_refuses_tied_weights_which_is_why_the_documented_line_is_save_model(model, tmp_path):
    with pytest.raises(RuntimeError, match="share memory"):
        save_file(model.state_dict(), tmp_path / "model.safetensors")


def test_a_tied_model_saved_with_the_documented_line_is_read_exactly(model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(VOCAB_FIX.replace("tokens = [...]", "tokens = TOKENS"), {"model": model, "TOKENS": TOKENS})
    path = tmp_path / "model.safetensors"
    from safetensors import safe_open

    with safe_open(path, "np") as f:  # written once, the other name in the metadata
        assert set(f.keys()) == {k for k in model.state_dict() if k != "encoder.weight"}
    reader = cells.read_model(path)
    assert reader.labels is None and tuple(reader.encoder.tokens) == tuple(TOKENS)
    assert_reads_like_torch(reader, model)
    up = upload.parse(path.read_bytes(), "model.safetensors")  # the sidebar's path
    assert any("tied" in n for n in up.notes)
    assert_reads_like_torch(up.reader, model)


def test_a_tied_model_from_a_pickle_converts_with_the_lines_the_refusal_gives(model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save(model.state_dict(), "model.pt")
    exec(CONVERT_SNIPPET, {})
    reader = cells.read_model(tmp_path / "model.safetensors", vocab=json.dumps(TOKENS))
    assert_reads_like_torch(reader, model)


def test_metadata_naming_no_tensor_or_an_existing_one_is_left_as_metadata(model, tmp_path):
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    meta = {"vocab": json.dumps(TOKENS), "decoder.weight": "rnn.weight_hh_l0", "other.weight": "missing"}
    save_file(sd, tmp_path / "model.safetensors", metadata=meta)
    reader = cells.read_model(tmp_path / "model.safetensors")
    assert_reads_like_torch(reader, model)  # decoder.weight is the file's own, not the aliased array
    assert reader.meta["other.weight"] == "missing"
