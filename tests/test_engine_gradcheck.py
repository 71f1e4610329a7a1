"""Gradient checks by central finite differences: no torch needed."""

from __future__ import annotations

import numpy as np
import pytest

import cells


def loss(cell: cells.Cell, x, h0, c0, R) -> float:
    return float(np.sum(cell.forward(x, h0, c0).h * R))


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_backward_matches_finite_differences(arch: str) -> None:
    rng = np.random.default_rng(7)
    I, H, T, B = 3, 4, 6, 2
    params = {k: rng.normal(0, 0.5, v.shape) for k, v in cells.init_params(arch, I, H, seed=0).items()}
    x, h0, R = rng.normal(size=(T, B, I)), rng.normal(size=(B, H)), rng.normal(size=(T, B, H))
    c0 = rng.normal(size=(B, H)) if cells.CELLS[arch].has_cell_state else None
    cell = cells.make_cell(arch, params)
    grads = cell.backward(cell.forward(x, h0, c0), R)
    eps = 1e-6

    def numeric(perturb) -> float:
        return (perturb(eps) - perturb(-eps)) / (2 * eps)

    for name in params:
        for idx in [tuple(rng.integers(0, n) for n in params[name].shape) for _ in range(4)]:

            def perturbed(e, name=name, idx=idx):
                p = {k: v.copy() for k, v in params.items()}
                p[name][idx] += e
                return loss(cells.make_cell(arch, p), x, h0, c0, R)

            assert grads.params[name][idx] == pytest.approx(numeric(perturbed), rel=1e-6, abs=1e-8)

    for arr, grad in [(x, grads.x), (h0, grads.h0)] + ([(c0, grads.c0)] if c0 is not None else []):
        idx = tuple(rng.integers(0, n) for n in arr.shape)

        def perturbed_input(e, arr=arr, idx=idx):
            old = arr[idx]
            arr[idx] = old + e
            value = loss(cell, x, h0, c0, R)
            arr[idx] = old
            return value

        assert grad[idx] == pytest.approx(numeric(perturbed_input), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("arch", cells.ARCHS)
def test_total_dh_is_gradient_wrt_the_state(arch: str) -> None:
    """Grads.h[t] is dL/dh_t: nudging h_t (re-running the rest from it) moves L by that much."""
    rng = np.random.default_rng(3)
    I, H, T = 2, 3, 5
    cell = cells.make_cell(arch, cells.init_params(arch, I, H, seed=1))
    x, R = rng.normal(size=(T, I)), rng.normal(size=(T, H))
    trace = cell.forward(x)
    grads = cell.backward(trace, R)
    t, k, eps = 2, 1, 1e-6

    def L(e: float) -> float:
        h = trace.h[t].copy()
        h[k] += e
        c0 = trace.c[t] if cell.has_cell_state else None
        rest = cell.forward(x[t + 1 :], h, c0).h
        return float(np.sum(trace.h[:t] * R[:t]) + np.sum(h * R[t]) + np.sum(rest * R[t + 1 :]))

    assert grads.h[t, k] == pytest.approx((L(eps) - L(-eps)) / (2 * eps), rel=1e-6)
