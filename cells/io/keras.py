"""Keras 3 ``.keras`` archives, and Keras layers' weights under PyTorch's names.

The layer list comes from ``config.json`` (read as JSON: nothing in it is deserialised or run);
the weights from ``model.weights.h5``, read with h5py from memory, and only from it: every link
and every array of the file is checked before any data is read, and a file whose arrays would be
read from elsewhere (HDF5 external storage, virtual datasets, external or soft links, filters that
HDF5 would load from disk as plugins) is refused; HDF5's plugin search path is emptied while an
upload is parsed. Quantized layers (``model.quantize``) and integer weights are refused.

Accepted: a ``Sequential`` of ``LSTM``, ``GRU`` or ``SimpleRNN`` layers (one kind, equal units,
default activations, ``go_backwards=False``, every layer but the last with
``return_sequences=True``), each alone or wrapped in ``Bidirectional`` with
``merge_mode="concat"`` (all of them or none), optionally an ``Embedding`` first
(``mask_zero=False``) and a ``Dense`` last (``linear`` or ``softmax``); ``InputLayer`` and
``Dropout`` (the identity when reading) may appear. A GRU with ``reset_after=False`` (tf.keras
1.x's default) is read as its own cell, ``gru-reset-before``; a layer with ``use_bias=False`` with
zero biases (said in the meta's ``read_notes``).
"""

from __future__ import annotations

import io
import json
import math
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from cells.core.gru_reset_before import GRUResetBefore
from cells.core.registry import CELLS
from cells.io.errors import WeightsFileError, quantized, refuse_constant, refusing
from cells.io.layouts import EMBEDDING_KEY, HEAD_BIAS, HEAD_WEIGHT, MAX_HIDDEN, MAX_LAYERS, from_keras
from cells.io.npz import DEFAULT_MAX_BYTES, check_finite, check_zip_directory
from cells.models.reader import DECISION_KEY, FINAL_STATES

MAX_CONFIG_BYTES = 2**20
"""Largest Keras ``config.json`` read."""
KERAS = "keras"

_KERAS_RNN = {"LSTM": ("lstm", "lstm"), "GRU": ("gru", "gru"), "SimpleRNN": ("rnn", "simple_rnn")}
_KERAS_MEMBERS = {"config.json", "model.weights.h5", "metadata.json"}
_KERAS_DEFAULTS = {"activation": "tanh", "recurrent_activation": "sigmoid"}
_QUANTIZED_MODES = ("int8", "int4", "float8", "gptq")
MAX_H5_LINKS = 4096
"""Most links (groups and arrays) a ``model.weights.h5`` may hold; a Keras model of 4 layers has ~20."""
_SAVE_AGAIN = ("an uploaded model is read from its own bytes only; save it again with "
               "model.save(\"model.keras\"), which keeps every array inside the file")
_PLUGIN_PATHS = threading.Lock()


def load_keras(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_hidden: int = MAX_HIDDEN,
               max_layers: int = MAX_LAYERS) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a Keras 3 ``.keras`` archive's bytes -> (arrays under PyTorch's names, meta).

    The arrays: the recurrent layers' ``weight_ih_l{k}`` ... (``from_keras`` per layer),
    ``embedding.weight`` (V, E) and ``head.weight`` (V, H), ``head.bias`` when present. Meta:
    ``arch``, ``format`` "keras" and ``head_activation``.
    """
    f = io.BytesIO(data)
    check_zip_directory(f)
    with refusing("not a valid .keras (zip) archive"), zipfile.ZipFile(f) as zf:
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
    rnn_paths: tuple[tuple[str, ...], ...]  # per layer: layers/lstm, or both directions of
    # layers/bidirectional (.../forward_layer, .../backward_layer)
    biases: tuple[bool, ...]  # per layer: use_bias
    units: int
    embedding: bool
    dense_activation: str | None  # None: no Dense head
    dense_bias: bool
    final_states: bool = False  # the last layer is Bidirectional without return_sequences: the
    # head reads its final states (forward after the last token, backward after the first)


def _keras_plan(config_bytes: bytes, max_hidden: int, max_layers: int) -> _KerasPlan:
    """What config.json says the model is, checked: only the accepted layers and settings."""
    with refusing("config.json is not valid UTF-8 JSON"):
        config = json.loads(config_bytes.decode(), parse_constant=refuse_constant)
    if not isinstance(config, dict) or config.get("class_name") != "Sequential":
        what = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        raise WeightsFileError(f"the .keras model is a {str(what)[:40]!r}: only a Sequential model is read")
    model = config.get("config")
    layers = model.get("layers") if isinstance(model, dict) else None
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        raise WeightsFileError("config.json has no list of layers")
    layers = [(layer.get("class_name"), layer.get("config") or {}) for layer in layers]
    if not all(isinstance(kind, str) and isinstance(cfg, dict) for kind, cfg in layers):
        raise WeightsFileError("config.json: every layer must have a class_name and a config object")
    layers = [(kind, cfg) for kind, cfg in layers if kind not in ("InputLayer", "Dropout")]
    counts: dict[str, int] = {}
    rnn_paths, biases, archs, units, wrapped = [], [], set(), set(), set()
    embedding, dense_activation, dense_bias, final_states = False, None, True, False
    for at, (kind, cfg) in enumerate(layers):
        name = f"{kind[:40]} layer {str(cfg.get('name'))[:40]!r}"
        mode = _quantization(cfg)
        if mode is not None:
            raise quantized(f"{name} is quantized ({mode[:20]!r})")
        if kind in _KERAS_RNN or kind == "Bidirectional":
            last_rnn = not any(k in _KERAS_RNN or k == "Bidirectional" for k, _ in layers[at + 1:])
            wrapped.add(kind == "Bidirectional")
            if kind == "Bidirectional":
                merge = cfg.get("merge_mode", "concat")
                inner = cfg.get("layer") if isinstance(cfg.get("layer"), dict) else {}
                kind, inner_cfg = inner.get("class_name"), inner.get("config")
                if kind not in _KERAS_RNN or not isinstance(inner_cfg, dict):
                    raise WeightsFileError(f"{name} wraps a {str(kind)[:40]!r}: only LSTM, GRU and "
                                           "SimpleRNN are read")
                if merge != "concat":
                    raise WeightsFileError(
                        f"{name} merges its two directions with merge_mode={str(merge)[:20]!r}: gatescope "
                        "reads merge_mode='concat' (the forward direction's outputs, then the backward "
                        "one's, as torch's bidirectional modules return them); other merges lose which "
                        "direction a number came from",
                        fix=f"keras.layers.Bidirectional(keras.layers.{kind}(...), merge_mode=\"concat\")")
                backward = cfg.get("backward_layer")
                if isinstance(backward, dict) and backward.get("class_name") != kind:
                    raise WeightsFileError(f"{name} has a {kind} forward and another kind of layer "
                                           "backward: one kind is read")
                mode = _quantization(inner_cfg)
                if mode is not None:
                    raise quantized(f"{name} is quantized ({mode[:20]!r})")
                path = f"layers/{_numbered('bidirectional', counts)}"
                paths = (f"{path}/forward_layer", f"{path}/backward_layer")
                final_states = last_rnn and not inner_cfg.get("return_sequences", False)
                name, cfg = f"{kind} layer {str(inner_cfg.get('name'))[:40]!r}", inner_cfg
            else:
                paths = (f"layers/{_numbered(_KERAS_RNN[kind][1], counts)}",)
            archs.add(_recurrent_arch(kind, name, cfg, last_rnn))
            units.add(cfg["units"])
            biases.append(bool(cfg.get("use_bias", True)))
            rnn_paths.append(paths)
        elif kind == "Embedding" and at == 0:
            if cfg.get("mask_zero", False):
                raise WeightsFileError("an Embedding with mask_zero=True skips token 0; it is not read")
            embedding = True
            _numbered("embedding", counts)
        elif kind == "Dense" and at == len(layers) - 1 and rnn_paths:
            dense_activation = cfg.get("activation", "linear")
            if dense_activation not in ("linear", "softmax"):
                raise WeightsFileError(f"the Dense layer's activation is {str(dense_activation)[:20]!r}: "
                                       "only linear and softmax are read")
            dense_bias = bool(cfg.get("use_bias", True))
            _numbered("dense", counts)
        else:
            raise WeightsFileError(
                f"layer {at} is a {str(kind)[:40]!r}: a .keras model is read when it is a Sequential of "
                "LSTM, GRU or SimpleRNN layers (or Bidirectional ones), optionally an Embedding first "
                "and a Dense last")
    if not rnn_paths:
        raise WeightsFileError("the .keras model has no LSTM, GRU or SimpleRNN layer")
    if len(archs) > 1:
        raise WeightsFileError(f"the .keras model mixes recurrent layers ({', '.join(sorted(archs))}); "
                               "a stack is of one kind")
    if len(wrapped) > 1:
        raise WeightsFileError("the .keras model has Bidirectional layers and single-direction ones: "
                               "gatescope reads a stack whose layers are all bidirectional, or none")
    if len(units) > 1:
        raise WeightsFileError(f"the recurrent layers have units {sorted(units)}: a stack has one "
                               "hidden size")
    (U,) = units
    if max_hidden < U:
        raise WeightsFileError(f"the model has {U:,} hidden units; at most {max_hidden:,} are read")
    if len(rnn_paths) > max_layers:
        raise WeightsFileError(f"the model has {len(rnn_paths)} layers; at most {max_layers} are read")
    return _KerasPlan(archs.pop(), tuple(rnn_paths), tuple(biases), U, embedding, dense_activation,
                      dense_bias, final_states)


def _recurrent_arch(kind: str, name: str, cfg: dict[str, Any], last_rnn: bool) -> str:
    """The arch of one recurrent layer (LSTM, GRU, SimpleRNN) from its config, checked: default
    activations, forwards (a Bidirectional's backward half is its own), return_sequences below
    another recurrent layer, positive units. A GRU with reset_after=False is ``gru-reset-before``.
    ``name``: the layer as messages name it."""
    arch, _ = _KERAS_RNN[kind]
    for key, want in _KERAS_DEFAULTS.items():
        if key in cfg and not (kind == "SimpleRNN" and key == "recurrent_activation") and cfg[key] != want:
            raise WeightsFileError(f"{name}: {key}={str(cfg[key])[:20]!r}; only the default {want!r} is read")
    if cfg.get("go_backwards", False):
        raise WeightsFileError(f"{name} reads backwards (go_backwards) on its own: wrap it in "
                               "Bidirectional to read both directions",
                               fix=f"keras.layers.Bidirectional(keras.layers.{kind}(...))")
    if not last_rnn and not cfg.get("return_sequences", False):
        raise WeightsFileError(f"{name} feeds another recurrent layer, so it must have return_sequences=True")
    if type(cfg.get("units")) is not int or cfg["units"] <= 0:
        raise WeightsFileError(f"{name}: units must be a positive integer")
    if kind == "GRU" and not cfg.get("reset_after", True):
        return GRUResetBefore.arch
    return arch


def _quantization(cfg: dict) -> str | None:
    """The quantization mode a Keras layer's config names ("int8", "int4/128", "float8", or a dtype
    policy such as "int8_from_float32"), or None for a float layer."""
    policy = cfg.get("dtype")
    if isinstance(policy, dict):
        inner = policy.get("config")
        policy = (inner.get("mode") or inner.get("name")) if isinstance(inner, dict) else None
    if isinstance(policy, str) and (policy.split("/")[0] in _QUANTIZED_MODES or "_from_" in policy):
        return policy
    config = cfg.get("quantization_config")
    if config is not None:
        return str(config.get("class_name") if isinstance(config, dict) else config)
    return None


def _numbered(snake: str, counts: dict[str, int]) -> str:
    """Keras's name for the n-th layer of a class in the weights file: lstm, lstm_1, lstm_2, ..."""
    n = counts.get(snake, -1) + 1
    counts[snake] = n
    return snake if n == 0 else f"{snake}_{n}"


@contextmanager
def _no_hdf5_plugins() -> Iterator[None]:
    """No HDF5 plugin search path while an upload is parsed: a file that names a filter or a file
    driver HDF5 lacks makes it list and load shared libraries from those folders (the default
    ``/usr/local/hdf5/lib/plugin``, ``HDF5_PLUGIN_PATH``). The paths come back afterwards; the lock
    keeps two uploads from saving each other's empty list."""
    from h5py import h5pl

    with _PLUGIN_PATHS:
        paths = [h5pl.get(i) for i in range(h5pl.size())]
        for _ in paths:
            h5pl.remove(0)
        try:
            yield
        finally:
            for path in paths:
                h5pl.append(path)


def _check_self_contained(f: Any) -> None:
    """Every link of the file, and every array's storage, checked before any data is read: each
    link a hard link (no soft or external link), each array's bytes in the file itself (no HDF5
    external storage, no virtual dataset) and compressed, if at all, by a filter built into HDF5.
    Nothing here follows a link or reads an array's data."""
    from h5py import h5d, h5l, h5o, h5z

    links: list[tuple[bytes, int]] = []

    def visit(name: bytes, info: Any) -> bool | None:
        links.append((name, info.type))
        return len(links) > MAX_H5_LINKS or None

    f.id.links.visit(visit, info=True)
    if len(links) > MAX_H5_LINKS:
        raise WeightsFileError(f"model.weights.h5 holds more than {MAX_H5_LINKS:,} groups and arrays, where "
                               "a Keras model of a few recurrent layers holds a few dozen: save the model "
                               "alone, model.save(\"model.keras\")")
    kinds = {h5l.TYPE_SOFT: "a soft link", h5l.TYPE_EXTERNAL: "an external link to another file"}
    for name, kind in links:
        if kind != h5l.TYPE_HARD:
            what = kinds.get(kind, "a user-defined link")
            raise WeightsFileError(f"model.weights.h5: {_shown(name)} is {what}, which is never followed: "
                                   f"only plain groups and arrays are read; {_SAVE_AGAIN}")
    builtin = {h5z.FILTER_DEFLATE, h5z.FILTER_SHUFFLE, h5z.FILTER_FLETCHER32, h5z.FILTER_SCALEOFFSET,
               h5z.FILTER_NBIT}
    for name, _ in links:
        if h5o.get_info(f.id, name).type != h5o.TYPE_DATASET:
            continue
        dcpl = h5d.open(f.id, name).get_create_plist()
        if dcpl.get_layout() == h5d.VIRTUAL:
            raise WeightsFileError(f"model.weights.h5: {_shown(name)} is a virtual dataset, stitched from "
                                   f"other files, which are never read; {_SAVE_AGAIN}")
        if dcpl.get_external_count():
            raise WeightsFileError(f"model.weights.h5: {_shown(name)} keeps its data in another file (HDF5 "
                                   f"external storage), which is never read; {_SAVE_AGAIN}")
        for i in range(dcpl.get_nfilters()):
            code = dcpl.get_filter(i)[0]
            if code not in builtin or not h5z.filter_avail(code):
                raise WeightsFileError(f"model.weights.h5: {_shown(name)} is compressed with HDF5 filter "
                                       f"{code}, which is not built into HDF5 (it would be loaded from "
                                       "disk as a plugin); save the model without compression, as "
                                       "model.save(\"model.keras\") does")


def _shown(name: bytes) -> str:
    """An HDF5 path of the file, for a message."""
    return repr(name.decode("utf-8", errors="replace")[:80])


def _keras_weights(h5: bytes, plan: _KerasPlan, max_bytes: int) -> tuple[dict[str, np.ndarray], dict]:
    import h5py

    with (_no_hdf5_plugins(), refusing("model.weights.h5 is not a valid HDF5 file"),
          h5py.File(io.BytesIO(h5), "r") as f):
        _check_self_contained(f)
        wanted = {f"{p}/cell/vars/{i}": None for paths, bias in zip(plan.rnn_paths, plan.biases, strict=True)
                  for p in paths for i in range(3 if bias else 2)}
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
            if ds.dtype.kind in "biu":
                raise quantized(f"model.weights.h5: {path} is {ds.dtype}")
            if ds.dtype.kind != "f" or ds.dtype.itemsize > 8 or ds.ndim > 2:
                raise WeightsFileError(f"{path}: dtype {ds.dtype}, shape {ds.shape}: expected a float matrix")
            total += math.prod(ds.shape) * ds.dtype.itemsize
        if total > max_bytes:
            raise WeightsFileError(f"the arrays would take {total:,} bytes, more than the limit of "
                                   f"{max_bytes:,}")
        for path in wanted:
            a = np.asarray(f[path][()])
            a = a.astype(np.float32) if a.dtype == np.float16 else a
            check_finite(path, a)
            wanted[path] = a
    arrays: dict[str, np.ndarray] = {}
    G, rows = CELLS[plan.arch].blocks, CELLS[plan.arch].keras_bias_rows
    for k, (paths, has_bias) in enumerate(zip(plan.rnn_paths, plan.biases, strict=True)):
        for p, suffix in zip(paths, ("", "_reverse"), strict=False):
            kernel, recurrent = wanted[f"{p}/cell/vars/0"], wanted[f"{p}/cell/vars/1"]
            bias = wanted[f"{p}/cell/vars/2"] if has_bias else np.zeros(
                (rows, G * plan.units) if rows > 1 else (G * plan.units,), kernel.dtype)
            try:
                layer = from_keras(plan.arch, kernel, recurrent, bias)
            except ValueError as e:
                raise WeightsFileError(f"{p}: {e}") from e
            arrays.update({name.replace("_l0", f"_l{k}") + suffix: a for name, a in layer.items()})
    if plan.embedding:
        arrays[EMBEDDING_KEY] = wanted["layers/embedding/vars/0"]  # (V, E)
    if plan.dense_activation is not None:
        kernel = wanted["layers/dense/vars/0"]  # (H, V)
        arrays[HEAD_WEIGHT] = np.ascontiguousarray(kernel.T)  # (V, H)
        arrays[HEAD_BIAS] = wanted["layers/dense/vars/1"] if plan.dense_bias else np.zeros(
            kernel.shape[1], kernel.dtype)
    meta: dict[str, Any] = {"arch": plan.arch, "format": KERAS}
    if plan.dense_activation is not None:
        meta["head_activation"] = plan.dense_activation
    if plan.final_states:
        meta[DECISION_KEY] = FINAL_STATES
    if not all(plan.biases):
        meta["read_notes"] = ["a recurrent layer has no biases (use_bias=False): read with zero biases"]
    return arrays, meta
