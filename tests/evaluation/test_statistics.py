"""Metrics, the Diebold-Mariano test and the strategy figures against independent computations."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import signal as sps_signal
from scipy import stats as sps

from lstm_forecast.evaluation import metrics
from lstm_forecast.evaluation.stats import (
    diebold_mariano,
    diebold_mariano_from_differential,
    newey_west_variance,
    pesaran_timmermann,
    verdict,
)
from lstm_forecast.evaluation.strategy import performance, strategy_returns


def test_error_metrics_by_hand():
    y, f = np.array([0.01, -0.02, 0.03]), np.array([0.0, -0.01, 0.01])
    assert metrics.rmse(y, f) == pytest.approx(np.sqrt((0.01**2 + 0.01**2 + 0.02**2) / 3))
    assert metrics.mae(y, f) == pytest.approx(0.04 / 3)
    # 1 - SSE / SST against zero and against a benchmark
    assert metrics.oos_r2(y, f, 0.0) == pytest.approx(1 - 0.0006 / 0.0014)
    assert metrics.oos_r2(y, f, 0.01) == pytest.approx(1 - 0.0006 / (0 + 0.0009 + 0.0004))


def test_hit_rate_matches_binomial_tail():
    y = np.array([1, -1, 1, 1, -1, 1, 0, 1, 1, -1.0])
    f = np.array([1, -1, 1, -1, 1, 1, 1, 1, 1, -1.0])
    rate, n, p = metrics.hit_rate(y, f)
    assert n == 9 and rate == pytest.approx(7 / 9)
    assert p == pytest.approx(sps.binom.sf(6, 9, 0.5))


def test_price_errors_and_mase():
    actual, forecast = np.array([100.0, 110.0]), np.array([90.0, 110.0])
    scale = metrics.naive_mae(np.array([100.0, 104.0, 102.0]), 1)  # (4 + 2) / 2 = 3
    out = metrics.price_errors(actual, forecast, scale)
    assert out["price_mae"] == 5 and out["mape"] == pytest.approx(5.0) and out["mase"] == 5 / 3
    assert out["price_rmse"] == pytest.approx(np.sqrt(50))


@pytest.mark.parametrize("lags", [0, 2, 5])
def test_newey_west_matches_statsmodels_hac(lags):
    d = np.random.default_rng(0).normal(size=200).cumsum() % 3
    fit = sm.OLS(d, np.ones_like(d)).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}
    )
    assert newey_west_variance(d, lags) / len(d) == pytest.approx(fit.bse[0] ** 2, rel=1e-10)


def test_diebold_mariano_by_hand():
    rng = np.random.default_rng(1)
    e2 = rng.normal(size=50)
    e1 = 0.9 * e2 + 0.1 * rng.normal(size=50)
    d = e1**2 - e2**2
    n, h = 50, 1
    dm = d.mean() / np.sqrt(np.mean((d - d.mean()) ** 2) / n)
    hln = dm * np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    result = diebold_mariano(e1, e2, h)
    assert result.statistic == pytest.approx(hln)
    assert result.p_better == pytest.approx(sps.t.cdf(hln, n - 1))
    assert result.p_better < 0.05  # e1 really is smaller


def test_diebold_mariano_identical_and_verdicts():
    e = np.arange(10.0)
    assert np.isnan(diebold_mariano(e, e).statistic)
    assert verdict(float("nan"), False) == "same forecasts as the random walk"
    assert verdict(0.03, True) == "beats the random walk (family-wise 5%)"
    assert verdict(0.03, False) == "no evidence once every test is counted"
    assert verdict(0.5, False) == "no evidence of skill"
    assert verdict(0.99, False) == "significantly worse than the random walk"
    assert verdict(float("nan"), False, same=False) == "too few test days to test"


def test_diebold_mariano_without_information_is_nan_not_a_huge_statistic():
    """A constant differential has no variance, and a test no longer than the horizon has
    no two terms that do not share a day: both once gave statistics of 1e7 to 1e16 from
    rounding (an equal-weight sum over n - 1 lags of demeaned terms is zero)."""
    noise = np.random.default_rng(0).normal(size=10)
    assert np.isnan(diebold_mariano_from_differential(np.full(50, 0.1)).statistic)
    assert np.isnan(diebold_mariano_from_differential(noise, horizon=20).statistic)
    assert np.isnan(diebold_mariano_from_differential(noise, horizon=10).statistic)
    assert np.isfinite(diebold_mariano_from_differential(noise, horizon=3).statistic)
    d = np.random.default_rng(1).normal(0.3, 1.0, 200)  # the test does not depend on units
    for h in (1, 5):
        small = diebold_mariano_from_differential(1e-12 * d, h)
        assert small.statistic == pytest.approx(diebold_mariano_from_differential(d, h).statistic)


def test_strategy_by_hand():
    forecast = np.array([1.0, -1.0, 1.0, 1.0])
    r = np.array([0.01, 0.02, -0.01, 0.03])
    daily, position = strategy_returns(forecast, r, "long_flat", cost_bps=10)
    np.testing.assert_allclose(position, [1, 0, 1, 1])
    np.testing.assert_allclose(daily, [0.009, -0.001, -0.011, 0.03])
    daily, position = strategy_returns(forecast, r, "long_short", cost_bps=10)
    np.testing.assert_allclose(daily, [0.009, -0.022, -0.012, 0.03])
    assert strategy_returns(np.zeros(2), r[:2], "long_short")[1].tolist() == [0, 0]
    perf = performance(np.array([0.1, -0.2, 0.05]), np.array([1.0, 1.0, 1.0]))
    wealth = np.exp(np.cumsum([0.1, -0.2, 0.05]))
    assert perf["max_drawdown"] == pytest.approx(1 - wealth[1] / wealth[0])
    assert perf["ann_return"] == pytest.approx(252 * np.mean([0.1, -0.2, 0.05]))
    assert perf["sharpe"] == pytest.approx(perf["ann_return"] / perf["ann_volatility"])
    assert perf["turnover"] == pytest.approx(252 / 3)


def test_pesaran_timmermann_by_hand():
    y = np.array([1, 1, -1, 1, -1, -1, 1, 1, -1, 1.0])
    f = np.array([1, 1, -1, -1, -1, 1, 1, 1, -1, 1.0])
    n, p_hat, py, px = 10, 0.8, 0.6, 0.6
    p_star = py * px + (1 - py) * (1 - px)  # 0.52
    var_p = p_star * (1 - p_star) / n
    var_star = (
        (2 * py - 1) ** 2 * px * (1 - px) / n
        + (2 * px - 1) ** 2 * py * (1 - py) / n
        + 4 * py * px * (1 - py) * (1 - px) / n**2
    )
    expected = (p_hat - p_star) / np.sqrt(var_p - var_star)
    statistic, p = pesaran_timmermann(y, f)
    assert statistic == pytest.approx(expected) and p == pytest.approx(sps.norm.sf(expected))


def test_pesaran_timmermann_gives_always_up_no_credit():
    y = np.random.default_rng(0).permutation(np.r_[np.ones(300), -np.ones(200)])  # 60% up
    statistic, p = pesaran_timmermann(y, np.ones(500))
    assert np.isnan(statistic) and np.isnan(p)
    assert metrics.hit_rate(y, np.ones(500))[2] < 0.05  # the coin test is fooled


def _hac_uniform_se2(y: np.ndarray, x: np.ndarray | None, lags: int) -> np.ndarray:
    design = np.ones((len(y), 1)) if x is None else sm.add_constant(x)
    fit = sm.OLS(y, design).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "kernel": "uniform", "use_correction": False}
    )
    return fit


def test_overlapping_dm_uses_equal_weights_over_h_minus_1_lags():
    rng = np.random.default_rng(3)
    e = rng.normal(size=(305, 2))
    e1 = np.convolve(e[:, 0], np.ones(5), "valid")  # MA(4): 5-day overlapping errors
    e2 = np.convolve(e[:, 1], np.ones(5), "valid")
    d, n, h = e1**2 - e2**2, len(e1), 5
    fit = _hac_uniform_se2(d, None, h - 1)
    hln = fit.tvalues[0] * np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    result = diebold_mariano(e1, e2, h)
    assert result.statistic == pytest.approx(hln, rel=1e-10)
    assert newey_west_variance(d, 4, "uniform") / n == pytest.approx(fit.bse[0] ** 2, rel=1e-10)


def test_overlapping_hit_rate_is_a_hac_t_test():
    rng = np.random.default_rng(4)
    y = np.convolve(rng.normal(size=404), np.ones(5), "valid")
    f = np.convolve(rng.normal(size=419), np.ones(20), "valid")
    rate, n, p = metrics.hit_rate(y, f, horizon=5)
    hit = (np.sign(y) == np.sign(f)).astype(float)
    fit = _hac_uniform_se2(hit - 0.5, None, 4)
    t = fit.tvalues[0] * np.sqrt((n + 1 - 10 + 20 / n) / n)
    assert rate == pytest.approx(hit.mean()) and n == len(y)
    assert p == pytest.approx(sps.t.sf(t, n - 1), rel=1e-9)
    assert metrics.hit_rate(y, f)[2] != p  # one-day forecasts keep the binomial test


def test_overlapping_pesaran_timmermann_uses_every_h_th_origin():
    rng = np.random.default_rng(5)
    y, f = rng.normal(size=103), rng.normal(size=103)
    # origins 102, 97, ..., 2: 21 non-overlapping 5-day windows
    assert pesaran_timmermann(y, f, horizon=5) == pesaran_timmermann(y[2::5], f[2::5])


@pytest.mark.slow
@pytest.mark.parametrize("rule", ["momentum", "moving average"])
def test_overlapping_tests_have_their_size(rule):
    """4,000 random walks, 5-day forecasts from a rule whose sign persists for weeks (the 20-day
    return, or the gap between a 20-day EMA and the price), so hits come in runs: each
    one-sided 5% test rejects in 3-7% of the samples, where the binomial test, which ignores
    the overlap, rejects in about 15%.

    DM compares f with -f, which have the same expected loss on a random walk. Its statistic
    is skewed here (f at t+k contains the outcome at t), so "f beats -f" and "-f beats f"
    reject in about 3% and 8% (2,000 samples, ``benchmarks/size.py``); their mean, the size
    of the pair, is about 5.5%.
    """
    rng = np.random.default_rng(0)
    h, n, samples = 5, 500, 4000
    rejects = {"dm": 0, "dm_mirror": 0, "hit": 0, "pt": 0, "binomial": 0}
    for _ in range(samples):
        walk = np.concatenate([[0.0], np.cumsum(rng.normal(size=n + 60))])
        origin = np.arange(50, 50 + n)
        y = walk[origin + h] - walk[origin]
        if rule == "momentum":
            f = walk[origin] - walk[origin - 20]
        else:
            ema = sps_signal.lfilter([2 / 21], [1, -19 / 21], walk, zi=[19 / 21 * walk[0]])[0]
            f = ema[origin] - walk[origin]
        rejects["dm"] += diebold_mariano(y - f, y + f, h).p_better < 0.05
        rejects["dm_mirror"] += diebold_mariano(y + f, y - f, h).p_better < 0.05
        rejects["hit"] += metrics.hit_rate(y, f, h)[2] < 0.05
        rejects["pt"] += pesaran_timmermann(y, f, h)[1] < 0.05
        rejects["binomial"] += metrics.hit_rate(y, f)[2] < 0.05
    rates = {k: v / samples for k, v in rejects.items()}
    rates["dm_pair"] = (rates["dm"] + rates["dm_mirror"]) / 2
    assert all(0.03 <= rates[k] <= 0.07 for k in ("dm_pair", "hit", "pt")), rates
    assert (
        0.01 <= min(rates["dm"], rates["dm_mirror"]) <= max(rates["dm"], rates["dm_mirror"]) <= 0.1
    )
    assert rates["binomial"] > 0.10, rates
