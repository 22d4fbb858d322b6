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
