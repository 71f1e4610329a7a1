"""The gated recurrent unit in its original form: the reset gate applied before the recurrent
matmul.

Cho et al. (2014), "Learning Phrase Representations using RNN Encoder-Decoder for Statistical
Machine Translation", eq. (8): the candidate reads the reset hidden state r_t * h_{t-1}. Keras's
``GRU(reset_after=False)``, the default of tf.keras 1.x and Keras 2 before 2.3; PyTorch's (and
cuDNN's) GRU applies r after the matmul instead (cells/core/gru.py). In torch's parameter layout
(blocks r, z, n, two biases; Keras's single bias is ``bias_ih_l0``, ``bias_hh_l0`` zero):

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)                 reset gate
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)                 update gate
    n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)      candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                          z = 1 keeps the old state

The backward pass is exact backpropagation through time, written out by hand.
"""

from __future__ import annotations

import numpy as np

from cells.core.cell import CANDIDATE, SIGMOID, Cell, Gate, Trace, previous_states, sigmoid
from cells.core.dataflow import ADD, H_PREV, MUL, ONE_MINUS, SIGMA, TANH, Dataflow, Layer, Op, X


class GRUResetBefore(Cell):
    arch = "gru-reset-before"
    display_name = "GRU (reset before)"
    paper = "Cho et al. (2014), the original form (Keras's reset_after=False)"
    gate_names = ("r", "z", "n")
    gates = (
        Gate("r", "reset gate r", SIGMOID, "how much of h_{t-1} the candidate reads (r ⊙ h_{t-1})"),
        Gate("z", "update gate z", SIGMOID, "keeps z of h_{t-1} and writes 1 − z of the candidate"),
        Gate("n", "candidate n (tanh)", CANDIDATE, "the new content offered to the hidden state"),
    )
    memory_gate = "z"
    dataflow = Dataflow(
        layers=(Layer("r", SIGMA, (X, H_PREV)), Layer("z", SIGMA, (X, H_PREV)),
                Layer("n", TANH, (X, "rh"))),
        ops=(Op("rh", MUL, ("r", H_PREV)),  # r_t h_{t-1}: the candidate's recurrent input
             Op("zh", MUL, ("z", H_PREV)),  # z_t h_{t-1}: what is kept
             Op("1-z", ONE_MINUS, ("z",)),
             Op("zn", MUL, ("1-z", "n")),  # (1 - z_t) n_t: what is written
             Op("h", ADD, ("zh", "zn"))),
    )
    equations = r"""
\begin{aligned}
r_t &= \sigma(W_r x_t + U_r h_{t-1} + b_r)\\
z_t &= \sigma(W_z x_t + U_z h_{t-1} + b_z)\\
n_t &= \tanh(W_n x_t + U_n (r_t \odot h_{t-1}) + b_n)\\
h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
\end{aligned}"""
    equation_lines = (
        "r_t = σ(W_r x_t + U_r h_[t−1] + b_r) = {r}    z_t = σ(W_z x_t + U_z h_[t−1] + b_z) = {z}",
        "n_t = tanh(W_n x_t + U_n (r_t·h_[t−1]) + b_n) = {n}",
        "h_t = (1 − z_t)·n_t + z_t·h_[t−1] = (1 − {z})·({n}) + {z}·({hprev}) = {h}",
    )
    keras_blocks = (1, 0, 2)  # Keras's z r h: torch's r is Keras's block 1
    chrono = (("z", 1.0),)  # z keeps h_{t-1}: b_z = log u

    def __init__(self, params: dict[str, np.ndarray]):
        super().__init__(params)
        H = self.hidden_size
        p = self.params
        W_ih, W_hh, b_ih, b_hh = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"]
        # σ(a) = (1 + tanh(a/2)) / 2: halving the r and z rows (exact) lets one tanh call activate both.
        half = np.repeat(np.array([0.5, 0.5, 1.0], dtype=self.dtype), H)  # (3H,)
        self._W_ih_T = np.ascontiguousarray((W_ih * half[:, None]).T)  # (I, 3H)
        self._b = (b_ih + b_hh) * half  # (3H,): b_hn sits outside r * h, so both biases add up front
        self._W_hrz_T = np.ascontiguousarray(0.5 * W_hh[: 2 * H].T)  # (H, 2H), halved
        self._W_hn_T = np.ascontiguousarray(W_hh[2 * H :].T)  # (H, H)

    def step(
        self, x_t: np.ndarray, h: np.ndarray, c: np.ndarray | None = None
    ) -> tuple[np.ndarray, None, dict[str, np.ndarray]]:
        """One token: x_t (I,) or (B, I), h (H,) or (B, H) -> (h_t, None, gates). ``c`` is ignored."""
        p = self.params
        H = self.hidden_size
        W_hh, b_hh = p["weight_hh_l0"], p["bias_hh_l0"]
        gx_r, gx_z, gx_n = np.split(x_t @ p["weight_ih_l0"].T + p["bias_ih_l0"], 3, axis=-1)
        r = sigmoid(gx_r + h @ W_hh[:H].T + b_hh[:H])
        z = sigmoid(gx_z + h @ W_hh[H : 2 * H].T + b_hh[H : 2 * H])
        n = np.tanh(gx_n + (r * h) @ W_hh[2 * H :].T + b_hh[2 * H :])
        h = (1 - z) * n + z * h
        return h, None, {"r": r, "z": z, "n": n}

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None) -> Trace:
        """Run the sequence x, (T, I) or (T, B, I), from h0 (zeros if None). ``c0`` must be None."""
        if c0 is not None:
            raise ValueError("a GRU has no cell state: c0 must be None")
        x, batched = self._batch_inputs(x)  # (T, B, I)
        T, B, _ = x.shape
        H = self.hidden_size
        h0 = self._initial_state(h0, B, "h0")

        acts = x @ self._W_ih_T  # (T, B, 3H) input projection of every step at once
        acts += self._b
        hs = np.empty((T, B, H), dtype=self.dtype)
        rh = np.empty((T, B, H), dtype=self.dtype)  # r_t * h_{t-1}, the candidate's recurrent input
        recurrent_rz = np.empty((B, 2 * H), dtype=self.dtype)
        recurrent_n = np.empty((B, H), dtype=self.dtype)
        tmp = np.empty((B, H), dtype=self.dtype)
        h = h0
        for t in range(T):
            rz, n = acts[t, :, : 2 * H], acts[t, :, 2 * H :]  # (B, 2H), (B, H) views
            np.matmul(h, self._W_hrz_T, out=recurrent_rz)
            rz += recurrent_rz
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5  # r, z = σ(.)
            r, z = rz[:, :H], rz[:, H:]
            np.multiply(r, h, out=rh[t])
            np.matmul(rh[t], self._W_hn_T, out=recurrent_n)
            n += recurrent_n
            np.tanh(n, out=n)  # n = tanh(W_n x + b + U_n (r h_{t-1}))
            np.subtract(h, n, out=tmp)
            tmp *= z
            np.add(n, tmp, out=hs[t])  # h_t = n + z (h_{t-1} - n) = (1 - z) n + z h_{t-1}
            h = hs[t]
        return Trace(self.arch, batched, x, h0, None, hs, None, acts, self.gate_names, {"rh": rh})

    def backward(self, trace: Trace, dh: np.ndarray):
        """Exact BPTT. dh: dL/dh_t from outside the cell at every t, shaped like trace.h."""
        dh_out, local = self._backward_inputs(trace, dh)  # (T, B, H), per-step factors
        T, B, H = trace.hs.shape
        dH = np.empty((T, B, H), dtype=self.dtype)  # total dL/dh_t
        da = np.empty((T, B, 3 * H), dtype=self.dtype)  # dL/d(pre-activations), blocks r z n
        dh_next = np.zeros((B, H), dtype=self.dtype)  # dL/dh_t through step t+1
        for t in reversed(range(T)):
            np.add(dh_out[t], dh_next, out=dH[t])  # dL/dh_t = from the outputs + from step t+1
            dh_next, _ = self._back_step(local, t, dH[t], None, da[t], None)

        I = self.input_size
        da2 = da.reshape(T * B, 3 * H)
        h_prev = previous_states(trace.h0, trace.hs).reshape(T * B, H)
        rh = trace.extra["rh"].reshape(T * B, H)
        db = da2.sum(axis=0)
        params = {
            "weight_ih_l0": da2.T @ trace.x.reshape(T * B, I),  # sum_t da_t x_t^T
            "weight_hh_l0": np.concatenate(  # sum_t da_{r,z} h_{t-1}^T; sum_t da_n (r h_{t-1})^T
                [da2[:, : 2 * H].T @ h_prev, da2[:, 2 * H :].T @ rh]),
            "bias_ih_l0": db,
            "bias_hh_l0": db.copy(),
        }
        return self._grads(trace, dH, None, da, dh_next, None, params)

    def _local_derivatives(self, trace: Trace) -> dict[str, np.ndarray]:
        """The chain rule's per-step factors, for every t at once (no Python loop)."""
        r, z, n = (trace.acts.reshape(*trace.hs.shape[:2], 3, -1)[:, :, k] for k in range(3))
        h_prev = previous_states(trace.h0, trace.hs)  # (T, B, H)
        return {
            "dh_to_da_n": (1 - z) * (1 - n * n),  # dh_t/da_n = (1 - z) tanh'(a_n)
            "dh_to_da_z": (h_prev - n) * z * (1 - z),  # dh_t/da_z = (h_{t-1} - n) σ'(a_z)
            "drh_to_da_r": h_prev * r * (1 - r),  # d(r h_{t-1})/da_r
            "r": r,
            "z": z,
        }

    def _back_step(self, local, t, dh, dc_next, da, dc):
        """One step back. dh: total dL/dh_t. Writes dL/da_t (blocks r z n) into ``da``; returns
        (dL/dh_{t-1} through step t, None). Broadcasts: ``dh`` may hold many rows (jacobian_norms).
        """
        H = self.hidden_size
        W_hh = self.params["weight_hh_l0"]
        da_r, da_z, da_n = da[..., :H], da[..., H : 2 * H], da[..., 2 * H :]
        np.multiply(dh, local["dh_to_da_n"][t], out=da_n)  # dL/da_n
        drh = da_n @ W_hh[2 * H :]  # dL/d(r h_{t-1}) = U_n^T dL/da_n
        np.multiply(drh, local["drh_to_da_r"][t], out=da_r)  # dL/da_r, through the candidate
        np.multiply(dh, local["dh_to_da_z"][t], out=da_z)  # dL/da_z
        dh_prev = da[..., : 2 * H] @ W_hh[: 2 * H]  # through r's and z's pre-activations
        dh_prev += drh * local["r"][t]  # through the candidate's input r h_{t-1}
        dh_prev += dh * local["z"][t]  # along h_t = ... + z h_{t-1}
        return dh_prev, None
