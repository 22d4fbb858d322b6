"""Could this be luck? One row per ticker (and pooled) that gathers what the family-wise
tests and the Sharpe-ratio corrections of the metrics table say, plus the Probability of
Backtest Overfitting, and one plain sentence for the report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .backtest import BacktestResult
from .overfitting import backtest_overfitting
from .summary import outcomes, strategy_daily, ticker_groups

PBO_BLOCKS = 16
KINDS = {"lf": "long/flat", "ls": "long/short"}


def strategy_matrix(
    result: BacktestResult, rows: pd.DataFrame, panel: bool, known: pd.DataFrame
) -> pd.DataFrame:
    """Daily net returns of every strategy tried (model x long/flat, long/short), one column
    each, rows the test origins. ``known``: :func:`~.summary.outcomes` of ``result``
    (computed once by the caller, not once per ticker)."""
    data = rows.merge(known, on=["origin", "ticker"], how="left")
    columns = {}
    for name, group in data.groupby("model", sort=False):
        if name == "naive":
            continue
        for prefix, kind in (("lf", "long_flat"), ("ls", "long_short")):
            daily, _ = strategy_daily(group, kind, result.settings.cost_bps, panel)
            columns[f"{name} {KINDS[prefix]}"] = daily
    return pd.DataFrame(columns)


def luck_table(result: BacktestResult, table: pd.DataFrame) -> pd.DataFrame:
    """Per ticker (and "ALL"): the SPA p-value, the models in the 90% confidence set, those
    StepM keeps, the best strategy with its annualised Sharpe ratio and Deflated Sharpe Ratio,
    the best Sharpe ratio that luck would give over the run's tries, and PBO."""
    out = []
    tickers = list(result.prices.columns)
    known = outcomes(result)
    for ticker, rows, panel in ticker_groups(result.predictions, tickers):
        part = table[table["ticker"] == ticker]
        tried = part[part["model"] != "naive"]
        strategies = pd.concat(
            [
                tried.assign(kind=KINDS[p], sharpe=tried[f"{p}_sharpe"], dsr=tried[f"{p}_dsr"])
                for p in KINDS
            ],
            ignore_index=True,
        )
        if strategies["sharpe"].notna().any():
            best = strategies.loc[strategies["sharpe"].idxmax()]
        else:  # nothing traded (only the random walk, or forecasts that never go long)
            best = {"model": "none", "kind": "", "sharpe": np.nan, "dsr": np.nan}
        matrix = strategy_matrix(result, rows, panel, known)
        out.append(
            {
                "ticker": ticker,
                "spa_p": float(part["spa_p"].iloc[0]),
                "confidence_set": ", ".join(part.loc[part["in_mcs"], "model"]),
                "stepm": ", ".join(part.loc[part["stepm"], "model"]),
                "best_strategy": f"{best['model']} {best['kind']}".strip(),
                "best_sharpe": float(best["sharpe"]),
                "best_dsr": float(best["dsr"]),
                "luck_sharpe": float((tried if len(tried) else part)["luck_sharpe"].max()),
                "sharpe_trials": int(part["sharpe_trials"].iloc[0]),
                "pbo": backtest_overfitting(matrix.to_numpy(), PBO_BLOCKS),
            }
        )
    return pd.DataFrame(out)


def plain_words(luck: pd.DataFrame, table: pd.DataFrame) -> str:
    """One sentence a student can read: is there evidence of skill after counting every try?"""
    tested = table[table["model"] != "naive"]
    tests, lucky = len(tested), int(((tested["dm_p"] < 0.05) & ~tested["stepm"]).sum())
    kept = luck[luck["stepm"] != ""]
    if tests == 0:
        return "Only the random walk ran: there is nothing to compare it with."
    counted = (
        "After its one comparison with the random walk"
        if tests == 1
        else f"After counting all {tests} comparisons with the random walk"
    )
    if len(kept):
        where = "; ".join(f"{r.stepm} on {r.ticker}" for r in kept.itertuples())
        first = f"{counted}, these forecasts still beat it at the 5% family-wise level: {where}."
    else:
        row = luck.loc[luck["spa_p"].fillna(np.inf).idxmin()]
        where = (
            f"smallest SPA p-value {row['spa_p']:.2f}"
            if len(luck) == 1
            else f"smallest SPA p-value {row['spa_p']:.2f}, on {row['ticker']}: one of "
            f"{len(luck)} groups tested"
        )
        first = f"{counted}, no model beats it ({where})."
    if lucky:
        first += (
            f" {lucky} unadjusted DM p-value{'s' if lucky > 1 else ''} below 5% "
            f"{'are' if lucky > 1 else 'is'} what luck gives when {tests} "
            f"{'are' if tests > 1 else 'is'} tried."
        )
    if luck["best_sharpe"].isna().all():
        return first + " No trading rule took a position, so there is no Sharpe ratio to judge."
    row = luck.loc[luck["best_sharpe"].idxmax()]
    skill = row["best_dsr"] >= 0.95
    luck_words = (
        f"the Sharpe of {row['luck_sharpe']:.2f} that the best of {row['sharpe_trials']} "
        "skill-less tries would reach on average"
    )
    if skill:
        verb = f"beats {luck_words}"
    elif row["best_sharpe"] > row["luck_sharpe"]:  # above it, but within its noise
        verb = f"is above {luck_words}, but by less than the noise of its days allows"
    else:
        verb = f"does not beat {luck_words}"
    second = (
        f" The best trading rule ({row['best_strategy']} on {row['ticker']}, Sharpe "
        f"{row['best_sharpe']:.2f}) {verb} (Deflated Sharpe Ratio {row['best_dsr']:.2f}"
        f"{', above' if skill else ', below'} 0.95)."
    )
    return first + second
