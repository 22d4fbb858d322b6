r"""Scores and tests for forecast distributions, intervals, Value-at-Risk and variances.

A forecast distribution of the h-day log return is described by three numbers per origin:
its mean ``loc``, its standard deviation ``sd`` and its degrees of freedom ``df``
(``inf`` for the normal). A Student-t with ``df`` :math:`\nu > 2` and standard deviation
:math:`s` has scale :math:`s\sqrt{(\nu-2)/\nu}`.

**Variance losses** (Patton 2011: the two that rank forecasts as the true variance would, with
any unbiased proxy :math:`\hat\sigma^2` of it):

.. math::
    \text{QLIKE} = \frac{\hat\sigma^2}{h} - \log\frac{\hat\sigma^2}{h} - 1,\qquad
    \text{MSE} = (\hat\sigma^2 - h)^2

with :math:`h` the forecast variance; QLIKE is 0 for a perfect forecast and needs
:math:`\hat\sigma^2 > 0`.

**Distributions.** CRPS (``scoringrules``), the log score (minus the log density at the
outcome), the pinball loss of each quantile :math:`q`:
:math:`\rho_q(y - Q) = \max(q(y-Q), (q-1)(y-Q))`, and the PIT :math:`F(y)`, uniform when the
distribution is right.

**Intervals and VaR.** A miss is an outcome outside the interval (or below the VaR). With
:math:`x` misses in :math:`n` days and expected rate :math:`p`, Kupiec's proportion of failures

.. math::
    LR_{pof} = -2\log\frac{(1-p)^{n-x}p^x}{(1-\hat p)^{n-x}\hat p^x},\ \hat p = x/n,
    \quad \sim\chi^2_1

Christoffersen's independence test compares the chance of a miss after a miss
(:math:`\pi_{11}`) with the chance after a hit (:math:`\pi_{01}`), from the transition counts
:math:`n_{ij}`; :math:`LR_{ind} \sim \chi^2_1`, and conditional coverage
:math:`LR_{cc} = LR_{pof} + LR_{ind} \sim \chi^2_2`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from ..models.distribution import as_arrays, log_density, quantile, t_scale
from ..models.distribution import cdf as cdf  # the PIT, scored here too
from ..models.distribution import qlike as qlike  # QLIKE per observation, scored here too

LEVELS = (0.80, 0.90, 0.95, 0.99)


def crps(y: ArrayLike, loc: ArrayLike, sd: ArrayLike, df: ArrayLike) -> np.ndarray:
    """Continuous ranked probability score of each forecast (``scoringrules``)."""
    import scoringrules as sr

    y, loc, sd, df = as_arrays(y, loc, sd, df)
    normal = np.isinf(df)
    out = np.empty(y.shape)
    out[normal] = sr.crps_normal(y[normal], loc[normal], sd[normal])
    if (~normal).any():
        nu = df[~normal]
        out[~normal] = sr.crps_t(y[~normal], nu, loc[~normal], t_scale(sd[~normal], nu))
    return out


def log_score(y: ArrayLike, loc: ArrayLike, sd: ArrayLike, df: ArrayLike) -> np.ndarray:
    """Minus the log density at the outcome (lower is better)."""
    return -log_density(y, loc, sd, df)


def pinball(y: ArrayLike, q_forecast: ArrayLike, level: float) -> np.ndarray:
    """Pinball (quantile) loss of the ``level`` quantile forecast, per observation."""
    y, q_forecast = as_arrays(y, q_forecast)
    error = y - q_forecast
    return np.maximum(level * error, (level - 1.0) * error)


def qlike_differential(
    proxy: ArrayLike, variance_a: ArrayLike, variance_b: ArrayLike
) -> np.ndarray:
    """QLIKE(a) - QLIKE(b) per observation, defined for a zero proxy too (the terms that do
    not depend on the forecast cancel): the loss differential of a Diebold-Mariano test."""
    proxy, a, b = as_arrays(proxy, variance_a, variance_b)
    return proxy / a + np.log(a) - proxy / b - np.log(b)


def variance_mse(proxy: ArrayLike, variance: ArrayLike) -> np.ndarray:
    """Squared error of the variance forecast against the proxy, per observation."""
    proxy, variance = as_arrays(proxy, variance)
    return (proxy - variance) ** 2


@dataclass(frozen=True)
class CoverageTest:
    """Misses of an interval or VaR at nominal ``level``, and the three likelihood-ratio tests."""

    level: float
    n: int
    misses: int
    coverage: float
    lr_pof: float
    kupiec_p: float
    lr_ind: float
    independence_p: float
    lr_cc: float
    conditional_p: float


def _xlogy_sum(*pairs) -> float:
    return float(sum(special.xlogy(count, prob) for count, prob in pairs))


def kupiec(misses: int, n: int, rate: float) -> tuple[float, float]:
    """Kupiec's proportion-of-failures LR and its p-value (chi-square, 1 df)."""
    if n == 0:
        return np.nan, np.nan
    observed = misses / n
    null = _xlogy_sum((n - misses, 1 - rate), (misses, rate))
    alternative = _xlogy_sum((n - misses, 1 - observed), (misses, observed))
    lr = max(0.0, -2.0 * (null - alternative))
    return lr, float(stats.chi2.sf(lr, 1))


def christoffersen(hits: np.ndarray) -> tuple[float, float]:
    """Christoffersen's independence LR (first-order Markov against independence) and its
    p-value (chi-square, 1 df) for a 0/1 series of misses."""
    hits = np.asarray(hits, dtype=int)
    if len(hits) < 2:
        return np.nan, np.nan
    prev, nxt = hits[:-1], hits[1:]
    n00 = int(((prev == 0) & (nxt == 0)).sum())
    n01 = int(((prev == 0) & (nxt == 1)).sum())
    n10 = int(((prev == 1) & (nxt == 0)).sum())
    n11 = int(((prev == 1) & (nxt == 1)).sum())
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    null = _xlogy_sum((n00 + n10, 1 - pi), (n01 + n11, pi))
    alternative = _xlogy_sum((n00, 1 - pi01), (n01, pi01), (n10, 1 - pi11), (n11, pi11))
    lr = max(0.0, -2.0 * (null - alternative))
    return lr, float(stats.chi2.sf(lr, 1))


def coverage_test(misses: np.ndarray, level: float) -> CoverageTest:
    """Coverage of a series of 0/1 ``misses`` against nominal ``level`` (expected miss rate
    ``1 - level``), with Kupiec, Christoffersen independence and conditional coverage."""
    misses = np.asarray(misses, dtype=int)
    n, x = len(misses), int(misses.sum())
    lr_pof, p_pof = kupiec(x, n, 1.0 - level)
    lr_ind, p_ind = christoffersen(misses)
    lr_cc = lr_pof + lr_ind
    return CoverageTest(
        level=level,
        n=n,
        misses=x,
        coverage=1.0 - x / n if n else np.nan,
        lr_pof=lr_pof,
        kupiec_p=p_pof,
        lr_ind=lr_ind,
        independence_p=p_ind,
        lr_cc=lr_cc,
        conditional_p=float(stats.chi2.sf(lr_cc, 2)) if np.isfinite(lr_cc) else np.nan,
    )


def interval_misses(
    y: ArrayLike, loc: ArrayLike, sd: ArrayLike, df: ArrayLike, level: float
) -> np.ndarray:
    """1 where the outcome falls outside the central ``level`` interval."""
    low = quantile((1 - level) / 2, loc, sd, df)
    high = quantile((1 + level) / 2, loc, sd, df)
    y = np.asarray(y, dtype=float)
    return ((y < low) | (y > high)).astype(int)


def var_breaches(
    y: ArrayLike, loc: ArrayLike, sd: ArrayLike, df: ArrayLike, level: float
) -> np.ndarray:
    """1 where the outcome falls below the ``level`` Value-at-Risk (the 1 - level quantile)."""
    return (np.asarray(y, dtype=float) < quantile(1 - level, loc, sd, df)).astype(int)
