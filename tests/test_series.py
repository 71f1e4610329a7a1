"""Real series: the CSV reader on hostile files, the normalisation kept in a model's file, and the
shipped sunspot models' forecasts scored against the naive forecasts on the held-out tail.

Expected values are computed here, independently: naive errors by indexing the series, iterated
forecasts by reading ever longer prefixes with ``Reader.read`` (no batching, no ``cell.step``).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import cells
from cells.core.readout import Readout
from cells.io.model_files import read_model
from cells.io.series_csv import format_series, read_csv, write_csv
from cells.models.encoders import NumberEncoder
from cells.models.reader import Reader
from cells.science import forecast

ROOT = Path(__file__).resolve().parents[1]
SUNSPOTS = ROOT / "data" / "sunspots.csv"
HELDOUT = 50
PERIOD = 11


def sunspots() -> np.ndarray:
    return read_csv(SUNSPOTS, max_rows=10**6).series(1)[0]


# --------------------------------------------------------------------------- the CSV reader


def test_the_shipped_csvs_have_a_header_and_every_value():
    table = read_csv(SUNSPOTS, max_rows=10**6)
    assert [c.name for c in table.columns] == ["year", "sunspots"] and table.has_header
    years, counts = (c.values for c in table.columns)
    np.testing.assert_array_equal(years, np.arange(1700, 2009))
    assert counts[:3].tolist() == [5, 11, 16] and counts[-1] == 2.9
    assert table.default_column() == 1  # the evenly spaced year column is not the series
    co2 = read_csv(ROOT / "data" / "co2.csv", max_rows=10**6)
    assert co2.numeric == (1,) and co2.columns[0].text == 526  # "1958-03": text, not offered
    for f in ("sunspots.csv", "co2.csv"):
        assert (ROOT / "data" / f).stat().st_size < 100_000


def test_a_csv_with_text_cells_drops_and_counts_them():
    table = read_csv(b"when,value,note\n2001,1.5,ok\n2002,n/a,ok\n2003,2.5,\n2004,abc,x\n")
    assert table.numeric == (0, 1)
    values, notes = table.series(1)
    assert values.tolist() == [1.5, 2.5]
    assert notes == ("Dropped 2 cells of this column that are not numbers.",)
    assert table.columns[2].finite == 0 and table.columns[2].empty == 1


def test_a_text_only_csv_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="no column of this file holds numbers"):
        read_csv(b"name,city\nAda,London\nGrace,Arlington\n")


def test_empty_columns_are_counted_and_not_offered():
    table = read_csv(b"a,b,c\n1,,3\n2,,4\n")
    assert table.numeric == (0, 2) and table.empty_columns == 1
    assert table.columns[1].empty == 2


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b",,,\n,,\n"])
def test_an_empty_file_is_refused(data):
    with pytest.raises(ValueError, match=r"empty|no rows"):
        read_csv(data)


def test_a_header_without_rows_is_refused():
    with pytest.raises(ValueError, match="no data rows"):
        read_csv(b"year,value\n")


def test_a_million_rows_are_cut_to_the_limit_and_counted():
    data = "".join(f"{i}\n" for i in range(10**6)).encode()
    table = read_csv(data, max_rows=2000)
    values, notes = table.series(0)
    np.testing.assert_array_equal(values, np.arange(2000))
    assert table.total_rows == 10**6
    assert notes == ("The file has 1,000,000 rows; only the first 2,000 are read (the limit on a "
                     "series, 2,000 values).",)


def test_nan_and_inf_are_dropped_and_counted():
    table = read_csv(b"v\n1\nnan\ninf\n-inf\n2\n1e999\n")
    values, notes = table.series(0)
    assert values.tolist() == [1.0, 2.0]
    assert notes == ("Dropped 4 cells of this column that are nan or infinite.",)


def test_one_column_without_a_header_is_a_series():
    table = read_csv(b"0.5\n-1.25\n3\n")
    assert not table.has_header and [c.name for c in table.columns] == ["column 1"]
    assert table.series(0)[0].tolist() == [0.5, -1.25, 3.0]


@pytest.mark.parametrize("data, phrase", [
    ("année;valeur\n2001;1,5\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 at position 3"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    (b"\xff\xfe\x00\xd8", "starts like UTF-16"),
])
def test_a_file_that_is_not_utf8_text_is_refused_with_a_reason(data, phrase):
    with pytest.raises(ValueError, match=phrase.replace("(", r"\(")):
        read_csv(data)


def test_utf8_with_a_bom_utf16_semicolons_and_tabs_are_read():
    want = [1.0, 2.5]
    for data in ("\ufeffx,y\n0,1\n0,2.5\n".encode(), "x;y\n0;1\n0;2.5\n".encode("utf-16"),
                 b"x\ty\n0\t1\n0\t2.5\n"):
        table = read_csv(data)
        assert [c.name for c in table.columns] == ["x", "y"]
        assert table.series(1)[0].tolist() == want


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed():
    with pytest.raises(ValueError, match="larger than"):
        read_csv(b"1\n" * 1000, max_bytes=100)


def test_write_and_read_round_trip(tmp_path):
    values = np.array([0.1, -2.0, 1e-7, 123456.789, np.nan])
    write_csv(tmp_path / "s.csv", {"t": ["a", "b", "c", "d", "e"], "v": values})
    table = read_csv(tmp_path / "s.csv")
    np.testing.assert_array_equal(table.columns[1].values, values)
    assert table.columns[1].empty == 1 and table.numeric == (1,)
    assert format_series(values[:4]) == "0.1, -2, 1e-07, 123456.789"


# --------------------------------------------------------------------------- normalisation


def test_the_number_encoder_normalises_and_decodes_back():
    enc = NumberEncoder(offset=46.0, scale=4.0)
    x, unknown = enc.encode(np.array([46.0, 50.0, 38.0]))
    assert x[:, 0].tolist() == [0.0, 1.0, -2.0] and not unknown.any()
    np.testing.assert_allclose(enc.decode(x[:, 0]), [46.0, 50.0, 38.0])
    assert NumberEncoder().encode(np.array([3.5]))[0].tolist() == [[3.5]]
    for bad in ({"offset": 0.0, "scale": 0.0}, {"offset": float("nan"), "scale": 1.0}):
        with pytest.raises(ValueError, match="normalisation"):
            NumberEncoder(**bad)


def test_a_normalised_series_model_round_trips_through_its_file_and_predicts_in_series_units():
    params = cells.init_params("gru", 1, 5, seed=3)
    readout = Readout.init(5, 1, seed=4)
    readout.bias[:] = 0.3
    reader = Reader(cells.make_cell("gru", params), NumberEncoder(10.0, 2.0), readout, {"note": "x"})
    buf = io.BytesIO()
    cells.save_model(reader, buf)
    back = read_model(buf.getvalue())
    assert back.encoder == NumberEncoder(10.0, 2.0) and back.meta == {"note": "x"}
    series = np.array([10.0, 12.0, 8.0, 11.0])
    h = cells.make_cell("gru", params).forward(((series - 10.0) / 2.0)[:, None]).h  # by hand
    want = (h @ readout.weight.T + readout.bias) * 2.0 + 10.0
    np.testing.assert_allclose(back.read(series).predictions, want, rtol=1e-12)
    np.testing.assert_allclose(reader.read(series).predictions, want, rtol=1e-12)


def test_the_shipped_sunspot_models_keep_the_training_parts_statistics():
    train = sunspots()[:-HELDOUT]
    for arch in ("lstm", "gru", "rnn"):
        enc = cells.pretrained(f"{arch}-sunspots").encoder
        assert enc.offset == pytest.approx(train.mean(), abs=1e-5)
        assert enc.scale == pytest.approx(train.std(), abs=1e-5)


# --------------------------------------------------------------------------- forecasts


def slow_forecasts(reader: Reader, values: np.ndarray, origin: int, k: int) -> list[float]:
    """Read y_0..y_origin, append the last prediction, read again: k times, from scratch each time."""
    seq = list(values[:origin + 1])
    out = []
    for _ in range(k):
        nxt = float(reader.read(np.array(seq)).predictions[-1, 0])
        out.append(nxt)
        seq.append(nxt)
    return out


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn"])
def test_iterated_forecasts_equal_reading_ever_longer_prefixes(arch):
    reader = cells.pretrained(f"{arch}-sunspots")
    values = sunspots()
    origins = [20, 258, 300]
    got = forecast.iterated_forecasts(reader, values, origins, 5)
    want = [slow_forecasts(reader, values, o, 5) for o in origins]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_the_naive_forecasts_score_what_indexing_the_series_gives():
    values = sunspots()
    reader = cells.pretrained("rnn-sunspots")
    ev = forecast.evaluate({"RNN": reader}, values, HELDOUT, (1, 5, 11), PERIOD)
    tail = values[-HELDOUT:]
    for k in (1, 5, 11):
        naive = values[len(values) - HELDOUT - k: len(values) - k]  # y_{i-k}
        seasonal = values[len(values) - HELDOUT - 11: len(values) - 11]  # y_{i-11} for k <= 11
        assert ev.errors[forecast.NAIVE][k].mae == pytest.approx(np.mean(np.abs(naive - tail)), rel=1e-12)
        assert ev.errors[forecast.NAIVE][k].rmse == pytest.approx(np.sqrt(np.mean((naive - tail) ** 2)))
        assert ev.errors[forecast.SEASONAL][k].mae == pytest.approx(np.mean(np.abs(seasonal - tail)))
    # the model's k-step forecast of each target, by reading prefixes, for a few targets
    for i in (len(values) - HELDOUT, len(values) - 1):
        want = slow_forecasts(reader, values, i - 5, 5)[-1]
        got = ev.forecasts["RNN"][5][np.flatnonzero(ev.targets == i)[0]]
        assert got == pytest.approx(want, rel=1e-10)


def test_seasonal_naive_looks_back_whole_periods():
    assert [forecast.seasonal_lag(k, 11) for k in (1, 11, 12, 22, 23)] == [11, 11, 22, 22, 33]


def test_a_series_too_short_for_the_horizons_is_refused():
    with pytest.raises(ValueError, match="needs 11 values"):
        forecast.evaluate({}, np.arange(30.0), 25, (1, 5, 11), 11)


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn"])
def test_every_sunspot_cell_beats_the_naive_forecast_one_and_five_years_ahead_on_the_heldout_tail(arch):
    values = sunspots()
    ev = forecast.evaluate({arch: cells.pretrained(f"{arch}-sunspots")}, values, HELDOUT, (1, 5, 11), PERIOD)
    tail = values[-HELDOUT:]
    for k in (1, 5):
        naive_mae = np.mean(np.abs(values[len(values) - HELDOUT - k: len(values) - k] - tail))
        assert ev.errors[arch][k].mae < naive_mae
    # the file's own figures are these (float32 weights: to the second decimal)
    meta = cells.pretrained_meta(f"{arch}-sunspots")["heldout_errors"]["model"]
    for k in (1, 5, 11):
        assert meta[str(k)] == pytest.approx([ev.errors[arch][k].mae, ev.errors[arch][k].rmse], abs=0.02)


def test_the_heldout_tail_was_never_trained_on():
    values = sunspots()
    for arch in ("lstm", "gru", "rnn"):
        meta = cells.pretrained_meta(f"{arch}-sunspots")
        assert meta["heldout"] == HELDOUT and meta["period"] == PERIOD
        assert f"the first {len(values) - HELDOUT} values" in meta["trained_on"] and "1700-1958" in \
            meta["trained_on"]
