"""Layouts: which arrays of a model file are its recurrent layers, embedding and head.

Every format comes to one dict of arrays under PyTorch's names, sorted here into its parts.

Recurrent layers (required): ``torch.nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (tanh), any
``num_layers`` up to :data:`MAX_LAYERS`: ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
``bias_hh_l{k}``, bare or under one module prefix (``rnn.``, ``lstm.``, ``encoder.rnn.``, ...);
bidirectional (the same names with ``_reverse``), an LSTM's projection (``weight_hr_l{k}``,
``proj_size``), no biases at all (``bias=False``: read as zeros, and said). ``.npz`` files also
carry ``arch`` and may use Keras's ``kernel``, ``recurrent_kernel``, ``bias`` or
``nn.LSTMCell``'s names.

Embedding (optional, ``nn.Embedding``'s weight (V, E)): ``encoder.weight`` (PyTorch's
word_language_model and char-rnn.pytorch), ``embedding.weight``, ``embeddings.weight``,
``embed.weight``, ``emb.weight``.

Head (optional, ``nn.Linear``'s weight (O, H) and bias (O,), H the recurrent layers' output
width, 2H for both directions): ``decoder.``, ``fc.``, ``linear.``, ``head.``, ``out.``,
``output.``, ``hidden2out.``, ``classifier.``, ``readout.`` + ``weight`` and ``bias``. A head
whose outputs are not the vocabulary is a classifier (``cells.models.reader.Reader``).

A whole state_dict under a wrapper's prefix (``module.``: DataParallel; ``_orig_mod.``:
torch.compile; ``model.``: a LightningModule's ``self.model``; or several of them) is read
without it, and said (:attr:`ModelParts.notes`). Any other key is refused with a message naming it.
The architecture: ``arch`` (``__metadata__`` of a ``.safetensors`` file, the ``arch`` array of an
``.npz``); without it, a state_dict is read by its block count, rows of ``weight_ih_l0`` over
columns of ``weight_hh_l0`` (of ``weight_hr_l0`` for a projected LSTM): 4 is an LSTM, 3 a GRU, 1
a tanh RNN (an ``nn.RNN(nonlinearity="relu")`` cannot be told apart: mark it, and it is refused).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from cells.core.registry import ARCHS, CELLS, TORCH_ARCHS
from cells.io.errors import WeightsFileError
from cells.io.npz import NPZ
from cells.io.vocab import VOCAB_KEY, parse_vocab

MAX_HIDDEN = 1024
"""Most hidden units per layer a file may have."""
MAX_LAYERS = 4
"""Most stacked layers a file may have."""

EMBEDDING_KEYS = ("encoder.weight", "embedding.weight", "embeddings.weight", "embed.weight", "emb.weight")
HEAD_PREFIXES = ("decoder.", "fc.", "linear.", "head.", "out.", "output.", "hidden2out.", "classifier.",
                 "readout.")
WRAPPERS = {"module.": "torch.nn.DataParallel or DistributedDataParallel",
            "_orig_mod.": "torch.compile", "model.": "a wrapper module, such as a LightningModule's "
            "self.model"}
"""Prefixes a training wrapper puts on every key of a state_dict, and who puts them there."""
EMBEDDING_KEY, HEAD_WEIGHT, HEAD_BIAS = "embedding.weight", "head.weight", "head.bias"  # canonical
KERAS_KEYS = ("kernel", "recurrent_kernel", "bias")
"""An ``.npz`` of one Keras layer's ``get_weights()``."""
CELL_STYLE_NAMES = {"weight_ih": "weight_ih_l0", "weight_hh": "weight_hh_l0",
                    "bias_ih": "bias_ih_l0", "bias_hh": "bias_hh_l0"}  # torch.nn.LSTMCell & co.
RNN_KEY = re.compile(
    r"(?P<prefix>(?:[A-Za-z_][A-Za-z0-9_]*\.)*)(?P<name>weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)"
    r"_l(?P<k>\d+)(?P<reverse>_reverse)?")
SAVE_LINE = 'save_file(sd, "model.safetensors")'
"""The safetensors line every fix ends with (``sd``: the state_dict to save)."""


def shape_checker(max_hidden: int, max_layers: int) -> Callable[[Mapping[str, tuple[int, ...]]], None]:
    """A check of a file's declared shapes (name -> shape), run before its data is read: at most
    ``max_layers`` layers of at most ``max_hidden`` units."""

    def check(shapes: Mapping[str, tuple[int, ...]]) -> None:
        layers = {int(m["k"]) for key in shapes if (m := RNN_KEY.fullmatch(key))}
        if len(layers) > max_layers or any(k >= max_layers for k in layers):
            raise WeightsFileError(f"the model has {max(layers) + 1} layers; at most {max_layers} are read")
        for key, shape in shapes.items():
            m = RNN_KEY.fullmatch(key)
            hidden = None
            if m and m["name"] in ("weight_hh", "weight_hr") and len(shape) == 2:
                hidden = shape[1]
            elif key in ("weight_hh", "recurrent_kernel") and len(shape) == 2:
                hidden = shape[1] if key == "weight_hh" else shape[0]
            if hidden is not None and hidden > max_hidden:
                raise WeightsFileError(f"{key}: the model has {hidden:,} hidden units; at most "
                                       f"{max_hidden:,} are read")

    return check


@dataclass(frozen=True, eq=False)
class ModelParts:
    """A model file's arrays sorted into its parts, under canonical names.

    params: the recurrent layers' torch-named parameters (``weight_ih_l0`` ...); embedding: (V, E)
    or None; head: (weight (O, H), bias (O,)) or None; vocab: the file's tokens or None; unit:
    "char", "word" or None (not said); notes: what was read differently from the file as it is
    (a wrapper's prefix stripped, zero biases), in words.
    """

    arch: str
    params: dict[str, np.ndarray]
    embedding: np.ndarray | None = None
    head: tuple[np.ndarray, np.ndarray] | None = None
    vocab: tuple[str, ...] | None = None
    unit: str | None = None
    notes: tuple[str, ...] = ()


def model_parts(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any], kind: str) -> ModelParts:
    """Sort a file's arrays (``read_arrays``) into recurrent layers, embedding, head and vocabulary,
    by the layouts of the module docstring. Unknown keys are refused, named."""
    rest, notes = strip_wrappers(dict(arrays))
    vocab_array = rest.pop(VOCAB_KEY, None)
    embedding = None
    found = [k for k in EMBEDDING_KEYS if k in rest]
    if len(found) > 1:
        raise WeightsFileError(f"{describe(rest)}: it holds two embeddings, {' and '.join(found)}, and "
                               "gatescope reads one before the recurrent layers")
    if found:
        embedding = rest.pop(found[0])
        if embedding.ndim != 2 or embedding.dtype.kind != "f":
            raise WeightsFileError(f"{found[0]}: an embedding is a float (V, E) matrix, got "
                                   f"{embedding.shape}")
    heads = [p for p in HEAD_PREFIXES if f"{p}weight" in rest]
    if len(heads) > 1:
        raise WeightsFileError(f"{describe(rest)}: it holds two heads, "
                               f"{' and '.join(p + 'weight' for p in heads)}, and gatescope reads one "
                               "linear head on the recurrent layers' output")
    head = None
    if heads:
        p = heads[0]
        if f"{p}bias" not in rest:
            raise WeightsFileError(f"{describe(rest)}: its head {p}weight has no {p}bias "
                                   "(nn.Linear(bias=False)); save a zero bias beside it",
                                   fix=f'sd["{p}bias"] = torch.zeros(sd["{p}weight"].shape[0])\n{SAVE_LINE}')
        head = (rest.pop(f"{p}weight"), rest.pop(f"{p}bias"))
        if embedding is not None and np.array_equal(head[0], embedding):
            notes.append(f"the head's weight {p}weight equals the embedding {found[0]} (tied weights): "
                         "read as both")
    params, more = _recurrent_params(rest, kind)
    arch = _arch_of(params, meta, rest.pop("arch", None), kind)
    if kind == NPZ:
        params = _torch_names(params, arch)
    vocab = parse_vocab(vocab_array if vocab_array is not None else meta.get(VOCAB_KEY))
    unit = meta.get("unit")
    if unit not in (None, "char", "word"):
        raise WeightsFileError(f"unit must be 'char' or 'word', got {str(unit)[:20]!r}")
    return ModelParts(arch, params, embedding, head, vocab, unit, (*notes, *more))


def strip_wrappers(arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[str]]:
    """``arrays`` without the prefixes a training wrapper put on every key (:data:`WRAPPERS`, one
    after another: ``module._orig_mod.``), and a note for each one stripped."""
    notes = []
    while True:
        keys = [k for k in arrays if k not in (VOCAB_KEY, "arch")]
        wrapper = next((w for w in WRAPPERS if keys and all(k.startswith(w) for k in keys)), None)
        if wrapper is None:
            return arrays, notes
        arrays = {k.removeprefix(wrapper) if k in keys else k: a for k, a in arrays.items()}
        notes.append(f"every key was under {wrapper!r} ({WRAPPERS[wrapper]}): read without it")


def describe(arrays: Mapping[str, Any], arch: str | None = None) -> str:
    """What a file's recurrent layers are, in words, from their names and shapes alone (before
    they are checked): "a state_dict with a 2-layer bidirectional GRU of 64 units"."""
    found = [m for key in arrays if (m := RNN_KEY.fullmatch(key))]
    if not found:
        return "a file with no recurrent layer"
    layers = 1 + max(int(m["k"]) for m in found)
    bidirectional = any(m["reverse"] for m in found)
    shapes = {m["name"]: np.shape(arrays[m.string]) for m in found if m["k"] == "0" and not m["reverse"]}
    W_ih, W_hh, W_hr = shapes.get("weight_ih", ()), shapes.get("weight_hh", ()), shapes.get("weight_hr", ())
    units = W_hr[1] if len(W_hr) == 2 else W_hh[1] if len(W_hh) == 2 else None
    if arch is None and units and len(W_ih) == 2:
        arch = {CELLS[a].blocks: a for a in TORCH_ARCHS}.get(W_ih[0] / units)
    name = CELLS[arch].display_name if arch in CELLS else "recurrent module"
    words = f"{f'{layers}-layer ' if layers > 1 else ''}{'bidirectional ' if bidirectional else ''}{name}"
    article = "an" if words[0] in "AEFHILMNORSX8" else "a"  # as the word is read: "an LSTM", "an RNN"
    what = f"{article} {words}{f' of {units} units' if units else ''}"
    if len(W_hr) == 2:
        what += f" projected to {W_hr[0]}"
    if not any(m["name"].startswith("bias") for m in found):
        what += " without biases"
    return what


def _recurrent_params(rest: dict[str, np.ndarray], kind: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """Take the recurrent layers' arrays out of ``rest`` (under one module prefix); refuse what is
    left. Layers without biases (``bias=False``) get zero biases, and a note says so."""
    prefixes = {m["prefix"] for key in rest if (m := RNN_KEY.fullmatch(key))}
    if len(prefixes) > 1:
        raise WeightsFileError(f"{describe(rest)}: its recurrent layers sit under several modules "
                               f"({', '.join(sorted(prefixes))}), and gatescope reads one recurrent "
                               "module (a stack of layers is one nn.LSTM with num_layers)")
    prefix = prefixes.pop() if prefixes else ""
    params = {key[len(prefix):]: rest.pop(key) for key in list(rest)
              if key.startswith(prefix) and RNN_KEY.fullmatch(key[len(prefix):])}
    if kind == NPZ:  # the npz reader's own names: nn.LSTMCell's and Keras's
        for key in (*CELL_STYLE_NAMES, *KERAS_KEYS):
            if key in rest:
                params[key] = rest.pop(key)
    leftover = sorted(k for k in rest if k != "arch")
    if leftover:
        modules = sorted({k.rsplit(".", 1)[0] + "." if "." in k else k for k in leftover})
        raise WeightsFileError(
            f"{describe(params)} with other modules beside it ({', '.join(modules[:8])}"
            f"{' ...' if len(modules) > 8 else ''}): gatescope reads an embedding (encoder.weight, "
            "embedding.weight, ...), the recurrent layers and one linear head (decoder., fc., "
            "linear., head., out., classifier.), so a model that computes anything else is not "
            "read. If your model is embedding -> recurrent layers -> linear head, save those alone "
            "under the names above",
            fix='keep = ("embedding", "rnn", "fc")  # your embedding, recurrent and head modules\n'
                'sd = {k: v for k, v in model.state_dict().items() if k.split(".")[0] in keep}\n'
                + SAVE_LINE)
    if not params:
        raise WeightsFileError("the file holds no recurrent layer: no weight_ih_l0 (or rnn.weight_ih_l0 ...)")
    notes = []
    if not any(k.startswith("bias") for k in params):
        for key in [k for k in params if k.startswith("weight_ih")]:
            for side in ("bias_ih", "bias_hh"):
                params[key.replace("weight_ih", side)] = np.zeros(params[key].shape[0], params[key].dtype)
        if any(k.startswith("weight_ih") for k in params):
            notes.append("the recurrent layers have no biases (bias=False): read with zero biases")
    return params, notes


def _torch_names(params: dict[str, np.ndarray], arch: str) -> dict[str, np.ndarray]:
    """An npz's parameters under PyTorch's names: Keras's converted, nn.LSTMCell's renamed."""
    if any(k in params for k in KERAS_KEYS):
        return from_keras(arch, *keras_arrays(params))
    renamed = {CELL_STYLE_NAMES.get(k, k): a for k, a in params.items()}
    if len(renamed) < len(params):
        raise WeightsFileError("the file holds a parameter both with and without the _l0 suffix")
    return renamed


def _arch_of(params: dict[str, np.ndarray], meta: Mapping[str, Any], arch_array: Any, kind: str) -> str:
    """The arch from the file's marker, or for a safetensors state_dict from its block count."""
    if kind == NPZ:
        return arch_marker(arch_array, meta.get("arch"))
    if meta.get("nonlinearity", "tanh") != "tanh":
        raise WeightsFileError(f"{describe(params, 'rnn')} with nonlinearity={meta['nonlinearity']!r}: "
                               "gatescope reads the tanh RNN only (its pages explain tanh's slope)")
    if meta.get("arch") is not None:
        gate_blocks(meta["arch"])
        return meta["arch"]
    W_ih, W_hh, W_hr = params.get("weight_ih_l0"), params.get("weight_hh_l0"), params.get("weight_hr_l0")
    if W_ih is None or W_hh is None or W_ih.ndim != 2 or W_hh.ndim != 2 or W_hh.shape[1] == 0:
        raise WeightsFileError(f"{describe(params)}: weight_ih_l0 or weight_hh_l0 is missing or not a "
                               "matrix, so its architecture cannot be told")
    units = W_hr.shape[1] if W_hr is not None and W_hr.ndim == 2 else W_hh.shape[1]
    arch = {CELLS[a].blocks: a for a in TORCH_ARCHS}.get(W_ih.shape[0] / units)  # 4, 3, 1 blocks
    if arch is None:
        raise WeightsFileError(
            f"{describe(params)}: weight_ih_l0 has {W_ih.shape[0]} rows for {units} units, not 4H "
            "(LSTM), 3H (GRU) or H (RNN), so its architecture cannot be told; say it in the metadata",
            fix=f'{SAVE_LINE.removesuffix(")")}, metadata={{"arch": "lstm"}})  # or "gru", "rnn"')
    return arch


def gate_blocks(arch: object) -> int:
    """G, the number of gate blocks of ``arch``; a ValueError for an unknown arch."""
    if not isinstance(arch, str) or arch not in CELLS:  # a JSON list from a file's meta is unhashable
        raise ValueError(f"unknown arch {str(arch)[:100]!r}: choose one of {', '.join(ARCHS)}")
    return CELLS[arch].blocks


def arch_marker(member: np.ndarray | None, from_meta: object) -> str:
    """The arch, from the ``arch`` member and/or meta's "arch"; they must agree."""
    found = []
    if member is not None:
        if member.dtype != np.uint8 or member.ndim != 1:
            raise WeightsFileError(
                f"array 'arch' must be ASCII bytes in a uint8 array, e.g. np.frombuffer(b'lstm', np.uint8); "
                f"got dtype {member.dtype}, shape {member.shape}"
            )
        found.append(member.tobytes().decode("ascii", errors="replace"))
    if from_meta is not None:
        found.append(from_meta)
    if not found:
        raise WeightsFileError(
            "the file does not say its architecture: add arch=np.frombuffer(b'lstm', np.uint8) "
            "(or b'gru', b'rnn')"
        )
    if len(found) == 2 and found[0] != found[1]:
        raise WeightsFileError(f"the 'arch' array says {found[0]!r} but the metadata says {found[1]!r}")
    gate_blocks(found[0])
    return found[0]


def keras_arrays(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    if sorted(arrays) != sorted(KERAS_KEYS):
        raise WeightsFileError(
            f"a Keras weights file holds exactly {', '.join(KERAS_KEYS)} (and arch); "
            f"this one holds {', '.join(sorted(arrays))}"
        )
    return tuple(arrays[k] for k in KERAS_KEYS)


def from_keras(arch: str, kernel: np.ndarray, recurrent_kernel: np.ndarray,
               bias: np.ndarray) -> dict[str, np.ndarray]:
    """A Keras layer's weights (``layer.get_weights()``) -> torch-named parameters for ``arch``.

    ``arch`` "lstm": ``keras.layers.LSTM``, kernel (I, 4U) blocks i f c o, recurrent_kernel (U, 4U),
    bias (4U,). "gru": ``keras.layers.GRU`` with ``reset_after=True`` (the default), blocks z r h,
    bias (2, 3U): row 0 the input bias, row 1 the recurrent bias. Keras's GRU computes
    h = z*h_prev + (1-z)*tanh(x W_h + b_xh + r*(h_prev U_h + b_hh)), PyTorch's equations exactly.
    "gru-reset-before": ``keras.layers.GRU(reset_after=False)``, blocks z r h, bias (3U,).
    "rnn": ``keras.layers.SimpleRNN`` (tanh). A single Keras bias becomes ``bias_ih_l0`` and
    ``bias_hh_l0`` is zero. Default activations are assumed (sigmoid gates, tanh): the weights
    cannot tell. For a layer without bias, pass zeros.
    """
    G = gate_blocks(arch)
    if CELLS[arch].keras_blocks is None:
        raise ValueError(f"Keras has no layer for the {CELLS[arch].display_name} cell")
    kernel, recurrent_kernel, bias = (np.asarray(a) for a in (kernel, recurrent_kernel, bias))
    if recurrent_kernel.ndim != 2 or recurrent_kernel.shape[1] != G * recurrent_kernel.shape[0]:
        raise ValueError(
            f"recurrent_kernel: a Keras {arch} has shape (U, {G}*U), got {recurrent_kernel.shape}")
    U = recurrent_kernel.shape[0]
    if kernel.ndim != 2 or kernel.shape[1] != G * U:
        raise ValueError(f"kernel: expected shape (I, {G * U}) for U={U}, got {kernel.shape}")
    rows = CELLS[arch].keras_bias_rows
    if rows == 2 and bias.shape == (G * U,):
        raise ValueError(
            "bias has shape (3U,): this Keras GRU was built with reset_after=False, which applies "
            "the reset gate before the recurrent matmul: its arch is 'gru-reset-before' (PyTorch's "
            "GRU, arch 'gru', is Keras's reset_after=True)"
        )
    bias_shape = (rows, G * U) if rows > 1 else (G * U,)
    if bias.shape != bias_shape:
        raise ValueError(f"bias: expected shape {bias_shape} for a Keras {arch} with U={U}, got {bias.shape}")
    b_x, b_h = bias if rows > 1 else (bias, np.zeros_like(bias))
    order = list(CELLS[arch].keras_blocks)  # torch's block k is Keras's block order[k]

    def torch_order(a: np.ndarray) -> np.ndarray:  # (..., G*U) Keras blocks -> PyTorch blocks
        return a.reshape(*a.shape[:-1], G, U)[..., order, :].reshape(a.shape)

    return {
        "weight_ih_l0": np.ascontiguousarray(torch_order(kernel).T),  # (G*U, I)
        "weight_hh_l0": np.ascontiguousarray(torch_order(recurrent_kernel).T),  # (G*U, U)
        "bias_ih_l0": torch_order(b_x),  # (G*U,)
        "bias_hh_l0": torch_order(b_h),  # (G*U,)
    }
