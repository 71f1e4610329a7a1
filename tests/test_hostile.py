"""Uploads that try to reach the server's disk, and weights that are not float (issue #18).

A .keras whose model.weights.h5 points outside itself (HDF5 external storage, a virtual dataset,
an external link, a soft link) is refused before any of its data is read, and the file it points at
is never opened: Linux inotify watches that file, and a positive control (h5py reading the same
hostile file the ordinary way) shows that the watch sees an open and that the hostile file really
does take its weights from there. Integer and quantized weights are refused in every format with
one message that gives the line that dequantizes them.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from model_files import (
    VOCAB5,
    FileWatch,
    char_model_npz,
    edit_h5,
    keras_archive,
    members,
    raw_safetensors,
    safetensors_header,
    with_config,
    word_model_arrays,
)
from safetensors.numpy import save as st_save
from test_weights import arch_array, npz_bytes, random_params, refused

import cells
from cells.io.errors import DEQUANTIZE

KERNEL = "layers/gru/cell/vars/0"  # the GRU's kernel (3, 12), float32
OUTSIDE = ["never (read|followed)", "own bytes only", r'model\.save\("model\.keras"\)']
SECRET = np.full((3, 12), 0.123, np.float32)  # values no Keras initialiser makes

pytestmark = pytest.mark.filterwarnings(  # Keras's torch backend and NumPy 2, not ours
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


@pytest.fixture(scope="module")
def good_keras(tmp_path_factory) -> bytes:
    return keras_archive(tmp_path_factory.mktemp("keras"))


@pytest.fixture
def secret(tmp_path) -> Path:
    """A file on the server's disk holding exactly the bytes of a (3, 12) float32 kernel."""
    path = tmp_path / "secret.bin"
    SECRET.tofile(path)
    return path


def h5_of(archive: bytes) -> bytes:
    return members(archive)["model.weights.h5"]


def read_kernel_the_ordinary_way(archive: bytes, tmp_path: Path) -> np.ndarray:
    """What h5py itself gives for the kernel, reading the weights file from disk as users do."""
    path = tmp_path / "model.weights.h5"
    path.write_bytes(h5_of(archive))
    with h5py.File(path, "r") as f:
        return f[KERNEL][()]


def refused_without_opening(archive: bytes, outside: Path, *pattern: str) -> str:
    watch = FileWatch(outside)
    try:
        message = refused(archive, *pattern, reader=cells.read_model, vocab=VOCAB5)
        assert not watch.opened(), f"reading the upload opened {outside}"
    finally:
        watch.close()
    return message


def test_the_file_watch_sees_an_open(secret):
    watch = FileWatch(secret)
    try:
        assert not watch.opened()
        secret.read_bytes()
        assert watch.opened()
    finally:
        watch.close()


def test_a_dataset_in_external_storage_is_refused_and_its_file_never_opened(good_keras, secret, tmp_path):
    def external(f):
        del f[KERNEL]
        f.create_dataset(KERNEL, shape=(3, 12), dtype="f4", external=[(str(secret), 0, 3 * 12 * 4)])

    hostile = edit_h5(good_keras, external)
    watch = FileWatch(secret)
    try:  # the control: read the ordinary way, the kernel is the secret file's bytes
        np.testing.assert_array_equal(read_kernel_the_ordinary_way(hostile, tmp_path), SECRET)
        assert watch.opened()
    finally:
        watch.close()
    message = refused_without_opening(hostile, secret, f"'{KERNEL}'", "external storage", *OUTSIDE)
    assert str(secret) not in message  # the message names the array, not the server's path


def test_a_virtual_dataset_is_refused_and_its_source_never_opened(good_keras, tmp_path):
    source = tmp_path / "source.h5"
    with h5py.File(source, "w") as s:
        s["x"] = np.full((3, 12), 0.25, np.float32)

    def virtual(f):
        del f[KERNEL]
        layout = h5py.VirtualLayout(shape=(3, 12), dtype="f4")
        layout[:] = h5py.VirtualSource(str(source), "x", shape=(3, 12))
        f.create_virtual_dataset(KERNEL, layout)

    hostile = edit_h5(good_keras, virtual)
    np.testing.assert_array_equal(read_kernel_the_ordinary_way(hostile, tmp_path), np.float32(0.25))
    refused_without_opening(hostile, source, f"'{KERNEL}'", "virtual dataset", *OUTSIDE)


def test_an_external_link_is_refused_and_its_target_never_opened(good_keras, tmp_path):
    target = tmp_path / "target.h5"
    with h5py.File(target, "w") as t:
        t["x"] = np.full((3, 12), 0.5, np.float32)

    def link(f):
        del f[KERNEL]
        f[KERNEL] = h5py.ExternalLink(str(target), "x")

    hostile = edit_h5(good_keras, link)
    np.testing.assert_array_equal(read_kernel_the_ordinary_way(hostile, tmp_path), np.float32(0.5))
    refused_without_opening(hostile, target, f"'{KERNEL}'", "external link", *OUTSIDE)


def test_a_soft_link_is_refused(good_keras):
    def link(f):
        f["elsewhere"] = f[KERNEL][()]
        del f[KERNEL]
        f[KERNEL] = h5py.SoftLink("/elsewhere")

    refused(edit_h5(good_keras, link), f"'{KERNEL}'", "soft link", *OUTSIDE, reader=cells.read_model,
            vocab=VOCAB5)


def test_the_whole_file_is_walked_not_only_the_arrays_the_model_needs(good_keras, secret, tmp_path):
    """An array no layer reads (an optimizer variable, say) may not point outside either."""
    def external_elsewhere(f):
        f.create_dataset("optimizer/vars/0", shape=(36,), dtype="f4", external=[(str(secret), 0, 144)])

    refused_without_opening(edit_h5(good_keras, external_elsewhere), secret, "'optimizer/vars/0'",
                            "external storage")

    target = tmp_path / "target.h5"
    with h5py.File(target, "w") as t:
        t.create_group("g")

    def link_elsewhere(f):
        f["vars/anything"] = h5py.ExternalLink(str(target), "g")

    refused_without_opening(edit_h5(good_keras, link_elsewhere), target, "'vars/anything'", "external link")


def test_a_filter_hdf5_would_load_from_disk_is_refused_before_reading(good_keras):
    """lzf is h5py's own filter, not HDF5's: a file naming a filter HDF5 lacks makes it look for a
    plugin on disk. (lzf is registered by h5py here, so writing it works.)"""
    def lzf(f):
        data = f[KERNEL][()]
        del f[KERNEL]
        f.create_dataset(KERNEL, data=data, compression="lzf")

    refused(edit_h5(good_keras, lzf), f"'{KERNEL}'", "filter 32000", "plugin", reader=cells.read_model,
            vocab=VOCAB5)

    def deflate(f):  # a built-in filter reads as before
        data = f[KERNEL][()]
        del f[KERNEL]
        f.create_dataset(KERNEL, data=data, compression="gzip", shuffle=True, fletcher32=True)

    original = cells.read_model(good_keras, vocab=VOCAB5).cell.params["weight_ih_l0"]
    compressed = cells.read_model(edit_h5(good_keras, deflate), vocab=VOCAB5).cell.params["weight_ih_l0"]
    np.testing.assert_array_equal(compressed, original)


def test_hdf5_plugin_paths_are_empty_while_an_upload_is_parsed_and_restored_after(good_keras, monkeypatch):
    from h5py import h5pl

    before = [h5pl.get(i) for i in range(h5pl.size())]
    seen = []
    real = h5py.File

    def spy(*args, **kwargs):
        seen.append(h5pl.size())
        return real(*args, **kwargs)

    monkeypatch.setattr(h5py, "File", spy)
    cells.read_model(good_keras, vocab=VOCAB5)
    assert seen == [0]
    assert [h5pl.get(i) for i in range(h5pl.size())] == before


# -- integer and quantized weights, every format ----------------------------------------------------

QUANTIZED = ["quantized or integer weights are not read", "dequantize to float first", re.escape(DEQUANTIZE)]


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64, np.bool_])
def test_integer_weights_in_an_npz_are_refused(dtype):
    params = random_params("lstm")
    params["weight_hh_l0"] = (params["weight_hh_l0"] * 100).astype(dtype)
    data = npz_bytes(arch=arch_array("lstm"), **params)
    refused(data, "'weight_hh_l0'", np.dtype(dtype).name, *QUANTIZED)
    refused(data, "'weight_hh_l0'", *QUANTIZED, reader=cells.read_model)


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint16])
def test_integer_weights_in_a_safetensors_file_are_refused(dtype):
    arrays = {k: (v * 100).astype(dtype) if k == "weight_ih_l0" else v
              for k, v in random_params("gru", np.float32).items()}
    refused(st_save(arrays), "'weight_ih_l0'", np.dtype(dtype).name, *QUANTIZED)


def test_an_integer_embedding_or_head_is_refused():
    assert cells.read_model(st_save(word_model_arrays()), vocab=VOCAB5).guesses_tokens
    for key in ("encoder.weight", "decoder.weight"):
        arrays = word_model_arrays()
        arrays[key] = arrays[key].astype(np.int32)
        refused(st_save(arrays), f"'{key}'", "int32", *QUANTIZED, reader=cells.read_model, vocab=VOCAB5)


@pytest.mark.parametrize("dtype", ["F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "I4", "U4"])
def test_quantized_safetensors_dtypes_are_refused_by_the_header(dtype):
    header, body = safetensors_header(st_save(random_params("gru", np.float32)))
    header["weight_ih_l0"]["dtype"] = dtype
    refused(raw_safetensors(header, body), "'weight_ih_l0'", dtype, *QUANTIZED)


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")  # deprecated, still made
def test_a_quantized_torch_state_dict_is_refused_and_the_line_in_the_message_reads_it(tmp_path, monkeypatch):
    torch.manual_seed(0)
    q = {k: torch.quantize_per_tensor(v.detach(), 0.01, 0, torch.qint8)
         for k, v in torch.nn.GRU(2, 3).state_dict().items()}
    from safetensors.torch import save as st_torch_save

    int_repr = st_torch_save({k: v.int_repr() for k, v in q.items()})  # what a quantized export holds
    refused(int_repr, "is int8", *QUANTIZED)

    class Quantized:
        def state_dict(self):
            return q

    monkeypatch.chdir(tmp_path)
    exec(f"from safetensors.torch import save_file\n{DEQUANTIZE}", {"model": Quantized()})
    cell, _ = cells.load(tmp_path / "model.safetensors")
    for k, v in q.items():
        np.testing.assert_array_equal(cell.params[k], v.dequantize().numpy())


def test_integer_weights_in_a_keras_file_are_refused(good_keras):
    def integer_kernel(f):
        data = f[KERNEL][()]
        del f[KERNEL]
        f[KERNEL] = (data * 100).astype(np.int8)

    refused(edit_h5(good_keras, integer_kernel), KERNEL, "int8", *QUANTIZED, reader=cells.read_model,
            vocab=VOCAB5)


@pytest.mark.parametrize("mode", ["int8", "int4", "float8"])
def test_a_keras_model_quantized_by_keras_is_refused(mode, tmp_path):
    """int8 and int4 keep integer kernels; float8 keeps float32 kernels with scales that the float
    reading would ignore: refused from config.json, before the weights are read."""
    import keras

    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(5, 3),
                              keras.layers.LSTM(4, return_sequences=True), keras.layers.Dense(5)])
    model.quantize(mode)
    path = tmp_path / "model.keras"
    model.save(path)
    refused(path.read_bytes(), "layer", "is quantized", *QUANTIZED, reader=cells.read_model, vocab=VOCAB5)


def test_a_keras_dtype_policy_naming_a_quantization_is_refused(good_keras):
    def policy(config):
        config["config"]["layers"][2]["config"]["dtype"] = "int8_from_float32"

    refused(with_config(good_keras, policy), "GRU layer 'gru", "int8_from_float32", *QUANTIZED,
            reader=cells.read_model, vocab=VOCAB5)


def test_vocabularies_and_arch_markers_may_be_integers_and_float16_weights_still_read():
    """Only weights must be float: a character model keeps its vocabulary as int32 code points and
    its arch as uint8 bytes; float16 weights are read."""
    data = char_model_npz()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert {"vocab.npy", "arch.npy"} <= set(zf.namelist())
    arrays, _ = cells.load_arrays(data)
    assert arrays["vocab"].dtype == np.int32 and arrays["arch"].dtype == np.uint8
    assert cells.read_model(data).encoder.vocab == "ab c"
    half = {k: v.astype(np.float16) for k, v in random_params("gru", np.float32).items()}
    for data in (st_save(half), npz_bytes(arch=arch_array("gru"), **half)):
        cell, _ = cells.load(data)
        for k, v in half.items():
            np.testing.assert_array_equal(cell.params[k], v)  # float16 widens exactly
