"""The plain (Elman) tanh RNN, the baseline whose gradient vanishes.

Elman (1990), "Finding Structure in Time"; the vanishing gradient: Bengio, Simard & Frasconi (1994),
"Learning Long-Term Dependencies with Gradient Descent is Difficult". PyTorch's ``torch.nn.RNN``:

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

Each step back multiplies the gradient by W_hh^T diag(1 - h_t^2); when that shrinks it, it shrinks
geometrically with the distance in time.
"""

from __future__ import annotations

import numpy as np

from cells.core.cell import Cell, Trace, previous_states
from cells.core.dataflow import H_PREV, TANH, Dataflow, Layer, X


class RNN(Cell):
    arch = "rnn"
    display_name = "RNN"
    paper = "Elman (1990)"
    gate_names = ()
    gates = ()
    dataflow = Dataflow(layers=(Layer("h", TANH, (X, H_PREV)),), ops=())  # one box, no way around it
    equations = r"""
\begin{aligned}
h_t &= \tanh(W_h x_t + U_h h_{t-1} + b_h)
\end{aligned}"""
    equation_lines = ("h_t = tanh(W_h x_t + U_h h_[t−1] + b_h) = {h}",)
    keras_blocks = (0,)
    torch_module = "RNN"

    def __init__(self, params: dict[str, np.ndarray]):
        super().__init__(params)
        self._W_ih_T = np.ascontiguousarray(self.params["weight_ih_l0"].T)  # (I, H)
        self._W_hh_T = np.ascontiguousarray(self.params["weight_hh_l0"].T)  # (H, H)
        self._b = self.params["bias_ih_l0"] + self.params["bias_hh_l0"]  # (H,)

    def step(
        self, x_t: np.ndarray, h: np.ndarray, c: np.ndarray | None = None
    ) -> tuple[np.ndarray, None, dict[str, np.ndarray]]:
        """One token: x_t (I,) or (B, I), h (H,) or (B, H) -> (h_t, None, {}). ``c`` is ignored."""
        p = self.params
        h = np.tanh(x_t @ p["weight_ih_l0"].T + p["bias_ih_l0"] + h @ p["weight_hh_l0"].T + p["bias_hh_l0"])
        return h, None, {}

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None) -> Trace:
        """Run the sequence x, (T, I) or (T, B, I), from h0 (zeros if None). ``c0`` must be None."""
        if c0 is not None:
            raise ValueError("a tanh RNN has no cell state: c0 must be None")
        x, batched = self._batch_inputs(x)  # (T, B, I)
        T, B, _ = x.shape
        h0 = self._initial_state(h0, B, "h0")

        hs = x @ self._W_ih_T  # (T, B, H) input projection of every step at once, then h in place
        hs += self._b
        recurrent = np.empty((B, self.hidden_size), dtype=self.dtype)
        h = h0
        for t in range(T):
            np.matmul(h, self._W_hh_T, out=recurrent)
            hs[t] += recurrent
            np.tanh(hs[t], out=hs[t])  # h_t = tanh(W_ih x_t + b + W_hh h_{t-1})
            h = hs[t]
        acts = np.empty((T, B, 0), dtype=self.dtype)  # no gates
        return Trace(self.arch, batched, x, h0, None, hs, None, acts, self.gate_names)

    def backward(self, trace: Trace, dh: np.ndarray):
        """Exact BPTT. dh: dL/dh_t from outside the cell at every t, shaped like trace.h."""
        dh_out, local = self._backward_inputs(trace, dh)  # (T, B, H), per-step factors
        T, B, H = trace.hs.shape
        dH = np.empty((T, B, H), dtype=self.dtype)  # total dL/dh_t
        da = np.empty((T, B, H), dtype=self.dtype)  # dL/d(pre-activation)
        dh_next = np.zeros((B, H), dtype=self.dtype)  # dL/dh_t through step t+1
        for t in reversed(range(T)):
            np.add(dh_out[t], dh_next, out=dH[t])  # dL/dh_t = from the outputs + from step t+1
            dh_next, _ = self._back_step(local, t, dH[t], None, da[t], None)

        I = self.input_size
        da2 = da.reshape(T * B, H)
        h_prev = previous_states(trace.h0, trace.hs)  # (T, B, H)
        db = da2.sum(axis=0)
        params = {
            "weight_ih_l0": da2.T @ trace.x.reshape(T * B, I),  # sum_t da_t x_t^T
            "weight_hh_l0": da2.T @ h_prev.reshape(T * B, H),  # sum_t da_t h_{t-1}^T
            "bias_ih_l0": db,
            "bias_hh_l0": db.copy(),
        }
        return self._grads(trace, dH, None, da, dh_next, None, params)

    def _local_derivatives(self, trace: Trace) -> dict[str, np.ndarray]:
        return {"dh_to_da": 1 - trace.hs * trace.hs}  # dh_t/da_t = tanh'(a_t) = 1 - h_t^2

    def _back_step(self, local, t, dh, dc_next, da, dc):
        """One step back: dL/da_t = dh (1 - h_t^2) into ``da``; returns (dL/dh_{t-1} = W_hh^T da_t, None)."""
        np.multiply(dh, local["dh_to_da"][t], out=da)
        return da @ self.params["weight_hh_l0"], None
