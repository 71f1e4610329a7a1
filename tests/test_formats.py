"""Model files by content: .safetensors and Keras 3 .keras written by the real libraries at test time,
read back with the same outputs; whole language models (embedding + stack + head + vocabulary);
pickled torch files refused with the conversion lines; every kind of bad file refused before
anything large is allocated."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import tracemalloc
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from safetensors.numpy import save as st_save
from safetensors.torch import save as st_torch_save
from safetensors.torch import save_file
from test_weights import refused

import cells
from cells.io import files, layouts
from cells.models.encoders import EmbeddingEncoder

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported (inside the fixtures)

TORCH_MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
TEXT = "the cat sat on the mat.\nthe dog ate the hat."
CHARS = sorted(set(TEXT))


def refused_within(memory: int, src, *pattern: str, **kwargs) -> None:
    tracemalloc.start()
    try:
        refused(src, *pattern, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < memory, f"peak {peak:,} bytes"


class LM(torch.nn.Module):
    """A language model as public char-RNN / word-LM code writes it, under chosen attribute names."""

    def __init__(self, arch, V, E, H, L, names=("encoder", "rnn", "decoder")):
        super().__init__()
        self.names = names
        setattr(self, names[0], torch.nn.Embedding(V, E))
        setattr(self, names[1], TORCH_MODULES[arch](E, H, num_layers=L))
        setattr(self, names[2], torch.nn.Linear(H, V))

    def forward(self, ids):  # ids (T,) -> next-token probabilities (T, V)
        emb, rnn, head = (getattr(self, n) for n in self.names)
        out, _ = rnn(emb(ids)[:, None])
        return torch.softmax(head(out[:, 0]), dim=-1)


def state_dict_np(module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


# -- safetensors written by torch -------------------------------------------------------------------


@pytest.mark.parametrize(("arch", "L"), [("lstm", 3), ("gru", 2), ("rnn", 2), ("lstm", 1)])
def test_a_bare_torch_state_dict_in_safetensors_is_read_by_its_block_count(arch, L, tmp_path):
    torch.manual_seed(L)
    module = TORCH_MODULES[arch](3, 5, num_layers=L).double()
    save_file(module.state_dict(), tmp_path / "model.safetensors")
    cell, meta = cells.load(tmp_path / "model.safetensors")
    assert cell.arch == arch and meta == {} and cell.dtype == np.float64
    assert (cell.num_layers if L > 1 else 1) == L
    x = np.random.default_rng(0).normal(size=(8, 3))
    with torch.no_grad():
        want = module(torch.tensor(x))[0].numpy()
    np.testing.assert_allclose(cell.forward(x).h, want, rtol=1e-9, atol=1e-13)


def test_float32_and_float16_tensors_are_read_and_metadata_arch_wins():
    torch.manual_seed(0)
    module = torch.nn.GRU(2, 4, num_layers=2)
    cell, _ = cells.load(st_torch_save(module.state_dict()))
    assert cell.dtype == np.float32
    half = st_torch_save({k: v.half() for k, v in module.state_dict().items()}, metadata={"arch": "gru"})
    cell16, meta = cells.load(half)
    assert cell16.dtype == np.float32 and meta == {"arch": "gru"}
    want = {k: v.half().float().numpy() for k, v in module.state_dict().items()}
    assert all(np.array_equal(cell16.params[k], want[k]) for k in want)


LAYOUTS = [("encoder", "rnn", "decoder"), ("embedding", "lstm", "fc"), ("embed", "rnn", "linear"),
           ("emb", "gru", "head"), ("embeddings", "rnn", "out"), ("embedding", "rnn", "hidden2out")]


@pytest.mark.parametrize("names", LAYOUTS, ids=["-".join(n) for n in LAYOUTS])
@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_a_torch_char_model_with_vocab_in_metadata_gives_torchs_probabilities(arch, names, tmp_path):
    torch.manual_seed(1)
    model = LM(arch, len(CHARS), 6, 8, 2, names).double()
    path = tmp_path / "char.safetensors"
    save_file(model.state_dict(), path, metadata={"vocab": json.dumps(CHARS)})
    reader = cells.read_model(path)
    assert isinstance(reader.encoder, EmbeddingEncoder) and reader.encoder.unit == "char"
    assert reader.guesses_tokens and reader.cell.num_layers == 2
    read = reader.read(TEXT)
    with torch.no_grad():
        want = model(torch.tensor([CHARS.index(c) for c in TEXT])).numpy()
    np.testing.assert_allclose(read.probs, want, rtol=1e-9, atol=1e-14)
    assert not read.unknown.any()


def test_vocab_as_a_plain_string_of_characters_and_unknown_characters_are_zero_and_marked():
    torch.manual_seed(2)
    model = LM("lstm", len(CHARS), 5, 6, 1).double()
    data = st_torch_save(model.state_dict(), metadata={"vocab": "".join(CHARS)})
    reader = cells.read_model(data)
    read = reader.read("the cat!")  # "!" is not in the vocabulary and there is no <unk>
    assert read.unknown.tolist() == [False] * 7 + [True]
    x, _ = reader.encoder.encode("t!")
    assert np.array_equal(x[1], np.zeros(5)) and np.array_equal(x[0], model.encoder.weight[CHARS.index("t")]
                                                                .detach().numpy())


WORDS = ["<unk>", "<eos>", "the", "cat", "sat", "on", "mat", "dog"]


@pytest.mark.parametrize("form", ["json-list", "json-dict", "lines", "list", "dict", "path"])
def test_a_word_model_reads_a_vocabulary_passed_beside_it(form, tmp_path):
    torch.manual_seed(3)
    model = LM("gru", len(WORDS), 4, 6, 2).double()
    data = st_torch_save(model.state_dict())
    refused(data, "no vocabulary", "vocab=", reader=cells.read_model)
    vocab = {
        "json-list": json.dumps(WORDS).encode(),
        "json-dict": json.dumps({w: i for i, w in enumerate(WORDS)}).encode(),
        "lines": "\n".join(WORDS).encode() + b"\n",
        "list": WORDS,
        "dict": {w: i for i, w in reversed(list(enumerate(WORDS)))},
        "path": tmp_path / "vocab.txt",
    }[form]
    (tmp_path / "vocab.txt").write_text("\n".join(WORDS))
    reader = cells.read_model(data, vocab=vocab)
    assert reader.encoder.tokens == tuple(WORDS) and reader.encoder.unit == "word"
    text = "the cat sat on the hat\nthe dog"
    ids, unknown = reader.encoder.ids(text)
    assert [WORDS[i] for i in ids] == ["the", "cat", "sat", "on", "the", "<unk>", "<eos>", "the", "dog"]
    assert unknown.tolist() == [False] * 5 + [True] + [False] * 3
    with torch.no_grad():
        want = model(torch.tensor(ids)).numpy()
    np.testing.assert_allclose(reader.read(text).probs, want, rtol=1e-9, atol=1e-14)


def test_a_str_vocabulary_is_its_text_never_a_file_name(tmp_path):
    """A str is the vocabulary's own text (here its characters), so naming a file on the server
    does not make the reader open it: only an os.PathLike is a path."""
    model = LM("gru", 3, 4, 6, 1).double()
    data = st_torch_save(model.state_dict())
    (tmp_path / "v").write_text("a\nb\nc")  # a good vocabulary of 3, on the server's disk
    named = str(tmp_path / "v")
    reader_of_text = cells.read_model(data, vocab="abc")
    assert reader_of_text.encoder.tokens == ("a", "b", "c")
    with pytest.raises(ValueError, match="vocabulary") as refused_path:
        cells.read_model(data, vocab=named)
    assert "3 tokens" not in str(refused_path.value)


def test_bad_vocabularies_are_refused():
    model = LM("rnn", 3, 2, 3, 1).double()
    data = st_torch_save(model.state_dict())
    refused(data, "one row per token", reader=cells.read_model, vocab=["a", "b"])
    refused(data, "'a' twice", reader=cells.read_model, vocab=["a", "b", "a"])
    refused(data, "id 0..V-1", reader=cells.read_model, vocab={"a": 0, "b": 2, "c": 3})
    refused(data, "not valid JSON", reader=cells.read_model, vocab=b"[1, 2")


def test_a_model_saved_by_reader_save_round_trips_with_its_embedding_and_vocab():
    torch.manual_seed(4)
    model = LM("lstm", len(WORDS), 3, 4, 2).double()
    reader = cells.read_model(st_torch_save(model.state_dict()), vocab=WORDS)
    f = io.BytesIO()
    cells.save_model(reader, f)
    again = cells.read_model(f.getvalue())
    assert again.encoder.tokens == tuple(WORDS) and again.encoder.unit == "word"
    np.testing.assert_array_equal(again.read("the cat").probs, reader.read("the cat").probs)


def test_the_kind_is_read_from_the_content_not_the_name(tmp_path):
    module = torch.nn.LSTM(2, 3, num_layers=2).double()
    (tmp_path / "model.npz").write_bytes(st_torch_save(module.state_dict()))
    (tmp_path / "model.safetensors").write_bytes(npz_of(arch=np.frombuffer(b"lstm", np.uint8),
                                                        **state_dict_np(module)))
    a, _ = cells.load(tmp_path / "model.npz")
    b, _ = cells.load(tmp_path / "model.safetensors")
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def npz_of(**arrays) -> bytes:
    f = io.BytesIO()
    np.savez(f, **arrays)
    return f.getvalue()


def test_unknown_keys_and_prefixes_are_refused_by_name():
    sd = state_dict_np(LM("lstm", 4, 2, 3, 1))
    message = refused(st_save({**sd, "attention.scale": np.ones(2)}), "an LSTM of 3 units",
                      "other modules", "attention", reader=cells.read_model)
    assert 'if k.split(".")[0] in keep' in message  # the fix: save the parts that are read
    two = {**sd, **{f"other.{k}": v for k, v in state_dict_np(torch.nn.LSTM(2, 3)).items()}}
    refused(st_save(two), "several modules", "other.", "rnn.", reader=cells.read_model)
    refused(st_save(sd), "embedding", "read_model")  # load() reads the recurrent layers only
    meta = {"nonlinearity": "relu"}
    refused(st_save(state_dict_np(torch.nn.RNN(2, 3, nonlinearity="relu")), metadata=meta), "tanh")


def test_limits_on_hidden_size_and_layers_are_checked_before_reading():
    assert (layouts.MAX_HIDDEN, layouts.MAX_LAYERS) == (1024, 4)
    five = st_save(state_dict_np(torch.nn.GRU(2, 3, num_layers=5)))
    refused(five, "5 layers", "at most 4")
    cells.load(five, max_layers=5)
    wide = st_save(state_dict_np(torch.nn.GRU(2, 9)))
    refused(wide, "9 hidden units", "at most 8", max_hidden=8)
    refused(npz_of(arch=np.frombuffer(b"gru", np.uint8), **state_dict_np(torch.nn.GRU(2, 9))), "at most 8",
            max_hidden=8)
    refused(wide, "more than the limit", max_bytes=100)


# -- pickles ----------------------------------------------------------------------------------------


class Malicious:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("how", ["torch.save", "legacy torch.save", "pickle", "named .safetensors",
                                 "torch.save whole module"])
def test_pickled_torch_files_are_refused_with_the_conversion_lines(how, tmp_path):
    marker = tmp_path / "pwned"
    module = torch.nn.LSTM(2, 3)
    f = io.BytesIO()
    if how == "torch.save":
        torch.save(module.state_dict(), f)
    elif how == "legacy torch.save":
        torch.save(module.state_dict(), f, _use_new_zipfile_serialization=False)
    elif how == "torch.save whole module":
        torch.save(module, f)
    else:
        pickle.dump({"weight_ih_l0": Malicious(marker)}, f)
    path = tmp_path / ("model.safetensors" if how == "named .safetensors" else "model.pt")
    path.write_bytes(f.getvalue())
    for reader in (cells.load, cells.read_model):
        message = refused(path, "pickle", reader=reader)
        assert files.CONVERT_SNIPPET.strip() in message
    assert not marker.exists()


def test_the_conversion_lines_work_as_written(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = torch.nn.GRU(3, 4, num_layers=2).double()
    monkeypatch.chdir(tmp_path)
    torch.save(model.state_dict(), "model.pt")
    exec(files.CONVERT_SNIPPET, {})
    cell, _ = cells.load(tmp_path / "model.safetensors")
    x = np.random.default_rng(0).normal(size=(5, 3))
    with torch.no_grad():
        np.testing.assert_allclose(cell.forward(x).h, model(torch.tensor(x))[0].numpy(), rtol=1e-9)


# -- bad .safetensors files -------------------------------------------------------------------------


def raw_safetensors(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


GOOD_ST = st_save(state_dict_np(torch.nn.GRU(2, 3)))


def with_tensor(name: str, dtype: str, shape: list, data: bytes) -> bytes:
    """GOOD_ST's tensors with one replaced (or added) by a raw entry."""
    (n,) = struct.unpack("<Q", GOOD_ST[:8])
    header = json.loads(GOOD_ST[8 : 8 + n])
    body = GOOD_ST[8 + n :]
    keep = {k: v for k, v in header.items() if k not in ("__metadata__", name)}
    out, blobs = {}, b""
    for k, v in sorted(keep.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, e = v["data_offsets"]
        out[k] = {**v, "data_offsets": [len(blobs), len(blobs) + e - b]}
        blobs += body[b:e]
    out[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blobs), len(blobs) + len(data)]}
    return raw_safetensors(out, blobs + data)


def test_the_good_safetensors_file_and_its_rebuild_load():
    cells.load(GOOD_ST)
    cells.load(with_tensor("bias_hh_l0", "F32", [9], np.zeros(9, np.float32).tobytes()))


def test_safetensors_pickle_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    refused(pickle.dumps(Malicious(marker)), "pickle", files.CONVERT_SNIPPET.splitlines()[0])
    assert not marker.exists()


def test_safetensors_header_claiming_terabytes_is_refused_before_allocating():
    data = raw_safetensors({"weight_ih_l0": {"dtype": "F64", "shape": [10**12],
                                             "data_offsets": [0, 8 * 10**12]}}, bytes(80))
    refused_within(2**20, data, "weight_ih_l0", "8,000,000,000,000", "past the file")
    huge_length = struct.pack("<Q", 2**60) + b"{}"
    refused_within(2**20, huge_length, "claims 1,152,921,504,606,846,976 bytes", "truncated")


def test_every_truncation_of_a_safetensors_file_is_refused():
    cells.load(GOOD_ST)
    for n in range(0, len(GOOD_ST) - 1, 5):
        refused(GOOD_ST[:n])


def test_safetensors_nan_is_refused():
    nan = np.full(9, np.nan, np.float32).tobytes()
    refused(with_tensor("bias_hh_l0", "F32", [9], nan), "bias_hh_l0", "NaN")


@pytest.mark.parametrize("dtype", ["STR", "O", "U8x", "F8_E4M3", "C64"])
def test_safetensors_strings_objects_and_other_dtypes_are_refused(dtype):
    refused(with_tensor("name", dtype, [4], b"abcd"), "'name'", "dtype")


def test_safetensors_wrong_shapes_and_missing_keys_are_refused():
    refused(with_tensor("weight_hh_l0", "F32", [9, 2], bytes(72)), "weight_ih_l0 has 9 rows for 2 units",
            "metadata")
    wrong = {**state_dict_np(torch.nn.GRU(2, 3)), "weight_hh_l0": np.zeros((9, 2), np.float32)}
    refused(st_save(wrong, metadata={"arch": "gru"}), "weight_hh_l0", "shape")
    sd = state_dict_np(torch.nn.GRU(2, 3))
    del sd["bias_hh_l0"]
    refused(st_save(sd), "missing", "bias_hh_l0")
    refused(with_tensor("weight_hh_l0", "F32", [9, 3], bytes(100)), "takes 108 bytes", "hold 100")


@pytest.mark.parametrize(
    "data, pattern",
    [(b"", "not a valid .npz"), (np.random.default_rng(0).bytes(3000), "not a valid"),
     (b"\x05\x00\x00\x00\x00\x00\x00\x00{abc}", "not valid UTF-8 JSON"),
     (raw_safetensors({"__metadata__": {"a": 1}}, b""), "strings to strings"),
     (b"\x02\x00\x00\x00\x00\x00\x00\x00[]", "not a valid"),
     (raw_safetensors({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4)), "shape"),
     (raw_safetensors({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                       "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, bytes(6)), "overlaps"),
     (raw_safetensors({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8)), "gap"),
     (raw_safetensors({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(8)),
      "take 4 bytes but the file holds 8"),
     (raw_safetensors({"a": {"dtype": "F32", "shape": [1]}}, bytes(4)), "data_offsets")],
    ids=["empty", "garbage", "bad-json", "bad-metadata", "json-list", "negative-shape", "overlap", "gap",
         "trailing-bytes", "no-offsets"],
)
def test_broken_safetensors_containers_are_refused(data, pattern):
    refused(data, pattern)


# -- Keras 3 .keras written by keras ----------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    import keras

    assert keras.backend.backend() == "torch"
    return keras


def keras_file(model, tmp_path, name="model.keras") -> Path:
    path = tmp_path / name
    model.save(path)
    return path


@pytest.mark.parametrize("activation", ["softmax", "linear"])
def test_a_keras_char_model_of_two_stacked_lstms_gives_keras_outputs(keras, tmp_path, activation):
    keras.utils.set_random_seed(0)
    V = len(CHARS)
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(V, 5),
                              keras.layers.LSTM(8, return_sequences=True),
                              keras.layers.LSTM(8, return_sequences=True),
                              keras.layers.Dense(V, activation=activation)])
    path = keras_file(model, tmp_path)
    reader = cells.read_model(path, vocab=CHARS)
    assert reader.cell.arch == "lstm" and reader.cell.num_layers == 2 and reader.guesses_tokens
    ids = np.array([[CHARS.index(c) for c in TEXT]])
    out = keras.ops.convert_to_numpy(model(ids))[0]
    want = out if activation == "softmax" else np.exp(out) / np.exp(out).sum(-1, keepdims=True)
    np.testing.assert_allclose(reader.read(TEXT).probs, want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind", ["GRU", "SimpleRNN"])
def test_a_keras_series_stack_without_embedding_gives_keras_outputs(keras, tmp_path, kind):
    keras.utils.set_random_seed(1)
    layer = getattr(keras.layers, kind)
    model = keras.Sequential([keras.Input((None, 1)), layer(6, return_sequences=True),
                              keras.layers.Dropout(0.5), layer(6, return_sequences=True),
                              keras.layers.Dense(1)])
    reader = cells.read_model(keras_file(model, tmp_path))
    assert reader.mode == "numbers" and reader.cell.num_layers == 2
    x = np.random.default_rng(0).normal(size=(1, 20, 1)).astype(np.float32)
    want = keras.ops.convert_to_numpy(model(x))[0]
    np.testing.assert_allclose(reader.read(x[0, :, 0]).predictions, want, rtol=0, atol=1e-5)


def test_a_bare_keras_lstm_loads_as_a_cell_and_gives_keras_states(keras, tmp_path):
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((None, 3)), keras.layers.LSTM(4, return_sequences=True)])
    cell, meta = cells.load(keras_file(model, tmp_path))
    assert type(cell) is cells.LSTM and meta["format"] == "keras"
    x = np.random.default_rng(0).normal(size=(1, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(cell.forward(x[0]).h, keras.ops.convert_to_numpy(model(x))[0], atol=1e-6)


def keras_refused(keras, tmp_path, layers, *pattern):
    model = keras.Sequential(layers)
    return refused(keras_file(model, tmp_path), *pattern, reader=cells.read_model)


def test_keras_models_outside_the_accepted_layouts_are_refused(keras, tmp_path):
    L = keras.layers
    inp = keras.Input((None, 2))
    keras_refused(keras, tmp_path, [inp, L.LSTM(3, activation="relu", return_sequences=True)],
                  "activation='relu'", "default 'tanh'")
    keras_refused(keras, tmp_path, [inp, L.LSTM(3, return_sequences=True), L.GRU(3, return_sequences=True)],
                  "mixes")
    keras_refused(keras, tmp_path, [inp, L.LSTM(3, return_sequences=True), L.LSTM(4, return_sequences=True)],
                  "one hidden size")
    keras_refused(keras, tmp_path, [inp, L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="ave")],
                  "merge_mode='ave'", "concat")
    keras_refused(keras, tmp_path, [inp, L.Bidirectional(L.LSTM(3, return_sequences=True)),
                                    L.LSTM(3, return_sequences=True)], "Bidirectional layers and single")
    keras_refused(keras, tmp_path, [inp, L.LSTM(3, go_backwards=True, return_sequences=True)], "go_backwards",
                  "wrap it in Bidirectional")
    keras_refused(keras, tmp_path, [inp, L.LSTM(3, return_sequences=True), L.Dense(2, activation="relu")],
                  "'relu'", "linear and softmax")
    keras_refused(keras, tmp_path, [inp, L.LSTM(3, return_sequences=True, go_backwards=True)], "backwards")
    keras_refused(keras, tmp_path, [keras.Input((None,)), L.Embedding(4, 2, mask_zero=True),
                                    L.LSTM(3, return_sequences=True)], "mask_zero")
    keras_refused(keras, tmp_path, [inp, *[L.GRU(2, return_sequences=True) for _ in range(5)]],
                  "5 layers", "at most 4")
    x = keras.Input((None, 2))
    functional = keras.Model(x, L.LSTM(3, return_sequences=True)(x))
    refused(keras_file(functional, tmp_path), "'Functional'", "Sequential", reader=cells.read_model)


# -- bad .keras files: the nine kinds ---------------------------------------------------------------


@pytest.fixture(scope="module")
def good_keras(keras, tmp_path_factory) -> bytes:
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(5, 3),
                              keras.layers.GRU(4, return_sequences=True), keras.layers.Dense(5)])
    return keras_file(model, tmp_path_factory.mktemp("keras")).read_bytes()


def rezip(data: bytes, replace: dict[str, bytes | None] | None = None, extra: dict[str, bytes] | None = None,
          compression: int = zipfile.ZIP_STORED) -> bytes:
    members = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            members[name] = zf.read(name)
    for name, value in (replace or {}).items():
        if value is None:
            members.pop(name)
        else:
            members[name] = value
    members.update(extra or {})
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w", compression) as zf:
        for name, value in members.items():
            zf.writestr(name, value)
    return f.getvalue()


def edit_h5(data: bytes, edit) -> bytes:
    """The archive with its model.weights.h5 edited by ``edit(h5py.File)``."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        h5 = io.BytesIO(zf.read("model.weights.h5"))
    with h5py.File(h5, "a") as f:
        edit(f)
    return rezip(data, {"model.weights.h5": h5.getvalue()})


VOCAB5 = list("abcde")


def keras_bad(data: bytes, *pattern: str) -> None:
    refused(data, *pattern, reader=cells.read_model, vocab=VOCAB5)


def test_the_good_keras_archive_reads(good_keras):
    assert cells.read_model(good_keras, vocab=VOCAB5).cell.arch == "gru"
    assert cells.read_model(rezip(good_keras), vocab=VOCAB5).cell.arch == "gru"  # the rebuild is good


def test_keras_archive_with_a_pickle_is_refused(good_keras):
    keras_bad(rezip(good_keras, extra={"archive/data.pkl": pickle.dumps(1)}), "pickle",
              "save_file")
    keras_bad(rezip(good_keras, extra={"assets/x.bin": b"1"}), "'assets/x.bin'", "only config.json")


def test_keras_dataset_claiming_terabytes_is_refused_before_allocating(good_keras):
    def huge(f):
        del f["layers/gru/cell/vars/1"]
        f.create_dataset("layers/gru/cell/vars/1", shape=(10**6, 10**6), dtype="f8", chunks=(1, 1000))

    data = edit_h5(good_keras, huge)
    assert len(data) < 2**20
    refused_within(8 * 2**20, data, r"8,000,000,000,\d+ bytes", "more than the limit",
                   reader=cells.read_model, vocab=VOCAB5)


def test_keras_zip_member_larger_than_the_cap_is_refused(good_keras):
    bomb = rezip(good_keras, {"model.weights.h5": bytes(2**23)}, compression=zipfile.ZIP_DEFLATED)
    assert len(bomb) < 2**20
    refused_within(2**20, bomb, "model.weights.h5 takes 8,388,608 bytes", "more than",
                   reader=cells.read_model, vocab=VOCAB5, max_bytes=2**20)
    refused(good_keras, "more than the limit", reader=cells.read_model, vocab=VOCAB5, max_bytes=100)


def test_every_truncation_of_a_keras_archive_is_refused(good_keras):
    for n in range(0, len(good_keras) - 1, max(1, len(good_keras) // 150)):
        refused(good_keras[:n], reader=cells.read_model, vocab=VOCAB5)


def test_keras_nan_is_refused(good_keras):
    def poison(f):
        f["layers/gru/cell/vars/2"][0, 0] = np.nan

    keras_bad(edit_h5(good_keras, poison), "layers/gru/cell/vars/2", "NaN")


def test_keras_strings_and_objects_are_refused(good_keras):
    def strings(f):
        del f["layers/dense/vars/1"]
        f.create_dataset("layers/dense/vars/1", data=np.array([b"a", b"b"]))

    keras_bad(edit_h5(good_keras, strings), "layers/dense/vars/1", "float")


def test_keras_wrong_shapes_and_missing_arrays_are_refused(good_keras):
    def reshape(f):
        del f["layers/gru/cell/vars/1"]
        f.create_dataset("layers/gru/cell/vars/1", data=np.zeros((4, 10), np.float32))

    keras_bad(edit_h5(good_keras, reshape), "layers/gru", "recurrent_kernel")

    def drop(f):
        del f["layers/embedding/vars/0"]

    keras_bad(edit_h5(good_keras, drop), "no array layers/embedding/vars/0")
    keras_bad(rezip(good_keras, {"config.json": None}), "no config.json")


def test_keras_garbage_and_empty_are_refused(good_keras):
    keras_bad(rezip(good_keras, {"model.weights.h5": np.random.default_rng(0).bytes(4000)}), "HDF5")
    keras_bad(rezip(good_keras, {"config.json": b"{not json"}), "config.json", "JSON")
    keras_bad(rezip(good_keras, {"config.json": b"[]"}), "only a Sequential")
    keras_bad(rezip(good_keras, {"model.weights.h5": b""}), "HDF5")
    keras_bad(b"", "not a valid")


def test_keras_encrypted_member_is_refused(good_keras):
    data = bytearray(good_keras)
    entry = data.index(b"PK\x01\x02")
    data[entry + 8] |= 0x1
    keras_bad(bytes(data), "encrypted")


# -- the shipped examples (scripts/make_examples.py) -------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def zen() -> str:
    import codecs
    import contextlib

    with contextlib.redirect_stdout(io.StringIO()):
        import this
    return codecs.decode(this.s, "rot13")


@pytest.mark.parametrize(("name", "vocab", "max_bits"), [
    ("torch-char-lstm2.safetensors", None, 1.0),
    ("torch-word-gru2.safetensors", "torch-word-gru2.vocab.json", None),
    ("keras-char-lstm2.keras", "keras-char-lstm2.vocab.json", 3.5),
])
def test_the_example_files_read_as_language_models(name, vocab, max_bits):
    path = EXAMPLES / name
    assert path.stat().st_size < 300_000
    reader = cells.read_model(path, vocab=None if vocab is None else EXAMPLES / vocab)
    assert reader.guesses_tokens and reader.cell.num_layers == 2
    text = zen()
    read = reader.read(text)
    np.testing.assert_allclose(read.probs.sum(axis=1), 1.0, rtol=1e-12)
    if max_bits is not None:  # trained: the next character is well predicted on the text it learnt
        ids, _ = reader.encoder.ids(text)
        bits = -np.mean(np.log2(read.probs[np.arange(len(ids) - 1), ids[1:]]))
        assert bits < max_bits, bits
