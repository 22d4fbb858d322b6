"""Names the CLI and the backtest use, mapped to forecaster constructors."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from .base import Forecaster
from .baselines import DriftForecaster, EMAForecaster, NaiveForecaster, SMAForecaster
from .kalman import KalmanForecaster
from .lstm import LSTMForecaster
from .ols import OLSForecaster
from .volatility import EWMAForecaster, GARCHForecaster, HARForecaster, HistoricalVarianceForecaster

MODELS: dict[str, Callable[..., Forecaster]] = {
    "naive": NaiveForecaster,
    "drift": DriftForecaster,
    "sma": SMAForecaster,
    "ema": EMAForecaster,
    "kalman": KalmanForecaster,
    "kalman-trend": partial(KalmanForecaster, trend=True),
    "ols": OLSForecaster,
    "lstm": LSTMForecaster,
    "histvar": HistoricalVarianceForecaster,
    "ewma": EWMAForecaster,
    "garch": GARCHForecaster,
    "gjr": partial(GARCHForecaster, asymmetric=True),
    "har": HARForecaster,
}
# the models that forecast a distribution of returns (their point forecast is zero)
VOLATILITY_MODELS = ("histvar", "ewma", "garch", "gjr", "har")


def make_forecaster(name: str, **settings) -> Forecaster:
    """Build a forecaster by name; an unknown name lists the known ones."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}") from None
    return factory(**settings)
