"""lstm-forecast: LSTM forecasting of asset prices that tells the truth about its skill."""

__version__ = "0.1.0"
