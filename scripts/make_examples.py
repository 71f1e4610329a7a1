"""Write the example model files in examples/ from real PyTorch and Keras models.

    python scripts/make_examples.py          # writes examples/*.safetensors, *.keras, *.json

* ``torch-char-lstm2.safetensors``: a character model as PyTorch's word_language_model lays one
  out (``encoder`` nn.Embedding, ``rnn`` nn.LSTM(num_layers=2), ``decoder`` nn.Linear), trained
  for a few hundred Adam steps on the Zen of Python (``import this``, built in), saved with
  ``safetensors.torch.save_file`` and its vocabulary in the metadata;
* ``torch-word-gru2.safetensors`` + ``torch-word-gru2.vocab.json``: a word model (nn.GRU,
  2 layers) with random weights, its vocabulary (with ``<unk>`` and ``<eos>``) in a file beside it;
* ``keras-char-lstm2.keras``: a Keras 3 Sequential Embedding + LSTM + LSTM + Dense(softmax) on the
  same text, briefly trained, saved with ``model.save``.

Everything is seeded; each file is well under 300 KB. Reading them back:
``cells.read_model("examples/torch-char-lstm2.safetensors")``,
``cells.read_model("examples/torch-word-gru2.safetensors", vocab="examples/torch-word-gru2.vocab.json")``,
``cells.read_model("examples/keras-char-lstm2.keras", vocab=...)`` (Keras files carry no
vocabulary: the characters are in ``keras-char-lstm2.vocab.json``).
"""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import torch
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parents[1] / "examples"
with contextlib.redirect_stdout(io.StringIO()):  # importing this prints it
    import this
TEXT = codecs.decode(this.s, "rot13")  # the Zen of Python
STEPS = 300
SEQ = 64


class CharLM(torch.nn.Module):
    """Embedding -> stacked recurrent module -> linear head, word_language_model's names."""

    def __init__(self, rnn: type[torch.nn.Module], V: int, E: int, H: int, L: int):
        super().__init__()
        self.encoder = torch.nn.Embedding(V, E)
        self.rnn = rnn(E, H, num_layers=L)
        self.decoder = torch.nn.Linear(H, V)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # ids (T, B) -> logits (T, B, V)
        out, _ = self.rnn(self.encoder(ids))
        return self.decoder(out)


def torch_char_model(vocab: list[str]) -> None:
    torch.manual_seed(0)
    ids = torch.tensor([vocab.index(c) for c in TEXT])
    model = CharLM(torch.nn.LSTM, len(vocab), 16, 48, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    for step in range(STEPS):
        starts = rng.integers(0, len(ids) - SEQ - 1, size=16)
        batch = torch.stack([ids[s : s + SEQ + 1] for s in starts], dim=1)  # (SEQ+1, B)
        logits = model(batch[:-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), batch[1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == STEPS - 1:
            print(f"torch char LSTM step {step}: {loss.item() / np.log(2):.3f} bits/char")
    meta = {"vocab": json.dumps(vocab), "unit": "char", "arch": "lstm",
            "trained_on": f"the Zen of Python, {STEPS} Adam steps (scripts/make_examples.py)"}
    save_file(model.state_dict(), OUT / "torch-char-lstm2.safetensors", metadata=meta)


def torch_word_model() -> None:
    torch.manual_seed(1)
    words = sorted({w for line in TEXT.split("\n") for w in line.split()})
    vocab = ["<unk>", "<eos>", *words]
    model = CharLM(torch.nn.GRU, len(vocab), 16, 32, 2)
    save_file(model.state_dict(), OUT / "torch-word-gru2.safetensors")
    (OUT / "torch-word-gru2.vocab.json").write_text(json.dumps(vocab, ensure_ascii=False) + "\n")


def keras_char_model(vocab: list[str]) -> None:
    import keras

    keras.utils.set_random_seed(0)
    V = len(vocab)
    model = keras.Sequential([
        keras.Input((None,), dtype="int32"),
        keras.layers.Embedding(V, 16),
        keras.layers.LSTM(32, return_sequences=True),
        keras.layers.LSTM(32, return_sequences=True),
        keras.layers.Dense(V, activation="softmax"),
    ])
    ids = np.array([vocab.index(c) for c in TEXT])
    starts = np.arange(0, len(ids) - SEQ - 1, SEQ // 2)
    x = np.stack([ids[s : s + SEQ] for s in starts])
    y = np.stack([ids[s + 1 : s + SEQ + 1] for s in starts])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=60, batch_size=8, verbose=0)
    print(f"keras char LSTM: {model.evaluate(x, y, verbose=0) / np.log(2):.3f} bits/char")
    model.save(OUT / "keras-char-lstm2.keras")
    (OUT / "keras-char-lstm2.vocab.json").write_text(json.dumps(vocab, ensure_ascii=False) + "\n")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    vocab = sorted(set(TEXT))
    torch_char_model(vocab)
    torch_word_model()
    keras_char_model(vocab)
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
