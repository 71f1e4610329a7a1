"""Measurements on a trace: how far back the gradient reaches, and how saturated the gates are."""

from __future__ import annotations

import time

import numpy as np

from cells.base import Cell, Trace
from cells.stack import Stack, StackTrace


def jacobian_norms(cell: Cell | Stack, trace: Trace, layer: int | None = None) -> np.ndarray:
    """log10 ||d h^top_{T-1} / d h^(k)_t||_F for every t: (T,), or (T, B) for a batched trace.

    ``layer`` k picks the hidden state h^(k)_t of layer k of a :class:`~cells.stack.Stack`; None
    (or a single cell) is the top layer, so for one layer this is ||d h_{T-1} / d h_t||_F.

    Exact: the full H x H Jacobian is carried back one step at a time as H rows of cotangents
    (row i is d h^top_{T-1}[i] / d(state)) through each cell's own backward step, from the top
    layer down to layer k, the layer below receiving its rows through the inputs of the layer above
    (Graves et al. 2013's stack). For the LSTM the state is (h, c), and this is the partial
    derivative with c^(k)_t held fixed; the rows for every c are carried alongside because earlier
    steps need them. After every step all rows are rescaled together to norm 1 and the scale is
    added up in log10, so a norm of 1e-1000 comes out as a finite -1000, not 0 or -inf. A
    Jacobian that is exactly zero (e.g. W_hh = 0) gives -inf from there back.
    """
    cells_, traces = _layers_of(cell, trace)
    top = len(cells_) - 1
    k = top if layer is None else layer
    if not 0 <= k <= top:
        raise ValueError(f"layer must be in 0..{top}, got {layer}")
    if trace.batched:
        return np.stack([jacobian_norms(cell, trace.sequence(b), layer) for b in range(trace.hs.shape[1])],
                        axis=1)
    T, _, H = trace.hs.shape
    run = range(k, top + 1)  # the layers that carry rows: k and those above it
    local = {j: cells_[j]._local_derivatives(traces[j]) for j in run}
    has_c = cells_[top].has_cell_state
    G = traces[top].acts.shape[2] or H
    rec_h = {j: np.zeros((H, H)) for j in run}  # d h^top_{T-1} / d h^(j)_t through step t+1 of layer j
    rec_c = {j: (np.zeros((H, H)) if has_c else None) for j in run}  # ... / d c^(j)_t, h^(j)_t fixed
    rec_h[top] += np.eye(H)  # d h^top_{T-1} / d h^top_{T-1}
    da = {j: np.empty((H, G)) for j in run}  # d h^top_{T-1} / d(pre-activations), reused every step
    dc_total = {j: (np.empty((H, H)) if has_c else None) for j in run}
    log_norms = np.full(T, -np.inf)
    log_scale = 0.0
    for t in range(T - 1, -1, -1):
        from_above = None  # the rows reaching h^(j)_t through layer j+1's input at step t
        for j in reversed(run):
            dh = rec_h[j] if from_above is None else rec_h[j] + from_above  # total, at (j, t)
            if j == k:
                log_norms[t] = log_scale + np.log10(np.linalg.norm(dh))
            if t == 0 and j == k:
                break
            rec_h[j], rec_c[j] = cells_[j]._back_step(local[j], t, dh, rec_c[j], da[j], dc_total[j])
            if j > k:
                from_above = cells_[j]._input_da(local[j], t, dh, da[j]) @ cells_[j].params["weight_ih_l0"]
        if t == 0:
            break
        scale = np.sqrt(sum(np.sum(rec_h[j] ** 2) + (0.0 if rec_c[j] is None else np.sum(rec_c[j] ** 2))
                            for j in run))
        if scale == 0.0:
            break
        for j in run:
            rec_h[j] /= scale
            if rec_c[j] is not None:
                rec_c[j] /= scale
        log_scale += np.log10(scale)
    return log_norms


def _layers_of(cell: Cell | Stack, trace: Trace) -> tuple[tuple[Cell, ...], tuple[Trace, ...]]:
    """The cells and traces of every layer: one of each for a single cell."""
    if isinstance(cell, Stack):
        if not isinstance(trace, StackTrace) or trace.num_layers != cell.num_layers:
            raise ValueError(f"this trace was not made by this {cell.num_layers}-layer stack")
        return cell.layers, trace.layers
    return (cell,), (trace,)


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
