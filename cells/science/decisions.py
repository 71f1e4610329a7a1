"""How a classifier's decision forms while it reads: the class probabilities after each token,
where the leading class changes, and which tokens moved the decision most.

A classifier is a reader whose head's outputs are classes (``Reader.classifies``): the head on the
top output after each token gives logits y_t (T, O) and class probabilities p_t = softmax(y_t),
"the decision so far" for a model that reads one way. The decision itself is the head on what the
model's own classification reads (``cells.models.reader.DECISION_KEY``): the output after the last
token, or for a bidirectional model trained on its final states, the forward state after the last
token beside the backward state after the first. Two measures of each token's part in it, for
the decided class c:

* the change it made: p_t[c] - p_{t-1}[c] (p_{-1} = 1/O, nothing read yet), what reading token t
  did to the running probability (a single-direction model's own account of the text);
* the gradient of the decision's logit y[c] with respect to the token's input x_t, exact by the
  engine's backward pass (``Cell.backward``, through every layer and both directions), as its
  norm ||dy[c]/dx_t|| and as gradient x input, dy[c]/dx_t . x_t (Simonyan et al. 2014; Shrikumar et
  al. 2016): positive where the token pushed towards c. For a one-hot input that is the gradient's
  entry at the token's own id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cells.core.bidirectional import Bidirectional
from cells.core.readout import log_softmax
from cells.models.reader import DECISION_KEY, FINAL_STATES, Reader


@dataclass(frozen=True, eq=False)
class Decision:
    """A classifier's reading of one sequence (see the module docstring).

    labels (O,); probs (T, O) the class probabilities after each token; final (O,) the decision's;
    decided: the decided class; leading (T,) the likeliest class after each token; flips: the steps
    where the leading class changed; moved (T,) p_t[c] - p_{t-1}[c]; gradient (T,)
    ||dy[c]/dx_t||; gradient_input (T,) dy[c]/dx_t . x_t; on_final_states: the decision reads both
    directions' final states, not the last output.
    """

    labels: tuple[str, ...]
    probs: np.ndarray
    final: np.ndarray
    decided: int
    leading: np.ndarray
    flips: np.ndarray
    moved: np.ndarray
    gradient: np.ndarray
    gradient_input: np.ndarray
    on_final_states: bool

    @property
    def label(self) -> str:
        """The decided class's name."""
        return self.labels[self.decided]

    def strongest(self, k: int = 5) -> np.ndarray:
        """The ``k`` steps whose tokens moved the decided class's probability most (either way),
        largest |change| first."""
        return np.argsort(-np.abs(self.moved), kind="stable")[:k]


def decide(reader: Reader, sequence: Any) -> Decision:
    """``reader``, a classifier, reads ``sequence`` (at least one token): its :class:`Decision`."""
    if not reader.classifies:
        raise ValueError("this model's head is not a classifier (its outputs are tokens or values)")
    x, _ = reader.encoder.encode(sequence, reader.cell.dtype)  # (T, I)
    if x.shape[0] == 0:
        raise ValueError("a decision needs at least one token")
    cell, head = reader.cell, reader.readout
    trace = cell.forward(x)
    logits = head(trace.h).astype(np.float64)  # (T, O): the head after each token
    probs = np.exp(log_softmax(logits))
    on_final_states = reader.meta.get(DECISION_KEY) == FINAL_STATES and isinstance(cell, Bidirectional)
    dh = np.zeros_like(trace.h)  # d y[c] / d output_t, filled below
    if on_final_states:
        P = cell.direction_size
        forward, backward = trace.layers[-1]
        states = np.concatenate([forward.h[-1], backward.h[-1]])  # after token T-1; after token 0
        final_logits = head(states).astype(np.float64)
        c = int(np.argmax(final_logits))
        dh[-1, :P], dh[0, P:] = head.weight[c, :P], head.weight[c, P:]
    else:
        final_logits = logits[-1]
        c = int(np.argmax(final_logits))
        dh[-1] = head.weight[c]
    gx = cell.backward(trace, dh).x  # (T, I) d y[c] / d x_t, exact
    leading = np.argmax(probs, axis=1)
    before = np.r_[1.0 / probs.shape[1], probs[:-1, c]]
    return Decision(
        labels=reader.labels,
        probs=probs,
        final=np.exp(log_softmax(final_logits)),
        decided=c,
        leading=leading,
        flips=np.flatnonzero(leading[1:] != leading[:-1]) + 1,
        moved=probs[:, c] - before,
        gradient=np.linalg.norm(gx, axis=1),
        gradient_input=np.einsum("ti,ti->t", gx, x),
        on_final_states=on_final_states,
    )
