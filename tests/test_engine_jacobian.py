"""jacobian_norms: exact against torch autograd, and finite in log space far below 1e-300: to below
1e-1000 for the tanh RNN, the GRU and the LSTM, on the slopes their equations give."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cells


def torch_jacobian_log_norms(arch: str, params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """log10 ||d h_{T-1} / d h_t||_F from torch.autograd.functional.jacobian, c_t held fixed."""
    I, T = x.shape[1], x.shape[0]
    H = params["weight_hh_l0"].shape[1]
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[arch](I, H).double()
    module.load_state_dict({k: torch.tensor(v) for k, v in params.items()})
    xt = torch.tensor(x)[:, None]
    out = []
    for t in range(T):
        with torch.no_grad():
            _, state = module(xt[: t + 1])
        if t == T - 1:
            out.append(0.5 * np.log10(H))
            continue

        def last_h(h, state=state, t=t):
            s = (h, state[1]) if arch == "lstm" else h
            return module(xt[t + 1 :], s)[0][-1]

        h_t = state[0] if arch == "lstm" else state
        J = torch.autograd.functional.jacobian(last_h, h_t).reshape(H, H)
        out.append(np.log10(np.linalg.norm(J.numpy())))
    return np.array(out)


@pytest.mark.parametrize("arch", cells.TORCH_ARCHS)
def test_matches_torch_autograd(arch: str) -> None:
    rng = np.random.default_rng(5)
    params = cells.init_params(arch, 3, 6, seed=4)
    x = rng.normal(size=(15, 3))
    cell = cells.make_cell(arch, params)
    ours = cells.jacobian_norms(cell, cell.forward(x))
    np.testing.assert_allclose(ours, torch_jacobian_log_norms(arch, params, x), rtol=0, atol=1e-10)


def test_batched_trace_gives_one_column_per_sequence() -> None:
    cell = cells.make_cell("gru", cells.init_params("gru", 2, 4, seed=0))
    x = np.random.default_rng(0).normal(size=(10, 3, 2))
    both = cells.jacobian_norms(cell, cell.forward(x))
    assert both.shape == (10, 3)
    np.testing.assert_allclose(both[:, 1], cells.jacobian_norms(cell, cell.forward(x[:, 1])), atol=1e-12)


def test_contracting_rnn_stays_finite_far_below_float_range() -> None:
    """W_hh = 0.5 I with zero input: h stays 0, each step multiplies by 0.5 exactly."""
    H, T = 4, 3000
    params = cells.init_params("rnn", 1, H, seed=0)
    params["weight_hh_l0"] = 0.5 * np.eye(H)
    params["bias_ih_l0"][:] = 0.0
    params["bias_hh_l0"][:] = 0.0
    cell = cells.make_cell("rnn", params)
    log_norms = cells.jacobian_norms(cell, cell.forward(np.zeros((T, 1))))
    assert np.all(np.isfinite(log_norms))
    assert log_norms[0] < -300
    # ||0.5^k I||_F = 0.5^k sqrt(H): exact in closed form.
    k = np.arange(T)[::-1]
    np.testing.assert_allclose(log_norms, k * np.log10(0.5) + 0.5 * np.log10(H), atol=1e-8)


def test_random_contracting_rnn_over_3000_steps() -> None:
    cell = cells.make_cell("rnn", cells.init_params("rnn", 3, 16, seed=0, recurrent_radius=0.5))
    trace = cell.forward(np.random.default_rng(0).normal(size=(3000, 3)))
    log_norms = cells.jacobian_norms(cell, trace)
    assert np.all(np.isfinite(log_norms)) and log_norms[0] < -300


def test_lstm_with_open_forget_gates_keeps_its_gradient() -> None:
    """Forget gates pinned near 1 (bias 20) and input gates shut: the cell state carries the
    gradient, so the norm stays far above the RNN's over the same length."""
    H, T = 8, 200
    params = cells.init_params("lstm", 2, H, seed=0, forget_bias=20.0)
    x = np.random.default_rng(1).normal(size=(T, 2))
    lstm = cells.make_cell("lstm", params)
    rnn = cells.make_cell("rnn", cells.init_params("rnn", 2, H, seed=0, recurrent_radius=0.9))
    assert cells.jacobian_norms(lstm, lstm.forward(x))[0] > cells.jacobian_norms(rnn, rnn.forward(x))[0] + 5


def sigmoid(a: float) -> float:
    return 1.0 / (1.0 + np.exp(-a))


def log10_frobenius(log10_first: np.ndarray, log10_factor: np.ndarray, T: int) -> np.ndarray:
    """log10 ||d h_{T-1} / d h_t||_F for a diagonal Jacobian whose unit j is first_j * factor_j^(k-1)
    at k = T-1-t >= 1 steps back (the identity at k = 0), summed over units in log space."""
    k = np.arange(T)[::-1][:, None]  # (T, 1): steps back from t to T-1
    log_units = log10_first[None] + (k - 1) * log10_factor[None]  # (T, H)
    top = log_units.max(axis=1, keepdims=True)
    out = top[:, 0] + 0.5 * np.log10(np.sum(100.0 ** (log_units - top), axis=1))  # 0.5 log10 sum x^2
    out[-1] = 0.5 * np.log10(len(log10_first))  # ||I||_F
    return out


def test_contracting_gru_stays_finite_below_1e_minus_1000() -> None:
    """GRU with zero input and input weights, W_hr = W_hz = 0 and W_hn = diag(a): h stays 0, so
    r = sigmoid(b_r) and z = sigmoid(b_z) are constant and dh_t/dh_{t-1} = diag(z + (1-z) r a)."""
    H, T = 4, 4000
    a = np.array([0.5, 0.2, -1.5, 0.0])
    b_r, b_z = 1.0, -1.0
    params = {
        "weight_ih_l0": np.zeros((3 * H, 1)),
        "weight_hh_l0": np.zeros((3 * H, H)),
        "bias_ih_l0": np.concatenate([np.full(H, b_r), np.full(H, b_z), np.zeros(H)]),  # r z n
        "bias_hh_l0": np.zeros(3 * H),
    }
    params["weight_hh_l0"][2 * H :] = np.diag(a)
    cell = cells.make_cell("gru", params)
    trace = cell.forward(np.zeros((T, 1)))
    assert not trace.h.any()  # the operating point the factors assume
    log_norms = cells.jacobian_norms(cell, trace)

    z, r = sigmoid(b_z), sigmoid(b_r)
    factor = np.log10(np.abs(z + (1 - z) * r * a))  # per unit, per step back
    assert np.all(np.isfinite(log_norms))
    assert log_norms[0] < -1000
    np.testing.assert_allclose(log_norms, log10_frobenius(factor, factor, T), rtol=0, atol=1e-8)
    # far back only the slowest unit (a = 0.5) is left: one known slope per step
    np.testing.assert_allclose(np.diff(log_norms[:100]), -factor.max(), rtol=0, atol=1e-10)


def test_contracting_lstm_stays_finite_below_1e_minus_1000() -> None:
    """LSTM with zero input, every recurrent weight 0 but W_hg = diag(a): h and c stay 0, so the
    gates are the constants i, f, o = sigmoid(bias) and per unit the step (h, c) -> (h', c') is
    c' = f c + i a h, h' = o c'. With c_t held fixed, d h_{t+k} / d h_t = o i a (f + o i a)^(k-1):
    the h path enters the cell state once and the cell state carries it back with f + o i a."""
    H, T = 4, 3700
    a = np.array([0.8, 0.3, -0.6, 0.0])
    b_i, b_f, b_o = 0.0, -1.0, 0.5
    params = {
        "weight_ih_l0": np.zeros((4 * H, 1)),
        "weight_hh_l0": np.zeros((4 * H, H)),
        "bias_ih_l0": np.concatenate([np.full(H, b) for b in (b_i, b_f, 0.0, b_o)]),  # i f g o
        "bias_hh_l0": np.zeros(4 * H),
    }
    params["weight_hh_l0"][2 * H : 3 * H] = np.diag(a)
    cell = cells.make_cell("lstm", params)
    trace = cell.forward(np.zeros((T, 1)))
    assert not trace.h.any() and not trace.c.any()
    log_norms = cells.jacobian_norms(cell, trace)

    i, f, o = sigmoid(b_i), sigmoid(b_f), sigmoid(b_o)
    with np.errstate(divide="ignore"):  # the unit with a = 0 has no path: log10 0 = -inf
        first = np.log10(np.abs(o * i * a))
    factor = np.log10(np.abs(f + o * i * a))
    assert np.all(np.isfinite(log_norms))
    assert log_norms[0] < -1000
    np.testing.assert_allclose(log_norms, log10_frobenius(first, factor, T), rtol=0, atol=1e-8)
    np.testing.assert_allclose(np.diff(log_norms[:100]), -factor.max(), rtol=0, atol=1e-10)
