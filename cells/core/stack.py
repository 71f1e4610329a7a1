"""Stacked cells: L layers of one cell, each reading the hidden states of the one below.

Graves, Mohamed & Hinton (2013), "Speech Recognition with Deep Recurrent Neural Networks", in
PyTorch's form (``torch.nn.LSTM/GRU/RNN(num_layers=L)``, no dropout between layers):

    h^(0)_t = cell_0(x_t, h^(0)_{t-1})                  layer 0 reads the input
    h^(k)_t = cell_k(h^(k-1)_t, h^(k)_{t-1})            layer k reads the layer below, k = 1..L-1
    output_t = h^(L-1)_t                                what torch returns: the top layer's states

Parameters keep torch's names, one set per layer: ``weight_ih_l{k}`` (G*H, I_k) with I_0 = I and
I_k = H above, ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (G*H,). Every layer
has the same H, as in torch. Initial states are stacked by layer, (L, H) or (L, B, H), as torch's
h_0 and c_0.

The backward pass is exact: each layer's BPTT (its cell's own ``backward``) from the top down, the
gradient reaching a layer's inputs being the one the layer below receives from outside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from cells.core.cell import PARAM_NAMES, Cell, Grads, Trace

_LAYER_KEY = re.compile(r"(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?")
REVERSE = "_reverse"
"""torch's suffix of a bidirectional layer's backward direction: ``weight_ih_l0_reverse``."""


def layer_count(params: dict[str, np.ndarray]) -> int:
    """L, the number of layers named in a torch-style dict (1 + the largest ``_l{k}``; 1 if none)."""
    ks = [int(m.group(2)) for key in params if isinstance(key, str) and (m := _LAYER_KEY.fullmatch(key))]
    return 1 + max(ks, default=0)


def layer_key(name: str, k: int, suffix: str = "") -> str:
    """The name of one layer's array ``name`` (an ``_l0`` name) for layer ``k``: ``weight_ih_l{k}``
    (``suffix`` ``_reverse``: its backward direction's)."""
    return name.replace("_l0", f"_l{k}") + suffix


def layer_params(params: dict[str, np.ndarray], k: int, names: tuple[str, ...] = PARAM_NAMES,
                 suffix: str = "") -> dict[str, np.ndarray]:
    """Layer ``k``'s arrays ``names`` (its direction ``suffix``'s) renamed to ``_l0``: a one-layer
    cell's parameters."""
    return {name: params[layer_key(name, k, suffix)] for name in names}


def build_layers(cell_class: type[Cell], params: dict[str, np.ndarray], suffixes: tuple[str, ...]
                 ) -> list[list[Cell]]:
    """Every layer's cells, one per direction ``suffix`` ("" forward, ``_reverse`` backward), from
    a torch-named dict: checked for missing and unknown keys, each layer's cell by its class."""
    if not isinstance(params, dict):
        raise ValueError(f"parameters must be a dict of arrays, got {type(params).__name__}")
    cls = cell_class.for_params(params)
    L = layer_count(params)
    expected = [layer_key(name, k, s) for k in range(L) for s in suffixes for name in cls.param_names]
    missing = [k for k in expected if k not in params]
    if missing:
        named = sorted(k for k in params if isinstance(k, str) and f"_l{L - 1}" in k)
        raise ValueError(f"{cls.arch} parameters: {', '.join(named)} name(s) layer {L - 1}, so "
                         f"there are {L} layers, but key(s) {', '.join(missing)} are missing")
    unknown = sorted(map(str, set(params) - set(expected)))
    if unknown:
        raise ValueError(
            f"{cls.arch} parameters: unexpected key(s) {', '.join(unknown)} (each layer has "
            f"{', '.join(cls.param_names)} with _l0 for layer 0, _l1 above it"
            + (", and the same with _reverse for its backward direction)" if len(suffixes) > 1 else ")"))
    layers = []
    for k in range(L):
        layers.append([])
        for s in suffixes:
            try:
                layers[-1].append(cls(layer_params(params, k, cls.param_names, s)))
            except ValueError as e:
                raise ValueError(f"layer {k}{' (backward direction)' if s else ''}: "
                                 f"{str(e).replace('_l0', f'_l{k}{s}')}") from e
    return layers


def check_sizes(layers: list[list[Cell]], inputs_above: int) -> None:
    """Every cell of a stack has layer 0's units, and layer k > 0 reads ``inputs_above`` numbers
    (the outputs of the layer below: H, or 2H from both directions)."""
    first = layers[0][0]
    for k, cells_k in enumerate(layers):
        for cell in cells_k:
            if cell.hidden_size != first.hidden_size or cell.output_size != first.output_size:
                raise ValueError(f"layer {k} has {cell.hidden_size} units, layer 0 has "
                                 f"{first.hidden_size}: every layer of a stack has the same hidden size")
            if k and cell.input_size != inputs_above:
                raise ValueError(f"weight_ih_l{k}: layer {k} reads the {inputs_above} outputs of the "
                                 f"layer below, so its shape is ({cell.blocks}*{cell.hidden_size}, "
                                 f"{inputs_above}), got ({cell.blocks * cell.hidden_size}, "
                                 f"{cell.input_size})")


@dataclass(frozen=True, eq=False)
class StackTrace(Trace):
    """A stack's forward pass. As a :class:`Trace` it is the top layer's (``h``, ``c``, ``gates``:
    what torch returns, and what pages that show one layer show); ``layers[k]`` is layer k's own
    Trace, gates included; ``layers[0].x`` holds the stack's input."""

    layers: tuple[Trace, ...] = field(default=())

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def inputs(self) -> np.ndarray:
        """The stack's input x, (T, [B], I)."""
        return self.layers[0]._public(self.layers[0].x)

    @property
    def h_n(self) -> np.ndarray:
        """Every layer's last hidden state, (L, [B], H): torch's h_n."""
        return np.stack([layer.h[-1] for layer in self.layers])

    @property
    def c_n(self) -> np.ndarray | None:
        """Every layer's last cell state, (L, [B], H): torch's c_n (LSTM only)."""
        if self.cs is None:
            return None
        return np.stack([layer.c[-1] for layer in self.layers])

    def sequence(self, b: int) -> StackTrace:
        """The trace of sequence ``b`` of a batch, unbatched (views, no copies)."""
        return _stack_trace(tuple(layer.sequence(b) for layer in self.layers))


def _stack_trace(layers: tuple[Trace, ...]) -> StackTrace:
    top = layers[-1]
    return StackTrace(top.arch, top.batched, top.x, top.h0, top.c0, top.hs, top.cs, top.acts,
                      top.gate_names, top.extra, layers)


@dataclass(frozen=True, eq=False)
class StackGrads:
    """A stack's gradients. ``params``: every layer's, under torch's names (``weight_ih_l{k}``...);
    ``x``: dL/dx (T, [B], I); ``h0``, ``c0``: (L, [B], H); ``h``, ``c``: the top layer's totals
    dL/dh_t, dL/dc_t (T, [B], H); ``layers[k]``: layer k's own :class:`Grads`."""

    layers: tuple[Grads, ...]
    params: dict[str, np.ndarray]

    @property
    def h(self) -> np.ndarray:
        return self.layers[-1].h

    @property
    def c(self) -> np.ndarray | None:
        return self.layers[-1].c

    @cached_property
    def x(self) -> np.ndarray:
        return self.layers[0].x

    @cached_property
    def h0(self) -> np.ndarray:
        return np.stack([g.h0 for g in self.layers])

    @cached_property
    def c0(self) -> np.ndarray | None:
        return None if self.layers[0].c0 is None else np.stack([g.c0 for g in self.layers])


class Stack:
    """L cells of one class, stacked as ``torch.nn.LSTM/GRU/RNN(num_layers=L)``.

    The stack states its cell class's facts (``arch``, ``gates``, ``display_name``, ``equations``,
    ...: any class attribute of :attr:`cell_class`) and has a cell's sizes and parameters.
    ``hidden_size`` is every layer's H; ``input_size`` is layer 0's I.
    """

    def __init__(self, cell_class: type[Cell], params: dict[str, np.ndarray]):
        layers = [cells_k[0] for cells_k in build_layers(cell_class, params, ("",))]
        check_sizes([[layer] for layer in layers], layers[0].output_size)
        if len({layer.dtype for layer in layers}) > 1:
            raise ValueError("the layers' parameters mix dtypes: use one")
        self.cell_class = type(layers[0])
        self.layers: tuple[Cell, ...] = tuple(layers)
        self.params = {layer_key(name, k): a
                       for k, layer in enumerate(layers) for name, a in layer.params.items()}

    def __getattr__(self, name: str):
        # The cell class's facts (arch, gates, display_name, ...), as a Cell states them.
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
    def top(self) -> Cell:
        """The top layer's cell: the one whose states the stack returns."""
        return self.layers[-1]

    @property
    def input_size(self) -> int:
        return self.layers[0].input_size

    @property
    def hidden_size(self) -> int:
        return self.layers[0].hidden_size

    @property
    def output_size(self) -> int:
        """The width of the top layer's h_t: what the stack outputs."""
        return self.top.output_size

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].dtype

    @property
    def sizes(self):
        return self.layers[0].sizes

    @property
    def num_params(self) -> int:
        return sum(layer.num_params for layer in self.layers)

    def __repr__(self) -> str:
        return (f"Stack({self.cell_class.__name__}, num_layers={self.num_layers}, input_size="
                f"{self.input_size}, hidden_size={self.hidden_size}, dtype={self.dtype}, "
                f"params={self.num_params})")

    # -- forward and backward ---------------------------------------------------------------------

    def _layer_states(self, s: np.ndarray | None, name: str) -> list[np.ndarray | None]:
        """h0 or c0, (L, H) or (L, B, H), as one entry per layer (None: zeros)."""
        if s is None:
            return [None] * self.num_layers
        s = np.asarray(s)
        if s.ndim not in (2, 3) or s.shape[0] != self.num_layers:
            raise ValueError(f"{name} must have shape (L, H) or (L, B, H) with L={self.num_layers}, "
                             f"got {s.shape}")
        return list(s)

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None,
                c0: np.ndarray | None = None) -> StackTrace:
        """Run x, (T, I) or (T, B, I), from h0 (and c0), (L, [B], H) (zeros if None)."""
        if c0 is not None and not self.has_cell_state:
            raise ValueError(f"a {self.display_name} has no cell state: c0 must be None")
        h0s, c0s = self._layer_states(h0, "h0"), self._layer_states(c0, "c0")
        traces = []
        inputs = x
        for layer, h, c in zip(self.layers, h0s, c0s, strict=True):
            trace = layer.forward(inputs, h, c)
            traces.append(trace)
            inputs = trace.h  # (T, [B], H): the next layer's input
        return _stack_trace(tuple(traces))

    def backward(self, trace: StackTrace, dh: np.ndarray) -> StackGrads:
        """Exact BPTT through every layer. dh: dL/dh_t of the top layer from outside, shaped like
        trace.h; the layers below get theirs through the layer above's inputs."""
        if not isinstance(trace, StackTrace) or trace.num_layers != self.num_layers:
            raise ValueError(f"this trace was not made by this {self.num_layers}-layer stack")
        grads: list[Grads] = []
        for layer, layer_trace in zip(reversed(self.layers), reversed(trace.layers), strict=True):
            g = layer.backward(layer_trace, dh)
            grads.append(g)
            dh = g.x if len(grads) < self.num_layers else None  # dL/dh^(k-1)_t through layer k
        grads.reverse()
        params = {layer_key(name, k): a for k, g in enumerate(grads) for name, a in g.params.items()}
        return StackGrads(tuple(grads), params)

    def step(self, x_t: np.ndarray, h: np.ndarray, c: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
        """One token: x_t (I,) or (B, I), h and c (L, H) or (L, B, H) -> (h, c, top layer's gates)."""
        hs, cs, gates = [], [], {}
        inputs = x_t
        for k, layer in enumerate(self.layers):
            h_k, c_k, gates = layer.step(inputs, h[k], None if c is None else c[k])
            hs.append(h_k)
            cs.append(c_k)
            inputs = h_k
        return np.stack(hs), (np.stack(cs) if self.has_cell_state else None), gates

    def zero_state(self, batch: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Zero (h, c), (L, [B], H), c None without a cell state: the state ``step`` starts from
        (a projected LSTM's h: (L, [B], P))."""
        h, c = self.top.zero_state(batch)
        L = self.num_layers
        return np.repeat(h[None], L, axis=0), (None if c is None else np.repeat(c[None], L, axis=0))

    # -- what one-layer code asks of a cell: answered by the top layer -----------------------------

    def memory_path(self, trace: Trace) -> np.ndarray | None:
        """The top layer's memory path (see :meth:`Cell.memory_path`)."""
        return self.top.memory_path(trace)
