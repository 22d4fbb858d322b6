"""Feature groups: values worked by hand, causality, and clear refusals."""

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.features.inputs import check_features, feature_names, input_panel


def _prices(days=40, tickers=("A", "B", "C"), seed=0):
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2024-01-01", periods=days)
    steps = rng.normal(0, 0.01, (days, len(tickers)))
    return pd.DataFrame(100 * np.exp(np.cumsum(steps, 0)), index=index, columns=list(tickers))


def test_market_features_by_hand():
    prices = pd.DataFrame(
        {"A": [100.0, 110.0], "B": [100.0, 100.0], "C": [100.0, 90.0]},
        index=pd.bdate_range("2024-01-01", periods=2),
    )
    x = input_panel(prices, ["returns", "market"])
    r = np.log([1.1, 1.0, 0.9])
    np.testing.assert_allclose(x[1, :, 0], r)
    np.testing.assert_allclose(x[1, :, 1], r.mean())  # equal-weighted return
    np.testing.assert_allclose(x[1, :, 2], r - 0.0)  # minus the median (B's 0)
    np.testing.assert_allclose(x[1, :, 3], [0.5, 0.0, -0.5])  # A highest, C lowest
    assert np.isnan(x[0, :, :]).all()  # no return on the first day


def test_calendar_by_hand():
    # Wednesday 2024-01-31 is the month's last business day; Friday 2024-01-26 has 3 left
    prices = pd.DataFrame({"A": [1.0, 1.0]}, index=pd.DatetimeIndex(["2024-01-26", "2024-01-31"]))
    x = input_panel(prices, ["calendar"])
    np.testing.assert_allclose(x[:, 0, 0], np.sin(2 * np.pi * np.array([4, 2]) / 5))
    np.testing.assert_allclose(x[:, 0, 1], np.cos(2 * np.pi * np.array([4, 2]) / 5))
    np.testing.assert_allclose(x[:, 0, 2], [3 / 21, 0.0])


def test_calendar_tells_the_weekend_from_monday():
    """Markets open every day (crypto): Saturday and Sunday sit between Friday and Monday on
    the weekday circle, and Monday to Friday keep the values they have for trading days."""
    week = pd.date_range("2024-01-01", periods=7, freq="D")  # Monday to Sunday
    x = input_panel(pd.DataFrame({"A": np.ones(7)}, index=week), ["calendar"])[:, 0, :2]
    position = np.array([0, 1, 2, 3, 4, 4 + 1 / 3, 4 + 2 / 3])
    np.testing.assert_allclose(x[:, 0], np.sin(2 * np.pi * position / 5))
    np.testing.assert_allclose(x[:, 1], np.cos(2 * np.pi * position / 5))
    assert len({tuple(row) for row in x.round(6)}) == 7  # seven distinct days


def test_every_feature_is_causal():
    prices = _prices()
    features = ["returns", "market", "calendar"]
    full = input_panel(prices, features)
    for cut in (5, 20, 38):
        changed = prices.copy()
        changed.iloc[cut + 1 :] *= np.random.default_rng(cut).uniform(
            0.5, 2, changed.iloc[cut + 1 :].shape
        )
        np.testing.assert_array_equal(input_panel(changed, features)[: cut + 1], full[: cut + 1])
        # and a panel that simply ends at the cut agrees too (the calendar is not the rows)
        np.testing.assert_array_equal(
            input_panel(prices.iloc[: cut + 1], features), full[: cut + 1]
        )


def test_refusals_name_the_flag():
    assert check_features("calendar, returns") == ("returns", "calendar")
    assert feature_names(["market"]) == ["market", "excess", "rank"]
    with pytest.raises(ValueError, match="--features: unknown feature group 'volume'"):
        check_features(["returns", "volume"])
    with pytest.raises(ValueError, match="each feature group may be named once"):
        check_features(["returns", "returns"])
    with pytest.raises(ValueError, match="needs a panel of at least two tickers"):
        input_panel(_prices(tickers=("A",)), ["market"])


def _bars(days=80, seed=1):
    from lstm_forecast.data.ohlcv import attach

    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2024-01-01", periods=days)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, days)))
    open_ = close * np.exp(rng.normal(0, 0.003, days))
    high = np.maximum(open_, close) * 1.004
    low = np.minimum(open_, close) * 0.996
    volume = rng.integers(1_000, 5_000, days).astype(float)
    table = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )
    prices = pd.DataFrame({"X": close}, index=index)
    attach(prices, table)
    return prices, table


def test_ohlc_by_hand_and_causal():
    prices, bars = _bars()
    x = input_panel(prices, ["ohlc"])[:, 0, :]
    t = 70
    assert x[t, 0] == pytest.approx(np.log(bars["open"].iloc[t] / bars["close"].iloc[t - 1]))
    assert x[t, 1] == pytest.approx(np.log(bars["close"].iloc[t] / bars["open"].iloc[t]))
    assert x[t, 2] == pytest.approx(np.log(bars["high"].iloc[t] / bars["low"].iloc[t]))
    logv = np.log1p(bars["volume"].to_numpy()[t - 59 : t + 1])
    assert x[t, 3] == pytest.approx((logv[-1] - logv.mean()) / logv.std(ddof=1))
    assert np.isnan(x[18, 3]) and np.isfinite(x[19, 3])  # 20 days of volume at least
    # a later bar changed (every field), or the data cut at t: rows up to t unchanged
    from lstm_forecast.data.ohlcv import attach

    changed = bars.copy()
    changed.iloc[t + 1 :] *= 1.5
    other = prices.copy()
    other.iloc[t + 1 :] *= 1.5
    attach(other, changed)
    np.testing.assert_array_equal(input_panel(other, ["ohlc"])[: t + 1, 0], x[: t + 1])
    np.testing.assert_array_equal(input_panel(prices.iloc[: t + 1], ["ohlc"])[:, 0], x[: t + 1])


def test_raw_bars_beside_an_adjusted_close_are_read_in_its_units():
    """A vendor's raw bars (a 2:1 split on day 50, a 1% dividend on day 30) beside its
    adjusted close: the overnight gap and the Garman-Klass proxy are those of the adjusted
    series, with no -69% gap on the split day and no 1% gap on the dividend's; the other
    inputs, ratios within a day, do not change."""
    from lstm_forecast.data.ohlcv import attach
    from lstm_forecast.features.volatility import variance_proxy

    prices, adjusted = _bars(days=80)
    factor = pd.Series(1.0, index=adjusted.index)
    factor.iloc[:50] *= 2.0  # raw prices before the split are twice the adjusted ones
    factor.iloc[:30] *= 1.01  # and before the dividend 1% more
    raw = adjusted[["open", "high", "low", "close"]].mul(factor, axis=0)
    raw["volume"] = adjusted["volume"]
    raw["adj_close"] = adjusted["close"]
    vendor = prices.copy()
    attach(vendor, raw)
    expected = input_panel(prices, ["ohlc"])  # the adjusted bars themselves
    got = input_panel(vendor, ["ohlc"])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert abs(got[50, 0, 0]) < 0.05 and abs(got[30, 0, 0]) < 0.05  # no split, no dividend
    proxy, _ = variance_proxy(vendor)
    np.testing.assert_allclose(proxy, variance_proxy(prices)[0], rtol=1e-12)
    gap = np.log(adjusted["open"].iloc[50] / adjusted["close"].iloc[49])  # by hand, day 50
    spread = np.log(adjusted["high"].iloc[50] / adjusted["low"].iloc[50])
    body = np.log(adjusted["close"].iloc[50] / adjusted["open"].iloc[50])
    by_hand = gap**2 + 0.5 * spread**2 - (2 * np.log(2) - 1) * body**2
    assert proxy.iloc[50, 0] == pytest.approx(by_hand, rel=1e-12)


def test_a_volume_that_never_varies_has_a_z_score_of_zero():
    """An index's volume is often constant or 0: its z-score is 0 (at its usual level), not
    0/0, so the model still trains; a day after the volume starts to vary is scored again."""
    from lstm_forecast.data.ohlcv import attach
    from lstm_forecast.models import LSTMForecaster

    prices, bars = _bars(days=300)
    flat = bars.assign(volume=0.0)
    flat.iloc[250:, flat.columns.get_loc("volume")] = np.arange(50.0) * 100
    attach(prices, flat)
    z = input_panel(prices, ["ohlc"])[:, 0, 3]
    assert np.isnan(z[:19]).all() and (z[19:250] == 0).all() and np.isfinite(z[250:]).all()
    assert z[260] != 0
    LSTMForecaster(lookback=10, hidden_size=4, steps=50, features=["returns", "ohlc"]).fit(prices)


def test_ohlc_needs_bars():
    with pytest.raises(ValueError, match="feature 'ohlc' needs open, high, low and volume"):
        input_panel(_prices(tickers=("A",)), ["returns", "ohlc"])


def _panel_bars():
    """Two tickers with their own bars (seeds 1 and 2) in one frame."""
    from lstm_forecast.data.ohlcv import attach_bars

    (a, bars_a), (b, bars_b) = _bars(seed=1), _bars(seed=2)
    prices = pd.concat([a["X"].rename("A"), b["X"].rename("B")], axis=1)
    attach_bars(prices, {"A": bars_a, "B": bars_b})
    return prices, {"A": a, "B": b}


def test_ohlc_of_a_panel_is_each_tickers_own_and_causal():
    from lstm_forecast.data.ohlcv import OHLCV, attach_bars

    prices, alone = _panel_bars()
    x = input_panel(prices, ["returns", "ohlc"])
    for k, ticker in enumerate("AB"):
        np.testing.assert_array_equal(x[:, k, 1:], input_panel(alone[ticker], ["ohlc"])[:, 0])
    # B's bars changed after t (every field): no row up to t moves, for either ticker
    t = 60
    tables = dict(prices.attrs["ohlcv"].tables)
    tables["B"] = tables["B"].copy()
    tables["B"].iloc[t + 1 :] *= 1.5
    other = prices.copy()
    attach_bars(other, tables)
    moved = input_panel(other, ["returns", "ohlc"])
    np.testing.assert_array_equal(moved[: t + 1], x[: t + 1])
    assert not np.array_equal(moved[t + 1 :, 1], x[t + 1 :, 1])
    # one ticker without bars: named
    attach_bars(other, {"A": tables["A"]})
    assert isinstance(other.attrs["ohlcv"], OHLCV)
    with pytest.raises(ValueError, match=r"for every ticker \(B lacks them\)"):
        input_panel(other, ["ohlc"])


def test_garman_klass_proxy_of_a_panel_is_each_tickers_own():
    from lstm_forecast.features.volatility import GARMAN_KLASS, variance_proxy

    prices, alone = _panel_bars()
    proxy, kind = variance_proxy(prices)
    assert kind == GARMAN_KLASS and list(proxy.columns) == ["A", "B"]
    for ticker in "AB":
        own, _ = variance_proxy(alone[ticker])
        np.testing.assert_array_equal(proxy[ticker].to_numpy(), own["X"].to_numpy())
