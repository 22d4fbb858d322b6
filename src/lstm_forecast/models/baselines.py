r"""The classical predictors: random walk, drift, simple and exponential moving averages.

Each is a pure function of a (T, N) price array plus a thin class that stores settings.
All return the forecast log return :math:`\hat y_t = \log(\hat P_{t+h} / P_t)`.

* naive (random walk): :math:`\hat y_t = 0`. Skill means beating this.
* drift: :math:`\hat y_t = h\,\bar r`, :math:`\bar r` the mean training log return.
* SMA: :math:`\hat P_{t+h} = \frac1w \sum_{k=0}^{w-1} P_{t-k}` (fewer terms at the start).
* EMA: :math:`\hat P_{t+h} = E_t`, :math:`E_t = \alpha P_t + (1-\alpha) E_{t-1}`,
  :math:`\alpha = 2/(\text{span}+1)`, :math:`E` starting at the first price.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import BaseForecaster


def sma_forecast(prices: np.ndarray, window: int) -> np.ndarray:
    """log(SMA_t / P_t) for a (T, N) array; NaN rows (not yet listed) stay NaN."""
    valid = ~np.isnan(prices)
    zero = np.zeros((1, prices.shape[1]))
    sums = np.concatenate([zero, np.cumsum(np.where(valid, prices, 0.0), axis=0)])  # (T+1, N)
    counts = np.concatenate([zero, np.cumsum(valid, axis=0)])
    end = np.arange(1, len(prices) + 1)
    start = np.maximum(end - window, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (sums[end] - sums[start]) / (counts[end] - counts[start])
        return np.log(mean) - np.log(prices)


def ema_forecast(prices: np.ndarray, span: float) -> np.ndarray:
    """log(EMA_t / P_t) for a (T, N) array, each column's EMA starting at its first price."""
    alpha = 2.0 / (span + 1.0)
    ema = np.full_like(prices, np.nan)
    state = np.full(prices.shape[1], np.nan)
    for t, row in enumerate(prices):
        state = np.where(np.isnan(state), row, alpha * row + (1.0 - alpha) * state)
        ema[t] = state
    return np.log(ema) - np.log(prices)


class NaiveForecaster(BaseForecaster):
    """Random walk: tomorrow's price is today's (zero forecast return)."""

    name = "naive"
    per_ticker = True

    def _fit(self, prices: pd.DataFrame) -> None:
        pass

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        return history * 0.0  # zeros, NaN where the ticker has no price yet


class DriftForecaster(BaseForecaster):
    """Random walk with drift: the mean training log return, times the horizon."""

    name = "drift"
    per_ticker = True

    def _fit(self, prices: pd.DataFrame) -> None:
        returns = np.log(prices).diff()
        mean = returns.mean()
        if mean.isna().any():
            short = list(mean.index[mean.isna()])
            raise ValueError(f"drift: tickers {short} have fewer than two training prices")
        self.mean_return_ = mean

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        return history * 0.0 + self.horizon * self.mean_return_[history.columns]


class SMAForecaster(BaseForecaster):
    """Forecast price = simple moving average of the last ``window`` prices."""

    name = "sma"
    per_ticker = True

    def __init__(self, window: int = 20, horizon: int = 1) -> None:
        super().__init__(horizon)
        self.window = window

    def _fit(self, prices: pd.DataFrame) -> None:
        if not isinstance(self.window, int) or self.window < 1:
            raise ValueError(f"sma: window must be a positive integer, got {self.window!r}")

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        values = sma_forecast(history.to_numpy(np.float64), self.window)
        return pd.DataFrame(values, index=history.index, columns=history.columns)


class EMAForecaster(BaseForecaster):
    """Forecast price = exponential moving average with the given ``span``."""

    name = "ema"
    per_ticker = True

    def __init__(self, span: float = 20.0, horizon: int = 1) -> None:
        super().__init__(horizon)
        self.span = span

    def _fit(self, prices: pd.DataFrame) -> None:
        if not self.span >= 1:
            raise ValueError(f"ema: span must be at least 1, got {self.span!r}")

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        values = ema_forecast(history.to_numpy(np.float64), self.span)
        return pd.DataFrame(values, index=history.index, columns=history.columns)
