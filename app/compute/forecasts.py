"""The forecast section of numbers mode: the shipped models trained on a real series forecast its
last values k steps ahead (``cells.science.forecast``: iterated one-step predictions) against the naive
and the seasonal-naive forecasts, and their gradient curves over the series.

:func:`forecast_view` is the one function the Gates page calls; the charts are
``app.charts.forecast``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from app.compute import models
from app.compute.example_series import EXAMPLES, example_values
from app.compute.gradient_profiles import JACOBIAN_MAX_TOKENS
from cells.models.reader import Reader
from cells.science import forecast
from cells.science import gradients as grad


def forecastable(loaded: models.Loaded) -> bool:
    """True for a numbers model trained on a real series with a held-out tail (its meta says how
    long, and the series' period)."""
    meta = loaded.reader.meta
    return loaded.trained and loaded.reader.mode == "numbers" and "heldout" in meta and "period" in meta


def horizons(period: int) -> tuple[int, ...]:
    """The horizons the page scores: one step, five, and one period."""
    return tuple(sorted({1, 5, int(period)}))


@dataclass(frozen=True, eq=False)
class ForecastView:
    """What the forecast section shows: the evaluation (None when the series is too short), what
    its tail is (``note``), and each cell's gradient profile over the last values of the series
    (``gradient_start``: the index of the first of them)."""

    evaluation: forecast.Evaluation | None
    note: str
    labels: tuple[str, ...]
    profiles: dict[str, grad.GradientProfile]
    gradient_start: int
    archs: dict[str, str]  # each model's name -> its cell (a registered name)


@st.cache_data(max_entries=16, show_spinner=False)
def _forecast(corpus: str, values: np.ndarray, heldout: int, period: int,
              _readers: dict[str, Reader]) -> ForecastView:
    ks = horizons(period)
    need = forecast.min_history(ks, period)
    tail = min(heldout, len(values) - need)
    start = max(0, len(values) - JACOBIAN_MAX_TOKENS)
    window = values[start:]
    profiles = {name: grad.gradient_profile(r.cell, r.encoder.encode(window, r.cell.dtype)[0])
                for name, r in _readers.items()} if len(window) >= 2 else {}
    labels = tuple(f"{v:.3g}" for v in values)
    archs = {name: r.cell.arch for name, r in _readers.items()}
    if tail < 1:
        note = (f"Forecasting needs more than {need} values (one period of {period} and the "
                f"longest horizon, {ks[-1]}): type a longer series.")
        return ForecastView(None, note, labels, profiles, start, archs)
    shipped = corpus in EXAMPLES and np.array_equal(values, example_values(corpus))
    if shipped and tail == heldout:
        note = (f"Scored on the last {tail} values of the series: the held-out tail the models never "
                "trained on.")
    else:
        note = (f"Scored on the last {tail} values of your series (the models were trained on "
                f"{models.NUMBERS_CORPORA.get(corpus, corpus)}; on the shipped series these would be "
                "its held-out tail).")
    ev = forecast.evaluate(_readers, values, tail, ks, period)
    return ForecastView(ev, note, labels, profiles, start, archs)


def forecast_view(key: models.ModelKey, values: np.ndarray) -> ForecastView:
    """The forecasts of the last values of ``values`` by the shipped RNN, LSTM and GRU trained on
    ``key``'s corpus (each a model :func:`forecastable`), against the naive and seasonal-naive
    forecasts, and their gradient curves; cached per corpus and series."""
    keys = models.resolve_each(models.BASELINES, "trained", "numbers", corpus=key.corpus)
    loaded = {name: models.load(k) for name, k in keys.items()}
    readers = {name: m.reader for name, m in loaded.items() if forecastable(m)}
    meta = models.load(key).reader.meta
    return _forecast(key.corpus, np.asarray(values, dtype=np.float64), int(meta["heldout"]),
                     int(meta["period"]), readers)
