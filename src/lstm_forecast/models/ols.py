r"""AR(p) regression: the h-step log return on the last p one-step returns, by OLS.

.. math::
    y_t = \log(P_{t+h}/P_t) = \beta_0 + \sum_{k=1}^{p} \beta_k\, r_{t-k+1} + e_t

fitted with statsmodels on the training rows whose target is fully inside the training window.
The coefficients, their t-statistics and the full statsmodels results are kept per ticker.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import BaseForecaster


def ar_design(log_prices: np.ndarray, lags: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Regressors (T, 1 + lags) = [1, r_t, ..., r_{t-lags+1}], target y_t (T,); NaN if unknown."""
    n = len(log_prices)
    returns = np.full(n, np.nan)
    returns[1:] = np.diff(log_prices)
    design = np.full((n, lags + 1), np.nan)
    design[:, 0] = 1.0
    for k in range(lags):
        design[k:, k + 1] = returns[: n - k]
    target = np.full(n, np.nan)
    target[: n - horizon] = log_prices[horizon:] - log_prices[: n - horizon]
    return design, target


def column_names(lags: int) -> list[str]:
    """Names of the regressors: const, r(t), r(t-1), ..."""
    return ["const", "r(t)"] + [f"r(t-{k})" for k in range(1, lags)]


class OLSForecaster(BaseForecaster):
    """AR(``lags``) regression of the horizon return on recent one-step returns."""

    name = "ols"

    def __init__(self, lags: int = 5, horizon: int = 1) -> None:
        super().__init__(horizon)
        self.lags = lags

    def _fit(self, prices: pd.DataFrame) -> None:
        import statsmodels.api as sm

        if not isinstance(self.lags, int) or self.lags < 1:
            raise ValueError(f"ols: lags must be a positive integer, got {self.lags!r}")
        names = column_names(self.lags)
        self.results_, coef, tvalues = {}, {}, {}
        for ticker in prices.columns:
            x, y = ar_design(np.log(prices[ticker].to_numpy()), self.lags, self.horizon)
            rows = np.isfinite(x).all(axis=1) & np.isfinite(y)
            if rows.sum() <= self.lags + 1:
                raise ValueError(
                    f"ols: {ticker!r} has {int(rows.sum())} usable training rows; "
                    f"need more than {self.lags + 1} for {self.lags} lags"
                )
            result = sm.OLS(y[rows], x[rows]).fit()
            self.results_[ticker] = result
            coef[ticker], tvalues[ticker] = result.params, result.tvalues
        self.coef_ = pd.DataFrame(coef, index=names).T
        self.tvalues_ = pd.DataFrame(tvalues, index=names).T

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for ticker in history.columns:
            x, _ = ar_design(np.log(history[ticker].to_numpy()), self.lags, self.horizon)
            out[ticker] = x @ self.coef_.loc[ticker].to_numpy()
        return pd.DataFrame(out, index=history.index)
