"""The open, high, low, close and volume of a single-ticker file, carried beside its closes.

The reader keeps them in ``prices.attrs["ohlcv"]`` inside an :class:`OHLCV` holder rather than
as a bare DataFrame: pandas compares ``attrs`` when it concatenates or aligns frames, and a
DataFrame there makes that comparison raise. The holder compares by identity, survives slicing
(``prices.loc[:T]`` keeps its ``attrs``), and :func:`ohlcv_of` reads it back aligned to the
rows of the frame at hand, so a model given prices up to T never sees a later bar.
"""

from __future__ import annotations

import pandas as pd

KEY = "ohlcv"


class Attached:
    """Base of what rides in a price frame's ``attrs``: equal only to itself, so pandas'
    comparison of ``attrs`` never compares tables."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


class OHLCV(Attached):
    """A read-only holder of one ticker's OHLCV table (date index; open, high, low, close,
    volume and adj_close where the file had them)."""

    __slots__ = ("table", "ticker")

    def __init__(self, table: pd.DataFrame, ticker: str) -> None:
        self.table, self.ticker = table, ticker

    def __repr__(self) -> str:
        return f"OHLCV({self.ticker!r}, {len(self.table)} rows, {list(self.table.columns)})"


def attach(prices: pd.DataFrame, table: pd.DataFrame) -> None:
    """Keep ``table`` (one ticker's bars) in ``prices.attrs``."""
    prices.attrs[KEY] = OHLCV(table, str(prices.columns[0]))


def ohlcv_of(prices: pd.DataFrame) -> pd.DataFrame | None:
    """The OHLCV bars of ``prices``' only ticker on ``prices``' own dates, or None."""
    holder = prices.attrs.get(KEY)
    if not isinstance(holder, OHLCV) or list(prices.columns) != [holder.ticker]:
        return None
    return holder.table.reindex(prices.index)
