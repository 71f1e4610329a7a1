"""Numbers mode with real series under AppTest: the shipped sunspots (and their forecast), a CSV
upload that fills the sequence box, and hostile CSVs that leave the page as it was."""

from __future__ import annotations

import numpy as np
import pytest
from apptest import assert_clean, chart_specs, plotly_array, run_app
from streamlit.testing.v1 import AppTest
from test_series import HELDOUT, SUNSPOTS

from app.view import sequence
from cells.io.series_csv import read_csv


def numbers_app() -> AppTest:
    at = run_app({"mode": "numbers", "seq": "1, 2, 3, 2, 1"})
    assert_clean(at)
    return at


def upload_csv(at: AppTest, data: bytes, name: str = "mine.csv") -> AppTest:
    at.file_uploader(key="series_csv").set_value((name, data, "text/csv"))
    return at.run()


def box_values(at: AppTest) -> np.ndarray:
    return sequence.prepare(at.text_area(key="seq").value, "numbers").values


def test_the_shipped_sunspots_fill_the_box_pick_their_models_and_are_forecast():
    at = numbers_app()
    at.selectbox(key="series_example").set_value("sunspots").run()
    assert_clean(at)
    values = read_csv(SUNSPOTS).series(1)[0]
    np.testing.assert_array_equal(box_values(at), values)  # the box holds the whole series
    assert at.radio(key="trained_on").value == "sunspots" and at.selectbox(key="series_example").value == ""
    assert at.query_params["trained_on"] == "sunspots"  # the view, sequence included, is in the URL
    assert sequence.prepare(at.query_params["seq"], "numbers").values.tolist() == values.tolist()
    caption = next(c.value for c in at.caption if c.value.startswith("Model: "))
    assert "LSTM, 16 units" in caption and "sunspot" in caption
    assert any("held-out tail the models never trained on" in c.value for c in at.caption)
    errors = at.dataframe[0].value
    assert errors["forecaster"].tolist() == ["RNN", "LSTM", "GRU", "naive (last value)",
                                             "seasonal naive (period 11)"]
    tail = values[-HELDOUT:]
    naive5 = np.mean(np.abs(values[-HELDOUT - 5:-5] - tail))  # computed here, from the series
    assert errors.loc[3, "MAE, 5 ahead"] == pytest.approx(naive5, abs=0.005)
    assert (errors.loc[:2, "MAE, 1 ahead"] < errors.loc[3, "MAE, 1 ahead"]).all()
    _, scrubber, fc, gradients = chart_specs(at)
    assert len(scrubber["frames"]) == min(len(values), 100)  # the scrubber's window
    series_trace = fc["data"][0]
    np.testing.assert_allclose(plotly_array(series_trace["y"])[-HELDOUT:], tail)
    assert {t["name"] for t in gradients["data"]} >= {"RNN", "LSTM", "GRU"}
    at.radio(key="horizon").set_value(11).run()
    assert_clean(at)
    assert "11 steps ahead" in chart_specs(at)[2]["layout"]["title"]["text"]
    assert at.query_params["horizon"] == "11"


def test_a_series_too_short_to_forecast_says_so():
    at = run_app({"mode": "numbers", "trained_on": "sunspots", "seq": "1, 2, 3, 4, 5"})
    assert_clean(at)
    assert any("Forecasting needs more than 11 values" in i.value for i in at.info)
    assert len(chart_specs(at)) == 3  # heatmaps, scrubber, gradient curve: no forecast chart


def test_a_csv_upload_fills_the_box_with_the_chosen_column():
    at = upload_csv(numbers_app(), b"date,level,flow\n2020-01,1.5,10\n2020-02,2.5,20\n2020-03,oops,30\n"
                                   b"2020-04,4,40\n")
    assert_clean(at)
    assert at.selectbox(key="series_column").options == ["2: level", "3: flow"]
    assert box_values(at).tolist() == [1.5, 2.5, 4.0]
    warnings = {w.value for w in at.warning}
    assert "Dropped 1 cells of this column that are not numbers." in warnings
    assert "1 column(s) of the file hold no numbers and are not offered." in warnings
    assert len(chart_specs(at)[1]["frames"]) == 3
    at.selectbox(key="series_column").set_value(2).run()
    assert_clean(at)
    assert box_values(at).tolist() == [10.0, 20.0, 30.0, 40.0]
    at.text_area(key="seq").set_value("7, 8, 9").run()  # the box stays editable
    assert_clean(at)
    assert box_values(at).tolist() == [7.0, 8.0, 9.0]


def test_a_million_row_csv_is_cut_to_the_limit_and_the_page_says_so():
    data = b"value\n" + "".join(f"{i % 97}\n" for i in range(10**6)).encode()
    at = upload_csv(numbers_app(), data)
    assert_clean(at)
    assert len(box_values(at)) == sequence.MAX_NUMBERS
    assert any("The file has 1,000,000 rows; only the first 2,000 are read" in w.value for w in at.warning)


@pytest.mark.parametrize("data, phrase", [
    (b"name,city\nAda,London\n", "no column of this file holds numbers"),
    ("x;y\n1;caf\xe9\n".encode("latin-1"), "not UTF-8 text"),
    (b"", "the file is empty"),
    (b",,\n,,\n", "no rows with anything in them"),
    (b"a\nnan\ninf\n", "no column of this file holds numbers"),
])
def test_a_hostile_csv_is_a_plain_message_and_the_box_keeps_its_series(data, phrase):
    at = upload_csv(numbers_app(), data, name="bad [x](javascript:alert(1)).csv")
    assert not at.exception and not at.error
    (warning,) = [w.value for w in at.warning if w.value.startswith("This CSV could not be read")]
    assert phrase in warning
    assert at.text_area(key="seq").value == "1, 2, 3, 2, 1"
    assert len(chart_specs(at)) == 2  # the page still shows the series' gates


def test_nan_and_inf_cells_are_dropped_from_an_upload_and_counted():
    at = upload_csv(numbers_app(), b"v\n1\nnan\n2\ninf\n-inf\n3\n")
    assert_clean(at)
    assert box_values(at).tolist() == [1.0, 2.0, 3.0]
    assert "Dropped 3 cells of this column that are nan or infinite." in {w.value for w in at.warning}
