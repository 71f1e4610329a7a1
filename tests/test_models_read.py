"""The models people train, read from their files exactly as the frameworks compute them:
bidirectional PyTorch modules with a classifier head, the projected LSTM, bfloat16 weights,
state_dicts under a wrapper's prefix, bias=False; Keras's Bidirectional and GRU(reset_after=False)
(tests/test_keras.py has the layer-level comparisons); a classifier's decision and the gradient
of its logit to every input against torch autograd. References run in float64 (Keras in its own
float32 where it computes in float32), compared to 1e-9 relative."""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported, here or anywhere else

import keras
import numpy as np
import pytest
import torch
from safetensors.torch import save

import cells
from cells.io.errors import WeightsFileError
from cells.io.safetensors import bfloat16_to_float32
from cells.models.reader import DECISION_KEY, FINAL_STATES
from cells.science.decisions import decide

pytestmark = pytest.mark.filterwarnings(  # Keras's torch backend and NumPy 2, not ours
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
TOKENS = list("abcdefgh ")
CLASSES = ["negative", "positive", "neutral"]
TEXT = "a bad cafe, a fed dog"  # 'o' and ',' are not in TOKENS: unknown, the all-zero input


class Classifier(torch.nn.Module):
    """Embedding -> recurrent module -> Linear over every step's output: a tagger's or sentiment
    model's layout (the decision is the head on the last step, or on h_n)."""

    def __init__(self, arch: str, layers: int = 2, bidirectional: bool = True, proj: int = 0,
                 bias: bool = True, classes: int = len(CLASSES), seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        extra = {"proj_size": proj} if proj else {}
        self.embedding = torch.nn.Embedding(len(TOKENS), 5)
        self.rnn = MODULES[arch](5, 6, num_layers=layers, bidirectional=bidirectional, bias=bias, **extra)
        width = (proj or 6) * (2 if bidirectional else 1)
        self.fc = torch.nn.Linear(width, classes)
        for p in self.parameters():  # larger than torch's init, so the gates leave their linear range
            torch.nn.init.uniform_(p, -0.9, 0.9)
        self.double()

    def ids(self, text: str) -> torch.Tensor:
        return torch.tensor([TOKENS.index(ch) if ch in TOKENS else -1 for ch in text])

    def inputs(self, text: str) -> torch.Tensor:
        ids = self.ids(text)
        x = self.embedding(ids.clamp(min=0))
        return x * (ids >= 0)[:, None]  # an unknown character is the all-zero input, as gatescope reads it

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # x (T, E)
        out, state = self.rnn(x)
        return self.fc(out), (state[0] if isinstance(state, tuple) else state)


def safetensors_of(model: torch.nn.Module, prefix: str = "", dtype=None, **meta) -> bytes:
    sd = {prefix + k: (v if dtype is None else v.to(dtype)).contiguous()
          for k, v in model.state_dict().items()}
    return save(sd, metadata={k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()})


def torch_logits(model: Classifier, text: str) -> np.ndarray:
    with torch.no_grad():
        return model(model.inputs(text))[0].numpy()


def close(ours, theirs, what: str, rtol: float = 1e-9) -> None:
    theirs = np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * np.abs(theirs).max(), err_msg=what)


# -- PyTorch ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", list(MODULES))
def test_a_bidirectional_classifier_reads_exactly_with_its_labels(arch):
    model = Classifier(arch)
    reader = cells.read_model(safetensors_of(model, vocab=TOKENS, labels=CLASSES))
    assert isinstance(reader.cell, cells.Bidirectional) and reader.cell.num_layers == 2
    assert reader.classifies and reader.labels == tuple(CLASSES) and not reader.guesses_tokens
    read = reader.read(TEXT)
    expected = torch_logits(model, TEXT)  # (T, O): torch's fc(rnn(x)[0])
    close(read.logits, expected, "logits at every step")
    close(read.class_probs, torch.softmax(torch.tensor(expected), -1).numpy(), "class probabilities")
    assert read.probs is None and read.unknown.tolist() == [ch not in TOKENS for ch in TEXT]


def test_a_head_whose_outputs_are_not_the_vocabulary_is_an_unnamed_classifier():
    """The complaint was "the head has 2 outputs; the vocabulary has 76 tokens": no way out."""
    model = Classifier("lstm", layers=1, bidirectional=False, classes=2)
    reader = cells.read_model(safetensors_of(model, vocab=TOKENS))
    assert reader.labels == ("class 0", "class 1")
    close(reader.read(TEXT).logits, torch_logits(model, TEXT), "logits")
    named = cells.read_model(safetensors_of(model, vocab=TOKENS), labels=b"spam\nham\n")
    assert named.labels == ("spam", "ham")  # a labels file, one per line, wins over the file's


def test_labels_that_do_not_fit_the_head_are_refused():
    model = Classifier("gru", layers=1)
    with pytest.raises(ValueError, match="2 class names for a head of 3 outputs"):
        cells.read_model(safetensors_of(model, vocab=TOKENS, labels=["a", "b"]))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_projected_lstm_reads_exactly(bidirectional):
    model = Classifier("lstm", proj=3, bidirectional=bidirectional)
    reader = cells.read_model(safetensors_of(model, vocab=TOKENS, labels=CLASSES))
    cell = reader.cell
    assert cell.hidden_size == 6 and cell.output_size == (6 if bidirectional else 3)
    assert cell.cell_class is cells.ProjectedLSTM
    close(reader.read(TEXT).logits, torch_logits(model, TEXT), "logits")


def test_bias_false_reads_as_zero_biases_and_says_so():
    model = Classifier("gru", bias=False)
    reader = cells.read_model(safetensors_of(model, vocab=TOKENS))
    assert any("bias=False" in note for note in reader.meta["read_notes"])
    assert not reader.cell.params["bias_ih_l1_reverse"].any()
    close(reader.read(TEXT).logits, torch_logits(model, TEXT), "logits")


@pytest.mark.parametrize("prefix", ["module.", "_orig_mod.", "model.", "module._orig_mod.",
                                    "model._orig_mod.module."])
def test_a_wrappers_prefix_is_stripped_and_said(prefix):
    model = Classifier("lstm", layers=1)
    reader = cells.read_model(safetensors_of(model, prefix, vocab=TOKENS, labels=CLASSES))
    notes = reader.meta["read_notes"]
    assert len(notes) == prefix.count(".") and all("read without it" in n for n in notes)
    assert "DataParallel" in " ".join(notes) if "module." in prefix else True
    close(reader.read(TEXT).logits, torch_logits(model, TEXT), "logits")


def test_bfloat16_weights_are_read_from_their_bits():
    model = Classifier("lstm", layers=1)
    reader = cells.read_model(safetensors_of(model, dtype=torch.bfloat16, vocab=TOKENS, labels=CLASSES))
    rounded = Classifier("lstm", layers=1)
    rounded.load_state_dict({k: v.to(torch.bfloat16).double() for k, v in model.state_dict().items()})
    for name, p in rounded.rnn.named_parameters():  # every bfloat16 number, as torch widens it
        np.testing.assert_array_equal(reader.cell.params[name], p.detach().numpy())
    close(reader.read(TEXT).logits, torch_logits(rounded, TEXT), "logits of the rounded model")


def test_bfloat16_bits_widen_to_the_float32_with_those_upper_bits():
    values = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.140625, 1e-40, 3.0e38, float("inf")], dtype=torch.bfloat16)
    raw = values.view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(bfloat16_to_float32(raw), values.float().numpy())


def test_a_pickle_is_refused_with_the_load_line_first(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(Classifier("gru").state_dict(), path)
    with pytest.raises(WeightsFileError) as e:
        cells.read_model(path)
    lines = e.value.fix.splitlines()
    load_line = next(k for k, line in enumerate(lines) if "torch.load(" in line)
    save_line = next(k for k, line in enumerate(lines) if "save_file(" in line)
    assert 'torch.load("model.pt", map_location="cpu", weights_only=True)' in lines[load_line]
    assert load_line < save_line and e.value.reason in str(e.value)


def test_refusals_say_what_the_file_is():
    model = Classifier("gru", layers=2, bidirectional=True)
    sd = {k: v for k, v in model.state_dict().items()}
    data = save({**sd, "attention.weight": torch.zeros(3)}, metadata={"vocab": json.dumps(TOKENS)})
    with pytest.raises(WeightsFileError, match="a 2-layer bidirectional GRU of 6 units") as e:
        cells.read_model(data)
    assert e.value.fix is not None and "attention" in e.value.reason
    with pytest.raises(WeightsFileError, match="bidirectional GRU of 6 units that reads tokens") as e:
        cells.read_model(save(sd))  # no vocabulary
    assert 'metadata={"vocab": json.dumps(tokens)}' in e.value.fix


# -- the decision ------------------------------------------------------------------------------------


def torch_decision_gradient(model: Classifier, text: str, final_states: bool) -> tuple[np.ndarray, int]:
    """d y[c] / d x_t by torch autograd, c the decided class; y the head on the last output or
    on h_n (forward last, backward first)."""
    x = model.inputs(text).detach().requires_grad_(True)
    logits, h_n = model(x)
    y = model.fc(torch.cat([h_n[-2], h_n[-1]])) if final_states else logits[-1]
    c = int(torch.argmax(y))
    y[c].backward()
    return x.grad.numpy(), c


@pytest.mark.parametrize(("arch", "bidirectional", "final_states"),
                         [("lstm", False, False), ("gru", True, False), ("lstm", True, True),
                          ("rnn", True, True)])
def test_the_decisions_gradient_to_every_input_matches_torch(arch, bidirectional, final_states):
    model = Classifier(arch, bidirectional=bidirectional)
    meta = {DECISION_KEY: FINAL_STATES} if final_states else {}
    reader = cells.read_model(safetensors_of(model, vocab=TOKENS, labels=CLASSES, **meta))
    decision = decide(reader, TEXT)
    grad, c = torch_decision_gradient(model, TEXT, final_states)
    assert decision.decided == c and decision.on_final_states == final_states
    close(decision.gradient, np.linalg.norm(grad, axis=1), "||dy[c]/dx_t||")
    x = model.inputs(TEXT).detach().numpy()
    close(decision.gradient_input, (grad * x).sum(axis=1), "gradient x input")


def test_flips_and_moves_follow_the_running_probabilities():
    model = Classifier("lstm", layers=1, bidirectional=False)
    reader = cells.read_model(safetensors_of(model, vocab=TOKENS, labels=CLASSES))
    decision = decide(reader, TEXT)
    probs = torch.softmax(torch.tensor(torch_logits(model, TEXT)), -1).numpy()
    c = decision.decided
    assert c == int(np.argmax(probs[-1])) and decision.label == CLASSES[c]
    leading = probs.argmax(axis=1)
    assert decision.flips.tolist() == [t for t in range(1, len(TEXT)) if leading[t] != leading[t - 1]]
    close(decision.moved, np.diff(np.r_[1 / 3, probs[:, c]]), "p_t[c] - p_{t-1}[c]")
    assert np.abs(decision.moved[decision.strongest(1)[0]]) == np.abs(decision.moved).max()


# -- Keras ------------------------------------------------------------------------------------------


KERAS_LAYERS = {"lstm": lambda rs: keras.layers.LSTM(4, return_sequences=rs, dtype="float64"),
                "gru": lambda rs: keras.layers.GRU(4, return_sequences=rs, dtype="float64"),
                "gru-reset-before": lambda rs: keras.layers.GRU(4, reset_after=False, return_sequences=rs,
                                                                dtype="float64")}


def keras_classifier(arch: str, last_sequences: bool, merge: str = "concat", seed: int = 0):
    rng = np.random.default_rng(seed)
    model = keras.Sequential([
        keras.Input((None,), dtype="int32"),
        keras.layers.Embedding(len(TOKENS), 5, dtype="float64"),
        keras.layers.Bidirectional(KERAS_LAYERS[arch](True), merge_mode=merge, dtype="float64"),
        keras.layers.Bidirectional(KERAS_LAYERS[arch](last_sequences), merge_mode=merge, dtype="float64"),
        keras.layers.Dense(len(CLASSES), activation="softmax", dtype="float64"),
    ])
    model.set_weights([rng.uniform(-0.8, 0.8, size=w.shape) for w in model.get_weights()])
    return model


def keras_file(model, tmp_path) -> bytes:
    path = tmp_path / "model.keras"
    model.save(path)
    return path.read_bytes()


@pytest.mark.parametrize("arch", list(KERAS_LAYERS))
@pytest.mark.parametrize("last_sequences", [True, False])
def test_keras_bidirectional_reads_as_keras_computes(arch, last_sequences, tmp_path):
    """The recurrent layers' output to 1e-9 in float64; the classes after Keras's Dense, whose
    matmul its torch backend computes in float32 (``keras.ops.matmul`` returns float32 for float64
    tensors, as test_keras.py says of SimpleRNN), to 1e-6; likewise GRU(reset_after=False), whose
    cell Keras runs with ops.matmul (reset_after=True and the LSTM run in torch's float64)."""
    model = keras_classifier(arch, last_sequences)
    rtol = 1e-6 if arch == "gru-reset-before" else 1e-9
    reader = cells.read_model(keras_file(model, tmp_path), vocab=TOKENS, labels=CLASSES)
    assert isinstance(reader.cell, cells.Bidirectional) and reader.cell.arch == arch
    text = "bad cafe fed a cab"
    ids = np.array([[TOKENS.index(ch) for ch in text]])
    recurrent = ids
    for layer in model.layers[:-1]:
        recurrent = layer(recurrent)
    recurrent = keras.ops.convert_to_numpy(recurrent)[0]
    expected = keras.ops.convert_to_numpy(model(ids))[0]  # softmax probabilities
    trace = reader.cell.forward(reader.encoder.encode(text)[0])
    decision = decide(reader, text)
    if last_sequences:  # every step: Keras's output is the head on [forward_t ; backward_t]
        close(trace.h, recurrent, "the recurrent layers' output at every step", rtol)
        close(reader.read(text).class_probs, expected, "class probabilities at every step", rtol=1e-6)
    else:  # the last layer returns its final states: the decision reads them
        forward, backward = trace.layers[-1]
        close(np.concatenate([forward.h[-1], backward.h[-1]]), recurrent, "the final states", rtol)
        assert reader.meta[DECISION_KEY] == FINAL_STATES and decision.on_final_states
        close(decision.final, expected, "the decision", rtol=1e-6)


def test_keras_bidirectional_merges_other_than_concat_are_refused_by_name(tmp_path):
    data = keras_file(keras_classifier("lstm", True, merge="sum"), tmp_path)
    with pytest.raises(WeightsFileError, match="merge_mode='sum'") as e:
        cells.read_model(data, vocab=TOKENS)
    assert 'merge_mode="concat"' in e.value.fix
