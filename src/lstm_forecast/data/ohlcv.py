"""The open, high, low, close and volume of each ticker, carried beside its closes.

The reader keeps them in ``prices.attrs["ohlcv"]`` inside an :class:`OHLCV` holder rather than
as bare DataFrames: pandas compares ``attrs`` when it concatenates or aligns frames, and a
DataFrame there makes that comparison raise. The holder compares by identity, survives slicing
(``prices.loc[:T]`` and ``prices[["A"]]`` keep its ``attrs``), and :func:`bars_of` reads a
ticker's bars back aligned to the rows of the frame at hand, so a model given prices up to T
never sees a later bar. Bars come from a single-ticker file with Open/High/Low/Volume columns,
from a long file with them, or from a yfinance download of one or several tickers.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

KEY = "ohlcv"


class Attached:
    """Base of what rides in a price frame's ``attrs``: equal only to itself, so pandas'
    comparison of ``attrs`` never compares tables, and read-only, so the deep copy pandas
    makes of ``attrs`` at every slice (``prices.loc[:T]``) can be the holder itself: copying
    a panel's bars at each of a backtest's slices took 50 ms a slice for 125 tickers."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __deepcopy__(self, memo: dict) -> Attached:
        return self

    def __copy__(self) -> Attached:
        return self


class OHLCV(Attached):
    """A read-only holder of each ticker's OHLCV table (date index; open, high, low, close,
    volume and adj_close where the file had them)."""

    __slots__ = ("tables",)

    def __init__(self, tables: Mapping[str, pd.DataFrame]) -> None:
        self.tables = dict(tables)

    def __repr__(self) -> str:
        return f"OHLCV({sorted(self.tables)})"


def attach(prices: pd.DataFrame, table: pd.DataFrame) -> None:
    """Keep ``table`` (the bars of ``prices``' only ticker) in ``prices.attrs``."""
    attach_bars(prices, {str(prices.columns[0]): table})


def attach_bars(prices: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> None:
    """Keep each ticker's bars (``tables``: ticker -> table) in ``prices.attrs``."""
    prices.attrs[KEY] = OHLCV(tables)


def bars_of(prices: pd.DataFrame, ticker: str) -> pd.DataFrame | None:
    """``ticker``'s OHLCV bars on ``prices``' own dates, or None when it has none."""
    holder = prices.attrs.get(KEY)
    if not isinstance(holder, OHLCV) or ticker not in holder.tables:
        return None
    if ticker not in [str(c) for c in prices.columns]:
        return None
    return holder.tables[ticker].reindex(prices.index)


def ohlcv_of(prices: pd.DataFrame) -> pd.DataFrame | None:
    """The OHLCV bars of ``prices``' only ticker on ``prices``' own dates, or None (also for
    a frame of several tickers: :func:`bars_of` reads each)."""
    if prices.shape[1] != 1:
        return None
    return bars_of(prices, str(prices.columns[0]))


def adjusted(bars: pd.DataFrame) -> pd.DataFrame:
    """The bars in the units of the adjusted close, which the models forecast: open, high,
    low and close times ``adj_close / close`` where a file has both closes (a vendor's raw
    bars beside its split- and dividend-adjusted close: Alpha Vantage, Tiingo, EODHD), as
    they are otherwise. An unadjusted 2:1 split is then no overnight gap of -69% (log), nor a
    variance proxy 50 times a usual day's, and a dividend no gap at all; a day's ratios (high
    to low, close to open) do not change. Volume is left as it is."""
    if not {"close", "adj_close"} <= set(bars):
        return bars
    factor = bars["adj_close"] / bars["close"]
    out = bars.copy()
    for field in ("open", "high", "low", "close"):
        if field in out:
            out[field] = bars[field] * factor
    return out


BAR_TOLERANCE = 1e-3  # vendors round each field: a close 0.1% above the high is rounding


def inconsistent_bars(bars: pd.DataFrame) -> pd.Series:
    """Per date, whether the bar contradicts itself: a high below the low, or an open or a
    (raw) close outside the low-high range, beyond rounding. Missing fields are not judged;
    an adjusted close is not compared with raw bars."""
    bad = pd.Series(False, index=bars.index)
    if not {"high", "low"} <= set(bars):
        return bad
    high = bars["high"] * (1 + BAR_TOLERANCE)
    low = bars["low"] * (1 - BAR_TOLERANCE)
    bad |= (high < low).fillna(False)
    for field in ("open", "close"):
        if field in bars:
            bad |= ((bars[field] > high) | (bars[field] < low)).fillna(False)
    return bad
