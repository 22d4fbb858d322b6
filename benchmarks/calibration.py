"""Calibration and volatility by simulation: are the intervals right, and does the LSTM's
variance come close to the true model's?

For each kind (``lstm_forecast.data.simulate.simulate_volatility``: ``garch_t``, GARCH(1,1)
with Student-t noise of 5 degrees of freedom; ``constant``, i.i.d. Gaussian returns;
``constant_t``, i.i.d. Student-t returns) and seed: a 4,000-day series, the backtest
protocol of ``make demo`` (last 500 days tested, refits every 63 days, expanding window,
LSTM warm-started), and:

* ``lstm-var``: the LSTM of ``backtest --target volatility`` (a variance head trained on
  QLIKE against the squared returns: the data has closes only), normal intervals;
* ``lstm-var-t``: the same with ``--distribution t``: Student-t intervals, the degrees of
  freedom fitted on the training residuals;
* ``lstm-t``: the LSTM of ``backtest --distribution t`` (mean, scale and degrees of freedom
  trained on the Student-t likelihood);
* ``garch``, ``gjr``, ``ewma``, ``har`` and the naive variance ``histvar``;
* ``true``: the simulation's own conditional variance and t shape (the best any model can do).

Printed per kind and model, over seeds: the 90% interval's mean coverage, its range over seeds,
the seeds where Kupiec's test keeps it (p > 0.05) and its p-value on all seeds' days pooled;
the 99% interval's coverage and the seeds where Christoffersen's conditional coverage test
keeps it; QLIKE against the squared returns and relative to the true model's; QLIKE against the
true variance (which only a simulation knows: 0 for the true model); and the seeds where
Diebold-Mariano on QLIKE says the model beats the naive variance at 1%, where StepM says it
does after counting every model's comparison (5% family-wise), and where it is in the 90% model
confidence set (the true model left out of both: they are the tests a user's backtest runs).

    python benchmarks/calibration.py [--seeds 5] [--kinds garch_t,constant,constant_t] [--jobs 2]
                                    [--csv seeds.csv]   # every seed's table
    python benchmarks/calibration.py --tables-from seeds.csv   # the tables of runs saved
    python benchmarks/calibration.py --anchor-gain 1   # the LSTM's EWMA anchor learning slower
    python benchmarks/calibration.py --lstm '{"min_gain_se": 0}'   # any LSTM settings
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

MODELS = ("lstm-var", "lstm-var-t", "lstm-t", "garch", "gjr", "ewma", "har", "histvar", "true")
# name -> (simulate_volatility kind, degrees of freedom of the noise)
KINDS = {
    "garch_t": ("garch_t", 5.0),
    "constant": ("constant", np.inf),
    "constant_t": ("constant", 5.0),
}


def one_run(kind: str, seed: int, lstm: dict | None = None) -> tuple[pd.DataFrame, float]:
    """One series of ``kind``: every model's table; ``lstm``: settings over the LSTM's
    defaults."""
    import torch

    from lstm_forecast.data.simulate import simulate_volatility
    from lstm_forecast.evaluation import BacktestSettings, run_backtest, scoring
    from lstm_forecast.evaluation.calibration import volatility_table

    torch.set_num_threads(1)
    start = time.perf_counter()
    sim, noise = KINDS[kind]
    prices, variance, nu = simulate_volatility(sim, seed=seed, nu=noise)
    base = dict(lstm or {})
    with_t = {**base, "distribution": "t"}
    vol = run_backtest(
        prices,
        BacktestSettings(
            models=("lstm", "garch", "gjr", "ewma", "har"),
            target="volatility",
            model_settings={"lstm": base},
        ),
    ).all_predictions()
    vol.loc[vol["model"] == "lstm", "model"] = "lstm-var"
    var_t = run_backtest(
        prices,
        BacktestSettings(models=("lstm",), target="volatility", model_settings={"lstm": with_t}),
    ).all_predictions()
    var_t = var_t[var_t["model"] == "lstm"].assign(model="lstm-var-t")
    dist = run_backtest(
        prices, BacktestSettings(models=("lstm",), model_settings={"lstm": with_t})
    ).all_predictions()
    lstm_t = dist[dist["model"] == "lstm"].assign(model="lstm-t")
    true = vol[vol["model"] == "histvar"].copy()
    true["model"], true["df"] = "true", nu
    true["sd"] = np.sqrt(variance.loc[true["origin"]].to_numpy())
    rows = pd.concat([vol, var_t, lstm_t, true], ignore_index=True)
    table = volatility_table(rows, 1)
    # the family-wise tests over the models a user runs (the true model left out of them)
    family = volatility_table(rows[rows["model"] != "true"], 1)
    table = table.drop(columns=["spa_p", "stepm", "in_mcs"]).merge(
        family[["model", "spa_p", "stepm", "in_mcs"]], on="model", how="left"
    )
    # the simulation knows the variance: QLIKE against it, not against a noisy proxy
    truth = variance.loc[rows["origin"]].to_numpy()
    rows["exact"] = scoring.qlike(truth, rows["sd"].to_numpy() ** 2)
    exact = rows.groupby("model")["exact"].mean()
    table["qlike_exact"] = table["model"].map(exact)
    return table.assign(kind=kind, seed=seed), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--csv", default="", help="also write every seed's table here, each run as it ends"
    )
    parser.add_argument(
        "--anchor-gain",
        type=float,
        default=None,
        help="the LSTM's EWMA anchor enters as this times its weight (default: the model's)",
    )
    parser.add_argument("--lstm", default="{}", help="JSON settings over the LSTM's defaults")
    parser.add_argument(
        "--tables-from", default="", help="print the tables of the runs in this --csv file"
    )
    args = parser.parse_args()
    if args.tables_from:
        tables = pd.read_csv(args.tables_from)
        kinds = [k for k in KINDS if k in set(tables["kind"])]
        print_tables(tables, kinds)
        return
    kinds = args.kinds.split(",")
    runs = [(k, s) for k in kinds for s in range(args.seeds)]
    started = time.perf_counter()
    from lstm_forecast.evaluation.executors import exit_with_parent

    context = multiprocessing.get_context("spawn")
    results = []
    with ProcessPoolExecutor(args.jobs, mp_context=context, initializer=exit_with_parent) as pool:
        lstm = json.loads(args.lstm)
        if args.anchor_gain is not None:
            lstm["anchor_gain"] = args.anchor_gain
        job = functools.partial(one_run, lstm=lstm)
        for table, seconds in pool.map(job, *zip(*runs, strict=True)):
            results.append(table.assign(seconds=seconds))
            if args.csv:
                pd.concat(results).to_csv(args.csv, index=False)
    print(f"{time.perf_counter() - started:.0f} s in all\n")
    print_tables(pd.concat(results, ignore_index=True), kinds)


def print_tables(tables: pd.DataFrame, kinds: list[str]) -> None:
    """One table per kind: each model over the seeds run."""
    from lstm_forecast.evaluation import scoring

    for kind in kinds:
        data = tables[tables["kind"] == kind]
        truth = data[data["model"] == "true"].set_index("seed")["qlike"]
        seeds = data["seed"].nunique()
        print(f"### {kind}\n")
        timing = ""
        if "seconds" in data:
            timing = f"; {data.groupby('seed')['seconds'].first().mean():.0f} s per run"
        print(
            f"{seeds} seeds, 4,000 days, last 500 tested, refits every 63 days{timing} "
            "(the three LSTMs and the baselines)\n"
        )
        print(
            "| model | 90% coverage | range over seeds | Kupiec p > 0.05 (90%) | Kupiec p, "
            "seeds pooled (90%) | 99% coverage | "
            "Christoffersen p > 0.05 (99%) | QLIKE | vs the true model | QLIKE against the true "
            "variance | DM beats naive at 1% | StepM beats naive (5% family-wise) | in the 90% "
            "model confidence set |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for model in MODELS:
            rows = data[data["model"] == model].set_index("seed")
            if not len(rows):
                continue
            excess = (rows["qlike"] / truth.loc[rows.index] - 1).mean()
            dm = rows["qlike_dm_p"]
            beats = "-" if dm.isna().all() else f"{int((dm < 0.01).sum())}/{len(rows)}"
            # the seeds are independent series: their misses add up to one binomial count
            misses = int(np.round(rows["n"] * (1 - rows["cov90"])).sum())
            pooled = scoring.kupiec(misses, int(rows["n"].sum()), 0.10)[1]
            print(
                f"| {model} | {rows['cov90'].mean():.1%} | "
                f"{rows['cov90'].min():.1%}-{rows['cov90'].max():.1%} | "
                f"{int((rows['kupiec_p90'] > 0.05).sum())}/{len(rows)} | {pooled:.2f} | "
                f"{rows['cov99'].mean():.1%} | "
                f"{int((rows['christoffersen_p99'] > 0.05).sum())}/{len(rows)} | "
                f"{rows['qlike'].mean():.4f} | {excess:+.1%} | {rows['qlike_exact'].mean():.4f} | "
                f"{beats} | {_count(rows, 'stepm')} | {_count(rows, 'in_mcs')} |"
            )
        print()


def _count(rows: pd.DataFrame, column: str) -> str:
    """Seeds where ``column`` is true, of those run ('-' for a model outside the family, or
    runs saved before the column)."""
    if column not in rows or rows[column].isna().all():
        return "-"
    return f"{int(rows[column].fillna(False).astype(bool).sum())}/{len(rows)}"


if __name__ == "__main__":
    main()
