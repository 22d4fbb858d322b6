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

from . import family, scoring
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
    table = _family_columns(table, data, horizon)
    return table.sort_values(["ticker", "qlike"], kind="stable").reset_index(drop=True)


def _qlike_losses(data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """QLIKE per origin, model by model, for each ticker and "ALL" (the mean over tickers per
    date): proxy / variance + log variance, defined for a zero proxy too, which differs from
    QLIKE by terms that no forecast changes, so differences between models are QLIKE's."""
    variance = data["sd"].to_numpy(float) ** 2
    loss = data.assign(loss=data["proxy"].to_numpy(float) / variance + np.log(variance))
    return {
        group: rows.pivot_table(
            index="origin", columns="model", values="loss", aggfunc="mean", sort=False
        ).dropna()
        for group, rows in _groups(loss)
    }


def _family_columns(table: pd.DataFrame, data: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """The tests over the family of variance forecasts, on QLIKE (:mod:`.family`): per
    ticker (and pooled), SPA's p-value that no model beats the naive variance (``spa_p``) and
    whether a model is in the 90% model confidence set (``in_mcs``: the models that cannot be
    told from the best); and one StepM at 5% over every model on every ticker against the
    naive variance (``stepm``: better than it, after counting all those comparisons)."""
    spa, mcs, differentials = {}, {}, {}
    for group, losses in _qlike_losses(data).items():
        naive = NAIVE_VARIANCE in losses and losses.shape[1] > 1
        bench = losses[NAIVE_VARIANCE] if naive else losses.iloc[:, 0]
        others = losses.drop(columns=bench.name)
        block = family.block_length(others.sub(bench, axis=0), horizon)
        mcs[group] = set(family.confidence_set(losses, block))
        if naive:
            spa[group] = family.spa_pvalue(bench, others, block)
            for model in others.columns:
                differentials[f"{model}|{group}"] = others[model] - bench
    # a ticker that ended has no loss after its end: a zero differential there (as for the
    # squared errors of the point forecasts, evaluation.summary)
    joint = pd.DataFrame(differentials).fillna(0.0)
    kept = set()
    if len(joint.columns):
        zero = pd.Series(0.0, index=joint.index)
        kept = set(family.stepm_superior(zero, joint, family.block_length(joint, horizon)))
    pairs = list(zip(table["model"], table["ticker"], strict=True))
    table["spa_p"] = table["ticker"].map(spa).astype(float)
    table["in_mcs"] = [model in mcs.get(ticker, ()) for model, ticker in pairs]
    table["stepm"] = [f"{model}|{ticker}" in kept for model, ticker in pairs]
    return table


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


def _names(models: list[str]) -> str:
    return models[0] if len(models) == 1 else f"{', '.join(models[:-1])} and {models[-1]}"


def volatility_words(vol: pd.DataFrame) -> str:
    """Plain words on the family-wise tests of :func:`volatility_table` (its ``spa_p``,
    ``stepm`` and ``in_mcs`` columns), for the pooled rows of a panel or the one ticker: does
    any variance forecast beat the naive variance after counting every comparison, and which
    models cannot be told from the best?"""
    if not len(vol):
        return ""
    groups = list(dict.fromkeys(vol["ticker"]))
    group = "ALL" if "ALL" in groups else groups[0]
    rows = vol[vol["ticker"] == group].sort_values("qlike", kind="stable")
    tested = vol[vol["model"] != NAIVE_VARIANCE]
    words = []
    if len(tested) and NAIVE_VARIANCE in set(rows["model"]):
        tests = len(tested)
        many = {1: "its one comparison", 2: "both comparisons"}.get(
            tests, f"all {tests} comparisons"
        )
        every = ", every model on every ticker and pooled" if len(groups) > 1 else ""
        counted = (
            f"After counting {many} with the naive variance ({NAIVE_VARIANCE}, on QLIKE{every})"
        )
        kept = list(rows.loc[rows["stepm"], "model"])
        spa = f"SPA p-value {rows['spa_p'].dropna().iloc[0]:.2f}"
        if len(groups) > 1:  # SPA asks of the pooled models alone, StepM counts them all
            spa += f" for the pooled models alone: one of {len(groups)} groups tested"
        pooled = " pooled" if group == "ALL" else ""
        if kept:
            verb = "beats" if len(kept) == 1 else "beat"
            words.append(
                f"{counted}, {_names(kept)} still {verb} it at the 5% family-wise level"
                f"{pooled} ({spa})."
            )
        else:
            words.append(f"{counted}, no model beats it{pooled} ({spa}).")
        if group == "ALL":
            alone = tested[(tested["ticker"] != "ALL") & tested["stepm"]]
            words.append(
                f"On single tickers: {len(alone)} of {len(tested[tested['ticker'] != 'ALL'])} "
                "model-ticker pairs beat it (volatility.csv, column stepm)."
            )
    best, kept = rows["model"].iloc[0], list(rows.loc[rows["in_mcs"], "model"])
    if kept == [best]:
        words.append(
            f"The 90% model confidence set holds {best} alone: every other model's QLIKE is "
            "worse by more than luck allows."
        )
    elif kept:
        words.append(
            f"The 90% model confidence set holds {_names(kept)}: the data cannot tell "
            f"{'these' if len(kept) > 2 else 'the two'} apart, so {best}'s first place by "
            "QLIKE may be luck."
        )
    return " ".join(words)
