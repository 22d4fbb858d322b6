"""A user's own series, carried beside the prices they explain.

:func:`attach_covariates` keeps them in ``prices.attrs["covariates"]`` (an identity-compared
holder, as the OHLCV bars are, see :mod:`.ohlcv`); :func:`covariates_of` returns them on the
prices' own dates, each date holding the latest value known by then (dates are when a value
becomes known: :func:`~lstm_forecast.data.reader.read_covariates` shifts them by the
publication lag). Nothing is filled from the future: before a series' first value it is NaN.
"""

from __future__ import annotations

import pandas as pd

from .errors import DataError
from .ohlcv import Attached

KEY = "covariates"


class Covariates(Attached):
    """A read-only holder of covariate series (date index, one column per series)."""

    __slots__ = ("table",)

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table

    def __repr__(self) -> str:
        return f"Covariates({list(self.table.columns)}, {len(self.table)} rows)"


def attach_covariates(prices: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy of ``prices`` that carries ``table``; a series named like a ticker or
    with no value known before the last price date is refused."""
    clash = [c for c in table.columns if c in prices.columns]
    if clash:
        raise DataError(f"covariate {clash[0]!r} has the name of a ticker; rename the column")
    known = table.index <= prices.index[-1]
    late = [c for c in table.columns if table.loc[known, c].isna().all()]
    if late:
        raise DataError(
            f"covariate {late[0]!r} has no value dated on or before {prices.index[-1]:%Y-%m-%d}, "
            "the last price date; check its dates (and --covariate-lag)"
        )
    out = prices.copy(deep=False)
    out.attrs = {**prices.attrs, KEY: Covariates(table.sort_index())}
    return out


def covariates_of(prices: pd.DataFrame) -> pd.DataFrame | None:
    """The covariates on ``prices``' dates: at each date the latest value dated at or before
    it; None when ``prices`` carries none."""
    holder = prices.attrs.get(KEY)
    if not isinstance(holder, Covariates):
        return None
    table = holder.table
    dates = prices.index
    merged = table.reindex(table.index.union(dates)).ffill()
    return merged.reindex(dates)
