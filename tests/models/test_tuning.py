"""Model selection inside the training window: deterministic, causal, recorded."""

import json

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.data.simulate import simulate
from lstm_forecast.evaluation import BacktestSettings, run_backtest
from lstm_forecast.models import LSTMForecaster, check_forecaster
from lstm_forecast.models.tuning import inner_folds

QUICK = dict(tune=3, epochs=2, batch_size=128)


@pytest.fixture(scope="module")
def prices():
    return simulate("threshold", 900, seed=3)[0]


def test_same_seed_same_choice(prices):
    a = LSTMForecaster(**QUICK, seed=4).fit(prices)
    b = LSTMForecaster(**QUICK, seed=4).fit(prices)
    assert a.tuning_.best == b.tuning_.best and len(a.tuning_.trials) == 3
    assert a.lookback == a.tuning_.best["lookback"]  # the model runs what was chosen
    pd.testing.assert_frame_equal(a.predict(prices), b.predict(prices))


@pytest.mark.parametrize("horizon", [1, 5])
def test_inner_folds_walk_forward_with_a_gap(horizon):
    dates = pd.bdate_range("2020-01-01", periods=300)
    folds = inner_folds(dates, folds=2, share=0.3, horizon=horizon)
    assert len(folds) == 2
    for train_end, valid in folds:
        assert dates.get_loc(valid[0]) - dates.get_loc(train_end) == horizon + 1
        assert valid[-1] <= dates[-1]
    assert folds[0][1][-1] < folds[1][1][0]  # blocks in time order, not overlapping
    with pytest.raises(ValueError, match="fewer inner folds"):
        inner_folds(dates[:40], folds=2, share=0.3, horizon=1)


@pytest.mark.parametrize(
    ("ensemble", "distribution"),
    [(1, "none"), (2, "none"), (2, "t")],
    ids=["one", "tuned-ensemble", "tuned-ensemble-of-distributions"],
)
def test_a_tuned_model_is_causal(prices, ensemble, distribution):
    """Changing prices after T changes no forecast at or before T, the tuning included (and
    the forecast distribution, for a distribution head)."""
    check_forecaster(
        lambda: LSTMForecaster(
            tune=2, epochs=1, batch_size=128, ensemble=ensemble, distribution=distribution
        ),
        prices.iloc[:500],
    )


def test_backtest_records_each_refits_choice(prices):
    settings = BacktestSettings(
        models=("lstm",),
        test_days=120,
        refit_every=60,
        model_settings={"lstm": {**QUICK, "tune": 2}},
    )
    result = run_backtest(prices, settings)
    lstm = result.refits[result.refits["model"] == "lstm"]
    assert len(lstm) == 2 and (lstm["trials"] == 2).all()
    for text in lstm["tuned"]:
        assert set(json.loads(text)) == {
            "lookback",
            "hidden_size",
            "num_layers",
            "dropout",
            "learning_rate",
            "weight_decay",
            "head_lags",
            "head_activation",
        }


def test_trials_in_batches_choose_the_same_however_they_are_run(prices, monkeypatch):
    """A batch's trials are independent: scored in any order (or on any worker), the study
    chooses the same settings; pruning compares with the trials finished before the batch."""
    from lstm_forecast.models import parallel, tuning

    settings = dict(QUICK, tune=6, seed=1)
    serial = LSTMForecaster(**settings).fit(prices.iloc[:600]).tuning_
    seen = []

    def backwards(fn, shared, items):  # score the batch last to first, return in order
        seen.append(len(items))
        return [fn(shared, item) for item in items[::-1]][::-1]

    monkeypatch.setattr(parallel, "task_map", backwards)
    other = LSTMForecaster(**settings).fit(prices.iloc[:600]).tuning_
    assert seen == [tuning.TRIAL_BATCH, 6 - tuning.TRIAL_BATCH]
    assert other.best == serial.best and other.trials == serial.trials


def test_a_trial_worse_than_the_median_is_pruned(prices):
    from lstm_forecast.features import horizon_target
    from lstm_forecast.models.tuning import _medians, _score, inner_folds

    blocks = inner_folds(prices.index, 2, 0.3, 1)
    target = horizon_target(prices, 1)
    shared = (prices, dict(epochs=1, batch_size=128), blocks, target, LSTMForecaster, "mse")
    params = dict(lookback=20, hidden_size=16, num_layers=1, dropout=0.0)
    params |= dict(learning_rate=1e-3, weight_decay=1e-6, head_lags=10)
    score, path = _score(shared, (params, None))
    assert score == path[-1] and len(path) == 2
    assert _medians([path, path]) is None  # pruning starts after three finished trials
    low = [[p / 2 for p in path]] * 3
    pruned, first = _score(shared, (params, _medians(low)))
    assert pruned is None and first == path[:1]  # stopped after the first inner fold


def test_the_first_trial_is_the_models_own_settings(prices):
    """Tuning starts from the settings the user gave (brought into the space), so it departs
    from them only for a trial that scores better on the inner folds."""
    from lstm_forecast.models.tuning import into_space

    own = dict(lookback=40, hidden_size=20, dropout=0.0, learning_rate=2e-3, weight_decay=0.0)
    model = LSTMForecaster(**QUICK, **own, seed=2).fit(prices)
    first = model.tuning_.trials[0]
    assert first["state"] == "complete"
    assert first["params"] == into_space(LSTMForecaster(**own).settings())
    assert first["params"]["hidden_size"] == 16  # the nearest choice to 20
    assert first["params"]["weight_decay"] == 1e-6  # 0 is clipped to the range's low end
    assert first["params"]["lookback"] == 40 and first["params"]["head_lags"] == 10
    assert first["params"]["head_activation"] == "relu"
    assert into_space({"lookback": 50, "learning_rate": 1.0}) == {
        "lookback": 40,  # as near 40 as 60: the first
        "learning_rate": 1e-2,
    }
    assert into_space({"head_activation": "gelu"}) == {"head_activation": "gelu"}
    assert into_space({"head_activation": "tanh"}) == {"head_activation": "relu"}


def test_the_second_trial_is_the_same_with_the_heads_other_units(prices):
    """The head's units decide between the product and the threshold rule (docs/power.md):
    the second trial is the model's own settings with the other activation, and there is no
    such trial when the head does not read the last returns (the units would not be used)."""
    from lstm_forecast.models.tuning import first_trials, into_space

    model = LSTMForecaster(**{**QUICK, "tune": 2}, head_activation="gelu", seed=3).fit(prices)
    first, second = (trial["params"] for trial in model.tuning_.trials)
    assert first == into_space(LSTMForecaster(head_activation="gelu").settings())
    assert second == {**first, "head_activation": "relu"}
    linear = into_space(LSTMForecaster(head_lags=0).settings())
    assert first_trials(LSTMForecaster(head_lags=0).settings()) == [linear]
    assert first_trials(None) == []


def test_an_ensembles_trials_are_single_networks(prices, monkeypatch):
    """With --ensemble K the tuner scores each trial with one network; the K members are
    trained once, with the chosen settings."""
    from lstm_forecast.models import tuning

    bases, score = [], tuning._score

    def spy(shared, proposal):
        bases.append(shared[1])
        return score(shared, proposal)

    monkeypatch.setattr(tuning, "_score", spy)
    model = LSTMForecaster(**{**QUICK, "tune": 2}, ensemble=2, seed=1).fit(prices.iloc[:500])
    assert len(bases) == 2 and all(base["ensemble"] == 1 for base in bases)
    assert model.ensemble == 2 and len(model.members_) == 2
    assert model.lookback == model.tuning_.best["lookback"]


@pytest.mark.parametrize(
    ("settings", "metric"),
    [
        ({"distribution": "t"}, "log score"),
        ({"distribution": "normal"}, "log score"),
        ({"target": "variance"}, "qlike"),
    ],
    ids=["t", "normal", "variance"],
)
def test_a_distribution_is_tuned_by_its_own_score_and_causal(prices, settings, metric):
    """A distribution head is scored by the log score of its forecasts on the inner folds, a
    variance head by QLIKE against the realised proxy: values checked against the scores
    computed here from the chosen trial's refits, and the contract (distribution included)
    holds for the tuned model."""
    from lstm_forecast.evaluation.scoring import log_score, qlike
    from lstm_forecast.features import horizon_target
    from lstm_forecast.features.volatility import proxy_scale, realized_variance, variance_proxy

    data = prices.iloc[:600]
    model = LSTMForecaster(**QUICK, seed=2, **settings).fit(data)
    assert model.tuning_.metric == metric and len(model.tuning_.trials) == 3
    again = LSTMForecaster(**QUICK, seed=2, **settings).fit(data)
    assert again.tuning_.best == model.tuning_.best
    # the first trial is the model's own settings: its score, recomputed independently
    first = model.tuning_.trials[0]
    own = {**dict(QUICK, seed=2, **settings), **first["params"], "tune": 0}
    if metric == "qlike":
        daily, _ = variance_proxy(data)
        outcome = realized_variance(daily * proxy_scale(data, daily), 1)
    else:
        outcome = horizon_target(data, 1)
    scores = []
    for train_end, valid in inner_folds(data.index, 2, 0.3, 1):
        fitted = LSTMForecaster(**own).fit(data.loc[:train_end])
        dist = fitted.predict_distribution(data.loc[: valid[-1]], valid)
        y = outcome.loc[valid].to_numpy()[:, 0]
        loc, sd, df = (dist[k].to_numpy()[:, 0] for k in ("mean", "sd", "df"))
        if metric == "qlike":
            keep = y > 0
            scores.append(qlike(y[keep], sd[keep] ** 2).mean())
        else:
            scores.append(np.nanmean(log_score(y, loc, sd, df)))  # the last label is unknown
    assert first["score"] == pytest.approx(sum(scores) / 2, rel=1e-9)
    check_forecaster(lambda: LSTMForecaster(tune=2, epochs=1, batch_size=128, **settings),
                     prices.iloc[:500])  # fmt: skip
