"""Size of the backtest's verdicts, by simulation: on random walks, where no model has skill,
how often does a test or the report claim some?

Part 1, the tests (``--samples``, horizon 5): on 1,000-day Gaussian random walks, the
backtest of drift, sma, ema, kalman and ols (last 500 days tested, refits every 125 days),
and for each model's 5-day forecasts the share of samples in which each one-sided test
rejects at 5%:

* DM, exact null: the model's forecast f against its mirror image -f, which under a random walk
  has the same expected squared error (the outcome is independent of anything known at the
  origin), both ways round, with the HAC variance over h - 1 lags: equal weights (now) and
  Bartlett weights (before);
* hit rate against a fair coin: the overlap-robust HAC t-test (now), the binomial test (before);
* DM of the model against the random walk, the test the report runs (its null holds as an
  inequality here: a model with no skill is worse than the random walk, so below 5% is right);
* Pesaran-Timmermann on every 5th origin (now), on all origins (before).

Part 2, the report (``--panels``): random-walk panels of 5 tickers, every model of the default
backtest including the LSTM (its settings reduced so the benchmark runs in minutes: see
``SMALL_LSTM``), 1,000 days, 250 tested, refits every 125 days. The share of panels in which
the report claims that some model beats the random walk: before the family-wise correction
(any unadjusted one-sided DM p-value below 5%, on any ticker or pooled) and after it (Romano-Wolf
StepM keeps some model at 5%), and the share in which SPA rejects at 5%.

    python benchmarks/size.py [--samples 400] [--panels 200] [--jobs 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

import numpy as np
import pandas as pd

from lstm_forecast.evaluation import BacktestSettings, metrics_table, run_backtest
from lstm_forecast.evaluation import metrics as m
from lstm_forecast.evaluation.stats import (
    diebold_mariano_from_differential,
    newey_west_variance,
    pesaran_timmermann,
)

CHEAP = ("drift", "sma", "ema", "kalman", "ols")
COLUMNS = ("dm", "dm_mirror", "dm_before", "dm_rw", "hit", "hit_before", "pt", "pt_before")
SMALL_LSTM = {"lookback": 20, "hidden_size": 8, "epochs": 3, "patience": 2, "batch_size": 128}


def random_walks(days: int, tickers: int, seed: int) -> pd.DataFrame:
    """Gaussian random walks with 1% daily volatility and no drift."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.01, size=(days, tickers))
    index = pd.bdate_range("2001-01-02", periods=days)
    columns = [f"RW{k}" for k in range(tickers)]
    return pd.DataFrame(100 * np.exp(np.cumsum(steps, axis=0)), index=index, columns=columns)


def _bartlett_dm_p(d: np.ndarray, h: int) -> float:
    from scipy import stats

    n = len(d)
    variance = newey_west_variance(d, h - 1, "bartlett")
    if not variance > 0:
        return float("nan")
    t = np.mean(d) / np.sqrt(variance / n) * np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    return float(stats.t.cdf(t, n - 1))


def test_sample(seed: int, horizon: int = 5) -> list[dict]:
    """One random walk: each cheap model's p-values, now and before."""
    prices = random_walks(1000, 1, seed)
    settings = BacktestSettings(models=CHEAP, test_days=500, refit_every=125, horizon=horizon)
    predictions = run_backtest(prices, settings).predictions
    rows = []
    for name, group in predictions.groupby("model"):
        if name == "naive":
            continue
        y, f = group["actual"].to_numpy(), group["forecast"].to_numpy()
        d = (y - f) ** 2 - (y + f) ** 2  # the model against its mirror image
        rows.append(
            {
                "model": name,
                "dm": diebold_mariano_from_differential(d, horizon).p_better,
                "dm_mirror": diebold_mariano_from_differential(-d, horizon).p_better,
                "dm_before": _bartlett_dm_p(d, horizon),
                "dm_rw": diebold_mariano_from_differential((y - f) ** 2 - y**2, horizon).p_better,
                "hit": m.hit_rate(y, f, horizon)[2],
                "hit_before": m.hit_rate(y, f, 1)[2],
                "pt": pesaran_timmermann(y, f, horizon)[1],
                "pt_before": pesaran_timmermann(y, f, 1)[1],
            }
        )
    return rows


def _one_thread() -> None:
    import torch

    from lstm_forecast.evaluation.executors import exit_with_parent

    exit_with_parent()  # a worker of a stopped benchmark stops with it
    torch.set_num_threads(1)


def panel_claims(seed: int) -> dict:
    """One 5-ticker random-walk panel through the default backtest and its metrics table."""
    prices = random_walks(1000, 5, 10_000 + seed)
    settings = BacktestSettings(test_days=250, refit_every=125, model_settings={"lstm": SMALL_LSTM})
    table = metrics_table(run_backtest(prices, settings))
    tested = table[table["model"] != "naive"]
    return {
        "before": bool((tested["dm_p"] < 0.05).any()),
        "after": bool(tested["stepm"].any()),
        "holm": bool((tested["dm_p_holm"] < 0.05).any()),
        "spa": bool((table.groupby("ticker")["spa_p"].first() < 0.05).any()),
        "dsr": bool(((tested["lf_dsr"] > 0.95) | (tested["ls_dsr"] > 0.95)).any()),
        "psr": bool(((tested["lf_psr"] > 0.95) | (tested["ls_psr"] > 0.95)).any()),
        "tests": len(tested),
    }


def _share(values) -> str:
    values = [v for v in values if v == v]
    return f"{np.mean(values):.1%} ({len(values)})" if values else "-"


def part_tests(samples: int, pool) -> None:
    start = time.perf_counter()
    rows = [r for sample in pool.map(test_sample, range(samples)) for r in sample]
    frame = pd.DataFrame(rows)
    print(f"\n## Part 1: one-sided 5% tests on random walks, horizon 5, {samples} samples\n")
    print("Share of samples rejecting (number of samples where the test is defined):\n")
    print(
        "| model | DM f beats -f | DM -f beats f | before: Bartlett (f beats -f) | "
        "DM model beats RW | hit rate, HAC | before: binomial | PT, every 5th origin | "
        "before: PT on all |"
    )
    print("|---|" + "---:|" * len(COLUMNS))
    for name, group in [*frame.groupby("model"), ("all", frame)]:
        cells = [_share(_rejects(group[c])) for c in COLUMNS]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\n{time.perf_counter() - start:.0f} s")


def _rejects(p: pd.Series) -> list[float]:
    return [float(v < 0.05) if v == v else float("nan") for v in p]


def part_panels(panels: int, pool) -> None:
    start = time.perf_counter()
    runs = pool.map(panel_claims, range(panels))
    print(f"\n## Part 2: what the report claims on {panels} random-walk panels\n")
    print(
        f"5 tickers x 1,000 days, 250 tested, {runs[0]['tests']} comparisons with the random "
        f"walk per report; LSTM reduced to {SMALL_LSTM}.\n"
    )
    print("| claim: some model beats the random walk | share of panels |")
    print("|---|---:|")
    labels = {
        "before": "before correction: some unadjusted DM p < 5%",
        "holm": "Holm-adjusted DM p < 5%",
        "spa": "SPA p < 5% on some ticker or pooled",
        "after": "after correction: StepM keeps some model (the verdict 'beats')",
        "psr": "before correction: some strategy's PSR > 0.95",
        "dsr": "after correction: some strategy's Deflated Sharpe Ratio > 0.95",
    }
    for key, label in labels.items():
        print(f"| {label} | {np.mean([r[key] for r in runs]):.1%} |")
    print(f"\n{time.perf_counter() - start:.0f} s on {pool._processes} processes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--panels", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.jobs, initializer=_one_thread) as pool:
        if args.samples:
            part_tests(args.samples, pool)
        if args.panels:
            part_panels(args.panels, pool)


if __name__ == "__main__":
    main()
