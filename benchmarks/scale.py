"""A universe on one machine: wall time, CPU time and peak memory of the default backtest as
the number of tickers grows, for the local executor and for Ray.

Each row runs the command a user would type, in a fresh process:

    lstm-forecast backtest --data PANEL --models naive,ols,lstm --test-days 250
        --refit-every 125 --jobs 2 [--executor ray] --out DIR

on a panel of Gaussian random walks (5,000 business days, written to Parquet first). Wall
time is the command's; CPU time and peak RSS are of its whole process tree (the command,
its worker processes and, for Ray, the raylet, GCS and workers it starts), sampled from /proc
every 250 ms: CPU as the sum over processes of their last-seen user + system time, RSS as the
largest sum over processes at one sample. A page shared by several processes (torch's
libraries, Ray's object store) counts once per process in that sum, so it is an upper bound;
PSS (proportional set size, a shared page split between the processes that map it) sums to
the memory the tree really holds, and is given beside it.

Then per-task costs for ``docs/scaling.md``: one LSTM training step and one forecast window
at lookback 60 and at 240 (batch 256, 32 units, one thread), measured in this process.

    python benchmarks/scale.py [--tickers 10,50,200,500] [--days 5000] [--executors local,ray]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            tree.setdefault(parent, []).append(int(entry))
    return tree


def _tree(root: int) -> list[int]:
    tree, out, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, []))
    return out


def _usage(pid: int) -> tuple[float, int, int] | None:
    """(CPU seconds, RSS bytes, PSS bytes) of one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        pss = next(int(line.split()[1]) for line in rollup if line.startswith("Pss:")) * 1024
    except (OSError, IndexError, StopIteration):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK, rss, pss


def measure(command: list[str]) -> dict:
    """Run ``command``; wall seconds, CPU seconds and peak RSS (MB) of its process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cpu: dict[int, float] = {}
    peak = peak_pss = 0
    while proc.poll() is None:
        total = total_pss = 0
        for pid in _tree(proc.pid):
            usage = _usage(pid)
            if usage is not None:
                cpu[pid] = max(cpu.get(pid, 0.0), usage[0])
                total += usage[1]
                total_pss += usage[2]
        peak, peak_pss = max(peak, total), max(peak_pss, total_pss)
        time.sleep(0.25)
    wall = time.perf_counter() - start
    output = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return {
        "wall": wall,
        "cpu": sum(cpu.values()),
        "rss_mb": peak / 2**20,
        "pss_mb": peak_pss / 2**20,
    }


def panel(tickers: int, days: int, path: Path) -> None:
    rng = np.random.default_rng(tickers)
    values = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (days, tickers)), axis=0))
    index = pd.bdate_range("2000-01-03", periods=days, name="date")
    frame = pd.DataFrame(values, index, [f"T{i:03d}" for i in range(tickers)])
    frame.to_parquet(path)


def per_step_costs() -> list[tuple[int, float, float]]:
    """(lookback, ms per training step, µs per forecast window), one thread."""
    import torch

    from lstm_forecast.models.lstm import ForecastNet

    torch.set_num_threads(1)
    out = []
    for lookback in (60, 240):
        torch.manual_seed(0)
        net = ForecastNet(32, 1, "standard", 0.0, 1, "eager", "cpu")
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        x, y = torch.randn(256, lookback, 1), torch.randn(256, 1)
        times = []
        for k in range(13):
            start = time.perf_counter()
            optimizer.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            optimizer.step()
            if k >= 3:
                times.append(time.perf_counter() - start)
        step = statistics.median(times) * 1e3
        windows = torch.randn(4096, lookback, 1)
        with torch.no_grad():
            net(windows)
            start = time.perf_counter()
            for _ in range(3):
                net(windows)
        window = (time.perf_counter() - start) / 3 / 4096 * 1e6
        out.append((lookback, step, window))
    return out


def project(step_ms: float, window_us: float) -> list[tuple]:
    """Projected wall time of a Fischer-Krauss-sized study from the per-step costs at lookback
    240: 500 tickers, 25 study periods of 750 training and 250 trading days, one global LSTM
    per period (cold start: the periods are independent tasks), the defaults' budget with no
    early stopping (20 epochs of at most 64 steps of batch 256; 20 validations of 16,384
    windows), forecasts and permutation importance on the 125,000 test windows (6 passes);
    with tuning, 20 trials of 2 inner fits each in batches of 4. Nodes of 16 cores, one task
    per core, each core as fast as one here; no pruning and no data transfer time, so these
    are upper bounds on the work and lower bounds on the overheads."""
    from lstm_forecast.models.tuning import TRIAL_BATCH

    periods, tickers, epochs, steps, val = 25, 500, 20, 64, 16_384
    fit = (epochs * steps * step_ms) / 1e3 + epochs * val * window_us / 1e6
    test = 6 * 250 * tickers * window_us / 1e6
    inner_predict = 112 * tickers * window_us / 1e6  # a validation block of an inner fold
    trial = 2 * (fit + inner_predict)
    rows = []
    for trials in (0, 20):
        batches = -(-trials // TRIAL_BATCH)
        work = periods * (fit + test + trials * trial)
        critical = batches * trial + fit + test
        for nodes in (1, 8, 64):
            cores = 16 * nodes
            rows.append((trials, nodes, cores, work, max(work / cores, critical)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", default="10,50,200,500")
    parser.add_argument("--days", type=int, default=5000)
    parser.add_argument("--executors", default="local,ray")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "lstm_forecast", "backtest"]
    common = ["--models", "naive,ols,lstm", "--test-days", "250", "--refit-every", "125"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(t) for t in args.tickers.split(",")]:
            data = Path(tmp) / f"panel{n}.parquet"
            panel(n, args.days, data)
            outputs = {}
            for executor in args.executors.split(","):
                out = Path(tmp) / f"out{n}-{executor}"
                command = [*cli, "--data", str(data), *common, "--jobs", str(args.jobs)]
                command += ["--executor", executor, "--out", str(out)]
                row = {"tickers": n, "executor": executor, **measure(command)}
                outputs[executor] = (out / "predictions.csv").read_bytes()
                row["same"] = outputs[executor] == next(iter(outputs.values()))
                rows.append(row)
                print(
                    f"{n} tickers, {executor}: {row['wall']:.0f} s wall, {row['cpu']:.0f} s CPU, "
                    f"{row['rss_mb']:.0f} MB RSS, {row['pss_mb']:.0f} MB PSS",
                    flush=True,
                )
    import torch

    print(
        f"\ntorch {torch.__version__}, {os.cpu_count()} CPUs; {args.days} days per ticker, "
        f"--jobs {args.jobs} (local: worker processes; ray: a new local instance of that many "
        "CPUs)\n"
    )
    print(
        "| tickers | executor | wall s | CPU s | peak RSS MB | peak PSS MB | vs local wall "
        "| same output |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    local = {r["tickers"]: r["wall"] for r in rows if r["executor"] == "local"}
    for r in rows:
        ratio = r["wall"] / local[r["tickers"]] if r["tickers"] in local else float("nan")
        print(
            f"| {r['tickers']} | {r['executor']} | {r['wall']:.0f} | {r['cpu']:.0f} | "
            f"{r['rss_mb']:.0f} | {r['pss_mb']:.0f} | {ratio:.2f}x | "
            f"{'yes' if r['same'] else 'NO'} |"
        )
    per_ticker = [r for r in rows if r["executor"] == "local"]
    if len(per_ticker) > 1:
        a, b = per_ticker[0], per_ticker[-1]
        span = b["tickers"] - a["tickers"]
        print(
            f"\nlocal: peak RSS grows by {(b['rss_mb'] - a['rss_mb']) / span:.2f} MB per ticker, "
            f"PSS by {(b['pss_mb'] - a['pss_mb']) / span:.2f} MB ({a['tickers']} to "
            f"{b['tickers']} tickers)"
        )
    print("\n| lookback | ms per training step (batch 256) | µs per forecast window |")
    print("|---:|---:|---:|")
    costs = per_step_costs()
    for lookback, step, window in costs:
        print(f"| {lookback} | {step:.1f} | {window:.1f} |")
    print("\nProjected: a Fischer-Krauss-sized study (see project() for the assumptions)\n")
    print("| tuning trials per period | nodes (16 cores) | CPU hours | projected wall |")
    print("|---:|---:|---:|---:|")
    for trials, nodes, _, work, wall in project(*costs[-1][1:]):
        print(f"| {trials} | {nodes} | {work / 3600:.1f} | {_duration(wall)} |")


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


if __name__ == "__main__":
    main()
