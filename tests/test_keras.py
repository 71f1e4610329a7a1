"""from_keras against real Keras layers: keras.layers.LSTM, GRU (reset_after=True, and False as the
gru-reset-before cell) and SimpleRNN.

Keras 3 runs on its torch backend here (``KERAS_BACKEND=torch``, set before Keras is imported). Each
layer gets random weights (biases too, every gate block different), its ``get_weights()`` go
through ``cells.from_keras``, and gatescope's hidden states must match the layer's
``return_sequences=True`` output: to 1e-5 for float32 layers (Keras's default) against gatescope in
float64, and to 1e-12 for float64 LSTM and GRU layers. (A float64 SimpleRNN is not compared in
float64: Keras's torch ``ops.matmul`` computes it in float32, so it is only float32-exact.)
"""

from __future__ import annotations

import io
import os

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported, here or anywhere else

import keras
import numpy as np
import pytest

import cells
from cells.io import npz
from cells.io.layouts import from_keras
from cells.io.model_files import load

pytestmark = pytest.mark.filterwarnings(  # Keras's torch backend and NumPy 2, not ours
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN,
          "gru-reset-before": keras.layers.GRU}
OPTIONS = {"gru": {"reset_after": True}, "gru-reset-before": {"reset_after": False}}
I, U, T, B = 5, 7, 12, 3


def keras_layer(arch: str, seed: int, dtype: str = "float32", **options) -> keras.layers.Layer:
    """A built Keras layer with random weights in [-0.8, 0.8]: larger than Keras's init (and its
    zero or unit biases), so the gates leave their linear range and every block is distinct."""
    layer = LAYERS[arch](U, return_sequences=True, dtype=dtype, **OPTIONS.get(arch, {}), **options)
    layer.build((None, T, I))
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(-0.8, 0.8, size=w.shape).astype(dtype) for w in layer.get_weights()])
    return layer


def keras_run(layer: keras.layers.Layer, x: np.ndarray) -> list[np.ndarray]:
    """The layer on x (B, T, I) in its own dtype: its outputs as NumPy arrays."""
    out = layer(keras.ops.convert_to_tensor(x.astype(layer.dtype), dtype=layer.dtype))
    return [keras.ops.convert_to_numpy(o) for o in (out if isinstance(out, list | tuple) else [out])]


def batch_first(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, 0, 1)  # gatescope's (T, B, H) -> Keras's (B, T, H)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn", "gru-reset-before"])
def test_converted_float32_keras_layer_matches_keras(arch, seed):
    layer = keras_layer(arch, seed)
    x = np.random.default_rng(seed).normal(size=(B, T, I)).astype(np.float32)
    (want,) = keras_run(layer, x)
    assert want.dtype == np.float32 and want.shape == (B, T, U)
    params = from_keras(arch, *layer.get_weights())
    cell = cells.make_cell(arch, {k: v.astype(np.float64) for k, v in params.items()})
    h = batch_first(cell.forward(np.swapaxes(x, 0, 1).astype(np.float64)).h)
    np.testing.assert_allclose(h, want, rtol=0, atol=1e-5)
    assert np.abs(want).max() > 0.3  # a real signal, not a near-zero state


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_converted_float64_keras_layer_matches_keras_to_1e_12(arch):
    """In float64 the equations must agree exactly: any gate block mixed up shows at once. The
    LSTM's final cell state (``return_state=True``) is compared too."""
    layer = keras_layer(arch, 2, dtype="float64", return_state=True)
    x = np.random.default_rng(2).normal(size=(B, T, I))
    want = keras_run(layer, x)
    assert want[0].dtype == np.float64
    cell = cells.make_cell(arch, from_keras(arch, *layer.get_weights()))
    trace = cell.forward(np.swapaxes(x, 0, 1))
    np.testing.assert_allclose(batch_first(trace.h), want[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.h[-1], want[1], rtol=0, atol=1e-12)  # final h
    if arch == "lstm":
        np.testing.assert_allclose(trace.c[-1], want[2], rtol=0, atol=1e-12)  # final c
    assert np.abs(want[0]).max() > 0.3


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
    kernel, recurrent_kernel, bias = keras_layer("lstm", 0, dtype="float64").get_weights()
    p = from_keras("lstm", kernel, recurrent_kernel, bias)
    assert not p["bias_hh_l0"].any()
    # torch's blocks i f g o are Keras's i f c o: the same order, so the bias is copied as it is
    np.testing.assert_array_equal(p["bias_ih_l0"], bias)


def test_keras_float32_weights_stay_float32():
    keras_weights = keras_layer("gru", 0).get_weights()
    assert all(w.dtype == np.float32 for w in keras_weights)
    p = from_keras("gru", *keras_weights)
    p64 = from_keras("gru", *(a.astype(np.float64) for a in keras_weights))
    for k in p:
        assert p[k].dtype == np.float32 and np.array_equal(p[k], p64[k].astype(np.float32))


def test_reset_after_false_weights_as_a_torch_gru_are_refused_naming_the_right_arch():
    layer = keras.layers.GRU(U, reset_after=False)
    layer.build((None, T, I))
    kernel, recurrent_kernel, bias = layer.get_weights()
    assert bias.shape == (3 * U,)  # Keras's reset_after=False layout: one bias
    with pytest.raises(ValueError, match=r"reset_after=False.*'gru-reset-before'"):
        from_keras("gru", kernel, recurrent_kernel, bias)


def test_reset_after_false_gru_in_float64_matches_keras_to_float32():
    """Keras's torch backend runs GRU(reset_after=False) through ``keras.ops.matmul``, which
    returns float32 for float64 tensors: the float64 layer is float32-exact, and so is the match
    (the cell's own backward is checked against finite differences in test_engine_gradcheck)."""
    layer = keras_layer("gru-reset-before", 4, dtype="float64", return_state=True)
    x = np.random.default_rng(4).normal(size=(B, T, I))
    want = keras_run(layer, x)
    cell = cells.make_cell("gru-reset-before", from_keras("gru-reset-before", *layer.get_weights()))
    trace = cell.forward(np.swapaxes(x, 0, 1))
    np.testing.assert_allclose(batch_first(trace.h), want[0], rtol=0, atol=2e-7)
    np.testing.assert_allclose(trace.h[-1], want[1], rtol=0, atol=2e-7)
    assert np.abs(want[0]).max() > 0.3


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


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn"])
def test_documented_keras_snippet_loads(arch, tmp_path, monkeypatch):
    """The snippet the upload page shows, run as written on a real Keras layer: the file loads as
    a cell that computes what the layer computes."""
    layer = keras_layer(arch, 3)
    monkeypatch.chdir(tmp_path)
    exec(npz.KERAS_SNIPPET.replace('b"gru"', f'b"{arch}"'), {"np": np, "layer": layer})
    cell, _ = load(tmp_path / "my_gru.npz")
    assert cell.arch == arch
    x = np.random.default_rng(3).normal(size=(B, T, I)).astype(np.float32)
    (want,) = keras_run(layer, x)
    h = batch_first(cell.forward(np.swapaxes(x, 0, 1)).h)
    np.testing.assert_allclose(h, want, rtol=0, atol=1e-5)


def test_reset_after_false_gru_file_is_read_by_its_own_arch():
    layer = keras_layer("gru-reset-before", 5)
    kernel, recurrent_kernel, bias = layer.get_weights()

    def saved(arch: bytes) -> bytes:
        f = io.BytesIO()
        np.savez(f, arch=np.frombuffer(arch, np.uint8), kernel=kernel, recurrent_kernel=recurrent_kernel,
                 bias=bias)
        return f.getvalue()

    with pytest.raises(ValueError, match="reset_after"):
        load(saved(b"gru"))
    cell, _ = load(saved(b"gru-reset-before"))
    x = np.random.default_rng(5).normal(size=(B, T, I)).astype(np.float32)
    (want,) = keras_run(layer, x)
    np.testing.assert_allclose(batch_first(cell.forward(np.swapaxes(x, 0, 1)).h), want, atol=1e-5)
