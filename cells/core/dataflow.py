"""A cell's step as a dataflow graph: which vectors feed which layer, which pointwise operation
joins them, and what comes out. The picture of every explanation of the LSTM (Olah 2015,
"Understanding LSTM Networks": yellow boxes for the layers, pink circles for the pointwise
operations, lines that copy and merge), as facts a cell states about itself (``Cell.dataflow``).

Two kinds of node, besides the step's inputs (:data:`SOURCES`: x_t, h_{t-1}, c_{t-1}):

* a :class:`Layer`, a box: ``activation(W x_t + U (...) + b)``, through weights, so every unit of
  its inputs reaches every unit of its output (the gates, the candidates; the tanh RNN's h);
* an :class:`Op`, a circle: a pointwise operation (:data:`MUL`, :data:`ADD`, :data:`ONE_MINUS`,
  :data:`TANH`) of the nodes it names, unit by unit.

Given the step's inputs and its layers' outputs (a trace's gates), the ops give every other node,
the new states included (:meth:`Dataflow.values`), and each edge into an op has a local derivative
unit by unit (:meth:`Dataflow.derivatives`); a layer has its activation's slope
(:meth:`Dataflow.slopes`) and reaches its inputs through the weights' transpose. Products of
local derivatives along paths of ops give the direct paths through the cell, the LSTM's
d c_t / d c_{t-1} = f_t among them (:meth:`Dataflow.path_derivative`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

X, H_PREV, C_PREV = "x", "hprev", "cprev"
SOURCES = (X, H_PREV, C_PREV)
"""The step's inputs: x_t, h_{t-1} and c_{t-1} (a cell with a cell state)."""

SIGMA, TANH, IDENTITY = "σ", "tanh", "identity"
"""A layer's activation: the logistic sigmoid, tanh, or none (the pre-activation itself)."""
MUL, ADD, ONE_MINUS = "×", "+", "1−"
"""Pointwise operations (with :data:`TANH`): a ⊙ b, a + b, 1 - a, tanh(a)."""
ARITY = {MUL: 2, ADD: 2, ONE_MINUS: 1, TANH: 1}
SOURCE_FORMULAS = {X: "x_t", H_PREV: "h_{t−1}", C_PREV: "c_{t−1}"}
STATES = ("c", "h")
"""The new states' names: the nodes that make them are called so."""


@dataclass(frozen=True)
class Layer:
    """A box: ``name`` = ``activation``(W x_t + U (...) + b), reading ``inputs`` through weights."""

    name: str  # a gate's symbol ("f"), or a state the layer makes (the tanh RNN's "h")
    activation: str  # SIGMA, TANH or IDENTITY
    inputs: tuple[str, ...]  # what it reads: sources, other layers or ops ("r" scales the GRU's U h)


@dataclass(frozen=True)
class Op:
    """A circle: ``name`` = ``kind``(``inputs``), unit by unit."""

    name: str
    kind: str  # MUL, ADD, ONE_MINUS or TANH
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Dataflow:
    """A cell's step: its layers and, in the order they are computed, its pointwise ops. The new
    states are the nodes named ``"c"`` and ``"h"`` (an op's or a layer's)."""

    layers: tuple[Layer, ...]
    ops: tuple[Op, ...]

    def node(self, name: str) -> Layer | Op | None:
        """The layer or op called ``name`` (None for a source)."""
        return next((n for n in (*self.layers, *self.ops) if n.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        """Every node the step makes: its layers, then its ops in order."""
        return tuple(n.name for n in (*self.layers, *self.ops))

    def edges(self) -> tuple[tuple[str, str], ...]:
        """Every (input, node) pair: into each layer, then into each op."""
        return tuple((i, n.name) for n in (*self.layers, *self.ops) for i in n.inputs)

    def problems(self, states: tuple[str, ...], gates: tuple[str, ...]) -> list[str]:
        """What is wrong with this dataflow for a cell with these states and gates (empty if
        nothing): unknown names, names made twice, ops used before they are made, bad arities,
        a missing state or gate."""
        sources = {X, H_PREV} | ({C_PREV} if "c" in states else set())
        out = []
        names = self.names
        if len(set(names)) != len(names):
            out.append(f"a name is made twice: {names}")
        if set(names) & set(SOURCES):
            out.append("a node is named like a source")
        made = sources | {layer.name for layer in self.layers}
        for op in self.ops:
            if op.kind not in ARITY or len(op.inputs) != ARITY[op.kind]:
                out.append(f"op {op.name}: {op.kind!r} of {len(op.inputs)} inputs")
            out += [f"op {op.name} reads {i!r} before it is made" for i in op.inputs if i not in made]
            made.add(op.name)
        for layer in self.layers:
            if layer.activation not in (SIGMA, TANH, IDENTITY):
                out.append(f"layer {layer.name}: unknown activation {layer.activation!r}")
            out += [f"layer {layer.name} reads unknown {i!r}" for i in layer.inputs if i not in made]
        out += [f"nothing makes the state {s!r}" for s in states if s not in names]
        out += [f"the gate {g!r} is not a layer" for g in gates if g not in {la.name for la in self.layers}]
        return out

    def values(self, known: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every node's value from ``known``: the sources and each layer's output (any shape, the
        same for all; unit by unit). Returns ``known`` with every op's value added."""
        out = dict(known)
        for op in self.ops:
            a = [out[i] for i in op.inputs]
            if op.kind == MUL:
                out[op.name] = a[0] * a[1]
            elif op.kind == ADD:
                out[op.name] = a[0] + a[1]
            elif op.kind == ONE_MINUS:
                out[op.name] = 1 - a[0]
            else:
                out[op.name] = np.tanh(a[0])
        return out

    def derivatives(self, values: Mapping[str, np.ndarray]) -> dict[tuple[str, str], np.ndarray]:
        """(input, op) -> d op / d input, unit by unit, other inputs held: for every edge into an
        op, from :meth:`values`' nodes."""
        out = {}
        for op in self.ops:
            a = [np.asarray(values[i]) for i in op.inputs]
            if op.kind == MUL:
                slopes = (a[1], a[0])  # d(ab)/da = b, d(ab)/db = a
            elif op.kind == ADD:
                slopes = (np.ones_like(a[0]), np.ones_like(a[1]))
            elif op.kind == ONE_MINUS:
                slopes = (np.full_like(a[0], -1.0),)
            else:
                y = np.asarray(values[op.name])
                slopes = (1 - y * y,)  # tanh'(a) = 1 - tanh(a)^2
            for i, s in zip(op.inputs, slopes, strict=True):
                out[i, op.name] = out.get((i, op.name), 0) + s  # an input used twice: both terms
        return out

    def slopes(self, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Layer -> its activation's derivative at its pre-activation, unit by unit, from its
        output y: σ' = y (1 - y), tanh' = 1 - y², 1 for none."""
        out = {}
        for layer in self.layers:
            y = np.asarray(values[layer.name])
            if layer.activation == SIGMA:
                out[layer.name] = y * (1 - y)
            elif layer.activation == TANH:
                out[layer.name] = 1 - y * y
            else:
                out[layer.name] = np.ones_like(y)
        return out

    def path_derivative(self, derivatives: Mapping[tuple[str, str], np.ndarray], source: str,
                        target: str) -> np.ndarray | float:
        """d target / d source along the ops alone (the paths through no layer: the weights and
        every layer's output held): the sum over such paths of the product of their edges'
        :meth:`derivatives`. 0 when no such path exists (the tanh RNN's h from h_{t-1})."""
        adjoint: dict[str, np.ndarray | float] = {target: 1.0}
        for op in reversed(self.ops):
            if op.name not in adjoint:
                continue
            for i in dict.fromkeys(op.inputs):
                adjoint[i] = adjoint.get(i, 0.0) + adjoint[op.name] * derivatives[i, op.name]
        return adjoint.get(source, 0.0)

    def formula(self, name: str) -> str:
        """A node as its formula in the sources, the layers and the new states, papers' notation:
        ``f × c_{t−1}``, ``tanh(c_t)``, ``c_t`` itself is ``f × c_{t−1} + i × g``."""
        node = self.node(name)
        if not isinstance(node, Op):
            return SOURCE_FORMULAS.get(name, name)

        def term(i: str, brackets: tuple[str, ...] = (ADD, ONE_MINUS)) -> str:
            if i in STATES:
                return f"{i}_t"
            inner = self.node(i)
            text = self.formula(i)
            return f"({text})" if isinstance(inner, Op) and inner.kind in brackets else text

        if node.kind == ONE_MINUS:
            return f"1 − {term(node.inputs[0])}"
        if node.kind == TANH:
            return f"tanh({term(node.inputs[0], ())})"
        a, b = node.inputs
        if node.kind == ADD:
            return f"{term(a, ())} + {term(b, ())}"
        return f"{term(a)} × {term(b)}"
