r"""Scoring a backtest's distributions: the volatility table and the calibration table.

Every model that forecast a distribution (the volatility models; the LSTM with
``--distribution`` or ``--target volatility``) is scored on the same test origins:

* its variance :math:`\mathrm{sd}^2` against the h-day variance proxy
  (:mod:`~lstm_forecast.features.volatility`) by QLIKE and MSE, and by a one-sided
  Diebold-Mariano test on QLIKE against the naive variance (``histvar``, the training
  variance): does the model's variance forecast beat the historical average?
* its whole distribution by CRPS, the log score and the mean pinball loss over the quantiles
  that bound the 80/90/95/99% intervals and the median;
* its central intervals and its lower-tail Value-at-Risk at 80/90/95/99% by coverage, Kupiec,
  Christoffersen independence and conditional coverage (:mod:`.scoring`).

For h > 1 the outcomes of consecutive origins overlap; the DM test allows for it (h-1 lags),
and the coverage tests run on every h-th origin, whose outcomes do not share days.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from . import scoring
from .stats import diebold_mariano_from_differential

if TYPE_CHECKING:
    from .backtest import BacktestResult

NAIVE_VARIANCE = "histvar"
PINBALL_LEVELS = (0.005, 0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975, 0.995)


def distribution_rows(predictions: pd.DataFrame) -> pd.DataFrame:
    """The rows of models that forecast a distribution."""
    if "sd" not in predictions:
        return predictions.iloc[:0]
    return predictions[predictions["sd"].notna()]


def _groups(data: pd.DataFrame):
    """(ticker label, rows) per ticker, and all tickers pooled when there are several."""
    tickers = list(dict.fromkeys(data["ticker"]))
    for ticker in tickers:
        yield ticker, data[data["ticker"] == ticker]
    if len(tickers) > 1:
        yield "ALL", data


def _scores(rows: pd.DataFrame) -> dict:
    y, loc, sd, df = (rows[k].to_numpy(float) for k in ("actual", "forecast", "sd", "df"))
    proxy, variance = rows["proxy"].to_numpy(float), sd**2
    positive = proxy > 0
    pinball = np.mean(
        [scoring.pinball(y, scoring.quantile(q, loc, sd, df), q).mean() for q in PINBALL_LEVELS]
    )
    out = {
        "n": len(rows),
        "qlike": float(scoring.qlike(proxy[positive], variance[positive]).mean()),
        "mse": float(scoring.variance_mse(proxy, variance).mean()),
        "crps": float(scoring.crps(y, loc, sd, df).mean()),
        "log_score": float(scoring.log_score(y, loc, sd, df).mean()),
        "pinball": float(pinball),
        "mean_sd": float(sd.mean()),
        "df": float(np.median(df)),
    }
    for level in scoring.LEVELS:
        out[f"cov{round(level * 100)}"] = 1 - scoring.interval_misses(y, loc, sd, df, level).mean()
    return out


def _per_date(rows: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Values averaged over tickers on each origin (one number per date for pooled tests)."""
    return pd.Series(values, index=rows["origin"].to_numpy()).groupby(level=0).mean().to_numpy()


def volatility_table(predictions: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """One row per distributional model and ticker (and ALL): the scores above, the QLIKE
    Diebold-Mariano test against the naive variance, and the 90% and 99% tests."""
    data = distribution_rows(predictions)
    if not len(data):
        return pd.DataFrame()
    records = []
    for ticker, rows in _groups(data):
        naive = rows[rows["model"] == NAIVE_VARIANCE].set_index("origin")
        for model, own in rows.groupby("model", sort=False):
            record = {"model": model, "ticker": ticker, **_scores(own)}
            if model != NAIVE_VARIANCE and len(naive):
                d = _qlike_differential(own, naive)
                if ticker == "ALL":
                    d = _per_date(own, d)
                dm = diebold_mariano_from_differential(d, horizon)
                record.update(qlike_dm=dm.statistic, qlike_dm_p=dm.p_better)
            for level in (0.90, 0.99):
                test = _coverage(own, level, horizon, "interval")
                record[f"kupiec_p{round(level * 100)}"] = test.kupiec_p
                record[f"christoffersen_p{round(level * 100)}"] = test.conditional_p
            records.append(record)
    table = pd.DataFrame(records)
    for column in ("qlike_dm", "qlike_dm_p"):
        if column not in table:
            table[column] = np.nan
    return table.sort_values(["ticker", "qlike"], kind="stable").reset_index(drop=True)


def _qlike_differential(own: pd.DataFrame, naive: pd.DataFrame) -> np.ndarray:
    keys = own.set_index(["origin", "ticker"])
    base = naive.reset_index().set_index(["origin", "ticker"]).loc[keys.index]
    return scoring.qlike_differential(
        keys["proxy"].to_numpy(float),
        keys["sd"].to_numpy(float) ** 2,
        base["sd"].to_numpy(float) ** 2,
    )


def _every_h(rows: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Per ticker, every h-th origin counted back from the last (non-overlapping outcomes)."""
    if horizon == 1:
        return rows
    parts = []
    for _, own in rows.groupby("ticker", sort=False):
        own = own.sort_values("origin")
        parts.append(own.iloc[::-1].iloc[::horizon].iloc[::-1])
    return pd.concat(parts)


def _misses(rows: pd.DataFrame, level: float, kind: str) -> np.ndarray:
    args = [rows[k].to_numpy(float) for k in ("actual", "forecast", "sd", "df")]
    if kind == "interval":
        return scoring.interval_misses(*args, level)
    return scoring.var_breaches(*args, level)


def _coverage(rows: pd.DataFrame, level: float, horizon: int, kind: str):
    rows = _every_h(rows, horizon)
    if rows["ticker"].nunique() > 1:  # pooled: a miss on a date is tested ticker by ticker
        parts = [_misses(own, level, kind) for _, own in rows.groupby("ticker", sort=False)]
        tests = [scoring.coverage_test(p, level) for p in parts]
        misses = np.concatenate(parts)
        pooled = scoring.coverage_test(misses, level)
        lr_ind = sum(t.lr_ind for t in tests)  # independent tickers: the LRs add up
        return _with_independence(pooled, lr_ind, len(tests))
    return scoring.coverage_test(_misses(rows, level, kind), level)


def _with_independence(test: scoring.CoverageTest, lr_ind: float, dof: int):
    lr_cc = test.lr_pof + lr_ind
    return replace(
        test,
        lr_ind=lr_ind,
        independence_p=float(stats.chi2.sf(lr_ind, dof)),
        lr_cc=lr_cc,
        conditional_p=float(stats.chi2.sf(lr_cc, dof + 1)),
    )


def calibration_table(predictions: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Per model, ticker (and ALL), kind (central interval, or VaR: the lower tail) and level:
    the misses against the number expected, and the three likelihood-ratio tests."""
    data = distribution_rows(predictions)
    records = []
    for ticker, rows in _groups(data):
        for model, own in rows.groupby("model", sort=False):
            for kind in ("interval", "VaR"):
                for level in scoring.LEVELS:
                    test = _coverage(own, level, horizon, kind)
                    records.append(
                        {
                            "model": model,
                            "ticker": ticker,
                            "kind": kind,
                            "level": level,
                            "n": test.n,
                            "misses": test.misses,
                            "expected": test.n * (1 - level),
                            "coverage": test.coverage,
                            "kupiec_p": test.kupiec_p,
                            "independence_p": test.independence_p,
                            "conditional_p": test.conditional_p,
                        }
                    )
    return pd.DataFrame(records)


def pit(predictions: pd.DataFrame) -> pd.DataFrame:
    """model, ticker, origin and the PIT of each distributional forecast."""
    data = distribution_rows(predictions)
    values = scoring.cdf(*(data[k].to_numpy(float) for k in ("actual", "forecast", "sd", "df")))
    return data[["model", "ticker", "origin"]].assign(pit=values)


def backtest_calibration(result: BacktestResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The volatility table and the calibration table of a backtest
    (:class:`~lstm_forecast.evaluation.backtest.BacktestResult`), every model's rows included;
    both empty when no model forecast a distribution."""
    predictions, h = result.all_predictions(), result.settings.horizon
    return volatility_table(predictions, h), calibration_table(predictions, h)
