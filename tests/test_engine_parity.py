"""The engine against PyTorch, float64, every parameter random (biases too), random h0/c0.

PyTorch's nn.LSTM/GRU/RNN give h and the parameter gradients; a step-by-step loop of nn.LSTMCell /
GRUCell / RNNCell with retain_grad gives what the fused modules hide: every gate, c_t, and the total
dL/dh_t and dL/dc_t at every step.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cells

TORCH = {
    "lstm": (torch.nn.LSTM, torch.nn.LSTMCell),
    "gru": (torch.nn.GRU, torch.nn.GRUCell),
    "rnn": (torch.nn.RNN, torch.nn.RNNCell),
}
RTOL = 1e-9


def close(actual: np.ndarray, expected: torch.Tensor | np.ndarray, what: str) -> None:
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    assert actual.shape == expected.shape, what
    scale = max(np.abs(expected).max(), 1e-300)
    assert np.abs(actual - expected).max() <= RTOL * scale, f"{what}: relative error too large"


def random_module(arch: str, I: int, H: int, rng: np.random.Generator) -> torch.nn.Module:
    module = TORCH[arch][0](I, H).double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.6, size=tuple(p.shape))))
    return module


def step_gates(arch: str, params: dict[str, torch.Tensor], x, h, c):
    """The gate equations in torch, from the PyTorch documentation, for one step."""
    gx = x @ params["weight_ih_l0"].T + params["bias_ih_l0"]
    gh = h @ params["weight_hh_l0"].T + params["bias_hh_l0"]
    if arch == "lstm":
        i, f, g, o = (gx + gh).chunk(4, -1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + i * g
        return o * c.tanh(), c, {"i": i, "f": f, "g": g, "o": o}
    if arch == "gru":
        xr, xz, xn = gx.chunk(3, -1)
        hr, hz, hn = gh.chunk(3, -1)
        r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        return (1 - z) * n + z * h, None, {"r": r, "z": z, "n": n}
    return (gx + gh).tanh(), None, {}


CASES = [(arch, T, batched) for arch in cells.TORCH_ARCHS for T in (1, 2, 7, 40) for batched in (False, True)]


@pytest.mark.parametrize(("arch", "T", "batched"), CASES)
def test_matches_pytorch(arch: str, T: int, batched: bool) -> None:
    rng = np.random.default_rng(CASES.index((arch, T, batched)))
    I, H, B = 5, 6, 3
    module = random_module(arch, I, H, rng)
    params = {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}
    cell = cells.make_cell(arch, params)

    shape = (T, B) if batched else (T,)
    x = rng.normal(size=(*shape, I))
    h0 = rng.normal(size=(*shape[1:], H))
    c0 = rng.normal(size=(*shape[1:], H)) if arch == "lstm" else None
    R = rng.normal(size=(*shape, H))  # L = sum(h * R): dL/dh_t = R_t from outside

    # The fused torch module: h and the parameter gradients.
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    c0t = torch.tensor(c0[None], requires_grad=True) if arch == "lstm" else None
    out, _ = module(xt, (h0t, c0t) if arch == "lstm" else h0t)
    (out * torch.tensor(R)).sum().backward()

    trace = cell.forward(x, h0, c0)
    grads = cell.backward(trace, R)
    close(trace.h, out, "h")
    close(grads.x, xt.grad, "dL/dx")
    close(grads.h0, h0t.grad[0], "dL/dh0")
    if arch == "lstm":
        close(grads.c0, c0t.grad[0], "dL/dc0")
    for name, p in module.named_parameters():
        close(grads.params[name], p.grad, f"dL/d{name}")

    # Step by step in torch: every gate, c_t, and the total dL/dh_t, dL/dc_t.
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h, c = torch.tensor(h0), torch.tensor(c0) if c0 is not None else None
    hs, cs, gates = [], [], []
    for t in range(T):
        h, c, g = step_gates(arch, tp, torch.tensor(x[t]), h, c)
        h.retain_grad()
        hs.append(h)
        if c is not None:
            c.retain_grad()
            cs.append(c)
        gates.append(g)
    sum((h_t * torch.tensor(R[t])).sum() for t, h_t in enumerate(hs)).backward()
    close(trace.h, torch.stack(hs), "h (step by step)")
    close(grads.h, torch.stack([h_t.grad for h_t in hs]), "total dL/dh_t")
    if arch == "lstm":
        close(trace.c, torch.stack(cs), "c")
        close(grads.c, torch.stack([c_t.grad for c_t in cs]), "total dL/dc_t")
    assert set(trace.gates) == set(cell.gate_names)
    for name in cell.gate_names:
        close(trace.gates[name], torch.stack([g[name] for g in gates]), f"gate {name}")


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_step_is_one_token_of_forward(arch: str) -> None:
    rng = np.random.default_rng(1)
    cell = cells.make_cell(arch, cells.init_params(arch, 4, 5, seed=2))
    x = rng.normal(size=(9, 4))
    trace = cell.forward(x)
    h, c = np.zeros(5), np.zeros(5)
    for t in range(9):
        h, c, gates = cell.step(x[t], h, c)
        np.testing.assert_allclose(h, trace.h[t], rtol=1e-12, atol=1e-15)
        for name, g in gates.items():
            np.testing.assert_allclose(g, trace.gates[name][t], rtol=1e-12, atol=1e-15)
        if cell.has_cell_state:
            np.testing.assert_allclose(c, trace.c[t], rtol=1e-12, atol=1e-15)


def close32(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    """float32 against float64: float32 dtype, and within 5e-6 of the float64 values' scale (float32
    rounds at 6e-8 relative; these runs stay near 3e-7; a float16 buffer anywhere gives 1e-4)."""
    assert actual.dtype == np.float32, f"{what}: dtype {actual.dtype}"
    assert actual.shape == expected.shape, what
    scale = np.abs(expected).max()
    assert scale > 1e-3, f"{what}: no signal to compare"
    err = np.abs(actual.astype(np.float64) - expected).max() / scale
    assert err <= 5e-6, f"{what}: relative error {err:.1e}"


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_float32_follows_float64(arch: str) -> None:
    """Every output of forward and backward, in float32, against the float64 run on the same
    (float32-representable) parameters and inputs."""
    rng = np.random.default_rng(0)
    T, B, I, H = 20, 2, 3, 8
    params = cells.init_params(arch, I, H, seed=0, dtype=np.float32)
    cell32 = cells.make_cell(arch, params)
    cell64 = cells.make_cell(arch, {k: v.astype(np.float64) for k, v in params.items()})
    x, h0, R = (rng.normal(size=s).astype(np.float32) for s in ((T, B, I), (B, H), (T, B, H)))
    c0 = rng.normal(size=(B, H)).astype(np.float32) if cell64.has_cell_state else None
    t32, t64 = cell32.forward(x, h0, c0), cell64.forward(x, h0, c0)
    g32, g64 = cell32.backward(t32, R), cell64.backward(t64, R)

    close32(t32.h, t64.h, "h")
    for name in cell64.gate_names:
        close32(t32.gates[name], t64.gates[name], f"gate {name}")
    close32(g32.x, g64.x, "dL/dx")
    close32(g32.h, g64.h, "total dL/dh_t")
    close32(g32.h0, g64.h0, "dL/dh0")
    if cell64.has_cell_state:
        close32(t32.c, t64.c, "c")
        close32(g32.c, g64.c, "total dL/dc_t")
        close32(g32.c0, g64.c0, "dL/dc0")
    assert set(g32.params) == set(params)
    for name in params:
        close32(g32.params[name], g64.params[name], f"dL/d{name}")
