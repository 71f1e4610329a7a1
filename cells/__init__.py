"""gatescope's engine: exact LSTM, GRU and tanh RNN cells in NumPy, with hand-written BPTT, and
Greff et al.'s six LSTM variants and the MGU (``cells.CELLS``; ``cells.TORCH_ARCHS`` are torch's).

    import cells
    cell = cells.make_cell("lstm", cells.init_params("lstm", input_size=8, hidden_size=16, seed=0))
    trace = cell.forward(x)              # x: (T, I) or (T, B, I)
    grads = cell.backward(trace, dh)     # dh: dL/dh_t at every t
    cells.jacobian_norms(cell, trace)    # log10 ||d h_{T-1} / d h_t||_F

    stack = cells.make_cell("lstm", torch_lstm_state_dict)   # num_layers=L: a Stack of L cells
    cells.jacobian_norms(stack, stack.forward(x), layer=0)   # log10 ||d h^top_{T-1} / d h^(0)_t||_F
    cells.read_model("model.safetensors")                    # .npz, .safetensors, .keras, by content

Parameters use PyTorch's names and gate orders, so a torch state_dict loads as it is. A model
that reads a sequence is a ``Reader`` (cell + encoder + optional readout); ``read_model`` reads
one from a file, ``pretrained`` gives the shipped ones.
"""

from __future__ import annotations

from cells import formats, weights
from cells.base import CANDIDATE, SIGMOID, Cell, CellSizes, Gate, Grads, Trace
from cells.charmodel import CharModel, CharTrace
from cells.diagnostics import gate_saturation, jacobian_norms, jacobian_norms_by_layer, seconds_per_token
from cells.factory import ARCHS, CELLS, TORCH_ARCHS, cell_class, init_params, make_cell
from cells.gru import GRU
from cells.lstm import LSTM
from cells.pretrained import available_pretrained, pretrained, pretrained_meta
from cells.readers import (
    CharEncoder,
    CodePointEncoder,
    EmbeddingEncoder,
    NumberEncoder,
    Read,
    Reader,
    Writing,
    read_model,
    write,
)
from cells.rnn import RNN
from cells.stack import Stack, StackGrads, StackTrace
from cells.train import TrainResult, train_task
from cells.weights import (
    WeightsFileError,
    cell_arrays,
    cell_from_arrays,
    from_keras,
    load,
    load_arrays,
    save,
    save_arrays,
)

__all__ = [
    "ARCHS",
    "CANDIDATE",
    "CELLS",
    "GRU",
    "LSTM",
    "RNN",
    "SIGMOID",
    "TORCH_ARCHS",
    "Cell",
    "CellSizes",
    "CharEncoder",
    "CharModel",
    "CharTrace",
    "CodePointEncoder",
    "EmbeddingEncoder",
    "Gate",
    "Grads",
    "NumberEncoder",
    "Read",
    "Reader",
    "Stack",
    "StackGrads",
    "StackTrace",
    "Trace",
    "TrainResult",
    "WeightsFileError",
    "Writing",
    "available_pretrained",
    "cell_arrays",
    "cell_class",
    "cell_from_arrays",
    "formats",
    "from_keras",
    "gate_saturation",
    "init_params",
    "jacobian_norms",
    "jacobian_norms_by_layer",
    "load",
    "load_arrays",
    "make_cell",
    "pretrained",
    "pretrained_meta",
    "read_model",
    "save",
    "save_arrays",
    "seconds_per_token",
    "train_task",
    "weights",
    "write",
]
