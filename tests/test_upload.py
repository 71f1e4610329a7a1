"""Uploading your own weights: what a file is read as, every refusal, and the page showing it.

The pure part (``app.compute.upload.parse``: bytes in, an ``Uploaded`` holding a ``cells.Reader`` out) is
tested on files written the ways the sidebar documents (cells.save, CharModel.save, the PyTorch and
Keras recipes) and on bad files; the page part drives the real uploader through AppTest
(``file_uploader.set_value``). Expected values come from the engine (``Cell.forward``,
``CharModel.trace``, ``cells.pretrained``) or are written out by hand, never from ``app``.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import zipfile

import numpy as np
import pytest
from apptest import assert_clean, chart_specs, gate_charts, heatmap_blocks, plotly_array, run_app
from conftest import ROOT
from e2e import assert_no_failure
from streamlit.testing.v1 import AppTest

import cells
from app.compute import upload
from app.view import sequence
from cells.io.files import CONVERT_SNIPPET
from cells.models.charmodel import CharModel
from cells.science import interpret
from cells.science.gradients import gradient_profile


def saved(cell: cells.Cell, **meta) -> bytes:
    buf = io.BytesIO()
    cells.save(buf, cell, **meta)
    return buf.getvalue()


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def bare(arch: str, I: int, H: int = 6, seed: int = 0, dtype=np.float64) -> cells.Cell:
    return cells.make_cell(arch, cells.init_params(arch, I, H, seed=seed, dtype=dtype))


def ascii_one_hot(text: str, I: int) -> np.ndarray:
    """(T, I) inputs of an ASCII ``text`` one-hot by code point, built by hand (no app code)."""
    assert all(ord(ch) < I for ch in text)
    return np.eye(I)[[ord(ch) for ch in text]]


def run_snippet(snippet: str, tmp_path, monkeypatch, **names) -> bytes:
    """Run a documented recipe as it is written (it saves into the working directory)."""
    monkeypatch.chdir(tmp_path)
    exec(snippet, dict(names))
    (written,) = tmp_path.glob("model.*")
    return written.read_bytes()


# --------------------------------------------------------------------------- what a file is read as


def test_a_bare_one_input_cell_reads_numbers_exactly_like_the_engine():
    cell = bare("lstm", 1, dtype=np.float32)
    up = upload.parse(saved(cell), "series.npz")
    reader = up.reader
    assert up.mode == "numbers" and isinstance(reader.encoder, cells.NumberEncoder)
    assert reader.readout is None and reader.cell.dtype == np.float64
    series = np.sin(np.arange(20) / 3)
    read = reader.read(series)
    reference = cell.forward(series.astype(np.float32).reshape(-1, 1))
    np.testing.assert_allclose(read.trace.h, reference.h, rtol=1e-5, atol=1e-6)
    assert read.unknown.tolist() == [False] * 20
    assert read.probs is None and read.predictions is None
    assert up.key == "upload-" + up.digest and re.fullmatch(r"[0-9a-f]{16}", up.digest)


def test_a_bare_many_input_cell_reads_text_one_hot_by_code_point():
    cell = bare("gru", 128)
    up = upload.parse(saved(cell))
    assert up.mode == "text" and "code point" in up.description
    assert isinstance(up.reader.encoder, cells.CodePointEncoder) and up.reader.readout is None
    assert "no next-character guesses" in up.description
    text = "Aé€\n~"
    read = up.reader.read(text)
    x = np.zeros((5, 128))
    x[[0, 3, 4], [65, 10, 126]] = 1.0  # A, newline, ~; é (233) and € (8364) have no input
    np.testing.assert_allclose(read.trace.h, cell.forward(x).h, rtol=0, atol=1e-12)
    assert read.unknown.tolist() == [False, True, True, False, False] and read.probs is None


def test_a_character_model_file_reads_text_with_its_vocabulary_and_guesses():
    model = CharModel.untrained("lstm", 8, seed=3, vocab="abc ")
    buf = io.BytesIO()
    cells.save_model(model, buf)
    up = upload.parse(buf.getvalue(), "char.npz")
    assert up.mode == "text" and isinstance(up.reader, CharModel) and up.reader.vocab == "abc "
    assert "next-character guesses" in up.description and "no next" not in up.description
    read = up.reader.read("ab cz")
    reference = model.read("ab cz")
    np.testing.assert_allclose(read.trace.h, reference.trace.h, atol=1e-12)
    np.testing.assert_allclose(read.probs, reference.probs, atol=1e-12)
    assert read.probs.shape == (5, 5)  # a b c space, and the unknown token
    assert read.unknown.tolist() == [False, False, False, False, True]


@pytest.mark.parametrize("name", ["lstm", "gru-series"])
def test_the_shipped_weights_files_upload_as_they_are(name):
    from cells.io.pretrained import WEIGHTS_DIR, pretrained

    up = upload.parse((WEIGHTS_DIR / f"{name}.npz").read_bytes(), f"{name}.npz")
    shipped = pretrained(name)
    if name.endswith("-series"):
        series = np.sin(np.arange(30) / 4)
        assert up.mode == "numbers"
        read = up.reader.read(series)
        np.testing.assert_array_equal(read.trace.h, shipped.cell.forward(series.reshape(-1, 1)).h)
        np.testing.assert_array_equal(read.predictions, shipped.read(series).predictions)
    else:
        assert up.mode == "text" and up.reader.vocab == shipped.vocab
        np.testing.assert_array_equal(up.reader.read("The cat.").probs,
                                      shipped.read("The cat.").probs)


def test_the_pytorch_recipe_as_documented_gives_torchs_hidden_states(tmp_path, monkeypatch):
    """The sidebar's two lines on a real two-layer nn.LSTM: every layer read as torch runs it."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.LSTM(1, 7, num_layers=2).double()
    up = upload.parse(run_snippet(upload.SAVE_TORCH, tmp_path, monkeypatch, model=model))
    series = np.cos(np.arange(15) / 2)
    with torch.no_grad():
        expected, _ = model(torch.from_numpy(series).reshape(-1, 1, 1))
    assert up.mode == "numbers" and up.reader.cell.num_layers == 2
    trace = up.reader.read(series).trace
    np.testing.assert_allclose(trace.h, expected[:, 0].numpy(), rtol=1e-10, atol=1e-12)


def test_the_keras_recipe_as_documented_gives_keras_outputs(tmp_path, monkeypatch):
    """The sidebar's line on a real Keras Sequential of two GRUs (reset_after=True)."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((None, 3)), keras.layers.GRU(4, return_sequences=True),
                              keras.layers.GRU(4, return_sequences=True)])
    up = upload.parse(run_snippet(upload.SAVE_KERAS, tmp_path, monkeypatch, model=model))
    x = np.random.default_rng(1).normal(size=(9, 3)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(model.predict(x[None], verbose=0))[0]
    assert (up.arch, up.reader.cell.num_layers, up.mode) == ("gru", 2, "text")
    np.testing.assert_allclose(up.reader.cell.forward(x).h, expected, atol=1e-5)


def test_a_tanh_rnn_file_is_read_by_code_point_like_the_engine():
    cell = bare("rnn", 128, H=5, seed=7)
    up = upload.parse(saved(cell), "rnn.npz")
    assert (up.arch, up.mode) == ("rnn", "text") and up.description.startswith("RNN, 5 units")
    text = "hi there"
    read = up.reader.read(text)
    np.testing.assert_allclose(read.trace.h, cell.forward(ascii_one_hot(text, 128)).h,
                               rtol=0, atol=1e-12)
    assert read.trace.gates == {} and read.trace.c is None  # no gates, no cell state: only h
    series_rnn = upload.parse(saved(bare("rnn", 1, H=3)))
    assert (series_rnn.arch, series_rnn.mode) == ("rnn", "numbers")


def test_parse_takes_bytes_never_a_path(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(saved(bare("lstm", 1)))
    assert upload.parse(path.read_bytes()).arch == "lstm"
    for data, vocab in ((str(path), None), (path, None), (path.read_bytes(), str(path))):
        with pytest.raises(TypeError, match="never a path"):
            upload.parse(data, vocab=vocab)


def test_the_same_file_gets_the_same_key_and_another_file_another():
    a, b = saved(bare("lstm", 1, seed=0)), saved(bare("lstm", 1, seed=1))
    assert upload.parse(a).key == upload.parse(a).key != upload.parse(b).key


# --------------------------------------------------------------------------- refusals


def zip_with_pickle() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, zf.open("weight_ih_l0.npy", "w") as member:
        np.lib.format.write_array(member, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    return buf.getvalue()


def integer_weights() -> bytes:
    params = {k: (v * 100).astype(np.int8) for k, v in cells.init_params("lstm", 2, 3, seed=0).items()}
    return npz(arch=np.frombuffer(b"lstm", np.uint8), **params)


def nan_weights() -> bytes:
    params = cells.init_params("lstm", 2, 3, seed=0)
    params["weight_hh_l0"][0, 0] = np.nan
    return npz(arch=np.frombuffer(b"lstm", np.uint8), **params)


BAD_FILES = {
    "empty": (b"", "empty"),
    "a pickle": (pickle.dumps({"weight_ih_l0": [1.0]}), "pickle"),
    "pickled objects inside the zip": (zip_with_pickle(), "object"),
    "text": (b"hello, I am not weights", "not a valid .npz"),
    "truncated": (saved(bare("lstm", 1))[:300], "truncated"),
    "a single .npy": (np.lib.format.MAGIC_PREFIX + b"\x00" * 50, "single .npy"),
    "no arch": (npz(**cells.init_params("lstm", 2, 3, seed=0)), "architecture"),
    "wrong shapes": (npz(arch=np.frombuffer(b"gru", np.uint8), **cells.init_params("lstm", 2, 3, seed=0)),
                     "weight_ih_l0"),
    "NaN": (nan_weights(), "NaN"),
    "integer weights": (integer_weights(), "dequantize to float first"),
    "too many units": (saved(bare("gru", 1, H=upload.MAX_HIDDEN + 1, dtype=np.float32)),
                       f"at most {upload.MAX_HIDDEN:,}"),
    "too large": (b"PK" + b"\x00" * (upload.MAX_UPLOAD_BYTES + 1), "more than the limit"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_every_bad_file_is_a_value_error_that_says_what_is_wrong(name):
    data, phrase = BAD_FILES[name]
    with pytest.raises(ValueError) as info:
        upload.parse(data, "bad.npz")
    message = str(info.value)
    assert phrase.lower() in message.lower() and len(message) < 600
    assert "Traceback" not in message


def test_a_header_claiming_gigabytes_is_refused_before_anything_is_allocated():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, zf.open("weight_ih_l0.npy", "w") as member:
        header = {"descr": "<f8", "fortran_order": False, "shape": (2**20, 2**14)}
        np.lib.format.write_array_header_1_0(member, header)
    with pytest.raises(ValueError, match="bytes"):
        upload.parse(buf.getvalue())


@pytest.mark.parametrize("text", [
    "![x](http://example.com/t.png) [link](javascript:alert(1)) **b** <img src=x> $x$",
    ":red[alarm] :material/home: `code` ``two`` # head \\ *a* _b_ ~c~ | t |\nline two",
])
def test_refusal_messages_become_one_code_span(text):
    span = upload.literal_markdown(text)
    fence = re.match(r"`+", span)[0]
    assert span == f"{fence} {' '.join(text.split())} {fence}"
    assert len(fence) > max((len(run) for run in re.findall("`+", text)), default=0)  # unclosable


def test_code_point_inputs_are_one_hot_or_zero():
    x, unknown = cells.CodePointEncoder(256).encode("a\x00ÿĀ")
    assert x.shape == (4, 256) and x.sum(axis=1).tolist() == [1, 1, 1, 0]
    assert x[0, 97] == x[1, 0] == x[2, 255] == 1 and unknown.tolist() == [False] * 3 + [True]


# --------------------------------------------------------------------------- the page, under AppTest


def upload_file(at: AppTest, data: bytes, name: str = "mine.npz") -> AppTest:
    at.file_uploader(key="upload_file").set_value((name, data, "application/octet-stream"))
    return at.run()


def test_an_uploaded_text_model_is_shown_on_the_gates_page_and_named_in_the_url():
    cell = bare("gru", 128, H=5, seed=4)
    at = upload_file(run_app({"seq": "hi there"}), saved(cell))
    assert not at.exception and not at.error
    up = at.session_state["upload"]
    assert at.radio(key="model").value == up.key and at.query_params["model"] == up.key
    assert any("uploaded by you" in c.value for c in at.caption)
    blocks = heatmap_blocks(gate_charts(at)[0])
    assert list(blocks) == ["r", "z", "n", "h"]
    h_rows = blocks["h"][1]  # (U, T) for the shown units
    x = ascii_one_hot("hi there", 128)
    np.testing.assert_allclose(np.sort(np.abs(h_rows[:, -1])),
                               np.sort(np.abs(cell.forward(x).h[-1])), rtol=1e-6)  # float32 charts


def test_an_uploaded_tanh_rnn_is_shown_on_the_gates_page_with_only_its_h_row():
    cell = bare("rnn", 128, H=5, seed=7)
    at = upload_file(run_app({"seq": "hi there"}), saved(cell), name="rnn.npz")
    assert not at.exception and not at.error, [e.value for e in at.error]
    up = at.session_state["upload"]
    assert up.arch == "rnn" and at.radio(key="model").value == up.key
    assert at.query_params["model"] == up.key
    assert any(c.value.startswith("Model: RNN, 5 units, uploaded by you") for c in at.caption)
    heatmaps, scrubber = gate_charts(at)
    blocks = heatmap_blocks(heatmaps)
    assert list(blocks) == ["h"]  # no gates, no c
    h_rows = blocks["h"][1]  # (U, T)
    assert h_rows.shape == (5, 8)
    h = cell.forward(ascii_one_hot("hi there", 128)).h  # (T, 5)
    np.testing.assert_allclose(np.sort(h_rows, axis=0), np.sort(h.T, axis=0), rtol=1e-6,
                               atol=1e-7)  # every unit, every step (float32 charts)
    assert len(scrubber["frames"]) == len("hi there")


def test_an_uploaded_series_model_switches_to_numbers_mode():
    at = upload_file(run_app(), saved(bare("lstm", 1, H=4)))
    assert not at.exception and not at.error
    assert at.radio(key="mode").value == "numbers"
    series = at.text_area(key="seq").value  # the default text became the default series
    assert len(gate_charts(at)[1]["frames"]) == len(series.split(","))
    assert at.radio(key="model").value == at.session_state["upload"].key


@pytest.mark.parametrize("name", ["a pickle", "NaN", "too many units", "integer weights"])
def test_a_refused_file_is_a_plain_message_and_the_page_keeps_working(name):
    data, phrase = BAD_FILES[name]
    at = upload_file(run_app({"seq": "still here"}), data, name="bad [x](y).npz")
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith("This file was refused:") and phrase in error.value
    assert at.radio(key="model").value == "trained" and len(chart_specs(at)) == 3
    assert at.session_state["upload"] is None


def test_removing_the_file_goes_back_to_the_shipped_model():
    at = upload_file(run_app(), saved(bare("lstm", 128)))
    assert at.radio(key="model").value.startswith("upload-")
    at.file_uploader(key="upload_file").clear()
    at.run()
    assert not at.exception and at.radio(key="model").value == "trained"
    assert "model" not in at.query_params


def test_a_link_naming_someone_elses_upload_shows_the_shipped_model_and_says_why():
    at = run_app({"seq": "shared", "model": "upload-0123456789abcdef"})
    assert not at.exception and not at.error
    assert at.radio(key="model").value == "trained"
    assert any("another browser session" in i.value for i in at.info)


def test_the_sidebar_shows_both_recipes_as_code():
    at = run_app()
    codes = [c.value.strip() for c in at.code]
    assert upload.SAVE_TORCH.strip() in codes and upload.SAVE_KERAS.strip() in codes
    assert CONVERT_SNIPPET.strip() in codes


# --------------------------------------------------------------------------- on the other pages

GATES, COMPARE, GRADIENTS, CELLS = (str(ROOT / "pages" / f"{name}.py")
                                    for name in ("gates", "compare", "gradients", "cells"))


def assert_still_chosen(at: AppTest, key: str) -> None:
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.radio(key="model").value == key and at.query_params["model"] == key


def gradient_curves(at: AppTest) -> dict[str, np.ndarray]:
    spec = chart_specs(at)[0]
    return {t["name"]: np.array([np.nan if v is None else v for v in t["y"]], dtype=float)
            if isinstance(t["y"], list) else plotly_array(t["y"])
            for t in spec["data"] if t["name"] in ("RNN", "LSTM", "GRU")}


def test_an_uploaded_gru_replaces_the_trained_gru_on_lstm_vs_gru_and_stays_chosen():
    cell = bare("gru", 128, H=5, seed=4)
    at = upload_file(run_app({"seq": "hi there"}), saved(cell))
    key = at.session_state["upload"].key
    at.switch_page(COMPARE).run()
    assert_still_chosen(at, key)
    assert any("replaces the trained cell of its kind" in i.value for i in at.info)
    rows = at.dataframe[0].value.to_dict()
    assert (rows["GRU"]["hidden size H"], rows["GRU"]["input size I"]) == ("5", "128")
    shipped = cells.pretrained("lstm").cell
    assert rows["LSTM"]["hidden size H"] == str(shipped.hidden_size)
    assert rows["LSTM"]["input size I"] == str(shipped.input_size)
    lstm, gru, _ = chart_specs(at)
    assert "(your upload)" in gru["layout"]["title"]["text"]
    assert "(your upload)" not in lstm["layout"]["title"]["text"]
    h_rows = heatmap_blocks(gru)["h"][1]  # (U, T)
    x = ascii_one_hot("hi there", 128)
    np.testing.assert_allclose(np.sort(np.abs(h_rows[:, -1])),
                               np.sort(np.abs(cell.forward(x).h[-1])), rtol=1e-6)
    at.switch_page(GATES).run()  # back on Gates, the upload is still the one shown
    assert_still_chosen(at, key)
    assert any("uploaded by you" in c.value for c in at.caption)


def test_an_uploaded_character_lstm_is_measured_on_gradients_with_its_own_vocabulary():
    model = CharModel.untrained("lstm", 8, seed=3, vocab="abc ")
    buf = io.BytesIO()
    cells.save_model(model, buf)
    text = "ab cab zz"
    at = upload_file(run_app({"seq": text}), buf.getvalue())
    key = at.session_state["upload"].key
    at.switch_page(GRADIENTS).run()
    assert_still_chosen(at, key)
    assert any("replaces the trained cell of its kind" in i.value for i in at.info)
    shown = gradient_curves(at)
    mine = gradient_profile(model.cell, model.inputs(model.encoder.ids(text)))
    np.testing.assert_allclose(shown["LSTM"], mine.log_norms, rtol=1e-9)
    gru = cells.pretrained("gru")  # the shipped GRU, on its own vocabulary
    np.testing.assert_allclose(shown["GRU"], gradient_profile(
        gru.cell, gru.inputs(gru.encoder.ids(text))).log_norms, rtol=1e-9)
    assert any("1 distinct character" in i.value for i in at.info)  # z: not in "abc "
    assert "z" in [t.value for t in at.text]
    at.switch_page(GATES).run()
    assert_still_chosen(at, key)


def test_a_numbers_upload_is_not_compared_on_gradients_and_is_still_chosen_back_on_gates():
    at = upload_file(run_app(), saved(bare("lstm", 1, H=4)))
    key = at.session_state["upload"].key
    at.text_area(key="seq").set_value("some text").run()
    at.switch_page(GRADIENTS).run()
    assert_still_chosen(at, key)
    assert any("reads numbers mode" in i.value and "cannot be shown here" in i.value
               for i in at.info)
    lstm = cells.pretrained("lstm")
    np.testing.assert_allclose(gradient_curves(at)["LSTM"], gradient_profile(
        lstm.cell, lstm.inputs(lstm.encoder.ids("some text"))).log_norms, rtol=1e-9)
    at.switch_page(CELLS).run()  # Cells reads text too
    assert_still_chosen(at, key)
    assert any("cannot be shown here" in i.value for i in at.info)
    assert any(c.value.startswith("Model: LSTM") for c in at.caption)
    at.switch_page(COMPARE).run()  # in numbers mode, LSTM vs GRU shows it in the trained LSTM's place
    assert_still_chosen(at, key)
    assert at.dataframe[0].value.to_dict()["LSTM"]["hidden size H"] == "4"
    at.switch_page(GATES).run()
    assert_still_chosen(at, key)
    at.text_area(key="seq").set_value("0.5, -0.25, 1").run()  # "some text" is no series
    assert any("uploaded by you" in c.value for c in at.caption)


def test_cells_ranks_the_units_of_an_uploaded_text_model():
    cell = bare("gru", 128, H=6, seed=2)
    text = 'He said "wait (a bit)" and\nthen "go".'
    at = upload_file(run_app({"seq": text, "arch": "lstm"}), saved(cell))
    key = at.session_state["upload"].key
    at.switch_page(CELLS).run()
    assert_still_chosen(at, key)
    assert any("is the model ranked here" in i.value for i in at.info)
    assert any(c.value.startswith("Model: GRU, 6 units, uploaded by you") for c in at.caption)
    assert not any(r.key == "cells_state" for r in at.radio)  # a GRU has no cell state to pick
    quotes = at.dataframe[0].value.set_index("property").loc["inside quotes"]
    h = cell.forward(ascii_one_hot(text, 128)).h  # (T, 6)
    r = [np.corrcoef(interpret.inside_quotes(text), h[:, j])[0, 1] for j in range(6)]
    assert int(quotes["best unit"]) == int(np.argmax(np.abs(r)))
    assert quotes["correlation r"] == pytest.approx(r[int(np.argmax(np.abs(r)))], abs=1e-5)
    at.radio(key="model").set_value("trained").run()  # the shipped model, by the Weights choice
    assert any(c.value.startswith("Model: LSTM") for c in at.caption)
    assert any(r.key == "cells_state" for r in at.radio)  # an LSTM has c to pick
    assert at.radio(key="cells_state").label == "Cell state or hidden state"


def test_an_uploaded_tanh_rnn_replaces_the_trained_rnn_on_gradients_and_joins_lstm_vs_gru():
    cell = bare("rnn", 128, H=5, seed=7)
    text = "hi there, hi"
    at = upload_file(run_app({"seq": text}), saved(cell), name="rnn.npz")
    key = at.session_state["upload"].key
    at.switch_page(GRADIENTS).run()
    assert_still_chosen(at, key)
    assert any("replaces the trained cell of its kind" in i.value for i in at.info)
    shown = gradient_curves(at)
    assert set(shown) == {"RNN", "LSTM", "GRU"}  # it takes the RNN's place, not a fourth curve
    assert not any("yours" in str(t.get("name")) for t in chart_specs(at)[0]["data"])
    np.testing.assert_allclose(shown["RNN"], gradient_profile(
        cell, ascii_one_hot(text, 128)).log_norms, rtol=1e-9)
    lstm = cells.pretrained("lstm")
    np.testing.assert_allclose(shown["LSTM"], gradient_profile(
        lstm.cell, lstm.inputs(lstm.encoder.ids(text))).log_norms, rtol=1e-9)
    at.switch_page(COMPARE).run()  # LSTM vs GRU: the RNN, of neither kind, is shown beside them
    assert_still_chosen(at, key)
    rows = at.dataframe[0].value.to_dict()
    assert list(rows) == ["LSTM", "GRU", "RNN (yours)"]
    assert (rows["RNN (yours)"]["hidden size H"], rows["RNN (yours)"]["input size I"]) == ("5", "128")
    yours = chart_specs(at)[2]
    assert "(your upload)" in yours["layout"]["title"]["text"]
    assert list(heatmap_blocks(yours)) == ["h"]


# --------------------------------------------------------------------------- in Chromium


def test_in_the_browser_an_upload_is_drawn_and_a_refusal_shows_its_markup_as_text(new_page, app_url,
                                                                                  tmp_path):
    payload = "![t](http://127.0.0.1:9/t.png) [link](javascript:x) **b** <img src=x> :red[r]"
    bad = tmp_path / "bad.npz"
    bad.write_bytes(npz(arch=np.frombuffer(payload.encode(), np.uint8),
                        **cells.init_params("lstm", 1, 3, seed=0)))
    good = tmp_path / "good.npz"
    good.write_bytes(saved(bare("gru", 128, H=5)))
    page = new_page()
    page.goto(f"{app_url}/?seq=typed+here")
    # the model file's uploader, not the vocabulary's
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"][accept*=".npz"]')
    uploader.set_input_files(str(bad))
    alert = page.locator('[data-testid="stAlertContentError"]')
    alert.wait_for(timeout=90_000)
    assert payload in alert.inner_text()  # every character shown as itself
    assert alert.locator("a, img, strong").count() == 0, alert.inner_html()
    assert page.locator("img[src*='t.png'], img[src='x']").count() == 0

    uploader.set_input_files(str(good))
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot')].some(
               gd => Array.isArray(gd.data[0].y) && gd.data[0].y.includes('r · unit 0'))""",
        timeout=90_000)
    assert_no_failure(page)  # the run has finished: the URL is synced, no error box is left
    captions = " ".join(page.locator('[data-testid="stCaptionContainer"]').all_inner_texts())
    assert "uploaded by you" in captions
    assert "model=upload-" in page.url


# --------------------------------------------------------------------------- real model files

EXAMPLES = ROOT / "examples"


def upload_torch_example(text: str) -> tuple[AppTest, cells.Reader]:
    """The app reading ``text``, with examples/torch-char-lstm2.safetensors (nn.Embedding +
    nn.LSTM(num_layers=2) + nn.Linear) uploaded; and the same file read by the engine alone."""
    data = (EXAMPLES / "torch-char-lstm2.safetensors").read_bytes()
    return upload_file(run_app({"seq": text}), data, "model.safetensors"), cells.read_model(data)


def test_a_two_layer_torch_char_model_from_safetensors_is_shown_layer_by_layer():
    """examples/torch-char-lstm2.safetensors: nn.Embedding + nn.LSTM(num_layers=2) + nn.Linear,
    saved by safetensors.torch (scripts/make_examples.py). Every layer's gates are the engine's."""
    text = "Beautiful is better than ugly."
    at, reader = upload_torch_example(text)
    assert_clean(at)
    assert "layer 1 of 2" in gate_charts(at)[0]["layout"]["title"]["text"]  # the top layer, first
    assert at.selectbox(key="layer").options == ["layer 0 (reads the input)", "layer 1 (top)"]
    trace = reader.read(text).trace
    for layer in (1, 0):
        at.selectbox(key="layer").set_value(layer).run()
        assert_clean(at)
        heatmaps = gate_charts(at)[0]
        assert f"layer {layer} of 2" in heatmaps["layout"]["title"]["text"]
        units, f_rows = heatmap_blocks(heatmaps)["f"]
        np.testing.assert_allclose(f_rows, trace.layers[layer].gates["f"][:, units].T, atol=1e-6)
    guesses = gate_charts(at)[1]["data"][-1]  # the scrubber's next-character panel
    assert len(guesses["x"]) == 5 and abs(sum(guesses["x"])) <= 1.0 + 1e-9


def test_a_stacked_upload_gets_a_gradient_curve_per_layer_through_depth_and_time():
    text = "Flat is better than nested."
    at, reader = upload_torch_example(text)
    at.switch_page(GRADIENTS).run()
    assert_clean(at)
    spec = chart_specs(at)[0]
    names = [t["name"] for t in spec["data"] if t.get("mode") == "lines" and "threshold" not in t["name"]]
    assert names == ["RNN", "LSTM layer 0", "LSTM layer 1", "GRU"]
    x = reader.encoder.encode(text)[0]
    for layer in (0, 1):
        want = cells.jacobian_norms(reader.cell, reader.cell.forward(x), layer=layer)
        got = next(t for t in spec["data"] if t["name"] == f"LSTM layer {layer}")
        np.testing.assert_allclose(np.array(got["y"], dtype=float) if isinstance(got["y"], list)
                                   else plotly_array(got["y"]), want, rtol=1e-9)
    assert any("LSTM layer 0" in m.value for m in at.markdown)  # each layer's own ∏f explanation


def test_a_keras_file_and_a_word_model_with_its_vocabulary_file_are_read():
    keras_model = (EXAMPLES / "keras-char-lstm2.keras").read_bytes()
    at = upload_file(run_app({"seq": "hello world"}), keras_model, "m.keras")
    refusal = [e.value for e in at.error]  # a model with an embedding needs its vocabulary
    assert len(refusal) == 1 and "in the Vocabulary box under the model file" in refusal[0]
    assert any('metadata={"vocab": json.dumps(tokens)}' in c.value for c in at.code)  # the other fix
    at.file_uploader(key="upload_vocab").set_value(
        ("vocab.json", (EXAMPLES / "keras-char-lstm2.vocab.json").read_bytes(), "application/json"))
    at.run()
    assert_clean(at)
    assert any("uploaded by you" in c.value for c in at.caption)
    words = (EXAMPLES / "torch-word-gru2.safetensors").read_bytes()
    vocab = (EXAMPLES / "torch-word-gru2.vocab.json").read_bytes()
    at.file_uploader(key="upload_vocab").set_value(("vocab.json", vocab, "application/json"))
    at = upload_file(at.run(), words, "words.safetensors")
    assert_clean(at)
    tokens = json.loads(vocab)
    text = " ".join(tokens[5:9]) + " zzzunknownzzz"
    at.text_area(key="seq").set_value(text).run()
    assert_clean(at)
    ticks = gate_charts(at)[0]["layout"]["xaxis"]["ticktext"]
    assert ticks == [*tokens[5:9], sequence.UNKNOWN_LABEL]  # one token per word, the unknown marked


def test_a_pickled_checkpoint_is_refused_with_the_lines_that_convert_it():
    import pickle

    at = upload_file(run_app(), pickle.dumps({"weight_ih_l0": [1.0]}, protocol=4), "model.pt")
    refusal = [e.value for e in at.error]
    assert len(refusal) == 1 and refusal[0].startswith("This file was refused:") and "pickle" in refusal[0]
    fixes = [c.value for c in at.code if "torch.load(" in c.value]
    assert len(fixes) == 3  # under the sidebar's refusal, on the page above its charts, in the help
    for fix in fixes:  # as lines to copy, the load first: from a .pt the model is not in memory
        lines = fix.splitlines()
        assert lines.index('sd = torch.load("model.pt", map_location="cpu", weights_only=True)') \
            < next(k for k, line in enumerate(lines) if line.startswith("save_file("))
    assert any("refused, so this page shows" in w.value and "trained" in w.value for w in at.warning)
    assert not at.exception and len(chart_specs(at)) == 3  # the page goes on with its own model


def test_a_stacked_upload_is_read_layer_by_layer_on_lstm_vs_gru_and_cells():
    text = 'He said "simple is better" (twice).'
    at, reader = upload_torch_example(text)
    at.switch_page(COMPARE).run()
    assert_clean(at)
    assert at.selectbox(key="layer").value == 1  # the top layer by default
    at.selectbox(key="layer").set_value(0).run()
    assert_clean(at)
    yours = next(s for s in chart_specs(at) if "(your upload)" in s["layout"]["title"]["text"])
    units, h_rows = heatmap_blocks(yours)["h"]
    np.testing.assert_allclose(h_rows, reader.read(text).trace.layers[0].h[:, units].T, atol=1e-6)
    at.switch_page(CELLS).run()
    assert_clean(at)
    assert at.selectbox(key="layer").value == 0  # the choice is kept across pages
    table = at.dataframe[0].value.set_index("property")
    unit = int(table.loc["inside quotes", "best unit"])
    c0 = reader.read(text).trace.layers[0].c  # the cell state of layer 0 (the page's default: c)
    r = np.corrcoef(cells.science.interpret.inside_quotes(text), c0[:, unit])[0, 1]
    assert table.loc["inside quotes", "correlation r"] == pytest.approx(r, abs=1e-5)


def test_in_the_browser_a_stacked_safetensors_model_is_shown_with_its_layer_choice(new_page, app_url):
    page = new_page()
    page.goto(f"{app_url}/?seq=Simple+is+better+than+complex.")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        str(EXAMPLES / "torch-char-lstm2.safetensors"))
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot')].some(
               gd => (gd.layout.title?.text || '').includes('layer 1 of 2'))""", timeout=90_000)
    assert_no_failure(page)
    assert page.locator('[data-testid="stSelectbox"]', has_text="Layer").count() == 1
    assert "model=upload-" in page.url and "layer=1" in page.url  # the top layer, in the view
    page.locator('[data-testid="stSidebarNav"] a', has_text="Gradients").click()  # same session
    page.wait_for_function(
        """() => { const gd = document.querySelector('.js-plotly-plot');
                   return gd && gd.data.some(t => t.name === 'LSTM layer 0'); }""", timeout=90_000)
    assert_no_failure(page)
