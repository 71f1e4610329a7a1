"""Stacked cells against torch.nn.LSTM/GRU/RNN(num_layers=L): every layer's states, every gradient,
and the Jacobian norms of any layer against torch autograd through an unrolled stack of torch cells."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cells
from cells.core.stack import Stack, StackTrace

TORCH_MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
TORCH_CELLS = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell, "rnn": torch.nn.RNNCell}
LAYERS = {"lstm": 3, "gru": 2, "rnn": 2}
I, H = 4, 5


def close(ours, theirs, what: str, rtol: float = 1e-9) -> None:
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-12 * np.abs(theirs).max(), err_msg=what)


def torch_stack(arch: str, L: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return TORCH_MODULES[arch](I, H, num_layers=L).double()


def numpy_params(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


CASES = [(arch, batched, with_state) for arch in LAYERS for batched in (False, True)
         for with_state in (False, True)]


@pytest.mark.parametrize(("arch", "batched", "with_state"), CASES)
def test_every_layer_and_every_gradient_match_torch(arch, batched, with_state):
    L, T, B = LAYERS[arch], 7, 3
    rng = np.random.default_rng(CASES.index((arch, batched, with_state)))
    module = torch_stack(arch, L, seed=L)
    params = numpy_params(module)
    stack = cells.make_cell(arch, params)
    assert isinstance(stack, Stack) and stack.num_layers == L

    shape = (T, B) if batched else (T,)
    x = rng.normal(size=(*shape, I))
    h0 = rng.normal(size=(L, *shape[1:], H)) if with_state else None
    c0 = rng.normal(size=(L, *shape[1:], H)) if with_state and arch == "lstm" else None
    R = rng.normal(size=(*shape, H))  # L = sum(h_top * R)

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True) if with_state else None
    c0t = torch.tensor(c0, requires_grad=True) if c0 is not None else None
    state = (h0t, c0t) if arch == "lstm" and with_state else h0t
    out, final = module(xt, state)
    (out * torch.tensor(R)).sum().backward()

    trace = stack.forward(x, h0, c0)
    grads = stack.backward(trace, R)
    assert isinstance(trace, StackTrace) and trace.num_layers == L
    close(trace.h, out, "top h")
    h_n = final[0] if arch == "lstm" else final
    close(trace.h_n, h_n, "h_n")
    if arch == "lstm":
        close(trace.c[-1], final[1][-1], "top c")
        close(trace.c_n, final[1], "c_n")
    close(grads.x, xt.grad, "dL/dx")
    if with_state:
        close(grads.h0, h0t.grad, "dL/dh0")
        if arch == "lstm":
            close(grads.c0, c0t.grad, "dL/dc0")
    else:
        assert grads.h0.shape == (L, *shape[1:], H)
    assert sorted(grads.params) == sorted(dict(module.named_parameters()))
    for name, p in module.named_parameters():
        close(grads.params[name], p.grad, f"dL/d{name}")

    # Each layer's own states and gates: layer k of the stack is the top of the first k+1 layers.
    for k in range(L):
        sub = TORCH_MODULES[arch](I, H, num_layers=k + 1).double()
        sub.load_state_dict({n: v for n, v in module.state_dict().items() if int(n[-1]) <= k})
        sub_state = None
        if with_state:
            sub_state = torch.tensor(h0[: k + 1])
            if arch == "lstm":
                sub_state = (sub_state, torch.tensor(c0[: k + 1]))
        with torch.no_grad():
            sub_out, _ = sub(torch.tensor(x), sub_state)
        close(trace.layers[k].h, sub_out, f"layer {k} h")
        assert set(trace.layers[k].gates) == set(stack.gate_names)


def test_layer_k_gates_are_torch_cells_gates():
    """The LSTM's gates of layer 1, step by step from torch's nn.LSTMCell on layer 0's states."""
    module = torch_stack("lstm", 2, seed=9)
    stack = cells.make_cell("lstm", numpy_params(module))
    x = np.random.default_rng(0).normal(size=(6, I))
    trace = stack.forward(x)
    sd = module.state_dict()
    W_ih, W_hh, b = sd["weight_ih_l1"], sd["weight_hh_l1"], sd["bias_ih_l1"] + sd["bias_hh_l1"]
    h = c = torch.zeros(H, dtype=torch.float64)
    for t in range(6):
        a = W_ih @ torch.tensor(trace.layers[0].h[t]) + W_hh @ h + b
        i, f, g, o = a.sigmoid()[:H], a.sigmoid()[H : 2 * H], a.tanh()[2 * H : 3 * H], a.sigmoid()[3 * H :]
        c = f * c + i * g
        h = o * c.tanh()
        for name, want in zip("ifgo", (i, f, g, o), strict=True):
            close(trace.layers[1].gates[name][t], want, f"gate {name} at {t}")


def test_a_one_layer_dict_is_still_a_single_cell():
    params = cells.init_params("gru", 3, 4, seed=0)
    assert type(cells.make_cell("gru", params)) is cells.GRU


def test_the_stack_states_its_cells_facts_and_sizes():
    stack = cells.make_cell("gru", numpy_params(torch_stack("gru", 2, seed=0)))
    for fact in ("arch", "display_name", "gates", "gate_names", "states", "memory_gate", "equations",
                 "memory_equation", "sigmoid_gates", "has_cell_state", "blocks", "torch_module", "paper"):
        assert getattr(stack, fact) == getattr(cells.GRU, fact), fact
    assert (stack.num_layers, stack.input_size, stack.hidden_size) == (2, I, H)
    assert stack.num_params == sum(p.numel() for p in torch_stack("gru", 2, seed=0).parameters())
    assert stack.dtype == np.float64 and stack.cell_class is cells.GRU
    with pytest.raises(AttributeError):
        stack.no_such_fact  # noqa: B018


def test_step_is_one_token_of_forward_for_every_layer():
    stack = cells.make_cell("lstm", numpy_params(torch_stack("lstm", 3, seed=1)))
    x = np.random.default_rng(2).normal(size=(5, I))
    trace = stack.forward(x)
    h, c = stack.zero_state()
    for t in range(5):
        h, c, gates = stack.step(x[t], h, c)
        for k in range(3):
            close(h[k], trace.layers[k].h[t], f"h layer {k} step {t}", rtol=1e-12)
            close(c[k], trace.layers[k].c[t], f"c layer {k} step {t}", rtol=1e-12)
        close(gates["f"], trace.gates["f"][t], "top gates", rtol=1e-12)


@pytest.mark.parametrize(
    "change, pattern",
    [(lambda p: p.pop("bias_hh_l1"), "bias_hh_l1.*missing"),
     (lambda p: p.update(weight_hr_l0=np.zeros((3, 3))), "unexpected.*weight_hr_l0"),
     (lambda p: p.update(weight_ih_l1_reverse=np.zeros((3, 3))), "weight_ih_l0_reverse.*missing"),
     (lambda p: p.update(weight_hh_l1=np.zeros((15, 4))), "layer 1.*weight_hh_l1"),
     (lambda p: p.update(weight_ih_l1=np.zeros((15, 4))), "weight_ih_l1")],
)
def test_bad_stacks_are_refused_naming_the_key(change, pattern):
    params = numpy_params(torch_stack("gru", 2, seed=0))
    change(params)
    with pytest.raises(ValueError, match=pattern):
        cells.make_cell("gru", params)


def test_bad_initial_states_are_refused():
    stack = cells.make_cell("rnn", numpy_params(torch_stack("rnn", 2, seed=0)))
    with pytest.raises(ValueError, match="L=2"):
        stack.forward(np.zeros((3, I)), np.zeros((3, H)))
    with pytest.raises(ValueError, match="c0 must be None"):
        stack.forward(np.zeros((3, I)), None, np.zeros((2, H)))


# -- Jacobian norms of any layer ---------------------------------------------------------------------


def torch_layer_jacobian_log_norms(module: torch.nn.Module, arch: str, x: np.ndarray, k: int) -> np.ndarray:
    """log10 ||d h^top_{T-1} / d h^(k)_t||_F by autograd through an unrolled stack of torch cells,
    c^(k)_t held fixed."""
    L, T = module.num_layers, x.shape[0]
    sd = module.state_dict()
    steps = []
    for j in range(L):
        cell = TORCH_CELLS[arch](I if j == 0 else H, H).double()
        cell.load_state_dict({n: sd[f"{n}_l{j}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
        steps.append(cell)

    def step(j, inp, state):
        if arch == "lstm":
            return steps[j](inp, state)
        return steps[j](inp, state)

    def run(j, inputs, state, start):
        """Layer j from state (after step start-1) over inputs[start:]: states after each step."""
        out = []
        for t in range(start, T):
            state = step(j, inputs[t], state)
            out.append(state)
        return out

    zero = torch.zeros(H, dtype=torch.float64)
    with torch.no_grad():  # every layer's states at every step
        states, inputs = [], list(torch.tensor(x))
        for j in range(L):
            s = run(j, inputs, (zero, zero) if arch == "lstm" else zero, 0)
            states.append(s)
            inputs = [st[0] if arch == "lstm" else st for st in s]

    def h_of(s):
        return s[0] if arch == "lstm" else s

    out = np.empty(T)
    for t in range(T):
        def top_last(h, t=t):
            # layer k: h at step t (c fixed), then recomputed from t+1
            s_t = (h, states[k][t][1]) if arch == "lstm" else h
            after = run(k, inputs_of(k), s_t, t + 1)
            hs_k = [h_of(s) for s in states[k][:t]] + [h] + [h_of(s) for s in after]
            below = hs_k
            for j in range(k + 1, L):
                prev = states[j][t - 1] if t > 0 else ((zero, zero) if arch == "lstm" else zero)
                hs_j = [h_of(s) for s in states[j][:t]] + [h_of(s) for s in run(j, below, prev, t)]
                below = hs_j
            return below[-1]

        def inputs_of(j):
            return list(torch.tensor(x)) if j == 0 else [h_of(s) for s in states[j - 1]]

        J = torch.autograd.functional.jacobian(top_last, h_of(states[k][t]).clone())
        out[t] = np.log10(np.linalg.norm(J.numpy()))
    return out


@pytest.mark.parametrize(("arch", "L"), [("lstm", 3), ("gru", 2), ("rnn", 2)])
def test_jacobian_norms_of_every_layer_match_torch_autograd(arch, L):
    module = torch_stack(arch, L, seed=4)
    stack = cells.make_cell(arch, numpy_params(module))
    x = np.random.default_rng(5).normal(size=(6, I))
    trace = stack.forward(x)
    for k in range(L):
        want = torch_layer_jacobian_log_norms(module, arch, x, k)
        np.testing.assert_allclose(cells.jacobian_norms(stack, trace, layer=k), want, rtol=0, atol=1e-8,
                                   err_msg=f"layer {k}")
    top = cells.jacobian_norms(stack, trace, layer=L - 1)
    np.testing.assert_array_equal(cells.jacobian_norms(stack, trace), top)


def test_jacobian_norms_of_a_lower_layer_stay_finite_far_below_float_range():
    """A 2-layer RNN whose recurrent weights contract hard: the norms of layer 0 fall far below
    1e-308 and stay finite, falling at every step back."""
    params = numpy_params(torch_stack("rnn", 2, seed=0))
    for k in (0, 1):
        params[f"weight_hh_l{k}"] = params[f"weight_hh_l{k}"] * 0.01
    stack = cells.make_cell("rnn", params)
    trace = stack.forward(np.random.default_rng(0).normal(size=(600, I)))
    norms = cells.jacobian_norms(stack, trace, layer=0)
    assert np.all(np.isfinite(norms)) and norms[0] < -1000
    assert np.all(np.diff(norms) > 0)


def test_jacobian_norms_batched_and_bad_layer():
    stack = cells.make_cell("gru", numpy_params(torch_stack("gru", 2, seed=0)))
    x = np.random.default_rng(0).normal(size=(5, 3, I))
    trace = stack.forward(x)
    both = cells.jacobian_norms(stack, trace, layer=0)
    assert both.shape == (5, 3)
    one = cells.jacobian_norms(stack, stack.forward(x[:, 1]), layer=0)
    np.testing.assert_allclose(both[:, 1], one, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        cells.jacobian_norms(stack, trace, layer=2)


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn"])
def test_one_pass_gives_every_layers_jacobian_curve(arch):
    """jacobian_norms_by_layer: row k equals jacobian_norms(layer=k), each its own pass."""
    params = {}
    for k in range(3):
        layer = cells.init_params(arch, 4 if k == 0 else 6, 6, seed=10 + k)
        params.update({name.replace("_l0", f"_l{k}"): a for name, a in layer.items()})
    stack = cells.make_cell(arch, params)
    trace = stack.forward(np.random.default_rng(3).normal(size=(9, 4)))
    rows = cells.jacobian_norms_by_layer(stack, trace)
    assert rows.shape == (3, 9)
    for k in range(3):
        np.testing.assert_allclose(rows[k], cells.jacobian_norms(stack, trace, layer=k), rtol=1e-12)
    with pytest.raises(ValueError, match="single sequence"):
        cells.jacobian_norms_by_layer(stack, stack.forward(np.zeros((3, 2, 4))))
