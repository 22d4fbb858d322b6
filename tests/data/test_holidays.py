"""The market's next open days, learned from its own dates, checked against the real next
dates of the embedded data (the truth here is the data, not the rules)."""

import pandas as pd
import pytest

from lstm_forecast.data import read_prices
from lstm_forecast.data.holidays import RULES, closed_days, next_open_days

# NYSE closures that no calendar rule announces: the days of mourning for Presidents Nixon,
# Reagan, Ford and Bush, 9/11 and Hurricane Sandy
UNSCHEDULED = {"1994-04-27", "2001-09-11", "2004-06-11", "2007-01-02", "2012-10-29", "2018-12-05"}
# Holidays the NYSE added, missed until the rule has closed it on two weekdays: Martin Luther
# King Jr. Day from 1998, Juneteenth from 2022 (first kept on Monday 2022-06-20)
ADDED = {"1998-01-19", "1999-01-18", "2022-06-20"}


def _holiday_like(index: pd.DatetimeIndex) -> set:
    """Every day within two days of a rule's date: the only days the rules can close."""
    days: set = set()
    for rule in RULES:
        for day in rule.dates(index[0], index[-1] + pd.Timedelta(days=3), False):
            days |= {day + pd.Timedelta(days=k) for k in range(-2, 3)}
    return days


@pytest.mark.parametrize(
    ("name", "start"), [("sp500", "2002-01-01"), ("sp500-stocks", "1994-01-01")]
)
def test_every_next_date_of_the_real_data_after_its_first_years(name, start):
    """One day ahead from every date (after three years to learn from): the predicted next
    date is the real one, but for the closures no rule announces and the first year of a
    holiday the market adds, until it has closed on it twice. Business days miss 3.6%."""
    index = read_prices(name).index
    following = index[:-1] + pd.offsets.BDay(1)
    assert (following != index[1:]).mean() > 0.03  # business days alone
    candidates = _holiday_like(index)
    wrong, checked = [], 0
    for t in range(len(index) - 1):
        if index[t] < pd.Timestamp(start):
            continue
        if following[t] == index[t + 1] and following[t] not in candidates:
            continue  # the rules close only candidate days: here they agree with BDay
        checked += 1
        predicted = next_open_days(index[: t + 1], 1)[0]
        if predicted != index[t + 1]:
            wrong.append(f"{predicted:%Y-%m-%d}")
    assert checked > 200
    expected = {d for d in UNSCHEDULED | ADDED if start < d < f"{index[-1]}"}
    assert set(wrong) <= expected and len(wrong) == len(set(wrong)), wrong


def _calendar(closed: set, start="2010-01-01", end="2016-12-31") -> pd.DatetimeIndex:
    days = pd.bdate_range(start, end)
    return days[~days.isin(pd.DatetimeIndex(sorted(closed)))]


def test_a_london_like_calendar_moves_saturday_holidays_to_monday():
    """Boxing Day and Easter Monday kept; Christmas on a Saturday (2010) closes Monday 27 and
    Boxing Day on a Sunday closes Tuesday 28: the next Saturday case is moved likewise."""
    closed = set()
    for year in range(2010, 2022):
        for rule in RULES:
            if rule.name in ("Christmas Day", "Boxing Day", "Easter Monday", "Good Friday"):
                closed |= {d for d in rule.dates(f"{year}-01-01", f"{year}-12-31", False)}
    closed |= {pd.Timestamp("2010-12-27"), pd.Timestamp("2010-12-28")}  # Sat, Sun moved
    closed |= {pd.Timestamp("2011-12-26"), pd.Timestamp("2011-12-27")}  # Sun -> Mon, Tue
    closed |= {pd.Timestamp("2016-12-26"), pd.Timestamp("2016-12-27")}
    index = _calendar(closed, end="2021-12-20")
    # 2021: Christmas on Saturday, Boxing Day on Sunday -> closed Monday 27, Tuesday 28
    index = index[~index.isin(pd.to_datetime(["2021-04-02", "2021-04-05"]))]
    ahead = next_open_days(index, 6)
    assert [f"{d:%m-%d}" for d in ahead] == ["12-21", "12-22", "12-23", "12-24", "12-29", "12-30"]


def test_no_holidays_kept_means_business_days():
    index = pd.bdate_range("2015-01-01", "2018-12-28")
    assert list(next_open_days(index, 3)) == list(pd.bdate_range("2018-12-31", periods=3))
    assert len(closed_days(index, pd.Timestamp("2019-12-31"))) == 0


def test_a_holiday_is_learned_after_two_closures_and_dropped_after_two_openings():
    juneteenth = {pd.Timestamp(d) for d in ("2022-06-20", "2023-06-19", "2024-06-19")}
    index = _calendar(juneteenth, "2015-01-01", "2025-06-13")  # two weekday closures
    assert pd.Timestamp("2025-06-19") not in next_open_days(index, 5)
    once = _calendar(juneteenth, "2015-01-01", "2024-06-14")  # one: it may be a missing row
    assert pd.Timestamp("2024-06-19") in next_open_days(once, 5)
    closed = {pd.Timestamp(d) for d in ("2016-11-11", "2017-11-10", "2020-11-11")}
    dropped = _calendar(closed, "2015-01-01", "2024-11-08")  # open on 2021-11-11, 2022-11-11
    assert pd.Timestamp("2024-11-11") in next_open_days(dropped, 3)


def test_weekend_data_counts_calendar_days():
    index = pd.date_range("2020-01-01", "2023-12-29", freq="D")
    assert [f"{d:%a}" for d in next_open_days(index, 3)] == ["Sat", "Sun", "Mon"]


def test_a_training_calendar_kept_as_its_closed_weekdays_teaches_a_short_file():
    """A model keeps its training dates as the weekdays they lack; rebuilt, they are the
    dates again, and a recent file of a few months that runs on from them learns the
    holidays it cannot show alone. A gap between them, or weekend data, is not joined."""
    from lstm_forecast.data.holidays import closed_weekdays, open_days, with_history

    dates = read_prices("sp500").index
    closed = closed_weekdays(dates)
    assert len(closed) == len(pd.bdate_range(dates[0], dates[-1])) - len(dates)
    assert "2018-12-25" in closed and "2018-12-05" in closed  # Christmas, Bush's mourning
    assert open_days(dates[0], dates[-1], closed).equals(dates)
    recent = dates[-60:]  # October to December 2018: no New Year's Day inside
    assert next_open_days(recent, 1)[0] == pd.Timestamp("2019-01-01")  # alone: a guess
    joined = with_history(recent, dates[:-60])
    assert joined.equals(dates) and next_open_days(joined, 1)[0] == pd.Timestamp("2019-01-02")
    assert with_history(recent, dates[:-80]).equals(recent)  # a gap of 20 days: not joined
    assert with_history(recent, None).equals(recent)
    coin = pd.date_range("2024-01-01", periods=30, freq="D")
    assert closed_weekdays(coin) is None and with_history(coin, dates).equals(coin)
