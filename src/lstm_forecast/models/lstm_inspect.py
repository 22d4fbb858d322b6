"""What a fitted LSTMForecaster says next, and what it did inside to say it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..data.errors import DataError
from ..data.holidays import next_open_days, open_days, with_history
from .base import validate_prices
from .lstm import LSTMForecaster

SHORT = "short"  # attrs key of a forecast table: ticker -> the returns it has (< lookback)


def _last_windows(model: LSTMForecaster, prices: pd.DataFrame, tickers: list[str]) -> dict:
    """The latest standardised input window (L, F) of each of ``tickers`` that has a whole
    one, from one input panel of the model's tickers in ``prices`` (not one per ticker).
    A ticker listed too recently for the model's lookback has none: it is left out, and
    none left is an error that names them."""
    present = model.tickers_in(prices)
    x = model._inputs(prices[present])
    windows = {}
    for ticker in tickers:
        window = x[-model.lookback :, present.index(ticker), :]
        if len(window) == model.lookback and np.isfinite(window).all():
            windows[ticker] = window
    if not windows:
        short = ", ".join(f"{t} ({_returns(prices, t)})" for t in tickers)
        raise DataError(
            f"no ticker has {model.lookback} returns (the model's lookback) before "
            f"{prices.index[-1]:%Y-%m-%d}, the last date of the data: {short}; it needs that "
            "many before a forecast (data that reaches further back, if the file was cut)"
        )
    return windows


def _returns(prices: pd.DataFrame, ticker: str) -> int:
    return max(int(prices[ticker].notna().sum()) - 1, 0)


def _short(prices: pd.DataFrame, tickers: list[str], forecast: list[str]) -> dict:
    return {t: _returns(prices, t) for t in tickers if t not in forecast}


def _calendar(model: LSTMForecaster, prices: pd.DataFrame) -> pd.DatetimeIndex:
    """The dates that show the market's holidays: those of ``prices``, after the model's
    training days where they run on into them (a short recent file then still knows its
    market's holidays)."""
    closed = getattr(model, "closed_days_", None)
    known = None if closed is None else open_days(model.train_start_, model.train_end_, closed)
    return with_history(prices.index, known)


ENDED = "ended"  # attrs key of a forecast table: ticker -> the last date it had a price


def _still_priced(prices: pd.DataFrame, tickers: list[str]) -> list[str]:
    """The ``tickers`` priced on the last date of ``prices``; those that ended before it
    (delisted) cannot be forecast from it, and none left is an error naming their ends."""
    kept = [t for t in tickers if pd.notna(prices[t].iloc[-1])]
    if not kept:
        ends = ", ".join(f"{t} {prices[t].last_valid_index():%Y-%m-%d}" for t in tickers)
        raise DataError(
            f"no ticker has a price on {prices.index[-1]:%Y-%m-%d}, the last date of the data: "
            f"each ended before it ({ends}); end the data at a ticker's last date"
        )
    return kept


def _ended(prices: pd.DataFrame, tickers: list[str], kept: list[str]) -> dict:
    return {t: f"{prices[t].last_valid_index():%Y-%m-%d}" for t in tickers if t not in kept}


def _check_tickers(model: LSTMForecaster, prices: pd.DataFrame) -> list[str]:
    """The tickers of the model that ``prices`` holds, to forecast: any of them, or every one
    for a model that reads the others' data (the market features); else say which are
    missing, which the data has, and how a single-series file is given the model's name."""
    present = model.tickers_in(prices)
    missing = [t for t in model.tickers_ if t not in prices.columns]
    if not missing or (present and not model.reads_other_tickers):
        return _still_priced(prices, present)
    has = ", ".join(map(str, prices.columns[:8])) + (" ..." if prices.shape[1] > 8 else "")
    message = f"tickers {missing} were in training but are absent from the data (it has {has})"
    if prices.shape[1] == 1 and len(model.tickers_) == 1:
        message += f"; if that series is {missing[0]}, pass --ticker {missing[0]}"
    elif present:
        message += (
            "; the model reads every ticker's day (--features market), so pass data that "
            "holds them all (--data, --tickers)"
        )
    else:
        message += "; pass data that holds them (--data, --tickers)"
    raise DataError(message)


def forecast_path(
    model: LSTMForecaster, prices: pd.DataFrame, steps: int | None = None
) -> pd.DataFrame:
    """The next ``steps`` (<= the model's horizon) forecasts from the last date of ``prices``.

    One row per ticker and step: origin, step, date (the market's next open days,
    :func:`~lstm_forecast.data.holidays.next_open_days`), cumulative forecast log return and
    forecast price.
    """
    validate_prices(prices, "prices")
    steps = model.horizon if steps is None else steps
    if not 1 <= steps <= model.horizon:
        raise ValueError(
            f"--horizon must be between 1 and the model's horizon "
            f"({model.horizon}); retrain with a larger horizon for more steps"
        )
    tickers = _check_tickers(model, prices)
    rows = []
    origin = prices.index[-1]
    days = next_open_days(_calendar(model, prices), steps)  # the market's next open days
    windows = _last_windows(model, prices, tickers)
    for ticker, window in windows.items():
        z_hat = model.predict_standardized(window[None])[0].astype(np.float64)
        returns = model.scaler_.mean_[ticker] + model.scaler_.std_[ticker] * z_hat
        cumulative = np.cumsum(returns)
        last = prices[ticker].iloc[-1]
        for k in range(steps):
            rows.append(
                {
                    "ticker": ticker,
                    "origin": origin.date(),
                    "step": k + 1,
                    "date": days[k].date(),
                    "log_return": cumulative[k],
                    "price": last * np.exp(cumulative[k]),
                }
            )
    table = pd.DataFrame(rows)
    table.attrs[ENDED] = _ended(prices, model.tickers_in(prices), tickers)
    table.attrs[SHORT] = _short(prices, tickers, list(windows))
    return table


INTERVALS = (0.80, 0.95)


def forecast_distribution(model: LSTMForecaster, prices: pd.DataFrame) -> pd.DataFrame:
    """The forecast distribution of the h-day log return from the last date of ``prices``,
    one row per ticker: mean, median, standard deviation, degrees of freedom and the bounds of
    the central 80% and 95% intervals, in log returns and in prices."""
    from .distribution import quantile

    validate_prices(prices, "prices")
    tickers = _check_tickers(model, prices)
    origin = prices.index[-1]
    dist = model.predict_distribution(prices, prices.index[-1:])
    whole = [t for t in tickers if np.isfinite(float(dist["mean"][t].iloc[0]))]
    if not whole:
        _last_windows(model, prices, tickers)  # raises: none has a whole input window
    rows = []
    for ticker in whole:
        loc, sd, df = (float(dist[k][ticker].iloc[0]) for k in ("mean", "sd", "df"))
        last = float(prices[ticker].iloc[-1])
        row = {
            "ticker": ticker,
            "origin": origin.date(),
            "date": next_open_days(_calendar(model, prices), model.horizon)[-1].date(),
            "mean": loc,
            "median": float(quantile(0.5, loc, sd, df)),
            "sd": sd,
            "df": df,
        }
        for level in INTERVALS:
            pct = round(level * 100)
            row[f"low{pct}"] = float(quantile((1 - level) / 2, loc, sd, df))
            row[f"high{pct}"] = float(quantile((1 + level) / 2, loc, sd, df))
        for key in ("median", "low80", "high80", "low95", "high95"):
            row[f"price_{key}"] = last * np.exp(row[key])
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs[ENDED] = _ended(prices, model.tickers_in(prices), tickers)
    table.attrs[SHORT] = _short(prices, tickers, whole)
    return table


@dataclass
class Inside:
    """The network's gates and cell state (last layer) over the window of the latest forecast."""

    ticker: str
    dates: pd.DatetimeIndex
    gates: dict[str, np.ndarray]  # name -> (days, H)
    cells: np.ndarray | None  # (days, H)
    forecasts: pd.Series  # rolling forecasts of the next return over the same days
    actual: pd.Series  # realised next returns (NaN where not known yet)


def look_inside(model: LSTMForecaster, prices: pd.DataFrame, ticker: str, days: int) -> Inside:
    """Run the latest window with ``return_states`` and collect what a reader wants to see."""
    validate_prices(prices, "prices")
    if ticker not in model.tickers_:
        raise DataError(f"ticker {ticker!r} was not in training; the model knows {model.tickers_}")
    # with the market features, every ticker it was trained on; and this one still priced
    kept = _check_tickers(model, prices)
    if ticker not in prices.columns:
        raise DataError(f"ticker {ticker!r} is not in the data (it has {list(prices.columns)})")
    if ticker not in kept:
        raise DataError(
            f"ticker {ticker!r} has no prices after {prices[ticker].last_valid_index():%Y-%m-%d}"
            f" (it ended before {prices.index[-1]:%Y-%m-%d}, the last date of the data); "
            "explain a ticker still priced, or end the data at its last date"
        )
    if model.ensemble > 1:
        raise ValueError(
            f"explain opens one LSTM, and this model averages {model.ensemble} (--ensemble "
            f"{model.ensemble}): pass --member K (0 to {model.ensemble - 1}) to open one of "
            "them"
        )
    days = min(days, model.lookback)
    window = _last_windows(model, prices, [ticker])[ticker]
    dates = prices.index[-model.lookback :]
    x = torch.as_tensor(np.array(window, dtype=np.float32)[None], device=model.net_.rnn.device)
    with torch.no_grad():
        _, states = model.net_(x, return_states=True)
    gates = {name: v[-1, 0, -days:].cpu().numpy() for name, v in states.gates.items()}
    cells = None if states.cells is None else states.cells[-1, 0, -days:].cpu().numpy()
    recent = prices.index[-days:]
    forecasts = model.predict(prices, recent)[ticker]
    actual = np.log(prices[ticker]).diff().shift(-1).loc[recent]
    return Inside(ticker, dates[-days:], gates, cells, forecasts, actual)
