"""The Forecaster contract over every registered model, and proof the checker catches leaks."""

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.data import read_prices
from lstm_forecast.models import MODELS, BaseForecaster, check_forecaster, make_forecaster

# The LSTM's contract at a small size; its skill is tested in test_lstm.py.
SMALL = {"lstm": dict(lookback=20, hidden_size=8, epochs=3)}


@pytest.fixture(scope="module")
def prices():
    return read_prices("sp500-stocks", tickers=["AAPL", "KO", "SP500"]).iloc[-700:]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_obeys_the_contract(name, prices):
    check_forecaster(lambda: make_forecaster(name, **SMALL.get(name, {})), prices)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("horizon", [1, 5])
def test_horizons(name, horizon, prices):
    out = check_forecaster(
        lambda: make_forecaster(name, horizon=horizon, **SMALL.get(name, {})), prices.iloc[:, :1]
    )
    assert out.shape[1] == 1


class PeekingForecaster(BaseForecaster):
    """Deliberately wrong: uses tomorrow's price."""

    name = "peeking"

    def _fit(self, prices):
        pass

    def _predict(self, history):
        return np.log(history).shift(-1).fillna(0.0) - np.log(history)


class UnseededForecaster(BaseForecaster):
    name = "unseeded"

    def _fit(self, prices):
        pass

    def _predict(self, history):
        return history * 0.0 + np.random.default_rng().normal()


def test_checker_catches_look_ahead(prices):
    with pytest.raises(AssertionError, match="look-ahead"):
        check_forecaster(PeekingForecaster, prices)


def test_checker_catches_nondeterminism(prices):
    with pytest.raises(AssertionError, match="second identical run"):
        check_forecaster(UnseededForecaster, prices)


class FillingForecaster(BaseForecaster):
    """Deliberately wrong: carries the last price on past a ticker's end (flat prices)."""

    name = "filling"

    def _fit(self, prices):
        pass

    def _predict(self, history):
        return np.log(history.ffill()).diff().fillna(0.0)


def test_checker_catches_forecasts_of_a_ticker_that_ended(prices):
    with pytest.raises(AssertionError, match="after its last price"):
        check_forecaster(FillingForecaster, prices)


def test_later_listing_gives_nan_until_first_price(prices):
    late = prices.copy()
    late.iloc[:400, 0] = np.nan  # AAPL "listed" on row 400
    for name in MODELS:  # 200 training days after listing: volatility models need 100
        model = make_forecaster(name, **SMALL.get(name, {})).fit(late.iloc[:600])
        out = model.predict(late)
        assert out.iloc[:400, 0].isna().all(), name
        assert np.isfinite(out.iloc[-150:].to_numpy()).all(), name
        if model.distributional:
            sd = model.predict_distribution(late)["sd"]
            assert sd.iloc[:400, 0].isna().all(), name
            assert (sd.iloc[-150:].to_numpy() > 0).all(), name


def test_registry_errors():
    with pytest.raises(ValueError, match="unknown model 'arima'; choose from naive"):
        make_forecaster("arima")


def test_origin_not_in_prices_is_an_error(prices):
    from lstm_forecast.data import DataError

    model = make_forecaster("naive").fit(prices)
    with pytest.raises(DataError, match="not among the price dates"):
        model.predict(prices, pd.DatetimeIndex(["1980-01-01"]))


@pytest.mark.parametrize("name", ["naive", "ols", "kalman", "lstm"])
@pytest.mark.parametrize(
    ("spoil", "match"),
    [
        (lambda p: p.astype(str), "column 'AAPL' holds str values, not numbers"),
        (lambda p: p.astype(object), "column 'AAPL' holds object values, not numbers"),
        (lambda p: p.replace(p.iloc[100, 0], np.inf), "contains infinite values"),
        (lambda p: p.reset_index(drop=True), "must have a DatetimeIndex"),
        (lambda p: p.iloc[::-1], "sorted and unique"),
        (lambda p: p["AAPL"], "must be a pandas DataFrame"),
    ],
)
def test_frames_a_model_cannot_use_are_one_clear_error(name, spoil, match, prices):
    """Wrong frames passed to fit or predict: a DataError that says what is wrong, never a
    TypeError from deep inside (strings read from a CSV by hand reach np.log otherwise)."""
    from lstm_forecast.data import DataError

    with pytest.raises(DataError, match=match):
        make_forecaster(name, **SMALL.get(name, {})).fit(spoil(prices))
    fitted = make_forecaster(name, **SMALL.get(name, {})).fit(prices.iloc[:300])
    with pytest.raises(DataError, match=match):
        fitted.predict(spoil(prices))
