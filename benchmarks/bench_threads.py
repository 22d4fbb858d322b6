"""How many torch threads to train with: 1 or more, on an idle machine and on a busy one.

The job is a short fit (10 epochs) of the default LSTM forecaster (lookback 60, 32 units,
batch 256) on the embedded S&P 500 series, the work `make demo` repeats at every refit. "Busy" runs
``--load`` processes that spin on the CPU (as other users' jobs do on a shared machine) while
the fit runs. Each figure is the median of ``--repeats`` fits in this process; the ratio is
against one thread under the same load.

    python benchmarks/bench_threads.py [--threads 1,2] [--load 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time


def _spin(stop) -> None:
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def _fit_seconds(threads: int) -> float:
    import torch

    from lstm_forecast.data import read_prices
    from lstm_forecast.models import LSTMForecaster

    torch.set_num_threads(threads)
    prices = read_prices("sp500").iloc[-1500:]
    start = time.perf_counter()
    LSTMForecaster(epochs=10, patience=100).fit(prices)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--load", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    counts = [int(t) for t in args.threads.split(",")]
    _fit_seconds(1)  # warm-up: imports, data, allocator
    print(f"{os.cpu_count()} CPUs; busy = {args.load} spinning processes\n")
    print("| machine | threads | seconds per fit | vs 1 thread |")
    print("|---|---:|---:|---:|")
    for busy in (False, True):
        stop = multiprocessing.Event()
        spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(args.load)]
        if busy:
            for p in spinners:
                p.start()
        try:
            times = {
                n: statistics.median(_fit_seconds(n) for _ in range(args.repeats)) for n in counts
            }
        finally:
            stop.set()
            for p in spinners:
                if p.is_alive():
                    p.join()
        for n in counts:
            label = "busy" if busy else "idle"
            print(
                f"| {label} | {n} | {times[n]:.2f} | {times[n] / times[counts[0]]:.2f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
