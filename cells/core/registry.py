"""The registry of cells (name -> class), ``make_cell`` from a torch-named parameter dict and
``init_params`` for fresh ones.

A new cell type is one file in cells/ (a :class:`~cells.base.Cell` subclass stating its facts) and
one line in :data:`CELLS`; every page then shows its gates, states, equations and gradients.
"""

from __future__ import annotations

import numpy as np

from cells.core.bidirectional import Bidirectional
from cells.core.cell import Cell
from cells.core.gru import GRU
from cells.core.gru_reset_before import GRUResetBefore
from cells.core.lstm import LSTM
from cells.core.lstm_variants import (
    LSTMCoupledGates,
    LSTMNoForgetGate,
    LSTMNoInputActivation,
    LSTMNoInputGate,
    LSTMNoOutputActivation,
    LSTMNoOutputGate,
)
from cells.core.mgu import MGU
from cells.core.rnn import RNN
from cells.core.stack import REVERSE, Stack, layer_count

CELLS: dict[str, type[Cell]] = {cls.arch: cls for cls in (
    LSTM,
    GRU,
    RNN,
    LSTMNoInputGate,
    LSTMNoForgetGate,
    LSTMNoOutputGate,
    LSTMNoInputActivation,
    LSTMNoOutputActivation,
    LSTMCoupledGates,
    MGU,
    GRUResetBefore,
)}
"""Every cell gatescope knows, by name."""
ARCHS = tuple(CELLS)
TORCH_ARCHS = tuple(name for name, cls in CELLS.items() if cls.torch_module)
"""The cells that are exactly a ``torch.nn`` module (LSTM, GRU, RNN with tanh)."""


def cell_class(arch: str) -> type[Cell]:
    """The registered class called ``arch``; a ValueError that lists the names for any other."""
    if arch not in CELLS:
        raise ValueError(f"unknown arch {arch!r}: choose one of {', '.join(ARCHS)}")
    return CELLS[arch]


def make_cell(arch: str, params: dict[str, np.ndarray]) -> Cell | Stack | Bidirectional:
    """A cell of kind ``arch`` (any name in :data:`CELLS`) with torch-named ``params``.

    The ``_l0`` keys of a one-layer ``torch.nn.LSTM/GRU/RNN`` give a single :class:`Cell`; keys
    ``_l0`` .. ``_l{L-1}`` (``num_layers=L``) give a :class:`~cells.stack.Stack` of L of them;
    keys with ``_reverse`` too (``bidirectional=True``) a :class:`~cells.core.bidirectional.
    Bidirectional`. An LSTM's ``weight_hr_l{k}`` (``proj_size``) makes it a projected LSTM.
    The dict is checked (keys, shapes, dtype, finiteness): a bad one is a ValueError naming the key.
    """
    cls = cell_class(arch)
    if isinstance(params, dict) and any(isinstance(k, str) and k.endswith(REVERSE) for k in params):
        return Bidirectional(cls, params)
    if isinstance(params, dict) and layer_count(params) > 1:
        return Stack(cls, params)
    return cls.for_params(params)(params) if isinstance(params, dict) else cls(params)


def init_params(
    arch: str,
    input_size: int,
    hidden_size: int,
    *,
    seed: int,
    forget_bias: float = 1.0,
    recurrent_radius: float | None = None,
    dtype: type = np.float64,
) -> dict[str, np.ndarray]:
    """Random parameters, PyTorch's scheme: every entry uniform on (-1/sqrt(H), 1/sqrt(H)).

    forget_bias: the bias of the cell's ``forget_bias_gate`` (the LSTM's f: bias_ih's block, with
        bias_hh's block 0), 1 by default as Jozefowicz, Zaremba & Sutskever (2015) recommend;
        ignored by a cell without one (GRU, RNN, LSTM-NFG). The MGU's f is a forget gate in the
        literal sense (f = 1 replaces h), so a positive bias there makes it forget faster.
    recurrent_radius: if given, each H x H gate block of weight_hh is rescaled to this spectral
        radius (largest |eigenvalue|): below 1 the plain RNN's gradient shrinks, above 1 it can grow.
    """
    cls = cell_class(arch)
    G = cls.blocks
    if input_size < 1 or hidden_size < 1:
        raise ValueError("input_size and hidden_size must be at least 1")
    rng = np.random.default_rng(seed)
    H, k = hidden_size, 1.0 / np.sqrt(hidden_size)
    params = {
        "weight_ih_l0": rng.uniform(-k, k, (G * H, input_size)),
        "weight_hh_l0": rng.uniform(-k, k, (G * H, H)),
        "bias_ih_l0": rng.uniform(-k, k, G * H),
        "bias_hh_l0": rng.uniform(-k, k, G * H),
    }
    if recurrent_radius is not None:
        for g in range(G):
            block = params["weight_hh_l0"][g * H : (g + 1) * H]
            block *= recurrent_radius / np.max(np.abs(np.linalg.eigvals(block)))
    if cls.forget_bias_gate is not None:
        set_gate_bias(cls, params, cls.forget_bias_gate, forget_bias)
    return {name: a.astype(dtype) for name, a in params.items()}


def set_gate_bias(cls: type[Cell], params: dict[str, np.ndarray], gate: str,
                  bias: float | np.ndarray) -> None:
    """Set ``gate``'s bias in place: ``bias_ih_l0``'s block of that gate to ``bias`` (a number or
    (H,)), ``bias_hh_l0``'s block to 0, so the gate's total bias is ``bias``."""
    H = params["weight_hh_l0"].shape[1]
    block = slice(cls.gate_names.index(gate) * H, (cls.gate_names.index(gate) + 1) * H)
    params["bias_ih_l0"][block] = bias
    params["bias_hh_l0"][block] = 0.0
