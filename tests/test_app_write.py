"""The Write page: its chart builders alone, then the page under AppTest."""

from __future__ import annotations

import json

import numpy as np
import pytest
from apptest import HOSTILE, assert_clean, chart_specs, open_page, plotly_array, run_app

import cells
from app.charts.text import text_grid
from app.charts.writing import MARK_COLOUR, WIDTH, next_char_chart, written_text
from app.compute.writing import PROMPT_SHOWN, WRITERS
from app.view import sequence
from app.view.state import DEFAULT_TEXT, MAX_WRITE

# --------------------------------------------------------------------------- chart builders


def test_written_text_fades_the_beginning_and_marks_where_the_writing_starts():
    text = "ab <c>\nxyz"
    start = 7  # "ab <c>\n" typed, "xyz" written
    labels = [sequence.token_label(ch) for ch in text]
    values = np.linspace(-1.0, 2.0, len(text))
    fig = written_text(labels, values, start, text=text, title="h of unit 3", value_name="h", width=4)
    typed, wrote = fig.data
    rows, cols = text_grid(text, 4)
    z_typed, z_wrote = np.asarray(typed.z, dtype=float), np.asarray(wrote.z, dtype=float)
    np.testing.assert_allclose(z_typed[rows[:start], cols[:start]], values[:start])
    np.testing.assert_allclose(z_wrote[rows[start:], cols[start:]], values[start:])
    assert np.isnan(z_typed[rows[start:], cols[start:]]).all()  # each character in one trace only
    assert np.isnan(z_wrote[rows[:start], cols[:start]]).all()
    assert typed.opacity < 1 and wrote.opacity == 1 and typed.textfont.style == "italic"
    shown = np.asarray(typed.text)
    assert shown[rows[3], cols[3]] == "&lt;" and "<" not in "".join(np.asarray(typed.customdata).ravel())
    (bar,) = fig.layout.shapes  # the marker: at the left edge of the first written character
    assert bar.line.color == MARK_COLOUR
    assert (bar.x0, bar.y0, bar.y1) == (cols[start] - 0.5, rows[start] - 0.5, rows[start] + 0.5)
    assert (typed.zmin, typed.zmax) == (-2.0, 2.0)
    gate = written_text(labels, values.clip(0, 1), start, text=text, title="f", value_name="f", gate=True)
    assert (gate.data[1].zmin, gate.data[1].zmax) == (0.0, 1.0)


def test_written_text_of_nothing_written_has_no_marker_and_mismatches_raise():
    fig = written_text(["a"], np.zeros(1), 1, text="a", title="t", value_name="v")
    assert not fig.layout.shapes
    with pytest.raises(ValueError, match="one value and one label"):
        written_text(["a"], np.zeros(2), 0, text="a", title="t", value_name="v")
    with pytest.raises(ValueError, match="start"):
        written_text(["a"], np.zeros(1), 2, text="a", title="t", value_name="v")


def test_next_char_chart_marks_the_written_character_and_keeps_an_unlikely_one():
    written = ["a", "<", "c"]
    top_labels = np.array([["a", "b"], ["<", "x"], ["y", "z"]], dtype=object)  # (N=3, K=2)
    top_probs = np.array([[0.6, 0.3], [0.5, 0.4], [0.7, 0.2]])
    rank = np.array([0, 0, 5])  # "c" was the 6th likeliest: not among the 2 shown
    fig = next_char_chart(written, top_labels, top_probs, rank, np.array([0.6, 0.5, 0.01]), title="t")
    heat, marker = fig.data
    z = plotly_array(heat.z) if isinstance(heat.z, dict) else np.asarray(heat.z, dtype=float)
    np.testing.assert_allclose(z[:2], top_probs.T)
    assert np.isnan(z[2, :2]).all() and z[2, 2] == pytest.approx(0.01)  # the "lower" row
    assert list(heat.y) == ["1", "2", "lower"]
    assert list(marker.y) == ["1", "1", "lower"] and list(marker.x) == [0, 1, 2]
    assert np.asarray(heat.text)[0, 1] == "&lt;" and list(fig.layout.xaxis.ticktext) == ["a", "&lt;", "c"]
    assert "rank 6" in np.asarray(heat.customdata)[2, 2]
    empty = next_char_chart([], np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0), np.zeros(0), title="t")
    assert np.asarray(empty.data[0].z).shape[0] == 3


# --------------------------------------------------------------------------- the page


def writings(at) -> list[str]:
    """The three models' writings, from the page's plain-text blocks (the main area's code blocks)."""
    return [c.value for c in at.main.get("code")]


def written_values(spec: dict, shown: str, start: int) -> np.ndarray:
    """The values of the written characters in a written-text chart, in order."""
    rows, cols = text_grid(shown, WIDTH)
    return plotly_array(spec["data"][1]["z"])[rows[start:], cols[start:]]


def test_the_default_page_writes_what_cells_write_writes_and_colours_it_by_the_model():
    at = open_page("write.py")
    assert_clean(at)
    assert [s.value for s in at.main.subheader] == [cells.cell_class(a).display_name for a in WRITERS]
    expected = {a: cells.write(cells.pretrained(a), DEFAULT_TEXT, 200, temperature=0.8, seed=0)
                for a in WRITERS}
    assert writings(at) == [expected[a].text for a in WRITERS]
    specs = chart_specs(at)
    assert len(specs) == 6  # per model: the coloured text and the next-character chart
    for arch, text_spec, next_spec in zip(WRITERS, specs[::2], specs[1::2], strict=True):
        w = expected[arch]
        h = w.trace.h  # (N, H) read without the app
        unit = int(np.argmax(h.std(axis=0)))
        assert f"unit {unit}" in text_spec["layout"]["title"]["text"]
        shown = w.prompt[-PROMPT_SHOWN:] + w.text
        np.testing.assert_allclose(written_values(text_spec, shown, len(w.prompt)), h[:, unit], atol=1e-5)
        chosen = [next_spec["data"][1]["y"][k] for k in range(len(w.text))]
        ranks = np.argsort(-w.probs, axis=1, kind="stable").argsort(axis=1)[np.arange(len(w.ids)), w.ids]
        assert chosen == [str(r + 1) if r < 8 else "lower" for r in ranks]
    assert any("temperature 0.8, seed 0" in c.value for c in at.caption)
    assert any(str(MAX_WRITE) in c.value for c in at.caption)


@pytest.mark.parametrize("corpus", ["prose", "code"])
def test_greedy_writing_of_each_corpus_comes_from_that_corpus_models(corpus):
    prompt = "def f(x):\n    return " if corpus == "code" else "The sea was"
    at = open_page("write.py", seq=prompt, corpus=corpus, greedy=True, chars=60, sample_seed=7)
    assert_clean(at)
    names = {a: a if corpus == "prose" else f"{a}-code" for a in WRITERS}
    greedy = [cells.write(cells.pretrained(names[a]), prompt, 60, temperature=0).text for a in WRITERS]
    assert writings(at) == greedy
    sampled = [cells.write(cells.pretrained(names[a]), prompt, 60, temperature=0.8, seed=7).text
               for a in WRITERS]
    assert writings(at) != sampled  # greedy is not the sampler's choice
    trained_on = "Python" if corpus == "code" else "fortunes"
    assert sum(c.value.startswith("Model:") and trained_on in c.value for c in at.caption) == 3
    assert any("greedily" in c.value for c in at.caption)


def test_a_shared_link_opens_the_same_writing():
    query = {"seq": "import os\n", "corpus": "code", "temperature": "1.3", "sample_seed": "11",
             "chars": "40", "write_unit": "5"}
    at = run_app(query)
    at.switch_page("../pages/write.py").run()
    assert_clean(at)
    assert writings(at) == [cells.write(cells.pretrained(f"{a}-code"), "import os\n", 40, temperature=1.3,
                                        seed=11).text for a in WRITERS]
    specs = chart_specs(at)
    assert all("unit 5" in s["layout"]["title"]["text"] for s in specs[::2])
    assert {k: at.query_params[k] for k in query} == query  # and the address keeps the view


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_beginnings_never_break_the_page(name):
    text = HOSTILE[name]
    at = open_page("write.py", seq=text, chars=30)
    assert_clean(at)
    assert [len(w) for w in writings(at)] == [30, 30, 30]
    assert any("only the first" in w.value for w in at.warning) == (len(text) > sequence.MAX_CHARS)
    for spec in chart_specs(at):
        shown = json.dumps([[d.get("text"), d.get("customdata")] for d in spec["data"]])
        shown += json.dumps(spec["layout"].get("xaxis", {}).get("ticktext"))
        assert "<script" not in shown and "<img" not in shown


def test_each_column_colours_by_its_own_cells_rows():
    at = open_page("write.py", chars=20)
    assert_clean(at)
    lstm = at.selectbox(key="write_row_lstm")
    assert set(lstm.options) >= {"hidden state h", "cell state c", "forget gate f"}
    assert not any("cell state" in o for o in at.selectbox(key="write_row_gru").options)
    lstm.set_value("f").run()
    assert_clean(at)
    spec = chart_specs(at)[2 * WRITERS.index("lstm")]  # the LSTM column's coloured text
    assert (spec["data"][1]["zmin"], spec["data"][1]["zmax"]) == (0.0, 1.0)  # a gate: 0-1 scale
    assert "forget gate f" in spec["layout"]["title"]["text"]
