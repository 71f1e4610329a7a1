"""from_keras against PyTorch and against Keras's own equations, written here in NumPy.

Keras is not installed. The Keras layouts are built here from a random torch module by the inverse
mapping, written gate by gate and independently of cells.weights; the Keras reference forwards
follow Keras's LSTMCell, GRUCell (reset_after=True) and SimpleRNNCell code. The converted parameters
must reproduce both, to 1e-12 in float64.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

import cells
from cells import weights
from cells.weights import from_keras, load

TORCH_MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
I, U, T = 5, 7, 12


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


# -- PyTorch -> Keras, gate by gate ----------------------------------------------------------------


def torch_blocks(sd: dict, name: str, gates: str) -> dict[str, np.ndarray]:
    """Split a torch parameter into its named gate blocks (rows)."""
    a = sd[name].numpy()
    return dict(zip(gates, np.split(a, len(gates), axis=0), strict=True))


def keras_layout(arch: str, sd: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kernel, recurrent_kernel, bias) of the Keras layer that computes what torch's ``sd`` does."""
    torch_gates, keras_order = {"lstm": ("ifgo", "ifgo"), "gru": ("rzn", "zrn"), "rnn": ("h", "h")}[arch]
    W_x = torch_blocks(sd, "weight_ih_l0", torch_gates)
    W_h = torch_blocks(sd, "weight_hh_l0", torch_gates)
    b_x = torch_blocks(sd, "bias_ih_l0", torch_gates)
    b_h = torch_blocks(sd, "bias_hh_l0", torch_gates)
    kernel = np.concatenate([W_x[g].T for g in keras_order], axis=1)  # (I, G*U)
    recurrent_kernel = np.concatenate([W_h[g].T for g in keras_order], axis=1)  # (U, G*U)
    if arch == "gru":  # reset_after=True keeps both biases: row 0 input, row 1 recurrent
        bias = np.stack([np.concatenate([b_x[g] for g in keras_order]),
                         np.concatenate([b_h[g] for g in keras_order])])  # (2, 3U)
    else:  # one bias: the two torch biases always appear as a sum
        bias = np.concatenate([b_x[g] + b_h[g] for g in keras_order])  # (G*U,)
    return kernel, recurrent_kernel, bias


# -- Keras's equations ------------------------------------------------------------------------------


def keras_forward(arch: str, x: np.ndarray, kernel, recurrent_kernel, bias) -> dict[str, np.ndarray]:
    """Keras's cells step by step, from zero state: {"h": (T, U)} and, for the LSTM, "c"."""
    h = np.zeros(recurrent_kernel.shape[0])
    c = np.zeros_like(h)
    hs, cs = [], []
    for x_t in x:
        if arch == "lstm":  # keras LSTMCell: blocks i, f, c, o
            z = x_t @ kernel + h @ recurrent_kernel + bias
            z_i, z_f, z_c, z_o = np.split(z, 4)
            c = sigmoid(z_f) * c + sigmoid(z_i) * np.tanh(z_c)
            h = sigmoid(z_o) * np.tanh(c)
        elif arch == "gru":  # keras GRUCell, reset_after=True: blocks z, r, h
            input_bias, recurrent_bias = bias
            x_z, x_r, x_h = np.split(x_t @ kernel + input_bias, 3)
            rec_z, rec_r, rec_h = np.split(h @ recurrent_kernel + recurrent_bias, 3)
            z = sigmoid(x_z + rec_z)
            r = sigmoid(x_r + rec_r)
            hh = np.tanh(x_h + r * rec_h)
            h = z * h + (1 - z) * hh
        else:  # keras SimpleRNNCell, tanh
            h = np.tanh(x_t @ kernel + bias + h @ recurrent_kernel)
        hs.append(h)
        cs.append(c)
    return {"h": np.array(hs), "c": np.array(cs)}


def random_torch(arch: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    module = TORCH_MODULES[arch](I, U).double()
    with torch.no_grad():
        for p in module.parameters():  # larger than torch's init, so the gates leave their linear range
            p.uniform_(-0.8, 0.8)
    return module


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn"])
def test_converted_keras_weights_match_torch_and_keras(arch, seed):
    module = random_torch(arch, seed)
    keras = keras_layout(arch, module.state_dict())
    cell = cells.make_cell(arch, from_keras(arch, *keras))
    x = np.random.default_rng(seed).normal(size=(T, I))
    trace = cell.forward(x)
    with torch.no_grad():
        out = module(torch.from_numpy(x))
    want = keras_forward(arch, x, *keras)
    # the test's two references agree with each other, and the converted cell with both
    np.testing.assert_allclose(want["h"], out[0].numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.h, want["h"], rtol=0, atol=1e-12)
    if arch == "lstm":
        np.testing.assert_allclose(trace.c, want["c"], rtol=0, atol=1e-12)
    assert np.abs(trace.h).max() > 0.3  # a real signal, not a near-zero state


def test_keras_gru_gates_land_in_torch_blocks():
    """Gate by gate: Keras's z block is torch's second block, r the first, h (candidate) the third."""
    kernel = np.concatenate([np.full((I, U), v) for v in (1.0, 2.0, 3.0)], axis=1)  # z=1, r=2, h=3
    recurrent_kernel = np.concatenate([np.full((U, U), v) for v in (10.0, 20.0, 30.0)], axis=1)
    bias = np.stack([np.repeat([100.0, 200.0, 300.0], U), np.repeat([1000.0, 2000.0, 3000.0], U)])
    p = from_keras("gru", kernel, recurrent_kernel, bias)
    assert p["weight_ih_l0"].shape == (3 * U, I) and p["weight_hh_l0"].shape == (3 * U, U)
    assert [p["weight_ih_l0"][k * U, 0] for k in range(3)] == [2.0, 1.0, 3.0]
    assert [p["weight_hh_l0"][k * U, 0] for k in range(3)] == [20.0, 10.0, 30.0]
    assert [p["bias_ih_l0"][k * U] for k in range(3)] == [200.0, 100.0, 300.0]
    assert [p["bias_hh_l0"][k * U] for k in range(3)] == [2000.0, 1000.0, 3000.0]


def test_single_keras_bias_becomes_bias_ih_with_zero_bias_hh():
    rng = np.random.default_rng(0)
    bias = rng.normal(size=4 * U)
    p = from_keras("lstm", rng.normal(size=(I, 4 * U)), rng.normal(size=(U, 4 * U)), bias)
    assert np.array_equal(p["bias_ih_l0"], bias) and not p["bias_hh_l0"].any()


def test_keras_float32_weights_stay_float32():
    keras = [a.astype(np.float32) for a in keras_layout("gru", random_torch("gru", 0).state_dict())]
    p = from_keras("gru", *keras)
    p64 = from_keras("gru", *(a.astype(np.float64) for a in keras))
    for k in p:
        assert p[k].dtype == np.float32 and np.array_equal(p[k], p64[k].astype(np.float32))


def test_reset_after_false_gru_is_refused_naming_reset_after():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="reset_after"):
        from_keras("gru", rng.normal(size=(I, 3 * U)), rng.normal(size=(U, 3 * U)), rng.normal(size=3 * U))


@pytest.mark.parametrize(
    "arch, shapes, pattern",
    [
        ("lstm", ((I, 3 * U), (U, 4 * U), (4 * U,)), "kernel: expected shape"),
        ("lstm", ((I, 4 * U), (U, 3 * U), (4 * U,)), "recurrent_kernel"),
        ("lstm", ((I, 4 * U), (U, 4 * U), (2, 4 * U)), "bias: expected shape"),
        ("gru", ((I, 3 * U), (U, 3 * U), (3, 3 * U)), "bias: expected shape"),
        ("rnn", ((I, U), (U, U, 1), (U,)), "recurrent_kernel"),
        ("rnn", ((I,), (U, U), (U,)), "kernel: expected shape"),
        ("transformer", ((I, U), (U, U), (U,)), "unknown arch"),
    ],
)
def test_wrong_keras_shapes_are_refused(arch, shapes, pattern):
    kernel, recurrent_kernel, bias = (np.zeros(s) for s in shapes)
    with pytest.raises(ValueError, match=pattern):
        from_keras(arch, kernel, recurrent_kernel, bias)


class FakeKerasLayer:
    """What the documented snippet touches of a Keras layer: get_weights()."""

    def __init__(self, arrays):
        self.arrays = arrays

    def get_weights(self) -> list[np.ndarray]:
        return list(self.arrays)


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn"])
def test_documented_keras_snippet_loads(arch, tmp_path, monkeypatch):
    module = random_torch(arch, 3)
    keras = keras_layout(arch, module.state_dict())
    monkeypatch.chdir(tmp_path)
    exec(weights.KERAS_SNIPPET.replace('b"gru"', f'b"{arch}"'), {"np": np, "layer": FakeKerasLayer(keras)})
    cell, _ = load(tmp_path / "my_gru.npz")
    x = np.random.default_rng(3).normal(size=(T, I))
    np.testing.assert_allclose(cell.forward(x).h, keras_forward(arch, x, *keras)["h"], rtol=0, atol=1e-12)


def test_reset_after_false_gru_file_is_refused_on_load():
    rng = np.random.default_rng(0)
    f = io.BytesIO()
    np.savez(f, arch=np.frombuffer(b"gru", np.uint8), kernel=rng.normal(size=(I, 3 * U)),
             recurrent_kernel=rng.normal(size=(U, 3 * U)), bias=rng.normal(size=3 * U))
    with pytest.raises(ValueError, match="reset_after"):
        load(f.getvalue())
