"""What every cell shares: parameter checking, the trace and gradient records, batching, and
the facts a cell states about itself.

The cells (lstm.py, gru.py, rnn.py, ...) differ only in their equations and their facts; this
module holds the plumbing around them so that each cell file reads like its paper. A cell class
describes itself with class attributes (:class:`Cell`): its gates and their roles, the gate that
carries memory across steps, its state vectors, its equations, its Keras block order, its chrono
rule. The app reads those and never asks for a cell by name.

Parameters use PyTorch's names and gate order, so a ``torch.nn.LSTM/GRU/RNN`` state_dict (as NumPy
arrays) loads as it is:

    weight_ih_l0 (G*H, I)   weight_hh_l0 (G*H, H)   bias_ih_l0 (G*H,)   bias_hh_l0 (G*H,)

with G = 4 for the LSTM (blocks i, f, g, o), 3 for the GRU (r, z, n) and 1 for the tanh RNN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np

from cells.core.dataflow import SIGMA, Dataflow

PARAM_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

SIGMOID = "sigmoid"
"""A gate's role: a sigmoid gate, a fraction on (0, 1) that scales what passes."""
CANDIDATE = "candidate"
"""A gate's role: a candidate value (tanh on (-1, 1), or the bare pre-activation) to be written."""


@dataclass(frozen=True)
class Gate:
    """One gate of a cell, as the cell describes it: its symbol, its name, its role, its job."""

    name: str  # the papers' symbol: "f"
    title: str  # what a chart calls it, symbol included: "forget gate f", "candidate g (tanh)"
    role: str  # SIGMOID or CANDIDATE
    does: str  # one line: what it does, in the cell's own terms

    @property
    def sigmoid(self) -> bool:
        return self.role == SIGMOID


@dataclass(frozen=True)
class CellSizes:
    """The two numbers that fix a cell's shapes."""

    input_size: int  # I
    hidden_size: int  # H


@dataclass(frozen=True, eq=False)
class Trace:
    """Everything a forward pass computed, kept for display and for ``backward``.

    Arrays are stored batched, (T, B, ...); the public properties drop the batch axis again when
    the input was a single sequence (T, I).
    """

    arch: str
    batched: bool
    x: np.ndarray  # (T, B, I) the inputs
    h0: np.ndarray  # (B, H)
    c0: np.ndarray | None  # (B, H), LSTM only
    hs: np.ndarray  # (T, B, H) hidden state after each step
    cs: np.ndarray | None  # (T, B, H) cell state after each step, LSTM only
    acts: np.ndarray  # (T, B, G*H) gate activations, blocks in the cell's gate order
    gate_names: tuple[str, ...]  # the blocks of acts, in order
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # cell-specific, for backward

    def _public(self, a: np.ndarray) -> np.ndarray:
        return a if self.batched else a[:, 0]

    @property
    def length(self) -> int:
        return self.hs.shape[0]

    @property
    def h(self) -> np.ndarray:
        """Hidden states, (T, [B], H)."""
        return self._public(self.hs)

    @property
    def c(self) -> np.ndarray | None:
        """Cell states, (T, [B], H), LSTM only."""
        return None if self.cs is None else self._public(self.cs)

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """Gate name -> activations (T, [B], H): views into one (T, B, G*H) array, no copies."""
        if not self.gate_names:
            return {}
        T, B, GH = self.acts.shape
        blocks = self.acts.reshape(T, B, len(self.gate_names), GH // len(self.gate_names))
        return {name: self._public(blocks[:, :, k]) for k, name in enumerate(self.gate_names)}

    def sequence(self, b: int) -> Trace:
        """The trace of sequence ``b`` of a batch, as an unbatched trace (views, no copies)."""
        pick = slice(b, b + 1)
        return Trace(
            arch=self.arch,
            batched=False,
            x=self.x[:, pick],
            h0=self.h0[pick],
            c0=None if self.c0 is None else self.c0[pick],
            hs=self.hs[:, pick],
            cs=None if self.cs is None else self.cs[:, pick],
            acts=self.acts[:, pick],
            gate_names=self.gate_names,
            extra={k: v[:, pick] for k, v in self.extra.items()},
        )


@dataclass(frozen=True, eq=False)
class Grads:
    """The result of backpropagation through time; shapes follow the trace (batch axis or not).

    ``x`` is computed on first use (one (T*B, G*H) x (G*H, I) matmul), as PyTorch computes dL/dx
    only for an input that requires grad: training never asks for it.
    """

    h: np.ndarray  # (T, [B], H) total dL/dh_t, through the outputs and through time
    c: np.ndarray | None  # (T, [B], H) total dL/dc_t, LSTM only
    h0: np.ndarray  # ([B], H)
    c0: np.ndarray | None  # ([B], H), LSTM only
    params: dict[str, np.ndarray]  # same names and shapes as the parameters
    da_x: np.ndarray = field(repr=False)  # (T, [B], G*H) dL/d(W_ih x_t + b_ih)
    weight_ih: np.ndarray = field(repr=False)  # (G*H, I)

    @cached_property
    def x(self) -> np.ndarray:
        """dL/dx_t, (T, [B], I)."""
        return self.da_x @ self.weight_ih


def equation_rows(latex: str) -> tuple[tuple[str, str], ...]:
    """The rows of a cell's :attr:`Cell.equations`, each as (left side, right side): ``latex`` is one
    ``aligned`` block of rows ``lhs &= rhs`` separated by ``\\\\``. Raises ValueError otherwise."""
    begin, end = r"\begin{aligned}", r"\end{aligned}"
    body = latex.strip()
    if not (body.startswith(begin) and body.endswith(end)):
        raise ValueError(f"equations are one {begin} ... {end} block")
    rows = []
    for row in body[len(begin):-len(end)].split("\\\\"):
        left, equals, right = row.partition("&=")
        if not equals or "&" in right or not left.strip() or not right.strip():
            raise ValueError(f"an equation row is 'lhs &= rhs', got {row.strip()!r}")
        rows.append((left.strip(), right.strip()))
    return tuple(rows)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, written through tanh so it never overflows."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)


class Cell:
    """A recurrent cell with fixed parameters. Subclasses implement the equations and state their
    facts as class attributes (checked when the class is defined):

    ``arch``: the registry name ("lstm"); ``display_name`` ("LSTM"); ``paper`` (who, when);
    ``gate_names``: the gate blocks in the weights' row order (torch's order: i, f, g, o);
    ``gates``: a :class:`Gate` per block, in the order pages show them (sigmoid gates first);
    ``states``: the state vectors, ("c", "h") or ("h",); ``memory_gate``: the gate whose running
    product is the direct path of memory from step to step (the LSTM's f, the GRU's z; None for the
    tanh RNN), and ``memory_keeps_complement`` if that path is 1 - gate instead;
    ``dataflow``: the step as a graph (:class:`~cells.core.dataflow.Dataflow`): which vectors feed
    which layer (a gate's box), which pointwise operation joins them, down to the new states; what
    a diagram of the cell draws, evaluated unit by unit to the step's own c_t and h_t;
    ``equations``: LaTeX, one ``aligned`` block of rows ``lhs &= rhs`` (:func:`equation_rows`),
    among them the memory state's update (``c_t &= ...`` or ``h_t &= ...``, which becomes
    ``memory_equation``); ``equation_lines``: the same in the papers' subscripted form for one
    unit, with ``{f}``, ``{c}``, ``{cprev}``, ``{h}``, ``{hprev}`` placeholders for a step's
    numbers; ``keras_blocks``: the Keras block index of each block (None: Keras has no such layer);
    ``chrono``: (gate, sign) pairs, the chrono initialisation's bias rule (Tallec & Ollivier 2018);
    ``forget_bias_gate``: the gate whose bias ``init_params(forget_bias=...)`` sets;
    ``torch_module``: the ``torch.nn`` class with the same equations and layout, if any;
    ``keras_bias_rows``: the rows of the Keras layer's bias (the GRU's reset_after=True: 2);
    ``param_names``: one layer's arrays (torch's four; a projected LSTM adds ``weight_hr_l0``);
    ``projected``: h_t is a projection of the units' outputs (its own width, ``output_size``).

    Subclasses implement ``step``, ``forward``, ``backward``, ``_local_derivatives`` and
    ``_back_step`` (the vector-Jacobian product of one time step, shared by ``backward`` and by
    ``cells.jacobian_norms``).
    """

    arch: ClassVar[str]
    display_name: ClassVar[str]
    paper: ClassVar[str]
    gate_names: ClassVar[tuple[str, ...]]
    gates: ClassVar[tuple[Gate, ...]]
    states: ClassVar[tuple[str, ...]] = ("h",)
    memory_gate: ClassVar[str | None] = None
    memory_keeps_complement: ClassVar[bool] = False
    dataflow: ClassVar[Dataflow]
    equations: ClassVar[str]
    equation_lines: ClassVar[tuple[str, ...]]
    keras_blocks: ClassVar[tuple[int, ...] | None] = None
    chrono: ClassVar[tuple[tuple[str, float], ...]] = ()
    forget_bias_gate: ClassVar[str | None] = None
    torch_module: ClassVar[str | None] = None
    keras_bias_rows: ClassVar[int] = 1  # Keras's bias: one (G*U,) row; the GRU's reset_after: two
    param_names: ClassVar[tuple[str, ...]] = PARAM_NAMES  # one layer's arrays, torch's names
    projected: ClassVar[bool] = False  # h_t is a projection (the LSTM's proj_size): c and the gates
    # have hidden_size units, h has output_size
    # Derived from the facts above when the class is defined:
    blocks: ClassVar[int]  # G: the rows of weight_ih are G blocks of H (the tanh RNN: 1)
    has_cell_state: ClassVar[bool]
    sigmoid_gates: ClassVar[tuple[str, ...]]  # the sigmoid gates, in display order
    memory_state: ClassVar[str]  # the state memory runs along: c if the cell has one, else h
    memory_equation: ClassVar[str]  # LaTeX of the row of the equations that updates memory_state

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not hasattr(cls, "arch"):
            return  # a family of cells (cells.lstm_variants.LSTMVariant): its members state the facts
        names = set(cls.gate_names)
        if {g.name for g in cls.gates} != names or len(cls.gates) != len(cls.gate_names):
            raise TypeError(f"{cls.__name__}: gates must describe each of {cls.gate_names} once")
        if any(g.role not in (SIGMOID, CANDIDATE) for g in cls.gates):
            raise TypeError(f"{cls.__name__}: a gate's role is {SIGMOID!r} or {CANDIDATE!r}")
        for gate in (cls.memory_gate, cls.forget_bias_gate, *(g for g, _ in cls.chrono)):
            if gate is not None and gate not in names:
                raise TypeError(f"{cls.__name__}: {gate!r} is not one of its gates {cls.gate_names}")
        if cls.states not in (("h",), ("c", "h")):
            raise TypeError(f"{cls.__name__}: states are ('h',) or ('c', 'h')")
        problems = cls.dataflow.problems(cls.states, cls.gate_names)
        for g in () if problems else cls.gates:  # each gate is a layer: σ for a sigmoid gate only
            if g.sigmoid != (cls.dataflow.node(g.name).activation == SIGMA):
                problems.append(f"the {g.role} gate {g.name!r} is not drawn as its role says")
        if problems:
            raise TypeError(f"{cls.__name__}: its dataflow: {'; '.join(problems)}")
        cls.blocks = max(1, len(cls.gate_names))
        cls.has_cell_state = "c" in cls.states
        cls.sigmoid_gates = tuple(g.name for g in cls.gates if g.sigmoid)
        cls.memory_state = cls.states[0]
        try:
            rows = equation_rows(cls.equations)
        except ValueError as e:
            raise TypeError(f"{cls.__name__}: {e}") from None
        updates = [f"{left} = {right}" for left, right in rows if left == f"{cls.memory_state}_t"]
        if len(updates) != 1:
            raise TypeError(f"{cls.__name__}: its equations update {cls.memory_state}_t in one row")
        cls.memory_equation = updates[0]
        if cls.keras_blocks is not None and sorted(cls.keras_blocks) != list(range(cls.blocks)):
            raise TypeError(f"{cls.__name__}: keras_blocks must order its {cls.blocks} blocks")

    @classmethod
    def param_shapes(cls, H: int, params: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
        """The shape each array but weight_ih_l0 must have, for H units (from weight_ih_l0)."""
        G = cls.blocks
        return {"weight_hh_l0": (G * H, H), "bias_ih_l0": (G * H,), "bias_hh_l0": (G * H,)}

    @classmethod
    def for_params(cls, params: dict[str, np.ndarray]) -> type[Cell]:
        """The class that reads one layer's ``params``: this one (the LSTM: its projected form
        when they hold ``weight_hr_l0``)."""
        return cls

    def _input_da(self, local: dict[str, np.ndarray], t: int, dh: np.ndarray, da: np.ndarray,
                  out: np.ndarray) -> np.ndarray:
        """dL/d(W_ih x_t + b_ih) of step t, given what ``_back_step`` wrote into ``da`` for the total
        ``dh``: ``da`` itself for a cell whose two sides share their pre-activation; a cell whose
        sides differ (the GRU's n) writes it into ``out`` (shaped like ``da``). dL/dx_t is this
        times weight_ih."""
        return da

    def zero_state(self, batch: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(h, c) zeros for ``step``: (H,) each, or (B, H) for a batch; c is None without a cell
        state. A stack's are (L, [B,] H)."""
        batch_shape = () if batch is None else (batch,)
        h = np.zeros((*batch_shape, self.output_size), dtype=self.dtype)
        c = np.zeros((*batch_shape, self.hidden_size), dtype=self.dtype) if self.has_cell_state else None
        return h, c

    def memory_path(self, trace: Trace) -> np.ndarray | None:
        """(T, [B], H) the factor d s_t / d s_{t-1} along the memory state's direct path (s = c or
        h, see :attr:`memory_state`): the memory gate, or 1 - it; None for a cell without one."""
        if self.memory_gate is None:
            return None
        gate = trace.gates[self.memory_gate]
        return 1.0 - gate if self.memory_keeps_complement else gate

    def __init__(self, params: dict[str, np.ndarray]):
        self.params = check_params(type(self), params)
        W_ih = self.params["weight_ih_l0"]
        self.sizes = CellSizes(input_size=W_ih.shape[1], hidden_size=W_ih.shape[0] // self.blocks)
        self.dtype = W_ih.dtype

    @property
    def input_size(self) -> int:
        return self.sizes.input_size

    @property
    def hidden_size(self) -> int:
        return self.sizes.hidden_size

    @property
    def output_size(self) -> int:
        """The width of h_t, what a layer above or a head reads: H (a projected LSTM: its P)."""
        return self.sizes.hidden_size

    @property
    def num_params(self) -> int:
        return sum(p.size for p in self.params.values())

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"dtype={self.dtype}, params={self.num_params})"
        )

    # -- shape handling shared by the cells -------------------------------------------------------

    def _batch_inputs(self, x: np.ndarray) -> tuple[np.ndarray, bool]:
        """(T, I) or (T, B, I) -> (T, B, I) in the cell's dtype, and whether it was batched."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim == 2:
            x, batched = x[:, None, :], False
        elif x.ndim == 3:
            batched = True
        else:
            raise ValueError(f"x must be (T, I) or (T, B, I), got shape {x.shape}")
        if x.shape[2] != self.input_size:
            raise ValueError(f"x has {x.shape[2]} features, the cell expects {self.input_size}")
        return x, batched

    def _initial_state(self, s: np.ndarray | None, B: int, name: str) -> np.ndarray:
        """h0 or c0 as (B, H) (a projected LSTM's h0: (B, P)): zeros when not given; (H,) accepted
        for a single sequence."""
        H = self.output_size if name == "h0" else self.hidden_size
        if s is None:
            return np.zeros((B, H), dtype=self.dtype)
        s = np.asarray(s, dtype=self.dtype)
        s = s.reshape(1, H) if s.shape == (H,) and B == 1 else s
        if s.shape != (B, H):
            raise ValueError(f"{name} must have shape {(B, H)}, got {s.shape}")
        return s

    def _backward_inputs(self, trace: Trace, dh: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Check a backward call: dh (shaped like trace.h) as (T, B, H), and the trace's per-step
        chain-rule factors (``_local_derivatives``)."""
        if trace.arch != self.arch or trace.hs.shape[2] != self.output_size:
            raise ValueError(f"this trace was not made by this {self.arch} cell")
        dh = np.asarray(dh, dtype=self.dtype)
        if dh.shape != trace.h.shape:
            raise ValueError(f"dh must have the shape of trace.h {trace.h.shape}, got {dh.shape}")
        return (dh if trace.batched else dh[:, None, :]), self._local_derivatives(trace)

    def _grads(
        self,
        trace: Trace,
        dH: np.ndarray,
        dC: np.ndarray | None,
        da_x: np.ndarray,
        dh0: np.ndarray,
        dc0: np.ndarray | None,
        params: dict[str, np.ndarray],
    ) -> Grads:
        public = trace._public
        return Grads(
            h=public(dH),
            c=None if dC is None else public(dC),
            h0=dh0 if trace.batched else dh0[0],
            c0=None if dc0 is None else (dc0 if trace.batched else dc0[0]),
            params=params,
            da_x=public(da_x),
            weight_ih=self.params["weight_ih_l0"],
        )


def previous_states(s0: np.ndarray, ss: np.ndarray) -> np.ndarray:
    """The state entering each step: s_{t-1} for t = 0..T-1, i.e. [s0, s_0, ..., s_{T-2}]. (T, B, H)"""
    return np.concatenate([s0[None], ss[:-1]], axis=0)


def check_params(cls: type[Cell], params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Validate a torch-named parameter dict for cell class ``cls`` (its ``param_names`` and
    ``param_shapes``); returns read-only float arrays (copies).

    A bad dict is a ValueError that names the key and says why.
    """
    arch, G = cls.arch, cls.blocks
    if not isinstance(params, dict):
        raise ValueError(f"parameters must be a dict of arrays, got {type(params).__name__}")
    missing = [k for k in cls.param_names if k not in params]
    if missing:
        raise ValueError(f"{arch} parameters: missing key(s) {', '.join(missing)}")
    unknown = sorted(set(map(str, params)) - set(cls.param_names))
    if unknown:
        raise ValueError(
            f"{arch} parameters: unexpected key(s) {', '.join(unknown)} "
            f"(one layer of this cell has {', '.join(cls.param_names)})"
        )
    out = {}
    for k in cls.param_names:
        a = np.asarray(params[k])
        if a.dtype.kind not in "fiu":
            raise ValueError(f"{k}: expected a real floating-point array, got dtype {a.dtype}")
        if a.dtype not in FLOAT_DTYPES:
            a = a.astype(np.float64)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{k}: contains NaN or infinity")
        out[k] = a
    W_ih = out["weight_ih_l0"]
    if W_ih.ndim != 2 or W_ih.shape[0] == 0 or W_ih.shape[0] % G or W_ih.shape[1] == 0:
        raise ValueError(f"weight_ih_l0: expected shape ({G}*H, I) for {arch}, got {W_ih.shape}")
    H = W_ih.shape[0] // G
    for k, shape in cls.param_shapes(H, out).items():
        if out[k].shape != shape:
            raise ValueError(f"{k}: expected shape {shape} (H={H} from weight_ih_l0), got {out[k].shape}")
    dtypes = {a.dtype for a in out.values()}
    if len(dtypes) > 1:
        raise ValueError(f"parameters mix dtypes {sorted(map(str, dtypes))}: use one")
    for k in out:
        out[k] = np.array(out[k], copy=True)
        out[k].flags.writeable = False
    return out
