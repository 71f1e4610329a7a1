"""Weights files: exact round trips, the documented PyTorch two-liner, and every kind of bad file.

Bad files are built here by hand (raw zip members, raw .npy headers, pickles) so that each check
of the reader is exercised by a file that fails it, and only it.
"""

from __future__ import annotations

import io
import pickle
import re
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.lib import format as npy

import cells
from cells.io import npz
from cells.io.layouts import from_keras
from cells.io.model_files import cell_arrays, cell_from_arrays, load, save
from cells.io.npz import load_arrays, save_arrays

ARCHS = ("lstm", "gru", "rnn")
TORCH_MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
TORCH_CELLS = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell, "rnn": torch.nn.RNNCell}


def random_params(arch: str, dtype=np.float64, I: int = 3, H: int = 4, seed: int = 0) -> dict:
    return cells.init_params(arch, I, H, seed=seed, dtype=dtype)


def npz_bytes(**arrays) -> bytes:
    """A file as np.savez writes it (which pickles object arrays: the attacker's tool)."""
    f = io.BytesIO()
    np.savez(f, **arrays)
    return f.getvalue()


def arch_array(arch: str) -> np.ndarray:
    return np.frombuffer(arch.encode(), np.uint8)


def good_arrays(kind: str = "lstm", **override) -> dict:
    """The arrays of a good ``kind`` file, with some replaced or added."""
    return {"arch": arch_array(kind), **random_params(kind), **override}


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name, which one test wants
        with zipfile.ZipFile(f, "w", compression) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
    return f.getvalue()


def npy_member(header: dict, data: bytes) -> bytes:
    """A raw .npy file: any header we like, followed by any data."""
    f = io.BytesIO()
    npy.write_array_header_1_0(f, header)
    return f.getvalue() + data


def npy_bytes(a: np.ndarray) -> bytes:
    f = io.BytesIO()
    npy.write_array(f, a)
    return f.getvalue()


def good_members(arch: str = "lstm") -> dict[str, bytes]:
    return {f"{k}.npy": npy_bytes(a) for k, a in good_arrays(arch).items()}


def refused(src, *pattern: str, reader=load, **kwargs) -> str:
    """Read ``src`` with ``reader`` (``cells.load``), expect a ValueError whose message matches every
    pattern; return the message."""
    with pytest.raises(ValueError) as e:
        reader(src, **kwargs)
    message = str(e.value)
    for p in pattern:
        assert re.search(p, message, re.IGNORECASE), f"{p!r} not in {message!r}"
    return message


# -- good files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("arch", ARCHS)
def test_round_trip_is_exact(arch, dtype, tmp_path):
    cell = cells.make_cell(arch, random_params(arch, dtype, seed=7))
    meta = {"corpus": "fortunes ✓", "bits_per_char": 2.0512345678901234, "steps": [1, 2, 3], "ok": True}
    path = tmp_path / "model.weights"  # any name: nothing is appended
    save(path, cell, **meta)
    assert path.exists() and not (tmp_path / "model.weights.npz").exists()
    for src in (path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes())):
        loaded, loaded_meta = load(src)
        assert loaded.arch == arch and loaded_meta == meta
        assert loaded.params.keys() == cell.params.keys()
        for k, a in cell.params.items():
            assert loaded.params[k].dtype == a.dtype
            assert loaded.params[k].shape == a.shape
            assert loaded.params[k].tobytes() == a.tobytes(), k  # bitwise


def test_save_arrays_round_trip_keeps_every_allowed_dtype():
    arrays = {
        "readout.weight": np.arange(12, dtype=np.float32).reshape(3, 4),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "ids": np.array([3, -1, 2**40], dtype=np.int64),
        "mask": np.array([True, False]),
        "vocab": npz.text_array("abc\u00e9"),
        "scalar": np.float64(0.1),
        "empty": np.zeros((0, 5)),
    }
    f = io.BytesIO()
    save_arrays(f, arrays, {"vocab_size": 4})
    loaded, meta = load_arrays(f.getvalue())
    assert meta == {"vocab_size": 4}
    assert loaded.keys() == arrays.keys()
    for k, a in arrays.items():
        a = np.asarray(a)
        assert loaded[k].dtype == a.dtype and loaded[k].shape == a.shape and np.array_equal(loaded[k], a)
    assert loaded["vocab"].tobytes().decode() == "abc\u00e9"


def test_loaded_big_endian_arrays_become_native_with_the_same_values():
    a = np.linspace(-1, 1, 6).astype(">f8")
    loaded, _ = load_arrays(zip_bytes({"a.npy": npy_bytes(a)}))
    assert loaded["a"].dtype == np.dtype("=f8") and np.array_equal(loaded["a"], a)


@pytest.mark.parametrize("arch", ARCHS)
def test_documented_torch_two_liner_loads_and_matches_torch(arch, tmp_path, monkeypatch):
    """Run the snippet exactly as the module shows it, then compare forward with torch."""
    torch.manual_seed(0)
    model = TORCH_MODULES[arch](input_size=3, hidden_size=5).double()
    monkeypatch.chdir(tmp_path)
    exec(npz.TORCH_SNIPPET.replace('b"lstm"', f'b"{arch}"'), {"np": np, "model": model})
    cell, meta = load(tmp_path / "my_lstm.npz")
    assert cell.arch == arch and meta == {}
    x = np.random.default_rng(1).normal(size=(9, 3))
    with torch.no_grad():
        want = model(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(cell.forward(x).h, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("arch", ARCHS)
def test_torch_cell_state_dict_names_without_l0_load(arch):
    torch.manual_seed(0)
    sd = TORCH_CELLS[arch](3, 4).double().state_dict()
    cell, _ = load(npz_bytes(arch=arch_array(arch), **{k: v.numpy() for k, v in sd.items()}))
    assert sorted(cell.params) == sorted(f"{k}_l0" for k in sd)
    for k, v in sd.items():
        assert np.array_equal(cell.params[f"{k}_l0"], v.numpy())


def test_a_file_with_a_cell_and_more_arrays_round_trips_through_the_generic_pair(tmp_path):
    """How a character model is stored: the cell's arrays, a readout beside them, the vocab in meta."""
    cell = cells.make_cell("lstm", random_params("lstm", seed=3))
    readout = {"readout.weight": np.random.default_rng(0).normal(size=(6, 4)), "readout.bias": np.zeros(6)}
    meta = {"vocab": "ab c\n\u00e9", "cell": "stored", "dest": "names save's arguments do not take"}
    save_arrays(tmp_path / "char.npz", {**cell_arrays(cell), **readout}, meta)
    arrays, loaded_meta = load_arrays(tmp_path / "char.npz")
    assert loaded_meta == meta
    for k, a in readout.items():
        assert np.array_equal(arrays.pop(k), a)
    loaded = cell_from_arrays(arrays, loaded_meta)
    assert all(np.array_equal(loaded.params[k], a) for k, a in cell.params.items())
    refused(tmp_path / "char.npz", "unexpected", "readout.bias")  # load() reads a bare cell only
    save(tmp_path / "cell.npz", cell, **meta)  # meta keys may be any name, even save's parameters'
    assert load(tmp_path / "cell.npz")[1] == meta


def test_arch_may_come_from_meta_alone():
    f = io.BytesIO()
    save_arrays(f, random_params("gru"), {"arch": "gru", "trained_on": "nothing"})
    cell, meta = load(f.getvalue())
    assert cell.arch == "gru" and meta == {"arch": "gru", "trained_on": "nothing"}


# -- bad files: nothing in them runs ---------------------------------------------------------------


class Malicious:
    """Unpickling this creates the marker file: what an attacker's file would do."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_payload_is_live(tmp_path):
    """The control for the two tests below: these payloads do run when pickle is allowed."""
    marker = tmp_path / "control"
    pickle.loads(pickle.dumps(Malicious(marker)))
    assert marker.exists()
    marker.unlink()
    data = npz_bytes(**good_arrays(weight_ih_l0=np.array([Malicious(marker)], dtype=object)))
    np.load(io.BytesIO(data), allow_pickle=True)["weight_ih_l0"]
    assert marker.exists()


def test_pickled_object_array_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    data = npz_bytes(**good_arrays(weight_ih_l0=np.array([Malicious(marker)], dtype=object)))
    refused(data, "weight_ih_l0", "objects", "pickle")
    assert not marker.exists()


def test_pickle_file_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "weights.npz"
    path.write_bytes(pickle.dumps({"weight_ih_l0": Malicious(marker)}))
    refused(path, "pickle")
    assert not marker.exists()


def test_object_dtype_header_is_refused_before_its_data_is_read(tmp_path):
    """A member whose header says dtype object, followed by a pickle: the dtype alone refuses it."""
    marker = tmp_path / "pwned"
    payload = pickle.dumps(np.array([Malicious(marker)], dtype=object))
    member = npy_member({"descr": "|O", "fortran_order": False, "shape": (1,)}, payload)
    refused(zip_bytes({**good_members(), "weight_ih_l0.npy": member}), "objects")
    assert not marker.exists()


# -- bad files: wrong contents ----------------------------------------------------------------------


def test_inconsistent_shapes_are_refused():
    bad = good_arrays("lstm", weight_hh_l0=np.zeros((16, 3)))  # H=4: should be (16, 4)
    refused(npz_bytes(**bad), "weight_hh_l0", "shape")


def test_wrong_number_of_gate_blocks_for_the_arch_is_refused():
    refused(npz_bytes(**good_arrays("rnn", arch=arch_array("lstm"))), "weight_ih_l0", "shape")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_refused(value):
    w = random_params("gru")["bias_hh_l0"].copy()
    w[2] = value
    refused(npz_bytes(**good_arrays("gru", bias_hh_l0=w)), "bias_hh_l0", "NaN or infinity")


def test_missing_key_is_refused():
    arrays = good_arrays("lstm")
    del arrays["bias_hh_l0"]
    refused(npz_bytes(**arrays), "missing", "bias_hh_l0")


def test_a_two_layer_torch_state_dict_is_a_stack_and_a_bidirectional_one_is_read():
    sd = torch.nn.LSTM(3, 4, num_layers=2).state_dict()
    stack, _ = load(npz_bytes(arch=arch_array("lstm"), **{k: v.numpy() for k, v in sd.items()}))
    assert isinstance(stack, cells.Stack) and stack.num_layers == 2
    sd = torch.nn.LSTM(3, 4, bidirectional=True).state_dict()
    both, _ = load(npz_bytes(arch=arch_array("lstm"), **{k: v.numpy() for k, v in sd.items()}))
    assert isinstance(both, cells.Bidirectional) and both.output_size == 8


@pytest.mark.parametrize(
    "arch_value, pattern",
    [
        (np.array("lstm"), "strings"),  # a unicode array
        (np.array([b"lstm"]), "strings"),  # a bytes array
        (arch_array("lstmx"), "unknown arch"),
        (np.array([1.0, 2.0]), "uint8"),
    ],
)
def test_bad_arch_is_refused(arch_value, pattern):
    refused(npz_bytes(**good_arrays(arch=arch_value)), pattern)


def test_missing_arch_is_refused():
    refused(npz_bytes(**random_params("lstm")), "architecture", "arch=np.frombuffer")


def test_arch_array_and_meta_must_agree():
    f = io.BytesIO()
    save_arrays(f, good_arrays("lstm"), {"arch": "gru"})
    refused(f.getvalue(), "'lstm'", "'gru'")


@pytest.mark.parametrize(
    "meta_bytes, pattern",
    [(b"\xff\xfe", "UTF-8 JSON"), (b"{'a': 1}", "JSON"), (b"[1, 2]", "JSON object"),
     (b'{"a": NaN}', "NaN"), (b"[" * 100_000, "JSON")],
)
def test_bad_meta_is_refused(meta_bytes, pattern):
    members = {**good_members(), "__meta__.npy": npy_bytes(np.frombuffer(meta_bytes, np.uint8))}
    refused(zip_bytes(members), "__meta__", pattern)


def test_string_arrays_are_refused_even_in_the_generic_reader():
    record = np.array([("x", 1.0)], dtype=[("s", "U1"), ("v", "f8")])
    for a, pattern in ((np.array(["a", "b"]), "strings"), (np.array([b"a"]), "strings"), (record, "dtype")):
        with pytest.raises(ValueError, match=pattern):
            load_arrays(zip_bytes({"x.npy": npy_bytes(a)}))


# -- bad files: broken containers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, pattern",
    [
        (np.random.default_rng(0).bytes(5000), "not a valid .npz"),
        (b"", "not a valid .npz"),
        (b"weight_ih_l0,0.1,0.2\n", "not a valid .npz"),
        (npy_bytes(np.zeros(3)), "single .npy"),
    ],
    ids=["random-bytes", "empty", "text", "npy-not-npz"],
)
def test_non_zip_files_are_refused(data, pattern):
    refused(data, pattern)


def test_every_truncation_of_a_good_file_is_refused():
    data = zip_bytes(good_members("gru"))
    load(data)  # whole, it is fine
    for n in range(0, len(data) - 1, 7):
        refused(data[:n], "not a valid .npz")


@pytest.mark.parametrize("H", [4, 64], ids=["member-read-with-header", "member-larger-than-a-read"])
def test_corrupted_data_is_refused_by_the_crc_check(H):
    params = random_params("rnn", H=H)
    data = bytearray(zip_bytes({"arch.npy": npy_bytes(arch_array("rnn")),
                                **{f"{k}.npy": npy_bytes(a) for k, a in params.items()}}))
    at = data.index(npy_bytes(params["weight_hh_l0"])[-8:])
    data[at] ^= 0xFF
    refused(bytes(data), "weight_hh_l0", "corrupt", "CRC")


def test_a_parameter_under_both_names_is_refused():
    refused(npz_bytes(**good_arrays("gru", bias_hh=np.zeros(12))), "both with and without")


def test_a_member_shorter_than_its_header_says_is_refused():
    short = npy_member({"descr": "<f8", "fortran_order": False, "shape": (16, 3)}, bytes(8 * 16 * 3 - 8))
    refused(zip_bytes({**good_members(), "weight_ih_l0.npy": short}), "weight_ih_l0", "header declares")


def test_negative_dimensions_are_refused():
    member = npy_member({"descr": "<f8", "fortran_order": False, "shape": (-2, -5)}, bytes(80))
    refused(zip_bytes({**good_members(), "bias_ih_l0.npy": member}), "negative")


def refused_within(memory: int, src, *pattern: str) -> None:
    """``refused``, and Python and NumPy together never held more than ``memory`` bytes meanwhile."""
    tracemalloc.start()
    try:
        refused(src, *pattern)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < memory, f"peak {peak:,} bytes"


def test_gigantic_header_claim_is_refused_before_allocating():
    """8 TB claimed, 80 bytes present: refused, and the reader never allocates anywhere near that."""
    member = npy_member({"descr": "<f8", "fortran_order": False, "shape": (10**12,)}, bytes(80))
    data = zip_bytes({**good_members(), "weight_ih_l0.npy": member})
    refused_within(2**20, data, "weight_ih_l0", "8,000,000,000,000 bytes")


def zip_of_zeros(n_members: int, floats_each: int) -> bytes:
    """Deflated .npy members of zeros: a few hundred KB of file that inflate to far more."""
    f = io.BytesIO()
    chunk = bytes(2**20)
    header = {"descr": "<f8", "fortran_order": False, "shape": (floats_each,)}
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        for k in range(n_members):
            with zf.open(f"a{k}.npy", "w") as m:
                npy.write_array_header_1_0(m, header)
                for _ in range(8 * floats_each // len(chunk)):
                    m.write(chunk)
    return f.getvalue()


@pytest.mark.parametrize(
    "n_members, floats_each", [(1, 25 * 2**20), (40, 2**18)], ids=["one-200MiB-member", "40-2MiB-members"]
)
def test_zip_bomb_is_refused_before_decompressing(n_members, floats_each):
    """The declared sizes add up to more than the cap, so nothing is inflated or allocated."""
    data = zip_of_zeros(n_members, floats_each)
    assert len(data) < 2**20 and 8 * n_members * floats_each > npz.DEFAULT_MAX_BYTES
    refused_within(4 * 2**20, data, "more than the limit")


def test_max_bytes_caps_the_array_data():
    data = zip_bytes(good_members("lstm"))
    size = (16 * 3 + 16 * 4 + 16 + 16) * 8 + 4  # the LSTM's float64s, and b"lstm"
    load(data, max_bytes=size)
    refused(data, "1,156 bytes, more than the limit of 1,155", max_bytes=size - 1)


def test_a_file_larger_than_the_cap_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "big.npz"
    path.write_bytes(bytes(3 * 2**20))
    refused(path, "more than the limit", max_bytes=2**20)
    refused(io.BytesIO(path.read_bytes()), "more than the limit", max_bytes=2**20)


def test_too_many_members_are_refused():
    members = {f"a{i}.npy": npy_bytes(np.zeros(1)) for i in range(npz.MAX_MEMBERS + 1)}
    refused(zip_bytes(members), "too many members")


def test_duplicate_member_names_are_refused():
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(f, "w") as zf:
            for name, data in good_members().items():
                zf.writestr(name, data)
            zf.writestr("bias_ih_l0.npy", npy_bytes(np.zeros(16)))
    refused(f.getvalue(), "twice")


@pytest.mark.parametrize("name", ["dir/weight_ih_l0.npy", "weight_ih_l0.txt", "../x.npy", "__init__.py"])
def test_members_that_are_not_plain_npy_arrays_are_refused(name):
    refused(zip_bytes({**good_members(), name: b"x"}), "not a plain")


def test_encrypted_members_are_refused():
    data = bytearray(zip_bytes(good_members()))
    entry = data.index(b"PK\x01\x02")  # the first central directory entry
    data[entry + 8] |= 0x1  # its general-purpose flags: bit 0, encrypted
    refused(bytes(data), "'arch.npy'", "encrypted")


def test_unsupported_compression_is_refused():
    refused(zip_bytes(good_members(), zipfile.ZIP_LZMA), "compression")


def test_save_refuses_what_load_would_refuse():
    with pytest.raises(ValueError, match="NaN"):
        save_arrays(io.BytesIO(), {"a": np.array([np.nan])})
    with pytest.raises(ValueError, match="strings"):
        save_arrays(io.BytesIO(), {"a": np.array(["lstm"])})
    with pytest.raises(ValueError, match="objects"):
        save_arrays(io.BytesIO(), {"a": np.array([None])})
    with pytest.raises(ValueError, match="not allowed"):
        save_arrays(io.BytesIO(), {"a/b": np.zeros(1)})
    with pytest.raises(ValueError, match="JSON"):
        save_arrays(io.BytesIO(), {"a": np.zeros(1)}, {"when": object()})
    with pytest.raises(ValueError, match="come back equal"):
        save_arrays(io.BytesIO(), {"a": np.zeros(1)}, {"sizes": (1, 2)})
    with pytest.raises(ValueError, match="contradicts"):
        save(io.BytesIO(), cells.make_cell("rnn", random_params("rnn")), arch="lstm")


def test_from_keras_is_reached_through_load_too():
    """The Keras snippet's keys load; the conversion itself is tested in test_keras.py."""
    rng = np.random.default_rng(0)
    kernel, recurrent_kernel, bias = (rng.normal(size=s) for s in ((3, 12), (4, 12), (2, 12)))
    keras = {"kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias}
    cell, _ = load(npz_bytes(arch=arch_array("gru"), **keras))
    want = from_keras("gru", kernel, recurrent_kernel, bias)
    assert all(np.array_equal(cell.params[k], want[k]) for k in want)
    refused(npz_bytes(arch=arch_array("gru"), kernel=kernel, bias=bias), "kernel, recurrent_kernel, bias")


GOOD_FILE = zip_bytes(good_members("gru"), zipfile.ZIP_DEFLATED)
BYTE_EDIT = st.tuples(st.integers(0, len(GOOD_FILE) - 1), st.integers(0, 255))  # (where, new value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(BYTE_EDIT, min_size=1, max_size=8),
    cut=st.integers(1, len(GOOD_FILE)),
)
def test_damaged_files_are_loaded_or_refused_with_a_value_error_only(edits, cut):
    """Any bytes changed and any truncation: the reader either loads a valid cell or says ValueError."""
    data = bytearray(GOOD_FILE)
    for at, value in edits:
        data[at] = value
    try:
        cell, _ = load(bytes(data[:cut]))
    except ValueError:
        return
    assert all(np.isfinite(a).all() for a in cell.params.values())
