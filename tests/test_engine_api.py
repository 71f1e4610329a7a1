"""make_cell's checks, init_params' scheme, shapes, and gate saturation."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import cells
from cells.core import diagnostics


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_bad_parameter_dicts_name_the_key(arch: str) -> None:
    good = cells.init_params(arch, 3, 4, seed=0)
    cases = {
        "missing": ({k: v for k, v in good.items() if k != "bias_hh_l0"}, "bias_hh_l0"),
        "extra": ({**good, "weight_ih_l1": good["weight_ih_l0"]}, "weight_ih_l1"),
        "shape": ({**good, "weight_hh_l0": good["weight_hh_l0"][:, :-1]}, "weight_hh_l0"),
        "bias shape": ({**good, "bias_ih_l0": good["bias_ih_l0"][:-1]}, "bias_ih_l0"),
        "nan": ({**good, "bias_ih_l0": np.full_like(good["bias_ih_l0"], np.nan)}, "NaN"),
        "strings": ({**good, "weight_ih_l0": np.array([["a"]])}, "weight_ih_l0"),
        "objects": ({**good, "weight_ih_l0": np.array([None], dtype=object)}, "weight_ih_l0"),
    }
    for params, mention in cases.values():
        with pytest.raises(ValueError, match=mention):
            cells.make_cell(arch, params)


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_each_cell_names_the_one_equation_that_updates_its_memory(arch: str) -> None:
    """The row of its equations a page quotes alone (Gradients, "why"): the memory state's update,
    reading the state before it, as one formula with nothing of the ``aligned`` block around it."""
    cls = cells.cell_class(arch)
    state = cls.memory_state
    assert cls.memory_equation.startswith(f"{state}_t = ")
    assert f"{state}_{{t-1}}" in cls.memory_equation
    assert not any(mark in cls.memory_equation for mark in ("&", "\\\\", "\\begin", "\\end", "aligned"))


def test_the_memory_updates_are_the_papers() -> None:
    assert cells.LSTM.memory_equation == r"c_t = f_t \odot c_{t-1} + i_t \odot g_t"
    assert cells.GRU.memory_equation == r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}"  # the last row


def test_a_cell_whose_equations_do_not_parse_is_refused_when_defined() -> None:
    row = r"h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}"
    for equations, message in ((cells.GRU.equations.replace(row, row.replace("&=", "=")), "lhs &= rhs"),
                               (cells.GRU.equations.replace(row, row.replace("h_t", "y_t", 1)), "h_t"),
                               (cells.GRU.equations.removesuffix(r"\end{aligned}"), "block")):
        with pytest.raises(TypeError, match=message):
            type("Broken", (cells.GRU,), {"arch": "broken", "equations": equations})


def test_unknown_arch_and_mixed_dtypes() -> None:
    with pytest.raises(ValueError, match="unknown arch"):
        cells.make_cell("transformer", {})
    p = cells.init_params("gru", 2, 3, seed=0)
    p["bias_hh_l0"] = p["bias_hh_l0"].astype(np.float32)
    with pytest.raises(ValueError, match="mix dtypes"):
        cells.make_cell("gru", p)


def test_parameters_are_copied_and_read_only() -> None:
    p = cells.init_params("rnn", 2, 3, seed=0)
    cell = cells.make_cell("rnn", p)
    p["weight_hh_l0"][:] = 0
    assert np.any(cell.params["weight_hh_l0"] != 0)
    with pytest.raises(ValueError):
        cell.params["weight_hh_l0"][0, 0] = 1.0


def test_init_params_scheme() -> None:
    H = 50
    p = cells.init_params("lstm", 7, H, seed=3, forget_bias=2.0)
    assert p["weight_ih_l0"].shape == (4 * H, 7) and p["weight_hh_l0"].shape == (4 * H, H)
    assert np.abs(p["weight_hh_l0"]).max() <= 1 / np.sqrt(H)
    np.testing.assert_array_equal(p["bias_ih_l0"][H : 2 * H] + p["bias_hh_l0"][H : 2 * H], 2.0)
    again = cells.init_params("lstm", 7, H, seed=3, forget_bias=2.0)
    assert all(np.array_equal(p[k], again[k]) for k in p)
    r = cells.init_params("gru", 2, H, seed=0, recurrent_radius=0.7)["weight_hh_l0"]
    for g in range(3):
        assert np.max(np.abs(np.linalg.eigvals(r[g * H : (g + 1) * H]))) == pytest.approx(0.7)


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_shapes_and_counts(arch: str) -> None:
    cell = cells.make_cell(arch, cells.init_params(arch, 3, 4, seed=0))
    G = {"lstm": 4, "gru": 3, "rnn": 1, "lstm-nig": 3, "lstm-nfg": 3, "lstm-nog": 3, "lstm-niaf": 4,
         "lstm-noaf": 4, "lstm-cifg": 3, "mgu": 2,
         "gru-reset-before": 3}[arch]
    assert cell.num_params == G * 4 * (3 + 4 + 2)
    one = cell.forward(np.zeros((6, 3)))
    many = cell.forward(np.zeros((6, 2, 3)))
    assert one.h.shape == (6, 4) and many.h.shape == (6, 2, 4)
    assert all(g.shape == (6, 4) for g in one.gates.values())
    assert (one.c is None) == (arch in ("gru", "rnn", "mgu", "gru-reset-before"))
    with pytest.raises(ValueError, match="features"):
        cell.forward(np.zeros((6, 5)))
    with pytest.raises(ValueError, match="shape"):
        cell.backward(one, np.zeros((5, 4)))


def test_gate_saturation_counts_fractions_of_steps() -> None:
    H = 3
    params = cells.init_params("lstm", 1, H, seed=0)
    params["weight_ih_l0"][:] = 0
    params["weight_hh_l0"][:] = 0
    b = np.zeros(4 * H)
    b[0:H] = [-10, 0, 10]  # input gate: unit 0 shut, unit 1 half, unit 2 open
    params["bias_ih_l0"], params["bias_hh_l0"] = b, np.zeros(4 * H)
    cell = cells.make_cell("lstm", params)
    sat = cells.gate_saturation(cell, cell.forward(np.zeros((5, 1))))
    assert list(sat) == ["f", "i", "o"]  # the LSTM's sigmoid gates, in its display order
    left, right = sat["i"]
    np.testing.assert_array_equal(left, [1, 0, 0])
    np.testing.assert_array_equal(right, [0, 0, 1])


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_seconds_per_token_times_each_path_and_takes_the_median(arch: str, monkeypatch) -> None:
    """What is measured, on a fake clock that only moves when the cell works: "step" is the time of
    ``tokens`` step calls (fed one-hot inputs, each from the state the last one returned) divided
    by ``tokens``, "forward" one forward call over all of them divided by ``tokens``, each the
    median over the repeats. (Speed itself is bench/bench_engine.py's business, not a test's.)"""
    cell = cells.make_cell(arch, cells.init_params(arch, 3, 8, seed=0))
    tokens, step_cost, forward_cost = 7, [4.0, 1.0, 2.0], [60.0, 10.0, 30.0]  # per repeat
    clock = {"now": 0.0, "run": 0}
    monkeypatch.setattr(diagnostics, "time", SimpleNamespace(perf_counter=lambda: clock["now"]))
    seen = {"steps": [], "forward": []}
    real_step, real_forward = cell.step, cell.forward

    def step(x_t, h, c):
        if len(seen["steps"]) % tokens:  # within a run: the state the last step returned
            assert h is last["h"] and c is last["c"]
        else:  # a run starts from zero state
            assert not h.any() and (c is None or not c.any())
        seen["steps"].append(x_t.copy())
        clock["now"] += step_cost[clock["run"]]
        last["h"], last["c"], gates = real_step(x_t, h, c)
        return last["h"], last["c"], gates

    def forward(x, *args):
        seen["forward"].append(np.array(x))
        clock["now"] += forward_cost[clock["run"]]
        clock["run"] += 1
        return real_forward(x, *args)

    last = {}
    monkeypatch.setattr(cell, "step", step)
    monkeypatch.setattr(cell, "forward", forward)
    timing = cells.seconds_per_token(cell, tokens=tokens, repeats=3)

    assert timing == {"step": 2.0, "forward": 30.0 / tokens}  # medians, not means, of the runs
    one_hot = np.eye(3)[np.arange(tokens) % 3]
    np.testing.assert_array_equal(np.array(seen["steps"]), np.tile(one_hot, (3, 1)))
    assert len(seen["forward"]) == 3
    for x in seen["forward"]:
        np.testing.assert_array_equal(x, one_hot)
