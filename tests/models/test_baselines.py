"""Each baseline against an independent computation."""

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.data import read_prices
from lstm_forecast.models import (
    DriftForecaster,
    EMAForecaster,
    KalmanForecaster,
    NaiveForecaster,
    OLSForecaster,
    SMAForecaster,
)


@pytest.fixture(scope="module")
def prices():
    return read_prices("sp500-stocks", tickers=["JNJ", "XOM"]).iloc[-800:]


def test_naive_is_zero(prices):
    out = NaiveForecaster().fit(prices).predict(prices)
    assert (out.to_numpy() == 0).all()


def test_drift_is_mean_training_return_times_horizon(prices):
    train = prices.iloc[:500]
    out = DriftForecaster(horizon=3).fit(train).predict(prices)
    expected = 3 * (np.log(train.iloc[-1]) - np.log(train.iloc[0])) / (len(train) - 1)
    np.testing.assert_allclose(out.iloc[-1], expected, rtol=1e-12)


@pytest.mark.parametrize("window", [1, 5, 20])
def test_sma_matches_pandas_rolling(prices, window):
    out = SMAForecaster(window=window).fit(prices).predict(prices)
    expected = np.log(prices.rolling(window, min_periods=1).mean() / prices)
    pd.testing.assert_frame_equal(out, expected, rtol=1e-12)


@pytest.mark.parametrize("span", [2, 10, 50])
def test_ema_matches_pandas_ewm(prices, span):
    out = EMAForecaster(span=span).fit(prices).predict(prices)
    expected = np.log(prices.ewm(span=span, adjust=False).mean() / prices)
    pd.testing.assert_frame_equal(out, expected, rtol=1e-12)


def test_ols_matches_numpy_least_squares(prices):
    lags, horizon = 3, 2
    train = prices.iloc[:600]
    model = OLSForecaster(lags=lags, horizon=horizon).fit(train)
    lp = np.log(train["XOM"].to_numpy())
    r = np.diff(lp)  # r[k] = log return from day k to k+1
    rows, targets = [], []
    for t in range(lags, len(lp) - horizon):  # origin t has returns r_t..r_{t-lags+1}
        rows.append([1.0] + [r[t - 1 - k] for k in range(lags)])
        targets.append(lp[t + horizon] - lp[t])
    coef, *_ = np.linalg.lstsq(np.array(rows), np.array(targets), rcond=None)
    np.testing.assert_allclose(model.coef_.loc["XOM"], coef, rtol=1e-8, atol=1e-12)
    assert list(model.tvalues_.columns) == ["const", "r(t)", "r(t-1)", "r(t-2)"]
    out = model.predict(prices)
    t = len(prices) - 1
    lp_all, r_all = np.log(prices["XOM"].to_numpy()), np.diff(np.log(prices["XOM"].to_numpy()))
    x_last = [1.0] + [r_all[t - 1 - k] for k in range(lags)]
    assert out["XOM"].iloc[-1] == pytest.approx(np.dot(x_last, coef), rel=1e-8)
    assert np.isfinite(lp_all).all()


def local_level_filter(y, var_eps, var_eta, p0=1e6):
    """Hand-written Kalman recursion; starts like statsmodels (approximately diffuse, P = 1e6)."""
    level, p, out = 0.0, p0, []
    for t, obs in enumerate(y):
        p_pred = p + var_eta if t else p
        gain = p_pred / (p_pred + var_eps)
        level = level + gain * (obs - level)
        p = (1 - gain) * p_pred
        out.append(level)
    return np.array(out)


def test_kalman_local_level_matches_hand_written_filter(prices):
    model = KalmanForecaster().fit(prices.iloc[:500])
    var_eps, var_eta = model.params_["JNJ"]
    assert var_eps > 0 and var_eta > 0 and model.converged_["JNJ"]
    y = np.log(prices["JNJ"].to_numpy())
    expected = local_level_filter(y, var_eps, var_eta) - y
    out = model.predict(prices)["JNJ"].to_numpy()
    # Forecasts are ~1e-3; the two filters agree to ~2e-9 (statsmodels' gain differs from the
    # textbook recursion by ~1e-6 relative), far below any difference a wrong model makes.
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-8)
    assert np.abs(out).mean() > 1e-4


def test_kalman_trend_adds_horizon_times_slope(prices):
    one = KalmanForecaster(trend=True, horizon=1).fit(prices.iloc[:500]).predict(prices)
    five = KalmanForecaster(trend=True, horizon=5).fit(prices.iloc[:500]).predict(prices)
    slope = five - one  # = 4 * filtered slope
    assert slope.abs().to_numpy().max() > 0
    assert np.isfinite(slope.to_numpy()).all()


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (SMAForecaster(window=0), "window"),
        (EMAForecaster(span=0.5), "span"),
        (OLSForecaster(lags=0), "lags"),
        (NaiveForecaster(horizon=0), "horizon"),
    ],
)
def test_bad_settings_are_clear_errors(prices, model, match):
    with pytest.raises(ValueError, match=match):
        model.fit(prices)
