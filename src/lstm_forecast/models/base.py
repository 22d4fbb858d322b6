"""The contract every forecaster obeys, and the input checks they share.

A forecaster predicts the log return over its horizon, ``y_t = log(P[t+h] / P[t])``, at each
origin ``t``, from prices up to and including ``t`` only:

* ``fit(prices) -> self`` learns from a training frame (dates x tickers);
* ``predict(prices, origins=None)`` returns a frame (origins x tickers) of forecast log
  returns, each computed from the rows of ``prices`` up to its origin. ``origins`` defaults to
  every date of ``prices``. A ticker with no price at an origin (not yet listed) gets NaN.

Settings are stored by ``__init__`` unchanged; fitted attributes end in ``_``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from ..data.errors import DataError


class NotFittedError(RuntimeError):
    """``predict`` was called before ``fit``."""


@runtime_checkable
class Forecaster(Protocol):
    """What the backtest needs from a model."""

    name: str
    horizon: int

    def fit(self, prices: pd.DataFrame) -> Self:
        """Learn from the training frame (dates x tickers) and return ``self``."""
        ...

    def predict(
        self, prices: pd.DataFrame, origins: pd.DatetimeIndex | None = None
    ) -> pd.DataFrame:
        """Forecast log returns (origins x tickers) from data up to each origin."""
        ...


def validate_prices(prices: pd.DataFrame, what: str = "prices") -> pd.DataFrame:
    """Check the frame a model receives; raise :class:`DataError` saying what is wrong."""
    if not isinstance(prices, pd.DataFrame):
        raise DataError(
            f"{what} must be a pandas DataFrame (dates x tickers), got {type(prices).__name__}"
        )
    if prices.empty or prices.shape[1] == 0:
        raise DataError(f"{what} is empty: need at least one row and one ticker column")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise DataError(f"{what} must have a DatetimeIndex (use read_prices)")
    if not (prices.index.is_monotonic_increasing and prices.index.is_unique):
        raise DataError(f"{what} dates must be sorted and unique (use read_prices)")
    numeric = [
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        for dtype in prices.dtypes
    ]
    if not all(numeric):
        column = prices.columns[numeric.index(False)]
        raise DataError(
            f"{what}: column {column!r} holds {prices[column].dtype} values, not numbers; "
            "convert it (prices.astype(float)) or read the file with read_prices"
        )
    values = prices.to_numpy(dtype=np.float64)
    if np.isinf(values).any():
        raise DataError(f"{what} contains infinite values")
    if (values <= 0).any():
        raise DataError(f"{what} contains zero or negative prices")
    priced = ~np.isnan(values)
    started = np.maximum.accumulate(priced, axis=0)
    going = np.maximum.accumulate(priced[::-1], axis=0)[::-1]  # up to its last price
    holes = ~priced & started & going
    if holes.any():
        row, col = np.argwhere(holes)[0]
        raise DataError(
            f"{what}: missing price for {prices.columns[col]!r} on "
            f"{prices.index[row]:%Y-%m-%d} between its first and last prices; "
            "read_prices fills short gaps"
        )
    return prices


class BaseForecaster:
    """Shared plumbing: settings, validation, origins; subclasses write ``_fit``, ``_predict``."""

    name = "base"

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    def fit(self, prices: pd.DataFrame) -> Self:
        """Validate ``prices``, learn from it, remember its tickers; returns ``self``."""
        if not isinstance(self.horizon, int) or self.horizon < 1:
            raise ValueError(
                f"{self.name}: horizon must be a positive integer, got {self.horizon!r}"
            )
        validate_prices(prices, f"{self.name}: training prices")
        self._fit(prices)
        self.tickers_ = list(prices.columns)
        return self

    def predict(
        self, prices: pd.DataFrame, origins: pd.DatetimeIndex | None = None
    ) -> pd.DataFrame:
        """Forecast log returns at ``origins`` (default: every date of ``prices``)."""
        history, origins = self._history(prices, origins)
        return self._predict_at(history, origins)

    def _predict_at(self, history: pd.DataFrame, origins: pd.DatetimeIndex) -> pd.DataFrame:
        """Forecasts at ``origins`` (a model that can compute them alone overrides this)."""
        return self._predict(history).loc[origins]  # (dates of history) x tickers

    #: True for a model that forecasts a distribution (``predict_distribution``)
    distributional = False
    #: True for a model that fits and forecasts each ticker on its own, so that a panel may be
    #: split into groups of tickers and the groups' forecasts put side by side (the backtest
    #: does this to spread a universe over workers); False for a global model
    per_ticker = False
    #: True for a model whose forecast of one ticker reads the other tickers' data (an LSTM
    #: with the market features): it forecasts only with every ticker it was trained on. A
    #: model that reads each ticker's own data forecasts any of them alone.
    reads_other_tickers = True

    def predict_distribution(
        self, prices: pd.DataFrame, origins: pd.DatetimeIndex | None = None
    ) -> dict[str, pd.DataFrame]:
        """The forecast distribution of the h-day log return at ``origins``: frames (origins x
        tickers) ``mean``, ``sd`` (standard deviation) and ``df`` (degrees of freedom of a
        Student-t; ``inf`` for the normal). Only for a model whose ``distributional`` is True."""
        if not self.distributional:
            raise ValueError(
                f"{self.name} forecasts a point, not a distribution; choose a volatility model "
                "(garch, gjr, ewma, har, histvar) or an LSTM with --distribution normal or t"
            )
        history, origins = self._history(prices, origins)
        mean, sd, df = self._predict_distribution_at(history, origins)
        return {"mean": mean, "sd": sd, "df": df}

    def predict_quantiles(
        self,
        prices: pd.DataFrame,
        levels: Sequence[float] = (0.025, 0.1, 0.5, 0.9, 0.975),
        origins: pd.DatetimeIndex | None = None,
    ) -> pd.DataFrame:
        """Quantiles of the h-day log return at any ``levels`` in (0, 1): a frame indexed by
        origin with columns (level, ticker)."""
        from .distribution import quantile

        levels = [float(q) for q in levels]
        if not levels or not all(0 < q < 1 for q in levels):
            raise ValueError(f"{self.name}: quantile levels must lie in (0, 1), got {levels}")
        dist = self.predict_distribution(prices, origins)
        args = [dist[k].to_numpy(np.float64) for k in ("mean", "sd", "df")]
        frames = {
            q: pd.DataFrame(
                quantile(q, *args), index=dist["mean"].index, columns=dist["mean"].columns
            )
            for q in levels
        }
        return pd.concat(frames, axis=1, names=["level", "ticker"])

    def _predict_distribution_at(self, history: pd.DataFrame, origins: pd.DatetimeIndex):
        return tuple(frame.loc[origins] for frame in self._predict_distribution(history))

    def _predict_distribution(self, history: pd.DataFrame):
        raise NotImplementedError(f"{type(self).__name__} forecasts points only")

    def _history(self, prices: pd.DataFrame, origins) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
        """Checked prices up to the last origin, and the origins (default: every date)."""
        if not hasattr(self, "tickers_"):
            raise NotFittedError(f"{self.name} is not fitted yet; call fit(training_prices)")
        validate_prices(prices, f"{self.name}: prices")
        missing = [t for t in self.tickers_ if t not in prices.columns]
        kept = self.tickers_in(prices)
        if missing and (self.reads_other_tickers or not kept):
            raise DataError(f"{self.name}: tickers {missing} were in training but are absent")
        origins = prices.index if origins is None else pd.DatetimeIndex(origins)
        absent = origins.difference(prices.index)
        if len(absent):
            raise DataError(
                f"{self.name}: {len(absent)} origin(s) not among the price dates, "
                f"first {absent[0]:%Y-%m-%d}"
            )
        history = prices.loc[: origins.max(), kept] if len(origins) else prices
        return history, origins

    def tickers_in(self, prices: pd.DataFrame) -> list[str]:
        """The tickers the model was trained on that ``prices`` holds, in training order."""
        return [t for t in self.tickers_ if t in prices.columns]

    def _fit(self, prices: pd.DataFrame) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _fit(prices)")

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError(f"{type(self).__name__} must implement _predict(history)")

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({settings})"
