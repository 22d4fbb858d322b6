"""Training an ensemble of K seeds as one batched model, against one member alone.

At the demo's shapes (batch 64, lookback 60, 32 units, one layer): milliseconds per training
step (forward + backward + Adam) of one member on the fused kernel (``torch.nn.LSTM``'s, as
the forecaster runs it), of the batched ensemble for K = 1, 2, 4, 8 on each of its two paths
(the step loop with a models dimension, and one fused LSTM of K x 32 units on block-diagonal
weights), of K members trained one after another, and the floor for any implementation that
keeps the fused kernel: one member with a K-times larger batch (the same gate arithmetic as K
members). Ratios are against one
member alone, measured in this process.

    python benchmarks/bench_ensemble.py [--threads 1] [--repeats 10] [--device cpu] [--batch 64]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from lstm_forecast.models.lstm import EnsembleNet, ForecastNet


def _step_ms(model, x, y, repeats: int) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        pred = model(x)
        target = y if pred.dim() == 2 else y.unsqueeze(0)
        ((pred - target) ** 2).mean().backward()
        optimizer.step()
        if x.is_cuda:
            torch.cuda.synchronize()

    for _ in range(3):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=64, help="the LSTM's default batch")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = args.device
    batch, lookback, hidden = args.batch, 60, 32

    def net(seed):
        torch.manual_seed(seed)
        return ForecastNet(hidden, 1, "standard", 0.0, 1, "eager", device)

    x = torch.randn(batch, lookback, 1, device=device)
    y = torch.randn(batch, 1, device=device)
    one = _step_ms(net(0), x, y, args.repeats)
    name = torch.cuda.get_device_name() if device == "cuda" else f"CPU, {args.threads} thread(s)"
    print(
        f"torch {torch.__version__}, {name}; batch {batch}, lookback {lookback}, {hidden} units\n"
    )
    print(
        "| K | batched, step loop: ms/step | vs one member | batched, block-diagonal fused "
        f"| vs one member | K in a row | fused, batch K x {batch} |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for k in (1, 2, 4, 8):
        batched = _step_ms(EnsembleNet([net(s) for s in range(k)], False), x, y, args.repeats)
        block = _step_ms(EnsembleNet([net(s) for s in range(k)], True), x, y, args.repeats)
        wide_x = torch.randn(batch * k, lookback, 1, device=device)
        wide_y = torch.randn(batch * k, 1, device=device)
        floor = _step_ms(net(0), wide_x, wide_y, args.repeats)
        print(
            f"| {k} | {batched:.1f} | {batched / one:.1f}x | {block:.1f} | {block / one:.1f}x | "
            f"{k * one:.1f} ({k:.0f}.0x) | "
            f"{floor:.1f} ({floor / one:.1f}x) |",
            flush=True,
        )
    print(f"\none member alone (fused kernel): {one:.1f} ms per step")


if __name__ == "__main__":
    main()
