r"""Forecast accuracy on returns and on prices. Pure functions of arrays.

On returns (forecast :math:`\hat y`, actual :math:`y`, over the test origins):

* RMSE :math:`\sqrt{\overline{(y-\hat y)^2}}`, MAE :math:`\overline{|y-\hat y|}`.
* Out-of-sample :math:`R^2` against a benchmark forecast :math:`b` (Campbell & Thompson
  2008): :math:`R^2_{OS} = 1 - \sum (y-\hat y)^2 / \sum (y-b)^2`. With :math:`b` the
  historical mean known at each origin it asks "better than the average?"; with
  :math:`b = 0` it asks "better than the random walk?".
* Hit rate: the share of origins where :math:`\mathrm{sign}(\hat y) = \mathrm{sign}(y)`
  (zero forecasts and zero outcomes left out), with the one-sided binomial p-value of doing
  at least that well by coin flips; for h > 1 a HAC t-test instead, because overlapping
  windows make hits come in runs (:mod:`.stats`).

On prices (:math:`\hat P = P_t e^{\hat y}`): RMSE, MAE, MAPE
:math:`100\,\overline{|P-\hat P|/P}`, and MASE: MAE divided by the in-sample MAE of the
naive ``h``-step forecast (Hyndman & Koehler 2006); below 1 beats the naive forecast.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .stats import hln_t


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(actual) - forecast) ** 2)))


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(actual) - forecast)))


def oos_r2(actual: np.ndarray, forecast: np.ndarray, benchmark: np.ndarray | float) -> float:
    """Out-of-sample R^2 of ``forecast`` against ``benchmark`` (Campbell & Thompson 2008)."""
    actual = np.asarray(actual)
    denominator = np.sum((actual - benchmark) ** 2)
    if denominator == 0:
        return float("nan")
    return float(1.0 - np.sum((actual - forecast) ** 2) / denominator)


def hit_rate(
    actual: np.ndarray, forecast: np.ndarray, horizon: int = 1
) -> tuple[float, int, float]:
    """(hit rate, number of calls, one-sided p-value against a fair coin): binomial for
    ``horizon`` 1, the overlap-robust t-test of :func:`.stats.hln_t` above."""
    actual, forecast = np.asarray(actual), np.asarray(forecast)
    called = (forecast != 0) & (actual != 0)
    n = int(called.sum())
    if n == 0:
        return float("nan"), 0, float("nan")
    hit = np.sign(forecast[called]) == np.sign(actual[called])
    if horizon > 1:
        statistic, _ = hln_t(hit - 0.5, horizon)
        p_value = stats.t.sf(statistic, df=n - 1) if np.isfinite(statistic) else float("nan")
        return float(hit.mean()), n, float(p_value)
    p_value = stats.binomtest(int(hit.sum()), n, 0.5, alternative="greater").pvalue
    return float(hit.mean()), n, float(p_value)


def price_errors(actual_price: np.ndarray, forecast_price: np.ndarray, naive_scale: float) -> dict:
    """RMSE, MAE, MAPE (%) and MASE of price forecasts; ``naive_scale`` is the in-sample MAE."""
    actual_price = np.asarray(actual_price)
    error = actual_price - forecast_price
    mae_value = float(np.mean(np.abs(error)))
    return {
        "price_rmse": float(np.sqrt(np.mean(error**2))),
        "price_mae": mae_value,
        "mape": float(100 * np.mean(np.abs(error) / actual_price)),
        "mase": mae_value / naive_scale if naive_scale > 0 else float("nan"),
    }


def naive_mae(prices: np.ndarray, horizon: int) -> float:
    """In-sample MAE of the naive h-step price forecast, the MASE scale."""
    prices = np.asarray(prices)
    prices = prices[~np.isnan(prices)]
    if len(prices) <= horizon:
        return float("nan")
    return float(np.mean(np.abs(prices[horizon:] - prices[:-horizon])))
