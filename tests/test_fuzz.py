"""Every reader fuzzed: a mutated good file gives a model that reads, or a ValueError with a message;
never another exception, never a hang.

Good files of each format are made here by the real writers (numpy's .npz, safetensors, Keras 3,
vocabularies as a JSON list, a token -> id dict and one token per line), then mutated: bytes
flipped, set, inserted, deleted, one byte repeated up to 100,000 times (deep nesting), the file
cut; and edits that keep the container valid so the parser behind it is reached: safetensors
header fields, .npy member headers, member data and the zip directory of an .npz, gatescope's
JSON meta, a .keras's config.json values and its model.weights.h5 bytes. Hypothesis runs
derandomized (a fixed seed per test) with no example database, so CI sees the same examples every
run; ``MAX_EXAMPLES`` bounds the time (a few seconds
per format) and the deadline catches an example that takes far longer than the rest.

Bugs these found (the last two by probing what the mutations did not yet reach; they do now),
fixed (issue #18): numpy's .npy header reader raising tokenize.TokenError; a meta
``kind`` that is a JSON list (unhashable); a safetensors dtype that is a JSON list; an empty-list
``__metadata__`` passing the header check and failing in the safetensors loader with its own error
class (SafetensorError, now refused like the rest); a .keras config.json whose model config, layer
or layer config is not a JSON object, or whose units is a list (AttributeError, TypeError); a meta
``arch`` that is a JSON list (TypeError); a melody vocabulary nested 100,000 deep (RecursionError);
a series normalisation offset of 10**400 (OverflowError).
"""

from __future__ import annotations

import functools
import io
import json
import os
import struct
import tempfile
import warnings
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_files import (
    VOCAB5,
    char_model_npz,
    keras_archive,
    melody_model_npz,
    members,
    meta_arch_npz,
    raw_safetensors,
    rezip,
    safetensors_header,
    series_model_npz,
    word_model_arrays,
)
from safetensors.numpy import save as st_save
from test_weights import arch_array, npz_bytes, random_params

import cells
from cells.io.vocab import parse_vocab

DEEP = int(os.environ.get("GATESCOPE_FUZZ_EXAMPLES", "0"))
"""A longer campaign: ``GATESCOPE_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py`` runs that many random
(not derandomized) examples per test; unset, the suite runs MAX_EXAMPLES fixed ones."""
MAX_EXAMPLES = DEEP or 200
FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=timedelta(seconds=5), derandomize=not DEEP, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True)

pytestmark = pytest.mark.filterwarnings(  # Keras's torch backend and NumPy 2, not ours
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


# -- mutations ----------------------------------------------------------------------------------------

AT = st.integers(0, 2**31)  # a position, taken modulo the length of what is edited
EDIT = st.one_of(
    st.tuples(st.just("flip"), AT, st.integers(1, 255)),
    st.tuples(st.just("set"), AT, st.sampled_from([0, 1, 0x7F, 0x80, 0xFF])),
    st.tuples(st.just("insert"), AT, st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), AT, st.integers(1, 64)),
    st.tuples(st.just("cut"), AT, st.none()),
    st.tuples(st.just("repeat"), AT, st.tuples(st.sampled_from(b'[{"0a\n \x00\xff'),
                                               st.sampled_from([2, 1000, 100_000]))),
)
EDITS = st.lists(EDIT, min_size=1, max_size=6)


def mutate(data: bytes, edits: list[tuple], start: int = 0, end: int | None = None) -> bytes:
    """``data`` with ``edits`` applied within ``data[start:end]`` (the whole of it by default)."""
    head, body, tail = data[:start], bytearray(data[start:end]), data[len(data) if end is None else end :]
    for op, at, arg in edits:
        at %= len(body) + 1
        if op == "flip" and at < len(body):
            body[at] ^= arg
        elif op == "set" and at < len(body):
            body[at] = arg
        elif op == "insert":
            body[at:at] = arg
        elif op == "delete":
            del body[at : at + arg]
        elif op == "cut":
            del body[at:]
        elif op == "repeat":  # one byte many times: deep nesting, long runs
            body[at:at] = bytes([arg[0]]) * arg[1]
    return head + bytes(body) + tail


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                    st.text(max_size=8),
                    st.sampled_from(["F32", "F16", "I8", "BF16", "F8_E4M3", "lstm", "gru", "rnn", "softmax",
                                     "relu", "Sequential", "LSTM", "Dense", "<f4", "|O", -1, 0, 1, 2**63,
                                     10**400]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=8)


def json_edit(value: object, path: list[int], new: object, delete: bool) -> object:
    """``value`` (a JSON document) with one node replaced by ``new`` (or deleted); ``path`` picks the
    node: at each level, a key of a dict or an index of a list, modulo their number."""
    if not path or not isinstance(value, dict | list) or not value:
        return new
    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
    key = keys[path[0] % len(keys)]
    copy = dict(value) if isinstance(value, dict) else list(value)
    if delete and len(path) == 1:
        del copy[key]
    else:
        copy[key] = json_edit(value[key], path[1:], new, delete)
    return copy


JSON_EDIT = st.tuples(st.lists(st.integers(0, 2**16), min_size=1, max_size=6), JSON, st.booleans())


# -- what every reader must do ----------------------------------------------------------------------


def model_or_refusal(data: bytes, **kwargs) -> cells.Reader | None:
    """``cells.read_model(data)``: a model that reads a short sequence, or a ValueError with a
    message. Anything else propagates and fails the test."""
    try:
        reader = cells.read_model(data, **kwargs)
    except ValueError as e:
        assert str(e).strip(), f"a refusal without a message: {type(e).__name__}"
        return None
    for a in reader.cell.params.values():
        assert np.isfinite(a).all()
    samples = {"numbers": np.array([0.5, -1.0, 2.0]), "notes": list(getattr(reader.encoder, "vocab", ()))[:3]}
    sample = samples.get(reader.mode, "ab c\nd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # finite but huge fuzzed weights may overflow
        reader.read(sample)
    return reader


# -- .npz ---------------------------------------------------------------------------------------------

NPZ_FILES = {
    "bare": npz_bytes(arch=arch_array("lstm"), **random_params("lstm", np.float32)),
    "arch in meta": meta_arch_npz(),
    "char": char_model_npz(),
    "melody": melody_model_npz(),
    "series": series_model_npz(),
}
WITH_META = ["arch in meta", "char", "melody", "series"]


def npz_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def zip_of(files: dict[str, bytes]) -> bytes:
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return f.getvalue()


NPY_DESCR = st.one_of(st.sampled_from(["<f4", "<f8", ">f8", "<f2", "<i8", "|i1", "|u1", "|b1", "|O", "<U3",
                                       "|S4", "V8", "<c16", "[('a', '<f4')]", "<M8[s]"]), st.text(max_size=6))
NPY_SHAPE = st.lists(st.integers(-3, 2**40), max_size=4).map(tuple)


def npy_with_header(member: bytes, descr: object, fortran: object, shape: object) -> bytes:
    """A .npy member with its header dict rewritten (as literal text, any values) and its data kept."""
    (header_len,) = struct.unpack("<H", member[8:10])
    data = member[10 + header_len :]
    text = f"{{'descr': {descr!r}, 'fortran_order': {fortran!r}, 'shape': {shape!r}, }}"
    text += " " * (-(10 + len(text) + 1) % 64) + "\n"
    return member[:8] + struct.pack("<H", len(text)) + text.encode("latin1", "replace") + data


@FUZZ
@given(which=st.sampled_from(sorted(NPZ_FILES)), edits=EDITS)
def test_npz_bytes_mutated(which, edits):
    model_or_refusal(mutate(NPZ_FILES[which], edits))


@FUZZ
@given(which=st.sampled_from(sorted(NPZ_FILES)), member=st.integers(0, 100), descr=NPY_DESCR,
       fortran=st.one_of(st.booleans(), SCALARS), shape=st.one_of(NPY_SHAPE, SCALARS),
       edits=st.just([]) | EDITS)
def test_npz_member_headers_edited(which, member, descr, fortran, shape, edits):
    files = npz_members(NPZ_FILES[which])
    name = sorted(files)[member % len(files)]
    files[name] = mutate(npy_with_header(files[name], descr, fortran, shape), edits, 0, 128)
    model_or_refusal(zip_of(files))


@FUZZ
@given(which=st.sampled_from(sorted(NPZ_FILES)), edits=EDITS)
def test_npz_zip_directory_mutated(which, edits):
    data = NPZ_FILES[which]
    directory = data.index(b"PK\x01\x02")  # the central directory, then its end record
    model_or_refusal(mutate(data, edits, directory))


@FUZZ
@given(which=st.sampled_from(WITH_META), edit=JSON_EDIT)
def test_npz_meta_edited(which, edit):
    files = npz_members(NPZ_FILES[which])
    header_len = struct.unpack("<H", files["__meta__.npy"][8:10])[0]
    meta = json.loads(files["__meta__.npy"][10 + header_len :])
    meta = json_edit(meta, *edit)
    text = json.dumps(meta).encode()
    files["__meta__.npy"] = npy_bytes_of(np.frombuffer(text, np.uint8))
    model_or_refusal(zip_of(files))


@FUZZ
@given(which=st.sampled_from(sorted(NPZ_FILES)), member=st.integers(0, 100), edits=EDITS)
def test_npz_member_data_mutated(which, member, edits):
    """A member's data bytes edited and stored again as a valid .npy of the same dtype (as many
    whole items as the bytes make): the arrays' values and lengths, past the container checks."""
    files = npz_members(NPZ_FILES[which])
    name = sorted(files)[member % len(files)]
    a = np.load(io.BytesIO(files[name]))
    data = mutate(a.tobytes(), edits)
    files[name] = npy_bytes_of(np.frombuffer(data[: len(data) // a.itemsize * a.itemsize], a.dtype))
    model_or_refusal(zip_of(files))


def npy_bytes_of(a: np.ndarray) -> bytes:
    f = io.BytesIO()
    np.save(f, a)
    return f.getvalue()


# -- .safetensors ---------------------------------------------------------------------------------------

SAFETENSORS_FILES = {
    "bare": st_save(random_params("gru", np.float32), metadata={"arch": "gru"}),
    "word": st_save(word_model_arrays(), metadata={"vocab": json.dumps(VOCAB5)}),
}


@FUZZ
@given(which=st.sampled_from(sorted(SAFETENSORS_FILES)), edits=EDITS)
def test_safetensors_bytes_mutated(which, edits):
    model_or_refusal(mutate(SAFETENSORS_FILES[which], edits))


@FUZZ
@given(which=st.sampled_from(sorted(SAFETENSORS_FILES)), edit=JSON_EDIT, keep_length=st.booleans(),
       edits=st.just([]) | EDITS)
def test_safetensors_header_edited(which, edit, keep_length, edits):
    header, body = safetensors_header(SAFETENSORS_FILES[which])
    data = raw_safetensors(json_edit(header, *edit), body)
    if keep_length:  # the old length in front of the new header
        data = SAFETENSORS_FILES[which][:8] + data[8:]
    model_or_refusal(mutate(data, edits))


# -- .keras ---------------------------------------------------------------------------------------------


@functools.cache
def good_keras() -> bytes:
    """Saved by Keras once per run (not a fixture: Hypothesis would print its 20 kB in a failure)."""
    with tempfile.TemporaryDirectory() as tmp:
        return keras_archive(Path(tmp))


@pytest.fixture(scope="module")
def keras_saved() -> None:
    """Keras imported and the model saved before the first example, which the deadline times."""
    good_keras()


@FUZZ
@given(edits=EDITS)
def test_keras_archive_bytes_mutated(keras_saved, edits):
    model_or_refusal(mutate(good_keras(), edits), vocab=VOCAB5)


@FUZZ
@given(edits=EDITS)
def test_keras_weights_h5_bytes_mutated(keras_saved, edits):
    h5 = members(good_keras())["model.weights.h5"]
    model_or_refusal(rezip(good_keras(), {"model.weights.h5": mutate(h5, edits)}), vocab=VOCAB5)


@FUZZ
@given(edit=JSON_EDIT)
def test_keras_config_values_edited(keras_saved, edit):
    config = json_edit(json.loads(members(good_keras())["config.json"]), *edit)
    model_or_refusal(rezip(good_keras(), {"config.json": json.dumps(config).encode()}), vocab=VOCAB5)


# -- vocabularies ---------------------------------------------------------------------------------------

TOKENS = ["the", "cat", "<unk>", "é", "\t"]
VOCAB_FILES = {
    "json list": json.dumps(TOKENS).encode(),
    "token -> id": json.dumps({t: i for i, t in enumerate(TOKENS)}).encode(),
    "lines": "\n".join(TOKENS).encode() + b"\n",
}
WORD_MODEL = st_save(word_model_arrays())


@FUZZ
@given(which=st.sampled_from(sorted(VOCAB_FILES)), edits=EDITS)
def test_vocabularies_mutated(which, edits):
    data = mutate(VOCAB_FILES[which], edits)
    try:
        tokens = parse_vocab(data)
    except ValueError as e:
        assert str(e).strip()
        return
    assert isinstance(tokens, tuple) and all(isinstance(t, str) for t in tokens)
    assert len(set(tokens)) == len(tokens)
    model_or_refusal(WORD_MODEL, vocab=data)  # 5 rows of embedding: a model for 5 tokens, else refused


@FUZZ
@given(which=st.sampled_from(["json list", "token -> id"]), edit=JSON_EDIT)
def test_vocabulary_json_edited(which, edit):
    data = json.dumps(json_edit(json.loads(VOCAB_FILES[which]), *edit)).encode()
    model_or_refusal(WORD_MODEL, vocab=data)


def test_the_good_files_are_models():
    """The seeds of the fuzzing read as they are, so the mutations start from files that work."""
    for data in (*NPZ_FILES.values(), *SAFETENSORS_FILES.values()):
        assert model_or_refusal(data) is not None
    for data in VOCAB_FILES.values():
        assert parse_vocab(data) == tuple(TOKENS)
        assert model_or_refusal(WORD_MODEL, vocab=data).encoder.tokens == tuple(TOKENS)


def test_the_good_keras_file_is_a_model(keras_saved):
    assert model_or_refusal(good_keras(), vocab=VOCAB5) is not None
