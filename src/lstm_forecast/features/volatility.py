r"""The variance a volatility forecast is judged against: a daily proxy, and its h-day sum.

The true daily variance is never observed. Where the data has open, high and low prices the
proxy is the Garman-Klass estimator with the overnight gap added (the "Garman-Klass-Yang-Zhang"
form), an unbiased estimate of the close-to-close variance for a random walk that jumps at the
open, and about seven times as efficient as the squared return:

.. math::
    \hat\sigma^2_t = \log^2\frac{O_t}{C_{t-1}} + \tfrac12\log^2\frac{H_t}{L_t}
                     - (2\log 2 - 1)\log^2\frac{C_t}{O_t}

An index's open is often the previous close, which makes the overnight term vanish and the
estimator too low; :func:`proxy_scale` gives the factor that matches the squared returns'
mean over chosen rows (Hansen & Lunde's scaling of a partial-day measure). Models scale with
their training rows; the backtest scores against the proxy scaled over the whole series (an
outcome, not an input).

With closes only it is the squared log return :math:`r_t^2`: unbiased but noisy. Either way
QLIKE and MSE rank forecasts as the true variance would (Patton 2011), so the noisier proxy
makes the comparison less sharp, not wrong. The h-day proxy at origin t is
:math:`\sum_{k=1}^{h} \hat\sigma^2_{t+k}`, known at :math:`t + h`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.ohlcv import adjusted, bars_of, inconsistent_bars
from .returns import log_returns

GARMAN_KLASS, SQUARED_RETURNS = "garman-klass", "squared returns"


def variance_proxy(prices: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The daily proxy (dates x tickers) and its name; row t uses bars up to t only. Garman-
    Klass where every ticker has open, high and low bars, else the squared return."""
    squared = log_returns(prices) ** 2
    tables = [bars_of(prices, str(t)) for t in prices.columns]
    if any(bars is None or not {"open", "high", "low"} <= set(bars) for bars in tables):
        return squared, SQUARED_RETURNS
    columns = {}
    for ticker, raw in zip(prices.columns, tables, strict=True):
        bars = adjusted(raw)  # a raw split's gap is no variance
        close = bars["close"] if "close" in bars else bars["adj_close"]
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.log(bars["open"] / close.shift(1))
            spread = np.log(bars["high"] / bars["low"])
            body = np.log(close / bars["open"])
        gk = gap**2 + 0.5 * spread**2 - (2 * np.log(2) - 1) * body**2
        gk = gk.where(np.isfinite(gk) & (gk > 0) & ~inconsistent_bars(bars))
        # a day without a usable bar (a hole, a zero range, a bar that contradicts itself)
        # falls back to its squared return
        columns[ticker] = gk.fillna(squared[ticker])
    return pd.DataFrame(columns, index=prices.index), GARMAN_KLASS


def realized_variance(proxy: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """The proxy summed over rows t+1..t+h at each origin t (the last ``horizon`` rows NaN)."""
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    return proxy.rolling(horizon, min_periods=horizon).sum().shift(-horizon)


def realized_proxy(prices: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """What a variance forecast at each origin is scored against: the daily proxy scaled to
    the squared returns of ``prices`` (:func:`proxy_scale`), summed over the next ``horizon``
    rows (:func:`realized_variance`)."""
    daily, _ = variance_proxy(prices)
    return realized_variance(daily * proxy_scale(prices, daily), horizon)


def proxy_scale(prices: pd.DataFrame, proxy: pd.DataFrame) -> pd.Series:
    """Per ticker: mean squared log return / mean proxy over the rows of ``prices`` (1 for
    a proxy that is the squared return)."""
    squared = log_returns(prices) ** 2
    both = squared.notna() & proxy.notna()
    return squared.where(both).mean() / proxy.where(both).mean()
