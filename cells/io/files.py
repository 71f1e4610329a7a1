"""Model files by content: ``.npz``, ``.safetensors``, Keras 3 ``.keras``; pickles refused.

A file's kind is read from its bytes, never from its name:

* a zip holding ``config.json`` and ``model.weights.h5``: a Keras 3 ``.keras`` archive;
* a zip holding a ``data.pkl`` (``torch.save``), or bytes starting with a pickle's 0x80: refused,
  never unpickled, with the two lines that convert a PyTorch model (:data:`CONVERT_SNIPPET`);
* 8 bytes of header length and a JSON header: a ``.safetensors`` file;
* any other zip (and anything else, to say why not): an ``.npz`` (``cells.weights``).

Layouts read
------------
Every format comes to one dict of arrays under PyTorch's names, read as follows.

Recurrent layers (required): ``torch.nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (tanh), unidirectional,
with biases, any ``num_layers`` up to :data:`MAX_LAYERS`: ``weight_ih_l{k}``, ``weight_hh_l{k}``,
``bias_ih_l{k}``, ``bias_hh_l{k}``, bare or under one module prefix ``rnn.``, ``lstm.``, ``gru.``,
``encoder_rnn.`` or ``cell.`` (``model.rnn.`` and the like are not read). ``.npz`` files read as
``cells.weights`` describes (``arch`` required; Keras's ``kernel``, ``recurrent_kernel``, ``bias``
and ``nn.LSTMCell``'s names too).

Embedding (optional, ``nn.Embedding``'s weight (V, E)): ``encoder.weight`` (PyTorch's
word_language_model and char-rnn.pytorch), ``embedding.weight``, ``embeddings.weight``,
``embed.weight``, ``emb.weight``.

Head (optional, ``nn.Linear``'s weight (V, H) and bias (V,)): ``decoder.``, ``fc.``,
``linear.``, ``head.``, ``out.``, ``output.``, ``hidden2out.``, ``readout.`` + ``weight`` and
``bias``.

Any other key is refused with a message naming it (``weight_hr_l0`` of ``proj_size``,
``*_reverse`` of a bidirectional module, a second head, ...).

The architecture: ``arch`` (``__metadata__`` of a ``.safetensors`` file, the ``arch`` array of an
``.npz``); without it, a ``.safetensors`` state_dict is read by its block count, rows of
``weight_ih_l0`` over columns of ``weight_hh_l0``: 4 is an LSTM, 3 a GRU, 1 a tanh RNN (an
``nn.RNN(nonlinearity="relu")`` cannot be told apart: mark it, and it is refused).

The vocabulary of a model with an embedding: ``__metadata__["vocab"]`` of a ``.safetensors``
file (a JSON list of tokens, or else a string whose characters are the tokens), an ``.npz``
``vocab`` array (UTF-8 text in uint8, the same two forms; or int code points), or
``read_model(src, vocab=...)``: a list of tokens, a token -> id dict, or a file or its bytes
holding either as JSON or one token per line. ``unit`` ("char" or "word", metadata) says how text
is split; without it, a vocabulary of single characters (and ``<...>`` specials) is "char".

Keras 3 ``.keras``: a ``Sequential`` of ``LSTM``, ``GRU`` (``reset_after=True``) or
``SimpleRNN`` layers (one kind, equal units, default activations, ``go_backwards=False``, every
layer but the last with ``return_sequences=True``), optionally an ``Embedding`` first
(``mask_zero=False``) and a ``Dense`` last (``linear`` or ``softmax``); ``InputLayer`` and
``Dropout`` (the identity when reading) may appear. The layer list comes from ``config.json``
(nothing in it is deserialised or run); the weights from ``model.weights.h5``
(``layers/<lstm|lstm_1|...>/cell/vars/0..2``, ``layers/embedding/vars/0``,
``layers/dense/vars/0..1``), read with h5py from memory.

Limits, checked before anything large is allocated: ``max_bytes`` of array data
(``weights.DEFAULT_MAX_BYTES``), :data:`MAX_HIDDEN` units, :data:`MAX_LAYERS` layers.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cells import weights
from cells.factory import CELLS, TORCH_ARCHS
from cells.weights import WeightsFileError, _refusing, refuse_constant

MAX_HIDDEN = 1024
"""Most hidden units per layer a file may have."""
MAX_LAYERS = 4
"""Most stacked layers a file may have."""
MAX_HEADER_BYTES = 2**24
"""Largest ``.safetensors`` JSON header read."""
MAX_CONFIG_BYTES = 2**20
"""Largest Keras ``config.json`` read."""
MAX_VOCAB_BYTES = 2**22
"""Largest vocabulary file or metadata entry read."""

CONVERT_SNIPPET = """\
from safetensors.torch import save_file
save_file(model.state_dict(), "model.safetensors")
"""
PICKLE_MESSAGE = (
    "this is a pickle (PyTorch's torch.save: .pt, .pth, .ckpt), which can run code when loaded, so it "
    "is never loaded; save the state_dict as safetensors instead:\n" + CONVERT_SNIPPET)

NPZ, SAFETENSORS, KERAS = "npz", "safetensors", "keras"

RNN_PREFIXES = ("", "rnn.", "lstm.", "gru.", "encoder_rnn.", "cell.")
EMBEDDING_KEYS = ("encoder.weight", "embedding.weight", "embeddings.weight", "embed.weight", "emb.weight")
HEAD_PREFIXES = ("decoder.", "fc.", "linear.", "head.", "out.", "output.", "hidden2out.", "readout.")
EMBEDDING_KEY, HEAD_WEIGHT, HEAD_BIAS = "embedding.weight", "head.weight", "head.bias"  # canonical
VOCAB_KEY = "vocab"
_RNN_KEY = re.compile(
    r"(?P<prefix>(?:[A-Za-z_][A-Za-z0-9_]*\.)*)(?P<name>weight_ih|weight_hh|bias_ih|bias_hh)_l(?P<k>\d+)")

# safetensors dtypes read: floats (F16 becomes float32) and the integers and bools of a vocabulary.
_ST_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BOOL": np.bool_,
              "I8": np.int8, "I16": np.int16, "I32": np.int32, "I64": np.int64,
              "U8": np.uint8, "U16": np.uint16, "U32": np.uint32, "U64": np.uint64}
_ST_KEY = re.compile(r"[A-Za-z0-9_.\-/:]{1,200}")


# -- what kind of file ------------------------------------------------------------------------------


def sniff(data: bytes) -> str:
    """The kind of file ``data`` is, from its bytes: "npz", "safetensors", "keras" or "pickle"
    ("npz" also for what is none of these, so that the npz reader says what is wrong)."""
    if data[:1] == b"\x80":
        return "pickle"
    if data[:2] == b"PK":
        names = _zip_names(data)
        if any(n == "data.pkl" or n.endswith("/data.pkl") or n.endswith(".pkl") for n in names):
            return "pickle"
        if "config.json" in names or "model.weights.h5" in names:
            return KERAS
        return NPZ
    if len(data) >= 9 and data[8:9] == b"{":
        return SAFETENSORS
    return NPZ


def _zip_names(data: bytes) -> list[str]:
    f = io.BytesIO(data)
    weights._check_zip_directory(f)
    with _refusing("not a valid zip archive"), zipfile.ZipFile(f) as zf:
        return zf.namelist()


def read_arrays(src: weights.Source, *, max_bytes: int = weights.DEFAULT_MAX_BYTES,
                max_hidden: int = MAX_HIDDEN, max_layers: int = MAX_LAYERS) -> tuple[dict, dict, str]:
    """Any model file -> (arrays under the file's names, meta dict, kind). Keras archives come back
    under PyTorch's names (see the module docstring). Any bad file is a ``WeightsFileError``."""
    with weights._readable(src, max_bytes) as f:
        data = f.read()
    check = shape_checker(max_hidden, max_layers)
    kind = sniff(data)
    if kind == "pickle":
        raise WeightsFileError(PICKLE_MESSAGE)
    if kind == SAFETENSORS:
        arrays, meta = load_safetensors(data, max_bytes=max_bytes, check=check)
    elif kind == KERAS:
        arrays, meta = load_keras(data, max_bytes=max_bytes, max_hidden=max_hidden, max_layers=max_layers)
    else:
        try:
            arrays, meta = weights.load_arrays(data, max_bytes=max_bytes, check=check)
        except WeightsFileError as e:
            if "not a valid .npz" in str(e) and "pickle" not in str(e):
                raise WeightsFileError(f"{e}; gatescope reads .npz, .safetensors and Keras 3 .keras "
                                       "files") from e
            raise
    return arrays, meta, kind


def shape_checker(max_hidden: int, max_layers: int) -> Callable[[Mapping[str, tuple[int, ...]]], None]:
    """A check of a file's declared shapes (name -> shape), run before its data is read: at most
    ``max_layers`` layers of at most ``max_hidden`` units."""

    def check(shapes: Mapping[str, tuple[int, ...]]) -> None:
        layers = {int(m["k"]) for key in shapes if (m := _RNN_KEY.fullmatch(key))}
        if len(layers) > max_layers or any(k >= max_layers for k in layers):
            raise WeightsFileError(f"the model has {max(layers) + 1} layers; at most {max_layers} are read")
        for key, shape in shapes.items():
            m = _RNN_KEY.fullmatch(key)
            hidden = None
            if m and m["name"] == "weight_hh" and len(shape) == 2:
                hidden = shape[1]
            elif key in ("weight_hh", "recurrent_kernel") and len(shape) == 2:
                hidden = shape[1] if key == "weight_hh" else shape[0]
            if hidden is not None and hidden > max_hidden:
                raise WeightsFileError(f"{key}: the model has {hidden:,} hidden units; at most "
                                       f"{max_hidden:,} are read")

    return check


# -- safetensors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tensor:
    key: str
    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int
    end: int


def load_safetensors(data: bytes, *, max_bytes: int = weights.DEFAULT_MAX_BYTES,
                     check: Callable[[Mapping[str, tuple[int, ...]]], None] | None = None
                     ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a ``.safetensors`` file's bytes: (name -> array, ``__metadata__``).

    The header is parsed and checked here first (its length against the file, every tensor's
    dtype, shape and byte range: within the data, no overlap, no gap, bytes = prod(shape) *
    itemsize, total within ``max_bytes``; then ``check`` on the shapes); only then does the
    ``safetensors`` package read the tensors (its NumPy API). F16 comes back as float32.
    """
    if len(data) < 8:
        raise WeightsFileError(f"not a valid .safetensors file: {len(data)} bytes, truncated")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise WeightsFileError(f"not a valid .safetensors file: its header claims {n:,} bytes but the file "
                               f"has {len(data) - 8:,} after the length: truncated")
    if n > MAX_HEADER_BYTES:
        raise WeightsFileError(f"the .safetensors header takes {n:,} bytes, more than {MAX_HEADER_BYTES:,}")
    with _refusing("the .safetensors header is not valid UTF-8 JSON"):
        header = json.loads(data[8 : 8 + n].decode(), parse_constant=refuse_constant)
    if not isinstance(header, dict):
        raise WeightsFileError("the .safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise WeightsFileError("__metadata__ must map strings to strings")
    buffer = len(data) - 8 - n
    tensors = sorted((_tensor_entry(key, entry, buffer) for key, entry in header.items()),
                     key=lambda t: (t.begin, t.end))
    at = 0
    for t in tensors:
        if t.begin != at:
            what = "overlaps the one before" if t.begin < at else f"leaves a gap at byte {at:,}"
            raise WeightsFileError(f"tensor {t.key!r}: its data_offsets [{t.begin:,}, {t.end:,}] {what}")
        at = t.end
    if at != buffer:
        raise WeightsFileError(f"the tensors take {at:,} bytes but the file holds {buffer:,} after "
                               "the header")
    total = sum(math.prod(t.shape) * np.dtype(t.dtype).itemsize for t in tensors)
    if total > max_bytes:
        raise WeightsFileError(f"the arrays would take {total:,} bytes, more than the limit of {max_bytes:,}")
    if check is not None:
        check({t.key: t.shape for t in tensors})
    from safetensors.numpy import load as st_load

    with _refusing("not a valid .safetensors file"):
        loaded = st_load(bytes(data))
    arrays = {}
    for t in tensors:
        a = loaded[t.key]
        if a.dtype == np.float16:
            a = a.astype(np.float32)
        weights._check_finite(t.key, a)
        arrays[t.key] = a
    return arrays, dict(meta)


def _tensor_entry(key: object, entry: object, buffer: int) -> _Tensor:
    """One tensor's header entry, checked against the data buffer's size."""
    if not isinstance(key, str) or not _ST_KEY.fullmatch(key):
        raise WeightsFileError(f"tensor name {str(key)[:60]!r} is not allowed")
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise WeightsFileError(f"tensor {key!r}: its header entry must hold dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in _ST_DTYPES:
        if dtype == "BF16":
            raise WeightsFileError(f"tensor {key!r} is bfloat16: save float32, e.g. "
                                   "save_file({k: v.float() for k, v in model.state_dict().items()}, ...)")
        raise WeightsFileError(f"tensor {key!r} has dtype {str(dtype)[:20]!r}: only float (F16, F32, F64), "
                               "int and bool tensors are read")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape) or len(shape) > 8:
        raise WeightsFileError(f"tensor {key!r}: shape must be a list of non-negative integers")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1]):
        raise WeightsFileError(f"tensor {key!r}: data_offsets must be [begin, end], 0 <= begin <= end")
    begin, end = offsets
    nbytes = math.prod(shape) * np.dtype(_ST_DTYPES[dtype]).itemsize
    if end > buffer:
        raise WeightsFileError(f"tensor {key!r}: its data_offsets end at byte {end:,}, past the file's "
                               f"{buffer:,} bytes of data (truncated?)")
    if end - begin != nbytes:
        raise WeightsFileError(f"tensor {key!r}: shape {tuple(shape)} of {dtype} takes {nbytes:,} bytes, "
                               f"its data_offsets hold {end - begin:,}")
    return _Tensor(key, np.dtype(_ST_DTYPES[dtype]), tuple(shape), begin, end)


# -- Keras 3 .keras ---------------------------------------------------------------------------------

_KERAS_RNN = {"LSTM": ("lstm", "lstm"), "GRU": ("gru", "gru"), "SimpleRNN": ("rnn", "simple_rnn")}
_KERAS_MEMBERS = {"config.json", "model.weights.h5", "metadata.json"}
_KERAS_DEFAULTS = {"activation": "tanh", "recurrent_activation": "sigmoid"}


def load_keras(data: bytes, *, max_bytes: int = weights.DEFAULT_MAX_BYTES, max_hidden: int = MAX_HIDDEN,
               max_layers: int = MAX_LAYERS) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a Keras 3 ``.keras`` archive's bytes -> (arrays under PyTorch's names, meta).

    The arrays: the recurrent layers' ``weight_ih_l{k}`` ... (``weights.from_keras`` per layer),
    ``embedding.weight`` (V, E) and ``head.weight`` (V, H), ``head.bias`` when present. Meta:
    ``arch``, ``format`` "keras" and ``head_activation``.
    """
    f = io.BytesIO(data)
    weights._check_zip_directory(f)
    with _refusing("not a valid .keras (zip) archive"), zipfile.ZipFile(f) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        missing = [name for name in ("config.json", "model.weights.h5") if name not in infos]
        if missing:
            raise WeightsFileError(f"the .keras archive has no {' and no '.join(missing)}")
        extra = sorted(set(infos) - _KERAS_MEMBERS)
        if extra:
            raise WeightsFileError(f"the .keras archive holds {', '.join(map(repr, extra[:5]))}: only "
                                   "config.json, model.weights.h5 and metadata.json are read (no assets)")
        for info in infos.values():
            if info.flag_bits & 0x1:
                raise WeightsFileError(f"member {info.filename!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise WeightsFileError(f"member {info.filename!r} uses an unsupported compression")
        if infos["config.json"].file_size > MAX_CONFIG_BYTES:
            raise WeightsFileError(f"config.json takes {infos['config.json'].file_size:,} bytes, more than "
                                   f"{MAX_CONFIG_BYTES:,}")
        h5_size = infos["model.weights.h5"].file_size
        if h5_size > max_bytes + 2**20:
            raise WeightsFileError(f"model.weights.h5 takes {h5_size:,} bytes, more than the limit of "
                                   f"{max_bytes + 2**20:,}")
        config = zf.read("config.json")
        plan = _keras_plan(config, max_hidden, max_layers)
        h5 = zf.read("model.weights.h5")
    return _keras_weights(h5, plan, max_bytes)


@dataclass(frozen=True)
class _KerasPlan:
    arch: str
    rnn_paths: tuple[str, ...]  # layers/lstm, layers/lstm_1, ...
    units: int
    embedding: bool
    dense_activation: str | None  # None: no Dense head
    dense_bias: bool


def _keras_plan(config_bytes: bytes, max_hidden: int, max_layers: int) -> _KerasPlan:
    """What config.json says the model is, checked: only the accepted layers and settings."""
    with _refusing("config.json is not valid UTF-8 JSON"):
        config = json.loads(config_bytes.decode(), parse_constant=refuse_constant)
    if not isinstance(config, dict) or config.get("class_name") != "Sequential":
        what = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        raise WeightsFileError(f"the .keras model is a {str(what)[:40]!r}: only a Sequential model is read")
    layers = (config.get("config") or {}).get("layers")
    if not isinstance(layers, list):
        raise WeightsFileError("config.json has no list of layers")
    kinds = [layer.get("class_name") if isinstance(layer, dict) else None for layer in layers]
    layers = [(k, layer.get("config") or {}) for k, layer in zip(kinds, layers, strict=True)
              if k not in ("InputLayer", "Dropout")]
    counts: dict[str, int] = {}
    rnn_paths, archs, units = [], set(), set()
    embedding, dense_activation, dense_bias = False, None, True
    for at, (kind, cfg) in enumerate(layers):
        if kind in _KERAS_RNN:
            arch, snake = _KERAS_RNN[kind]
            archs.add(arch)
            for key, want in _KERAS_DEFAULTS.items():
                if key in cfg and not (kind == "SimpleRNN" and key == "recurrent_activation") \
                        and cfg[key] != want:
                    raise WeightsFileError(f"{kind} layer {cfg.get('name')!r}: {key}={cfg[key]!r}; only "
                                           f"the default {want!r} is read")
            if not cfg.get("use_bias", True):
                raise WeightsFileError(f"{kind} layer {cfg.get('name')!r} has no bias (use_bias=False)")
            if cfg.get("go_backwards", False):
                raise WeightsFileError(f"{kind} layer {cfg.get('name')!r} reads backwards (go_backwards)")
            if kind == "GRU" and not cfg.get("reset_after", True):
                raise WeightsFileError("a GRU with reset_after=False applies the reset gate before the "
                                       "recurrent matmul; only the reset_after=True form (PyTorch's) is read")
            last_rnn = not any(k in _KERAS_RNN for k, _ in layers[at + 1 :])
            if not last_rnn and not cfg.get("return_sequences", False):
                raise WeightsFileError(f"{kind} layer {cfg.get('name')!r} feeds another recurrent layer, "
                                       "so it must have return_sequences=True")
            units.add(cfg.get("units"))
            rnn_paths.append(f"layers/{_numbered(snake, counts)}")
        elif kind == "Embedding" and at == 0:
            if cfg.get("mask_zero", False):
                raise WeightsFileError("an Embedding with mask_zero=True skips token 0; it is not read")
            embedding = True
            _numbered("embedding", counts)
        elif kind == "Dense" and at == len(layers) - 1 and rnn_paths:
            dense_activation = cfg.get("activation", "linear")
            if dense_activation not in ("linear", "softmax"):
                raise WeightsFileError(f"the Dense layer's activation is {dense_activation!r}: only linear "
                                       "and softmax are read")
            dense_bias = bool(cfg.get("use_bias", True))
            _numbered("dense", counts)
        else:
            raise WeightsFileError(
                f"layer {at} is a {str(kind)[:40]!r}: a .keras model is read when it is a Sequential of "
                "LSTM, GRU or SimpleRNN layers, optionally an Embedding first and a Dense last")
    if not rnn_paths:
        raise WeightsFileError("the .keras model has no LSTM, GRU or SimpleRNN layer")
    if len(archs) > 1:
        raise WeightsFileError(f"the .keras model mixes recurrent layers ({', '.join(sorted(archs))}); "
                               "a stack is of one kind")
    if len(units) > 1 or not all(type(u) is int and u > 0 for u in units):
        raise WeightsFileError(f"the recurrent layers have units {sorted(map(str, units))}: a stack has one "
                               "hidden size")
    (U,) = units
    if max_hidden < U:
        raise WeightsFileError(f"the model has {U:,} hidden units; at most {max_hidden:,} are read")
    if len(rnn_paths) > max_layers:
        raise WeightsFileError(f"the model has {len(rnn_paths)} layers; at most {max_layers} are read")
    return _KerasPlan(archs.pop(), tuple(rnn_paths), U, embedding, dense_activation, dense_bias)


def _numbered(snake: str, counts: dict[str, int]) -> str:
    """Keras's name for the n-th layer of a class in the weights file: lstm, lstm_1, lstm_2, ..."""
    n = counts.get(snake, -1) + 1
    counts[snake] = n
    return snake if n == 0 else f"{snake}_{n}"


def _keras_weights(h5: bytes, plan: _KerasPlan, max_bytes: int) -> tuple[dict[str, np.ndarray], dict]:
    import h5py

    with _refusing("model.weights.h5 is not a valid HDF5 file"), h5py.File(io.BytesIO(h5), "r") as f:
        wanted = {f"{p}/cell/vars/{i}": None for p in plan.rnn_paths for i in range(3)}
        if plan.embedding:
            wanted["layers/embedding/vars/0"] = None
        if plan.dense_activation is not None:
            wanted["layers/dense/vars/0"] = None
            if plan.dense_bias:
                wanted["layers/dense/vars/1"] = None
        total = 0
        for path in wanted:
            ds = f.get(path)
            if not isinstance(ds, h5py.Dataset):
                raise WeightsFileError(f"model.weights.h5 has no array {path}")
            if ds.dtype.kind != "f" or ds.dtype.itemsize > 8 or ds.ndim > 2:
                raise WeightsFileError(f"{path}: dtype {ds.dtype}, shape {ds.shape}: expected a float matrix")
            total += math.prod(ds.shape) * ds.dtype.itemsize
        if total > max_bytes:
            raise WeightsFileError(f"the arrays would take {total:,} bytes, more than the limit of "
                                   f"{max_bytes:,}")
        for path in wanted:
            a = np.asarray(f[path][()])
            a = a.astype(np.float32) if a.dtype == np.float16 else a
            weights._check_finite(path, a)
            wanted[path] = a
    arrays: dict[str, np.ndarray] = {}
    for k, p in enumerate(plan.rnn_paths):
        kernel, recurrent, bias = (wanted[f"{p}/cell/vars/{i}"] for i in range(3))
        try:
            layer = weights.from_keras(plan.arch, kernel, recurrent, bias)
        except ValueError as e:
            raise WeightsFileError(f"{p}: {e}") from e
        arrays.update({name.replace("_l0", f"_l{k}"): a for name, a in layer.items()})
    if plan.embedding:
        arrays[EMBEDDING_KEY] = wanted["layers/embedding/vars/0"]  # (V, E)
    if plan.dense_activation is not None:
        kernel = wanted["layers/dense/vars/0"]  # (H, V)
        arrays[HEAD_WEIGHT] = np.ascontiguousarray(kernel.T)  # (V, H)
        arrays[HEAD_BIAS] = wanted["layers/dense/vars/1"] if plan.dense_bias else np.zeros(
            kernel.shape[1], kernel.dtype)
    meta = {"arch": plan.arch, "format": KERAS}
    if plan.dense_activation is not None:
        meta["head_activation"] = plan.dense_activation
    return arrays, meta


# -- layouts ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ModelParts:
    """A model file's arrays sorted into its parts, under canonical names.

    params: the recurrent layers' torch-named parameters (``weight_ih_l0`` ...); embedding: (V, E)
    or None; head: (weight (V, H), bias (V,)) or None; vocab: the file's tokens or None; unit:
    "char", "word" or None (not said).
    """

    arch: str
    params: dict[str, np.ndarray]
    embedding: np.ndarray | None = None
    head: tuple[np.ndarray, np.ndarray] | None = None
    vocab: tuple[str, ...] | None = None
    unit: str | None = None


def model_parts(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any], kind: str) -> ModelParts:
    """Sort a file's arrays (``read_arrays``) into recurrent layers, embedding, head and vocabulary,
    by the layouts of the module docstring. Unknown keys are refused, named."""
    rest = dict(arrays)
    vocab_array = rest.pop(VOCAB_KEY, None)
    embedding = None
    found = [k for k in EMBEDDING_KEYS if k in rest]
    if len(found) > 1:
        raise WeightsFileError(f"the file holds two embeddings: {', '.join(found)}")
    if found:
        embedding = rest.pop(found[0])
        if embedding.ndim != 2 or embedding.dtype.kind != "f":
            raise WeightsFileError(f"{found[0]}: an embedding is a float (V, E) matrix, got "
                                   f"{embedding.shape}")
    heads = [p for p in HEAD_PREFIXES if f"{p}weight" in rest]
    if len(heads) > 1:
        raise WeightsFileError(f"the file holds two heads: {', '.join(p + 'weight' for p in heads)}")
    head = None
    if heads:
        p = heads[0]
        if f"{p}bias" not in rest:
            raise WeightsFileError(f"the head {p}weight has no {p}bias")
        head = (rest.pop(f"{p}weight"), rest.pop(f"{p}bias"))
    params = _recurrent_params(rest, kind)
    arch = _arch_of(params, meta, rest.pop("arch", None), kind)
    if kind == NPZ:
        params = _torch_names(params, arch)
    vocab = parse_vocab(vocab_array if vocab_array is not None else meta.get(VOCAB_KEY))
    unit = meta.get("unit")
    if unit not in (None, "char", "word"):
        raise WeightsFileError(f"unit must be 'char' or 'word', got {str(unit)[:20]!r}")
    return ModelParts(arch, params, embedding, head, vocab, unit)


def _recurrent_params(rest: dict[str, np.ndarray], kind: str) -> dict[str, np.ndarray]:
    """Take the recurrent layers' arrays out of ``rest`` (one module prefix); refuse what is left."""
    prefixes = {m["prefix"] for key in rest if (m := _RNN_KEY.fullmatch(key))}
    if len(prefixes) > 1:
        raise WeightsFileError(f"recurrent layers under several prefixes: {', '.join(sorted(prefixes))}")
    prefix = prefixes.pop() if prefixes else ""
    if prefix not in RNN_PREFIXES:
        raise WeightsFileError(f"recurrent layers under {prefix!r}: the prefixes read are "
                               f"{', '.join(repr(p) for p in RNN_PREFIXES)}")
    params = {key[len(prefix):]: rest.pop(key) for key in list(rest)
              if key.startswith(prefix) and _RNN_KEY.fullmatch(key[len(prefix):])}
    if kind == NPZ:  # the npz reader's own names: nn.LSTMCell's and Keras's
        for key in (*weights._CELL_STYLE_NAMES, *weights.KERAS_KEYS):
            if key in rest:
                params[key] = rest.pop(key)
    leftover = sorted(k for k in rest if k != "arch")
    if leftover:
        raise WeightsFileError(
            f"unexpected key(s) {', '.join(leftover[:8])}{' ...' if len(leftover) > 8 else ''}: a model "
            "file holds recurrent layers (weight_ih_l0 ...), optionally an embedding (encoder.weight, "
            "embedding.weight, ...) and a head (decoder., fc., linear., head., out. weight and bias)")
    if not params:
        raise WeightsFileError("the file holds no recurrent layer: no weight_ih_l0 (or rnn.weight_ih_l0 ...)")
    return params


def _torch_names(params: dict[str, np.ndarray], arch: str) -> dict[str, np.ndarray]:
    """An npz's parameters under PyTorch's names: Keras's converted, nn.LSTMCell's renamed."""
    if any(k in params for k in weights.KERAS_KEYS):
        return weights.from_keras(arch, *weights._keras_arrays(params))
    renamed = {weights._CELL_STYLE_NAMES.get(k, k): a for k, a in params.items()}
    if len(renamed) < len(params):
        raise WeightsFileError("the file holds a parameter both with and without the _l0 suffix")
    return renamed


def _arch_of(params: dict[str, np.ndarray], meta: Mapping[str, Any], arch_array: Any, kind: str) -> str:
    """The arch from the file's marker, or for a safetensors state_dict from its block count."""
    if kind == NPZ:
        return weights._arch(arch_array, meta.get("arch"))
    if meta.get("nonlinearity", "tanh") != "tanh":
        raise WeightsFileError(f"nonlinearity={meta['nonlinearity']!r}: only the tanh RNN is read")
    if meta.get("arch") is not None:
        weights._blocks(meta["arch"])
        return meta["arch"]
    W_ih, W_hh = params.get("weight_ih_l0"), params.get("weight_hh_l0")
    if W_ih is None or W_hh is None or W_ih.ndim != 2 or W_hh.ndim != 2 or W_hh.shape[1] == 0:
        raise WeightsFileError("missing weight_ih_l0 / weight_hh_l0: cannot tell the architecture")
    blocks = W_ih.shape[0] / W_hh.shape[1]
    arch = {CELLS[a].blocks: a for a in TORCH_ARCHS}.get(blocks)  # torch's modules: 4, 3, 1 blocks
    if arch is None:
        raise WeightsFileError(f"weight_ih_l0 has {W_ih.shape[0]} rows for weight_hh_l0's {W_hh.shape[1]} "
                               "units: not 4H (LSTM), 3H (GRU) or H (RNN); say the arch in the metadata")
    return arch


# -- vocabularies -----------------------------------------------------------------------------------


def parse_vocab(src: Any) -> tuple[str, ...] | None:
    """Tokens from any of the vocabulary forms (module docstring), in id order; None for None.

    ``src``: a list/tuple of str; a token -> id dict (ids 0..V-1, each once); an int array of
    code points; a uint8 array or bytes or str of text: a JSON list or dict, else (bytes from a
    file: one token per line; a str: its characters).
    """
    if src is None:
        return None
    if isinstance(src, np.ndarray):
        if src.dtype.kind in "iu" and src.dtype != np.uint8:
            if src.ndim != 1 or np.any(src < 0) or np.any(src > 0x10FFFF):
                raise WeightsFileError("vocab: expected a 1-D array of Unicode code points")
            return tuple(chr(int(c)) for c in src)
        if src.dtype != np.uint8 or src.ndim != 1:
            raise WeightsFileError("vocab: expected UTF-8 text as a uint8 array")
        src = src.tobytes().decode("utf-8", errors="strict")
        return _vocab_from_text(src, lines=False)
    if isinstance(src, bytes | bytearray):
        if len(src) > MAX_VOCAB_BYTES:
            raise WeightsFileError(f"the vocabulary takes {len(src):,} bytes, more than {MAX_VOCAB_BYTES:,}")
        with _refusing("the vocabulary is not UTF-8 text"):
            text = bytes(src).decode()
        return _vocab_from_text(text, lines=True)
    if isinstance(src, str):
        return _vocab_from_text(src, lines=False)
    if isinstance(src, Mapping):
        return _vocab_from_ids(src)
    if isinstance(src, Sequence):
        return _vocab_list(list(src))
    raise WeightsFileError(f"vocab: expected tokens, a token -> id dict or text, got {type(src).__name__}")


def _vocab_from_text(text: str, lines: bool) -> tuple[str, ...]:
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        with _refusing("the vocabulary is not valid JSON"):
            value = json.loads(stripped, parse_constant=refuse_constant)
        return _vocab_from_ids(value) if isinstance(value, dict) else _vocab_list(value)
    if lines:
        return _vocab_list(text.rstrip("\n").split("\n"))
    return _vocab_list(list(text))


def _vocab_from_ids(mapping: Mapping) -> tuple[str, ...]:
    ids = sorted(mapping.values()) if all(type(v) is int for v in mapping.values()) else None
    if ids != list(range(len(mapping))) or not all(isinstance(k, str) for k in mapping):
        raise WeightsFileError("a token -> id vocabulary must give each id 0..V-1 to one str token")
    return tuple(sorted(mapping, key=mapping.__getitem__))


def _vocab_list(tokens: Any) -> tuple[str, ...]:
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise WeightsFileError("a vocabulary is a list of str tokens")
    if len(set(tokens)) != len(tokens):
        seen: set[str] = set()
        twice = next(t for t in tokens if t in seen or seen.add(t))
        raise WeightsFileError(f"the vocabulary holds {twice!r} twice")
    return tuple(tokens)
