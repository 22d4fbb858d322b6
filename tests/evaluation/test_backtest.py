"""The backtest end to end: causality, parallel = serial, no false skill, real skill found."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.data import read_prices
from lstm_forecast.evaluation.backtest import BacktestSettings, run_backtest
from lstm_forecast.evaluation.luck import luck_table, plain_words
from lstm_forecast.evaluation.summary import _configurations, metrics_table

# The linear head (head_lags=0): these tests are about the verdicts, and on 20 short epochs
# the linear head finds a linear component more surely than one that also trains a hidden
# layer on the lags (R² 0.075 against 0.062 pooled in the planted-component test below).
SMALL_LSTM = {"lstm": dict(lookback=10, hidden_size=16, epochs=20, learning_rate=3e-3, head_lags=0)}


def simulated(phi, n=3000, seed=0, tickers=("X",)):
    rng = np.random.default_rng(seed)
    data = {}
    for k, ticker in enumerate(tickers):
        noise, r = rng.normal(0, 0.01, n), np.zeros(n)
        for t in range(1, n):
            r[t] = phi * r[t - 1] + noise[t]
        data[ticker] = 100 * (k + 1) * np.exp(np.cumsum(r))
    return pd.DataFrame(data, index=pd.bdate_range("2005-01-03", periods=n))


@pytest.fixture(scope="module")
def stocks():
    return read_prices("sp500-stocks", tickers=["KO", "JNJ"]).iloc[-1200:]


def test_causality_end_to_end(stocks):
    settings = dict(
        models=("lstm", "ema", "kalman", "ols"),
        test_days=200,
        refit_every=50,
        model_settings={"lstm": dict(lookback=10, hidden_size=4, epochs=2)},
    )
    before = run_backtest(stocks, BacktestSettings(**settings)).predictions
    cut = stocks.index[-120]
    changed = stocks.copy()
    changed.loc[changed.index > cut] *= np.exp(
        np.random.default_rng(0).normal(0, 0.03, changed.loc[changed.index > cut].shape)
    )
    after = run_backtest(changed, BacktestSettings(**settings)).predictions
    early_b = before[before["origin"] <= cut].reset_index(drop=True)
    early_a = after[after["origin"] <= cut].reset_index(drop=True)
    assert len(early_b) > 0
    pd.testing.assert_series_equal(early_a["forecast"], early_b["forecast"], check_exact=True)


def test_jobs_do_not_change_results(stocks):
    settings = dict(
        models=("lstm", "drift", "sma"),
        test_days=120,
        refit_every=40,
        model_settings={"lstm": dict(lookback=10, hidden_size=4, epochs=2)},
    )
    one = run_backtest(stocks, BacktestSettings(**settings, jobs=1)).predictions
    two = run_backtest(stocks, BacktestSettings(**settings, jobs=2)).predictions
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert set(one["model"]) == {"naive", "lstm", "drift", "sma"}  # naive always included
    assert list(one.columns) == [
        "origin",
        "fold",
        "date",
        "ticker",
        "model",
        "forecast",
        "actual",
        "forecast_price",
        "actual_price",
    ]


def test_random_walk_shows_no_significant_skill():
    prices = simulated(0.0, seed=3)
    result = run_backtest(
        prices, BacktestSettings(test_days=500, refit_every=125, model_settings=SMALL_LSTM)
    )
    table = metrics_table(result)
    others = table[table["model"] != "naive"]
    assert (others["dm_p"] > 0.01).all(), others[["model", "dm_p"]]
    assert not others["stepm"].any() and not others["verdict"].str.startswith("beats").any()
    assert table["spa_p"].iloc[0] > 0.05 and table.set_index("model").loc["naive", "in_mcs"]
    noise = 3 / np.sqrt(others["hit_n"])  # three standard errors of a fair coin
    assert (abs(others["hit_rate"] - 0.5) < noise).all(), others[["model", "hit_rate"]]


def test_planted_component_is_found():
    prices = simulated(0.3, seed=4, tickers=("X", "Y"))
    result = run_backtest(
        prices,
        BacktestSettings(
            models=("lstm",), test_days=500, refit_every=125, model_settings=SMALL_LSTM
        ),
    )
    flat = metrics_table(result)
    table = flat.set_index(["model", "ticker"])
    pooled = table.loc[("lstm", "ALL")]
    assert pooled["dm_p"] < 0.01 and pooled["r2_vs_zero"] > 0.03
    assert pooled["verdict"] == "beats the random walk (family-wise 5%)" and pooled["stepm"]
    assert table.loc[("lstm", "X"), "stepm"] and table.loc[("lstm", "Y"), "stepm"]
    assert pooled["spa_p"] < 0.05 and not table.loc[("naive", "ALL"), "in_mcs"]
    assert pooled["dm_p_holm"] >= pooled["dm_p"]
    luck = luck_table(result, flat).set_index("ticker")
    assert luck.loc["ALL", "stepm"] == "lstm" and luck.loc["ALL", "spa_p"] < 0.05
    sentence = plain_words(luck.reset_index(), flat)
    assert (
        "still beat it at the 5% family-wise level: lstm on X; lstm on Y; lstm on ALL" in sentence
    )


def test_configurations_count_every_tuning_trial():
    refits = pd.DataFrame({"model": ["lstm", "lstm", "ols", "ols"], "trials": [5, 4, None, None]})
    result = SimpleNamespace(
        settings=BacktestSettings(models=("naive", "lstm", "ols")), refits=refits
    )
    assert _configurations(result) == 1 + 9  # ols, and 9 LSTM configurations tried
    result.refits = refits.assign(trials=None)
    assert _configurations(result) == 2


def test_history_too_short_for_lookback_and_test_window(stocks):
    from lstm_forecast.data import DataError

    short = stocks.iloc[-300:]
    with pytest.raises(DataError, match="lookback 60 and 250 test days need at least 312"):
        run_backtest(short, BacktestSettings(models=("lstm",), test_days=250))


def test_plain_words_count_one_comparison_in_the_singular():
    luck = pd.DataFrame(
        {"ticker": ["SP500"], "stepm": [""], "spa_p": [0.03], "best_sharpe": [np.nan]}
    )
    one = pd.DataFrame({"model": ["naive", "lstm"], "dm_p": [np.nan, 0.04], "stepm": [0, 0]})
    one["stepm"] = one["stepm"].astype(bool)
    sentence = plain_words(luck, one)
    assert sentence.startswith("After its one comparison with the random walk, no model beats")
    assert "1 unadjusted DM p-value below 5% is what luck gives when 1 is tried." in sentence
    two = pd.concat([one, one.iloc[[1]].assign(model="ols")], ignore_index=True)
    assert plain_words(luck, two).startswith("After counting all 2 comparisons")


@pytest.mark.parametrize(
    ("sharpe", "dsr", "said"),
    [
        (1.2, 0.10, "(drift long/flat on A, Sharpe 1.20) does not beat the Sharpe of 1.40"),
        (1.9, 0.30, "Sharpe 1.90) is above the Sharpe of 1.40 that the best of 8 skill-less "
         "tries would reach on average, but by less than the noise of its days allows"),
        (2.5, 0.97, "Sharpe 2.50) beats the Sharpe of 1.40"),
    ],
)  # fmt: skip
def test_plain_words_say_above_luck_but_within_its_noise(sharpe, dsr, said):
    """A Sharpe ratio above luck's average best that the DSR does not pass is not said to
    fall short of it."""
    luck = pd.DataFrame(
        {
            "ticker": ["A"],
            "stepm": [""],
            "spa_p": [0.4],
            "best_strategy": ["drift long/flat"],
            "best_sharpe": [sharpe],
            "best_dsr": [dsr],
            "luck_sharpe": [1.4],
            "sharpe_trials": [8],
        }
    )
    table = pd.DataFrame({"model": ["naive", "drift"], "dm_p": [np.nan, 0.3], "stepm": False})
    assert said in plain_words(luck, table)


def test_a_market_open_every_day_is_annualised_with_365_days():
    """Trading figures and the luck Sharpe use the data's own year: 365 rows for data with
    weekends (crypto), 252 for trading days; computed here by hand from the daily returns."""
    from lstm_forecast.data.summary import periods_per_year, summarize
    from lstm_forecast.evaluation.overfitting import expected_max_sharpe
    from lstm_forecast.evaluation.summary import buy_and_hold

    days = pd.date_range("2020-01-01", periods=700, freq="D")
    steps = np.random.default_rng(3).normal(0.001, 0.03, len(days))
    prices = pd.DataFrame({"BTC": 100 * np.exp(np.cumsum(steps))}, index=days)
    assert periods_per_year(days) == 365
    assert periods_per_year(pd.bdate_range("2020-01-01", periods=9)) == 252
    returns = np.log(prices["BTC"]).diff().dropna()
    assert summarize(prices).loc["BTC", "ann. volatility"] == pytest.approx(
        returns.std() * np.sqrt(365)
    )
    month = summarize(prices.iloc[:21]).loc["BTC"]  # 20 returns: annualised; 19: not
    assert month["ann. return"] == pytest.approx(returns.iloc[:20].mean() * 365)
    short = summarize(prices.iloc[:20]).loc["BTC"]
    assert np.isnan(short["ann. return"]) and np.isnan(short["ann. volatility"])
    settings = BacktestSettings(models=("drift",), test_days=200, refit_every=100)
    result = run_backtest(prices, settings)
    held = buy_and_hold(result).iloc[0]
    tested = np.log(prices["BTC"]).diff().shift(-1).loc[result.predictions["origin"].unique()]
    assert held["ann_volatility"] == pytest.approx(tested.std() * np.sqrt(365), rel=1e-9)
    table = metrics_table(result)
    trials = table["sharpe_trials"].iloc[0]
    luck = expected_max_sharpe(trials, 1 / (len(tested) - 1)) * np.sqrt(365)
    assert table["luck_sharpe"].iloc[0] == pytest.approx(luck)


def test_tries_before_the_run_are_counted_in_the_deflated_sharpe_ratio():
    """--prior-tries N: the configurations a user tried on this data before this run count
    like its own models, N x 2 rules x groups more tries; the forecasts, the Sharpe ratios
    and the comparisons with the random walk do not change."""
    from lstm_forecast.data.simulate import simulate
    from lstm_forecast.evaluation.overfitting import deflated_sharpe, sharpe_moments
    from lstm_forecast.evaluation.strategy import strategy_returns

    prices = simulate("ar1", 700, seed=4)[0]
    base = dict(models=("drift", "ols"), test_days=200, refit_every=100)
    alone = run_backtest(prices, BacktestSettings(**base))
    after = run_backtest(prices, BacktestSettings(**base, prior_tries=20))
    pd.testing.assert_frame_equal(after.predictions, alone.predictions)
    first, second = metrics_table(alone), metrics_table(after)
    assert set(first["sharpe_trials"]) == {2 * 2} and set(second["sharpe_trials"]) == {22 * 2}
    for column in ("lf_sharpe", "dm_p", "spa_p", "stepm"):
        pd.testing.assert_series_equal(first[column], second[column])
    # the DSR of the tried rules, recomputed with N = 44 from the daily returns
    row = second[second["model"] == "ols"].iloc[0]
    rows = after.predictions[after.predictions["model"] == "ols"].sort_values("origin")
    daily, _ = strategy_returns(rows["forecast"], rows["actual"], "long_flat", 5.0)
    sr, n, skew, kurt = sharpe_moments(daily)
    assert row["lf_dsr"] == pytest.approx(deflated_sharpe(sr, n, 44, skew, kurt))
    assert row["lf_dsr"] <= first[first["model"] == "ols"].iloc[0]["lf_dsr"]
    with pytest.raises(ValueError, match="--prior-tries must be a whole number >= 0"):
        run_backtest(prices, BacktestSettings(**base, prior_tries=-1))


def test_models_named_in_one_string_are_split_as_the_cli_splits_them():
    assert BacktestSettings(models="lstm, ols").models == ("lstm", "ols")
    assert BacktestSettings(models=("drift",)).models == ("drift",)
