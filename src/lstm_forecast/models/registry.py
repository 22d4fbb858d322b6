"""Names the CLI and the backtest use, mapped to forecaster constructors."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from .base import Forecaster
from .baselines import DriftForecaster, EMAForecaster, NaiveForecaster, SMAForecaster
from .kalman import KalmanForecaster
from .lstm import LSTMForecaster
from .ols import OLSForecaster

MODELS: dict[str, Callable[..., Forecaster]] = {
    "naive": NaiveForecaster,
    "drift": DriftForecaster,
    "sma": SMAForecaster,
    "ema": EMAForecaster,
    "kalman": KalmanForecaster,
    "kalman-trend": partial(KalmanForecaster, trend=True),
    "ols": OLSForecaster,
    "lstm": LSTMForecaster,
}


def make_forecaster(name: str, **settings) -> Forecaster:
    """Build a forecaster by name; an unknown name lists the known ones."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}") from None
    return factory(**settings)
