"""Good model files of every format, built at test time by the real libraries, and the edits that
make bad ones (tests/test_hostile.py, tests/test_fuzz.py)."""

from __future__ import annotations

import ctypes
import io
import json
import os
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

import cells
from cells.io.model_files import save_model
from cells.io.npz import save_arrays

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported (inside keras_archive)

VOCAB5 = list("abcde")


def keras_archive(tmp: Path) -> bytes:
    """A Keras 3 .keras of Embedding(5, 3) + GRU(4) + Dense(5), saved by Keras (vocabulary VOCAB5)."""
    import keras

    assert keras.backend.backend() == "torch"
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(5, 3),
                              keras.layers.GRU(4, return_sequences=True), keras.layers.Dense(5)])
    path = tmp / "model.keras"
    model.save(path)
    return path.read_bytes()


def members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(archive: bytes, replace: dict[str, bytes]) -> bytes:
    """The archive with some members replaced (or added), written again by zipfile."""
    out = {**members(archive), **replace}
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w") as zf:
        for name, data in out.items():
            zf.writestr(name, data)
    return f.getvalue()


def edit_h5(archive: bytes, edit: Callable[[h5py.File], None]) -> bytes:
    """The archive with its model.weights.h5 edited by ``edit(h5py.File)``."""
    h5 = io.BytesIO(members(archive)["model.weights.h5"])
    with h5py.File(h5, "a") as f:
        edit(f)
    return rezip(archive, {"model.weights.h5": h5.getvalue()})


def with_config(archive: bytes, edit: Callable[[dict], None]) -> bytes:
    config = json.loads(members(archive)["config.json"])
    edit(config)
    return rezip(archive, {"config.json": json.dumps(config).encode()})


def safetensors_header(data: bytes) -> tuple[dict, bytes]:
    """A .safetensors file's JSON header and the data after it."""
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def raw_safetensors(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def word_model_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """An embedding (5, 3) + GRU(3 -> 4) + head (5, 4) state_dict, as torch names it, float32."""
    rng = np.random.default_rng(seed)
    params = cells.init_params("gru", 3, 4, seed=seed, dtype=np.float32)
    return {"encoder.weight": rng.normal(size=(5, 3)).astype(np.float32), **params,
            "decoder.weight": rng.normal(size=(5, 4)).astype(np.float32),
            "decoder.bias": np.zeros(5, np.float32)}


def char_model_npz() -> bytes:
    """gatescope's own character model file: a GRU over 4 characters and the unknown one, its
    vocabulary as int32 code points, its arch as uint8 bytes."""
    cell = cells.make_cell("gru", cells.init_params("gru", 5, 5, seed=1))  # 4 characters and unknown
    readout = cells.Readout(np.random.default_rng(1).normal(size=(5, 5)), np.zeros(5))
    f = io.BytesIO()
    save_model(cells.CharModel(cell, "ab c", readout), f, np.float32)
    return f.getvalue()


def series_model_npz() -> bytes:
    """gatescope's own series model file: an LSTM of one input and a next-value readout, with the
    normalisation of its series in the meta."""
    cell = cells.make_cell("lstm", cells.init_params("lstm", 1, 3, seed=2))
    readout = cells.Readout(np.ones((1, 3)), np.zeros(1))
    encoder = cells.NumberEncoder(2.5, 4.0)
    f = io.BytesIO()
    save_model(cells.Reader(cell, encoder, readout, {}), f, np.float32)
    return f.getvalue()


def melody_model_npz() -> bytes:
    """gatescope's own melody model file: an RNN over 3 note tokens (and the unknown one), its
    vocabulary a JSON list as UTF-8 bytes."""
    cell = cells.make_cell("rnn", cells.init_params("rnn", 4, 3, seed=3))
    readout = cells.Readout(np.ones((4, 3)), np.zeros(4))
    f = io.BytesIO()
    save_model(cells.MelodyModel(cell, ["A4 e", "G4 q", "C5 e"], readout), f, np.float32)
    return f.getvalue()


def meta_arch_npz() -> bytes:
    """A bare LSTM whose architecture is said by its meta alone (no arch array)."""
    f = io.BytesIO()
    save_arrays(f, cells.init_params("lstm", 2, 3, seed=4, dtype=np.float32), {"arch": "lstm"})
    return f.getvalue()


class FileWatch:
    """Linux inotify on one file: :meth:`opened` says whether anyone opened or read it since the
    last call (any process, root included: permissions do not hide an open from inotify)."""

    IN_ACCESS, IN_OPEN, IN_NONBLOCK = 0x1, 0x20, 0o4000

    def __init__(self, path: Path) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(self.IN_NONBLOCK)
        events = self.IN_OPEN | self.IN_ACCESS
        if self.fd < 0 or libc.inotify_add_watch(self.fd, os.fsencode(path), events) < 0:
            raise OSError(ctypes.get_errno(), f"inotify on {path}")

    def opened(self) -> bool:
        try:
            return len(os.read(self.fd, 4096)) > 0
        except BlockingIOError:
            return False

    def close(self) -> None:
        os.close(self.fd)
