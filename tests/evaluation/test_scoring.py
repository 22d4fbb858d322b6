"""Distribution, interval and variance scores against values worked by hand or computed
another way (numerical integration, direct likelihoods, simulation)."""

import itertools
import math

import numpy as np
import pytest
from scipy import integrate, stats

from lstm_forecast.evaluation import scoring


def test_kupiec_matches_the_textbook_case():
    # 24 breaches of a 99% VaR in 1,000 days
    lr, p = scoring.kupiec(24, 1000, 0.01)
    by_hand = -2 * (
        976 * math.log(0.99) + 24 * math.log(0.01) - 976 * math.log(0.976) - 24 * math.log(0.024)
    )
    assert lr == pytest.approx(by_hand, rel=1e-12)
    assert lr == pytest.approx(14.2, abs=0.05)
    assert p == pytest.approx(0.00016, abs=0.00001)
    assert scoring.kupiec(10, 1000, 0.01) == (0.0, 1.0)  # exactly the expected rate
    lr0, _ = scoring.kupiec(0, 250, 0.01)  # no breach at all: 0 log 0 = 0
    assert lr0 == pytest.approx(-2 * 250 * math.log(0.99))


def test_christoffersen_independence_by_hand():
    hits = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0])
    pairs = list(itertools.pairwise(hits))
    n = {(i, j): sum(1 for p in pairs if p == (i, j)) for i in (0, 1) for j in (0, 1)}
    assert n == {(0, 0): 5, (0, 1): 3, (1, 0): 3, (1, 1): 3}
    pi, pi01, pi11 = 6 / 14, 3 / 8, 3 / 6
    null = 8 * math.log(1 - pi) + 6 * math.log(pi)
    alt = 5 * math.log(1 - pi01) + 3 * math.log(pi01) + 3 * math.log(1 - pi11) + 3 * math.log(pi11)
    lr, p = scoring.christoffersen(hits)
    assert lr == pytest.approx(-2 * (null - alt), rel=1e-12)
    assert p == pytest.approx(stats.chi2.sf(lr, 1))
    test = scoring.coverage_test(hits, 0.9)
    assert test.misses == 6 and test.n == 15 and test.coverage == pytest.approx(9 / 15)
    assert test.lr_cc == pytest.approx(test.lr_pof + test.lr_ind)
    assert test.conditional_p == pytest.approx(stats.chi2.sf(test.lr_cc, 2))


def test_clustered_misses_fail_independence_and_scattered_ones_pass():
    clustered = np.zeros(1000, int)
    for start in range(0, 1000, 100):
        clustered[start : start + 5] = 1  # 5% misses, in runs of five
    assert scoring.coverage_test(clustered, 0.95).kupiec_p > 0.5
    assert scoring.coverage_test(clustered, 0.95).independence_p < 1e-6
    # independent misses: the asymptotic test rejects near its level (about 8% at 5% with
    # 1,000 days at a 5% rate, where few double misses make the chi-square rough)
    rng = np.random.default_rng(3)
    p = [scoring.christoffersen(rng.random(1000) < 0.05)[1] for _ in range(400)]
    assert 0.02 < np.mean(np.array(p) < 0.05) < 0.11


def _crps_by_integration(y, dist):
    f = lambda x: (dist.cdf(x) - (y <= x)) ** 2  # noqa: E731
    lo, hi = dist.ppf(1e-12), dist.ppf(1 - 1e-12)
    return sum(integrate.quad(f, a, b, limit=200)[0] for a, b in ((lo, y), (y, hi)))


def test_crps_and_log_score_against_integration_and_densities():
    y, loc, sd = 0.03, 0.001, 0.02
    normal = stats.norm(loc, sd)
    by_integration = _crps_by_integration(y, normal)
    assert scoring.crps(y, loc, sd, np.inf) == pytest.approx(by_integration, rel=1e-6)
    assert scoring.log_score(y, loc, sd, np.inf) == pytest.approx(-normal.logpdf(y))
    nu = 4.0
    t = stats.t(nu, loc, sd * math.sqrt((nu - 2) / nu))
    assert t.std() == pytest.approx(sd)
    assert scoring.crps(y, loc, sd, nu) == pytest.approx(_crps_by_integration(y, t), rel=1e-6)
    assert scoring.log_score(y, loc, sd, nu) == pytest.approx(-t.logpdf(y))


def test_quantiles_cdf_and_pinball():
    assert scoring.quantile(0.975, 0.0, 1.0, np.inf) == pytest.approx(1.959964, abs=1e-6)
    nu = 5.0
    q = scoring.quantile(0.99, 0.01, 0.02, nu)
    assert q == pytest.approx(0.01 + 0.02 * math.sqrt(3 / 5) * stats.t.ppf(0.99, 5))
    assert scoring.cdf(q, 0.01, 0.02, nu) == pytest.approx(0.99)
    # pinball: y above the quantile costs q per unit, below costs (1 - q)
    assert scoring.pinball(1.0, 0.0, 0.9) == pytest.approx(0.9)
    assert scoring.pinball(-1.0, 0.0, 0.9) == pytest.approx(0.1)
    # the pinball loss is minimised by the true quantile
    rng = np.random.default_rng(0)
    y = rng.standard_normal(200_000)
    losses = {c: scoring.pinball(y, c, 0.9).mean() for c in (1.0, 1.2816, 1.6)}
    assert min(losses, key=losses.get) == 1.2816


def test_intervals_cover_at_their_level_on_draws_from_the_forecast():
    rng = np.random.default_rng(1)
    nu, sd = 5.0, 0.01
    y = stats.t.rvs(nu, scale=sd * math.sqrt(3 / 5), size=40_000, random_state=rng)
    for level in scoring.LEVELS:
        misses = scoring.interval_misses(y, 0.0, sd, nu, level)
        assert misses.mean() == pytest.approx(1 - level, abs=0.006)
        breaches = scoring.var_breaches(y, 0.0, sd, nu, level)
        assert breaches.mean() == pytest.approx(1 - level, abs=0.005)
    pit = scoring.cdf(y, 0.0, sd, nu)
    assert stats.kstest(pit, "uniform").pvalue > 0.01


def test_qlike_and_variance_mse_by_hand():
    assert scoring.qlike(2.0, 1.0) == pytest.approx(2 - math.log(2) - 1)
    assert scoring.qlike(1.5, 1.5) == 0.0
    assert scoring.variance_mse(3.0, 1.0) == 4.0
    proxy = np.array([0.0, 1.0, 4.0])
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])
    d = scoring.qlike_differential(proxy, a, b)
    positive = proxy > 0
    p = proxy[positive]
    assert np.allclose(d[positive], scoring.qlike(p, a[positive]) - scoring.qlike(p, b[positive]))
    assert d[0] == pytest.approx(math.log(1) - math.log(2))
    # QLIKE is minimised in expectation by the true variance, whatever the noise in the proxy
    rng = np.random.default_rng(2)
    proxy = 2.0 * rng.chisquare(1, 100_000)  # an unbiased, noisy proxy of variance 2
    means = {v: scoring.qlike_differential(proxy, v, 1.0).mean() for v in (1.5, 2.0, 2.5)}
    assert min(means, key=means.get) == 2.0
