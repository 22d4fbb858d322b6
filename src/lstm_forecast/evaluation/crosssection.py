r"""Does a model rank the tickers? Metrics of the cross-section, for ``--target relative``.

With forecasts :math:`\hat y_{i,t}` and outcomes :math:`y_{i,t}` (each ticker's h-day return
minus the cross-sectional median) at origin :math:`t`:

* the **rank information coefficient** :math:`IC_t`: Spearman's correlation across tickers of
  forecasts and outcomes; its mean over dates, its t statistic (HAC over h-1 lags with the HLN
  correction, as the DM test, since h-day outcomes overlap) with the one-sided p-value, and its
  hit rate (the share of dates with :math:`IC_t > 0`);
* the **top-minus-bottom portfolio**: each day, long the :math:`k` tickers with the highest
  forecast and short the :math:`k` lowest (:math:`k = \max(1, \lfloor N/5 \rfloor)`, equal
  weights, half the book each side), held one day, net of costs per unit of turnover:
  annualised return, Sharpe ratio and turnover.

The random walk of relative returns forecasts 0 for everyone, ranks nothing, and is left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from ..data.summary import periods_per_year
from . import family
from .stats import hln_t
from .strategy import TRADING_DAYS

if TYPE_CHECKING:
    from .backtest import BacktestResult


def rank_ic(forecast: pd.DataFrame, actual: pd.DataFrame) -> pd.Series:
    """Spearman correlation across tickers per date (rows: dates; NaN where undefined)."""
    f, a = forecast.rank(axis=1), actual.rank(axis=1)
    f = f.sub(f.mean(axis=1), axis=0)
    a = a.sub(a.mean(axis=1), axis=0)
    denominator = np.sqrt((f**2).sum(axis=1) * (a**2).sum(axis=1))
    return ((f * a).sum(axis=1) / denominator.where(denominator > 0)).rename("ic")


def top_minus_bottom(
    forecast: pd.DataFrame, next_return: pd.DataFrame, cost_bps: float
) -> tuple[np.ndarray, np.ndarray]:
    """(daily net returns, daily turnover) of the long top-k, short bottom-k book."""
    n = forecast.shape[1]
    k = max(1, n // 5)
    order = forecast.rank(axis=1, method="first")
    weights = (order > n - k).astype(float) / (2 * k) - (order <= k).astype(float) / (2 * k)
    gross = (weights * next_return).sum(axis=1).to_numpy()
    turnover = weights.diff().abs().sum(axis=1).to_numpy(copy=True)
    turnover[0] = weights.iloc[0].abs().sum()
    return gross - cost_bps / 1e4 * turnover, turnover


def cross_section_table(
    predictions: pd.DataFrame,
    next_return: pd.DataFrame,
    horizon: int,
    cost_bps: float,
    periods: int = TRADING_DAYS,
) -> pd.DataFrame:
    """One row per model: mean rank IC, its t statistic and p-value, IC hit rate, and the
    top-minus-bottom book's annualised return, Sharpe ratio and turnover (``periods`` rows a
    year)."""
    rows = []
    for name, group in predictions.groupby("model", sort=False):
        if name == "naive":
            continue
        forecast = group.pivot(index="origin", columns="ticker", values="forecast")
        actual = group.pivot(index="origin", columns="ticker", values="actual")
        ic = rank_ic(forecast, actual).dropna()
        statistic, n = hln_t(ic.to_numpy(), horizon)
        p = float(stats.t.sf(statistic, df=n - 1)) if np.isfinite(statistic) else np.nan
        daily, turnover = top_minus_bottom(
            forecast, next_return.reindex(index=forecast.index, columns=forecast.columns), cost_bps
        )
        sd = np.std(daily, ddof=1) if len(daily) > 1 else 0.0
        rows.append(
            {
                "model": name,
                "dates": n,
                "ic_mean": float(ic.mean()) if n else np.nan,
                "ic_t": statistic,
                "ic_p": p,
                "ic_hit": float((ic > 0).mean()) if n else np.nan,
                "tmb_ann_return": float(np.mean(daily) * periods),
                "tmb_sharpe": float(np.mean(daily) / sd * np.sqrt(periods)) if sd > 0 else np.nan,
                "tmb_turnover": float(np.mean(turnover) * periods),
            }
        )
    table = pd.DataFrame(rows)
    if len(table):  # one IC test per model: Holm's step-down counts them all
        table.insert(table.columns.get_loc("ic_p") + 1, "ic_p_holm", family.holm(table["ic_p"]))
    return table


def cross_section_words(table: pd.DataFrame) -> str:
    """One sentence on the IC tests after counting every model's (Holm, 5%)."""
    tested = table[table["ic_p"].notna()] if len(table) else table
    if not len(tested):
        return ""
    counted = (
        "With its one IC test"
        if len(tested) == 1
        else f"After Holm's adjustment for the {len(tested)} models' IC tests"
    )
    ranks = list(tested.loc[tested["ic_p_holm"] < 0.05, "model"])
    if ranks:
        verb = "ranks" if len(ranks) == 1 else "rank"
        return f"{counted}, {', '.join(ranks)} {verb} the tickers at 5%."
    lowest = tested.loc[tested["ic_p"].idxmin()]
    return (
        f"{counted}, no model ranks the tickers at 5% (the lowest p, {lowest['ic_p']:.3f} for "
        f"{lowest['model']}, is {lowest['ic_p_holm']:.3f} after it)."
    )


def backtest_cross_section(result: BacktestResult) -> pd.DataFrame:
    """:func:`cross_section_table` of a backtest (its prices: relative ones for
    ``--target relative``)."""
    from ..features import log_returns

    next_return = log_returns(result.prices).shift(-1)
    settings = result.settings
    periods = periods_per_year(result.prices.index)
    return cross_section_table(
        result.predictions, next_return, settings.horizon, settings.cost_bps, periods
    )
