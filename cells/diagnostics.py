"""Measurements on a trace: how far back the gradient reaches, and how saturated the gates are."""

from __future__ import annotations

import time

import numpy as np

from cells.base import Cell, Trace


def jacobian_norms(cell: Cell, trace: Trace) -> np.ndarray:
    """log10 ||d h_{T-1} / d h_t||_F for every t: (T,), or (T, B) for a batched trace.

    Exact: the full H x H Jacobian is carried back one step at a time as H rows of cotangents
    (row k is d h_{T-1}[k] / d h_t) through the cell's own backward step. For the LSTM the state
    is (h, c), and this is the partial derivative with c_t held fixed; d h_{T-1} / d c_t is carried
    alongside because later steps need it. After every step the rows are rescaled to norm 1 and the
    scale is added up in log10, so a norm of 1e-1000 comes out as a finite -1000, not 0 or -inf.
    A Jacobian that is exactly zero (e.g. W_hh = 0) gives -inf from there back.
    """
    if trace.batched:
        return np.stack([jacobian_norms(cell, trace.sequence(b)) for b in range(trace.hs.shape[1])], axis=1)
    T, _, H = trace.hs.shape
    local = cell._local_derivatives(trace)
    dh = np.eye(H, dtype=np.float64)  # d h_{T-1} / d h_{T-1}
    dc = np.zeros((H, H)) if cell.has_cell_state else None  # d h_{T-1} / d c_{T-1} with h_{T-1} fixed
    da = np.empty((H, trace.acts.shape[2] or H))  # dh_{T-1}/d(pre-activations), reused every step
    dc_total = np.empty((H, H)) if cell.has_cell_state else None
    log_norms = np.full(T, -np.inf)
    log_norms[T - 1] = 0.5 * np.log10(H)  # ||I||_F = sqrt(H)
    log_scale = 0.0
    for t in range(T - 1, 0, -1):
        dh, dc = cell._back_step(local, t, dh, dc, da, dc_total)  # now d h_{T-1} / d(h, c)_{t-1}
        scale = np.sqrt(np.sum(dh * dh) + (0.0 if dc is None else np.sum(dc * dc)))
        if scale == 0.0:
            break
        dh /= scale
        if dc is not None:
            dc /= scale
        log_scale += np.log10(scale)
        log_norms[t - 1] = log_scale + np.log10(np.linalg.norm(dh))
    return log_norms


def gate_saturation(
    cell: Cell, trace: Trace, low: float = 0.1, high: float = 0.9
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per gate and unit, the fraction of steps left-saturated (< low) and right-saturated (> high).

    Karpathy, Johnson & Fei-Fei (2015), "Visualizing and Understanding Recurrent Networks", fig. 3.
    Only the cell's sigmoid gates (LSTM f i o, GRU r z) are counted, in its display order;
    candidates live on (-1, 1). Returns gate -> (left (H,), right (H,)), over all steps and
    sequences of the trace.
    """
    H = trace.hs.shape[2]
    out = {}
    gates = trace.gates
    for name in cell.sigmoid_gates:
        a = gates[name].reshape(-1, H)  # (T*B, H)
        out[name] = (np.mean(a < low, axis=0), np.mean(a > high, axis=0))
    return out


def seconds_per_token(cell: Cell, tokens: int = 200, repeats: int = 5) -> dict[str, float]:
    """Measured seconds per token on this machine, median of ``repeats`` runs each:

    ``"step"``: ``cell.step`` one token at a time (what an interactive reader pays per token);
    ``"forward"``: one ``cell.forward`` over ``tokens`` tokens, divided by ``tokens``.
    The inputs are one-hot rows cycling through the input units.
    """
    x = np.zeros((tokens, cell.input_size), cell.dtype)  # (T, I)
    x[np.arange(tokens), np.arange(tokens) % cell.input_size] = 1.0
    step_runs, forward_runs = [], []
    for _ in range(repeats):
        h = np.zeros(cell.hidden_size, cell.dtype)
        c = np.zeros(cell.hidden_size, cell.dtype) if cell.has_cell_state else None
        start = time.perf_counter()
        for x_t in x:
            h, c, _ = cell.step(x_t, h, c)
        step_runs.append((time.perf_counter() - start) / tokens)
        start = time.perf_counter()
        cell.forward(x)
        forward_runs.append((time.perf_counter() - start) / tokens)
    return {"step": float(np.median(step_runs)), "forward": float(np.median(forward_runs))}
