"""Forecasting a series k steps ahead with a next-value model, against the naive forecasts.

From the values up to and including step t (the *origin*), a forecast of step t + k:

    model (iterated)     read y_0..y_t, predict y_{t+1}; feed the prediction back as the next
                         input and predict again, k times: y^_{t+k|t}
    naive                y^_{t+k|t} = y_t                               (the last value)
    seasonal naive       y^_{t+k|t} = y_{t+k-m(floor((k-1)/m)+1)}       (the last value one period
                         of m steps before, Hyndman & Athanasopoulos, "Forecasting: principles and
                         practice", 5.2)

:func:`evaluate` scores every forecaster on the same targets, the last ``tail`` values of a series
(for the shipped models, the held-out years they never saw), so the errors of every horizon are
comparable: the origin of the forecast of target i at horizon k is i - k.

The model's forecasts from all origins run as one batch through ``cell.step`` (a column per origin,
each reading the series up to its origin and its own predictions after it), so a 300-step series
with 60 origins costs 300 batched steps. Pure NumPy, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from cells.models.encoders import NumberEncoder
from cells.models.reader import Reader

NAIVE = "naive (last value)"
SEASONAL = "seasonal naive"


def iterated_forecasts(reader: Reader, values: np.ndarray, origins: Iterable[int], steps: int
                       ) -> np.ndarray:
    """(len(origins), steps): from each origin t (an index of ``values``), the model's forecasts
    of t + 1 .. t + steps, each fed back as the next input (the readout's first output, in the
    series' units). ``reader``: a numbers reader with a next-value readout."""
    if reader.mode != "numbers" or reader.readout is None:
        raise ValueError("forecasting needs a numbers model with a next-value readout")
    encoder = reader.encoder
    assert isinstance(encoder, NumberEncoder)
    values = np.asarray(values, dtype=np.float64)  # (T,)
    origins = np.asarray(list(origins), dtype=np.int64)  # (B,)
    if steps < 1 or origins.size == 0:
        return np.zeros((origins.size, max(steps, 0)))
    if origins.min() < 0 or origins.max() >= len(values):
        raise ValueError(f"origins must index the series (0 .. {len(values) - 1})")
    cell = reader.cell
    x_known = encoder.encode(values, cell.dtype)[0][:, 0]  # (T,) normalised inputs
    B = origins.size
    h, c = cell.zero_state(B)  # (B, H), or (L, B, H) for a stack
    fed = np.zeros(B, dtype=cell.dtype)  # each column's last prediction, normalised
    out = np.full((B, steps), np.nan)
    for t in range(int(origins.max()) + steps):
        known = t <= origins  # (B,) still reading the series
        x_t = np.where(known, x_known[min(t, len(values) - 1)], fed)[:, None]  # (B, 1)
        h, c, _ = cell.step(x_t, h, c)
        top = h[-1] if h.ndim == 3 else h  # a stack's top layer
        fed = reader.readout(top)[:, 0].astype(cell.dtype)  # (B,) the prediction of t + 1
        j = t - origins  # the forecast of origin + 1 + j
        hit = (j >= 0) & (j < steps)
        out[hit, j[hit]] = fed[hit]
    return encoder.decode(out)


def naive_forecasts(values: np.ndarray, targets: np.ndarray, k: int) -> np.ndarray:
    """y^_{i|i-k} = y_{i-k} for every target index i."""
    return np.asarray(values, dtype=np.float64)[np.asarray(targets) - k]


def seasonal_lag(k: int, period: int) -> int:
    """How far back the seasonal naive forecast of horizon k looks: m (floor((k - 1) / m) + 1)."""
    return period * ((k - 1) // period + 1)


def seasonal_naive_forecasts(values: np.ndarray, targets: np.ndarray, k: int, period: int) -> np.ndarray:
    """y^_{i|i-k} = y_{i - m(floor((k-1)/m)+1)}: the value one period (or more) before the target,
    the latest one known at the origin i - k."""
    return np.asarray(values, dtype=np.float64)[np.asarray(targets) - seasonal_lag(k, period)]


@dataclass(frozen=True)
class Errors:
    """Mean absolute and root-mean-square error of one forecaster at one horizon."""

    mae: float
    rmse: float

    @classmethod
    def of(cls, forecast: np.ndarray, actual: np.ndarray) -> Errors:
        e = np.asarray(forecast, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
        return cls(float(np.mean(np.abs(e))), float(np.sqrt(np.mean(e * e))))


def min_history(horizons: Iterable[int], period: int) -> int:
    """Values a series needs before its first target so every forecaster has an origin (and the
    seasonal naive its value a period back) at every horizon."""
    return max(max(k, seasonal_lag(k, period)) for k in horizons)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Every forecaster's forecasts of the last ``tail`` values of a series and their errors.

    ``targets`` (N,): the indices forecast; ``forecasts[name][k]`` (N,): the forecasts of them at
    horizon k; ``errors[name][k]``: their :class:`Errors`. Names: the models' (as given), then
    :data:`NAIVE` and :data:`SEASONAL`.
    """

    values: np.ndarray  # (T,)
    targets: np.ndarray  # (N,)
    period: int
    horizons: tuple[int, ...]
    forecasts: dict[str, dict[int, np.ndarray]]
    errors: dict[str, dict[int, Errors]]

    @property
    def actual(self) -> np.ndarray:
        return self.values[self.targets]


def evaluate(readers: Mapping[str, Reader], values: np.ndarray, tail: int, horizons: Iterable[int],
             period: int) -> Evaluation:
    """Forecast the last ``tail`` values of ``values`` at each horizon k with each model (iterated)
    and with both naive forecasts, and score them (see the module docstring). The series must
    have :func:`min_history` values before its tail."""
    values = np.asarray(values, dtype=np.float64)
    horizons = tuple(sorted(set(int(k) for k in horizons)))
    if not horizons or horizons[0] < 1:
        raise ValueError(f"horizons must be >= 1, got {horizons}")
    if period < 1:
        raise ValueError(f"the period must be >= 1, got {period}")
    first = len(values) - tail
    need = min_history(horizons, period)
    if tail < 1 or first < need:
        raise ValueError(f"forecasting the last {tail} of {len(values)} values at horizons up to "
                         f"{horizons[-1]} (period {period}) needs {need} values before them")
    targets = np.arange(first, len(values))  # (N,)
    forecasts: dict[str, dict[int, np.ndarray]] = {}
    kmax = horizons[-1]
    for name, reader in readers.items():
        origins = np.arange(first - kmax, len(values) - 1)  # every origin any horizon needs
        paths = iterated_forecasts(reader, values, origins, kmax)  # (len(origins), kmax)
        # target i at horizon k: origin i - k, its forecast number k (column k - 1)
        forecasts[name] = {k: paths[targets - k - origins[0], k - 1] for k in horizons}
    forecasts[NAIVE] = {k: naive_forecasts(values, targets, k) for k in horizons}
    forecasts[SEASONAL] = {k: seasonal_naive_forecasts(values, targets, k, period) for k in horizons}
    actual = values[targets]
    errors = {name: {k: Errors.of(f, actual) for k, f in by_k.items()} for name, by_k in forecasts.items()}
    return Evaluation(values, targets, period, horizons, forecasts, errors)
