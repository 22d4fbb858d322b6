"""Forecasters: the contract, the classical baselines and the registry."""

from .base import BaseForecaster, Forecaster, NotFittedError, validate_prices
from .baselines import DriftForecaster, EMAForecaster, NaiveForecaster, SMAForecaster
from .check import check_forecaster
from .kalman import KalmanForecaster
from .lstm import LSTMForecaster
from .ols import OLSForecaster
from .registry import MODELS, make_forecaster

__all__ = [
    "MODELS",
    "BaseForecaster",
    "DriftForecaster",
    "EMAForecaster",
    "Forecaster",
    "KalmanForecaster",
    "LSTMForecaster",
    "NaiveForecaster",
    "NotFittedError",
    "OLSForecaster",
    "SMAForecaster",
    "check_forecaster",
    "make_forecaster",
    "validate_prices",
]
