"""Long short-term memory.

Hochreiter & Schmidhuber (1997), "Long Short-Term Memory", with the forget gate of Gers, Schmidhuber
& Cummins (2000), "Learning to Forget", in PyTorch's form (``torch.nn.LSTM``, gate order i, f, g, o):

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)      input gate
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)      forget gate
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)   candidate
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)      output gate
    c_t = f_t * c_{t-1} + i_t * g_t                     cell state: the gradient's highway
    h_t = o_t * tanh(c_t)

The backward pass is exact backpropagation through time (Werbos 1990), written out by hand.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from cells.core.cell import CANDIDATE, PARAM_NAMES, SIGMOID, Cell, Gate, Trace, previous_states, sigmoid
from cells.core.dataflow import (
    ADD,
    C_PREV,
    H_PREV,
    IDENTITY,
    MUL,
    ONE_MINUS,
    SIGMA,
    TANH,
    Dataflow,
    Layer,
    Op,
    X,
)

FORGET = Gate("f", "forget gate f", SIGMOID, "how much of the old cell state c_{t-1} is kept")
INPUT = Gate("i", "input gate i", SIGMOID, "how much of the candidate g_t is written into c_t")
OUTPUT = Gate("o", "output gate o", SIGMOID, "how much of tanh(c_t) is shown as h_t")
CANDIDATE_G = Gate("g", "candidate g (tanh)", CANDIDATE, "the new content offered to the cell state")
"""The LSTM's gates, as its variants (cells/core/lstm_variants.py) share them."""


def lstm_dataflow(*, fixed_gate: str | None = None, coupled: bool = False, linear_candidate: bool = False,
                  linear_output: bool = False) -> Dataflow:
    """The LSTM's step as a graph, or a variant's (the LSTM's four flags, below): f, i, g, o read
    [x_t, h_{t-1}]; c_t = f × c_{t-1} + i × g along the belt; h_t = o × tanh(c_t). A gate held at
    1 drops out with its ×; a coupled i is the op 1 − f; a linear g or output loses its tanh."""
    gates = [k for k in ("i", "f", "g", "o") if k != fixed_gate and not (coupled and k == "i")]
    activation = {"g": IDENTITY if linear_candidate else TANH}
    ops = []
    kept = C_PREV if fixed_gate == "f" else "fc"  # NFG: the belt has no ×
    written = "g" if fixed_gate == "i" else "ig"  # NIG: g is written whole
    if fixed_gate != "f":
        ops.append(Op("fc", MUL, ("f", C_PREV)))  # f_t c_{t-1}: what the belt keeps
    if coupled:
        ops.append(Op("i", ONE_MINUS, ("f",)))  # CIFG: i_t = 1 - f_t
    if fixed_gate != "i":
        ops.append(Op("ig", MUL, ("i", "g")))  # i_t g_t: what is written
    ops.append(Op("c", ADD, (kept, written)))  # c_t
    if fixed_gate == "o":
        ops.append(Op("h", TANH, ("c",)))  # NOG: h_t = tanh(c_t)
    else:
        if not linear_output:
            ops.append(Op("tanh_c", TANH, ("c",)))
        ops.append(Op("h", MUL, ("o", "c" if linear_output else "tanh_c")))  # h_t = o_t tanh(c_t)
    layers = tuple(Layer(k, activation.get(k, SIGMA), (X, H_PREV)) for k in gates)
    return Dataflow(layers, tuple(ops))


class LSTM(Cell):
    arch = "lstm"
    display_name = "LSTM"
    paper = "Hochreiter & Schmidhuber (1997); forget gate: Gers et al. (2000)"
    gate_names = ("i", "f", "g", "o")
    gates = (FORGET, INPUT, OUTPUT, CANDIDATE_G)
    states = ("c", "h")
    memory_gate = "f"
    dataflow = lstm_dataflow()
    equations = r"""
\begin{aligned}
f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f)\\
i_t &= \sigma(W_i x_t + U_i h_{t-1} + b_i)\\
o_t &= \sigma(W_o x_t + U_o h_{t-1} + b_o)\\
g_t &= \tanh(W_g x_t + U_g h_{t-1} + b_g)\\
c_t &= f_t \odot c_{t-1} + i_t \odot g_t\\
h_t &= o_t \odot \tanh(c_t)
\end{aligned}"""
    equation_lines = (
        "f_t = σ(W_f x_t + U_f h_[t−1] + b_f) = {f}    i_t = σ(W_i x_t + U_i h_[t−1] + b_i) = {i}",
        "o_t = σ(W_o x_t + U_o h_[t−1] + b_o) = {o}    g_t = tanh(W_g x_t + U_g h_[t−1] + b_g) = {g}",
        "c_t = f_t·c_[t−1] + i_t·g_t = {f}·({cprev}) + {i}·({g}) = {c}",
        "h_t = o_t·tanh(c_t) = {o}·tanh({c}) = {h}",
    )
    keras_blocks = (0, 1, 2, 3)  # Keras's i f c o is torch's i f g o
    chrono = (("f", 1.0), ("i", -1.0))  # b_f = log u, b_i = -log u
    forget_bias_gate = "f"
    torch_module = "LSTM"
    # What Greff et al.'s variants change (cells/core/lstm_variants.py); the LSTM changes nothing.
    fixed_gate: ClassVar[str | None] = None  # "i", "f" or "o": held at 1, its block left out
    coupled: ClassVar[bool] = False  # i_t = 1 - f_t
    linear_candidate: ClassVar[bool] = False  # g_t is its pre-activation, no tanh
    linear_output: ClassVar[bool] = False  # h_t = o_t c_t, no tanh

    @classmethod
    def for_params(cls, params: dict[str, np.ndarray]) -> type[Cell]:
        """The LSTM, or its projected form when ``params`` hold ``weight_hr_l0`` (torch's
        proj_size)."""
        return ProjectedLSTM if cls is LSTM and "weight_hr_l0" in params else cls

    def __init__(self, params: dict[str, np.ndarray]):
        super().__init__(params)
        H = self.hidden_size
        p = self.params
        W_ih, W_hh, b_ih, b_hh = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"]
        # σ(a) = (1 + tanh(a/2)) / 2. Halving the rows of i, f and o lets one tanh call activate all
        # four gates in forward: gates = tanh(halved pre-activations) * half + shift. Halving is exact.
        sigmoid_rows = np.array([name != "g" for name in self.gate_names])  # (G,): i f o, not g
        self._half = np.repeat(np.where(sigmoid_rows, 0.5, 1.0), H).astype(self.dtype)  # (4H,)
        self._shift = np.repeat(np.where(sigmoid_rows, 0.5, 0.0), H).astype(self.dtype)  # (4H,)
        self._W_ih_T = np.ascontiguousarray((W_ih * self._half[:, None]).T)  # (I, 4H)
        self._W_hh_T = np.ascontiguousarray((W_hh * self._half[:, None]).T)  # (H, 4H)
        self._b = (b_ih + b_hh) * self._half  # (4H,)
        self._W_hr_T = None  # (H, P): the projection of a projected LSTM (ProjectedLSTM)

    def step(
        self, x_t: np.ndarray, h: np.ndarray, c: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """One token: x_t (I,) or (B, I), h and c (H,) or (B, H) -> (h_t, c_t, gates)."""
        p = self.params
        c = np.zeros_like(h) if c is None else c
        a = x_t @ p["weight_ih_l0"].T + p["bias_ih_l0"] + h @ p["weight_hh_l0"].T + p["bias_hh_l0"]
        blocks = dict(zip(self.gate_names, np.split(a, self.blocks, axis=-1), strict=True))
        gates = {name: sigmoid(a_k) for name, a_k in blocks.items() if name != "g"}  # i, f, o = σ(.)
        gates["g"] = blocks["g"] if self.linear_candidate else np.tanh(blocks["g"])  # g = tanh(.)
        f = gates.get("f", 1.0)  # a variant without a gate holds it at 1
        i = 1.0 - f if self.coupled else gates.get("i", 1.0)
        c = f * c + i * gates["g"]  # c_t = f_t c_{t-1} + i_t g_t
        h = gates.get("o", 1.0) * (c if self.linear_output else np.tanh(c))  # h_t = o_t tanh(c_t)
        return h, c, gates

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None) -> Trace:
        """Run the sequence x, (T, I) or (T, B, I), from (h0, c0) (zeros if None)."""
        x, batched = self._batch_inputs(x)  # (T, B, I)
        T, B, _ = x.shape
        H, P = self.hidden_size, self.output_size  # P = H but for a projected LSTM
        h0 = self._initial_state(h0, B, "h0")
        c0 = self._initial_state(c0, B, "c0")

        acts = x @ self._W_ih_T  # (T, B, 4H) input projection of every step at once
        acts += self._b
        gates = acts.reshape(T, B, 4, H)  # the same memory, one block per gate
        hs = np.empty((T, B, P), dtype=self.dtype)
        cs = np.empty((T, B, H), dtype=self.dtype)
        tanh_c = np.empty((T, B, H), dtype=self.dtype)
        ms = hs if self._W_hr_T is None else np.empty((T, B, H), dtype=self.dtype)  # o tanh(c_t)
        recurrent = np.empty((B, 4 * H), dtype=self.dtype)
        ig = np.empty((B, H), dtype=self.dtype)
        h, c = h0, c0
        for t in range(T):
            a = acts[t]  # (B, 4H), i f o rows halved
            np.matmul(h, self._W_hh_T, out=recurrent)
            a += recurrent  # pre-activations: W_i x_t + b + W_h h_{t-1}
            np.tanh(a, out=a)
            a *= self._half
            a += self._shift  # i, f, o = σ(.), g = tanh(.)
            i, f, g, o = gates[t, :, 0], gates[t, :, 1], gates[t, :, 2], gates[t, :, 3]
            np.multiply(f, c, out=cs[t])
            np.multiply(i, g, out=ig)
            cs[t] += ig  # c_t = f c_{t-1} + i g
            np.tanh(cs[t], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=ms[t])  # h_t = o tanh(c_t)
            if self._W_hr_T is not None:
                np.matmul(ms[t], self._W_hr_T, out=hs[t])  # projected: h_t = W_hr (o tanh(c_t))
            h, c = hs[t], cs[t]
        extra = {"tanh_c": tanh_c} if ms is hs else {"tanh_c": tanh_c, "m": ms}
        return Trace(self.arch, batched, x, h0, c0, hs, cs, acts, self.gate_names, extra)

    def backward(self, trace: Trace, dh: np.ndarray):
        """Exact BPTT. dh: dL/dh_t from outside the cell at every t, shaped like trace.h."""
        dh_out, local = self._backward_inputs(trace, dh)  # (T, B, P), per-step factors
        T, B, P = trace.hs.shape  # P = H but for a projected LSTM
        H = self.hidden_size
        G = self.blocks  # 4: i f g o (a variant of cells/lstm_variants.py: the blocks it keeps)
        dH = np.empty((T, B, P), dtype=self.dtype)  # total dL/dh_t
        dC = np.empty((T, B, H), dtype=self.dtype)  # total dL/dc_t
        da = np.empty((T, B, G * H), dtype=self.dtype)  # dL/d(pre-activations), in gate_names order
        dh_next = np.zeros((B, P), dtype=self.dtype)  # dL/dh_t through step t+1
        dc_next = np.zeros((B, H), dtype=self.dtype)  # dL/dc_t through step t+1
        for t in reversed(range(T)):
            np.add(dh_out[t], dh_next, out=dH[t])  # dL/dh_t = from the outputs + from step t+1
            dh_next, dc_next = self._back_step(local, t, dH[t], dc_next, da[t], dC[t])

        I = self.input_size
        da2 = da.reshape(T * B, G * H)
        h_prev = previous_states(trace.h0, trace.hs)  # (T, B, H)
        db = da2.sum(axis=0)
        params = {
            "weight_ih_l0": da2.T @ trace.x.reshape(T * B, I),  # dL/dW_ih = sum_t da_t x_t^T
            "weight_hh_l0": da2.T @ h_prev.reshape(T * B, P),  # dL/dW_hh = sum_t da_t h_{t-1}^T
            "bias_ih_l0": db,
            "bias_hh_l0": db.copy(),
        }
        return self._grads(trace, dH, dC, da, dh_next, dc_next, params)

    def _local_derivatives(self, trace: Trace) -> dict[str, np.ndarray]:
        """The chain rule's per-step factors, for every t at once (no Python loop).

        Computed in place into the five arrays returned: at T=1000 a temporary is a megabyte of
        fresh memory, and its page faults cost more than the arithmetic.
        """
        i, f, g, o = (trace.acts.reshape(*trace.hs.shape[:2], 4, -1)[:, :, k] for k in range(4))
        tanh_c = trace.extra["tanh_c"]
        dc_to_da = np.empty((*i.shape[:2], 3, i.shape[2]), dtype=self.dtype)  # (T, B, 3, H), i f g
        d_i, d_f, d_g = dc_to_da[:, :, 0], dc_to_da[:, :, 1], dc_to_da[:, :, 2]
        np.subtract(1, i, out=d_i)
        d_i *= i
        d_i *= g  # dc_t/da_i = g σ'(a_i)
        np.subtract(1, f, out=d_f)
        d_f *= f
        d_f[0] *= trace.c0
        d_f[1:] *= trace.cs[:-1]  # dc_t/da_f = c_{t-1} σ'(a_f)
        np.multiply(g, g, out=d_g)
        np.subtract(1, d_g, out=d_g)
        d_g *= i  # dc_t/da_g = i tanh'(a_g)
        dh_to_da_o = np.subtract(1, o)
        dh_to_da_o *= o
        dh_to_da_o *= tanh_c  # dh_t/da_o = tanh(c_t) σ'(a_o)
        dh_to_dc = np.multiply(tanh_c, tanh_c)
        np.subtract(1, dh_to_dc, out=dh_to_dc)
        dh_to_dc *= o  # dh_t/dc_t = o tanh'(c_t)
        return {"dc_to_da_ifg": dc_to_da, "dh_to_da_o": dh_to_da_o, "dh_to_dc": dh_to_dc, "f": f}

    def _back_step(self, local, t, dh, dc_next, da, dc):
        """One step back. dh: total dL/dh_t; dc_next: dL/dc_t through step t+1.

        Writes dL/da_t into ``da`` and the total dL/dc_t into ``dc``; returns (dL/dh_{t-1}, dL/dc_{t-1})
        through step t. Broadcasts: ``dh`` may hold many rows for one sequence (jacobian_norms).
        """
        H = self.hidden_size
        np.multiply(dh, local["dh_to_dc"][t], out=dc)
        dc += dc_next  # dL/dc_t = from h_t + from c_{t+1}
        da4 = da.reshape(*da.shape[:-1], 4, H)
        np.multiply(dc[..., None, :], local["dc_to_da_ifg"][t], out=da4[..., :3, :])  # dL/da_{i,f,g}
        np.multiply(dh, local["dh_to_da_o"][t], out=da4[..., 3, :])  # dL/da_o
        return da @ self.params["weight_hh_l0"], dc * local["f"][t]  # dL/dh_{t-1}, dL/dc_{t-1}


class ProjectedLSTM(LSTM):
    """The LSTM with a projection (``torch.nn.LSTM(proj_size=P)``): the LSTMP of Sak, Senior &
    Beaufays (2014), "Long Short-Term Memory Recurrent Neural Network Architectures for Large Scale
    Acoustic Modeling". The H units' outputs are projected to P < H numbers, and those are h:

        m_t = o_t * tanh(c_t)          (H,) each unit's output
        h_t = W_hr m_t                 (P,) what the gates read at t+1, and what the layer outputs

    so weight_hh_l0 is (4H, P) and one more array, ``weight_hr_l0`` (P, H), holds the projection.
    Made by ``make_cell("lstm", params)`` when the parameters hold ``weight_hr_l0``.
    """

    display_name = "LSTM (projected)"
    paper = "Hochreiter & Schmidhuber (1997); projection: Sak et al. (2014)"
    param_names = (*PARAM_NAMES, "weight_hr_l0")
    projected = True
    keras_blocks = None  # Keras's LSTM has no projection
    equations = LSTM.equations.replace(r"h_t &= o_t \odot \tanh(c_t)",
                                       r"m_t &= o_t \odot \tanh(c_t)\\" "\n" r"h_t &= W_{hr}\, m_t")
    equation_lines = (
        *LSTM.equation_lines[:3],
        "m_t = o_t·tanh(c_t) = {o}·tanh({c}) = {h}    (h_t = W_hr m_t: the projection of every unit's m)",
    )

    def __init__(self, params: dict[str, np.ndarray]):
        super().__init__(params)
        self._W_hr_T = np.ascontiguousarray(self.params["weight_hr_l0"].T)  # (H, P)

    @classmethod
    def param_shapes(cls, H: int, params: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
        W_hr = params["weight_hr_l0"]
        if W_hr.ndim != 2 or not 0 < W_hr.shape[0] < H:
            raise ValueError(f"weight_hr_l0: expected shape (P, {H}) with 0 < P < H={H} (torch's "
                             f"proj_size), got {W_hr.shape}")
        P = W_hr.shape[0]
        return {"weight_hh_l0": (4 * H, P), "bias_ih_l0": (4 * H,), "bias_hh_l0": (4 * H,),
                "weight_hr_l0": (P, H)}

    @property
    def output_size(self) -> int:
        return self.params["weight_hr_l0"].shape[0]

    def step(self, x_t: np.ndarray, h: np.ndarray, c: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """One token: x_t (I,) or (B, I), h (P,) or (B, P), c (H,) or (B, H) -> (h_t, c_t, gates)."""
        if c is None:
            c = np.zeros((*h.shape[:-1], self.hidden_size), dtype=self.dtype)
        m, c, gates = super().step(x_t, h, c)  # m_t = o_t tanh(c_t)
        return m @ self.params["weight_hr_l0"].T, c, gates  # h_t = W_hr m_t

    def backward(self, trace: Trace, dh: np.ndarray):
        """Exact BPTT, the LSTM's with dL/dm_t = W_hr^T dL/dh_t; adds dL/dW_hr = sum_t dh_t m_t^T."""
        grads = super().backward(trace, dh)
        T, B, P = trace.hs.shape
        dH = grads.h.reshape(T * B, P)  # total dL/dh_t
        grads.params["weight_hr_l0"] = dH.T @ trace.extra["m"].reshape(T * B, self.hidden_size)
        return grads

    def _back_step(self, local, t, dh, dc_next, da, dc):
        """The LSTM's step back from dL/dm_t = dL/dh_t W_hr; returns (dL/dh_{t-1} (P), dL/dc_{t-1})."""
        return super()._back_step(local, t, dh @ self.params["weight_hr_l0"], dc_next, da, dc)
