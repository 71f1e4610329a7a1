"""cells.gradients against hand-built cases with known answers and brute-force computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch  # the dev-only reference (requirements-dev.txt)
from hypothesis import given
from hypothesis import strategies as st

import cells
from cells.science.gradients import (
    GradientProfile,
    best_carrying_unit,
    decay_rate,
    divergence_after_edit,
    gradient_profile,
    memory_span,
    running_gate_product,
    spectral_radius,
    step_factors,
    step_jacobian_norms,
    steps_until_below,
)

H, I = 5, 3


def linear_regime_rnn(W_hh: np.ndarray) -> cells.core.cell.Cell:
    """A tanh RNN with recurrent weights W_hh and no biases: from h = 0 with zero input it stays at
    0, where tanh' = 1, so every step's Jacobian is exactly W_hh and d h_{T-1} / d h_t = W_hh^(T-1-t)."""
    hidden = W_hh.shape[0]
    params = {k: np.zeros_like(v) for k, v in cells.init_params("rnn", I, hidden, seed=0).items()}
    params["weight_ih_l0"] = np.ones((hidden, I))
    params["weight_hh_l0"] = W_hh
    return cells.make_cell("rnn", params)


def scaled_identity_rnn(a: float, hidden: int = H) -> cells.core.cell.Cell:
    """W_hh = a I: ||d h_{T-1} / d h_t||_F = a^(T-1-t) sqrt(H)."""
    return linear_regime_rnn(a * np.eye(hidden))


def gradient_profile_of(log_norms: np.ndarray) -> GradientProfile:
    """A profile holding just these norms (what span_reaches_start reads)."""
    return GradientProfile("rnn", log_norms, 0.0, memory_span(log_norms), None, None, None, None, None)


def random_cell(arch: str, seed: int = 1, **kw) -> cells.core.cell.Cell:
    return cells.make_cell(arch, cells.init_params(arch, I, H, seed=seed, **kw))


def random_inputs(T: int, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((T, I))


# -- decay rate and memory span on hand-made curves -------------------------------------------------


def test_decay_rate_of_a_straight_line_is_its_slope_in_tokens_back():
    back = np.arange(9, -1, -1)  # k = T-1-t for T = 10
    assert decay_rate(4.0 - 0.25 * back) == pytest.approx(-0.25, abs=1e-12)
    assert decay_rate(1.0 + 0.5 * back) == pytest.approx(0.5, abs=1e-12)  # exploding


def test_decay_rate_needs_two_tokens():
    assert math.isnan(decay_rate(np.array([1.0])))


@pytest.mark.parametrize(
    ("log_norms", "span", "reaches_start"),
    [
        ([-9.0, -5.0, -2.0, -1.0, 0.0, 1.0], 3, False),  # 1 -> 0 -> -1 -> -2 all >= -2; -5 is not
        ([-1.9, -1.0, 0.0, 1.0], 3, True),  # never 3 decades below: the sequence is the limit
        ([5.0, -2.5, 1.0], 0, False),  # one step back is already too far, recovery does not count
        ([-2.0, 1.0], 1, True),  # exactly 3 decades below still counts
        ([0.7], 0, True),
    ],
)
def test_memory_span_on_hand_made_curves(log_norms, span, reaches_start):
    assert memory_span(np.array(log_norms)) == span
    profile = gradient_profile_of(np.array(log_norms))
    assert profile.span_reaches_start is reaches_start


curves = st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=40).map(np.array)


@given(curves, st.floats(0.1, 10))
def test_memory_span_is_the_longest_run_back_within_the_threshold(log_norms, decades):
    """Brute force: try every k and keep the largest whose whole run back stays above."""
    T = len(log_norms)
    ok = [k for k in range(T) if all(log_norms[T - 1 - j] >= log_norms[-1] - decades for j in range(k + 1))]
    assert memory_span(log_norms, decades) == max(ok)


@given(st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=40).map(np.array), st.data())
def test_steps_until_below_is_the_first_step_after_which_all_are_below(distance, data):
    """Brute force: the smallest s with every later distance below the tolerance."""
    position = data.draw(st.integers(0, len(distance) - 1))
    tol = data.draw(st.floats(0.01, 10))
    rest = distance[position:]
    want = min(s for s in range(len(rest) + 1) if all(d < tol for d in rest[s:]))
    assert steps_until_below(distance, position, tol) == want


def test_memory_span_decades_is_the_threshold():
    log_norms = np.array([-6.0, -4.0, -2.0, 0.0])  # two decades per token
    assert memory_span(log_norms, decades=1.0) == 0
    assert memory_span(log_norms, decades=2.0) == 1
    assert memory_span(log_norms, decades=5.0) == 2


# -- the scaled-identity RNN: every number is known in closed form ---------------------------------


@pytest.mark.parametrize("a", [0.5, 0.8, 0.93])
def test_scaled_identity_rnn_decays_at_exactly_log10_a(a):
    T = 120
    profile = gradient_profile(scaled_identity_rnn(a), np.zeros((T, I)))
    back = np.arange(T - 1, -1, -1)
    np.testing.assert_allclose(profile.log_norms, back * math.log10(a) + 0.5 * math.log10(H), atol=1e-9)
    assert profile.decay_rate == pytest.approx(math.log10(a), abs=1e-9)
    # within 3 decades while k * log10(a) >= -3
    assert profile.memory_span == math.floor(3 / -math.log10(a))
    assert not profile.span_reaches_start
    np.testing.assert_allclose(profile.step_norms, a, atol=1e-12)
    assert profile.typical_step_norm == pytest.approx(a, abs=1e-12)
    assert profile.mean_step_factor == pytest.approx(a, abs=1e-9)
    assert profile.fraction_shrinking == 1.0
    assert profile.weight_radius == pytest.approx(a)
    assert profile.mean_tanh_slope == 1.0  # h stays at 0, where tanh is linear
    assert profile.gate_log_product is None and profile.best_unit is None


def test_an_orthogonal_linear_regime_never_forgets_within_the_sequence():
    T = 40
    profile = gradient_profile(scaled_identity_rnn(1.0), np.zeros((T, I)))
    assert profile.decay_rate == pytest.approx(0.0, abs=1e-12)
    assert profile.memory_span == T - 1
    assert profile.span_reaches_start


def test_a_long_contracting_rnn_stays_finite_far_below_double_precision():
    T = 2000
    profile = gradient_profile(scaled_identity_rnn(0.5), np.zeros((T, I)))
    assert np.all(np.isfinite(profile.log_norms))
    assert profile.log_norms[0] == pytest.approx((T - 1) * math.log10(0.5) + 0.5 * math.log10(H), abs=1e-6)
    assert profile.log_norms[0] < -500


# -- the RNN's per-step Jacobian, against finite differences ---------------------------------------


def finite_difference_step_jacobian(cell, x_t: np.ndarray, h_prev: np.ndarray,
                                    c_prev: np.ndarray | None = None, eps: float = 1e-6):
    """(H, H) d h_t / d h_{t-1} by central differences of cell.step (c_{t-1} held fixed)."""
    cols = []
    for j in range(h_prev.shape[0]):
        e = np.zeros_like(h_prev)
        e[j] = eps
        h_plus, _, _ = cell.step(x_t, h_prev + e, c_prev)
        h_minus, _, _ = cell.step(x_t, h_prev - e, c_prev)
        cols.append((h_plus - h_minus) / (2 * eps))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_step_jacobian_norms_match_finite_differences(arch):
    """||d h_t / d h_{t-1}||_2 with the cell state c_{t-1} held fixed (cell.step keeps it)."""
    cell = random_cell(arch, recurrent_radius=1.3)
    x = random_inputs(12)
    trace = cell.forward(x)
    got = step_jacobian_norms(cell, trace)
    h_prev = np.vstack([np.zeros((1, H)), trace.h[:-1]])  # the state entering each step
    c_prev = None if trace.c is None else np.vstack([np.zeros((1, H)), trace.c[:-1]])
    want = [np.linalg.norm(finite_difference_step_jacobian(
        cell, x[t], h_prev[t], None if c_prev is None else c_prev[t]), 2) for t in range(12)]
    np.testing.assert_allclose(got, want, rtol=1e-7)


def test_rnn_step_jacobian_norms_match_torch_autograd():
    """An independent implementation: torch.nn.RNNCell with our weights, its Jacobian by autograd."""
    cell = random_cell("rnn", seed=5, recurrent_radius=1.1)
    x = random_inputs(8, seed=6)
    reference = torch.nn.RNNCell(I, H).double()
    with torch.no_grad():
        for name, value in cell.params.items():
            getattr(reference, name.removesuffix("_l0")).copy_(torch.tensor(value))
    h = torch.zeros(H, dtype=torch.float64)
    want = []
    for x_t in torch.from_numpy(x):
        J = torch.autograd.functional.jacobian(lambda h_prev, x_t=x_t: reference(x_t, h_prev), h)
        want.append(torch.linalg.matrix_norm(J, ord=2).item())
        h = reference(x_t, h).detach()
    np.testing.assert_allclose(step_jacobian_norms(cell, cell.forward(x)), want, rtol=1e-10)


def test_step_norms_bound_the_gradient_over_many_steps():
    """||d h_{T-1}/d h_t||_F <= sqrt(H) ||.||_2 <= sqrt(H) prod_{k>t} ||J_k||_2 (submultiplicativity)."""
    cell = random_cell("rnn", recurrent_radius=0.9)
    profile = gradient_profile(cell, random_inputs(30))
    bound = np.zeros(30)
    bound[:-1] = np.cumsum(np.log10(profile.step_norms)[:0:-1])[::-1]
    assert np.all(profile.log_norms <= bound + 0.5 * math.log10(H) + 1e-9)


def test_measured_step_factors_never_exceed_the_step_norms():
    """||A J_t||_F <= ||A||_F ||J_t||_2: what a step did is bounded by its spectral norm."""
    profile = gradient_profile(random_cell("rnn", recurrent_radius=1.2), random_inputs(40))
    factors = step_factors(profile.log_norms)
    assert np.isnan(factors[0])
    assert np.all(factors[1:] <= profile.step_norms[1:] * (1 + 1e-9))
    geometric_mean = np.exp(np.mean(np.log(factors[1:])))
    assert profile.mean_step_factor == pytest.approx(geometric_mean, rel=1e-9)


def test_saturated_units_pass_almost_no_gradient_back():
    """A big input bias drives every unit to tanh's flat tails: 1 - h^2 ~ 0 and the gradient dies
    within a step or two, even with W_hh = 3 I (spectral radius 3)."""
    params = {k: np.zeros_like(v) for k, v in cells.init_params("rnn", I, H, seed=0).items()}
    params["weight_hh_l0"] = 3.0 * np.eye(H)
    params["bias_ih_l0"] = np.full(H, 10.0)
    profile = gradient_profile(cells.make_cell("rnn", params), np.zeros((20, I)))
    assert profile.weight_radius == pytest.approx(3.0)
    h0 = np.tanh(10.0)  # the first step, from h = 0
    h1 = np.tanh(3 * h0 + 10.0)  # every later step: the fixed point, to double precision
    assert profile.mean_tanh_slope == pytest.approx((1 - h0**2 + 19 * (1 - h1**2)) / 20, rel=1e-3)
    assert profile.mean_tanh_slope < 1e-9
    assert profile.memory_span == 0


def test_spectral_radius_of_a_scaled_rotation():
    assert spectral_radius(np.array([[0.0, -2.0], [2.0, 0.0]])) == pytest.approx(2.0)


def test_a_non_normal_recurrence_decays_although_every_step_norm_exceeds_one():
    """W_hh = [[0.5, 3], [0, 0.5]]: ||W||_2 ~ 3.1 > 1 at every step, yet W^k -> 0 like k 0.5^k.
    The step norm only bounds one step; many steps shrink like the spectral radius."""
    W = np.array([[0.5, 3.0], [0.0, 0.5]])
    T = 300
    profile = gradient_profile(linear_regime_rnn(W), np.zeros((T, I)))
    np.testing.assert_allclose(profile.step_norms, np.linalg.norm(W, 2), rtol=1e-12)
    assert np.all(profile.step_norms > 3)
    for k in (1, 5, 40, 250):
        want = np.log10(np.linalg.norm(np.linalg.matrix_power(W, k)))
        assert profile.log_norms[T - 1 - k] == pytest.approx(want, abs=1e-9)
    assert profile.weight_radius == pytest.approx(0.5)
    assert profile.decay_rate == pytest.approx(math.log10(0.5), abs=0.02)
    assert profile.memory_span < 40


def test_step_jacobian_norms_take_one_sequence():
    cell = random_cell("rnn")
    with pytest.raises(ValueError, match="single sequence"):
        step_jacobian_norms(cell, cell.forward(random_inputs(3)[:, None, :]))


# -- running gate products -------------------------------------------------------------------------


def test_running_gate_product_matches_a_brute_force_product():
    gate = np.random.default_rng(3).uniform(0.05, 1.0, size=(9, 4))
    got = running_gate_product(gate)
    for t in range(9):
        np.testing.assert_allclose(got[t], np.log10(np.prod(gate[t + 1 :], axis=0)), atol=1e-12)


def test_running_gate_product_stays_finite_for_closed_gates():
    gate = np.full((500, 2), 1e-3)
    gate[250, 1] = 0.0
    got = running_gate_product(gate)
    assert np.all(np.isfinite(got))
    assert got[0, 0] == pytest.approx(-3 * 499)
    assert got[0, 1] < -1000


def test_best_carrying_unit_is_the_one_with_the_largest_whole_sequence_product():
    gate = np.full((6, 3), 0.5)
    gate[:, 2] = 0.99
    gate[1:, 1] = 1.0
    gate[0, 1] = 1e-9  # t = 0 is outside the product prod_{k>0}: unit 1 (product 1) beats unit 2
    assert best_carrying_unit(running_gate_product(gate)) == 1


def jacobian_by_finite_differences(run_from, s_t: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """(H, H) d s_{T-1} / d s_t for ``run_from(s_t) -> s_{T-1}``, by central differences."""
    cols = []
    for j in range(s_t.shape[0]):
        e = np.zeros_like(s_t)
        e[j] = eps
        cols.append((run_from(s_t + e) - run_from(s_t - e)) / (2 * eps))
    return np.stack(cols, axis=1)


def without_recurrence(arch: str, **kw) -> cells.core.cell.Cell:
    """A cell whose gates do not see h_{t-1} (W_hh = 0), so the only path through time is the
    highway: c_k = f_k c_{k-1} + ... for the LSTM, h_k = (1 - z_k) n_k + z_k h_{k-1} for the GRU."""
    params = cells.init_params(arch, I, H, seed=4, **kw)
    params["weight_hh_l0"] = np.zeros_like(params["weight_hh_l0"])
    return cells.make_cell(arch, params)


def test_lstm_forget_product_is_the_cell_state_jacobian():
    cell = without_recurrence("lstm", forget_bias=1.0)
    x = random_inputs(15)
    trace = cell.forward(x)
    t = 3
    products = running_gate_product(trace.gates["f"])

    def run_from(c_t):
        return cell.forward(x[t + 1 :], h0=trace.h[t], c0=c_t).c[-1]

    J = jacobian_by_finite_differences(run_from, trace.c[t])
    np.testing.assert_allclose(J, np.diag(10.0 ** products[t]), atol=1e-8)


def test_gru_update_product_is_the_hidden_state_jacobian():
    cell = without_recurrence("gru")
    x = random_inputs(15)
    trace = cell.forward(x)
    t = 5
    products = running_gate_product(trace.gates["z"])
    J = jacobian_by_finite_differences(lambda h_t: cell.forward(x[t + 1 :], h0=h_t).h[-1], trace.h[t])
    np.testing.assert_allclose(J, np.diag(10.0 ** products[t]), atol=1e-8)


def test_forget_bias_lengthens_the_lstm_highway():
    x = random_inputs(40)
    profiles = [gradient_profile(random_cell("lstm", forget_bias=b), x) for b in (0.0, 1.0, 2.0)]
    means = [p.gate_log_product[0].mean() for p in profiles]
    assert means[0] < means[1] < means[2]


# -- the what-if: one token changed ----------------------------------------------------------------


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_divergence_after_edit_matches_two_separate_runs(arch):
    cell = random_cell(arch)
    x = random_inputs(20)
    x_new = np.array([3.0, -1.0, 0.5])
    position = 4
    edited = x.copy()
    edited[position] = x_new
    want = np.linalg.norm(cell.forward(x).h - cell.forward(edited).h, axis=1)
    got = divergence_after_edit(cell, x, position, x_new)
    np.testing.assert_allclose(got, want, atol=1e-13)
    assert np.all(got[:position] == 0)
    assert got[position] > 0


def test_an_edit_that_changes_nothing_leaves_no_trace():
    cell = random_cell("gru")
    x = random_inputs(8)
    assert np.all(divergence_after_edit(cell, x, 2, x[2]) == 0)


def test_divergence_after_edit_refuses_a_position_outside_the_sequence():
    with pytest.raises(ValueError, match="outside"):
        divergence_after_edit(random_cell("rnn"), random_inputs(5), 5, np.zeros(I))


@pytest.mark.parametrize(
    ("distance", "position", "tol", "steps"),
    [
        ([0, 0, 1.0, 0.1, 0.01, 1e-4, 1e-5], 2, 1e-3, 3),  # below from index 5 on
        ([0, 1.0, 1e-4, 0.5, 1e-4, 1e-5], 1, 1e-3, 3),  # dips, comes back above, then below for good
        ([1.0, 0.5, 0.2], 0, 1e-3, 3),  # still above at the end: the whole rest of the sequence
        ([0, 1e-9, 1e-9], 1, 1e-3, 0),  # never above
    ],
)
def test_steps_until_below_on_hand_made_distances(distance, position, tol, steps):
    assert steps_until_below(np.array(distance), position, tol) == steps


def test_a_contracting_linear_rnn_forgets_an_edit_at_its_contraction_rate():
    """h_t = tanh(a h_{t-1} + x_t) near 0 is h_t ~ a h_{t-1}: a kick of size d at the edit falls by a
    factor a per step, so it takes about log(tol/d) / log(a) steps to fall below tol."""
    a = 0.5
    cell = scaled_identity_rnn(a)
    x = np.zeros((60, I))
    kick = np.full(I, 1e-4)  # small, so tanh is linear: distance at the edit = 3e-4 * sqrt(H)
    distance = divergence_after_edit(cell, x, 0, kick)
    d0 = 3e-4 * math.sqrt(H)
    assert distance[0] == pytest.approx(d0, rel=1e-6)
    np.testing.assert_allclose(distance[10], d0 * a**10, rtol=1e-6)
    assert steps_until_below(distance, 0, 1e-9) == math.ceil(math.log(1e-9 / d0) / math.log(a))
