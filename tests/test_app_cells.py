"""The Cells page: the coloured-text chart builder alone, then the page under AppTest."""

from __future__ import annotations

import json

import numpy as np
import pytest
from apptest import HOSTILE, assert_clean, chart_specs, open_page, plotly_array

import cells
from app.charts.text import activation_text, text_grid
from app.view import sequence
from app.view.state import DEFAULT_TEXT
from cells.science import interpret

# --------------------------------------------------------------------------- chart builder


def test_text_grid_wraps_at_the_width_and_after_each_newline():
    rows, cols = text_grid("abc\nde\n\nf", width=2)
    assert rows.tolist() == [0, 0, 1, 1, 2, 2, 3, 4, 5]  # a newline on a full row wraps too
    assert cols.tolist() == [0, 1, 0, 1, 0, 1, 0, 0, 0]
    assert text_grid("", 5)[0].shape == (0,)


def test_text_grid_moves_a_word_that_would_cross_the_row_end_to_the_next_row():
    rows, cols = text_grid("ab cde f", width=5)  # "ab cd|e" would split "cde": it moves down
    assert rows.tolist() == [0, 0, 0, 1, 1, 1, 1, 1]
    assert cols.tolist() == [0, 1, 2, 0, 1, 2, 3, 4]
    rows, cols = text_grid("a abcdefg", width=4)  # longer than a row: cut where rows end
    assert rows.tolist() == [0, 0, 1, 1, 1, 1, 2, 2, 2]
    assert cols.tolist() == [0, 1, 0, 1, 2, 3, 0, 1, 2]


def test_activation_text_puts_each_value_and_escaped_character_in_its_cell():
    text = "<b> &\nok"
    labels = [sequence.token_label(ch) for ch in text]
    values = np.linspace(-0.5, 2.0, len(text))
    fig = activation_text(text, labels, values, title="unit 3", value_name="c of unit 3", width=4)
    heat = fig.data[0]
    z = np.asarray(heat.z, dtype=float)
    assert z.shape == (3, 4)  # "<b> " | "&⏎" | "ok"
    rows, cols = text_grid(text, 4)
    np.testing.assert_allclose(z[rows, cols], values)
    assert np.isnan(z[1, 2:]).all() and np.isnan(z[2, 2:]).all()
    shown = np.asarray(heat.text)
    assert shown[0].tolist() == ["&lt;", "b", "&gt;", ""]  # a space is an empty cell
    assert shown[1, :2].tolist() == ["&amp;", "⏎"]
    assert "<" not in "".join(shown.ravel()) + "".join(np.asarray(heat.customdata).ravel())
    assert (heat.zmin, heat.zmax, heat.zmid) == (-2.0, 2.0, 0.0)


def test_activation_text_of_nothing_and_of_mismatched_inputs():
    fig = activation_text("", [], np.zeros(0), title="t", value_name="v")
    assert np.isnan(np.asarray(fig.data[0].z, dtype=float)).all()
    with pytest.raises(ValueError, match="one value and one label"):
        activation_text("ab", ["a", "b"], np.zeros(3), title="t", value_name="v")


# --------------------------------------------------------------------------- the page


def shown_values(spec: dict, text: str) -> np.ndarray:
    """The per-character values a coloured-text chart holds, in text order."""
    rows, cols = text_grid(text)
    return plotly_array(spec["data"][0]["z"])[rows, cols]


@pytest.mark.parametrize(("arch", "state"), [("lstm", "c"), ("lstm", "h"), ("gru", "h")])
def test_table_and_charts_agree_with_the_model_read_independently(arch, state):
    text = 'He said "wait (just a moment)" and\nthen "go".'
    at = open_page("cells.py", seq=text, arch=arch, cells_state=state)
    assert_clean(at)
    table = at.dataframe[0].value
    assert set(table["property"]) == set(interpret.PROPERTIES)
    trace = cells.pretrained(arch).read(text).trace  # the shipped model, read without the app
    states = trace.c if state == "c" else trace.h  # (T, H)
    quotes = table.set_index("property").loc["inside quotes"]
    unit = int(quotes["best unit"])
    r = np.corrcoef(interpret.inside_quotes(text), states[:, unit])[0, 1]
    assert quotes["correlation r"] == pytest.approx(r, abs=1e-5)
    all_r = [abs(np.corrcoef(interpret.inside_quotes(text), states[:, j])[0, 1])
             for j in range(states.shape[1]) if states[:, j].std() > 0]
    assert abs(r) == pytest.approx(max(all_r), abs=1e-5)
    rs = table["correlation r"].abs().tolist()
    assert rs == sorted(rs, reverse=True)

    at.selectbox(key="cells_property").set_value("inside quotes").run()
    assert_clean(at)
    specs = chart_specs(at)
    assert len(specs) == 4  # three units and, in the expander, the property itself
    np.testing.assert_allclose(shown_values(specs[0], text), states[:, unit], atol=1e-5)
    np.testing.assert_array_equal(shown_values(specs[3], text), interpret.inside_quotes(text))


def test_properties_that_cannot_rank_units_are_left_out_and_named():
    at = open_page("cells.py", seq="plain words only")
    assert_clean(at)
    ranked = set(at.dataframe[0].value["property"])
    assert "inside quotes" not in ranked and "position in line" not in ranked
    assert "position in word" in ranked
    note = next(c.value for c in at.caption if "Not ranked:" in c.value)
    assert "inside quotes (constant in this text)" in note
    assert "position in line (the step number itself in this text)" in note
    assert all("inside quotes" not in o for o in at.selectbox(key="cells_property").options)


def test_a_text_nothing_can_be_ranked_on_says_so():
    at = open_page("cells.py", seq="aa")
    assert_clean(at)
    assert not at.dataframe and not chart_specs(at)
    assert any("No property varies" in i.value for i in at.info)


def test_the_longer_text_button_fills_the_box_with_quotes_brackets_and_lines():
    at = open_page("cells.py")
    at.button[0].click().run()
    assert_clean(at)
    text = at.text_area(key="seq").value
    assert text != DEFAULT_TEXT and text.count("\n") >= 3 and '"' in text and "(" in text
    assert set(at.dataframe[0].value["property"]) == set(interpret.PROPERTIES)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_never_breaks_the_page(name):
    text = HOSTILE[name]
    at = open_page("cells.py", seq=text)
    assert_clean(at)
    specs = chart_specs(at)
    if len(text) < 2:
        assert at.info and not specs and not at.dataframe
        return
    assert at.dataframe
    cut = text[: sequence.MAX_CHARS]
    assert any("only the first" in w.value for w in at.warning) == (len(text) > sequence.MAX_CHARS)
    for spec in specs:
        shown = json.dumps([spec["data"][0]["text"], spec["data"][0]["customdata"]])
        assert "<script" not in shown and "<img" not in shown
        assert len(shown_values(spec, cut)) == len(cut)


def test_the_default_page_names_the_model_and_shows_the_best_units():
    at = open_page("cells.py")
    assert_clean(at)
    assert any(c.value.startswith("Model: LSTM") for c in at.caption)
    assert at.text_area(key="seq").value == DEFAULT_TEXT
    assert len(chart_specs(at)) == 4


CODE = (
    "def area(shape, scale=1.0):\n"
    '    """Area of a shape, scaled (see #12)."""\n'
    "    if shape.kind == 'circle':  # pi r^2\n"
    "        return 3.14159 * (shape.r * scale) ** 2\n"
    "    return sum(w * h for (w, h) in [shape.size])  # one box\n"
)


def test_with_corpus_code_the_code_model_is_ranked_against_code_properties():
    at = open_page("cells.py", seq=CODE, corpus="code", arch="lstm", cells_state="c")
    assert_clean(at)
    assert any(c.value.startswith("Model: LSTM") and "Python" in c.value for c in at.caption)
    table = at.dataframe[0].value
    assert set(table["property"]) == set(interpret.CODE_PROPERTIES)
    states = cells.pretrained("lstm-code").read(CODE).trace.c  # the code model, read without the app
    props = interpret.code_properties(CODE)
    for name in ("inside a string", "inside a comment", "indentation depth"):
        row = table.set_index("property").loc[name]
        r = [np.corrcoef(props[name], states[:, j])[0, 1] for j in range(states.shape[1])]
        assert int(row["best unit"]) == int(np.nanargmax(np.abs(r)))
        assert row["correlation r"] == pytest.approx(r[int(row["best unit"])], abs=1e-5)
        assert row["means"] == interpret.CODE_PROPERTIES[name][0]
    at.selectbox(key="cells_property").set_value("inside a comment").run()
    assert_clean(at)
    np.testing.assert_array_equal(shown_values(chart_specs(at)[3], CODE), props["inside a comment"])
    at.button[0].click().run()  # "Try a longer text" gives a longer piece of code
    assert_clean(at)
    text = at.text_area(key="seq").value
    assert "def " in text and "#" in text and '"""' in text and text.count("\n    ") >= 5
