"""Six LSTM variants, each the LSTM with one part taken away or tied.

Greff, Srivastava, Koutník, Steunebrink & Schmidhuber (2017), "LSTM: A Search Space Odyssey"
(IEEE TNNLS 28(10)), section II-B, applied to PyTorch's LSTM (no peepholes, two biases):

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)      input gate        NIG: i_t = 1
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)      forget gate       NFG: f_t = 1
                                                                          CIFG: i_t = 1 - f_t
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)   candidate         NIAF: g_t = the sum itself
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)      output gate       NOG: o_t = 1
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)                                                 NOAF: h_t = o_t * c_t

A gate that is held at 1 or tied to another has no weights: the parameters stack the blocks of
the gates the variant keeps, in the LSTM's order i, f, g, o with the missing one left out (so
weight_ih_l0 is (3H, I) for NIG, NFG, NOG and CIFG, and (4H, I) for NIAF and NOAF).

:class:`LSTMVariant` runs all six from four flags; each subclass below states its flags and its
facts, and reads like its equations. The backward pass is exact backpropagation through time,
written out by hand, as for the LSTM (cells/lstm.py).
"""

from __future__ import annotations

import numpy as np

from cells.core.cell import CANDIDATE, SIGMOID, Gate, Trace, previous_states
from cells.core.lstm import CANDIDATE_G, FORGET, INPUT, LSTM, OUTPUT, lstm_dataflow

LSTM_ORDER = ("i", "f", "g", "o")

# The gate lines every variant shares, LaTeX and one-unit scrubber form.
F_TEX = r"f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f)\\"
I_TEX = r"i_t &= \sigma(W_i x_t + U_i h_{t-1} + b_i)\\"
O_TEX = r"o_t &= \sigma(W_o x_t + U_o h_{t-1} + b_o)\\"
G_TEX = r"g_t &= \tanh(W_g x_t + U_g h_{t-1} + b_g)\\"
F_LINE = "f_t = σ(W_f x_t + U_f h_[t−1] + b_f) = {f}"
I_LINE = "i_t = σ(W_i x_t + U_i h_[t−1] + b_i) = {i}"
O_LINE = "o_t = σ(W_o x_t + U_o h_[t−1] + b_o) = {o}"
G_LINE = "g_t = tanh(W_g x_t + U_g h_[t−1] + b_g) = {g}"


def _latex(*lines: str) -> str:
    return "\n\\begin{aligned}\n" + "\n".join(lines).removesuffix("\\\\") + "\n\\end{aligned}"


class LSTMVariant(LSTM):
    """The LSTM with one change, chosen by one of the LSTM's four flags (exactly one set):

    ``fixed_gate``: "i", "f" or "o", the gate held at 1 (its block is left out of the weights);
    ``coupled``: i_t = 1 - f_t (the input gate's block is left out);
    ``linear_candidate``: g_t is its pre-activation, no tanh;
    ``linear_output``: h_t = o_t * c_t, no tanh.

    Its ``dataflow`` is the LSTM's with the same change (``cells.core.lstm.lstm_dataflow``).

    ``step`` and ``backward`` are the LSTM's own, which read the flags; ``forward`` and the step
    back are written for the variants here.
    """

    keras_blocks = None  # Keras has no layer for these
    torch_module = None

    def __init_subclass__(cls, **kwargs: object) -> None:
        if hasattr(cls, "arch"):  # the variant's graph, from its flags, before Cell checks it
            cls.dataflow = lstm_dataflow(fixed_gate=cls.fixed_gate, coupled=cls.coupled,
                                         linear_candidate=cls.linear_candidate,
                                         linear_output=cls.linear_output)
        super().__init_subclass__(**kwargs)
        if not hasattr(cls, "arch"):
            return
        changes = [cls.fixed_gate is not None, cls.coupled, cls.linear_candidate, cls.linear_output]
        if sum(changes) != 1:
            raise TypeError(f"{cls.__name__}: an LSTM variant changes exactly one thing")
        left_out = "i" if cls.coupled else cls.fixed_gate
        if cls.gate_names != tuple(n for n in LSTM_ORDER if n != left_out):
            raise TypeError(f"{cls.__name__}: gate_names must be i, f, g, o without {left_out}")

    def __init__(self, params: dict[str, np.ndarray]):
        super().__init__(params)  # the LSTM's: halved sigmoid rows, transposed weights, one bias
        H = self.hidden_size
        self._k = {name: k for k, name in enumerate(self.gate_names)}  # block index of each gate
        # dL/dc_t reaches the pre-activations of i, f, g (the blocks before o); dL/dh_t reaches o's.
        self._c_blocks = sum(name != "o" for name in self.gate_names)
        # One tanh call per run of neighbouring blocks that go through it; a linear candidate is left
        # out of the tanh.
        squashed = np.array([name != "g" or not self.linear_candidate for name in self.gate_names])
        runs: list[list[int]] = []
        for k in map(int, np.flatnonzero(squashed)):
            if runs and runs[-1][1] == k:
                runs[-1][1] = k + 1
            else:
                runs.append([k, k + 1])
        self._squash = [slice(start * H, stop * H) for start, stop in runs]  # NIAF: i f | o

    # -- the equations ----------------------------------------------------------------------------

    def _gate(self, acts: np.ndarray, name: str) -> np.ndarray | None:
        """Block ``name`` of (..., G*H) activations (a view), or None when the variant has none."""
        k = self._k.get(name)
        H = self.hidden_size
        return None if k is None else acts[..., k * H : (k + 1) * H]

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None) -> Trace:
        """Run the sequence x, (T, I) or (T, B, I), from (h0, c0) (zeros if None)."""
        x, batched = self._batch_inputs(x)  # (T, B, I)
        T, B, _ = x.shape
        H, G = self.hidden_size, self.blocks
        h0 = self._initial_state(h0, B, "h0")
        c0 = self._initial_state(c0, B, "c0")

        acts = x @ self._W_ih_T  # (T, B, G*H) input projection of every step at once
        acts += self._b
        hs = np.empty((T, B, H), dtype=self.dtype)
        cs = np.empty((T, B, H), dtype=self.dtype)
        # y_t, the cell state as shown: tanh(c_t) in its own array, c_t itself for NOAF; with no
        # output gate h_t = y_t, so y is written straight into hs.
        ys = cs if self.linear_output else hs if "o" not in self._k else np.empty_like(hs)
        recurrent = np.empty((B, G * H), dtype=self.dtype)
        ig = np.empty((B, H), dtype=self.dtype)
        F, I_, Gc, O = (self._gate(acts, name) for name in ("f", "i", "g", "o"))  # (T, B, H) or None
        h, c = h0, c0
        for t in range(T):
            a = acts[t]  # (B, G*H), sigmoid rows halved
            np.matmul(h, self._W_hh_T, out=recurrent)
            a += recurrent  # pre-activations: W_i x_t + b + W_h h_{t-1}
            for s in self._squash:
                np.tanh(a[:, s], out=a[:, s])
            a *= self._half
            a += self._shift  # i, f, o = σ(.), g = tanh(.) (NIAF: g = .)
            g = Gc[t]  # (B, H) views; f, i, o None where the variant has no such gate
            f = None if F is None else F[t]
            i = None if I_ is None else I_[t]
            o = None if O is None else O[t]
            if f is None:  # NFG: c_t = c_{t-1} + i g
                np.multiply(i, g, out=cs[t])
                cs[t] += c
            elif self.coupled:  # CIFG: c_t = f c_{t-1} + (1 - f) g = g + f (c_{t-1} - g)
                np.subtract(c, g, out=cs[t])
                cs[t] *= f
                cs[t] += g
            elif i is None:  # NIG: c_t = f c_{t-1} + g
                np.multiply(f, c, out=cs[t])
                cs[t] += g
            else:  # c_t = f c_{t-1} + i g
                np.multiply(f, c, out=cs[t])
                np.multiply(i, g, out=ig)
                cs[t] += ig
            if not self.linear_output:
                np.tanh(cs[t], out=ys[t])  # y_t = tanh(c_t)
            if o is not None:
                np.multiply(o, ys[t], out=hs[t])  # h_t = o y_t
            h, c = hs[t], cs[t]
        return Trace(self.arch, batched, x, h0, c0, hs, cs, acts, self.gate_names, {"y": ys})

    # -- backpropagation through time -------------------------------------------------------------

    # Exact BPTT is the LSTM's own loop (dL/dh_t and dL/dc_t back through time, then the weights'
    # gradients); what differs is a variant's blocks, its local derivatives and one step back.
    backward = LSTM.backward

    def _local_derivatives(self, trace: Trace) -> dict[str, np.ndarray]:
        """The chain rule's per-step factors, for every t at once (no Python loop)."""
        T, B, H = trace.hs.shape
        f, i, g, o = (self._gate(trace.acts, name) for name in ("f", "i", "g", "o"))  # (T, B, H)
        y = trace.extra["y"]  # (T, B, H) tanh(c_t), or c_t for NOAF
        c_prev = previous_states(trace.c0, trace.cs)  # (T, B, H)
        dc_to_da = np.empty((T, B, self._c_blocks, H), dtype=self.dtype)  # blocks before o
        for name in self.gate_names[: self._c_blocks]:
            d = dc_to_da[:, :, self._k[name]]
            if name == "i":
                np.subtract(1, i, out=d)
                d *= i
                d *= g  # dc_t/da_i = g σ'(a_i)
            elif name == "f":
                np.subtract(1, f, out=d)
                d *= f
                # dc_t/da_f = c_{t-1} σ'(a_f); CIFG, c_t = f c_{t-1} + (1 - f) g: (c_{t-1} - g) σ'(a_f)
                d *= c_prev - g if self.coupled else c_prev
            else:
                if self.linear_candidate:
                    d[...] = 1  # NIAF: g' = 1
                else:
                    np.multiply(g, g, out=d)
                    np.subtract(1, d, out=d)  # tanh'(a_g) = 1 - g^2
                if i is not None:
                    d *= i  # dc_t/da_g = i g'(a_g)
                elif self.coupled:
                    d *= 1 - f  # CIFG: dc_t/da_g = (1 - f) tanh'(a_g); NIG: tanh'(a_g)
        # dh_t/dc_t = o y'(c_t), with y' = 1 - tanh(c_t)^2, or 1 for NOAF; o = 1 for NOG.
        dh_to_dc = np.ones((T, B, H), dtype=self.dtype) if self.linear_output else 1 - y * y
        if o is not None:
            dh_to_dc *= o
        local = {"dc_to_da": dc_to_da, "dh_to_dc": dh_to_dc, "f": f}
        if o is not None:
            local["dh_to_da_o"] = o * (1 - o) * y  # dh_t/da_o = y_t σ'(a_o)
        return local

    def _back_step(self, local, t, dh, dc_next, da, dc):
        """One step back. dh: total dL/dh_t; dc_next: dL/dc_t through step t+1.

        Writes dL/da_t into ``da`` and the total dL/dc_t into ``dc``; returns (dL/dh_{t-1}, dL/dc_{t-1})
        through step t. Broadcasts: ``dh`` may hold many rows for one sequence (jacobian_norms).
        """
        H, n = self.hidden_size, self._c_blocks
        np.multiply(dh, local["dh_to_dc"][t], out=dc)
        dc += dc_next  # dL/dc_t = from h_t + from c_{t+1}
        da_blocks = da.reshape(*da.shape[:-1], self.blocks, H)
        np.multiply(dc[..., None, :], local["dc_to_da"][t], out=da_blocks[..., :n, :])  # dL/da_{i,f,g}
        if n < self.blocks:
            np.multiply(dh, local["dh_to_da_o"][t], out=da_blocks[..., n, :])  # dL/da_o
        f = local["f"]
        dc_prev = dc.copy() if f is None else dc * f[t]  # dL/dc_{t-1} = f dL/dc_t (NFG: f = 1)
        return da @ self.params["weight_hh_l0"], dc_prev


class LSTMNoInputGate(LSTMVariant):
    """No input gate, i_t = 1: every candidate is written whole.

        f_t = σ(W_f x_t + U_f h_{t-1} + b_f),  g_t = tanh(...),  o_t = σ(...)
        c_t = f_t * c_{t-1} + g_t,  h_t = o_t * tanh(c_t)          blocks f, g, o
    """

    arch = "lstm-nig"
    display_name = "LSTM-NIG"
    paper = "Greff et al. (2017), no input gate"
    fixed_gate = "i"
    gate_names = ("f", "g", "o")
    gates = (FORGET, OUTPUT, Gate("g", "candidate g (tanh)", CANDIDATE, "written into c_t whole (i = 1)"))
    memory_gate = "f"
    equations = _latex(
        F_TEX, O_TEX, G_TEX, r"c_t &= f_t \odot c_{t-1} + g_t\\", r"h_t &= o_t \odot \tanh(c_t)"
    )
    equation_lines = (
        f"{F_LINE}    {O_LINE}",
        f"{G_LINE}    (no input gate: i_t = 1)",
        "c_t = f_t·c_[t−1] + g_t = {f}·({cprev}) + ({g}) = {c}",
        "h_t = o_t·tanh(c_t) = {o}·tanh({c}) = {h}",
    )
    chrono = (("f", 1.0),)  # b_f = log u


class LSTMNoForgetGate(LSTMVariant):
    """No forget gate, f_t = 1: the cell state is a running sum and never forgets.

        i_t = σ(...),  g_t = tanh(...),  o_t = σ(...)
        c_t = c_{t-1} + i_t * g_t,  h_t = o_t * tanh(c_t)          blocks i, g, o

    The memory path along c is d c_t / d c_{t-1} = 1 at every step (the constant error carousel of
    the original 1997 LSTM, before Gers et al. added the forget gate).
    """

    arch = "lstm-nfg"
    display_name = "LSTM-NFG"
    paper = "Greff et al. (2017), no forget gate (Hochreiter & Schmidhuber 1997)"
    fixed_gate = "f"
    gate_names = ("i", "g", "o")
    gates = (INPUT, OUTPUT, CANDIDATE_G)
    memory_gate = None  # the memory path is c_{t-1} -> c_t with factor 1 (memory_path below)
    forget_bias_gate = None
    chrono = ()
    equations = _latex(
        I_TEX, O_TEX, G_TEX, r"c_t &= c_{t-1} + i_t \odot g_t\\", r"h_t &= o_t \odot \tanh(c_t)"
    )
    equation_lines = (
        f"{I_LINE}    {O_LINE}",
        f"{G_LINE}    (no forget gate: f_t = 1)",
        "c_t = c_[t−1] + i_t·g_t = ({cprev}) + {i}·({g}) = {c}",
        "h_t = o_t·tanh(c_t) = {o}·tanh({c}) = {h}",
    )

    def memory_path(self, trace: Trace) -> np.ndarray:
        """d c_t / d c_{t-1} = 1 at every step and unit: (T, [B], H) ones."""
        return np.ones_like(trace.c)


class LSTMNoOutputGate(LSTMVariant):
    """No output gate, o_t = 1: the whole squashed cell state is shown.

        i_t, f_t = σ(...),  g_t = tanh(...)
        c_t = f_t * c_{t-1} + i_t * g_t,  h_t = tanh(c_t)          blocks i, f, g
    """

    arch = "lstm-nog"
    display_name = "LSTM-NOG"
    paper = "Greff et al. (2017), no output gate"
    fixed_gate = "o"
    gate_names = ("i", "f", "g")
    gates = (FORGET, INPUT, CANDIDATE_G)
    memory_gate = "f"
    equations = _latex(
        F_TEX, I_TEX, G_TEX, r"c_t &= f_t \odot c_{t-1} + i_t \odot g_t\\", r"h_t &= \tanh(c_t)"
    )
    equation_lines = (
        f"{F_LINE}    {I_LINE}",
        f"{G_LINE}    (no output gate: o_t = 1)",
        "c_t = f_t·c_[t−1] + i_t·g_t = {f}·({cprev}) + {i}·({g}) = {c}",
        "h_t = tanh(c_t) = tanh({c}) = {h}",
    )
    chrono = (("f", 1.0), ("i", -1.0))  # b_f = log u, b_i = -log u


class LSTMNoInputActivation(LSTMVariant):
    """No input activation function: the candidate is its pre-activation, unbounded.

        i_t, f_t, o_t = σ(...),  g_t = W_g x_t + U_g h_{t-1} + b_g
        c_t = f_t * c_{t-1} + i_t * g_t,  h_t = o_t * tanh(c_t)    blocks i, f, g, o
    """

    arch = "lstm-niaf"
    display_name = "LSTM-NIAF"
    paper = "Greff et al. (2017), no input activation function"
    linear_candidate = True
    gate_names = ("i", "f", "g", "o")
    gates = (
        FORGET,
        INPUT,
        OUTPUT,
        Gate("g", "candidate g (linear)", CANDIDATE, "the new content offered to the cell state, unsquashed"),
    )
    memory_gate = "f"
    equations = _latex(
        F_TEX, I_TEX, O_TEX, r"g_t &= W_g x_t + U_g h_{t-1} + b_g\\",
        r"c_t &= f_t \odot c_{t-1} + i_t \odot g_t\\", r"h_t &= o_t \odot \tanh(c_t)",
    )
    equation_lines = (
        f"{F_LINE}    {I_LINE}",
        f"{O_LINE}    g_t = W_g x_t + U_g h_[t−1] + b_g = {{g}}",
        "c_t = f_t·c_[t−1] + i_t·g_t = {f}·({cprev}) + {i}·({g}) = {c}",
        "h_t = o_t·tanh(c_t) = {o}·tanh({c}) = {h}",
    )
    chrono = (("f", 1.0), ("i", -1.0))


class LSTMNoOutputActivation(LSTMVariant):
    """No output activation function: h shows the cell state unsquashed, h_t = o_t * c_t.

        i_t, f_t, o_t = σ(...),  g_t = tanh(...)
        c_t = f_t * c_{t-1} + i_t * g_t,  h_t = o_t * c_t          blocks i, f, g, o
    """

    arch = "lstm-noaf"
    display_name = "LSTM-NOAF"
    paper = "Greff et al. (2017), no output activation function"
    linear_output = True
    gate_names = ("i", "f", "g", "o")
    gates = (FORGET, INPUT, Gate("o", "output gate o", SIGMOID, "how much of c_t is shown as h_t"),
             CANDIDATE_G)
    memory_gate = "f"
    equations = _latex(
        F_TEX, I_TEX, O_TEX, G_TEX, r"c_t &= f_t \odot c_{t-1} + i_t \odot g_t\\", r"h_t &= o_t \odot c_t"
    )
    equation_lines = (
        f"{F_LINE}    {I_LINE}",
        f"{O_LINE}    {G_LINE}",
        "c_t = f_t·c_[t−1] + i_t·g_t = {f}·({cprev}) + {i}·({g}) = {c}",
        "h_t = o_t·c_t = {o}·({c}) = {h}",
    )
    chrono = (("f", 1.0), ("i", -1.0))


class LSTMCoupledGates(LSTMVariant):
    """Coupled input and forget gate, i_t = 1 - f_t: what is forgotten is what gets written.

        f_t = σ(...),  g_t = tanh(...),  o_t = σ(...)
        c_t = f_t * c_{t-1} + (1 - f_t) * g_t,  h_t = o_t * tanh(c_t)      blocks f, g, o

    (The GRU's update rule, h_t = (1 - z_t) n_t + z_t h_{t-1}, couples its gates the same way.)
    """

    arch = "lstm-cifg"
    display_name = "LSTM-CIFG"
    paper = "Greff et al. (2017), coupled input and forget gate"
    coupled = True
    gate_names = ("f", "g", "o")
    gates = (
        Gate("f", "forget gate f", SIGMOID,
             "keeps f of c_{t-1} and writes 1 − f of the candidate (i = 1 − f)"),
        OUTPUT,
        CANDIDATE_G,
    )
    memory_gate = "f"
    equations = _latex(
        F_TEX, r"i_t &= 1 - f_t\\", O_TEX, G_TEX,
        r"c_t &= f_t \odot c_{t-1} + (1 - f_t) \odot g_t\\", r"h_t &= o_t \odot \tanh(c_t)",
    )
    equation_lines = (
        f"{F_LINE}    i_t = 1 − f_t = 1 − {{f}}",
        f"{O_LINE}    {G_LINE}",
        "c_t = f_t·c_[t−1] + (1 − f_t)·g_t = {f}·({cprev}) + (1 − {f})·({g}) = {c}",
        "h_t = o_t·tanh(c_t) = {o}·tanh({c}) = {h}",
    )
    chrono = (("f", 1.0),)  # b_f = log u; i = 1 - f follows
