"""Vanishing gradients, measured: how far back in a sequence the past still moves the present.

Backpropagation through time multiplies the gradient by one Jacobian per step back,

    d h_{T-1} / d h_t = J_{T-1} J_{T-2} ... J_{t+1},      J_k = d h_k / d h_{k-1},

so when the J_k shrink vectors the gradient falls off geometrically with the distance T-1-t
(Hochreiter 1991; Bengio, Simard & Frasconi 1994; Pascanu, Mikolov & Bengio 2013). This module
reads that fall-off from ``cells.jacobian_norms`` and explains it with each cell's own numbers:

* tanh RNN: J_k = diag(1 - h_k^2) W_hh. A spectral norm below 1 means step k shrinks every
  vector; over many steps the product shrinks like the J's spectral radius, which can be below 1
  while every norm is above (non-normal W_hh), and saturated units (1 - h^2 ~ 0) pass nothing.
* LSTM: the cell state's direct path is d c_k / d c_{k-1} = diag(f_k), so the gradient along the
  "constant error carousel" is the running product of forget gates, prod_{k>t} f_k.
* GRU (PyTorch's form h_k = (1 - z_k) n_k + z_k h_{k-1}): the direct path is diag(z_k), the
  running product of update gates.
* The LSTM variants (cells/lstm_variants.py) keep the LSTM's path diag(f_k), except LSTM-NFG, whose
  f = 1 makes it 1 (nothing along c decays); the MGU (h_k = (1 - f_k) h_{k-1} + f_k n_k) has 1 - f_k.

And it measures the same thing without gradients: change one early token and watch how long the
two runs' hidden states stay apart.

Conventions: ``log_norms[t]`` is log10 ||d h_{T-1} / d h_t||_F for t = 0..T-1, so t = T-1 is the
identity (log10 sqrt(H)); "tokens back" is k = T-1-t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cells.core.cell import Cell, Trace
from cells.core.diagnostics import jacobian_norms

SPAN_DECADES = 3.0
"""The memory span counts tokens back while the gradient is within 10^3 of its value at T-1."""


def decay_rate(log_norms: np.ndarray) -> float:
    """The per-token decay of the gradient, in decades per token back.

    The least-squares slope of log10 ||d h_{T-1} / d h_t|| against k = T-1-t over the whole
    sequence: negative means the gradient vanishes (-0.5 is a factor 10 lost every two tokens),
    positive that it explodes. A tanh RNN with W_hh = a I and zero input has exactly log10(a).
    Tokens where the Jacobian is exactly zero (log10 = -inf) are left out of the fit; NaN when
    fewer than two tokens remain (no slope to fit).
    """
    log_norms = np.asarray(log_norms, dtype=np.float64)  # (T,)
    back = np.arange(log_norms.shape[0] - 1, -1, -1, dtype=np.float64)  # k = T-1-t
    finite = np.isfinite(log_norms)  # -inf where the Jacobian is exactly zero (W_hh = 0)
    if finite.sum() < 2:
        return float("nan")
    slope, _ = np.polyfit(back[finite], log_norms[finite], 1)
    return float(slope)


def memory_span(log_norms: np.ndarray, decades: float = SPAN_DECADES) -> int:
    """How many tokens back the gradient stays within ``decades`` of its value at T-1.

    The largest k such that log10 ||d h_{T-1} / d h_t|| >= log_norms[T-1] - decades for every t
    from T-1-k to T-1. It is T-1 when the gradient never falls that far (the sequence, not the
    model, is the limit: see :attr:`GradientProfile.span_reaches_start`); 0 for an empty or
    one-token sequence.
    """
    log_norms = np.asarray(log_norms, dtype=np.float64)  # (T,)
    if log_norms.shape[0] == 0:
        return 0
    back = log_norms[::-1]  # (T,) indexed by tokens back k
    below = back < back[0] - decades
    return int(np.argmax(below)) - 1 if below.any() else back.shape[0] - 1


def step_jacobian_norms(cell: Cell, trace: Trace) -> np.ndarray:
    """(T,) spectral norm of each step's Jacobian J_t = d h_t / d h_{t-1} (a cell state held fixed).

    For the tanh RNN, J_t = diag(1 - h_t^2) W_hh. ||J_t||_2 < 1 means step t shrinks every
    gradient vector passing through it, so ||d h_{T-1} / d h_t||_2 <= prod_{k>t} ||J_k||_2 for a
    cell whose state is h alone. (Pascanu et al. 2013 write the transpose, which has the same
    norm.) Exact: J_t from the cell's own backward step, one SVD per step; J_0 uses h_0.
    """
    if trace.batched:
        raise ValueError("step_jacobian_norms takes the trace of a single sequence")
    T, _, H = trace.hs.shape
    local = cell._local_derivatives(trace)
    eye = np.eye(H, dtype=np.float64)
    dc_next = np.zeros((H, H)) if cell.has_cell_state else None  # c_t held fixed: nothing via c_{t+1}
    da = np.empty((H, trace.acts.shape[2] or H))
    dc = np.empty((H, H)) if cell.has_cell_state else None
    J = np.empty((T, H, H))  # row k of J[t]: d h_t[k] / d h_{t-1}
    for t in range(T):
        J[t] = cell._back_step(local, t, eye, dc_next, da, dc)[0]
    return np.linalg.svd(J, compute_uv=False)[:, 0]  # (T,)


def step_factors(log_norms: np.ndarray) -> np.ndarray:
    """(T,) the factor by which step t scaled the gradient flowing back through it, measured.

    ||d h_{T-1} / d h_{t-1}||_F / ||d h_{T-1} / d h_t||_F for t = 1..T-1, i.e. what J_t did to
    the product it was multiplied into, which is at most ||J_t||_2. NaN at t = 0 (the norms stop
    at h_0). Their geometric mean is :attr:`GradientProfile.mean_step_factor`.
    """
    log_norms = np.asarray(log_norms, dtype=np.float64)  # (T,)
    factors = np.full(log_norms.shape, np.nan)
    with np.errstate(invalid="ignore"):  # -inf - -inf past an exactly zero Jacobian: NaN
        factors[1:] = 10.0 ** (log_norms[:-1] - log_norms[1:])
    return factors


def spectral_radius(W: np.ndarray) -> float:
    """The largest |eigenvalue| of a square matrix: the long-run growth rate of W^k."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def running_gate_product(gate: np.ndarray) -> np.ndarray:
    """(T, H) log10 prod_{k=t+1}^{T-1} gate_k per unit: how much of unit j at step t reaches T-1.

    For a cell's memory path (``Cell.memory_path``: the LSTM's forget gate f, the GRU's update
    gate z) this is d c_{T-1} / d c_t along the cell state alone, or d h_{T-1} / d h_t along the
    copy path. The last row is 0 (the empty product). The product is taken in log space (a
    cumulative sum of logs) because it underflows: 0.5^1100 is below the smallest float64. A gate
    value of exactly 0 is counted as the smallest positive float, so the result stays finite.
    """
    gate = np.asarray(gate, dtype=np.float64)  # (T, H)
    logs = np.log10(np.clip(gate, np.finfo(np.float64).tiny, 1.0))  # (T, H)
    product = np.zeros_like(logs)
    product[:-1] = np.cumsum(logs[:0:-1], axis=0)[::-1]  # row t: sum of logs over k = t+1..T-1
    return product


def best_carrying_unit(log_products: np.ndarray) -> int:
    """The unit whose gate product over the whole sequence (from t = 0) is largest."""
    return int(np.argmax(log_products[0]))


def divergence_after_edit(cell: Cell, x: np.ndarray, position: int, x_new: np.ndarray) -> np.ndarray:
    """(T,) ||h_t - h'_t||_2 where h' is the run with token ``position`` replaced by ``x_new``.

    Both sequences go through the cell as one batch of two, from zero states. The distance is 0
    before ``position`` by construction; how fast it falls after is the memory measured without
    gradients.
    """
    x = np.asarray(x)  # (T, I)
    if not 0 <= position < x.shape[0]:
        raise ValueError(f"position {position} is outside a sequence of {x.shape[0]} tokens")
    edited = x.copy()
    edited[position] = x_new
    h = cell.forward(np.stack([x, edited], axis=1)).h  # (T, 2, H)
    return np.linalg.norm(h[:, 0] - h[:, 1], axis=-1)


def steps_until_below(distance: np.ndarray, position: int, tol: float) -> int:
    """Steps after ``position`` until ``distance`` falls below ``tol`` for good.

    The smallest s >= 0 with distance[t] < tol for every t >= position + s. If the distance is
    still at or above ``tol`` at the last token, that is T - position (the sequence ran out first).
    """
    distance = np.asarray(distance)  # (T,)
    above = np.nonzero(distance[position:] >= tol)[0]
    return int(above[-1]) + 1 if above.size else 0


@dataclass(frozen=True, eq=False)
class GradientProfile:
    """What the Gradients page shows for one cell on one sequence.

    A cell with a memory path (``Cell.memory_gate``) is explained by the running product of that
    path (``gate_log_product``); a cell without one (the tanh RNN) by its per-step Jacobians
    (``step_norms``, ``weight_radius``, ``mean_tanh_slope``).
    """

    arch: str
    log_norms: np.ndarray  # (T,) log10 ||d h_{T-1} / d h_t||_F, in the order the cell read
    # (a bidirectional model's backward direction: step s read token T-1-s)
    decay_rate: float  # decades per token back (slope of the fit)
    memory_span: int  # tokens back within SPAN_DECADES of the value at T-1
    memory_gate: str | None  # the memory path as written: "f", "z", "1 − f", "1"; None without one
    step_norms: np.ndarray | None  # no memory path: (T,) ||d h_t / d h_{t-1}||_2
    weight_radius: float | None  # no memory path, one block: spectral radius of W_hh
    mean_tanh_slope: float | None  # no memory path: mean of 1 - h_t^2 (1: linear, 0: saturated)
    gate_log_product: np.ndarray | None  # memory path: (T, H) log10 prod_{k>t} path_k
    reads_backward: bool = False  # a backward direction's: every (T, ...) array runs from the end

    def in_time_order(self, a: np.ndarray | None) -> np.ndarray | None:
        """One of this profile's per-step arrays (``log_norms``, ``step_norms``,
        ``gate_log_product``, ``step_factors(log_norms)``) in the sequence's order, for drawing."""
        return a[::-1] if a is not None and self.reads_backward else a

    @property
    def span_reaches_start(self) -> bool:
        """True when the memory span is cut by the start of the sequence (the true span is longer)."""
        return self.memory_span == max(len(self.log_norms) - 1, 0)

    @property
    def typical_step_norm(self) -> float | None:
        """The geometric mean of the per-step Jacobian norms (the average factor per step)."""
        if self.step_norms is None or self.step_norms.size == 0:
            return None
        return float(10.0 ** np.mean(np.log10(self.step_norms)))

    @property
    def mean_step_factor(self) -> float:
        """The geometric mean of :func:`step_factors`: 10^((log_norms[0] - log_norms[T-1]) / (T-1)),
        the factor each step back scaled the gradient by on average. NaN for fewer than 2 tokens."""
        T = self.log_norms.shape[0]
        if T < 2:
            return float("nan")
        return float(10.0 ** ((self.log_norms[0] - self.log_norms[-1]) / (T - 1)))

    @property
    def fraction_shrinking(self) -> float | None:
        """The fraction of steps whose Jacobian norm is below 1 (the step shrinks every vector)."""
        if self.step_norms is None or self.step_norms.size == 0:
            return None
        return float(np.mean(self.step_norms < 1.0))

    @property
    def highway_mean(self) -> np.ndarray | None:
        """Memory path: (T,) mean over units of log10 prod_{k>t} path_k."""
        return None if self.gate_log_product is None else self.gate_log_product.mean(axis=1)

    @property
    def best_unit(self) -> int | None:
        """Memory path: the unit that carries the most from t = 0 to T-1 (:func:`best_carrying_unit`)."""
        return None if self.gate_log_product is None else best_carrying_unit(self.gate_log_product)


def memory_gate_text(cell: Cell) -> str | None:
    """The memory path of ``cell`` as written on a page: "f", "z", "1 − f"; "1" for a cell state
    with no gate on it (LSTM-NFG, c_t = c_{t-1} + i_t g_t); None without one (the tanh RNN)."""
    if cell.memory_gate is None:
        return "1" if cell.has_cell_state else None
    return f"1 − {cell.memory_gate}" if cell.memory_keeps_complement else cell.memory_gate


def gradient_profile(cell: Cell, x: np.ndarray, trace: Trace | None = None,
                     layer: int | None = None, log_norms: np.ndarray | None = None,
                     direction: int = 0) -> GradientProfile:
    """Run ``x`` (T, I) through ``cell`` (or take its ``trace``, if already read) and measure how
    its gradient vanishes, and why. For a stack, ``layer`` k measures d h^top_{T-1} / d h^(k)_t
    (through depth and time) and explains it with layer k's own memory path; None is the top.
    A bidirectional model's ``direction`` (0 forward, 1 backward) is measured in its own reading
    order (``cells.jacobian_norms``). ``log_norms``: that curve if already measured
    (``cells.jacobian_norms_by_layer``)."""
    trace = cell.forward(x) if trace is None else trace
    if log_norms is None:
        log_norms = jacobian_norms(cell, trace, layer, direction=direction)  # (T,)
    layers = getattr(cell, "layers", None)
    if layers is not None:  # a stack: layer k's own cell and trace explain it
        k = len(layers) - 1 if layer is None else layer
        cell, trace = layers[k], trace.layers[k]
        if isinstance(cell, tuple):  # both directions of a bidirectional layer: the one measured
            cell, trace = cell[direction], trace[direction]
    path = cell.memory_path(trace)  # (T, H) or None
    W_hh = cell.params["weight_hh_l0"]
    return GradientProfile(
        arch=cell.arch,
        log_norms=log_norms,
        decay_rate=decay_rate(log_norms),
        memory_span=memory_span(log_norms),
        memory_gate=memory_gate_text(cell),
        step_norms=step_jacobian_norms(cell, trace) if path is None else None,
        weight_radius=spectral_radius(W_hh) if path is None and W_hh.shape[0] == W_hh.shape[1] else None,
        mean_tanh_slope=float(np.mean(1.0 - trace.h * trace.h)) if path is None else None,
        gate_log_product=None if path is None else running_gate_product(path),
        reads_backward=direction == 1,
    )
