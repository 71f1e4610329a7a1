"""Gated recurrent unit.

Cho et al. (2014), "Learning Phrase Representations using RNN Encoder-Decoder for Statistical Machine
Translation", in PyTorch's form (``torch.nn.GRU``, gate order r, z, n; the reset gate applied after
the recurrent matmul, Keras's ``reset_after=True``):

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))  candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                   z = 1 keeps the old state

The backward pass is exact backpropagation through time, written out by hand.
"""

from __future__ import annotations

import numpy as np

from cells.core.cell import CANDIDATE, SIGMOID, Cell, Gate, Trace, previous_states, sigmoid
from cells.core.dataflow import ADD, H_PREV, MUL, ONE_MINUS, SIGMA, TANH, Dataflow, Layer, Op, X


class GRU(Cell):
    arch = "gru"
    display_name = "GRU"
    paper = "Cho et al. (2014), PyTorch's form"
    gate_names = ("r", "z", "n")
    gates = (
        Gate("r", "reset gate r", SIGMOID, "how much of the recurrent input reaches the candidate"),
        Gate("z", "update gate z", SIGMOID, "keeps z of h_{t-1} and writes 1 − z of the candidate"),
        Gate("n", "candidate n (tanh)", CANDIDATE, "the new content offered to the hidden state"),
    )
    memory_gate = "z"
    dataflow = Dataflow(
        layers=(Layer("r", SIGMA, (X, H_PREV)), Layer("z", SIGMA, (X, H_PREV)),
                Layer("n", TANH, (X, H_PREV, "r"))),  # r scales the recurrent term U_n h_{t-1} + b_hn
        ops=(Op("zh", MUL, ("z", H_PREV)),  # z_t h_{t-1}: what is kept
             Op("1-z", ONE_MINUS, ("z",)),
             Op("zn", MUL, ("1-z", "n")),  # (1 - z_t) n_t: what is written
             Op("h", ADD, ("zh", "zn"))),
    )
    equations = r"""
\begin{aligned}
r_t &= \sigma(W_r x_t + U_r h_{t-1} + b_r)\\
z_t &= \sigma(W_z x_t + U_z h_{t-1} + b_z)\\
n_t &= \tanh(W_n x_t + b_{in} + r_t \odot (U_n h_{t-1} + b_{hn}))\\
h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
\end{aligned}"""
    equation_lines = (
        "r_t = σ(W_r x_t + U_r h_[t−1] + b_r) = {r}    z_t = σ(W_z x_t + U_z h_[t−1] + b_z) = {z}",
        "n_t = tanh(W_n x_t + b_in + r_t·(U_n h_[t−1] + b_hn)) = {n}",
        "h_t = (1 − z_t)·n_t + z_t·h_[t−1] = (1 − {z})·({n}) + {z}·({hprev}) = {h}",
    )
    keras_blocks = (1, 0, 2)  # Keras's z r h: torch's r is Keras's block 1
    keras_bias_rows = 2  # reset_after=True: an input bias and a recurrent bias
    chrono = (("z", 1.0),)  # z keeps h_{t-1}: b_z = log u
    torch_module = "GRU"

    def __init__(self, params: dict[str, np.ndarray]):
        super().__init__(params)
        H = self.hidden_size
        p = self.params
        W_ih, W_hh, b_ih, b_hh = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"]
        # σ(a) = (1 + tanh(a/2)) / 2: halving the r and z rows (exact) lets one tanh call activate both.
        half = np.repeat(np.array([0.5, 0.5, 1.0], dtype=self.dtype), H)  # (3H,)
        self._W_ih_T = np.ascontiguousarray((W_ih * half[:, None]).T)  # (I, 3H)
        self._W_hh_T = np.ascontiguousarray((W_hh * half[:, None]).T)  # (H, 3H)
        self._b_ih = b_ih * half  # (3H,)
        self._b_hh = b_hh * half  # (3H,)

    def step(
        self, x_t: np.ndarray, h: np.ndarray, c: np.ndarray | None = None
    ) -> tuple[np.ndarray, None, dict[str, np.ndarray]]:
        """One token: x_t (I,) or (B, I), h (H,) or (B, H) -> (h_t, None, gates). ``c`` is ignored."""
        p = self.params
        gx = x_t @ p["weight_ih_l0"].T + p["bias_ih_l0"]  # (..., 3H)
        gh = h @ p["weight_hh_l0"].T + p["bias_hh_l0"]  # (..., 3H)
        gx_r, gx_z, gx_n = np.split(gx, 3, axis=-1)
        gh_r, gh_z, gh_n = np.split(gh, 3, axis=-1)
        r = sigmoid(gx_r + gh_r)
        z = sigmoid(gx_z + gh_z)
        n = np.tanh(gx_n + r * gh_n)
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
        acts += self._b_ih
        gates = acts.reshape(T, B, 3, H)
        gh = np.empty((T, B, 3 * H), dtype=self.dtype)  # W_h h_{t-1} + b_h, r z rows halved
        hs = np.empty((T, B, H), dtype=self.dtype)
        tmp = np.empty((B, H), dtype=self.dtype)
        h = h0
        for t in range(T):
            np.matmul(h, self._W_hh_T, out=gh[t])
            gh[t] += self._b_hh
            rz = acts[t, :, : 2 * H]
            rz += gh[t, :, : 2 * H]
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5  # r, z = σ(.)
            r, z, n = gates[t, :, 0], gates[t, :, 1], gates[t, :, 2]
            np.multiply(r, gh[t, :, 2 * H :], out=tmp)
            n += tmp
            np.tanh(n, out=n)  # n = tanh(W_in x + b_in + r (W_hn h + b_hn))
            np.subtract(h, n, out=tmp)
            tmp *= z
            np.add(n, tmp, out=hs[t])  # h_t = n + z (h_{t-1} - n) = (1 - z) n + z h_{t-1}
            h = hs[t]
        extra = {"gh_n": gh[:, :, 2 * H :]}  # (T, B, H) W_hn h_{t-1} + b_hn
        return Trace(self.arch, batched, x, h0, None, hs, None, acts, self.gate_names, extra)

    def backward(self, trace: Trace, dh: np.ndarray):
        """Exact BPTT. dh: dL/dh_t from outside the cell at every t, shaped like trace.h."""
        dh_out, local = self._backward_inputs(trace, dh)  # (T, B, H), per-step factors
        T, B, H = trace.hs.shape
        dH = np.empty((T, B, H), dtype=self.dtype)  # total dL/dh_t
        da_h = np.empty((T, B, 3 * H), dtype=self.dtype)  # dL/d(W_h h_{t-1} + b_h), blocks r z n
        dh_next = np.zeros((B, H), dtype=self.dtype)  # dL/dh_t through step t+1
        for t in reversed(range(T)):
            np.add(dh_out[t], dh_next, out=dH[t])  # dL/dh_t = from the outputs + from step t+1
            dh_next, _ = self._back_step(local, t, dH[t], None, da_h[t], None)

        # The input side's gradient equals the hidden side's but for n, where r_t stood in between.
        da_x = da_h.copy()  # dL/d(W_i x_t + b_i), (T, B, 3H)
        da_x[:, :, 2 * H :] = local["dh_to_da_n"] * dH  # dL/da_n
        I = self.input_size
        dx2, dh2 = da_x.reshape(T * B, 3 * H), da_h.reshape(T * B, 3 * H)
        h_prev = previous_states(trace.h0, trace.hs)  # (T, B, H)
        params = {
            "weight_ih_l0": dx2.T @ trace.x.reshape(T * B, I),  # sum_t da_x,t x_t^T
            "weight_hh_l0": dh2.T @ h_prev.reshape(T * B, H),  # sum_t da_h,t h_{t-1}^T
            "bias_ih_l0": dx2.sum(axis=0),
            "bias_hh_l0": dh2.sum(axis=0),
        }
        return self._grads(trace, dH, None, da_x, dh_next, None, params)

    def _local_derivatives(self, trace: Trace) -> dict[str, np.ndarray]:
        """The chain rule's per-step factors, for every t at once (no Python loop).

        Computed in place into the arrays returned: at T=1000 a temporary is a megabyte of fresh
        memory, and its page faults cost more than the arithmetic.
        """
        r, z, n = (trace.acts.reshape(*trace.hs.shape[:2], 3, -1)[:, :, k] for k in range(3))
        dh_to_da_n = np.multiply(n, n)
        np.subtract(1, dh_to_da_n, out=dh_to_da_n)
        dh_to_da_hn = np.subtract(1, z)  # 1 - z, then the factor below
        dh_to_da_n *= dh_to_da_hn  # dh_t/da_n = (1 - z) tanh'(a_n)
        np.multiply(dh_to_da_n, r, out=dh_to_da_hn)  # dh_t/d(W_hn h + b_hn) = dh_t/da_n * r
        dh_to_da_z = np.empty_like(z)
        np.subtract(trace.h0, n[0], out=dh_to_da_z[0])
        np.subtract(trace.hs[:-1], n[1:], out=dh_to_da_z[1:])  # h_{t-1} - n
        dh_to_da_z *= z
        dh_to_da_z -= dh_to_da_z * z  # dh_t/da_z = (h_{t-1} - n) σ'(a_z), σ' = z - z^2
        da_n_to_da_r = np.subtract(1, r)
        da_n_to_da_r *= r
        da_n_to_da_r *= trace.extra["gh_n"]  # da_n/da_r = (W_hn h + b_hn) σ'(a_r)
        return {
            "dh_to_da_n": dh_to_da_n,
            "dh_to_da_z": dh_to_da_z,
            "da_n_to_da_r": da_n_to_da_r,
            "dh_to_da_hn": dh_to_da_hn,
            "z": z,  # dh_t/dh_{t-1} along the direct path
        }

    def _input_da(self, local, t, dh, da, out):
        """The input side's da, into ``out``: the hidden side's but for n, where r_t does not stand
        in between (the same rule as ``backward``'s, for one step)."""
        H = self.hidden_size
        np.copyto(out[..., : 2 * H], da[..., : 2 * H])  # dL/da_r, dL/da_z
        np.multiply(dh, local["dh_to_da_n"][t], out=out[..., 2 * H :])  # dL/da_n
        return out

    def _back_step(self, local, t, dh, dc_next, da, dc):
        """One step back. dh: total dL/dh_t. Writes dL/d(W_h h_{t-1} + b_h) into ``da``; returns
        (dL/dh_{t-1} through step t, None). Broadcasts: ``dh`` may hold many rows (jacobian_norms).
        """
        H = self.hidden_size
        da3 = da.reshape(*da.shape[:-1], 3, H)
        np.multiply(dh, local["dh_to_da_hn"][t], out=da3[..., 2, :])  # dL/d(W_hn h + b_hn)
        np.multiply(dh, local["dh_to_da_z"][t], out=da3[..., 1, :])  # dL/da_z
        np.multiply(dh, local["dh_to_da_n"][t], out=da3[..., 0, :])
        da3[..., 0, :] *= local["da_n_to_da_r"][t]  # dL/da_r = dL/da_n * da_n/da_r
        dh_prev = da @ self.params["weight_hh_l0"]
        dh_prev += dh * local["z"][t]  # dL/dh_{t-1} = through the gates + along h_t = ... + z h_{t-1}
        return dh_prev, None
