"""A user's own series, carried beside the prices they explain.

:func:`attach_covariates` keeps them in ``prices.attrs["covariates"]`` (an identity-compared
holder, as the OHLCV bars are, see :mod:`.ohlcv`); :func:`covariates_of` returns them on the
prices' own dates, each date holding the latest value known by then (dates are when a value
becomes known: :func:`~lstm_forecast.data.reader.read_covariates` shifts them by the
publication lag). Nothing is filled from the future: before a series' first value it is NaN.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .errors import DataError, DataWarning
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
    for column in table.columns:  # a table built in Python, dated as FRED dates its months
        refuse_period_start(table[column].dropna().index, 0, "covariates", str(column))
    for column, last, days in _stale(table, prices.index[-1]):
        warnings.warn(
            f"covariate {column!r}: its last value is dated {last:%Y-%m-%d}, {days} business "
            f"days before the last price date {prices.index[-1]:%Y-%m-%d}, longer than any gap "
            "in its history; it is carried forward to the forecasts: update the file if the "
            "series goes on",
            DataWarning,
            stacklevel=2,
        )
    out = prices.copy(deep=False)
    out.attrs = {**prices.attrs, KEY: Covariates(table.sort_index())}
    return out


def _stale(table: pd.DataFrame, end: pd.Timestamp) -> list[tuple[str, pd.Timestamp, int]]:
    """The series whose last value before ``end`` is older than 1.5 times the longest gap
    between two of their values (and more than a business week): a series that stopped,
    or a file not updated, rather than a monthly or quarterly one between releases."""
    found = []
    for column in table.columns:
        dates = table.index[table[column].notna() & (table.index <= end)]
        days = dates.to_numpy(dtype="datetime64[D]")
        gaps = np.busday_count(days[:-1], days[1:]) if len(days) > 1 else np.array([0])
        since = int(np.busday_count(days[-1], np.datetime64(end.date(), "D")))
        if since > max(5, 1.5 * int(gaps.max())):
            found.append((str(column), dates[-1], since))
    return found


def covariate_table(prices: pd.DataFrame) -> pd.DataFrame | None:
    """The covariates ``prices`` carries, on their own dates (each the day a value becomes
    known); None when it carries none."""
    holder = prices.attrs.get(KEY)
    return holder.table if isinstance(holder, Covariates) else None


def covariates_of(prices: pd.DataFrame) -> pd.DataFrame | None:
    """The covariates on ``prices``' dates: at each date the latest value dated at or before
    it; None when ``prices`` carries none."""
    table = covariate_table(prices)
    if table is None:
        return None
    dates = prices.index
    merged = table.reindex(table.index.union(dates)).ffill()
    return merged.reindex(dates)


MAX_LAG = 520  # business days: two years, room for an annual series dated on January 1
PERIODIC = 28  # days: a series whose values are this far apart (median) is monthly or rarer
# a series' spacing in words, by the median days between its values (below each limit)
SPACINGS = ((1.5, "daily"), (5, "daily (business days)"), (10, "weekly"), (45, "monthly"),
            (120, "quarterly"), (400, "annual"))  # fmt: skip
PERIODS = {"monthly": "month", "quarterly": "quarter", "annual": "year"}


def spacing(days: float) -> str:
    """A series' median gap between values (:func:`median_gap`), in words."""
    return next((word for limit, word in SPACINGS if days < limit), f"{days:.0f} days")


def median_gap(dates: pd.DatetimeIndex) -> float:
    return (
        float(np.median(np.diff(dates.to_numpy("datetime64[D]")).astype(int)))
        if len(dates) > 1
        else 0.0
    )


def refuse_period_start(dates: pd.DatetimeIndex, lag: int, label: str, column: str) -> None:
    """Refuse a monthly (or rarer) series dated on the first day of the periods it measures,
    read with a lag that makes a value known before its period ends.

    FRED and statistics offices date January's CPI 2020-01-01 and publish it in February.
    Such dating shows in the dates: every value on the 1st, weekends included (a release or
    a market's close never falls on a Saturday). A value dated d measures [d, next date), so
    it cannot be known before the next date: ``lag`` business days must reach it."""
    gap = median_gap(dates)
    if len(dates) < 3 or gap < PERIODIC or not (dates.day == 1).all():
        return
    weekend = dates[dates.day_of_week >= 5]
    if not len(weekend):
        return
    starts, ends = dates[:-1], dates[1:]
    # business days in [start, end); from a weekend start the first one is a step away
    needed = np.busday_count(starts.to_numpy("datetime64[D]"), ends.to_numpy("datetime64[D]")) + (
        starts.day_of_week >= 5
    )
    if lag >= int(needed.max()):
        return
    k = int(np.argmax(needed))
    period = PERIODS.get(spacing(gap), "year")
    known = starts[k] + pd.offsets.BDay(lag)
    raise DataError(
        f"{label}: covariate {column!r} is dated on the first day of each {period}, weekends "
        f"included ({weekend[0]:%Y-%m-%d} is a {weekend[0]:%A}), as FRED and statistics offices "
        f"date a value by the {period} it measures: the value dated {starts[k]:%Y-%m-%d} "
        f"covers the days to {ends[k]:%Y-%m-%d} and is published after them, but with "
        f"--covariate-lag {lag} (read_covariates' lag) it would be read from "
        f"{known:%Y-%m-%d}. Pass --covariate-lag D with D at least {int(needed.max())} (the "
        f"business days of its longest {period}) plus its publication delay, or date each "
        "value by the day it was released"
    )


def warn_weekly_on_weekends(dates: pd.DatetimeIndex, lag: int, label: str, column: str) -> None:
    """Warn about a weekly series dated on a Saturday or a Sunday, read without a lag.

    No release falls on a weekend: such a date labels the week a value measures, as FRED
    dates initial jobless claims by the Saturday ending the week, published the Thursday
    after. Read as dated, each value is known on the Monday: days early. How many cannot be
    told from the dates, so this warns rather than refuses."""
    if lag or len(dates) < 3 or not 6 <= median_gap(dates) <= 8:
        return
    weekday = dates.day_of_week
    if (weekday == weekday[0]).all() and weekday[0] >= 5:
        warnings.warn(
            f"{label}: covariate {column!r} is weekly, dated on {dates[0]:%A}s: the week a "
            "value measures, not the day it was published (FRED dates jobless claims by the "
            "Saturday ending the week; they come out the Thursday after). With "
            "--covariate-lag 0 each value is read on the Monday after its date; pass "
            "--covariate-lag D for its publication delay",
            DataWarning,
            stacklevel=3,
        )
