"""app.charts.training: the Train page's loss chart, built from arrays alone."""

from __future__ import annotations

import numpy as np
import pytest

from app.charts.training import loss_figure, moving_average, smoothing_window


def test_moving_average_is_a_trailing_mean_with_a_short_start():
    np.testing.assert_allclose(moving_average(np.array([1.0, 2, 3, 4, 10]), 2), [1, 1.5, 2.5, 3.5, 7])
    np.testing.assert_allclose(moving_average(np.array([4.0, 2, 6]), 5), [4, 3, 4])
    np.testing.assert_allclose(moving_average(np.array([3.0, 1]), 1), [3, 1])
    assert moving_average(np.array([]), 3).shape == (0,)


def test_smoothing_window_is_a_fortieth_of_the_axis_and_at_least_one():
    assert smoothing_window(2000) == 50
    assert smoothing_window(5) == 1


OKABE_ITO_BY_CELL = {"RNN": "#D55E00", "LSTM": "#0072B2", "GRU": "#CC79A7"}  # vermillion, blue, purple


def test_loss_figure_has_a_faint_and_a_bold_curve_per_cell_on_a_log_axis():
    losses = {"RNN": np.array([0.2, 0.18, 0.17, 0.16]), "LSTM": np.array([0.2, 0.05, 0.0, 0.001]),
              "GRU": np.array([0.3, 0.01])}  # the GRU has just started: fewer steps so far
    fig = loss_figure(losses, max_steps=80, references={"pass mark 0.01": 0.01},
                      archs={"RNN": "rnn", "LSTM": "lstm", "GRU": "gru"})
    assert fig.layout.yaxis.type == "log"
    assert list(fig.layout.xaxis.range) == [0, 80]
    bold = {t.name: t for t in fig.data if t.showlegend is not False}
    faint = {t.legendgroup: t for t in fig.data if t.showlegend is False}
    assert list(bold) == ["RNN", "LSTM", "GRU"] == list(faint)
    smoothed = {"RNN": [0.2, 0.19, 0.175, 0.165], "LSTM": [0.2, 0.125, 0.025, 0.0005],
                "GRU": [0.3, 0.155]}  # trailing means over 80 // 40 = 2 steps, by hand
    for name, values in losses.items():
        assert list(bold[name].x) == list(range(1, len(values) + 1))
        np.testing.assert_allclose(np.asarray(bold[name].y, float), smoothed[name])
        np.testing.assert_allclose(np.asarray(faint[name].y, float), np.where(values > 0, values, np.nan))
        assert bold[name].line.color == faint[name].line.color == OKABE_ITO_BY_CELL[name]
        assert bold[name].line.width > faint[name].line.width
    assert np.isnan(faint["LSTM"].y[2])  # an exact 0 cannot sit on a log axis: a gap
    assert bold["RNN"].line.dash == "dash" and bold["LSTM"].line.dash == "solid"
    lines = [s for s in fig.layout.shapes if s.y0 == s.y1]
    assert [s.y0 for s in lines] == [pytest.approx(0.01)]
    assert fig.layout.annotations[0].text == "pass mark 0.01"
    assert fig.layout.annotations[0].y == pytest.approx(-2.0)  # log10 on a log axis


def test_loss_figure_with_nothing_yet_is_an_empty_chart():
    fig = loss_figure({}, max_steps=10, archs={})
    assert len(fig.data) == 0
    assert list(fig.layout.xaxis.range) == [0, 10]
