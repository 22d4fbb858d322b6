"""Permutation importance: the loss each model is judged by, checked against the forecasts it
makes through its public methods, and a variance forecaster's inputs found to matter."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lstm_forecast.data.simulate import simulate_volatility
from lstm_forecast.evaluation.importance import importance_table, permuted_losses
from lstm_forecast.features import horizon_target
from lstm_forecast.models import LSTMForecaster

QUICK = dict(lookback=20, hidden_size=8, steps=300, eval_every=50)


@pytest.fixture(scope="module")
def garch():
    return simulate_volatility("garch_t", days=1500, seed=3)[0]


@pytest.mark.parametrize("settings", [{}, {"distribution": "t"}, {"target": "variance"}])
def test_the_unshuffled_loss_is_the_models_own_forecast_scored(garch, settings):
    model = LSTMForecaster(**QUICK, **settings).fit(garch.iloc[:1200])
    origins = garch.index[1250:1400]
    target = horizon_target(garch, 1)
    losses = permuted_losses(model, garch, origins, target, seed=0)
    base = losses[losses["input"] == "none"].set_index("origin")["loss"]
    y = target.loc[origins, "garch_t"].to_numpy()
    if not settings:
        assert (losses["metric"] == "MSE").all()
        expected = (y - model.predict(garch, origins)["garch_t"].to_numpy()) ** 2
    else:
        assert (losses["metric"] == "log score").all()
        dist = {
            k: v["garch_t"].to_numpy()
            for k, v in model.predict_distribution(garch, origins).items()
        }
        if np.isinf(dist["df"]).all():
            expected = -stats.norm.logpdf(y, dist["mean"], dist["sd"])
        else:
            nu = dist["df"]
            scale = dist["sd"] * np.sqrt((nu - 2) / nu)
            expected = -stats.t.logpdf(y, nu, dist["mean"], scale)
    np.testing.assert_allclose(base.loc[origins].to_numpy(), expected, rtol=1e-5)


def test_a_variance_forecasters_recent_returns_are_worth_something(garch):
    """On GARCH returns the variance head leans on the last days' returns: shuffling them
    raises the log score, with an interval above 0 (an MSE of the zero mean saw nothing)."""
    model = LSTMForecaster(**QUICK, target="variance", min_gain_se=0).fit(garch.iloc[:1200])
    origins = garch.index[1200:-1]
    losses = permuted_losses(model, garch, origins, horizon_target(garch, 1), seed=0)
    worth = importance_table(losses).set_index("input")
    assert (worth["metric"] == "log score").all() and worth["share"].isna().all()
    assert worth.loc["returns", "low"] > 0 and worth.loc["returns, lags 1-5", "low"] > 0, worth
    point = importance_table(
        permuted_losses(LSTMForecaster(**QUICK).fit(garch.iloc[:1200]), garch, origins,
                        horizon_target(garch, 1), seed=0)
    )  # fmt: skip
    assert (point["metric"] == "MSE").all() and point["share"].notna().all()
    assert isinstance(worth, pd.DataFrame)
