"""Building cells: ``make_cell`` from a torch-named parameter dict, ``init_params`` for fresh ones."""

from __future__ import annotations

import numpy as np

from cells.base import Cell
from cells.gru import GRU
from cells.lstm import LSTM
from cells.rnn import RNN

CELLS: dict[str, type[Cell]] = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
ARCHS = tuple(CELLS)


def _cell_class(arch: str) -> type[Cell]:
    if arch not in CELLS:
        raise ValueError(f"unknown arch {arch!r}: choose one of {', '.join(ARCHS)}")
    return CELLS[arch]


def make_cell(arch: str, params: dict[str, np.ndarray]) -> Cell:
    """A cell of kind ``arch`` ("lstm" | "gru" | "rnn") with torch-named ``params``.

    The dict is checked (keys, shapes, dtype, finiteness): a bad one is a ValueError naming the key.
    """
    return _cell_class(arch)(params)


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

    forget_bias: the LSTM's forget-gate bias (bias_ih's f block; bias_hh's f block is 0), 1 by
        default as Jozefowicz, Zaremba & Sutskever (2015) recommend; ignored by the GRU and RNN.
    recurrent_radius: if given, each H x H gate block of weight_hh is rescaled to this spectral
        radius (largest |eigenvalue|): below 1 the plain RNN's gradient shrinks, above 1 it can grow.
    """
    G = _cell_class(arch).blocks
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
    if arch == "lstm":
        f = slice(H, 2 * H)
        params["bias_ih_l0"][f] = forget_bias
        params["bias_hh_l0"][f] = 0.0
    return {name: a.astype(dtype) for name, a in params.items()}
