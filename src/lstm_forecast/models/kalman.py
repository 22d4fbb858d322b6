r"""Kalman filter forecasts on log prices: the local-level and local-linear-trend models.

Local level (random walk plus noise), on :math:`y_t = \log P_t`:

.. math::
    y_t = \mu_t + \varepsilon_t,\ \varepsilon_t \sim N(0, \sigma^2_\varepsilon);\qquad
    \mu_{t+1} = \mu_t + \eta_t,\ \eta_t \sim N(0, \sigma^2_\eta)

The local linear trend adds a slope: :math:`\mu_{t+1} = \mu_t + \beta_t + \eta_t`,
:math:`\beta_{t+1} = \beta_t + \zeta_t`.

The noise variances are fitted by maximum likelihood on the training window (statsmodels'
``UnobservedComponents``); the filter then runs forward through the whole series with those
parameters fixed. The forecast at origin t uses the filtered state
:math:`\hat\mu_{t|t}` (and :math:`\hat\beta_{t|t}`), which depends on data up to t only:
:math:`\hat y_t = \hat\mu_{t|t} + h\hat\beta_{t|t} - \log P_t`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .base import BaseForecaster


def _model(log_prices: np.ndarray, trend: bool):
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    return UnobservedComponents(log_prices, level="lltrend" if trend else "llevel")


def fit_local_level(log_prices: np.ndarray, trend: bool = False) -> tuple[np.ndarray, bool]:
    """Maximum-likelihood noise variances; returns (params, converged)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence is reported through the flag instead
        result = _model(log_prices, trend).fit(disp=False)
    converged = bool(result.mle_retvals.get("converged", True))
    return np.asarray(result.params), converged


def filter_forecast(
    log_prices: np.ndarray, params: np.ndarray, horizon: int, trend: bool = False
) -> np.ndarray:
    """Forecast log return at every step from the filtered state, parameters fixed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state = _model(log_prices, trend).filter(params).filtered_state  # (k_states, T)
    level = state[0] + (horizon * state[1] if trend else 0.0)
    return level - log_prices


class KalmanForecaster(BaseForecaster):
    """Local-level (``trend=False``) or local-linear-trend Kalman filter on log prices."""

    name = "kalman"
    per_ticker = True

    def __init__(self, trend: bool = False, horizon: int = 1) -> None:
        super().__init__(horizon)
        self.trend = trend

    def _fit(self, prices: pd.DataFrame) -> None:
        self.params_, self.converged_ = {}, {}
        for ticker in prices.columns:
            series = np.log(prices[ticker].dropna().to_numpy())
            if len(series) < 10:
                raise ValueError(
                    f"kalman: {ticker!r} has {len(series)} training prices; "
                    "need at least 10 to fit the noise variances"
                )
            self.params_[ticker], self.converged_[ticker] = fit_local_level(series, self.trend)

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(np.nan, index=history.index, columns=history.columns)
        for ticker in history.columns:
            series = history[ticker].dropna()
            log_p = np.log(series.to_numpy())
            forecast = filter_forecast(log_p, self.params_[ticker], self.horizon, self.trend)
            out.loc[series.index, ticker] = forecast
        return out
