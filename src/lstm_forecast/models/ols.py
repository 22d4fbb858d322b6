r"""AR(p) regression: the h-step log return on the last p one-step returns, by OLS.

.. math::
    y_t = \log(P_{t+h}/P_t) = \beta_0 + \sum_{k=1}^{p} \beta_k\, r_{t-k+1} + e_t

fitted with statsmodels on the training rows whose target is fully inside the training window.
The coefficients, their t-statistics and the full statsmodels results are kept per ticker.

With ``features`` (:mod:`lstm_forecast.features.inputs`) the regression reads the same inputs
as the LSTM: ``lags`` lags of each return and market input, and the calendar inputs at the
origin (their lags are functions of today's), so the report compares the LSTM with a linear
model on equal information.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..features.inputs import (
    DEFAULT,
    GROUPS,
    check_features,
    covariate_names,
    feature_names,
    input_panel,
)
from .base import BaseForecaster

CALENDAR = GROUPS["calendar"]


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


def feature_design(
    inputs: np.ndarray, names: list[str], log_prices: np.ndarray, lags: int, horizon: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Regressors [1, lags of each input] for one ticker's inputs (T, F), the target (T,) and
    the regressors' names; calendar inputs (``CALENDAR``) enter at the origin only."""
    n = len(log_prices)
    columns, labels = [np.ones(n)], ["const"]
    for k, name in enumerate(names):
        for lag in range(1 if name in CALENDAR else lags):
            column = np.full(n, np.nan)
            column[lag:] = inputs[: n - lag, k]
            columns.append(column)
            labels.append(f"{name}(t)" if lag == 0 else f"{name}(t-{lag})")
    target = np.full(n, np.nan)
    target[: n - horizon] = log_prices[horizon:] - log_prices[: n - horizon]
    return np.stack(columns, axis=1), target, labels


class OLSForecaster(BaseForecaster):
    """AR(``lags``) regression of the horizon return on recent one-step returns (and, with
    ``features``, on the other inputs the LSTM reads)."""

    name = "ols"

    def __init__(
        self, lags: int = 5, horizon: int = 1, features: tuple[str, ...] | str = DEFAULT
    ) -> None:
        super().__init__(horizon)
        self.lags = lags
        self.features = check_features(features)

    @property
    def per_ticker(self) -> bool:  # type: ignore[override]
        """Each ticker alone, unless it reads the cross-section (``market``)."""
        return "market" not in self.features

    def _design(self, prices: pd.DataFrame) -> dict[str, tuple]:
        """Per ticker: (regressors, target, names)."""
        if self.features == DEFAULT:  # the plain AR(p), as before feature groups
            return {
                t: (
                    *ar_design(np.log(prices[t].to_numpy()), self.lags, self.horizon),
                    column_names(self.lags),
                )
                for t in prices.columns
            }
        covariates = self.covariates_
        inputs = input_panel(prices, self.features, covariates)
        names = feature_names(self.features, covariates)
        return {
            t: feature_design(
                inputs[:, j, :], names, np.log(prices[t].to_numpy()), self.lags, self.horizon
            )
            for j, t in enumerate(prices.columns)
        }

    def _fit(self, prices: pd.DataFrame) -> None:
        import statsmodels.api as sm
        from statsmodels.tools.sm_exceptions import SingularMatrixWarning

        if not isinstance(self.lags, int) or self.lags < 1:
            raise ValueError(f"ols: lags must be a positive integer, got {self.lags!r}")
        self.results_, coef, tvalues = {}, {}, {}
        self.covariates_ = covariate_names(prices, self.features)
        design = self._design(prices)
        names = next(iter(design.values()))[2]
        for ticker, (x, y, _) in design.items():
            rows = np.isfinite(x).all(axis=1) & np.isfinite(y)
            if rows.sum() <= x.shape[1]:
                raise ValueError(
                    f"ols: {ticker!r} has {int(rows.sum())} usable training rows; "
                    f"need more than {x.shape[1]} for {self.lags} lags of {x.shape[1] - 1} "
                    "regressors"
                    if self.features != DEFAULT
                    else f"ols: {ticker!r} has {int(rows.sum())} usable training rows; "
                    f"need more than {self.lags + 1} for {self.lags} lags"
                )
            with warnings.catch_warnings():
                # Inputs can be exactly collinear (two tickers: the excess return is the return
                # minus the market's). The pseudo-inverse fit still gives unique forecasts,
                # since the same linear relation holds at every origin.
                warnings.simplefilter("ignore", SingularMatrixWarning)
                result = sm.OLS(y[rows], x[rows]).fit()
            self.results_[ticker] = result
            coef[ticker], tvalues[ticker] = result.params, result.tvalues
        self.coef_ = pd.DataFrame(coef, index=names).T
        self.tvalues_ = pd.DataFrame(tvalues, index=names).T

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for ticker, (x, _, _) in self._design(history).items():
            out[ticker] = x @ self.coef_.loc[ticker].to_numpy()
        return pd.DataFrame(out, index=history.index)
