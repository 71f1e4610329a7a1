"""The trainer, its parts (readout, losses, Adam, clipping) and the task generators."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import cells
from cells.core.readout import Readout
from cells.models.encoders import build_vocab, char_ids, one_hot
from cells.train import trainer
from cells.train.tasks import AddingTask, CharTask, RecallTask, SeriesTask
from cells.train.trainer import (
    Adam,
    Trainer,
    binary_cross_entropy,
    chrono_init,
    clip_grad_norm,
    cross_entropy,
    mse_loss,
    train_task,
)

# ---------------------------------------------------------------------------------------------
# tasks


def test_adding_batch_marks_one_value_in_each_half_and_targets_their_sum():
    T, B = 20, 50
    x, y = AddingTask(T).batch(np.random.default_rng(0), B)
    assert x.shape == (T, B, 2) and y.shape == (B, 1)
    assert np.all((x[..., 0] >= 0) & (x[..., 0] <= 1))
    for b in range(B):
        marked = [t for t in range(T) if x[t, b, 1] == 1.0]
        assert len(marked) == 2 and set(np.unique(x[:, b, 1])) <= {0.0, 1.0}
        assert marked[0] < T // 2 <= marked[1]
        assert y[b, 0] == pytest.approx(x[marked[0], b, 0] + x[marked[1], b, 0])


def test_adding_baseline_of_always_one_scores_the_variance_one_sixth():
    _, y = AddingTask(50).batch(np.random.default_rng(1), 20000)
    assert mse_loss(np.ones_like(y), y)[0] == pytest.approx(1 / 6, abs=0.01)


def test_recall_batch_asks_for_the_first_symbol_after_distractors():
    task = RecallTask(12, num_symbols=3, num_distractors=5)
    x, y = task.batch(np.random.default_rng(0), 40)
    tokens = x.argmax(-1)                                          # (T, B)
    assert x.shape == (12, 40, 9) and np.all(x.sum(-1) == 1)
    assert np.array_equal(tokens[0], y) and np.all(y < 3)
    assert np.all((tokens[1:-1] >= 3) & (tokens[1:-1] < 8))
    assert np.all(tokens[-1] == 8)


def test_char_task_targets_are_the_inputs_shifted_by_one():
    text = "abcabd, the quick brown fox"
    task = CharTask(text, 6, vocab="abc d")
    x, y = task.batch(np.random.default_rng(0), 5)
    assert x.shape == (6, 5, 6) and y.shape == (6, 5)
    ids = x.argmax(-1)
    assert np.array_equal(ids[1:], y[:-1])
    full = char_ids(text, "abc d")                                   # unknown id is len(vocab) = 5
    starts = range(len(full) - 6)
    for b in range(5):                                             # each column: a window of the text
        window = np.r_[ids[:, b], y[-1, b]]
        assert any(np.array_equal(full[s : s + 7], window) for s in starts)
    assert char_ids("az", "abc d").tolist() == [0, 5]


def test_series_targets_are_the_next_values_and_the_noise_sets_the_floor():
    task = SeriesTask(30, noise=0.0)
    x, y = task.batch(np.random.default_rng(0), 64)
    assert x.shape == y.shape == (30, 64, 1)
    assert np.array_equal(x[1:], y[:-1]) and np.abs(x).max() <= 1.0
    # a sum of two sines obeys x_{t+4} + x_t = a (x_{t+3} + x_{t+1}) + b x_{t+2} for some a, b
    for s in x[:, :, 0].T:
        A = np.stack([s[3:-1] + s[1:-3], s[2:-2]], axis=1)
        rhs = s[4:] + s[:-4]
        coef = np.linalg.lstsq(A, rhs, rcond=None)[0]
        assert np.allclose(A @ coef, rhs, atol=1e-8)
    noisy_x, _ = SeriesTask(30, noise=0.1).batch(np.random.default_rng(0), 64)
    assert np.std(noisy_x - x) == pytest.approx(0.1, rel=0.05)
    assert SeriesTask(30).solved(0.004, None) and not SeriesTask(30).solved(0.01, None)


def test_build_vocab_orders_by_frequency_and_drops_rare_characters():
    assert build_vocab("aabbbcx", min_count=2) == "ba"
    assert build_vocab("ba", max_size=1) == "a"


def test_one_hot_puts_a_single_one_at_each_id():
    oh = one_hot(np.array([[2, 0]]), 3)
    assert oh.tolist() == [[[0, 0, 1], [1, 0, 0]]]


def test_unknown_task_and_bad_length_are_value_errors():
    with pytest.raises(ValueError, match="unknown task"):
        train_task("lstm", "sorting", length=5, hidden_size=4, steps=1, seed=0)
    with pytest.raises(ValueError, match="length"):
        AddingTask(1)


# ---------------------------------------------------------------------------------------------
# readout, losses, optimiser


def _numeric_grad(f, a: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + eps
        fp = f()
        a[idx] = old - eps
        fm = f()
        a[idx] = old
        g[idx] = (fp - fm) / (2 * eps)
    return g


def test_cross_entropy_matches_a_direct_formula_and_finite_differences():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 4, 5))
    target = rng.integers(0, 5, size=(3, 4))
    loss, grad = cross_entropy(logits, target)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    direct = -np.mean(np.log(p.reshape(-1, 5)[np.arange(12), target.ravel()]))
    assert loss == pytest.approx(direct, rel=1e-12)
    assert np.allclose(grad, _numeric_grad(lambda: cross_entropy(logits, target)[0], logits),
                       atol=1e-8)


def test_bce_is_the_multi_label_nll_per_vector_and_its_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(3, 4, 5))
    target = (rng.random((3, 4, 5)) < 0.3).astype(float)
    loss, grad = binary_cross_entropy(logits, target)
    p = 1.0 / (1.0 + np.exp(-logits))
    direct = -np.sum(target * np.log(p) + (1 - target) * np.log(1 - p)) / 12  # 12 vectors of 5
    assert loss == pytest.approx(direct, rel=1e-12)
    assert np.allclose(grad, _numeric_grad(lambda: binary_cross_entropy(logits, target)[0], logits),
                       atol=1e-8)
    far = np.array([[800.0, -800.0]])  # no overflow: -log sigmoid(-800) = 800 exactly
    assert binary_cross_entropy(far, np.array([[0.0, 1.0]]))[0] == pytest.approx(1600.0)
    assert binary_cross_entropy(far, np.array([[1.0, 0.0]]))[0] == pytest.approx(0.0, abs=1e-300)


def test_trainer_with_bce_backpropagates_through_the_cell_and_learns_a_piano_roll():
    rng = np.random.default_rng(1)
    roll = (rng.random((9, 2, 6)) < 0.4).astype(float)  # (T+1, B, keys): predict the next step
    x, y = roll[:-1], roll[1:]
    cell = cells.make_cell("gru", cells.init_params("gru", 6, 4, seed=1))
    trainer = Trainer(cell, Readout.init(4, 6, seed=2), loss="bce", at_every_step=True, lr=1e-2)
    _, grads = trainer.gradients(x, y)
    params = {**trainer.cell_params, **trainer.readout.params}

    def loss() -> float:
        trainer.cell = cells.make_cell("gru", trainer.cell_params)
        return trainer.evaluate(x, y)

    for key in ("weight_hh_l0", "bias_ih_l0", "readout.bias"):
        assert np.allclose(grads[key], _numeric_grad(loss, params[key]), atol=1e-7), key
    trainer.cell = cells.make_cell("gru", trainer.cell_params)
    first = trainer.evaluate(x, y)
    for _ in range(200):
        trainer.step(x, y)
    assert trainer.evaluate(x, y) < 0.5 * first
    assert trainer.test(x, y)[1] is None  # no accuracy for multi-label outputs
    with pytest.raises(ValueError, match="'bce'"):
        Trainer(cell, Readout.init(4, 6, seed=2), loss="hinge", at_every_step=True, lr=1e-2)


def test_readout_backward_matches_finite_differences():
    rng = np.random.default_rng(0)
    ro = Readout.init(4, 3, seed=0)
    h = rng.normal(size=(5, 2, 4))
    y = rng.normal(size=(5, 2, 3))

    def loss() -> float:
        return mse_loss(ro(h), y)[0]

    dW, db, dh = ro.backward(h, mse_loss(ro(h), y)[1])
    assert np.allclose(dW, _numeric_grad(loss, ro.weight), atol=1e-8)
    assert np.allclose(db, _numeric_grad(loss, ro.bias), atol=1e-8)
    assert np.allclose(dh, _numeric_grad(loss, h), atol=1e-8)


@pytest.mark.parametrize("arch", cells.ARCHS)
@pytest.mark.parametrize("task", [AddingTask(6), CharTask("to be or not to be, " * 4, 7)])
def test_trainer_gradients_match_finite_differences_of_the_loss(arch, task):
    rng = np.random.default_rng(3)
    cell = cells.make_cell(arch, cells.init_params(arch, task.input_size, 4, seed=1))
    trainer = Trainer(cell, Readout.init(4, task.output_size, seed=2), loss=task.loss,
                      at_every_step=task.at_every_step, lr=1e-3)
    x, y = task.batch(rng, 3)
    _, grads = trainer.gradients(x, y)
    params = {**trainer.cell_params, **trainer.readout.params}

    def loss() -> float:
        trainer.cell = cells.make_cell(arch, trainer.cell_params)
        return trainer.evaluate(x, y)

    for key in ("weight_hh_l0", "bias_ih_l0", "readout.weight"):
        assert np.allclose(grads[key], _numeric_grad(loss, params[key]), atol=1e-7), key


def test_clip_grad_norm_scales_to_the_limit_and_leaves_small_gradients_alone():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert clip_grad_norm(grads, 1.0) == pytest.approx(5.0)
    assert np.allclose(grads["a"], [0.6, 0.0]) and np.allclose(grads["b"], [[0.8]])
    small = {"a": np.array([0.3, 0.4])}
    assert clip_grad_norm(small, 1.0) == pytest.approx(0.5)
    assert np.allclose(small["a"], [0.3, 0.4])


def test_adam_first_step_moves_each_parameter_by_lr_against_its_gradient_sign():
    p = {"w": np.array([1.0, -2.0, 0.5])}
    Adam(p, lr=0.1).step({"w": np.array([10.0, -0.001, 3.0])})
    assert np.allclose(p["w"], [0.9, -1.9, 0.4], atol=1e-6)


def test_adam_minimises_a_quadratic():
    target = np.array([1.0, -3.0, 2.0])
    p = {"w": np.zeros(3)}
    opt = Adam(p, lr=0.05)
    for _ in range(2000):
        opt.step({"w": 2 * (p["w"] - target)})
    assert np.allclose(p["w"], target, atol=1e-3)


# ---------------------------------------------------------------------------------------------
# train_task


def test_train_task_reduces_the_loss_on_a_small_adding_problem():
    seen = []
    r = train_task("lstm", "adding", length=8, hidden_size=8, steps=300, seed=0,
                   callback=lambda step, loss: seen.append(step))
    first = np.mean([loss for _, loss in r.history[:20]])
    last = np.mean([loss for _, loss in r.history[-20:]])
    assert last < 0.25 * first
    assert r.test_loss < 0.05 and r.steps == 300 and seen == list(range(1, 301))
    assert r.cell.arch == "lstm" and r.test_accuracy is None
    assert r.predict(r.task.batch(np.random.default_rng(0), 3)[0]).shape == (3, 1)
    x, y = r.example(seed=5)
    assert x.shape == (8, 2) and y.shape == (1,)
    assert y[0] == pytest.approx(x[x[:, 1] == 1, 0].sum())


def test_seconds_time_the_training_loop_and_max_seconds_stops_it(monkeypatch):
    """On a fake clock that moves 1 s per training step (the callback runs once per step)."""
    clock = {"now": 0.0}
    monkeypatch.setattr(trainer, "time", SimpleNamespace(perf_counter=lambda: clock["now"]))

    def tick(step, loss):
        clock["now"] += 1.0

    r = train_task("rnn", "adding", length=5, hidden_size=4, steps=5, seed=0, callback=tick)
    assert r.steps == 5 and r.seconds == 5.0
    r = train_task("rnn", "adding", length=5, hidden_size=4, steps=100, seed=0, callback=tick,
                   max_seconds=2.5)
    assert r.steps == 3 and r.seconds == 3.0  # the first step that ends past 2.5 s is the last


def test_train_task_learns_recall_over_a_short_lag():
    r = train_task("gru", "recall", length=6, hidden_size=16, steps=300, seed=0)
    assert r.test_accuracy > 0.9 and r.test_loss < np.log(4) / 4


def test_train_task_is_reproducible_and_depends_on_the_seed():
    a = train_task("gru", "adding", length=6, hidden_size=4, steps=20, seed=3)
    b = train_task("gru", "adding", length=6, hidden_size=4, steps=20, seed=3)
    c = train_task("gru", "adding", length=6, hidden_size=4, steps=20, seed=4)
    assert a.history == b.history and a.test_loss == b.test_loss
    assert a.history != c.history


def test_callback_returning_false_stops_training_early():
    r = train_task("rnn", "adding", length=5, hidden_size=4, steps=100, seed=0,
                   callback=lambda step, loss: step < 7)
    assert r.steps == 7 and len(r.history) == 7


def test_float32_training_keeps_float32_weights():
    r = train_task("lstm", "chars", length=10, hidden_size=6, steps=30, seed=0,
                   dtype=np.float32, text="a stitch in time saves nine. " * 10)
    assert r.cell.dtype == np.float32 and r.readout.weight.dtype == np.float32
    assert r.history[-1][1] < r.history[0][1] and np.isfinite(r.test_loss)


@pytest.mark.parametrize("arch", ("lstm", "gru", "rnn"))  # the variants: tests/test_variants.py
def test_chrono_init_spreads_the_keep_gate_biases_over_log_lags(arch):
    H, L = 64, 40
    params = cells.init_params(arch, 3, H, seed=0)
    before = {k: a.copy() for k, a in params.items()}
    out = chrono_init(arch, params, L, seed=1)
    assert all(np.array_equal(params[k], before[k]) for k in params)      # input untouched
    if arch == "rnn":
        assert all(np.array_equal(out[k], params[k]) for k in params)
        return
    keep = out["bias_ih_l0"][H:2 * H]                                      # f (LSTM) / z (GRU)
    assert np.all((keep >= 0) & (keep <= np.log(L - 1))) and keep.std() > 0.3
    assert np.all(out["bias_hh_l0"][H:2 * H] == 0)
    # memory span 1 / (1 - sigmoid(b)) = 1 + e^b, so spans spread over 2 .. L
    spans = 1 + np.exp(keep)
    assert spans.min() < 10 and spans.max() > L / 2
    if arch == "lstm":
        assert np.allclose(out["bias_ih_l0"][:H], -keep)
    assert np.array_equal(out["weight_hh_l0"], params["weight_hh_l0"])


def test_chrono_initialised_gru_learns_recall_over_a_long_lag_quickly():
    r = train_task("gru", "recall", length=60, hidden_size=16, steps=250, seed=0)
    assert r.solved and r.test_accuracy >= 0.99
