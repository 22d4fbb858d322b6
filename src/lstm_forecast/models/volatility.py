r"""The classical volatility models: each forecasts the distribution of the h-day log return.

All have a zero mean (the random walk's point forecast, so they differ from it only in spread)
and forecast the variance :math:`v_t = \mathrm{Var}_t(y_t^{(h)})` of the h-day return:

* ``histvar`` (the naive variance): :math:`v_t = h\,s^2`, :math:`s^2` the training variance of
  daily returns. Normal.
* ``ewma`` (RiskMetrics): :math:`\sigma^2_{t+1} = \lambda\sigma^2_t + (1-\lambda) r_t^2`,
  :math:`\lambda = 0.94`, started at :math:`s^2`; :math:`v_t = h\,\sigma^2_{t+1}`. Normal.
* ``garch`` / ``gjr``: GARCH(1,1) and GJR-GARCH(1,1,1) with Student-t errors,
  :math:`\sigma^2_{t+1} = \omega + (\alpha + \gamma 1[r_t<0]) r_t^2 + \beta\sigma^2_t`, fitted
  by maximum likelihood (``arch``) at each refit, then filtered forward with the parameters
  fixed (as the Kalman baseline is), from :math:`s^2` at the first training day. The h-day
  variance sums the k-step forecasts
  :math:`\bar\sigma^2 + (\alpha + \gamma/2 + \beta)^{k-1}(\sigma^2_{t+1} - \bar\sigma^2)`;
  the h-day return is taken as Student-t with the fitted :math:`\nu` (exact for h = 1, an
  approximation beyond).
* ``har``: the HAR model (Corsi 2009) on the log of the daily variance proxy
  (:mod:`~lstm_forecast.features.volatility`: Garman-Klass where the data has OHLC):
  :math:`\log \bar v_{t+1:t+h} = b_0 + b_d \log v_t + b_w \log \bar v_{t-4:t} +
  b_m \log \bar v_{t-21:t} + e`, by least squares, and
  :math:`v_t = h\,c\,\exp(\widehat{\log \bar v})\,\overline{e^{\hat e}}` (Duan's smearing:
  the mean of the exponentiated training residuals, right whatever their distribution, where
  the log-normal :math:`e^{\hat\sigma^2_e/2}` overshoots for the log of a squared return),
  :math:`c` the training ratio of the mean squared return to the mean proxy. Normal.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..features import log_returns
from ..features.volatility import proxy_scale, variance_proxy
from .base import BaseForecaster

MIN_TRAIN_RETURNS = 100
SCALE = 100.0  # arch fits percent returns: better conditioned


class VolatilityForecaster(BaseForecaster):
    """Shared plumbing: a zero mean, the variance from ``_variance``, a normal or t shape."""

    distributional = True
    per_ticker = True

    def _returns(self, prices: pd.DataFrame) -> pd.DataFrame:
        returns = log_returns(prices)
        short = [t for t in prices.columns if returns[t].count() < MIN_TRAIN_RETURNS]
        if short:
            raise ValueError(
                f"{self.name}: tickers {short} have fewer than {MIN_TRAIN_RETURNS} training "
                "returns; a volatility model needs more history"
            )
        return returns

    def _fit(self, prices: pd.DataFrame) -> None:
        returns = self._returns(prices)
        self.variance_ = returns.var()
        self.start_ = {t: prices[t].first_valid_index() for t in prices.columns}
        self._fit_variance(prices, returns)

    def _fit_variance(self, prices: pd.DataFrame, returns: pd.DataFrame) -> None:
        pass

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        return history * 0.0

    def _predict_distribution(self, history: pd.DataFrame):
        variance = self._variance(history)
        mean = history * 0.0
        sd = np.sqrt(variance).where(history.notna())
        df = pd.DataFrame(np.inf, index=history.index, columns=history.columns)
        for ticker, nu in self._dfs().items():
            df[ticker] = nu
        return mean, sd, df

    def _dfs(self) -> dict[str, float]:
        return {}

    def _variance(self, history: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError(f"{type(self).__name__} must implement _variance(history)")

    def _filtered(self, history: pd.DataFrame, h_day) -> pd.DataFrame:
        """Per ticker, ``h_day(ticker, returns)`` run forward over the ticker's returns from
        its first training price on (a recursion with the fitted parameters fixed)."""
        returns = log_returns(history)
        out = pd.DataFrame(np.nan, index=history.index, columns=history.columns)
        for ticker in history.columns:
            start = self.start_[ticker]
            out.loc[start:, ticker] = h_day(ticker, returns[ticker].loc[start:].to_numpy())
        return out


class HistoricalVarianceForecaster(VolatilityForecaster):
    """The naive variance: the training variance of daily returns, times the horizon."""

    name = "histvar"

    def _variance(self, history: pd.DataFrame) -> pd.DataFrame:
        return history * 0.0 + self.horizon * self.variance_[history.columns]


def ewma_variance(returns: np.ndarray, start: float, decay: float) -> np.ndarray:
    """One-step variance forecasts sigma2[t+1] made at each row t of a (T,) return series
    (NaN returns before the first price leave the state at ``start``)."""
    out = np.empty(len(returns))
    state = start
    for t, r in enumerate(returns):
        if np.isfinite(r):
            state = decay * state + (1 - decay) * r * r
        out[t] = state
    return out


class EWMAForecaster(VolatilityForecaster):
    """RiskMetrics: an exponentially weighted average of squared returns."""

    name = "ewma"

    def __init__(self, decay: float = 0.94, horizon: int = 1) -> None:
        super().__init__(horizon)
        self.decay = decay

    def _fit_variance(self, prices: pd.DataFrame, returns: pd.DataFrame) -> None:
        if not 0 < self.decay < 1:
            raise ValueError(f"ewma: decay must be between 0 and 1, got {self.decay!r}")

    def _variance(self, history: pd.DataFrame) -> pd.DataFrame:
        def h_day(ticker: str, r: np.ndarray) -> np.ndarray:
            return self.horizon * ewma_variance(r, float(self.variance_[ticker]), self.decay)

        return self._filtered(history, h_day)


def garch_variance(
    returns: np.ndarray, omega: float, alpha: float, gamma: float, beta: float, start: float
) -> np.ndarray:
    """One-step GJR-GARCH variance forecasts sigma2[t+1] made at each row t of a (T,) return
    series (gamma 0: GARCH). Rows before the first return keep the first return's variance,
    ``omega + (alpha + gamma/2 + beta) * start``: arch's backcast with ``start`` as its value."""
    out = np.empty(len(returns))
    variance = omega + (alpha + gamma / 2 + beta) * start  # of the next return
    for t, r in enumerate(returns):
        if np.isfinite(r):
            variance = omega + (alpha + gamma * (r < 0)) * r * r + beta * variance
        out[t] = variance
    return out


class GARCHForecaster(VolatilityForecaster):
    """GARCH(1,1) (``asymmetric=False``) or GJR-GARCH(1,1,1) with Student-t errors."""

    name = "garch"

    def __init__(self, asymmetric: bool = False, horizon: int = 1) -> None:
        super().__init__(horizon)
        self.asymmetric = asymmetric

    def _fit_variance(self, prices: pd.DataFrame, returns: pd.DataFrame) -> None:
        from arch import arch_model

        self.params_, self.converged_ = {}, {}
        for ticker in prices.columns:
            r = returns[ticker].dropna()
            model = arch_model(
                SCALE * r.to_numpy(),
                mean="Zero",
                vol="GARCH",
                p=1,
                o=int(self.asymmetric),
                q=1,
                dist="t",
                rescale=False,
            )
            backcast = SCALE**2 * float(self.variance_[ticker])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence is kept in converged_
                fit = model.fit(disp="off", backcast=backcast, show_warning=False)
            p = fit.params
            self.params_[ticker] = {
                "omega": float(p["omega"]) / SCALE**2,
                "alpha": float(p["alpha[1]"]),
                "gamma": float(p["gamma[1]"]) if self.asymmetric else 0.0,
                "beta": float(p["beta[1]"]),
                "nu": float(p["nu"]),
            }
            self.converged_[ticker] = fit.convergence_flag == 0

    def _dfs(self) -> dict[str, float]:
        return {t: p["nu"] for t, p in self.params_.items()}

    def _variance(self, history: pd.DataFrame) -> pd.DataFrame:
        def h_day(ticker: str, r: np.ndarray) -> np.ndarray:
            p = self.params_[ticker]
            start = float(self.variance_[ticker])
            one = garch_variance(r, p["omega"], p["alpha"], p["gamma"], p["beta"], start)
            return self._h_day(one, p)

        return self._filtered(history, h_day)

    def _h_day(self, one_step: np.ndarray, p: dict) -> np.ndarray:
        """Sum of the 1..h-step variance forecasts from the one-step forecast."""
        if self.horizon == 1:
            return one_step
        persistence = p["alpha"] + p["gamma"] / 2 + p["beta"]
        if persistence >= 1:  # no finite long-run variance: the variance stays where it is
            return self.horizon * one_step
        long_run = p["omega"] / (1 - persistence)
        decay = persistence ** np.arange(self.horizon)  # k = 1..h
        return self.horizon * long_run + decay.sum() * (one_step - long_run)


HAR_LAGS = (1, 5, 22)


def har_design(log_proxy: pd.Series) -> pd.DataFrame:
    """The HAR regressors at each row t: log proxy of day t, and the logs of its 5- and
    22-day averages ending at t."""
    level = np.exp(log_proxy)
    columns = {f"lag{n}": np.log(level.rolling(n, min_periods=n).mean()) for n in HAR_LAGS}
    return pd.DataFrame(columns)


class HARForecaster(VolatilityForecaster):
    """HAR on the log daily variance proxy (Garman-Klass where the data has OHLC)."""

    name = "har"

    def _log_proxy(self, proxy: pd.DataFrame) -> pd.DataFrame:
        # squared returns can be exactly zero: a floor keeps the logs finite
        return np.log(proxy.clip(lower=self.floor_[proxy.columns], axis=1))

    def _fit_variance(self, prices: pd.DataFrame, returns: pd.DataFrame) -> None:
        raw, _ = variance_proxy(prices)
        self.floor_ = 1e-3 * raw.mean()
        self.scale_ = proxy_scale(prices, raw)  # the proxy in squared-return units
        log_proxy = self._log_proxy(raw)
        self.coef_, self.resid_var_, self.smearing_ = {}, {}, {}
        h = self.horizon
        for ticker in prices.columns:
            x = har_design(log_proxy[ticker])
            ahead = np.exp(log_proxy[ticker]).rolling(h, min_periods=h).mean().shift(-h)
            data = pd.concat([x, np.log(ahead).rename("y")], axis=1).dropna()
            if len(data) < MIN_TRAIN_RETURNS:
                raise ValueError(f"har: {ticker!r} has too few training days for the HAR terms")
            design = np.column_stack([np.ones(len(data)), data[x.columns].to_numpy()])
            coef, *_ = np.linalg.lstsq(design, data["y"].to_numpy(), rcond=None)
            resid = data["y"].to_numpy() - design @ coef
            self.coef_[ticker] = coef
            self.resid_var_[ticker] = float(resid.var(ddof=design.shape[1]))
            self.smearing_[ticker] = float(np.mean(np.exp(resid)))

    def _variance(self, history: pd.DataFrame) -> pd.DataFrame:
        log_proxy = self._log_proxy(variance_proxy(history)[0])
        out = pd.DataFrame(np.nan, index=history.index, columns=history.columns)
        for ticker in history.columns:
            x = har_design(log_proxy[ticker]).to_numpy()
            coef = self.coef_[ticker]
            fitted = coef[0] + x @ coef[1:]
            level = np.exp(fitted) * self.smearing_[ticker]
            out[ticker] = self.horizon * self.scale_[ticker] * level
        return out
