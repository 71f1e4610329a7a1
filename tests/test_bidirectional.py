"""Bidirectional layers and the projected LSTM against torch.nn.LSTM/GRU/RNN(bidirectional=True,
proj_size=P): outputs, torch's h_n and c_n, every parameter's gradient, dL/dx and dL/dh0, in
float64 to 1e-9 relative; and their Jacobian norms against torch autograd, with the state of one
layer, direction and step nudged inside a pipeline of torch modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cells
from cells.core.bidirectional import Bidirectional, BidirectionalTrace
from cells.core.lstm import ProjectedLSTM

MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
I, H, P = 4, 5, 3


def close(ours, theirs, what: str, rtol: float = 1e-9) -> None:
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-12 * np.abs(theirs).max(), err_msg=what)


def module(arch: str, L: int, bidirectional: bool, proj: int = 0, seed: int = 0,
           inputs: int = I) -> torch.nn.Module:
    torch.manual_seed(seed)
    extra = {"proj_size": proj} if proj else {}
    return MODULES[arch](inputs, H, num_layers=L, bidirectional=bidirectional, **extra).double()


def numpy_params(m: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}


CASES = [(arch, L, batched, proj) for arch in MODULES for L in (1, 2, 3) for batched in (False, True)
         for proj in ((0, P) if arch == "lstm" else (0,))]


@pytest.mark.parametrize(("arch", "L", "batched", "proj"), CASES)
def test_outputs_states_and_every_gradient_match_torch(arch, L, batched, proj):
    T, B = 7, 3
    rng = np.random.default_rng(CASES.index((arch, L, batched, proj)))
    m = module(arch, L, True, proj, seed=L)
    model = cells.make_cell(arch, numpy_params(m))
    assert isinstance(model, Bidirectional) and model.num_layers == L
    out_size = proj or H
    assert model.output_size == 2 * out_size and model.hidden_size == H

    shape = (T, B) if batched else (T,)
    x = rng.normal(size=(*shape, I))
    h0 = rng.normal(size=(2 * L, *shape[1:], out_size))
    c0 = rng.normal(size=(2 * L, *shape[1:], H)) if arch == "lstm" else None
    R = rng.normal(size=(*shape, 2 * out_size))  # the loss is sum(output * R)

    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    c0t = None if c0 is None else torch.tensor(c0, requires_grad=True)
    out, final = m(xt, (h0t, c0t) if arch == "lstm" else h0t)
    (out * torch.tensor(R)).sum().backward()

    trace = model.forward(x, h0, c0)
    close(trace.h, out, "output")
    close(trace.h_n, final[0] if arch == "lstm" else final, "h_n")
    if arch == "lstm":
        close(trace.c_n, final[1], "c_n")
    grads = model.backward(trace, R)
    assert set(grads.params) == set(dict(m.named_parameters()))
    for name, p in m.named_parameters():
        close(grads.params[name], p.grad, f"d{name}")
    close(grads.x, xt.grad, "dx")
    close(grads.h0, h0t.grad, "dh0")
    if arch == "lstm":
        close(grads.c0, c0t.grad, "dc0")


@pytest.mark.parametrize("L", [1, 2])
def test_the_projected_lstm_matches_torch(L):
    rng = np.random.default_rng(L)
    m = module("lstm", L, False, P, seed=L)
    model = cells.make_cell("lstm", numpy_params(m))
    assert model.cell_class is ProjectedLSTM if L > 1 else isinstance(model, ProjectedLSTM)
    assert (model.hidden_size, model.output_size) == (H, P)
    x = rng.normal(size=(9, 2, I))
    R = rng.normal(size=(9, 2, P))
    xt = torch.tensor(x, requires_grad=True)
    out, (_, c_n) = m(xt)
    (out * torch.tensor(R)).sum().backward()
    trace = model.forward(x)
    close(trace.h, out, "h (projected)")
    assert trace.c.shape == (9, 2, H)  # the cell state keeps H units
    close(trace.c[-1], c_n[-1], "c_n")
    grads = model.backward(trace, R)
    for name, p in m.named_parameters():
        close(grads.params[name], p.grad, f"d{name}")
    close(grads.x, xt.grad, "dx")


def test_a_projected_lstm_steps_as_it_reads():
    model = cells.make_cell("lstm", numpy_params(module("lstm", 1, False, P)))
    x = np.random.default_rng(0).normal(size=(6, I))
    trace = model.forward(x)
    h, c = model.zero_state()
    assert h.shape == (P,) and c.shape == (H,)
    for t in range(6):
        h, c, gates = model.step(x[t], h, c)
        close(h, trace.h[t], f"h_{t}", rtol=1e-12)
        close(gates["o"], trace.gates["o"][t], f"o_{t}", rtol=1e-12)


def test_the_backward_direction_aligned_reads_from_the_end():
    m = module("gru", 1, True)
    model = cells.make_cell("gru", numpy_params(m))
    x = np.random.default_rng(1).normal(size=(5, I))
    trace = model.forward(x)
    assert isinstance(trace, BidirectionalTrace)
    backward = trace.aligned(0, 1)
    close(backward.h, trace.h[:, H:], "aligned backward h")  # torch's second half
    # row 4 is the state after reading the last token alone: a one-token run from zero
    alone = model.layers[0][1].forward(x[4:])
    close(backward.h[4], alone.h[0], "the first token the backward direction reads")
    close(trace.aligned(0, 0).h, trace.h[:, :H], "forward h")


def test_a_bidirectional_model_has_no_step_nor_a_state_to_read_on_from():
    model = cells.make_cell("lstm", numpy_params(module("lstm", 1, True)))
    with pytest.raises(ValueError, match="whole sequence"):
        model.step(np.zeros(I), None)
    with pytest.raises(ValueError, match="whole sequence"):
        cells.state_after(model.forward(np.zeros((3, I))), 1)


def test_half_a_bidirectional_dict_is_refused_naming_what_is_missing():
    params = numpy_params(module("rnn", 1, True))
    del params["bias_hh_l0_reverse"]
    with pytest.raises(ValueError, match=r"bias_hh_l0_reverse.*missing"):
        cells.make_cell("rnn", params)


# -- Jacobian norms, against torch autograd through a pipeline of torch modules ------------------


def _sub_module(m: torch.nn.Module, arch: str, layers: range, bidirectional: bool, direction: int = 0,
                proj: int = 0) -> torch.nn.Module:
    """A torch module holding ``layers`` of ``m`` (the one ``direction`` of a single layer when not
    ``bidirectional``), renumbered from layer 0."""
    sd = m.state_dict()
    width = 2 * (proj or H)
    inputs = I if layers.start == 0 else width
    sub = module(arch, len(layers), bidirectional, proj, inputs=inputs)
    suffix = "_reverse" if direction else ""
    new = {}
    for name in sub.state_dict():
        base, k = name.rsplit("_l", 1)
        k, rev = [*k.split("_", 1), ""][:2]
        source = f"{base}_l{int(k) + layers.start}{'_' + rev if rev else suffix}"
        new[name] = sd[source]
    sub.load_state_dict(new)
    return sub


def torch_bidirectional_norms(m, arch: str, L: int, x: np.ndarray, k: int, d: int, proj: int = 0
                              ) -> np.ndarray:
    """log10 ||d y / d h^(k, d)_s|| for every step s of direction d, y = the top layer's last state
    of direction d; the nudge is added to h^(k, d) at one step, c held fixed, the rest is torch's."""
    T, out = x.shape[0], proj or H
    xt = torch.tensor(x)[:, None]  # (T, 1, I)
    with torch.no_grad():
        below = xt if k == 0 else _sub_module(m, arch, range(0, k), True, proj=proj)(xt)[0]
    cell = _sub_module(m, arch, range(k, k + 1), False, d, proj)
    other = _sub_module(m, arch, range(k, k + 1), False, 1 - d, proj)
    above = _sub_module(m, arch, range(k + 1, L), True, proj=proj) if k + 1 < L else None
    reading = below.flip(0) if d else below
    with torch.no_grad():
        other_out = other(below.flip(0) if not d else below)[0]
        other_out = other_out.flip(0) if not d else other_out  # back in time order
    norms = []
    for s in range(T):
        with torch.no_grad():
            _, state = cell(reading[: s + 1])

        def top_state(nudge, state=state, s=s):
            h_s = state[0] + nudge if arch == "lstm" else state + nudge
            rest = cell(reading[s + 1:], (h_s, state[1]) if arch == "lstm" else h_s)[0] if s + 1 < T \
                else reading[:0, :, :out].new_zeros((0, 1, out))
            before = cell(reading[:s])[0] if s else reading[:0, :, :out].new_zeros((0, 1, out))
            mine = torch.cat([before, h_s[None] if h_s.dim() == 2 else h_s, rest])  # reading order
            mine = mine.flip(0) if d else mine
            y = torch.cat([mine, other_out] if d == 0 else [other_out, mine], dim=-1)  # (T, 1, 2P)
            if above is not None:
                y = above(y)[0]
            return y[-1, 0, :out] if d == 0 else y[0, 0, out:]

        J = torch.autograd.functional.jacobian(top_state, torch.zeros(1, 1, out, dtype=torch.float64))
        norms.append(np.log10(np.linalg.norm(J.reshape(out, out).numpy())))
    return np.array(norms)


@pytest.mark.parametrize(("arch", "proj"), [("lstm", 0), ("gru", 0), ("rnn", 0), ("lstm", P)])
@pytest.mark.parametrize("direction", [0, 1])
def test_bidirectional_jacobian_norms_match_torch_autograd(arch, proj, direction):
    L = 2
    m = module(arch, L, True, proj, seed=3)
    model = cells.make_cell(arch, numpy_params(m))
    x = np.random.default_rng(4).normal(size=(6, I))
    trace = model.forward(x)
    ours = cells.jacobian_norms_by_layer(model, trace, direction=direction)  # (L, T)
    for k in range(L):
        theirs = torch_bidirectional_norms(m, arch, L, x, k, direction, proj)
        np.testing.assert_allclose(ours[k], theirs, rtol=0, atol=1e-9, err_msg=f"layer {k}")
        np.testing.assert_allclose(cells.jacobian_norms(model, trace, layer=k, direction=direction),
                                   ours[k], atol=1e-12)


def test_projected_lstm_jacobian_norms_match_torch_autograd():
    m = module("lstm", 1, False, P, seed=2)
    model = cells.make_cell("lstm", numpy_params(m))
    x = np.random.default_rng(2).normal(size=(8, I))
    xt = torch.tensor(x)[:, None]
    expected = []
    for t in range(8):
        with torch.no_grad():
            _, (h, c) = m(xt[: t + 1])
        if t == 7:
            expected.append(0.5 * np.log10(P))
            continue
        J = torch.autograd.functional.jacobian(lambda h, c=c, t=t: m(xt[t + 1:], (h, c))[0][-1], h)
        expected.append(np.log10(np.linalg.norm(J.reshape(P, P).numpy())))
    np.testing.assert_allclose(cells.jacobian_norms(model, model.forward(x)), expected, atol=1e-10)


def test_bidirectional_norms_stay_finite_far_below_float_range():
    """A contracting tanh RNN (W_hh = 0.5 I, zero input and biases) in both directions: each step
    back multiplies by 0.5 exactly, 1500 steps give 10^-451, below float64's range."""
    T, L = 1500, 2
    params = {}
    for k in range(L):
        for s in ("", "_reverse"):
            params[f"weight_ih_l{k}{s}"] = np.full((3, 1 if k == 0 else 6), 0.1)
            params[f"weight_hh_l{k}{s}"] = 0.5 * np.eye(3)
            params[f"bias_ih_l{k}{s}"] = np.zeros(3)
            params[f"bias_hh_l{k}{s}"] = np.zeros(3)
    model = cells.make_cell("rnn", params)
    norms = cells.jacobian_norms(model, model.forward(np.zeros((T, 1))), direction=1)
    steps_back = np.arange(T)[::-1]
    np.testing.assert_allclose(norms, 0.5 * np.log10(3) + steps_back * np.log10(0.5), atol=1e-9)
    assert norms[0] < -450
