"""``check_forecaster``: the one contract every forecaster must pass, causality included.

Run it on any model (a baseline, the LSTM, one of your own) with a price frame::

    check_forecaster(lambda: SMAForecaster(window=10), prices)

It raises ``AssertionError`` naming the first broken rule.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..data.errors import DataError
from .base import Forecaster, NotFittedError


def _raises(action: Callable[[], object], kinds: tuple[type[Exception], ...]) -> bool:
    try:
        action()
    except kinds:
        return True
    return False


def _poke(frame: pd.DataFrame, value: float) -> pd.DataFrame:
    """A copy with one interior price replaced by ``value``."""
    out = frame.copy()
    out.iloc[len(out) // 2, 0] = value
    return out


def _check_bad_training_data(factory, train: pd.DataFrame, name: str) -> None:
    """Empty data, a NaN hole, an infinite or a negative price must all be refused."""
    bad = {
        "empty": train.iloc[:0],
        "a NaN hole": _poke(train, np.nan),
        "an infinite price": _poke(train, np.inf),
        "a negative price": _poke(train, -1.0),
    }
    for what, frame in bad.items():
        assert _raises(lambda f=frame: factory().fit(f), (DataError, ValueError)), (
            f"{name}: fit on training data with {what} must raise DataError"
        )


def check_forecaster(
    factory: Callable[[], Forecaster],
    prices: pd.DataFrame,
    train_fraction: float = 0.6,
    seed: int = 0,
) -> pd.DataFrame:
    """Check the Forecaster contract on ``prices``; return the test forecasts.

    Rules: predicting before fit raises :class:`NotFittedError`; ``fit`` returns ``self``;
    forecasts have one row per origin and one column per ticker, finite; a second model
    built the same way gives identical forecasts; changing every price after a date T
    changes no forecast with origin at or before T; bad training data (empty, NaN hole,
    infinite, non-positive) raises ``DataError``/``ValueError``; a ticker that ends (delisted)
    is forecast only while it has prices, the others as before. A model that forecasts a
    distribution passes the same rules for it (``predict_distribution``).
    """
    split = int(len(prices) * train_fraction)
    train, origins = prices.iloc[:split], prices.index[split:]
    name = getattr(factory(), "name", "forecaster")

    assert _raises(lambda: factory().predict(prices, origins), (NotFittedError,)), (
        f"{name}: predict before fit must raise NotFittedError"
    )
    model = factory()
    assert model.fit(train) is model, f"{name}: fit must return self"
    forecast = model.predict(prices, origins)
    assert isinstance(forecast, pd.DataFrame), f"{name}: predict must return a DataFrame"
    assert forecast.shape == (len(origins), prices.shape[1]), (
        f"{name}: forecast shape {forecast.shape}, expected {(len(origins), prices.shape[1])}"
    )
    assert forecast.index.equals(origins), f"{name}: forecast index must be the origins"
    assert list(forecast.columns) == list(prices.columns), f"{name}: columns must be the tickers"
    assert np.isfinite(forecast.to_numpy(dtype=float)).all(), f"{name}: NaN or inf forecasts"

    again = factory().fit(train).predict(prices, origins)
    pd.testing.assert_frame_equal(
        again, forecast, check_exact=True, obj=f"{name}: a second identical run"
    )

    cut = origins[len(origins) // 2]
    changed = prices.copy()
    later = changed.index > cut
    rng = np.random.default_rng(seed)
    changed.loc[later] = changed.loc[later] * np.exp(rng.normal(0, 0.05, changed.loc[later].shape))
    after = factory().fit(train).predict(changed, origins)
    early = origins[origins <= cut]
    pd.testing.assert_frame_equal(
        after.loc[early],
        forecast.loc[early],
        check_exact=True,
        obj=f"{name}: forecasts at or before {cut:%Y-%m-%d} after "
        "changing later prices (look-ahead)",
    )

    if getattr(model, "distributional", False):
        _check_distribution(factory, model, train, prices, changed, origins, cut, name)
    _check_bad_training_data(factory, train, name)
    if prices.shape[1] > 1:
        _check_a_ticker_that_ends(factory, prices, train, origins, cut, forecast, name)
    return forecast


def _check_a_ticker_that_ends(factory, prices, train, origins, cut, forecast, name) -> None:
    """A ticker that ends (delisted) at ``cut``: no forecast of it after its last price, the
    same forecasts as before at or before ``cut``; and one that ends inside the training
    data is trained on as far as it goes."""
    ended = prices.copy()
    ended.loc[ended.index > cut, ended.columns[0]] = np.nan
    after = factory().fit(train).predict(ended, origins)
    early, late = origins[origins <= cut], origins[origins > cut]
    pd.testing.assert_frame_equal(  # to float32 rounding: a batch of windows changes shape
        after.loc[early],
        forecast.loc[early],
        rtol=1e-6,
        atol=1e-9,
        obj=f"{name}: forecasts at or before {cut:%Y-%m-%d}, where a ticker ends after it",
    )
    assert after.loc[late].iloc[:, 0].isna().all(), (
        f"{name}: a forecast of a ticker after its last price (it ended)"
    )
    assert np.isfinite(after.loc[late].iloc[:, 1:].to_numpy(dtype=float)).all(), (
        f"{name}: the other tickers' forecasts after one ended must be finite"
    )
    short = train.copy()
    short.iloc[len(short) * 3 // 4 :, 0] = np.nan
    inside = factory().fit(short).predict(ended, origins)
    assert np.isfinite(inside.loc[late].iloc[:, 1:].to_numpy(dtype=float)).all(), (
        f"{name}: fit where a ticker ends inside the training data"
    )


def _check_distribution(factory, model, train, prices, changed, origins, cut, name) -> None:
    """A distributional model: finite means, positive standard deviations, degrees of
    freedom above 2, the mean equal to the point forecast, and no look-ahead either."""
    dist = model.predict_distribution(prices, origins)
    assert set(dist) == {"mean", "sd", "df"}, f"{name}: distribution needs mean, sd and df"
    for key, frame in dist.items():
        assert frame.shape == (len(origins), prices.shape[1]), f"{name}: {key} shape"
    assert np.isfinite(dist["mean"].to_numpy(float)).all(), f"{name}: non-finite means"
    assert (dist["sd"].to_numpy(float) > 0).all(), f"{name}: standard deviations must be > 0"
    assert (dist["df"].to_numpy(float) > 2).all(), f"{name}: degrees of freedom must be > 2"
    pd.testing.assert_frame_equal(
        dist["mean"], model.predict(prices, origins), obj=f"{name}: mean vs point forecast"
    )
    after = factory().fit(train).predict_distribution(changed, origins)
    early = origins[origins <= cut]
    for key in dist:
        pd.testing.assert_frame_equal(
            after[key].loc[early],
            dist[key].loc[early],
            check_exact=True,
            obj=f"{name}: {key} at or before {cut:%Y-%m-%d} after changing later prices",
        )
