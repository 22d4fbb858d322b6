"""Forward+backward speed of the engine against torch.nn.LSTM, measured in one process.

For each shape (batch 256, 60 steps; input/hidden 1/64 and 8/128), each variant and path,
and torch.nn.LSTM as the reference: median milliseconds per batch of forward + backward after
warm-up, sequences per second, the ratio to torch.nn.LSTM (each candidate timed alternately
with torch.nn.LSTM, run by run, so that drift of the machine's speed cancels in the ratio),
the achieved GFLOP/s (matrix products only: 3 x 2 B T G H (I + H) for forward + backward)
beside the GFLOP/s of one plain matmul with the same operation count (the practical
ceiling), the time of the layer's matrix products alone (G = 4 gate blocks as in the
standard and peephole LSTM, G = 3 as in the coupled LSTM and the GRU: no implementation that
leaves its products to BLAS can be faster), and the compile time of the compiled path,
cold (empty cache) and cached, each measured in a fresh subprocess.

    python benchmarks/bench_engine.py [--repeats 15] [--threads 2] [--no-compile-times]
                                      [--devices cpu,cuda] [--paths eager,compiled]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

from lstm_forecast.nn.engine import VARIANTS, RecurrentEngine

SHAPES = [(256, 60, 1, 64), (256, 60, 8, 128)]  # B, T, I, H
ROWS = {"standard": 4, "peephole": 4, "coupled": 3, "gru": 3, "rnn": 1}


def _once(step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def median_ms(step, repeats: int) -> float:
    for _ in range(3):
        step()
    return statistics.median(_once(step) for _ in range(repeats)) * 1e3


def paired_ms(reference, candidate, repeats: int) -> tuple[float, float]:
    """Medians of the two, timed alternately so that machine drift hits both alike."""
    for _ in range(3):
        reference()
        candidate()
    ref, cand = [], []
    for _ in range(repeats):
        ref.append(_once(reference))
        cand.append(_once(candidate))
    return statistics.median(ref) * 1e3, statistics.median(cand) * 1e3


def fwd_bwd(module, x):
    def step():
        out = module(x)[0]
        out.sum().backward()
        if x.is_cuda:
            torch.cuda.synchronize()

    return step


def matmul_flops(b, t, i, h, rows):
    return 3 * 2 * b * t * rows * h * (i + h)


def matmuls_only(b, t, i, h, rows, device):
    """The matrix products of one forward + backward, as the LSTM layer does them, and nothing
    else: the floor for any implementation that keeps BLAS for its products."""
    kw = {"device": device}
    x, w_ih = torch.randn(t, b, i, **kw), torch.randn(rows * h, i, **kw)
    bias = torch.randn(rows * h, **kw)
    w_hh, h0 = torch.randn(rows * h, h, **kw), torch.randn(b, h, **kw)
    states = torch.randn(t, b, h, **kw)

    def step():
        gates = torch.addmm(bias, x.view(-1, i), w_ih.t()).view(t, b, -1)  # input projection
        w_t = w_hh.t()
        for s in range(t):  # forward recurrence
            gates[s].addmm_(h0, w_t)
        for s in range(t):  # backward recurrence
            gates[s] @ w_hh
        flat = gates.view(-1, rows * h)
        (x.view(-1, i).t() @ flat).t()  # dW_ih
        flat.t() @ states.view(-1, h)  # dW_hh
        flat.sum(0)  # db
        if gates.is_cuda:
            torch.cuda.synchronize()

    return step


def ceiling_gflops(b, t, i, h, rows, device, repeats):
    """GFLOP/s of plain matmuls doing the same number of operations."""
    a = torch.randn(b * t, i + h, device=device)
    w = torch.randn(i + h, rows * h, device=device)

    def step():
        for _ in range(3):
            a @ w
        if a.is_cuda:
            torch.cuda.synchronize()

    return matmul_flops(b, t, i, h, rows) / median_ms(step, repeats) / 1e6


def compile_seconds(variant: str, cache: str) -> float:
    """Seconds to the first compiled forward+backward in a fresh process."""
    code = (
        "import time, torch; t = time.perf_counter();"
        "from lstm_forecast.nn.engine import RecurrentEngine;"
        f"e = RecurrentEngine(8, 32, 1, {variant!r}, path='compiled', device='cpu');"
        "e(torch.randn(16, 10, 8))[0].sum().backward(); print(time.perf_counter() - t)"
    )
    env = dict(os.environ, LSTM_FORECAST_CACHE=cache, TORCHINDUCTOR_CACHE_DIR="")
    env.pop("TORCHINDUCTOR_CACHE_DIR")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-compile-times", action="store_true")
    parser.add_argument(
        "--devices", default="cpu,cuda", help="comma-separated; cuda rows run only when present"
    )
    parser.add_argument(
        "--paths", default="eager,compiled", help="comma-separated engine paths to time"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    wanted = args.devices.split(",")
    paths = [p for p in ("eager", "compiled") if p in args.paths.split(",")]
    devices = [d for d in ("cpu", "cuda") if d in wanted]
    if "cuda" in devices and not torch.cuda.is_available():
        devices.remove("cuda")
    print(
        f"torch {torch.__version__}, {args.threads} CPU threads, "
        f"{'CUDA: ' + torch.cuda.get_device_name() if 'cuda' in devices else 'no CUDA'}"
    )
    print(
        "\n| device | B, T, I, H | model | path | ms fwd+bwd | seq/s | vs nn.LSTM "
        "| GFLOP/s | plain matmul GFLOP/s |"
    )
    print("|---|---|---|---|---:|---:|---:|---:|---:|")
    for device in devices:
        for b, t, i, h in SHAPES:
            x = torch.randn(b, t, i, device=device)
            reference = fwd_bwd(torch.nn.LSTM(i, h, batch_first=True, device=device), x)
            rows, base = [], []
            candidates = [
                (f"matmuls only, G={g}", "-", matmuls_only(b, t, i, h, g, device), g)
                for g in (4, 3)
            ]
            for variant in VARIANTS:
                for path in paths:
                    engine = RecurrentEngine(i, h, 1, variant, path=path, device=device)
                    candidates.append((variant, path, fwd_bwd(engine, x), ROWS[variant]))
            for name, path, step, g in candidates:
                ref_ms, ms = paired_ms(reference, step, args.repeats)
                base.append(ref_ms)
                rows.append((name, path, ms, ms / ref_ms, g))
            nn_ms = statistics.median(base)
            rows.insert(0, ("torch.nn.LSTM", "-", nn_ms, 1.0, 4))
            ceilings = {g: ceiling_gflops(b, t, i, h, g, device, args.repeats) for g in (1, 3, 4)}
            for name, path, ms, ratio, g in rows:
                gflops = matmul_flops(b, t, i, h, g) / ms / 1e6
                print(
                    f"| {device} | {b}, {t}, {i}, {h} | {name} | {path} | {ms:.1f} | "
                    f"{b / ms * 1e3:,.0f} | {ratio:.2f}x | {gflops:.1f} | {ceilings[g]:.1f} |",
                    flush=True,
                )
    if args.no_compile_times:
        return
    print("\n| variant | compile, cold cache (s) | compile, cached (s) |")
    print("|---|---:|---:|")
    for variant in VARIANTS:
        with tempfile.TemporaryDirectory() as cache:
            cold = compile_seconds(variant, cache)
            warm = compile_seconds(variant, cache)
        print(f"| {variant} | {cold:.1f} | {warm:.1f} |", flush=True)


if __name__ == "__main__":
    main()
