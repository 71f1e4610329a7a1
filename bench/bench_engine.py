"""Engine speed against PyTorch's CPU LSTM and GRU, in one process, interleaved.

Work measured (the issue's setting): float64, batch 1, I=96, H=128, T=1000; forward, then the full
backward of L = sum(h * R). Prints the median of several runs and the ratio torch / engine (>1 means
the engine is faster), then the per-token ``step`` latency and the time of ``jacobian_norms``.

    python bench/bench_engine.py [--runs 7] [--threads N]

Run it with nothing else busy. Both sides get the same thread count, by default PyTorch's own
default (the machine's cores): torch.set_num_threads and threadpoolctl for NumPy's BLAS. As in
PyTorch, where the input does not require grad, dL/dx is not computed (the engine's Grads.x is lazy).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cells

I, H, T = 96, 128, 1000


def engine_run(cell: cells.Cell, x: np.ndarray, R: np.ndarray) -> None:
    trace = cell.forward(x)
    cell.backward(trace, R)  # dL/dh_t = R_t for L = sum(h * R)


def torch_run(module: torch.nn.Module, x: torch.Tensor, R: torch.Tensor) -> None:
    module.zero_grad(set_to_none=True)
    out, _ = module(x)
    (out * R).sum().backward()


def seconds(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(T, I))
    R = rng.normal(size=(T, H))
    print(
        f"forward + BPTT, float64, batch 1, I={I}, H={H}, T={T}, {args.threads} thread(s), {args.runs} runs"
    )
    print(f"{'cell':6} {'engine ms':>10} {'torch ms':>10} {'torch/engine':>13}")
    for arch, module in (("lstm", torch.nn.LSTM(I, H)), ("gru", torch.nn.GRU(I, H))):
        cell = cells.make_cell(arch, {k: v.detach().numpy() for k, v in module.state_dict().items()})
        xt, Rt = torch.tensor(x[:, None]), torch.tensor(R[:, None])
        engine_run(cell, x, R)  # warm-up
        torch_run(module, xt, Rt)
        ours, theirs = [], []
        for _ in range(args.runs):  # interleaved, so both see the same machine state
            ours.append(seconds(engine_run, cell, x, R))
            theirs.append(seconds(torch_run, module, xt, Rt))
        e, t = statistics.median(ours) * 1e3, statistics.median(theirs) * 1e3
        print(f"{arch:6} {e:10.1f} {t:10.1f} {t / e:12.2f}x")

    print()
    for arch in cells.ARCHS:
        cell = cells.make_cell(arch, cells.init_params(arch, I, H, seed=0))
        step_us = cells.seconds_per_token(cell, tokens=1000)["step"] * 1e6
        trace = cell.forward(x)
        jac = statistics.median(seconds(cells.jacobian_norms, cell, trace) for _ in range(3))
        print(f"{arch:4}: step {step_us:6.1f} us/token   jacobian_norms (H={H}, T={T}) {jac * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
