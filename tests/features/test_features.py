"""Returns, targets, windows and the scaler."""

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.features import (
    StandardScaler,
    horizon_target,
    log_returns,
    sliding_windows,
    to_price,
)


@pytest.fixture
def prices():
    idx = pd.bdate_range("2020-01-01", periods=8)
    return pd.DataFrame(
        {"A": [1.0, 2, 4, 2, 1, 2, 4, 8], "B": [np.nan, 1, 1, 1, 2, 2, 2, 2]}, index=idx
    )


def test_log_returns_and_target(prices):
    r = log_returns(prices)
    assert np.isnan(r["A"].iloc[0]) and r["A"].iloc[1] == pytest.approx(np.log(2))
    y = horizon_target(prices, 2)
    assert y["A"].iloc[0] == pytest.approx(np.log(4)) and y["A"].iloc[-2:].isna().all()
    # The h-step target is the sum of the next h one-step returns.
    np.testing.assert_allclose(y["A"].iloc[:-2], (r["A"].shift(-1) + r["A"].shift(-2)).iloc[:-2])
    np.testing.assert_allclose(to_price(prices["A"], y["A"]).iloc[:-2], prices["A"].shift(-2)[:-2])
    with pytest.raises(ValueError, match="horizon"):
        horizon_target(prices, 0)


def test_windows_are_views_in_order():
    x = np.arange(20.0).reshape(10, 2)
    w = sliding_windows(x, 4)
    assert w.shape == (7, 4, 2) and np.shares_memory(w, x)
    np.testing.assert_array_equal(w[3], x[3:7])
    assert sliding_windows(np.arange(5.0), 5).shape == (1, 5, 1)
    with pytest.raises(ValueError, match="lookback"):
        sliding_windows(x, 11)


def test_scaler_uses_training_rows_only(prices):
    train, test = prices.iloc[:5], prices.iloc[5:]
    scaler = StandardScaler().fit(train)
    z = scaler.transform(prices)
    np.testing.assert_allclose(z.iloc[:5]["A"].mean(), 0, atol=1e-12)
    assert z.iloc[5:]["A"].mean() != pytest.approx(0)
    before = scaler.transform(test).copy()
    StandardScaler().fit(train)  # fitting another scaler changes nothing here
    changed = prices.copy()
    changed.iloc[5:] *= 100
    np.testing.assert_array_equal(StandardScaler().fit(changed.iloc[:5]).mean_, scaler.mean_)
    pd.testing.assert_frame_equal(scaler.inverse_transform(before), test)
    restored = StandardScaler.from_dict(scaler.to_dict())
    pd.testing.assert_frame_equal(restored.transform(test), before)


def test_scaler_errors(prices):
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(prices)
    with pytest.raises(ValueError, match="no finite"):
        StandardScaler().fit(prices.iloc[:1][["B"]])
    with pytest.raises(ValueError, match="not seen"):
        StandardScaler().fit(prices[["A"]]).transform(prices)
