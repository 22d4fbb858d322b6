"""Does a seed ensemble forecast better distributions than one LSTM?

For each series (the embedded S&P 500, and GARCH(1,1) series with Student-t noise of 5
degrees of freedom, ``simulate_volatility("garch_t")``, 4,000 days) and each head (``t``:
``backtest --distribution t``; ``variance``: ``backtest --target volatility``), the backtest
protocol of ``make demo`` (last 500 days tested, refits every 63 days, expanding window,
warm-started) with one LSTM and with a K-member seed ensemble (members trained one after
another, their distributions combined by the moments of their mixture,
``models.lstm_heads.combine``). Printed per series and head: mean log score and CRPS of the
return (lower is better), QLIKE of the variance against the realised proxy, coverage of the
90% and 99% intervals, the one-sided Diebold-Mariano p-value of the ensemble's log score
beating the single LSTM's, and seconds per backtest. The simulated rows also give QLIKE
against the true variance (0 for the true model).

    python benchmarks/ensemble_distribution.py [--members 5] [--seeds 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd


def one_run(
    series: str, head: str, members: int, days: int = 4000, quick: dict | None = None
) -> tuple[dict, pd.DataFrame]:
    """One backtest: its LSTM's scores, and its rows (for the paired test). ``days`` and
    ``quick`` (backtest settings, and the LSTM's under "lstm") shrink it for the tests."""
    import torch

    from lstm_forecast.data import read_prices
    from lstm_forecast.data.simulate import simulate_volatility
    from lstm_forecast.evaluation import BacktestSettings, run_backtest, scoring
    from lstm_forecast.evaluation.calibration import distribution_rows, volatility_table

    torch.set_num_threads(1)
    truth = None
    if series == "sp500":
        prices = read_prices("sp500")
    else:
        seed = int(series.split("-")[1])
        prices, truth, _ = simulate_volatility("garch_t", days=days, seed=seed, nu=5.0)
    quick = dict(quick or {})
    lstm = {"ensemble": members, "distribution": "t", **quick.pop("lstm", {})}
    target = "volatility" if head == "variance" else "return"
    start = time.perf_counter()
    settings = BacktestSettings(
        models=("lstm",), target=target, model_settings={"lstm": lstm}, **quick
    )
    result = run_backtest(prices, settings)
    seconds = time.perf_counter() - start
    rows = distribution_rows(result.all_predictions())
    rows = rows[rows["model"] == "lstm"].sort_values("origin").reset_index(drop=True)
    row = volatility_table(rows, 1).iloc[0].to_dict()
    y, loc, sd, df = (rows[k].to_numpy(float) for k in ("actual", "forecast", "sd", "df"))
    rows["log_score"] = scoring.log_score(y, loc, sd, df)
    scores = {
        "series": series,
        "head": head,
        "members": members,
        "log_score": row["log_score"],
        "crps": row["crps"],
        "qlike": row["qlike"],
        "cov90": row["cov90"],
        "cov99": row["cov99"],
        "seconds": seconds,
    }
    if truth is not None:
        exact = scoring.qlike(truth.loc[rows["origin"]].to_numpy(), sd**2)
        scores["qlike_true"] = float(np.mean(exact))
    return scores, rows[["origin", "log_score"]]


def print_table(table: pd.DataFrame) -> None:
    """One markdown row per series, head and ensemble size."""
    simulated = "qlike_true" in table
    print(
        "| series | head | members | log score | CRPS | QLIKE | QLIKE vs true | 90% | 99% "
        "| p(DM): ensemble's log score beats one LSTM's | s per backtest |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in table.itertuples():
        true = f"{r.qlike_true:.4f}" if simulated and np.isfinite(r.qlike_true) else ""
        p = "" if np.isnan(r.p_dm) else f"{r.p_dm:.3f}"
        print(
            f"| {r.series} | {r.head} | {r.members} | {r.log_score:.4f} | {r.crps:.6f} "
            f"| {r.qlike:.4f} | {true} | {r.cov90:.1%} | {r.cov99:.1%} | {p} | {r.seconds:.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    from lstm_forecast.evaluation.stats import diebold_mariano_from_differential

    series = ["sp500", *(f"garch_t-{s}" for s in range(args.seeds))]
    runs = [(s, h, k) for s in series for h in ("t", "variance") for k in (1, args.members)]
    from lstm_forecast.evaluation.executors import exit_with_parent

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=context, initializer=exit_with_parent) as pool:
        done = list(pool.map(one_run, *zip(*runs, strict=True)))
    table = pd.DataFrame([scores for scores, _ in done])
    paired = {(s["series"], s["head"], s["members"]): rows for s, rows in done}
    p_values = []
    for s, h, k in runs:
        if k == 1:
            p_values.append(np.nan)
            continue
        one, many = paired[(s, h, 1)], paired[(s, h, k)]
        merged = one.merge(many, on="origin", suffixes=("_one", "_many"))
        d = (merged["log_score_many"] - merged["log_score_one"]).to_numpy()  # < 0: better
        p_values.append(diebold_mariano_from_differential(d, 1).p_better)
    table["p_dm"] = p_values
    print_table(table)
    print(f"\n{args.members}-member ensembles; one thread per process, {args.jobs} processes.")


if __name__ == "__main__":
    main()
