"""Weights files: NumPy ``.npz`` archives, read without pickle, and refused with a clear message.

The format
----------
A weights file is an ``.npz`` (a zip of ``.npy`` arrays, as ``np.savez`` writes it) holding

- the cell's parameters under PyTorch's names: ``weight_ih_l0`` (G*H, I), ``weight_hh_l0`` (G*H, H),
  ``bias_ih_l0`` (G*H,), ``bias_hh_l0`` (G*H,); the names of ``torch.nn.LSTMCell/GRUCell/RNNCell``
  (no ``_l0``) are read too;
- ``arch``: the architecture, ``b"lstm"``, ``b"gru"`` or ``b"rnn"`` (a tanh RNN), as a uint8 array;
- optionally ``__meta__``: a JSON object as UTF-8 bytes in a uint8 array (``save`` writes it).

How to write one from PyTorch or Keras, in two lines: ``TORCH_SNIPPET`` and ``KERAS_SNIPPET`` below
(tested as they are written; the app's upload page shows them).

Text is stored as bytes in a uint8 array because a weights file holds numbers only: the reader
accepts arrays of bool, int, uint or float, never objects (pickle), strings or records.

What the reader checks, before it decompresses or allocates anything: the file is a zip of at most
``MAX_MEMBERS`` ``.npy`` members, stored or deflated, not encrypted, no name twice; every member's
header, parsed as a literal by ``numpy.lib.format`` (nothing is evaluated, nothing unpickled), has
an allowed dtype and describes exactly as many bytes as the member holds; their total is at most
``max_bytes``. Then it reads the data (zip's CRC checked) and refuses NaN and infinity. Every
refusal is a ``ValueError`` (``WeightsFileError``) that says what is wrong.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import struct
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
from numpy.lib import format as npy

from cells.io.errors import WeightsFileError, refuse_constant, refusing

TORCH_SNIPPET = """\
# model: a one-layer torch.nn.LSTM (for nn.GRU write b"gru", for nn.RNN with tanh b"rnn")
np.savez("my_lstm.npz", arch=np.frombuffer(b"lstm", np.uint8),
         **{k: v.numpy() for k, v in model.state_dict().items()})
"""
KERAS_SNIPPET = """\
# layer: a keras.layers.GRU with reset_after=True (the default), LSTM (b"lstm") or SimpleRNN (b"rnn"),
# with their default activations and a bias
kernel, recurrent_kernel, bias = layer.get_weights()
np.savez("my_gru.npz", arch=np.frombuffer(b"gru", np.uint8),
         kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias)
"""

NPZ = "npz"

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO

MAX_MEMBERS = 64  # arrays in one file
DEFAULT_MAX_BYTES = 64 * 2**20  # array data in one file, uncompressed
MAX_META_BYTES = 2**20
META_KEY = "__meta__"
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,99}")
_ALLOWED_KINDS = "biuf"  # bool, int, uint, float
_EOCD = struct.Struct("<4s4H2LH")  # zip's end-of-central-directory record
_MAX_DIRECTORY_BYTES = MAX_MEMBERS * 1024  # central directory entries of sane length


def save_arrays(dest: str | os.PathLike | BinaryIO, arrays: Mapping[str, np.ndarray],
                meta: Mapping[str, Any] | None = None) -> None:
    """Write ``arrays`` (name -> bool/int/float array) and a JSON ``meta`` dict as an ``.npz``.

    Everything written is what ``load_arrays`` accepts: names match ``[A-Za-z_][A-Za-z0-9_.]*``,
    floats are finite, and ``meta`` must come back equal from JSON (str keys, lists not tuples).
    ``dest`` is a path (written as given, no suffix added) or a binary file open for writing.
    """
    members = {}
    for key, a in arrays.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key) or key == META_KEY:
            raise ValueError(f"array name {key!r} is not allowed: use letters, digits, '_' and '.'")
        a = np.asarray(a)
        _check_dtype(key, a.dtype)
        check_finite(key, a)
        members[key] = a
    if meta:
        members[META_KEY] = np.frombuffer(_meta_bytes(meta), np.uint8)
    with _writable(dest) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        for key, a in members.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as member:
                npy.write_array(member, a, allow_pickle=False)


def load_arrays(src: Source, *, max_bytes: int = DEFAULT_MAX_BYTES,
                check: Callable[[Mapping[str, tuple[int, ...]]], None] | None = None
                ) -> tuple[dict[str, np.ndarray], dict]:
    """Read an ``.npz`` safely: (name -> array, meta dict). Any bad file is a ``WeightsFileError``.

    ``src`` is a path, the file's bytes, or a binary file object (an upload). ``max_bytes`` caps
    the array data (uncompressed); the file is refused before anything that large is allocated.
    ``check``, if given, is called with every array's declared shape (name -> shape) before any
    data is read, and may refuse the file.
    """
    with readable(src, max_bytes) as f:
        check_zip_directory(f)
        with refusing("not a valid .npz (zip) file"):
            zf = zipfile.ZipFile(f)
        with zf:
            headers = [_member_header(zf, info) for info in _members(zf)]
            total = sum(h.nbytes for h in headers)
            if total > max_bytes:
                raise WeightsFileError(
                    f"the arrays would take {total:,} bytes, more than the limit of {max_bytes:,}")
            if check is not None:
                check({h.key: h.shape for h in headers})
            arrays = {h.key: _member_array(zf, h) for h in headers}
    meta = arrays.pop(META_KEY, None)
    return arrays, ({} if meta is None else _meta_from_array(meta))


def text_array(text: str) -> np.ndarray:
    """``text`` as the uint8 array of its UTF-8 bytes: how a weights file stores a string."""
    return np.frombuffer(text.encode(), np.uint8)


@dataclass(frozen=True)
class _Header:
    """What a member's .npy header declares, checked against the member's size."""

    info: zipfile.ZipInfo
    key: str
    header_bytes: int  # magic + header, before the data
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


@contextmanager
def readable(src: Source, max_bytes: int) -> Iterator[BinaryIO]:
    """A seekable binary file for ``src``, refusing one larger than the data cap allows."""
    max_file = max_bytes + 2**20  # zip and .npy headers on top of the array data
    if isinstance(src, str | os.PathLike):
        size = os.stat(src).st_size
        if size > max_file:
            raise WeightsFileError(f"the file has {size:,} bytes, more than the limit of {max_file:,}")
        with open(src, "rb") as f:
            yield f
        return
    if isinstance(src, bytes | bytearray | memoryview):
        data = src
    elif hasattr(src, "read"):
        data = src.read(max_file + 1)
        if not isinstance(data, bytes):
            raise TypeError(f"expected a binary file, its read() gave {type(data).__name__}")
    else:
        raise TypeError(f"expected a path, bytes or a binary file, got {type(src).__name__}")
    if len(data) > max_file:
        raise WeightsFileError(f"the file has more than the limit of {max_file:,} bytes")
    yield io.BytesIO(data)


@contextmanager
def _writable(dest: str | os.PathLike | BinaryIO) -> Iterator[BinaryIO]:
    if isinstance(dest, str | os.PathLike):
        with open(dest, "wb") as f:
            yield f
    else:
        yield dest


def check_zip_directory(f: BinaryIO) -> None:
    """Read the zip's end record ourselves and refuse a huge directory before zipfile parses it."""
    head = f.read(len(npy.MAGIC_PREFIX))
    size = f.seek(0, io.SEEK_END)
    f.seek(max(0, size - _EOCD.size - 0xFFFF))  # the record, then a comment of up to 64 KiB
    tail = f.read()
    f.seek(0)
    if head == npy.MAGIC_PREFIX:
        raise WeightsFileError("this is a single .npy array, not an .npz archive of named arrays")
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        kind = "a pickle, never loaded" if head[:1] == b"\x80" else "not a zip archive, or truncated"
        raise WeightsFileError(f"not a valid .npz file ({kind})")
    _, _, _, _, entries, directory_bytes, _, _ = _EOCD.unpack_from(tail, at)
    _check_member_count(entries)
    if directory_bytes > _MAX_DIRECTORY_BYTES:
        raise WeightsFileError(f"the archive's directory takes {directory_bytes:,} bytes: too many members")


def _check_member_count(n: int) -> None:
    if n > MAX_MEMBERS:
        raise WeightsFileError(f"too many members in the archive ({n}); at most {MAX_MEMBERS} are allowed")


def _members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's members, each a plain ``<name>.npy``, after checks that need no decompression."""
    infos = zf.infolist()
    _check_member_count(len(infos))
    names = [info.filename for info in infos]
    if len(set(names)) < len(names):
        raise WeightsFileError("the archive holds a member name twice")
    for info in infos:
        if not info.filename.endswith(".npy") or not _KEY.fullmatch(info.filename[:-4]):
            raise WeightsFileError(f"member {info.filename!r} is not a plain <name>.npy array")
        if info.flag_bits & 0x1:
            raise WeightsFileError(f"member {info.filename!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise WeightsFileError(f"member {info.filename!r} uses an unsupported compression")
    return infos


def _member_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Header:
    """Parse and check one member's .npy header, reading only the header."""
    key = info.filename[:-4]
    with refusing(f"array {key!r} is corrupt or not a valid .npy array"), zf.open(info) as f:
        version = npy.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise WeightsFileError(f"array {key!r}: unsupported .npy format version {version}")
        read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran_order, dtype = read_header(f)
        header = _Header(info, key, f.tell(), shape, fortran_order, dtype)
    _check_dtype(key, dtype)
    if any(n < 0 for n in shape):
        raise WeightsFileError(f"array {key!r}: its header declares a negative dimension, shape {shape}")
    data_bytes = info.file_size - header.header_bytes
    if header.nbytes != data_bytes:
        raise WeightsFileError(
            f"array {key!r}: its header declares shape {shape} of {dtype} ({header.nbytes:,} bytes), "
            f"but the member holds {data_bytes:,} bytes of data"
        )
    return header


def _member_array(zf: zipfile.ZipFile, h: _Header) -> np.ndarray:
    """Read one member's data, now that its size is known to be right and within the cap."""
    buffer = bytearray(h.nbytes)
    with refusing(f"array {h.key!r} is corrupt or truncated"), zf.open(h.info) as f:
        f.read(h.header_bytes)
        got = f.readinto(buffer)
        f.read(1)  # to the end of the member, so that zipfile checks its CRC
    if got != h.nbytes:
        raise WeightsFileError(f"array {h.key!r} is truncated: {got:,} of {h.nbytes:,} bytes")
    a = np.frombuffer(buffer, h.dtype).reshape(h.shape, order="F" if h.fortran_order else "C")
    a = a.astype(h.dtype.newbyteorder("="), copy=False)  # native byte order, same values
    check_finite(h.key, a)
    return a


def _check_dtype(key: str, dtype: np.dtype) -> None:
    if dtype.hasobject:
        raise WeightsFileError(f"array {key!r} holds Python objects (pickle), which are never loaded")
    if dtype.kind in "SU":
        raise WeightsFileError(
            f"array {key!r} holds strings ({dtype}); store text as uint8 bytes, "
            f"e.g. np.frombuffer(b'lstm', np.uint8)"
        )
    if dtype.kind not in _ALLOWED_KINDS or dtype.names is not None:
        raise WeightsFileError(f"array {key!r} has dtype {dtype}: only bool, int and float are allowed")


def check_finite(key: str, a: np.ndarray) -> None:
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise WeightsFileError(f"array {key!r} holds NaN or infinity")


def _meta_bytes(meta: Mapping[str, Any]) -> bytes:
    try:
        text = json.dumps(meta, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"meta must be JSON-serialisable: {e}") from e
    if json.loads(text) != meta:
        raise ValueError("meta must come back equal from JSON: use str keys, lists rather than tuples")
    return text.encode()


def _meta_from_array(a: np.ndarray) -> dict:
    if a.dtype != np.uint8 or a.ndim != 1 or a.size > MAX_META_BYTES:
        raise WeightsFileError(f"{META_KEY} must be at most {MAX_META_BYTES:,} UTF-8 bytes as a uint8 array")

    with refusing(f"{META_KEY} is not valid UTF-8 JSON"):
        meta = json.loads(a.tobytes().decode(), parse_constant=refuse_constant)
    if not isinstance(meta, dict):
        raise WeightsFileError(f"{META_KEY} must be a JSON object, got {type(meta).__name__}")
    return meta
