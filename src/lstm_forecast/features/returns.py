r"""Log returns and the horizon target every forecaster predicts.

.. math::
    r_t = \log(P_t / P_{t-1}), \qquad y_t^{(h)} = \log(P_{t+h} / P_t) = \sum_{k=1}^{h} r_{t+k}

:math:`y_t^{(h)}` is known only at :math:`t + h`: a model trained at origin :math:`T` may use
targets with :math:`t + h \le T` only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def log_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """One-step log returns, same shape as ``prices``; the first row (and pre-listing rows) NaN."""
    return np.log(prices).diff()


def horizon_target(prices: pd.DataFrame, horizon: int = 1) -> pd.DataFrame:
    """``log(P[t+h] / P[t])`` at each origin t; the last ``horizon`` rows are NaN."""
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    log_p = np.log(prices)
    return log_p.shift(-horizon) - log_p


def to_price(
    origin_price: np.ndarray | pd.DataFrame, log_return: np.ndarray | pd.DataFrame
) -> np.ndarray | pd.DataFrame:
    """Price forecast ``P[t] * exp(y_hat)`` from a forecast log return."""
    return origin_price * np.exp(log_return)


def relative_prices(prices: pd.DataFrame) -> pd.DataFrame:
    r"""Prices whose one-day log returns are each ticker's return minus the cross-sectional
    median that day, :math:`r_{i,t} - \mathrm{med}_j\, r_{j,t}` (the target of Fischer &
    Krauss 2018), starting at 1. Row t uses prices up to t only. For an h-day horizon the
    target is the sum of h such days: the return against a portfolio rebalanced to the
    median every day."""
    returns = log_returns(prices)
    relative = returns.sub(returns.median(axis=1), axis=0)
    started = prices.notna()
    out = np.exp(relative.fillna(0.0).cumsum()).where(started)
    return out
