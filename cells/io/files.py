"""Model files by content: ``.npz``, ``.safetensors``, Keras 3 ``.keras``; pickles refused.

A file's kind is read from its bytes, never from its name:

* a zip holding ``config.json`` and ``model.weights.h5``: a Keras 3 ``.keras`` archive
  (``cells.io.keras``);
* a zip holding a ``data.pkl`` (``torch.save``), or bytes starting with a pickle's 0x80: refused,
  never unpickled, with the lines that convert a PyTorch model (:data:`CONVERT_SNIPPET`);
* 8 bytes of header length and a JSON header: a ``.safetensors`` file (``cells.io.safetensors``);
* any other zip (and anything else, to say why not): an ``.npz`` (``cells.io.npz``).

Every format comes to one dict of arrays under PyTorch's names (``cells.io.layouts`` sorts them
into recurrent layers, embedding and head). Limits, checked before anything large is allocated:
``max_bytes`` of array data (``cells.io.npz.DEFAULT_MAX_BYTES``), ``MAX_HIDDEN`` units,
``MAX_LAYERS`` layers.
"""

from __future__ import annotations

import io
import zipfile

from cells.io import npz
from cells.io.errors import WeightsFileError, quantized, refusing
from cells.io.keras import KERAS, load_keras
from cells.io.layouts import MAX_HIDDEN, MAX_LAYERS, shape_checker
from cells.io.npz import NPZ
from cells.io.safetensors import SAFETENSORS, load_safetensors
from cells.io.vocab import VOCAB_KEY

NOT_WEIGHTS = ("arch", VOCAB_KEY)
"""The arrays of a model file that are not weights: the architecture's name (uint8 bytes) and a
vocabulary (code points or UTF-8 bytes), which may be integers; every other array must be float."""

CONVERT_SNIPPET = """\
import torch
from safetensors.torch import save_file
sd = torch.load("model.pt", map_location="cpu", weights_only=True)
sd = sd.get("state_dict", sd)  # a training checkpoint (.ckpt) keeps it there
save_file({k: v.clone() for k, v in sd.items()}, "model.safetensors")  # clone: tied weights
"""
"""The lines that turn a pickled state_dict (``torch.save(model.state_dict(), "model.pt")``, or a
checkpoint holding one) into a ``.safetensors`` file gatescope reads."""
PICKLE_MESSAGE = (
    "this is a pickle (PyTorch's torch.save: .pt, .pth, .ckpt), which can run code when it is "
    "loaded, so gatescope never opens one; load it yourself (weights_only=True loads tensors only; "
    "a model saved whole with torch.save(model) needs its class: save its state_dict then) and save "
    "it as safetensors")

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
    npz.check_zip_directory(f)
    with refusing("not a valid zip archive"), zipfile.ZipFile(f) as zf:
        return zf.namelist()


def read_arrays(src: npz.Source, *, max_bytes: int = npz.DEFAULT_MAX_BYTES,
                max_hidden: int = MAX_HIDDEN, max_layers: int = MAX_LAYERS) -> tuple[dict, dict, str]:
    """Any model file -> (arrays under the file's names, meta dict, kind). Keras archives come back
    under PyTorch's names (see the module docstring). Every array but those of :data:`NOT_WEIGHTS`
    is a weight and must be float: integer (quantized) weights are refused, in every format, with
    one message. Any bad file is a ``WeightsFileError``."""
    with npz.readable(src, max_bytes) as f:
        data = f.read()
    check = shape_checker(max_hidden, max_layers)
    kind = sniff(data)
    if kind == "pickle":
        raise WeightsFileError(PICKLE_MESSAGE, fix=CONVERT_SNIPPET)
    if kind == SAFETENSORS:
        arrays, meta = load_safetensors(data, max_bytes=max_bytes, check=check)
    elif kind == KERAS:
        arrays, meta = load_keras(data, max_bytes=max_bytes, max_hidden=max_hidden, max_layers=max_layers)
    else:
        try:
            arrays, meta = npz.load_arrays(data, max_bytes=max_bytes, check=check)
        except WeightsFileError as e:
            if "not a valid .npz" in str(e) and "pickle" not in str(e):
                raise WeightsFileError(f"{e}; gatescope reads .npz, .safetensors and Keras 3 .keras "
                                       "files") from e
            raise
    for key, a in arrays.items():
        if key not in NOT_WEIGHTS and a.dtype.kind in "biu":
            raise quantized(f"array {key!r} is {a.dtype}")
    return arrays, meta, kind
