"""Training recurrent cells: a linear readout, Adam, gradient-norm clipping and the trainer.

One training step on a batch ``x`` (T, B, I):

    h_t = cell(x_t, h_{t-1})                      cell.forward, every t
    y_hat = W h + b                               the readout, on h_{T-1} or on every h_t
    L = MSE(y_hat, y)  or  mean -log softmax(y_hat)[y]  or  mean sum_k BCE(sigmoid(y_hat_k), y_k)
    dL/dW, dL/db, dL/dh_t                         readout backward
    dL/dtheta                                     cell.backward (exact BPTT)
    g <- g * min(1, c / ||g||)                    clip the global gradient norm at c
    theta <- Adam(theta, g)                       (Kingma & Ba 2015)

``train_task`` runs this loop on a task from ``cells.tasks`` and reports the loss on fresh
held-out sequences. Everything is seeded: the same arguments give the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cells.core.cell import Cell
from cells.core.readout import READOUT_BIAS, READOUT_WEIGHT, Readout, log_softmax
from cells.core.registry import cell_class, init_params, make_cell, set_gate_bias
from cells.train import tasks as _tasks

# ----------------------------------------------------------------------------------------------
# losses


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over all entries, and its gradient with respect to ``pred``."""
    diff = pred - target
    return float(np.mean(diff ** 2)), 2.0 * diff / diff.size


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean -log softmax(logits)[target] in nats, and its gradient with respect to ``logits``.

    ``logits`` (..., O), ``target`` (...) integer class ids.
    """
    logp = log_softmax(logits)                                             # (..., O)
    picked = np.take_along_axis(logp, target[..., None], axis=-1)[..., 0]  # (...)
    n = picked.size
    dlogits = np.exp(logp)
    np.put_along_axis(dlogits, target[..., None],
                      np.take_along_axis(dlogits, target[..., None], axis=-1) - 1.0, axis=-1)
    return float(-picked.mean()), dlogits / n


def binary_cross_entropy(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Multi-label negative log-likelihood in nats, and its gradient with respect to ``logits``.

    Each output k is an independent Bernoulli with p_k = sigmoid(logits_k) (a piano roll: each key
    on or off), so one output vector's NLL is sum_k -[y_k log p_k + (1 - y_k) log(1 - p_k)]; the
    loss is its mean over the vectors (all leading axes), i.e. NLL per step for a sequence.
    ``logits`` (..., O), ``target`` (..., O) in [0, 1]. Written as softplus(z) - y z, stable for
    any finite logits; the gradient is (sigmoid(z) - y) / (number of vectors).
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    if z.shape != y.shape:
        raise ValueError(f"bce: logits {z.shape} and targets {y.shape} differ in shape")
    n = z.size // z.shape[-1] if z.ndim else 1
    nll = np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z)))
    grad = (0.5 + 0.5 * np.tanh(0.5 * z) - y) / n
    return float(nll.sum() / n), grad.astype(np.asarray(logits).dtype, copy=False)


LOSSES = {"mse": mse_loss, "xent": cross_entropy, "bce": binary_cross_entropy}
"""The trainer's losses by name: regression, softmax classification, multi-label (sigmoid) outputs."""


# ----------------------------------------------------------------------------------------------
# optimiser


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients in place so their global L2 norm is at most ``max_norm``.

    Returns the norm before clipping (non-finite if any gradient is).
    """
    norm = float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads.values())))
    if norm > max_norm:
        scale = max_norm / norm
        for g in grads.values():
            g *= scale
    return norm


class Adam:
    """Adam (Kingma & Ba 2015) over a dict of arrays, updated in place.

        m <- b1 m + (1 - b1) g
        v <- b2 v + (1 - b2) g^2
        theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    def __init__(self, params: dict[str, np.ndarray], lr: float = 1e-3, betas: tuple[float, float]
                 = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params = params
        self.lr = lr
        self.b1, self.b2 = betas
        self.eps = eps
        self.t = 0
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, grads: dict[str, np.ndarray], lr: float | None = None) -> None:
        """One update of every parameter from its gradient (same keys as the params)."""
        lr = self.lr if lr is None else lr
        self.t += 1
        m_scale = 1.0 / (1.0 - self.b1 ** self.t)            # bias corrections
        v_scale = 1.0 / np.sqrt(1.0 - self.b2 ** self.t)
        for k, p in self.params.items():
            g = grads[k]
            m, v = self.m[k], self.v[k]
            m *= self.b1
            m += (1.0 - self.b1) * g
            v *= self.b2
            v += (1.0 - self.b2) * g * g
            p -= (lr * m_scale * m / (np.sqrt(v) * v_scale + self.eps)).astype(p.dtype, copy=False)


# ----------------------------------------------------------------------------------------------
# trainer


def readout_outputs(cell: Cell, readout: Readout, x: np.ndarray, at_every_step: bool) -> np.ndarray:
    """The readout on every h_t, (T, B, O), or on the last one only, (B, O); x (T, B, I)."""
    h = cell.forward(x).h                                            # (T, B, H)
    return readout(h if at_every_step else h[-1])


class Trainer:
    """A cell, a readout on its hidden states, a loss, Adam and clipping: one ``step`` per batch.

    ``loss`` is ``"mse"``, ``"xent"`` or ``"bce"`` (:data:`LOSSES`); ``at_every_step`` puts the
    readout on every h_t (language modelling) rather than on the last one only. Cells are
    immutable, so the trainer keeps the parameters and makes a fresh cell from them after every
    update (``self.cell``).
    """

    def __init__(self, cell: Cell, readout: Readout, *, loss: str, at_every_step: bool,
                 lr: float, clip: float = 1.0) -> None:
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(map(repr, LOSSES))}, got {loss!r}")
        self.cell = cell
        self.readout = readout
        self.loss = loss
        self.at_every_step = at_every_step
        self.clip = clip
        self.cell_params = {k: p.copy() for k, p in cell.params.items()}
        self.adam = Adam({**self.cell_params, **readout.params}, lr=lr)
        self.last_grad_norm = 0.0

    def _loss(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        return LOSSES[self.loss](out, y)

    def outputs(self, x: np.ndarray) -> np.ndarray:
        """Readout outputs: (T, B, O) if ``at_every_step`` else (B, O), for x (T, B, I)."""
        return readout_outputs(self.cell, self.readout, x, self.at_every_step)

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> float:
        """The loss on a batch, without training."""
        return self._loss(self.outputs(x), y)[0]

    def test(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        """(loss, accuracy) on a batch; accuracy (argmax = target) only for cross-entropy."""
        out = self.outputs(x)
        accuracy = float(np.mean(out.argmax(-1) == y)) if self.loss == "xent" else None
        return self._loss(out, y)[0], accuracy

    def gradients(self, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """(loss, dL/dtheta) on batch (x (T, B, I), y): the cell's and the readout's, unclipped."""
        trace = self.cell.forward(x)
        h = trace.h                                                  # (T, B, H)
        h_out = h if self.at_every_step else h[-1]
        loss, dout = self._loss(self.readout(h_out), y)
        dW, db, dh_out = self.readout.backward(h_out, dout)
        if self.at_every_step:
            dh = dh_out                                              # (T, B, H)
        else:
            dh = np.zeros_like(h)
            dh[-1] = dh_out
        grads = self.cell.backward(trace, dh).params
        return loss, {**grads, READOUT_WEIGHT: dW, READOUT_BIAS: db}

    def step(self, x: np.ndarray, y: np.ndarray, lr: float | None = None) -> float:
        """One clipped Adam step on a batch; returns the batch loss before the step.

        A batch whose gradient is not finite is skipped (the parameters stay as they were).
        """
        loss, grads = self.gradients(x, y)
        self.last_grad_norm = clip_grad_norm(grads, self.clip)
        if np.isfinite(self.last_grad_norm):
            self.adam.step(grads, lr)
            self.cell = make_cell(self.cell.arch, self.cell_params)
        return loss


@dataclass
class TrainResult:
    """What ``train_task`` reports. ``history`` holds (step, training-batch loss) for every step."""

    arch: str
    task: _tasks.Task
    cell: Cell
    readout: Readout
    test_loss: float
    solved: bool
    seconds: float
    steps: int
    history: list[tuple[int, float]] = field(default_factory=list)
    test_accuracy: float | None = None

    def example(self, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """One fresh sequence of the task: (x (T, I), its target), e.g. to show the gates."""
        x, y = self.task.batch(np.random.default_rng(seed), 1, self.cell.dtype)
        return x[:, 0], (y[:, 0] if self.task.at_every_step else y[0])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The trained model's outputs for x (T, B, I): (T, B, O) for a task scored at every
        step (chars, series), else (B, O)."""
        return readout_outputs(self.cell, self.readout, x, self.task.at_every_step)


#: Per-task defaults (batch size, Adam learning rate): measured on the adding problem at T=50,
#: H=32 (bench/bench_train.py) and on the fortunes corpus (scripts/train_char.py).
DEFAULTS = {"adding": (64, 1e-2), "recall": (64, 1e-2), "series": (32, 1e-2), "chars": (32, 1e-2),
            "values": (32, 1e-2)}
TEST_SEQUENCES = 1000


def chrono_init(arch: str, params: dict[str, np.ndarray], max_lag: int, *, seed: int
                ) -> dict[str, np.ndarray]:
    """Chrono initialisation (Tallec & Ollivier 2018, "Can recurrent neural networks warp time?").

    A gate that keeps the old state with probability sigma(b) remembers for about 1 / (1 -
    sigma(b)) ~ e^b steps, so drawing b = log(U(1, max_lag - 1)) spreads the units' memory spans
    over the lags the task needs. Each cell states its rule as (gate, sign) pairs (``chrono``):

        LSTM: b_f = log(u), b_i = -b_f           GRU: b_z = log(u)      (u ~ U(1, max_lag - 1))

    (in the GRU, h_t = (1 - z) n + z h_{t-1}, z plays the forget gate's part). The bias sits in
    ``bias_ih_l0``, with ``bias_hh_l0``'s block zeroed. A cell without a rule (the tanh RNN) is
    unchanged. Returns new arrays; ``params`` is not modified.
    """
    cls = cell_class(arch)
    out = {k: a.copy() for k, a in params.items()}
    if not cls.chrono:
        return out
    H = out["weight_hh_l0"].shape[1]
    log_u = np.log(np.random.default_rng(seed).uniform(1.0, max(max_lag - 1, 1.0), H))   # (H,)
    for gate, sign in cls.chrono:
        set_gate_bias(cls, out, gate, sign * log_u)
    return out


def train_task(arch: str, task: str, *, length: int, hidden_size: int, steps: int, seed: int,
               callback: Callable[[int, float], bool | None] | None = None,
               batch_size: int | None = None, lr: float | None = None, clip: float = 1.0,
               dtype: type = np.float64, max_seconds: float | None = None,
               text: str | None = None, values: np.ndarray | None = None,
               chrono: bool = True) -> TrainResult:
    """Train a fresh ``arch`` cell with a readout on ``task`` and test it on held-out sequences.

    ``task`` is ``"adding"``, ``"recall"``, ``"series"``, ``"chars"`` (next-character
    prediction on ``text``) or ``"values"`` (next-value prediction on windows of the series
    ``values``; its test loss is on windows of that same series, so score held-out data apart);
    ``.solved`` is the task's own pass mark (``Task.solved``).
    ``callback(step, loss)`` is called after every step (1-based); returning False stops training.
    ``max_seconds`` bounds the wall-clock time of training. ``chrono`` sets the gate biases of
    the LSTM and GRU by ``chrono_init`` with max_lag = ``length`` (without it, the long-lag recall
    task at length 50 leaves both gated cells at chance for thousands of steps, in PyTorch too).
    Training, test data and weights come from separate seeded generators, so equal arguments give
    equal results.
    """
    the_task = _tasks.make_task(task, length, text=text, values=values)
    default_batch, default_lr = DEFAULTS[task]
    batch_size = batch_size or default_batch
    lr = lr or default_lr
    params = init_params(arch, the_task.input_size, hidden_size, seed=seed, dtype=dtype)
    if chrono:
        params = chrono_init(arch, params, length, seed=seed + 2)
    cell = make_cell(arch, params)
    readout = Readout.init(hidden_size, the_task.output_size, seed=seed + 1, dtype=dtype)
    trainer = Trainer(cell, readout, loss=the_task.loss, at_every_step=the_task.at_every_step,
                      lr=lr, clip=clip)
    train_rng = np.random.default_rng([seed, 0])
    history: list[tuple[int, float]] = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        x, y = the_task.batch(train_rng, batch_size, dtype)
        loss = trainer.step(x, y)
        history.append((step, loss))
        if callback is not None and callback(step, loss) is False:
            break
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            break
    seconds = time.perf_counter() - start

    test_loss, accuracy = trainer.test(
        *the_task.batch(np.random.default_rng([seed, 1]), TEST_SEQUENCES, dtype))
    return TrainResult(arch=arch, task=the_task, cell=trainer.cell, readout=trainer.readout,
                       test_loss=test_loss, solved=the_task.solved(test_loss, accuracy),
                       seconds=seconds, steps=len(history), history=history,
                       test_accuracy=accuracy)
