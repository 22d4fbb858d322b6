"""The forecaster end to end on a GPU: the same fits on CPU and CUDA, and what they forecast.

For three simulated kinds (AR(1), the threshold rule, a null) a 4,000-day series, the first
3,500 days for training and the last 500 for forecasts: the default LSTM (a K-member batched
ensemble on ``cuda`` alone: on a CPU it takes K times one member) fitted on ``cpu`` and on
``cuda``, seconds per fit, out-of-sample R² against the zero forecast, and the largest gap
between the two devices' forecasts (float32, different kernels: the fits differ by rounding,
so the gap is small but not zero).

    python benchmarks/gpu_fit.py [--steps 2000] [--ensemble 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lstm_forecast.data.simulate import simulate
from lstm_forecast.models.lstm import LSTMForecaster


def _fit(prices, train_days: int, device: str, **settings):
    model = LSTMForecaster(device=device, **settings)
    start = time.perf_counter()
    model.fit(prices.iloc[:train_days])
    seconds = time.perf_counter() - start
    origins = prices.index[train_days - 1 : -1]
    forecast = model.predict(prices, origins).iloc[:, 0].to_numpy()
    return forecast, seconds


def _r2(actual: np.ndarray, forecast: np.ndarray) -> float:
    return 1 - ((actual - forecast) ** 2).sum() / (actual**2).sum()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--ensemble", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cuda", help="the device set beside the CPU")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gpu = args.device
    if gpu == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_fit: CUDA is not available on this machine")
    name = torch.cuda.get_device_name() if gpu == "cuda" else gpu
    print(f"torch {torch.__version__}, {name}, {args.threads} CPU threads")
    print("\n| kind | members | cpu s | cuda s | cpu R² | cuda R² | max gap of forecasts |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in ("ar1", "threshold", "null"):
        prices, _ = simulate(kind, 4000, 0)
        log = np.log(prices.iloc[:, 0].to_numpy())
        actual = np.diff(log)[3499:]
        for members in (1, args.ensemble):
            settings = {"steps": args.steps, "ensemble": members, "ensemble_batched": members > 1}
            fits = [_fit(prices, 3500, "cpu", **settings)] if members == 1 else [None]
            fits.append(_fit(prices, 3500, gpu, **settings))
            (cpu_s, cpu_r2), (gpu_s, gpu_r2) = (
                ("-", "-") if fit is None else (f"{fit[1]:.1f}", f"{_r2(actual, fit[0]):.4f}")
                for fit in fits
            )
            gap = "-" if fits[0] is None else f"{np.abs(fits[0][0] - fits[1][0]).max():.2e}"
            print(
                f"| {kind} | {members} | {cpu_s} | {gpu_s} | {cpu_r2} | {gpu_r2} | {gap} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
