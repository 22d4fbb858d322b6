"""A user's own series: read like prices but any sign, shifted by the publication lag, aligned
from the past only, and refused with one clear line."""

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.data import DataError
from lstm_forecast.data.covariates import attach_covariates, covariates_of
from lstm_forecast.data.reader import read_covariates


def _prices(days=10):
    index = pd.bdate_range("2024-01-01", periods=days)
    return pd.DataFrame({"X": np.linspace(100, 110, days)}, index=index)


def test_any_sign_lag_and_past_only_alignment(tmp_path):
    path = tmp_path / "macro.csv"
    path.write_text("date,rate,spread\n2024-01-01,-0.5,0\n2024-01-03,-0.25,1.5\n2024-01-08,0,2\n")
    table = read_covariates(path)
    assert list(table.columns) == ["rate", "spread"] and table["rate"].iloc[0] == -0.5
    aligned = covariates_of(attach_covariates(_prices(), table))
    # Jan 2 holds Jan 1's value; Jan 4-5 hold Jan 3's; Jan 8 its own
    np.testing.assert_allclose(aligned["rate"].iloc[:6], [-0.5, -0.5, -0.25, -0.25, -0.25, 0.0])
    late = read_covariates(path, lag=1)  # published the next business day
    assert late.index[0] == pd.Timestamp("2024-01-02")
    aligned = covariates_of(attach_covariates(_prices(), late))
    assert np.isnan(aligned["rate"].iloc[0]) and aligned["rate"].iloc[1] == -0.5


def test_the_lag_of_a_series_dated_on_weekends_counts_calendar_days(tmp_path):
    """A business-day series published after Friday's close is known on Monday; one dated on
    weekends too (crypto sentiment) is known the next calendar day."""
    path = tmp_path / "x.csv"
    path.write_text("date,s\n2024-01-05,1\n2024-01-08,2\n")  # a Friday and a Monday
    assert list(read_covariates(path, lag=1).index) == list(
        pd.to_datetime(["2024-01-08", "2024-01-09"])
    )
    path.write_text("date,s\n2024-01-05,1\n2024-01-06,2\n")  # a Friday and a Saturday
    assert list(read_covariates(path, lag=1).index) == list(
        pd.to_datetime(["2024-01-06", "2024-01-07"])
    )


def test_bad_covariate_files_are_one_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("date,rate\n2024-01-01,abc\n")
    with pytest.raises(DataError, match=r"bad.csv: column 'rate', line 2: 'abc': not a number"):
        read_covariates(path)
    path.write_text("date,X\n2024-01-01,1\n")
    with pytest.raises(DataError, match="covariate 'X' has the name of a ticker"):
        attach_covariates(_prices(), read_covariates(path))
    path.write_text("date,rate\n2030-01-01,1\n")
    with pytest.raises(DataError, match="covariate 'rate' has no value dated on or before"):
        attach_covariates(_prices(), read_covariates(path))
    with pytest.raises(DataError, match="--covariate-lag must be"):
        read_covariates(path, lag=-1)


def test_a_series_that_stopped_is_warned_about_not_one_between_releases():
    """Carried forward is right for a monthly series between releases, and worth a warning for
    a daily one that ended weeks before the prices (a file not updated)."""
    import warnings

    from lstm_forecast.data import DataWarning

    prices = _prices(300)
    daily = pd.DataFrame({"daily": 1.0}, index=prices.index[:-30])
    with pytest.warns(DataWarning, match=r"'daily': its last value is dated 2025-01-10, 30 bus"):
        attach_covariates(prices, daily)
    months = pd.date_range("2023-12-31", prices.index[-1], freq="ME")
    monthly = pd.DataFrame({"cpi": np.arange(len(months), dtype=float)}, index=months)
    assert (prices.index[-1] - monthly.index[-1]).days > 20  # between two releases
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        attach_covariates(prices, monthly)
        attach_covariates(prices, pd.DataFrame({"now": 1.0}, index=prices.index))


@pytest.mark.parametrize(("freq", "needed"), [("MS", 23), ("QS", 66), ("YS", 262)])
def test_a_series_dated_on_its_periods_first_day_needs_the_lag_to_reach_their_end(
    tmp_path, freq, needed
):
    """FRED dates January's CPI 2020-01-01 and publishes it in February: read from January 2
    it would show the forecasts a month that had not happened. Dated on the 1st, weekends
    included, a value counts as unknown until the next date; the lag must reach it."""
    dates = pd.date_range("2012-01-01", "2020-01-01", freq=freq)
    assert (dates.day_of_week >= 5).any()  # some first days fall on a weekend
    path = tmp_path / "fred.csv"
    values = np.arange(len(dates), dtype=float)
    pd.DataFrame({"observation_date": dates, "CPI": values}).to_csv(path, index=False)
    for lag in (0, needed - 1):
        with pytest.raises(DataError, match=rf"'CPI' is dated on the first day of each .*"
                           rf"--covariate-lag {lag} .*at least {needed}"):  # fmt: skip
            read_covariates(path, lag=lag)
    table = read_covariates(path, lag=needed)
    # every value is first known on or after the first day of the next period (business days,
    # although the dates include weekends), and never before
    next_start = pd.Series(dates[1:], index=dates[:-1])
    known = pd.Series(table.index[:-1], index=dates[:-1])
    assert (known >= next_start).all()
    assert (known.dt.day_of_week < 5).all()
    # an independent check of the smallest lag: one fewer business day is before some end
    early = pd.DatetimeIndex(dates[:-1]) + pd.offsets.BDay(needed - 1)
    assert (early < dates[1:]).any()


def test_period_dating_is_read_only_from_proof(tmp_path):
    """Dated on weekdays only (a release calendar, a month's last close) or at month ends,
    a monthly series is read as dated; a daily series dated on weekends keeps calendar days."""
    path = tmp_path / "m.csv"
    ends = pd.date_range("2012-01-01", "2020-01-01", freq="ME")
    pd.DataFrame({"date": ends, "x": 1.0}).to_csv(path, index=False)
    assert len(read_covariates(path)) == len(ends)
    firsts = pd.date_range("2012-01-01", "2020-01-01", freq="BMS")  # first business days
    pd.DataFrame({"date": firsts, "x": 1.0}).to_csv(path, index=False)
    assert len(read_covariates(path)) == len(firsts)
    # a monthly series dated on the 1st beside a weekday-only daily one: lags in business days
    days = pd.bdate_range("2019-01-01", "2019-03-31")
    months = pd.DatetimeIndex(["2018-12-01", "2019-01-01", "2019-02-01", "2019-03-01"])
    frame = pd.DataFrame({"daily": 1.0}, index=days).join(
        pd.DataFrame({"monthly": 2.0}, index=months), how="outer"
    )
    frame.index.name = "date"
    frame.to_csv(path)
    table = read_covariates(path, lag=23)
    assert pd.Timestamp("2018-12-01") + pd.offsets.BDay(23) in table["monthly"].dropna().index


def test_a_table_built_in_python_is_checked_for_period_dating_too():
    """attach_covariates takes its table's dates as the days each value is known: a monthly
    table dated on the 1st (FRED's dating) is refused there as well."""
    prices = pd.DataFrame(
        {"X": np.linspace(100, 110, 400)}, index=pd.bdate_range("2019-01-01", periods=400)
    )
    months = pd.date_range("2018-01-01", "2020-06-01", freq="MS")
    table = pd.DataFrame({"cpi": np.arange(len(months), dtype=float)}, index=months)
    with pytest.raises(DataError, match=r"'cpi' is dated on the first day of each month"):
        attach_covariates(prices, table)
    shifted = table.set_axis(months + pd.offsets.BDay(23))  # as read_covariates(lag=23) dates it
    assert covariates_of(attach_covariates(prices, shifted)) is not None


def test_a_weekly_series_dated_on_saturdays_is_warned_about_without_a_lag(tmp_path):
    """FRED dates initial claims by the Saturday ending the week; they come out on the
    Thursday after. Without a lag each is read on the Monday: a warning, since how early
    cannot be told from the dates; with a lag, or dated on a weekday, none."""
    import warnings

    from lstm_forecast.data import DataWarning

    saturdays = pd.date_range("2019-01-05", periods=100, freq="W-SAT")
    path = tmp_path / "icsa.csv"
    pd.DataFrame({"observation_date": saturdays, "ICSA": 2e5}).to_csv(path, index=False)
    with pytest.warns(DataWarning, match=r"'ICSA' is weekly, dated on Saturdays.*lag 0"):
        read_covariates(path)
    thursdays = pd.date_range("2019-01-03", periods=100, freq="W-THU")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_covariates(path, lag=4)
        pd.DataFrame({"date": thursdays, "ICSA": 2e5}).to_csv(path, index=False)
        read_covariates(path)


def test_a_covariate_written_as_percentages_reads_the_number_before_the_sign(tmp_path):
    """Excel formats a rate as '5.25%': read as 5.25 when every value carries the sign (and
    '1,5 %' with --decimal ,); '5%' beside '0.05' is two units and refused."""
    path = tmp_path / "rates.csv"
    path.write_text("date,rate\n2020-01-02,5.25%\n2020-01-03,\n2020-01-06,-0.5%\n")
    assert read_covariates(path)["rate"].dropna().tolist() == [5.25, -0.5]
    path.write_text("Datum;Zins\n30.12.2019;1,5 %\n31.12.2019;1,75 %\n")
    assert read_covariates(path, decimal=",")["Zins"].tolist() == [1.5, 1.75]
    path.write_text("date,rate\n2020-01-02,5%\n2020-01-03,0.05\n")
    with pytest.raises(DataError, match=r"mixes percentages and plain numbers \(line 2: '5%'"):
        read_covariates(path)
