"""gatescope's engine: exact LSTM, GRU and tanh RNN cells in NumPy, with hand-written BPTT, and
Greff et al.'s six LSTM variants and the MGU (``cells.CELLS``; ``cells.TORCH_ARCHS`` are torch's).

    import cells
    cell = cells.make_cell("lstm", cells.init_params("lstm", input_size=8, hidden_size=16, seed=0))
    trace = cell.forward(x)              # x: (T, I) or (T, B, I)
    grads = cell.backward(trace, dh)     # dh: dL/dh_t at every t
    cells.jacobian_norms(cell, trace)    # log10 ||d h_{T-1} / d h_t||_F
    cells.step_flow(cell, trace)         # its step graph (Cell.dataflow) at every step, with derivatives

    stack = cells.make_cell("lstm", torch_lstm_state_dict)   # num_layers=L: a Stack of L cells
    cells.jacobian_norms(stack, stack.forward(x), layer=0)   # log10 ||d h^top_{T-1} / d h^(0)_t||_F
    both = cells.make_cell("gru", bidirectional_state_dict)  # *_reverse keys: a Bidirectional
    cells.jacobian_norms(both, both.forward(x), direction=1) # the backward direction's
    cells.read_model("model.safetensors")                    # .npz, .safetensors, .keras, by content

Parameters use PyTorch's names and gate orders, so a torch state_dict loads as it is. A model
that reads a sequence is a ``Reader`` (cell + encoder + optional readout); ``read_model`` reads
one from a file, ``pretrained`` gives the shipped ones.

This module is the facade: every public name, from the rooms below (each a subpackage with one
concern; the README's "Layout" section gives their import rules). Nothing inside ``cells/``
imports it.

    core     the cells' maths, stacks, registry, readout, Jacobians      (NumPy only)
    music    notation, rhythm, sound, tunes                              (NumPy only)
    models   encoders, Reader, sampling, character and melody models     (core, music)
    io       model files, vocabularies, read_model, pretrained, CSV      (core, models, music)
    train    tasks and the trainer                                       (core, models)
    science  gradients, interpretation, select-and-match, forecasts,     (any room below)
             claims, baselines
"""

from __future__ import annotations

from cells.core.bidirectional import Bidirectional, BidirectionalGrads, BidirectionalTrace
from cells.core.cell import CANDIDATE, SIGMOID, Cell, CellSizes, Gate, Grads, Trace
from cells.core.dataflow import Dataflow
from cells.core.diagnostics import (
    StepFlow,
    gate_saturation,
    jacobian_norms,
    jacobian_norms_by_layer,
    seconds_per_token,
    step_flow,
)
from cells.core.gru import GRU
from cells.core.gru_reset_before import GRUResetBefore
from cells.core.lstm import LSTM, ProjectedLSTM
from cells.core.readout import Readout, log_softmax
from cells.core.registry import ARCHS, CELLS, TORCH_ARCHS, cell_class, init_params, make_cell
from cells.core.rnn import RNN
from cells.core.stack import Stack, StackGrads, StackTrace
from cells.io.errors import WeightsFileError
from cells.io.files import read_arrays
from cells.io.keras import load_keras
from cells.io.layouts import from_keras
from cells.io.model_files import (
    MissingVocabularyError,
    cell_arrays,
    cell_from_arrays,
    load,
    read_model,
    save,
    save_model,
)
from cells.io.npz import load_arrays, save_arrays
from cells.io.pretrained import available_pretrained, pretrained, pretrained_meta
from cells.io.safetensors import load_safetensors
from cells.io.series_csv import Table, read_csv
from cells.models.charmodel import DEFAULT_VOCAB, CharModel
from cells.models.encoders import CharEncoder, CodePointEncoder, EmbeddingEncoder, NumberEncoder
from cells.models.melody import MelodyModel, NoteEncoder
from cells.models.reader import Read, Reader, state_after
from cells.models.sampling import Writing, write
from cells.music.notation import Melody, parse
from cells.science import claims, forecast, gradients, interpret, match
from cells.science.gradients import GradientProfile, gradient_profile
from cells.science.match import Match, match_spans, select_units
from cells.train.tasks import make_task
from cells.train.trainer import Trainer, TrainResult, train_task

__all__ = [
    "ARCHS",
    "CANDIDATE",
    "CELLS",
    "DEFAULT_VOCAB",
    "GRU",
    "LSTM",
    "RNN",
    "SIGMOID",
    "TORCH_ARCHS",
    "Bidirectional",
    "BidirectionalGrads",
    "BidirectionalTrace",
    "Cell",
    "CellSizes",
    "CharEncoder",
    "CharModel",
    "CodePointEncoder",
    "Dataflow",
    "EmbeddingEncoder",
    "GRUResetBefore",
    "Gate",
    "GradientProfile",
    "Grads",
    "Match",
    "Melody",
    "MelodyModel",
    "MissingVocabularyError",
    "NoteEncoder",
    "NumberEncoder",
    "ProjectedLSTM",
    "Read",
    "Reader",
    "Readout",
    "Stack",
    "StackGrads",
    "StackTrace",
    "StepFlow",
    "Table",
    "Trace",
    "TrainResult",
    "Trainer",
    "WeightsFileError",
    "Writing",
    "available_pretrained",
    "cell_arrays",
    "cell_class",
    "cell_from_arrays",
    "claims",
    "forecast",
    "from_keras",
    "gate_saturation",
    "gradient_profile",
    "gradients",
    "init_params",
    "interpret",
    "jacobian_norms",
    "jacobian_norms_by_layer",
    "load",
    "load_arrays",
    "load_keras",
    "load_safetensors",
    "log_softmax",
    "make_cell",
    "make_task",
    "match",
    "match_spans",
    "parse",
    "pretrained",
    "pretrained_meta",
    "read_arrays",
    "read_csv",
    "read_model",
    "save",
    "save_arrays",
    "save_model",
    "seconds_per_token",
    "select_units",
    "state_after",
    "step_flow",
    "train_task",
    "write",
]
