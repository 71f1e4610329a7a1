"""Bidirectional layers: each layer is two cells of one class, one reading the sequence from the
first token to the last, the other from the last token to the first.

Schuster & Paliwal (1997), "Bidirectional Recurrent Neural Networks"; Graves & Schmidhuber (2005)
for the LSTM. In PyTorch's form (``torch.nn.LSTM/GRU/RNN(bidirectional=True, num_layers=L)``, no
dropout between layers):

    f^(k)_t = cell_k(y^(k-1)_t, f^(k)_{t-1})            forward direction, t = 0 .. T-1
    b^(k)_t = cell_k'(y^(k-1)_t, b^(k)_{t+1})           backward direction, t = T-1 .. 0
    y^(k)_t = [f^(k)_t ; b^(k)_t]                       (2P,): what layer k+1 reads (y^(-1) = x)
    output_t = y^(L-1)_t                                what torch returns: rnn(x)[0], (T, 2P)

P is each direction's output size (H, or a projected LSTM's P). Parameters keep torch's names:
layer k's forward cell has ``weight_ih_l{k}`` ..., its backward cell the same names with
``_reverse`` (``weight_ih_l{k}_reverse``); layer k > 0 reads 2P numbers. Initial states are
torch's h_0 and c_0, (2L, [B], P) layer by layer, forward then backward (row 2k + d).

Each direction is an ordinary cell run over its own reading order, so its trace is an ordinary
:class:`~cells.core.cell.Trace` whose step s read token s (forward) or token T-1-s (backward);
:meth:`BidirectionalTrace.aligned` gives either in the sequence's order. The backward pass is
exact: each direction's BPTT over its reading order, the gradient reaching a layer's input being
the sum of both directions', from the top layer down.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from cells.core.cell import Cell, Grads, Trace
from cells.core.stack import REVERSE, build_layers, check_sizes, layer_key

DIRECTIONS = ("forward", "backward")
"""The two directions, by index: 0 reads tokens 0..T-1, 1 reads T-1..0."""
SUFFIXES = ("", REVERSE)
"""Each direction's suffix on torch's parameter names."""


def in_reading_order(a: np.ndarray, direction: int) -> np.ndarray:
    """``a`` (T, ...) in time order, as direction ``direction`` reads it (a view): reversed in time
    for the backward direction. Its own inverse."""
    return a[::-1] if direction else a


@dataclass(frozen=True, eq=False)
class BidirectionalTrace:
    """A bidirectional stack's forward pass.

    ``layers[k]`` = (forward, backward): layer k's two Traces, each in its own reading order (the
    backward one's step s read token T-1-s); ``outputs[k]``: layer k's output y^(k), (T, [B], 2P)
    in time order. ``h`` is the top output: forward half, then backward half, torch's
    ``rnn(x)[0]``.
    """

    arch: str
    batched: bool
    layers: tuple[tuple[Trace, Trace], ...]
    outputs: tuple[np.ndarray, ...]

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def length(self) -> int:
        return self.outputs[-1].shape[0]

    @property
    def h(self) -> np.ndarray:
        """The top layer's output, (T, [B], 2P): forward half then backward half."""
        return self.outputs[-1]

    @property
    def inputs(self) -> np.ndarray:
        """The input x, (T, [B], I)."""
        forward = self.layers[0][0]
        return forward._public(forward.x)  # the forward direction read x as it is

    def aligned(self, layer: int, direction: int) -> Trace:
        """Layer ``layer``'s trace of direction ``direction`` (0 forward, 1 backward) in the
        sequence's order: row t is the state after reading token t (the backward direction: after
        reading from the last token back to token t). Views, for display; ``h0``/``c0`` stay the
        state it started from."""
        trace = self.layers[layer][direction]
        if not direction:
            return trace
        def flip(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[::-1]

        return Trace(trace.arch, trace.batched, flip(trace.x), trace.h0, trace.c0, flip(trace.hs),
                     flip(trace.cs), flip(trace.acts), trace.gate_names,
                     {k: flip(v) for k, v in trace.extra.items()})

    @property
    def h_n(self) -> np.ndarray:
        """Every layer's and direction's last hidden state, (2L, [B], P): torch's h_n (the
        backward direction's last state is the one after token 0)."""
        return np.stack([d.h[-1] for pair in self.layers for d in pair])

    @property
    def c_n(self) -> np.ndarray | None:
        """Every layer's and direction's last cell state, (2L, [B], H): torch's c_n (LSTM only)."""
        if self.layers[0][0].c is None:
            return None
        return np.stack([d.c[-1] for pair in self.layers for d in pair])

    def sequence(self, b: int) -> BidirectionalTrace:
        """The trace of sequence ``b`` of a batch, unbatched (views, no copies)."""
        return BidirectionalTrace(self.arch, False,
                                  tuple((f.sequence(b), r.sequence(b)) for f, r in self.layers),
                                  tuple(y[:, b] for y in self.outputs))


@dataclass(frozen=True, eq=False)
class BidirectionalGrads:
    """A bidirectional stack's gradients. ``params``: every layer's and direction's, under
    torch's names; ``x``: dL/dx (T, [B], I); ``h0``, ``c0``: (2L, [B], P / H) in torch's order;
    ``layers[k]``: layer k's (forward, backward) :class:`Grads`, each in its reading order."""

    layers: tuple[tuple[Grads, Grads], ...]
    params: dict[str, np.ndarray]

    @cached_property
    def x(self) -> np.ndarray:
        forward, backward = self.layers[0]
        return forward.x + backward.x[::-1]

    @cached_property
    def h0(self) -> np.ndarray:
        return np.stack([g.h0 for pair in self.layers for g in pair])

    @cached_property
    def c0(self) -> np.ndarray | None:
        if self.layers[0][0].c0 is None:
            return None
        return np.stack([g.c0 for pair in self.layers for g in pair])


class Bidirectional:
    """L layers of two cells of one class, as ``torch.nn.LSTM/GRU/RNN(bidirectional=True,
    num_layers=L)``: see the module docstring.

    Like a :class:`~cells.core.stack.Stack` it states its cell class's facts (``arch``,
    ``gates``, ``equations``, ...). ``hidden_size`` is each direction's H; ``output_size`` is 2P,
    the width of its output; ``direction_size`` is P.
    """

    directions = DIRECTIONS

    def __init__(self, cell_class: type[Cell], params: dict[str, np.ndarray]):
        layers = build_layers(cell_class, params, SUFFIXES)
        check_sizes(layers, 2 * layers[0][0].output_size)
        if len({cell.dtype for pair in layers for cell in pair}) > 1:
            raise ValueError("the layers' parameters mix dtypes: use one")
        self.cell_class = type(layers[0][0])
        self.layers: tuple[tuple[Cell, Cell], ...] = tuple((f, b) for f, b in layers)
        self.params = {layer_key(name, k, s): a for k, pair in enumerate(self.layers)
                       for s, cell in zip(SUFFIXES, pair, strict=True) for name, a in cell.params.items()}

    def __getattr__(self, name: str):
        """The cell class's facts: ``arch``, ``gates``, ``equations``, ``has_cell_state``, ..."""
        if name.startswith("__") or name == "cell_class":
            raise AttributeError(name)
        try:
            return getattr(self.cell_class, name)
        except AttributeError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}") from None

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def input_size(self) -> int:
        return self.layers[0][0].input_size

    @property
    def hidden_size(self) -> int:
        return self.layers[0][0].hidden_size

    @property
    def direction_size(self) -> int:
        """P: the width of one direction's h_t."""
        return self.layers[0][0].output_size

    @property
    def output_size(self) -> int:
        """2P: the width of the output, both directions side by side."""
        return 2 * self.direction_size

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0][0].dtype

    @property
    def num_params(self) -> int:
        return sum(cell.num_params for pair in self.layers for cell in pair)

    def __repr__(self) -> str:
        return (f"Bidirectional({self.cell_class.__name__}, num_layers={self.num_layers}, input_size="
                f"{self.input_size}, hidden_size={self.hidden_size}, dtype={self.dtype}, "
                f"params={self.num_params})")

    def _states(self, s: np.ndarray | None, name: str) -> list[np.ndarray | None]:
        """h0 or c0, (2L, [B], ·) in torch's order, as one entry per layer and direction."""
        if s is None:
            return [None] * (2 * self.num_layers)
        s = np.asarray(s)
        if s.ndim not in (2, 3) or s.shape[0] != 2 * self.num_layers:
            raise ValueError(f"{name} must have shape (2L, H) or (2L, B, H) with 2L = "
                             f"{2 * self.num_layers} (layer by layer, forward then backward), got {s.shape}")
        return list(s)

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None,
                c0: np.ndarray | None = None) -> BidirectionalTrace:
        """Run x, (T, I) or (T, B, I), from h0 (and c0), (2L, [B], P) (zeros if None)."""
        if c0 is not None and not self.has_cell_state:
            raise ValueError(f"a {self.display_name} has no cell state: c0 must be None")
        h0s, c0s = self._states(h0, "h0"), self._states(c0, "c0")
        inputs = np.asarray(x, dtype=self.dtype)  # (T, [B], I)
        traces, outputs = [], []
        for k, pair in enumerate(self.layers):
            runs = tuple(cell.forward(in_reading_order(inputs, d), h0s[2 * k + d], c0s[2 * k + d])
                         for d, cell in enumerate(pair))
            traces.append(runs)
            inputs = np.concatenate([in_reading_order(run.h, d) for d, run in enumerate(runs)], axis=-1)
            outputs.append(inputs)  # (T, [B], 2P): the next layer's input
        return BidirectionalTrace(self.arch, traces[0][0].batched, tuple(traces), tuple(outputs))

    def backward(self, trace: BidirectionalTrace, dh: np.ndarray) -> BidirectionalGrads:
        """Exact BPTT through both directions of every layer. dh: dL/d output_t from outside,
        shaped like trace.h (T, [B], 2P); the layers below get theirs through both directions'
        inputs."""
        if not isinstance(trace, BidirectionalTrace) or trace.num_layers != self.num_layers:
            raise ValueError(f"this trace was not made by this {self.num_layers}-layer bidirectional stack")
        dy = np.asarray(dh, dtype=self.dtype)
        if dy.shape != trace.h.shape:
            raise ValueError(f"dh must have the shape of trace.h {trace.h.shape}, got {dy.shape}")
        P = self.direction_size
        grads: list[tuple[Grads, Grads]] = []
        for k in reversed(range(self.num_layers)):
            halves = (dy[..., :P], dy[..., P:])  # dL/d f^(k)_t, dL/d b^(k)_t from above
            pair = tuple(cell.backward(run, in_reading_order(halves[d], d))
                         for d, (cell, run) in enumerate(zip(self.layers[k], trace.layers[k], strict=True)))
            grads.append(pair)
            if k:  # dL/dy^(k-1)_t: through both directions' inputs, in time order
                dy = pair[0].x + in_reading_order(pair[1].x, 1)
        grads.reverse()
        params = {layer_key(name, k, s): a for k, pair in enumerate(grads)
                  for s, g in zip(SUFFIXES, pair, strict=True) for name, a in g.params.items()}
        return BidirectionalGrads(tuple(grads), params)

    def step(self, *args, **kwargs):
        raise ValueError("a bidirectional model reads the whole sequence at once (its backward "
                         "direction starts at the last token): it has no step by step reading")

    zero_state = step

    def memory_path(self, trace: Trace) -> np.ndarray | None:
        """The memory path (see :meth:`Cell.memory_path`) of one direction's ``trace``."""
        return self.layers[-1][0].memory_path(trace)
