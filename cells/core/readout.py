"""The readout: a linear map from a cell's hidden states to its outputs (torch's ``nn.Linear``),
and the log-softmax that turns its outputs into a next-token distribution.

    y_t = W h_t + b          W (O, H), b (O,)
    log p_t = y_t - log sum_k exp(y_t[k])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Names under which the readout's arrays sit beside the cell's in a parameter dict.
READOUT_WEIGHT = "readout.weight"
READOUT_BIAS = "readout.bias"



@dataclass
class Readout:
    """A linear map from hidden states to outputs: y = h W^T + b, W (O, H), b (O,)."""

    weight: np.ndarray  # (O, H)
    bias: np.ndarray    # (O,)

    @classmethod
    def init(cls, hidden_size: int, output_size: int, *, seed: int,
             dtype: type = np.float64) -> Readout:
        """Uniform(-1/sqrt(H), 1/sqrt(H)) weights, as torch.nn.Linear, and zero bias."""
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(hidden_size)
        weight = rng.uniform(-bound, bound, size=(output_size, hidden_size)).astype(dtype)
        return cls(weight, np.zeros(output_size, dtype=dtype))

    def __call__(self, h: np.ndarray) -> np.ndarray:
        """Outputs (..., O) for hidden states (..., H)."""
        return h @ self.weight.T + self.bias

    def backward(self, h: np.ndarray, dy: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dL/dW (O, H), dL/db (O,), dL/dh (..., H)) from dL/dy (..., O)."""
        h2 = h.reshape(-1, h.shape[-1])        # (N, H)
        dy2 = dy.reshape(-1, dy.shape[-1])     # (N, O)
        return dy2.T @ h2, dy2.sum(axis=0), dy @ self.weight

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {READOUT_WEIGHT: self.weight, READOUT_BIAS: self.bias}


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, stable for any finite logits."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
