"""The LSTM vs GRU page under AppTest."""

from __future__ import annotations

import pytest
from apptest import HOSTILE, assert_clean, chart_specs, heatmap_blocks, players
from conftest import MAIN, ROOT
from streamlit.testing.v1 import AppTest

COMPARE = str(ROOT / "pages" / "compare.py")


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    at.switch_page(COMPARE).run()
    assert_clean(at)
    return at


def table(at: AppTest) -> dict[str, dict[str, str]]:
    return at.dataframe[0].value.to_dict()


def test_parameter_counts_match_the_weight_shapes():
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    at.switch_page(COMPARE).run()
    rows = table(at)
    for arch, blocks in (("LSTM", 4), ("GRU", 3)):
        H, I = int(rows[arch]["hidden size H"]), int(rows[arch]["input size I"])
        # W_ih (G H, I) + W_hh (G H, H) + two biases (G H,)
        assert rows[arch]["parameters"] == f"{blocks * H * I + blocks * H * H + 2 * blocks * H:,}"
        assert rows[arch]["weight blocks G"] == str(blocks)
        assert float(rows[arch]["µs per step (step())"]) > 0
    assert rows["LSTM"]["state vectors"] == "c, h" and rows["GRU"]["state vectors"] == "h"


def test_both_cells_gates_on_the_same_text_and_the_saturation_scatter(page):
    lstm, gru, scatter = chart_specs(page)
    T = len(page.text_area(key="seq").value)
    assert list(heatmap_blocks(lstm)) == ["f", "i", "o", "g", "h"]  # gates and h, no c
    assert list(heatmap_blocks(gru)) == ["r", "z", "n", "h"]
    assert [a["text"] for a in lstm["layout"]["annotations"]][:3] == [
        "forget gate f", "input gate i", "output gate o"]
    assert all(values.shape[1] == T for fig in (lstm, gru)  # one column per token
               for _, values in heatmap_blocks(fig).values())
    names = {t.get("name") for t in scatter["data"]}
    assert {"LSTM input gate i", "LSTM forget gate f", "GRU update gate z"} <= names
    assert page.latex and len(page.latex) == 2  # the equations of both cells
    (both,) = players(page)  # both cells drawn, stepped together
    assert [d["title"].split(",")[0] for d in both["diagrams"]] == ["The LSTM cell", "The GRU cell"]
    assert all(len(d["frames"]) == len(both["captions"]) == T for d in both["diagrams"])


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_never_breaks_the_page(page, name):
    page.text_area(key="seq").set_value(HOSTILE[name]).run()
    assert_clean(page)
    assert len(chart_specs(page)) == (0 if HOSTILE[name] == "" else 3)
    if len(HOSTILE[name]) > 2000:
        assert any("only the first 2,000" in w.value for w in page.warning)


def test_numbers_mode_with_garbage(page):
    page.radio(key="mode").set_value("numbers").run()
    page.text_area(key="seq").set_value("1, nan, 2, -inf, x, 3").run()
    assert_clean(page)
    assert len(chart_specs(page)) == 3
    assert table(page)["LSTM"]["input size I"] == "1"
