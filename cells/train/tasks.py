"""Sequence tasks for training recurrent cells: batches of (T, B, I) inputs and their targets.

Every task is a small object with the same shape of interface, so one trainer serves them all:

- ``input_size`` / ``output_size``: widths of the one-hot or real-valued input and of the readout;
- ``loss``: ``"mse"`` (regression) or ``"xent"`` (softmax cross-entropy over ``output_size`` classes);
- ``at_every_step``: the loss is taken at every step (language modelling) or at the last one only;
- ``batch(rng, batch_size) -> (x, y)``: ``x`` (T, B, I) and ``y`` (B, O) for regression, (B,) class
  ids for a last-step classification, (T, B) class ids for an every-step one.

The tasks:

- ``AddingTask`` (Hochreiter & Schmidhuber 1997, in the form used by Le et al. 2015 and Arjovsky et
  al. 2016): channel 0 holds values drawn uniformly from [0, 1], channel 1 marks two of them, one in
  the first half of the sequence and one in the second; the target is the sum of the two marked
  values. Always answering 1 scores the variance of that sum, 2/12 ~ 0.167, so a model has to carry
  the first marked value across up to T steps to do better.
- ``RecallTask``: the first token is one of ``num_symbols`` symbols; ``length - 2`` distractor tokens
  follow, then a query token, at which the model must name the first symbol. Chance is
  ``log(num_symbols)`` nats.
- ``SeriesTask``: next-value prediction on noisy mixtures of sine waves (a 1-D series).
- ``WindowTask``: next-value prediction on windows of one real series (``"values"``).
- ``CharTask``: next-character prediction on windows of a text, with a fixed vocabulary in which
  unknown characters share one id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cells.models.encoders import build_vocab, char_ids, one_hot

#: MSE a model must beat on the adding problem to count as having solved it.
ADDING_SOLVED_MSE = 0.01
#: Accuracy a model must reach on the recall task to count as having solved it.
RECALL_SOLVED_ACCURACY = 0.99


@dataclass(frozen=True)
class _SequenceTask:
    """What the synthetic tasks share: sequences of ``length`` steps, at least two."""

    length: int

    def __post_init__(self) -> None:
        if self.length < 2:
            raise ValueError(f"{type(self).__name__} needs length >= 2, got {self.length}")


@dataclass(frozen=True)
class AddingTask(_SequenceTask):
    """The adding problem: predict the sum of the two marked values of a length-T sequence."""

    input_size: int = 2
    output_size: int = 1
    loss: str = "mse"
    at_every_step: bool = False

    def solved(self, test_loss: float, accuracy: float | None) -> bool:
        """Test MSE below ``ADDING_SOLVED_MSE`` (0.01)."""
        return test_loss < ADDING_SOLVED_MSE

    def batch(self, rng: np.random.Generator, batch_size: int,
              dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """(x (T, B, 2), y (B, 1)): values and markers, and the sum of the marked values."""
        T, B = self.length, batch_size
        half = T // 2
        values = rng.uniform(0.0, 1.0, size=(T, B))                     # (T, B)
        first = rng.integers(0, half, size=B)                            # (B,) in [0, T/2)
        second = rng.integers(half, T, size=B)                           # (B,) in [T/2, T)
        markers = np.zeros((T, B))
        cols = np.arange(B)
        markers[first, cols] = 1.0
        markers[second, cols] = 1.0
        x = np.stack([values, markers], axis=-1).astype(dtype)           # (T, B, 2)
        y = (values[first, cols] + values[second, cols])[:, None]        # (B, 1)
        return x, y.astype(dtype)


@dataclass(frozen=True)
class RecallTask(_SequenceTask):
    """Long-lag recall: name the first symbol after ``length - 2`` distractor tokens and a query.

    Token ids: ``0 .. num_symbols-1`` are the symbols to remember, the next ``num_distractors``
    ids are distractors, and the last id is the query.
    """

    num_symbols: int = 4
    num_distractors: int = 4
    loss: str = "xent"
    at_every_step: bool = False

    @property
    def input_size(self) -> int:
        return self.num_symbols + self.num_distractors + 1

    @property
    def output_size(self) -> int:
        return self.num_symbols

    def solved(self, test_loss: float, accuracy: float | None) -> bool:
        """Test accuracy at least ``RECALL_SOLVED_ACCURACY`` (0.99)."""
        return accuracy is not None and accuracy >= RECALL_SOLVED_ACCURACY

    def batch(self, rng: np.random.Generator, batch_size: int,
              dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """(x (T, B, I) one-hot tokens, y (B,) the symbol given at step 0)."""
        T, B = self.length, batch_size
        symbol = rng.integers(0, self.num_symbols, size=B)                       # (B,)
        tokens = rng.integers(self.num_symbols, self.num_symbols + self.num_distractors,
                              size=(T, B))                                       # (T, B)
        tokens[0] = symbol
        tokens[-1] = self.input_size - 1                                         # query
        return one_hot(tokens, self.input_size, dtype), symbol


@dataclass
class CharTask:
    """Next-character prediction on random windows of ``length + 1`` characters of a text.

    Inputs are the one-hot ids of characters ``0 .. T-1`` of a window, targets the ids of
    characters ``1 .. T``. Each window starts from a zero state, as ``CharModel.trace`` does.
    """

    text: str
    length: int
    vocab: str = ""
    loss: str = "xent"
    at_every_step: bool = True
    ids: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.vocab:
            self.vocab = build_vocab(self.text)
        self.ids = char_ids(self.text, self.vocab)
        if len(self.ids) < self.length + 1:
            raise ValueError(f"text of {len(self.ids)} characters is shorter than one window "
                             f"of {self.length + 1}")

    @property
    def input_size(self) -> int:
        return len(self.vocab) + 1

    @property
    def output_size(self) -> int:
        return len(self.vocab) + 1

    def solved(self, test_loss: float, accuracy: float | None) -> bool:
        """Language modelling has no pass mark: always False (read the loss instead)."""
        return False

    def batch(self, rng: np.random.Generator, batch_size: int,
              dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """(x (T, B, V) one-hot characters, y (T, B) the id of the next character)."""
        starts = rng.integers(0, len(self.ids) - self.length, size=batch_size)   # (B,)
        window = self.ids[starts[None, :] + np.arange(self.length + 1)[:, None]]  # (T+1, B)
        return one_hot(window[:-1], self.input_size, dtype), window[1:]


@dataclass(frozen=True)
class SeriesTask(_SequenceTask):
    """Next-value prediction on noisy mixtures of sines: from x_0..x_t, predict x_{t+1}.

    Each sequence sums ``max_waves`` or fewer sines with periods uniform in ``periods`` steps,
    random phases and amplitudes that keep the sum within [-1, 1], plus Gaussian noise of
    standard deviation ``noise``. The noise is the floor of the MSE: no model can beat noise^2.
    """

    max_waves: int = 2
    periods: tuple[float, float] = (6.0, 40.0)
    noise: float = 0.05
    input_size: int = 1
    output_size: int = 1
    loss: str = "mse"
    at_every_step: bool = True

    def solved(self, test_loss: float, accuracy: float | None) -> bool:
        """Test MSE within twice the noise floor noise^2."""
        return test_loss < 2 * self.noise ** 2

    def batch(self, rng: np.random.Generator, batch_size: int,
              dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """(x (T, B, 1) the series, y (T, B, 1) the series one step later)."""
        T, B, K = self.length, batch_size, self.max_waves
        waves = rng.integers(1, K + 1, size=B)                                   # (B,)
        on = np.arange(K)[None, :] < waves[:, None]                              # (B, K)
        amplitude = rng.uniform(0.3, 1.0, size=(B, K)) * on / waves[:, None]     # (B, K)
        period = rng.uniform(*self.periods, size=(B, K))
        phase = rng.uniform(0.0, 2 * np.pi, size=(B, K))
        t = np.arange(T + 1)[:, None, None]                                      # (T+1, 1, 1)
        clean = (amplitude * np.sin(2 * np.pi * t / period + phase)).sum(-1)     # (T+1, B)
        series = clean + self.noise * rng.standard_normal((T + 1, B))
        return series[:-1, :, None].astype(dtype), series[1:, :, None].astype(dtype)


@dataclass(frozen=True, eq=False)
class WindowTask(_SequenceTask):
    """Next-value prediction on random windows of one given series (already normalised): inputs
    values ``s .. s+T-1`` of a window, targets ``s+1 .. s+T``, each window from a zero state.

    A real series is short (309 years of sunspots), so the windows overlap; the held-out tail is
    kept out by the caller, who passes only the training part. ``solved`` has no pass mark: read
    the forecast errors (``cells.forecast``) instead.
    """

    values: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (N,)
    input_size: int = 1
    output_size: int = 1
    loss: str = "mse"
    at_every_step: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.values) < self.length + 1:
            raise ValueError(f"a series of {len(self.values)} values is shorter than one window "
                             f"of {self.length + 1}")
        if not np.all(np.isfinite(self.values)):
            raise ValueError("the series contains NaN or infinity")

    def solved(self, test_loss: float, accuracy: float | None) -> bool:
        return False

    def batch(self, rng: np.random.Generator, batch_size: int,
              dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """(x (T, B, 1) windows of the series, y (T, B, 1) the same windows one step later)."""
        starts = rng.integers(0, len(self.values) - self.length, size=batch_size)   # (B,)
        window = np.asarray(self.values)[starts[None, :] + np.arange(self.length + 1)[:, None]]
        return window[:-1, :, None].astype(dtype), window[1:, :, None].astype(dtype)


Task = AddingTask | RecallTask | CharTask | SeriesTask | WindowTask


def make_task(name: str, length: int, *, text: str | None = None,
              values: np.ndarray | None = None) -> Task:
    """A task by name: ``"adding"``, ``"recall"``, ``"series"``, ``"chars"`` (needs ``text``) or
    ``"values"`` (windows of the series ``values``)."""
    if name == "adding":
        return AddingTask(length)
    if name == "recall":
        return RecallTask(length)
    if name == "series":
        return SeriesTask(length)
    if name == "chars":
        if text is None:
            raise ValueError("task 'chars' needs a text to model")
        return CharTask(text, length)
    if name == "values":
        if values is None:
            raise ValueError("task 'values' needs a series to model")
        return WindowTask(length, np.asarray(values, dtype=np.float64))
    raise ValueError(f"unknown task {name!r}; expected 'adding', 'recall', 'series', 'chars' or 'values'")
