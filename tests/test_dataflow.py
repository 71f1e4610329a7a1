"""Each cell's step as a dataflow graph (``Cell.dataflow``, cells/core/dataflow.py) and the local
derivatives along it (``cells.core.diagnostics.step_flow``): the graph a diagram draws must be
the cell's own computation, and the numbers on its lines on the way back the true derivatives.

* the wiring: the graph, evaluated with a step's gates, gives that step's c_t and h_t; each layer,
  given the inputs the graph says it reads, gives the step's gate (every registered cell);
* the local derivatives: every edge against central differences; the paths along the ops against
  PyTorch's autograd (LSTM, GRU) and against the engine's own chain-rule factors
  (``_local_derivatives``, ``memory_path``) for every cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

import cells
from cells.core.cell import Cell, Gate, sigmoid
from cells.core.dataflow import (
    C_PREV,
    H_PREV,
    IDENTITY,
    MUL,
    SIGMA,
    TANH,
    Dataflow,
    Layer,
    Op,
    X,
)
from cells.core.diagnostics import step_flow

I, H, B = 3, 5, 4
ACTIVATIONS = {SIGMA: sigmoid, TANH: np.tanh, IDENTITY: lambda a: a}


@dataclass(frozen=True)
class Step:
    """A cell, a batch of inputs and states (B, ...), and the cell's ``step`` on them."""

    cell: Cell
    x: np.ndarray
    h: np.ndarray
    c: np.ndarray
    h_t: np.ndarray
    c_t: np.ndarray | None
    gates: dict[str, np.ndarray]

    def known(self) -> dict[str, np.ndarray]:
        """What the graph takes: the inputs and each layer's output (a gate, or the tanh RNN's h)."""
        layers = {layer.name: self.gates.get(layer.name, self.h_t) for layer in self.cell.dataflow.layers}
        return {X: self.x, H_PREV: self.h, **({C_PREV: self.c} if self.cell.has_cell_state else {}), **layers}


def a_step(arch: str, seed: int = 0) -> Step:
    cell = cells.make_cell(arch, cells.init_params(arch, I, H, seed=seed))
    rng = np.random.default_rng(seed + 1)
    x, h, c = rng.normal(size=(B, I)), rng.normal(size=(B, H)) * 0.8, rng.normal(size=(B, H)) * 1.5
    return Step(cell, x, h, c, *cell.step(x, h, c if cell.has_cell_state else None))


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_the_graph_evaluated_with_a_step_s_gates_gives_the_step_s_states(arch):
    step = a_step(arch)
    values = step.cell.dataflow.values(step.known())
    np.testing.assert_allclose(values["h"], step.h_t, rtol=1e-12, atol=1e-12)
    if step.cell.has_cell_state:
        np.testing.assert_allclose(values["c"], step.c_t, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_each_layer_reading_what_the_graph_says_gives_the_step_s_gate(arch):
    """A layer is ``activation(W x_t + b_ih + U (its recurrent input) + b_hh)`` with its block of
    the weights; a layer it reads scales the recurrent term (the GRU's r), an op it reads is its
    recurrent input (the MGU's f ⊙ h_{t-1})."""
    step = a_step(arch)
    cell, x = step.cell, step.x
    flow = cell.dataflow
    values = flow.values(step.known())
    p = cell.params
    for layer in flow.layers:
        k = cell.gate_names.index(layer.name) if cell.gate_names else 0
        rows = slice(k * H, (k + 1) * H)
        recurrent = [i for i in layer.inputs if i != X and not isinstance(flow.node(i), Layer)]
        scaling = [i for i in layer.inputs if isinstance(flow.node(i), Layer)]
        assert len(recurrent) == 1, layer
        u = values[recurrent[0]] @ p["weight_hh_l0"][rows].T + p["bias_hh_l0"][rows]
        for s in scaling:
            u = values[s] * u
        pre = x @ p["weight_ih_l0"][rows].T + p["bias_ih_l0"][rows] + u
        np.testing.assert_allclose(ACTIVATIONS[layer.activation](pre), values[layer.name],
                                   rtol=1e-12, atol=1e-12, err_msg=f"{arch} {layer.name}")


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_every_edge_s_local_derivative_matches_central_differences(arch):
    step = a_step(arch)
    flow = step.cell.dataflow
    values = flow.values(step.known())
    derivatives = flow.derivatives(values)
    eps = 1e-6
    for op in flow.ops:
        alone = Dataflow((), (op,))
        for i in op.inputs:
            up = alone.values({**values, i: values[i] + eps})[op.name]
            down = alone.values({**values, i: values[i] - eps})[op.name]
            np.testing.assert_allclose(derivatives[i, op.name], (up - down) / (2 * eps), rtol=1e-6,
                                       atol=1e-8, err_msg=f"{arch}: d {op.name} / d {i}")


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_the_layers_slopes_are_their_activations_derivatives(arch):
    step = a_step(arch)
    flow = step.cell.dataflow
    values = flow.values(step.known())
    for layer in flow.layers:
        y = torch.tensor(values[layer.name])
        pre = {SIGMA: torch.logit, TANH: torch.atanh, IDENTITY: lambda v: v}[layer.activation](y)
        pre = pre.clone().requires_grad_(True)
        act = {SIGMA: torch.sigmoid, TANH: torch.tanh, IDENTITY: lambda v: v}[layer.activation]
        act(pre).sum().backward()
        np.testing.assert_allclose(flow.slopes(values)[layer.name], pre.grad.numpy(), rtol=1e-6,
                                   atol=1e-9, err_msg=f"{arch} {layer.name}")


def one_step(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A step's gates and states (B, H) as a reading of one step, (1, B, H), for ``step_flow``."""
    return {name: a[None] for name, a in rows.items()}


def torch_cell(cell: Cell, module: type[torch.nn.Module], zero_recurrent: bool = False) -> torch.nn.Module:
    m = module(I, H, dtype=torch.float64)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(m, name).copy_(torch.tensor(cell.params[f"{name}_l0"]))
        if zero_recurrent:
            m.weight_hh.zero_()
    return m


def test_the_lstm_s_paths_from_c_prev_are_torch_s_derivatives():
    """c_{t-1} reaches c_t and h_t only through pointwise ops (no peepholes): the graph's paths
    are the whole derivatives, d c_t / d c_{t-1} = f_t and d h_t / d c_{t-1} = o_t tanh'(c_t) f_t."""
    step = a_step("lstm")
    flow = step_flow(cells.LSTM, one_step({**step.gates, "h": step.h_t, "c": step.c_t}), h0=step.h, c0=step.c)
    lstm = torch_cell(step.cell, torch.nn.LSTMCell)
    c_prev = torch.tensor(step.c, requires_grad=True)
    h_new, c_new = lstm(torch.tensor(step.x), (torch.tensor(step.h), c_prev))
    for out, name in ((c_new, "c"), (h_new, "h")):
        (grad,) = torch.autograd.grad(out.sum(), c_prev, retain_graph=True)  # diagonal: the sum suffices
        np.testing.assert_allclose(flow.path(C_PREV, name)[0], grad.numpy(), rtol=1e-10, err_msg=name)
    np.testing.assert_allclose(flow.memory_path[0], step.gates["f"], rtol=1e-12)


def test_the_gru_s_direct_path_is_torch_s_derivative_without_recurrent_weights():
    """With U = 0 the gates do not read h_{t-1}, and d h_t / d h_{t-1} is the direct path alone: z_t."""
    step = a_step("gru")
    gru = torch_cell(step.cell, torch.nn.GRUCell, zero_recurrent=True)
    h_prev = torch.tensor(step.h, requires_grad=True)
    out = gru(torch.tensor(step.x), h_prev)
    (grad,) = torch.autograd.grad(out.sum(), h_prev)
    params = {**step.cell.params, "weight_hh_l0": np.zeros_like(step.cell.params["weight_hh_l0"])}
    h_new, _, zeroed = cells.make_cell("gru", params).step(step.x, step.h)
    flow = step_flow(cells.GRU, one_step({**zeroed, "h": h_new}), h0=step.h)
    np.testing.assert_allclose(flow.path(H_PREV, "h")[0], grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(flow.memory_path[0], zeroed["z"], rtol=1e-12)


@pytest.mark.parametrize("arch", ["mgu", "lstm-nfg", "lstm-cifg"])
def test_the_direct_path_is_the_engine_s_step_derivative_without_recurrent_weights(arch):
    """Cells torch has no module for: central differences of the engine's own ``step`` in the
    memory state, the recurrent weights zero (so only the direct path is left)."""
    cell = cells.make_cell(arch, cells.init_params(arch, I, H, seed=3))
    params = {**cell.params, "weight_hh_l0": np.zeros_like(cell.params["weight_hh_l0"])}
    cell = cells.make_cell(arch, params)
    rng = np.random.default_rng(4)
    x, h, c = rng.normal(size=(B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    state = cell.memory_state
    eps = 1e-6

    def memory_after(shift: float) -> np.ndarray:
        h_t, c_t, _ = cell.step(x, h + (shift if state == "h" else 0), (c + (shift if state == "c" else 0))
                                if cell.has_cell_state else None)
        return c_t if state == "c" else h_t

    numeric = (memory_after(eps) - memory_after(-eps)) / (2 * eps)  # the diagonal: units do not mix
    h_t, c_t, gates = cell.step(x, h, c if cell.has_cell_state else None)
    rows = {**gates, "h": h_t, **({"c": c_t} if cell.has_cell_state else {})}
    flow = step_flow(type(cell), one_step(rows), h0=h, c0=c)
    np.testing.assert_allclose(flow.memory_path[0], numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_the_memory_path_is_the_cell_s_own(arch):
    cell = cells.make_cell(arch, cells.init_params(arch, I, H, seed=5))
    trace = cell.forward(np.random.default_rng(6).normal(size=(9, 2, I)))
    flow = step_flow(cell, trace)
    expected = cell.memory_path(trace)
    if expected is None:
        assert flow.memory_path is None  # the tanh RNN: h_{t-1} reaches h_t only through U
    else:
        np.testing.assert_allclose(flow.memory_path, expected, rtol=1e-12)


# The engine's own chain-rule factors (``Cell._local_derivatives``) as products along the graph:
# key -> (the layer whose slope comes first, or None; the node the path starts at; where it ends).
ENGINE_FACTORS = {
    "lstm": {"dh_to_dc": (None, "c", "h"), "dh_to_da_o": ("o", "o", "h")},
    "gru": {"dh_to_da_n": ("n", "n", "h"), "dh_to_da_z": ("z", "z", "h"), "z": (None, H_PREV, "h")},
    "rnn": {"dh_to_da": ("h", "h", "h")},
    "mgu": {"dh_to_da_n": ("n", "n", "h"), "dh_to_da_f": ("f", "f", "h")},
    "gru-reset-before": {"dh_to_da_n": ("n", "n", "h"), "dh_to_da_z": ("z", "z", "h"),
                         "z": (None, H_PREV, "h"), "drh_to_da_r": ("r", "r", "rh")},
    **{arch: {"dh_to_dc": (None, "c", "h")} for arch in cells.ARCHS if arch.startswith("lstm-")},
}
"""The MGU's dh_to_da_f is d h_t / d a_f directly, its path through the candidate's input f ⊙ h
left out, as the graph's path along the ops leaves it (it runs through the layer n)."""


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_products_along_the_graph_are_the_engine_s_own_chain_rule_factors(arch):
    cell = cells.make_cell(arch, cells.init_params(arch, I, H, seed=7))
    trace = cell.forward(np.random.default_rng(8).normal(size=(6, I)))
    flow = step_flow(cell, trace)
    local = cell._local_derivatives(trace)
    for key, (slope, start, end) in ENGINE_FACTORS[arch].items():
        factor = flow.path(start, end) * (flow.slopes[slope] if slope else 1.0)
        np.testing.assert_allclose(factor, np.asarray(local[key])[:, 0], rtol=1e-10, atol=1e-12,
                                   err_msg=f"{arch} {key}")
    if cell.has_cell_state:  # d c_t / d a_k = slope_k * (the path from gate k to c_t), blocks before o
        blocks = local["dc_to_da_ifg" if "dc_to_da_ifg" in local else "dc_to_da"][:, 0]  # (T, G', H)
        for k, gate in enumerate(g for g in cell.gate_names if g != "o"):
            np.testing.assert_allclose(flow.slopes[gate] * flow.path(gate, "c"), blocks[:, k],
                                       rtol=1e-10, atol=1e-12, err_msg=f"{arch} d c / d a_{gate}")


def test_the_variants_graphs_say_what_each_variant_changes():
    flows = {arch: cells.cell_class(arch).dataflow for arch in cells.ARCHS}
    assert flows["lstm"].formula("c") == "f × c_{t−1} + i × g"
    assert flows["lstm"].formula("h") == "o × tanh(c_t)"
    assert flows["lstm-nfg"].formula("c") == "c_{t−1} + i × g"  # no forget gate on the belt
    assert flows["lstm-nig"].formula("c") == "f × c_{t−1} + g"
    assert flows["lstm-cifg"].formula("c") == "f × c_{t−1} + (1 − f) × g"  # i is the op 1 − f
    assert isinstance(flows["lstm-cifg"].node("i"), Op)
    assert flows["lstm-nog"].formula("h") == "tanh(c_t)"
    assert flows["lstm-noaf"].formula("h") == "o × c_t"  # no tanh before the output
    assert flows["lstm-niaf"].node("g").activation == IDENTITY
    assert flows["gru"].formula("h") == "z × h_{t−1} + (1 − z) × n"
    assert flows["mgu"].formula("h") == "(1 − f) × h_{t−1} + f × n"
    assert flows["rnn"].ops == () and flows["rnn"].node("h").activation == TANH


def test_a_cell_whose_graph_does_not_make_its_states_is_refused_when_defined():
    with pytest.raises(TypeError, match="nothing makes the state 'h'"):
        type("Broken", (Cell,), {
            "arch": "broken", "display_name": "Broken", "paper": "", "gate_names": ("f",),
            "gates": (Gate("f", "forget gate f", "sigmoid", ""),), "equations": "", "equation_lines": (),
            "dataflow": Dataflow((Layer("f", SIGMA, (X, H_PREV)),), (Op("fh", MUL, ("f", H_PREV)),)),
        })
    with pytest.raises(TypeError, match="reads 'z' before it is made"):
        type("Broken", (Cell,), {
            "arch": "broken", "display_name": "Broken", "paper": "", "gate_names": ("f",),
            "gates": (Gate("f", "forget gate f", "sigmoid", ""),), "equations": "", "equation_lines": (),
            "dataflow": Dataflow((Layer("f", SIGMA, (X, H_PREV)),), (Op("h", MUL, ("f", "z")),)),
        })
    with pytest.raises(TypeError, match="not drawn as its role says"):
        type("Broken", (Cell,), {
            "arch": "broken", "display_name": "Broken", "paper": "", "gate_names": ("f",),
            "gates": (Gate("f", "forget gate f", "sigmoid", ""),), "equations": "", "equation_lines": (),
            "dataflow": Dataflow((Layer("f", TANH, (X, H_PREV)),), (Op("h", MUL, ("f", H_PREV)),)),
        })
