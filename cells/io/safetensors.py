"""``.safetensors`` files: the header checked against the file before anything is allocated, then
the tensors read with the ``safetensors`` package's NumPy API."""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from cells.io.errors import WeightsFileError, quantized, refuse_constant, refusing
from cells.io.npz import DEFAULT_MAX_BYTES, check_finite

MAX_HEADER_BYTES = 2**24
"""Largest ``.safetensors`` JSON header read."""
SAFETENSORS = "safetensors"

# safetensors dtypes read: floats (F16 and BF16 become float32) and the integers and bools of a
# vocabulary (integer weights are refused by cells.io.files.read_arrays, which knows which arrays
# are weights). BF16 is stored as its raw 16 bits (NumPy has no bfloat16): see bfloat16_to_float32.
_ST_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16, "BOOL": np.bool_,
              "I8": np.int8, "I16": np.int16, "I32": np.int32, "I64": np.int64,
              "U8": np.uint8, "U16": np.uint16, "U32": np.uint32, "U64": np.uint64}
_ST_KEY = re.compile(r"[A-Za-z0-9_.\-/:]{1,200}")
_ST_QUANTIZED = re.compile(r"F[4-8](_E\d+M\d+)?|[IU][1-4]")
"""safetensors' float8, float6 and float4 dtypes (F8_E4M3 ...) and sub-byte integers: quantized weights."""

@dataclass(frozen=True)
class _Tensor:
    key: str
    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int
    end: int
    bfloat16: bool = False  # stored as raw uint16


def bfloat16_to_float32(raw: np.ndarray) -> np.ndarray:
    """bfloat16 numbers, given as their raw 16 bits (uint16), as float32: a bfloat16 is the upper
    half of a float32 (sign, the same 8 exponent bits, 7 of the 23 fraction bits), so shifting its
    bits up by 16 gives that float32 exactly."""
    return (raw.astype(np.uint32) << 16).view(np.float32)


def load_safetensors(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES,
                     check: Callable[[Mapping[str, tuple[int, ...]]], None] | None = None
                     ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a ``.safetensors`` file's bytes: (name -> array, ``__metadata__``).

    The header is parsed and checked here first (its length against the file, every tensor's
    dtype, shape and byte range: within the data, no overlap, no gap, bytes = prod(shape) *
    itemsize, total within ``max_bytes``; then ``check`` on the shapes); only then does the
    ``safetensors`` package read the tensors (its NumPy API), or, when some are bfloat16, which it
    cannot read, they are read from those checked byte ranges by hand. F16 and BF16 come back as
    float32.
    """
    if len(data) < 8:
        raise WeightsFileError(f"not a valid .safetensors file: {len(data)} bytes, truncated")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise WeightsFileError(f"not a valid .safetensors file: its header claims {n:,} bytes but the file "
                               f"has {len(data) - 8:,} after the length: truncated")
    if n > MAX_HEADER_BYTES:
        raise WeightsFileError(f"the .safetensors header takes {n:,} bytes, more than {MAX_HEADER_BYTES:,}")
    with refusing("the .safetensors header is not valid UTF-8 JSON"):
        header = json.loads(data[8 : 8 + n].decode(), parse_constant=refuse_constant)
    if not isinstance(header, dict):
        raise WeightsFileError("the .safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None)
    meta = {} if meta is None else meta  # (an empty list is not: the loader wants a map)
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
    if any(t.bfloat16 for t in tensors):  # the package's NumPy API has no bfloat16: by hand,
        start = 8 + n  # from the byte ranges checked above (little-endian, as the format says)
        loaded = {t.key: np.frombuffer(data, t.dtype.newbyteorder("<"), math.prod(t.shape), start + t.begin)
                  .reshape(t.shape) for t in tensors}
    else:
        from safetensors import SafetensorError
        from safetensors.numpy import load as st_load

        with refusing("not a valid .safetensors file", (SafetensorError,)):
            loaded = st_load(bytes(data))
    arrays = {}
    for t in tensors:
        a = loaded[t.key]
        if t.bfloat16:
            a = bfloat16_to_float32(a)
        elif a.dtype == np.float16:
            a = a.astype(np.float32)
        check_finite(t.key, a)
        arrays[t.key] = a
    return arrays, untie(arrays, meta)


def untie(arrays: dict[str, np.ndarray], meta: Mapping[str, str]) -> dict[str, str]:
    """Tied weights back under every name: ``safetensors.torch.save_model`` writes a tensor shared
    by several names once and records each other name in the metadata (``{"encoder.weight":
    "decoder.weight"}``: removed name -> kept name). Each such entry puts the kept array under the
    removed name too (in ``arrays``); the metadata is returned without them."""
    rest = {}
    for key, value in meta.items():
        if value in arrays and key not in arrays and _ST_KEY.fullmatch(key):
            arrays[key] = arrays[value]
        else:
            rest[key] = value
    return rest


def _tensor_entry(key: object, entry: object, buffer: int) -> _Tensor:
    """One tensor's header entry, checked against the data buffer's size."""
    if not isinstance(key, str) or not _ST_KEY.fullmatch(key):
        raise WeightsFileError(f"tensor name {str(key)[:60]!r} is not allowed")
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise WeightsFileError(f"tensor {key!r}: its header entry must hold dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str):
        raise WeightsFileError(f"tensor {key!r}: its dtype must be a string such as \"F32\"")
    if dtype not in _ST_DTYPES:
        if _ST_QUANTIZED.fullmatch(dtype):
            raise quantized(f"tensor {key!r} has dtype {dtype}")
        raise WeightsFileError(f"tensor {key!r} has dtype {str(dtype)[:20]!r}: only float (F16, BF16, F32, "
                               "F64), int and bool tensors are read")
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
    return _Tensor(key, np.dtype(_ST_DTYPES[dtype]), tuple(shape), begin, end, bfloat16=dtype == "BF16")
