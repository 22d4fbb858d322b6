"""The days a market will be open next, learned from the dates it was open before.

A forecast made on the last date of the data is for the market's next open day, not the next
business day: after 2018-12-31 the S&P 500 next traded on 2019-01-02. The data says which
holidays its market keeps. A candidate rule below (pandas' holiday rules, no observance) is
kept if the market was closed the last two times the rule fell on a weekday inside the
data: two closures of one rule in a row are not a coincidence of missing rows. A holiday a
market adds (Juneteenth on the NYSE from 2022) or drops is so followed from its second
weekday. A kept rule's date that falls on a weekend may be moved (Saturday to Friday or to
Monday, Sunday to Monday or to Tuesday): each move is judged by the last time the rule was
so moved inside the data, or, where it never was, by the last time any kept rule was (the
market's habit). A closure no rule describes (a day of mourning, a hurricane) is not
foreseen, and a market with holidays outside the list is taken as open on them.

Measured on the embedded data, one day ahead from every date after the first three years
(2026-12-06; ``tests/data/test_holidays.py`` checks the same):

| data | next dates | business days wrong | these rules wrong |
|---|---:|---:|---:|
| sp500, 2002-2018 | 4,278 | 153 (3.58%) | 4 (0.09%) |
| sp500-stocks, 1993-2022 | 7,552 | 265 (3.51%) | 10 (0.13%) |

The rules' misses: six closures no rule announces (Nixon's, Reagan's, Ford's and Bush's days
of mourning, 9/11, Hurricane Sandy), the first two years of holidays the NYSE added (Martin
Luther King Jr. Day 1998-1999, Juneteenth 2022), and 1993-07-05, the first Sunday holiday
moved to a Monday in data that starts in 1990.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from pandas.tseries.holiday import (
    MO,
    EasterMonday,
    GoodFriday,
    Holiday,
    USColumbusDay,
    USLaborDay,
    USMartinLutherKingJr,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
)
from pandas.tseries.offsets import DateOffset, Day, Easter

from .dates import trades_on_weekends

# Rules that exchanges keep: the US (NYSE, Nasdaq), the UK, the euro area and others.
RULES: tuple[Holiday, ...] = (
    Holiday("New Year's Day", month=1, day=1),
    USMartinLutherKingJr,
    USPresidentsDay,
    GoodFriday,
    EasterMonday,
    Holiday("Ascension Day", month=1, day=1, offset=[Easter(), Day(39)]),
    Holiday("Whit Monday", month=1, day=1, offset=[Easter(), Day(50)]),
    Holiday("May Day", month=5, day=1),
    Holiday("Early May bank holiday", month=5, day=1, offset=DateOffset(weekday=MO(1))),
    USMemorialDay,  # also the UK's spring bank holiday
    Holiday("Juneteenth", month=6, day=19),
    Holiday("Independence Day", month=7, day=4),
    Holiday("Summer bank holiday", month=8, day=31, offset=DateOffset(weekday=MO(-1))),
    USLaborDay,
    USColumbusDay,
    Holiday("Veterans Day", month=11, day=11),
    USThanksgivingDay,
    Holiday("Christmas Eve", month=12, day=24),
    Holiday("Christmas Day", month=12, day=25),
    Holiday("Boxing Day", month=12, day=26),
    Holiday("New Year's Eve", month=12, day=31),
)

# How a rule's date is moved to the day kept: (day of week of the rule's date, days moved)
# (Sunday to Tuesday: the UK's Boxing Day on a Sunday, when Christmas took the Monday)
_MOVES = {"weekday": None, "saturday to friday": (5, -1), "saturday to monday": (5, 2),
          "sunday to monday": (6, 1), "sunday to tuesday": (6, 2)}  # fmt: skip


def _kept(raw: np.ndarray, move: tuple[int, int] | None) -> np.ndarray:
    """The days (numbers since 1970-01-01) a rule's dates ``raw`` would close the market, for
    one way of moving them."""
    weekday = (raw + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    if move is None:
        return raw[weekday < 5]
    day, shift = move
    return raw[weekday == day] + shift


@functools.lru_cache(maxsize=512)
def _dates(k: int, first_year: int, last_year: int) -> np.ndarray:
    """Rule ``k``'s dates from the first to the last year, unmoved, as day numbers."""
    return _day_numbers(RULES[k].dates(f"{first_year}-01-01", f"{last_year}-12-31", False))


def _day_numbers(dates: pd.DatetimeIndex) -> np.ndarray:
    """Dates as whole days since 1970-01-01."""
    return pd.DatetimeIndex(dates).values.astype("datetime64[D]").astype(np.int64)


def _closed(days_open: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Which of ``days`` the market of ``days_open`` (sorted day numbers) had no row on."""
    at = np.minimum(np.searchsorted(days_open, days), len(days_open) - 1)
    return days_open[at] != days


def _kept_rules(days_open: np.ndarray, first_year: int, last_year: int) -> list[int]:
    """The rules (indices into :data:`RULES`) on which the market of ``days_open`` (sorted
    day numbers) was closed the last two times they fell on a weekday inside its dates."""
    first, last = days_open[0], days_open[-1]
    kept = []
    for k in range(len(RULES)):  # k = 0: New Year's Day
        days = _kept(_dates(k, first_year, last_year), None)
        past = days[(days > first) & (days < last)][-2:]
        if len(past) == 2 and _closed(days_open, past).all():
            kept.append(k)
    return kept


def holidays_kept(dates: pd.DatetimeIndex) -> list[str]:
    """The names of the holidays the market of ``dates`` keeps, as :func:`closed_days` reads
    them from its dates ([] for data dated on weekends too)."""
    if trades_on_weekends(dates):
        return []
    days_open = _day_numbers(dates)
    years = pd.Timestamp(dates[0]).year - 1, pd.Timestamp(dates[-1]).year
    return [str(RULES[k].name) for k in _kept_rules(days_open, *years)]


def closed_days(dates: pd.DatetimeIndex, until: pd.Timestamp) -> pd.DatetimeIndex:
    """The weekdays after ``dates[-1]`` up to ``until`` on which the market of ``dates`` will
    be closed (module docstring): the days of every rule it kept the last two times the rule
    fell on a weekday, and of each way of moving a weekend date that it followed the last
    time, for that rule or, where the rule never fell so inside the data, for any rule kept."""
    days_open = _day_numbers(dates)
    first, last = days_open[0], days_open[-1]
    end = _day_numbers([until])[0]

    def inside(days: np.ndarray) -> np.ndarray:
        return days[(days > first) & (days < last)]

    def closed(day: int) -> bool:
        return bool(_closed(days_open, np.array([day]))[0])

    years = pd.Timestamp(dates[0]).year - 1, pd.Timestamp(until).year
    kept_rules = [(k, _dates(k, *years)) for k in _kept_rules(days_open, *years)]
    ahead = [_kept(raw, None) for _, raw in kept_rules]
    for name, move in list(_MOVES.items())[1:]:
        # The market's habit for this move: its last case among all the rules it keeps.
        # New Year's Day to the Friday before stands apart, neither taught nor teaching:
        # markets that move a Saturday holiday so keep the old year's last day open (NYSE).
        apart = [k == 0 and name == "saturday to friday" for k, _ in kept_rules]
        taught = [raw for (_, raw), alone in zip(kept_rules, apart, strict=True) if not alone]
        cases = [inside(_kept(raw, move)) for raw in taught]
        latest = max((int(c[-1]) for c in cases if len(c)), default=None)
        habit = latest is not None and closed(latest)
        for (_, raw), alone in zip(kept_rules, apart, strict=True):
            days = _kept(raw, move)
            own = inside(days)
            if closed(int(own[-1])) if len(own) else (habit and not alone):
                ahead.append(days)
    found = np.unique(np.concatenate(ahead)) if ahead else np.empty(0, np.int64)
    found = found[(found > last) & (found <= end)]
    return pd.DatetimeIndex(found.astype("datetime64[D]").astype("datetime64[ns]"))


def next_open_days(dates: pd.DatetimeIndex, n: int) -> pd.DatetimeIndex:
    """The ``n`` days after ``dates[-1]`` on which the market of ``dates`` will be open.

    Every calendar day for data dated on weekends too (crypto); otherwise business days,
    less the holidays its own history shows the market keeps (:func:`closed_days`).

    Example: after the S&P 500's 2018-12-31, ``next_open_days(..., 2)`` gives 2019-01-02
    and 2019-01-03 (New Year's Day closed in each of the data's years).
    """
    dates = pd.DatetimeIndex(dates)
    last = dates[-1].normalize()
    if trades_on_weekends(dates):
        return pd.date_range(last + pd.Timedelta(days=1), periods=n, freq="D")
    # n business days plus room for the holidays among them (at most a few in any week)
    candidates = pd.bdate_range(last + pd.Timedelta(days=1), periods=2 * n + 10)
    closed = closed_days(dates, candidates[-1])
    return candidates[~candidates.isin(closed)][:n]


def closed_weekdays(dates: pd.DatetimeIndex) -> list[str] | None:
    """The weekdays between the first and the last of ``dates`` that are not among them (the
    market's closures: a model file keeps its training calendar so), as ISO dates; None for
    data dated on weekends too (every calendar day is a trading day)."""
    dates = pd.DatetimeIndex(dates).normalize()
    if trades_on_weekends(dates):
        return None
    weekdays = pd.bdate_range(dates[0], dates[-1])
    return [f"{day:%Y-%m-%d}" for day in weekdays.difference(dates)]


def open_days(first: pd.Timestamp, last: pd.Timestamp, closed: list[str]) -> pd.DatetimeIndex:
    """The trading days from ``first`` to ``last`` of a calendar kept as its closed weekdays
    (:func:`closed_weekdays`)."""
    return pd.bdate_range(first, last).difference(pd.DatetimeIndex(closed))


def with_history(dates: pd.DatetimeIndex, known: pd.DatetimeIndex | None) -> pd.DatetimeIndex:
    """``dates`` with the trading days ``known`` before them (a model's training calendar),
    so that a short file still shows the holidays its market keeps; ``dates`` alone where
    ``known`` is None, dated on weekends, or leaves a gap before ``dates`` (missing rows would
    read as closures)."""
    dates = pd.DatetimeIndex(dates)
    if known is None or not len(known) or trades_on_weekends(dates):
        return dates
    before = known[known < dates[0].normalize()]
    if not len(before) or (dates[0].normalize() - before[-1]).days > 7:
        return dates
    return before.union(dates.normalize())
