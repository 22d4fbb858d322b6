"""PSR, DSR, the expected maximum Sharpe ratio and PBO against the papers' example, values
worked by hand, simulation and a brute-force re-implementation."""

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats

from lstm_forecast.evaluation.overfitting import (
    backtest_overfitting,
    deflated_sharpe,
    expected_max_sharpe,
    probabilistic_sharpe,
    sharpe_moments,
)


def test_deflated_sharpe_paper_example():
    # Bailey & López de Prado (2014), numerical example: 100 trials whose annualised Sharpe
    # ratios vary by 1/2, 5 years of daily data (1,250 days), the best one annualised 2.5,
    # skewness -3, kurtosis 10: threshold 0.1132 per day, DSR 0.9004.
    sharpe, variance = 2.5 / np.sqrt(250), 0.5 / 250
    assert expected_max_sharpe(100, variance) == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe(sharpe, 1250, 100, skew=-3, kurtosis=10, variance=variance)
    assert dsr == pytest.approx(0.9004, abs=5e-4)


def test_probabilistic_sharpe_by_hand():
    # SR 0.1 over 101 days, normal returns: z = 0.1 * 10 / sqrt(1 + 2 * 0.01 / 4)
    assert probabilistic_sharpe(0.1, 101) == pytest.approx(stats.norm.cdf(1 / np.sqrt(1.005)))
    # negative skew and fat tails widen the estimate's spread: less confidence
    assert probabilistic_sharpe(0.1, 101, skew=-1, kurtosis=6) < probabilistic_sharpe(0.1, 101)
    assert probabilistic_sharpe(0.0, 101) == pytest.approx(0.5)
    assert deflated_sharpe(0.1, 101, trials=1) == probabilistic_sharpe(0.1, 101)


def test_sharpe_moments_by_hand_and_without_a_ratio():
    x = np.array([0.01, -0.02, 0.03, 0.0])
    sharpe, n, skew, kurtosis = sharpe_moments(x)
    assert sharpe == pytest.approx(0.005 / np.sqrt(np.sum((x - 0.005) ** 2) / 3)) and n == 4
    assert skew == pytest.approx(stats.skew(x)) and kurtosis == pytest.approx(stats.kurtosis(x) + 3)
    # constant returns have no Sharpe ratio (their rounding noise once gave one, and a
    # warning), nor do fewer than two
    for flat in (np.full(100, 0.001), np.zeros(100), np.array([0.01]), np.array([])):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.isnan(sharpe_moments(flat)[0])


def test_psr_is_uniform_for_a_skill_less_strategy():
    rng = np.random.default_rng(0)
    values = [probabilistic_sharpe(*sharpe_moments(rng.normal(size=500))) for _ in range(2000)]
    assert np.mean(np.array(values) > 0.95) == pytest.approx(0.05, abs=0.015)


def test_expected_max_sharpe_by_simulation():
    rng = np.random.default_rng(1)
    for trials in (10, 100, 1000):
        best = rng.normal(scale=0.05, size=(4000, trials)).max(axis=1)
        assert expected_max_sharpe(trials, 0.05**2) == pytest.approx(best.mean(), rel=0.04)
    assert expected_max_sharpe(1, 1.0) == 0.0


def _pbo_brute(m: np.ndarray, blocks: int) -> float:
    parts = np.array_split(np.arange(len(m)), blocks)
    below = []
    for chosen in itertools.combinations(range(blocks), blocks // 2):
        rows_in = np.concatenate([parts[b] for b in chosen])
        rows_out = np.concatenate([parts[b] for b in range(blocks) if b not in chosen])
        sr_in = m[rows_in].mean(0) / m[rows_in].std(0, ddof=1)
        sr_out = m[rows_out].mean(0) / m[rows_out].std(0, ddof=1)
        best = np.argmax(sr_in)
        omega = (np.sum(sr_out < sr_out[best]) + 1) / (m.shape[1] + 1)
        below.append(np.log(omega / (1 - omega)) <= 0)
    return float(np.mean(below))


def test_pbo_by_hand():
    # Two blocks, two strategies. Each wins in one block and loses in the other: the
    # in-sample winner is always the out-of-sample loser, PBO 1.
    a = np.array([1.0, 2.0, -1.0, -2.0])
    b = -a
    assert backtest_overfitting(np.c_[a, b], blocks=2) == 1.0
    # One dominates in both halves: never overfit.
    assert backtest_overfitting(np.c_[a + 10, b], blocks=2) == 0.0
    assert np.isnan(backtest_overfitting(a[:, None], blocks=2))
    # Identical strategies (every forecast up: each long/flat rule is buy-and-hold) tie in
    # every split; that is no evidence of overfitting, and once counted as PBO 1
    assert np.isnan(backtest_overfitting(np.c_[a, a, a], blocks=2))
    assert np.isnan(backtest_overfitting(np.zeros((16, 3)), blocks=2))


def test_pbo_matches_brute_force_and_is_half_for_noise():
    rng = np.random.default_rng(2)
    m = rng.normal(size=(160, 5))
    assert backtest_overfitting(m, blocks=8) == pytest.approx(_pbo_brute(m, 8))
    noise = [backtest_overfitting(rng.normal(size=(320, 8)), blocks=8) for _ in range(30)]
    assert 0.35 < np.mean(noise) < 0.65
    skill = rng.normal(size=(320, 8)) + np.r_[0.3, np.zeros(7)]
    assert backtest_overfitting(skill, blocks=8) < 0.05
