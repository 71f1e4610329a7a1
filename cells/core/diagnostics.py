"""Measurements on a trace: how far back the gradient reaches, and how saturated the gates are."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cells.core.cell import Cell, Trace
from cells.core.dataflow import C_PREV, H_PREV, Dataflow
from cells.core.stack import Stack, StackTrace


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
    return _jacobian_pass(cell, trace, layer, record_all=False)[-1]


def jacobian_norms_by_layer(cell: Cell | Stack, trace: Trace) -> np.ndarray:
    """(L, T): row k is ``jacobian_norms(cell, trace, layer=k)`` for every layer of a stack, all
    from one pass from the top layer down to layer 0 (the rows reaching h^(k)_t on the way down are
    the ones layer k's curve needs), so L layers cost L layer-steps per token, not L(L+1)/2.
    One row for a single cell. Single sequences only (an unbatched trace)."""
    if trace.batched:
        raise ValueError("jacobian_norms_by_layer takes the trace of a single sequence")
    return np.stack(_jacobian_pass(cell, trace, 0, record_all=True))


def _jacobian_pass(cell: Cell | Stack, trace: Trace, layer: int | None,
                   record_all: bool) -> list[np.ndarray]:
    """The pass behind :func:`jacobian_norms`: from the top layer down to ``layer`` (None: the
    top), recording the log10 norms at ``layer`` (and, ``record_all``, at every layer above it,
    bottom first). Batched traces go one sequence at a time."""
    cells_, traces = _layers_of(cell, trace)
    top = len(cells_) - 1
    k = top if layer is None else layer
    if not 0 <= k <= top:
        raise ValueError(f"layer must be in 0..{top}, got {layer}")
    if trace.batched:
        per_sequence = [_jacobian_pass(cell, trace.sequence(b), layer, record_all)
                        for b in range(trace.hs.shape[1])]
        return [np.stack(rows, axis=1) for rows in zip(*per_sequence, strict=True)]
    T, _, H = trace.hs.shape
    run = range(k, top + 1)  # the layers that carry rows: k and those above it
    local = {j: cells_[j]._local_derivatives(traces[j]) for j in run}
    has_c = cells_[top].has_cell_state
    G = traces[top].acts.shape[2] or H
    rec_h = {j: np.zeros((H, H)) for j in run}  # d h^top_{T-1} / d h^(j)_t through step t+1 of layer j
    rec_c = {j: (np.zeros((H, H)) if has_c else None) for j in run}  # ... / d c^(j)_t, h^(j)_t fixed
    rec_h[top] += np.eye(H)  # d h^top_{T-1} / d h^top_{T-1}
    da = {j: np.empty((H, G)) for j in run}  # d h^top_{T-1} / d(pre-activations), reused every step
    da_x_buffer = {j: np.empty((H, G)) for j in run}  # the input side's, where it differs (GRU)
    dc_total = {j: (np.empty((H, H)) if has_c else None) for j in run}
    recorded = tuple(run) if record_all else (k,)
    log_norms = {j: np.full(T, -np.inf) for j in recorded}
    log_scale = 0.0
    for t in range(T - 1, -1, -1):
        from_above = None  # the rows reaching h^(j)_t through layer j+1's input at step t
        for j in reversed(run):
            dh = rec_h[j] if from_above is None else rec_h[j] + from_above  # total, at (j, t)
            if j in log_norms:
                log_norms[j][t] = log_scale + np.log10(np.linalg.norm(dh))
            if t == 0 and j == k:
                break
            rec_h[j], rec_c[j] = cells_[j]._back_step(local[j], t, dh, rec_c[j], da[j], dc_total[j])
            if j > k:
                da_x = cells_[j]._input_da(local[j], t, dh, da[j], da_x_buffer[j])
                from_above = da_x @ cells_[j].params["weight_ih_l0"]
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
    return [log_norms[j] for j in recorded]


def _layers_of(cell: Cell | Stack, trace: Trace) -> tuple[tuple[Cell, ...], tuple[Trace, ...]]:
    """The cells and traces of every layer: one of each for a single cell."""
    if isinstance(cell, Stack):
        if not isinstance(trace, StackTrace) or trace.num_layers != cell.num_layers:
            raise ValueError(f"this trace was not made by this {cell.num_layers}-layer stack")
        return cell.layers, trace.layers
    return (cell,), (trace,)


SATURATED_BELOW = 0.1
SATURATED_ABOVE = 0.9
"""A gate value below / above these is saturated (Karpathy, Johnson & Fei-Fei 2015, fig. 3)."""


def gate_saturation(
    cell: Cell, trace: Trace, low: float = SATURATED_BELOW, high: float = SATURATED_ABOVE
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
        h, c = cell.zero_state()
        start = time.perf_counter()
        for x_t in x:
            h, c, _ = cell.step(x_t, h, c)
        step_runs.append((time.perf_counter() - start) / tokens)
        start = time.perf_counter()
        cell.forward(x)
        forward_runs.append((time.perf_counter() - start) / tokens)
    return {"step": float(np.median(step_runs)), "forward": float(np.median(forward_runs))}


@dataclass(frozen=True, eq=False)
class StepFlow:
    """A cell's step graph (``Cell.dataflow``) evaluated at every step of a reading, unit by unit:
    what a diagram of the cell shows going forward and, on the way back, the local derivatives.

    ``values``: every node (sources, layers, ops; the new states "c", "h"), (T, ...);
    ``derivatives``: (input, op) -> d op / d input at every step, every edge into an op;
    ``slopes``: layer -> its activation's derivative at every step (the factor the gradient meets
    in the box before it goes through the weights to every unit).
    """

    dataflow: Dataflow
    memory_state: str
    values: dict[str, np.ndarray]
    derivatives: dict[tuple[str, str], np.ndarray]
    slopes: dict[str, np.ndarray]

    def path(self, source: str, target: str) -> np.ndarray:
        """d target / d source at every step along the ops alone, the layers' outputs held
        (``Dataflow.path_derivative``): zeros where no such path exists."""
        total = self.dataflow.path_derivative(self.derivatives, source, target)
        return np.broadcast_to(total, self.values[target].shape).copy()

    @property
    def memory_path(self) -> np.ndarray | None:
        """d s_t / d s_{t-1} along the memory state's direct path (s = c, or h without a cell
        state), the product of its edges: the LSTM's f_t, the GRU's z_t, the MGU's 1 - f_t, the
        LSTM-NFG's 1; ``Cell.memory_path`` of the same trace. None for the tanh RNN, whose h_{t-1}
        reaches h_t only through its weights."""
        source = C_PREV if self.memory_state == "c" else H_PREV
        direct = self.dataflow.path_derivative(self.derivatives, source, self.memory_state)
        return None if np.isscalar(direct) and direct == 0 else self.path(source, self.memory_state)


def step_flow(cell: Cell | type[Cell], rows: Trace | Mapping[str, np.ndarray],
              h0: np.ndarray | float = 0.0, c0: np.ndarray | float = 0.0) -> StepFlow:
    """Every node and local derivative of ``cell``'s step graph at every step of a reading.

    ``rows``: a trace of the cell (its own initial states are used), or what pages hold of one,
    name -> (T, ...): the cell's gates, "h" and (with a cell state) "c", all of one shape, such
    as one unit's (T,) or every unit's (T, H); the states before step 0 are ``h0``, ``c0``. The
    numbers come from the cell's own gates and states: the graph's pointwise ops give the rest.
    """
    if isinstance(rows, Trace):
        trace = rows
        h0 = trace.h0 if trace.batched else trace.h0[0]
        c0 = 0.0 if trace.c0 is None else trace.c0 if trace.batched else trace.c0[0]
        rows = {**trace.gates, "h": trace.h, **({} if trace.c is None else {"c": trace.c})}
    flow = cell.dataflow
    known = {layer.name: np.asarray(rows[layer.name]) for layer in flow.layers}
    for state, first, source in (("h", h0, H_PREV), ("c", c0, C_PREV)):
        if state in cell.states:
            s = np.asarray(rows[state])
            before = np.broadcast_to(first, s.shape[1:])[None]  # (1, ...) the state before step 0
            known[source] = np.concatenate([before, s[:-1]]).astype(s.dtype)
    values = flow.values(known)
    return StepFlow(flow, cell.states[0], values, flow.derivatives(values), flow.slopes(values))
