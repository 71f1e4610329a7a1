"""Measurements on a trace: how far back the gradient reaches, and how saturated the gates are."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cells.core.bidirectional import Bidirectional, BidirectionalTrace
from cells.core.cell import Cell, Trace
from cells.core.dataflow import C_PREV, H_PREV, Dataflow
from cells.core.stack import Stack, StackTrace


def jacobian_norms(cell: Cell | Stack | Bidirectional, trace: Trace | BidirectionalTrace,
                   layer: int | None = None, direction: int = 0) -> np.ndarray:
    """log10 ||d h^top_{T-1} / d h^(k)_t||_F for every t: (T,), or (T, B) for a batched trace.

    ``layer`` k picks the hidden state h^(k)_t of layer k of a :class:`~cells.stack.Stack`; None
    (or a single cell) is the top layer, so for one layer this is ||d h_{T-1} / d h_t||_F.

    Exact: the full Jacobian is carried back one step at a time as rows of cotangents (row i is
    d h^top_{T-1}[i] / d(state)) through each cell's own backward step, from the top layer down to
    layer k, the layer below receiving its rows through the inputs of the layer above (Graves et
    al. 2013's stack). For the LSTM the state is (h, c), and this is the partial derivative with
    c^(k)_t held fixed; the rows for every c are carried alongside because earlier steps need
    them. After every step all rows are rescaled together to norm 1 and the scale is added up in
    log10, so a norm of 1e-1000 comes out as a finite -1000, not 0 or -inf. A Jacobian that is
    exactly zero (e.g. W_hh = 0) gives -inf from there back.

    A :class:`~cells.core.bidirectional.Bidirectional` model: ``direction`` 0 (forward) or 1
    (backward) names the top layer's state whose gradient is followed, that direction's last one
    (h^fwd_{T-1}, or h^bwd after token 0), and the states it is taken against, that direction's
    at layer k; the result is indexed by the direction's own steps (the backward direction's step
    s read token T-1-s). Through depth it passes through both directions of the layers between
    (:func:`bidirectional_jacobian_norms`).
    """
    if isinstance(cell, Bidirectional):
        top = cell.num_layers - 1
        k = top if layer is None else layer
        if not 0 <= k <= top:
            raise ValueError(f"layer must be in 0..{top}, got {layer}")
        return bidirectional_jacobian_norms(cell, trace, direction, lowest=k)[0]
    return _jacobian_pass(cell, trace, layer, record_all=False)[-1]


def jacobian_norms_by_layer(cell: Cell | Stack | Bidirectional, trace: Trace | BidirectionalTrace,
                            direction: int = 0) -> np.ndarray:
    """(L, T): row k is ``jacobian_norms(cell, trace, layer=k)`` for every layer of a stack, all
    from one pass from the top layer down to layer 0 (the rows reaching h^(k)_t on the way down are
    the ones layer k's curve needs), so L layers cost L layer-steps per token, not L(L+1)/2.
    One row for a single cell. Single sequences only (an unbatched trace). A bidirectional
    model's: ``direction``'s, in its own steps (:func:`jacobian_norms`)."""
    if trace.batched:
        raise ValueError("jacobian_norms_by_layer takes the trace of a single sequence")
    if isinstance(cell, Bidirectional):
        return np.stack(bidirectional_jacobian_norms(cell, trace, direction))
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
    T = trace.hs.shape[0]
    R = traces[top].hs.shape[2]  # rows: one per number of h^top_{T-1}
    run = range(k, top + 1)  # the layers that carry rows: k and those above it
    local = {j: cells_[j]._local_derivatives(traces[j]) for j in run}
    rows = {j: _Rows(cells_[j], traces[j], R) for j in run}
    rows[top].h += np.eye(R)  # d h^top_{T-1} / d h^top_{T-1}
    recorded = tuple(run) if record_all else (k,)
    log_norms = {j: np.full(T, -np.inf) for j in recorded}
    log_scale = 0.0
    for t in range(T - 1, -1, -1):
        from_above = None  # the rows reaching h^(j)_t through layer j+1's input at step t
        for j in reversed(run):
            dh = rows[j].h if from_above is None else rows[j].h + from_above  # total, at (j, t)
            if j in log_norms:
                log_norms[j][t] = log_scale + np.log10(np.linalg.norm(dh))
            if t == 0 and j == k:
                break
            from_above = rows[j].back(local[j], t, dh, inputs=j > k)
        if t == 0:
            break
        scale = np.sqrt(sum(r.squared() for r in rows.values()))
        if scale == 0.0:
            break
        for r in rows.values():
            r.scale(1.0 / scale)
        log_scale += np.log10(scale)
    return [log_norms[j] for j in recorded]


def _layers_of(cell: Cell | Stack, trace: Trace) -> tuple[tuple[Cell, ...], tuple[Trace, ...]]:
    """The cells and traces of every layer: one of each for a single cell."""
    if isinstance(cell, Stack):
        if not isinstance(trace, StackTrace) or trace.num_layers != cell.num_layers:
            raise ValueError(f"this trace was not made by this {cell.num_layers}-layer stack")
        return cell.layers, trace.layers
    return (cell,), (trace,)


class _Rows:
    """The cotangent rows one layer (one direction) carries back in time: d(followed state) /
    d h_t through step t+1, and / d c_t (a cell with a cell state), with its buffers."""

    def __init__(self, cell: Cell, trace: Trace, R: int) -> None:
        self.cell = cell
        H = cell.hidden_size
        G = trace.acts.shape[2] or H
        self.h = np.zeros((R, trace.hs.shape[2]))  # (R, P)
        self.c = np.zeros((R, H)) if cell.has_cell_state else None  # (R, H), h_t held fixed
        self.da = np.empty((R, G))  # d(followed)/d(pre-activations), reused every step
        self.da_x = np.empty((R, G))  # the input side's, where it differs (GRU)
        self.dc = np.empty((R, H)) if cell.has_cell_state else None

    def back(self, local: dict, t: int, dh: np.ndarray, inputs: bool) -> np.ndarray | None:
        """One step back from the total rows ``dh`` at step t: the rows through step t kept for
        t-1, and (``inputs``) the rows reaching the layer's input x_t, returned."""
        self.h, self.c = self.cell._back_step(local, t, dh, self.c, self.da, self.dc)
        if not inputs:
            return None
        return self.cell._input_da(local, t, dh, self.da, self.da_x) @ self.cell.params["weight_ih_l0"]

    def add(self, log_scale: float, incoming: _Scaled | None) -> float:
        """Add ``incoming`` to the h rows, which (with the c rows) stand for themselves times
        10^``log_scale``; returns the scale of the sum (the larger of the two)."""
        if incoming is None or incoming.log_scale == -np.inf:
            return log_scale
        if log_scale == -np.inf:  # nothing carried yet: the rows are zero
            self.h = incoming.a.copy()
            return incoming.log_scale
        top = max(log_scale, incoming.log_scale)
        self.scale(10.0 ** (log_scale - top))
        self.h = self.h + incoming.a * 10.0 ** (incoming.log_scale - top)
        return top

    def squared(self) -> float:
        return float(np.sum(self.h ** 2) + (0.0 if self.c is None else np.sum(self.c ** 2)))

    def scale(self, factor: float) -> None:
        self.h *= factor
        if self.c is not None:
            self.c *= factor


def bidirectional_jacobian_norms(cell: Bidirectional, trace: BidirectionalTrace, direction: int,
                                 lowest: int = 0) -> list[np.ndarray]:
    """For layers ``lowest`` .. top (bottom first), log10 ||d h^(top, d)_last / d h^(k, d)_s||_F
    for every step s of direction d = ``direction`` (its own reading order; see
    :func:`jacobian_norms`). Single sequences only.

    Exact, like the unidirectional pass, but layer by layer: the followed state's rows are carried
    back through all the steps of the top layer's direction d first, collecting at every token the
    rows that reach its input y^(k-1)_t = [f_t ; b_t]; each direction of the layer below then
    carries its half back through its own reading order (the backward direction runs from token
    0 up), and so on down. Each direction's rows are rescaled to norm 1 after every step and the
    scale kept in log10, as are the rows stored per token (rows of different scales are added at
    the larger one's), so nothing underflows.
    """
    if trace.batched:
        raise ValueError("bidirectional Jacobian norms take the trace of a single sequence")
    if direction not in (0, 1):
        raise ValueError(f"direction is 0 (forward) or 1 (backward), got {direction}")
    L, T, P = cell.num_layers, trace.length, cell.direction_size
    norms: dict[int, np.ndarray] = {}
    above: list[list[_Scaled | None]] | None = None  # [e][t]: rows reaching h^(k, e)_t from above
    for k in range(L - 1, lowest - 1, -1):
        below: list[_Scaled | None] = [None] * T  # rows reaching y^(k-1)_t, (R, 2P)
        for e in ((direction,) if k == L - 1 else (0, 1)):
            layer_cell, run = cell.layers[k][e], trace.layers[k][e]
            local = layer_cell._local_derivatives(run)
            rows, log_scale = _Rows(layer_cell, run, P), -np.inf
            log_norms = np.full(T, -np.inf)
            for s in range(T - 1, -1, -1):
                t = T - 1 - s if e else s  # the token step s of direction e reads
                first = _Scaled(np.eye(P), 0.0) if s == T - 1 else None  # the followed state itself
                incoming = first if above is None else above[e][t]
                log_scale = rows.add(log_scale, incoming)  # the total rows at (k, e, s)
                if e == direction:
                    log_norms[s] = log_scale + np.log10(np.linalg.norm(rows.h)) if rows.h.any() else -np.inf
                x_rows = rows.back(local, s, rows.h, inputs=k > lowest)
                if x_rows is not None:
                    below[t] = _Scaled.normalised(x_rows, log_scale).plus(below[t])
                norm = np.sqrt(rows.squared())
                if norm > 0:
                    rows.scale(1.0 / norm)
                    log_scale += np.log10(norm)
                else:
                    log_scale = -np.inf
            if e == direction:
                norms[k] = log_norms
        above = [[None if b is None else b.half(e, P) for b in below] for e in (0, 1)]
    return [norms[k] for k in range(lowest, L)]


@dataclass(frozen=True)
class _Scaled:
    """Rows ``a`` times 10^``log_scale`` (``a`` of norm 1, or zero with -inf)."""

    a: np.ndarray
    log_scale: float

    @classmethod
    def normalised(cls, a: np.ndarray, log_scale: float) -> _Scaled:
        norm = np.linalg.norm(a)
        if norm == 0 or log_scale == -np.inf:
            return cls(np.zeros_like(a), -np.inf)
        return cls(a / norm, log_scale + np.log10(norm))

    def plus(self, other: _Scaled | None) -> _Scaled:
        """The sum, at the larger scale (the smaller one's share below float range is dropped)."""
        if other is None or other.log_scale == -np.inf:
            return self
        if self.log_scale == -np.inf:
            return other
        top = max(self.log_scale, other.log_scale)
        return _Scaled.normalised(self.a * 10.0 ** (self.log_scale - top)
                                  + other.a * 10.0 ** (other.log_scale - top), top)

    def half(self, e: int, P: int) -> _Scaled:
        """The columns of direction ``e``'s half of y = [f ; b]."""
        return _Scaled(self.a[:, e * P:(e + 1) * P], self.log_scale)

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

    ``"step"``: ``cell.step`` one token at a time (what an interactive reader pays per token; NaN
    for a bidirectional model, which has no step by step reading);
    ``"forward"``: one ``cell.forward`` over ``tokens`` tokens, divided by ``tokens``.
    The inputs are one-hot rows cycling through the input units.
    """
    x = np.zeros((tokens, cell.input_size), cell.dtype)  # (T, I)
    x[np.arange(tokens), np.arange(tokens) % cell.input_size] = 1.0
    step_runs, forward_runs = [], []
    for _ in range(repeats):
        if isinstance(cell, Bidirectional):
            step_runs.append(float("nan"))
        else:
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
