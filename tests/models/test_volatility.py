"""The volatility baselines: the contract (causality included, for the distribution too) and
each recursion against an independent computation."""

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from scipy import stats

from lstm_forecast.data import read_prices
from lstm_forecast.data.ohlcv import attach, ohlcv_of
from lstm_forecast.features.volatility import proxy_scale, realized_variance, variance_proxy
from lstm_forecast.models import check_forecaster, make_forecaster
from lstm_forecast.models.registry import VOLATILITY_MODELS
from lstm_forecast.models.volatility import (
    GARCHForecaster,
    HARForecaster,
    ewma_variance,
    garch_variance,
    har_design,
)


@pytest.fixture(scope="module")
def sp500():
    return read_prices("sp500").iloc[-900:]


@pytest.fixture(scope="module")
def panel():
    return read_prices("sp500-stocks", tickers=["JNJ", "XOM"]).iloc[-700:]


@pytest.mark.parametrize("name", VOLATILITY_MODELS)
def test_contract_on_a_panel_and_on_ohlc(name, panel, sp500):
    check_forecaster(lambda: make_forecaster(name), panel)
    check_forecaster(lambda: make_forecaster(name, horizon=5), sp500)


@pytest.mark.parametrize("name", ["har", "garch"])
def test_changing_later_bars_changes_no_earlier_forecast(name, sp500):
    train, cut = sp500.iloc[:600], sp500.index[750]
    bars = ohlcv_of(sp500).copy()
    later = bars.index > cut
    rng = np.random.default_rng(0)
    for column in ("open", "high", "low", "close"):
        bars.loc[later, column] *= np.exp(rng.normal(0, 0.02, later.sum()))
    bars.loc[later, "high"] = bars.loc[later, ["open", "high", "low", "close"]].max(axis=1)
    bars.loc[later, "low"] = bars.loc[later, ["open", "high", "low", "close"]].min(axis=1)
    changed = sp500.copy()
    changed.loc[later] = bars.loc[later, ["close"]].to_numpy()
    attach(changed, bars)
    origins = sp500.index[600:]
    model = make_forecaster(name).fit(train)
    before = model.predict_distribution(sp500, origins)["sd"]
    after = model.predict_distribution(changed, origins)["sd"]
    early = origins <= cut
    pd.testing.assert_frame_equal(after[early], before[early], check_exact=True)
    assert not after[~early].equals(before[~early])


def test_garch_recursion_matches_arch_filter(sp500):
    returns = np.log(sp500.iloc[:, 0]).diff()
    r = returns.dropna().to_numpy()
    s2 = float(np.var(r, ddof=1))
    fit = arch_model(100 * r, mean="Zero", o=1, dist="t", rescale=False).fit(
        disp="off", backcast=1e4 * s2
    )
    p = fit.params
    ours = garch_variance(
        returns.to_numpy(), p["omega"] / 1e4, p["alpha[1]"], p["gamma[1]"], p["beta[1]"], s2
    )
    # ours[t] is made at row t for the return of row t+1; arch's is indexed by that return
    theirs = (fit.conditional_volatility / 100) ** 2
    np.testing.assert_allclose(ours[:-1], theirs, rtol=1e-10)


def test_garch_h_day_variance_is_the_sum_of_arch_multi_step_forecasts(sp500):
    train = sp500.iloc[:800]
    model = GARCHForecaster(asymmetric=True, horizon=5).fit(train)
    ours = model.predict_distribution(train, train.index[-1:])["sd"].iloc[0, 0] ** 2
    p = model.params_["SP500"]
    r = np.log(train.iloc[:, 0]).diff().dropna().to_numpy()
    am = arch_model(100 * r, mean="Zero", o=1, dist="t", rescale=False)
    fixed = am.fix([p["omega"] * 1e4, p["alpha"], p["gamma"], p["beta"], p["nu"]])
    # arch's fixed-parameter filter uses its own backcast; the states agree after 800 days
    theirs = fixed.forecast(horizon=5, reindex=False).variance.to_numpy()[-1].sum() / 1e4
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_ewma_by_hand():
    r = np.array([np.nan, 0.01, -0.02, 0.0])
    out = ewma_variance(r, 1e-4, 0.94)
    v1 = 0.94 * 1e-4 + 0.06 * 1e-4
    v2 = 0.94 * v1 + 0.06 * 4e-4
    np.testing.assert_allclose(out, [1e-4, v1, v2, 0.94 * v2])


def test_har_matches_least_squares_of_statsmodels(sp500):
    import statsmodels.api as sm

    model = HARForecaster().fit(sp500)
    raw, kind = variance_proxy(sp500)
    assert kind == "garman-klass"
    log_proxy = np.log(raw.iloc[:, 0].clip(lower=model.floor_.iloc[0]))
    x = har_design(log_proxy)
    y = log_proxy.shift(-1).rename("y")
    data = pd.concat([x, y], axis=1).dropna()
    ols = sm.OLS(data["y"], sm.add_constant(data[x.columns])).fit()
    np.testing.assert_allclose(model.coef_["SP500"], ols.params.to_numpy(), rtol=1e-8)
    assert model.resid_var_["SP500"] == pytest.approx(ols.mse_resid)


def test_proxy_garman_klass_by_hand_and_its_h_day_sum(sp500):
    raw, _ = variance_proxy(sp500)
    bars = ohlcv_of(sp500)
    t = 10
    o, h, lo, c = (bars[k].iloc[t] for k in ("open", "high", "low", "close"))
    prev = bars["close"].iloc[t - 1]
    expected = (
        np.log(o / prev) ** 2 + 0.5 * np.log(h / lo) ** 2 - (2 * np.log(2) - 1) * np.log(c / o) ** 2
    )
    assert raw.iloc[t, 0] == pytest.approx(expected)
    ahead = realized_variance(raw, 3)
    assert ahead.iloc[t, 0] == pytest.approx(raw.iloc[t + 1 : t + 4, 0].sum())
    assert ahead.iloc[-3:].isna().all().all()
    assert proxy_scale(sp500, raw).iloc[0] > 1  # the index's opens hide the overnight moves


def test_closes_only_proxy_is_the_squared_return(panel):
    raw, kind = variance_proxy(panel)
    assert kind == "squared returns"
    pd.testing.assert_frame_equal(raw, np.log(panel).diff() ** 2)


def test_a_point_model_refuses_predict_distribution(panel):
    model = make_forecaster("ols").fit(panel)
    with pytest.raises(ValueError, match="forecasts a point"):
        model.predict_distribution(panel)


def test_on_simulation_garch_intervals_cover_and_a_constant_variance_is_not_beaten():
    from lstm_forecast.data.simulate import simulate_volatility
    from lstm_forecast.evaluation import BacktestSettings, run_backtest
    from lstm_forecast.evaluation.calibration import volatility_table

    settings = dict(models=("garch", "ewma", "har"), target="volatility", test_days=750)
    prices, _, _ = simulate_volatility("garch_t", days=2500, seed=1)
    table = volatility_table(run_backtest(prices, BacktestSettings(**settings)).predictions, 1)
    garch = table.set_index("model").loc["garch"]
    assert 0.87 <= garch["cov90"] <= 0.93 and garch["kupiec_p90"] > 0.05
    assert garch["qlike_dm_p"] < 0.01  # volatility clusters: GARCH beats the naive variance
    prices, _, _ = simulate_volatility("constant", days=2500, seed=1, nu=np.inf)
    table = volatility_table(run_backtest(prices, BacktestSettings(**settings)).predictions, 1)
    assert (table["qlike_dm_p"].dropna() > 0.01).all()


def test_quantiles_at_any_levels(sp500):
    model = make_forecaster("garch").fit(sp500.iloc[:700])
    q = model.predict_quantiles(sp500, [0.01, 0.5, 0.99], sp500.index[700:])
    assert list(q.columns.get_level_values("level").unique()) == [0.01, 0.5, 0.99]
    low, mid, high = (q[level]["SP500"] for level in (0.01, 0.5, 0.99))
    assert (low < mid).all() and (mid < high).all() and (mid == 0).all()  # zero-mean t
    dist = model.predict_distribution(sp500, sp500.index[700:])
    nu = dist["df"].iloc[0, 0]
    expected = dist["sd"]["SP500"] * np.sqrt((nu - 2) / nu) * stats.t.ppf(0.99, nu)
    np.testing.assert_allclose(high, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="quantile levels"):
        model.predict_quantiles(sp500, [0.0, 0.5])
