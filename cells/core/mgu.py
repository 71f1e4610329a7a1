"""Minimal gated unit: one gate that both resets and updates.

Zhou, Wu, Zhang & Zhou (2016), "Minimal Gated Unit for Recurrent Neural Networks" (International
Journal of Automation and Computing 13(3)), in PyTorch's parameter layout (blocks f, n, two biases):

    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)                 forget gate
    n_t = tanh(W_in x_t + b_in + W_hn (f_t * h_{t-1}) + b_hn)      candidate
    h_t = (1 - f_t) * h_{t-1} + f_t * n_t                          f = 0 keeps the old state

The GRU with its reset and update gates merged into f (r = z' = f, where h = (1 - z') h + z' n).
f is a *forget* gate: f = 1 replaces h_{t-1} by the candidate, so the memory path from step to
step is 1 - f. The backward pass is exact backpropagation through time, written out by hand.
"""

from __future__ import annotations

import numpy as np

from cells.core.cell import CANDIDATE, SIGMOID, Cell, Gate, Trace, previous_states, sigmoid
from cells.core.dataflow import ADD, H_PREV, MUL, ONE_MINUS, SIGMA, TANH, Dataflow, Layer, Op, X


class MGU(Cell):
    arch = "mgu"
    display_name = "MGU"
    paper = "Zhou et al. (2016)"
    gate_names = ("f", "n")
    gates = (
        Gate("f", "forget gate", SIGMOID, "resets h_{t-1} for the candidate, writes f of it, keeps 1 − f"),
        Gate("n", "candidate n (tanh)", CANDIDATE, "the new content offered to the hidden state"),
    )
    memory_gate = "f"
    memory_keeps_complement = True  # d h_t / d h_{t-1} along the copy path is 1 - f
    dataflow = Dataflow(
        layers=(Layer("f", SIGMA, (X, H_PREV)), Layer("n", TANH, (X, "fh"))),
        ops=(Op("fh", MUL, ("f", H_PREV)),  # f_t h_{t-1}: the candidate's recurrent input
             Op("1-f", ONE_MINUS, ("f",)),
             Op("kh", MUL, ("1-f", H_PREV)),  # (1 - f_t) h_{t-1}: what is kept
             Op("fn", MUL, ("f", "n")),  # f_t n_t: what is written
             Op("h", ADD, ("kh", "fn"))),
    )
    equations = r"""
\begin{aligned}
f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f)\\
n_t &= \tanh(W_n x_t + b_{in} + U_n (f_t \odot h_{t-1}) + b_{hn})\\
h_t &= (1 - f_t) \odot h_{t-1} + f_t \odot n_t
\end{aligned}"""
    equation_lines = (
        "f_t = σ(W_f x_t + U_f h_[t−1] + b_f) = {f}",
        "n_t = tanh(W_n x_t + b_in + U_n (f_t·h_[t−1]) + b_hn) = {n}",
        "h_t = (1 − f_t)·h_[t−1] + f_t·n_t = (1 − {f})·({hprev}) + {f}·({n}) = {h}",
    )
    chrono = (("f", -1.0),)  # the keep is 1 - f = σ(-b_f): b_f = -log u
    forget_bias_gate = "f"

    def __init__(self, params: dict[str, np.ndarray]):
        super().__init__(params)
        H = self.hidden_size
        p = self.params
        W_ih, W_hh, b_ih, b_hh = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"]
        # σ(a) = (1 + tanh(a/2)) / 2: the f rows are halved (exact) so f is one tanh, as in the LSTM.
        half = np.repeat(np.array([0.5, 1.0], dtype=self.dtype), H)  # (2H,)
        self._W_ih_T = np.ascontiguousarray((W_ih * half[:, None]).T)  # (I, 2H)
        self._b = (b_ih + b_hh) * half  # (2H,): b_hn sits outside f * h, so both biases add up front
        self._W_hf_T = np.ascontiguousarray(0.5 * W_hh[:H].T)  # (H, H), halved
        self._W_hn_T = np.ascontiguousarray(W_hh[H:].T)  # (H, H)

    def step(
        self, x_t: np.ndarray, h: np.ndarray, c: np.ndarray | None = None
    ) -> tuple[np.ndarray, None, dict[str, np.ndarray]]:
        """One token: x_t (I,) or (B, I), h (H,) or (B, H) -> (h_t, None, gates). ``c`` is ignored."""
        p = self.params
        H = self.hidden_size
        W_hh, b_hh = p["weight_hh_l0"], p["bias_hh_l0"]
        gx_f, gx_n = np.split(x_t @ p["weight_ih_l0"].T + p["bias_ih_l0"], 2, axis=-1)
        f = sigmoid(gx_f + h @ W_hh[:H].T + b_hh[:H])
        n = np.tanh(gx_n + (f * h) @ W_hh[H:].T + b_hh[H:])
        h = (1 - f) * h + f * n
        return h, None, {"f": f, "n": n}

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None) -> Trace:
        """Run the sequence x, (T, I) or (T, B, I), from h0 (zeros if None). ``c0`` must be None."""
        if c0 is not None:
            raise ValueError("an MGU has no cell state: c0 must be None")
        x, batched = self._batch_inputs(x)  # (T, B, I)
        T, B, _ = x.shape
        H = self.hidden_size
        h0 = self._initial_state(h0, B, "h0")

        acts = x @ self._W_ih_T  # (T, B, 2H) input projection of every step at once
        acts += self._b
        hs = np.empty((T, B, H), dtype=self.dtype)
        fh = np.empty((T, B, H), dtype=self.dtype)  # f_t * h_{t-1}, the candidate's recurrent input
        recurrent = np.empty((B, H), dtype=self.dtype)
        tmp = np.empty((B, H), dtype=self.dtype)
        h = h0
        for t in range(T):
            f, n = acts[t, :, :H], acts[t, :, H:]  # (B, H) views, pre-activations so far
            np.matmul(h, self._W_hf_T, out=recurrent)
            f += recurrent
            np.tanh(f, out=f)
            f *= 0.5
            f += 0.5  # f = σ(W_f x + U_f h_{t-1} + b_f)
            np.multiply(f, h, out=fh[t])
            np.matmul(fh[t], self._W_hn_T, out=recurrent)
            n += recurrent
            np.tanh(n, out=n)  # n = tanh(W_n x + b + U_n (f h_{t-1}))
            np.subtract(n, h, out=tmp)
            tmp *= f
            np.add(h, tmp, out=hs[t])  # h_t = h_{t-1} + f (n - h_{t-1}) = (1 - f) h_{t-1} + f n
            h = hs[t]
        return Trace(self.arch, batched, x, h0, None, hs, None, acts, self.gate_names, {"fh": fh})

    def backward(self, trace: Trace, dh: np.ndarray):
        """Exact BPTT. dh: dL/dh_t from outside the cell at every t, shaped like trace.h."""
        dh_out, local = self._backward_inputs(trace, dh)  # (T, B, H), per-step factors
        T, B, H = trace.hs.shape
        dH = np.empty((T, B, H), dtype=self.dtype)  # total dL/dh_t
        da = np.empty((T, B, 2 * H), dtype=self.dtype)  # dL/d(pre-activations), blocks f n
        dh_next = np.zeros((B, H), dtype=self.dtype)  # dL/dh_t through step t+1
        for t in reversed(range(T)):
            np.add(dh_out[t], dh_next, out=dH[t])  # dL/dh_t = from the outputs + from step t+1
            dh_next, _ = self._back_step(local, t, dH[t], None, da[t], None)

        I = self.input_size
        da2 = da.reshape(T * B, 2 * H)
        h_prev = previous_states(trace.h0, trace.hs).reshape(T * B, H)
        fh = trace.extra["fh"].reshape(T * B, H)
        db = da2.sum(axis=0)
        params = {
            "weight_ih_l0": da2.T @ trace.x.reshape(T * B, I),  # sum_t da_t x_t^T
            "weight_hh_l0": np.concatenate(
                [da2[:, :H].T @ h_prev, da2[:, H:].T @ fh]  # sum_t da_f h_{t-1}^T; sum_t da_n (f h_{t-1})^T
            ),
            "bias_ih_l0": db,
            "bias_hh_l0": db.copy(),
        }
        return self._grads(trace, dH, None, da, dh_next, None, params)

    def _local_derivatives(self, trace: Trace) -> dict[str, np.ndarray]:
        """The chain rule's per-step factors, for every t at once (no Python loop)."""
        f, n = (trace.acts.reshape(*trace.hs.shape[:2], 2, -1)[:, :, k] for k in range(2))
        h_prev = previous_states(trace.h0, trace.hs)  # (T, B, H)
        dsig = f * (1 - f)  # σ'(a_f)
        dh_to_da_n = f * (1 - n * n)  # dh_t/da_n = f tanh'(a_n)
        dh_to_da_f = (n - h_prev) * dsig  # dh_t/da_f directly: dh_t/df = n - h_{t-1}
        dfh_to_da_f = h_prev * dsig  # d(f h_{t-1})/da_f, the candidate's path
        return {"dh_to_da_n": dh_to_da_n, "dh_to_da_f": dh_to_da_f, "dfh_to_da_f": dfh_to_da_f, "f": f}

    def _back_step(self, local, t, dh, dc_next, da, dc):
        """One step back. dh: total dL/dh_t. Writes dL/da_t (blocks f n) into ``da``; returns
        (dL/dh_{t-1} through step t, None). Broadcasts: ``dh`` may hold many rows (jacobian_norms).
        """
        H = self.hidden_size
        W_hh = self.params["weight_hh_l0"]
        da_f, da_n = da[..., :H], da[..., H:]
        np.multiply(dh, local["dh_to_da_n"][t], out=da_n)  # dL/da_n
        dfh = da_n @ W_hh[H:]  # dL/d(f h_{t-1}) = U_n^T dL/da_n
        np.multiply(dh, local["dh_to_da_f"][t], out=da_f)
        da_f += dfh * local["dfh_to_da_f"][t]  # dL/da_f: directly, and through the candidate
        f = local["f"][t]
        dh_prev = da_f @ W_hh[:H]  # through f's pre-activation: U_f^T dL/da_f
        dh_prev += dfh * f  # through the candidate's input f h_{t-1}
        dh_prev += dh - dh * f  # along h_t = (1 - f) h_{t-1} + ...
        return dh_prev, None
