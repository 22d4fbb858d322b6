r"""Is the skill real? Tests of one model against the random walk, valid for overlapping
h-day forecasts.

**Diebold-Mariano.** With forecast errors :math:`e_1` (the model) and :math:`e_2` (the
benchmark) and squared-error loss, the loss differential is
:math:`d_t = e_{1,t}^2 - e_{2,t}^2`. An h-step forecast's errors are MA(h-1), so the long-run
variance of :math:`\bar d` sums the first :math:`h-1` autocovariances with equal weights, as
Diebold & Mariano (1995) and Harvey, Leybourne & Newbold (1997) do (the Bartlett weights of
Newey-West would leave out part of the overlap):

.. math::
    \hat\sigma^2 = \hat\gamma_0 + 2\sum_{k=1}^{h-1}\hat\gamma_k,\qquad
    DM = \bar d / \sqrt{\hat\sigma^2 / n}

(with Bartlett weights :math:`1-k/h` in the rare case the equal-weight sum is not positive).
The HLN small-sample correction :math:`DM^* = DM\,\sqrt{(n + 1 - 2h + h(h-1)/n)/n}` is
compared with Student's t with :math:`n-1` degrees of freedom. The one-sided p-value
:math:`P(t_{n-1} < DM^*)` is small when the model's loss is significantly lower.

**Hit rate.** For one-day forecasts, the exact binomial test against a fair coin. For h > 1
consecutive windows share h-1 days, hits come in runs, and the binomial test's p-values are
far too small; the same HAC t-test is then applied to :math:`d_t = 1[\text{hit}_t] - 1/2`.

**Pesaran-Timmermann.** The 1992 statistic; for h > 1 on the non-overlapping subsample of
every h-th origin (ending at the last), where the outcomes no longer share days. By simulation
(``benchmarks/size.py``, random walks, h = 5) that rejects in 3-6% at 5%, where the
regression form with a HAC variance (Pesaran & Timmermann 2009) rejected in up to 9% for
forecasts from moving averages, whose sign persists for weeks.

``benchmarks/size.py`` measures the size of each test for h = 5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class DMResult:
    """The statistic, its one-sided p-value (model better) and the two-sided one."""

    statistic: float
    p_better: float
    p_two_sided: float
    n: int


def newey_west_variance(d: np.ndarray, lags: int, kernel: str = "bartlett") -> float:
    """Long-run variance of ``d`` from its first ``lags`` autocovariances, weighted
    ``1 - k/(lags+1)`` (``"bartlett"``, Newey-West) or 1 (``"uniform"``, Diebold-Mariano)."""
    d = np.asarray(d, dtype=float) - np.mean(d)
    n = len(d)
    variance = np.dot(d, d) / n
    for k in range(1, lags + 1):
        weight = 1.0 if kernel == "uniform" else 1 - k / (lags + 1)
        variance += 2 * weight * np.dot(d[k:], d[:-k]) / n
    return float(variance)


# a variance below this share of the mean square of d is rounding, not variance: the terms
# are constant (or the equal-weight sum cancelled)
_ROUNDING = 1e-12


def overlap_variance(d: np.ndarray, horizon: int) -> float:
    """Long-run variance of a series of h-day overlapping terms: equal weights over h-1 lags,
    Bartlett weights if that is not positive."""
    variance = newey_west_variance(d, horizon - 1, "uniform")
    if variance > _ROUNDING * float(np.mean(np.square(d))):
        return variance
    return newey_west_variance(d, horizon - 1, "bartlett")


def hln_t(d: np.ndarray, horizon: int) -> tuple[float, int]:
    """(HLN-corrected t statistic of the mean of ``d``, n); NaN when ``d`` is constant, or
    too short to say anything: fewer than 3 terms, or no more terms than the horizon (every
    term then shares a day with every other)."""
    d = np.asarray(d, float)
    n = len(d)
    if n < 3 or n <= horizon:
        return float("nan"), n
    variance = overlap_variance(d, horizon)
    if not np.isfinite(variance) or variance <= _ROUNDING * float(np.mean(np.square(d))):
        return float("nan"), n
    correction = np.sqrt(max(n + 1 - 2 * horizon + horizon * (horizon - 1) / n, 1.0) / n)
    return float(np.mean(d) / np.sqrt(variance / n) * correction), n


def diebold_mariano(
    model_errors: np.ndarray, benchmark_errors: np.ndarray, horizon: int = 1
) -> DMResult:
    """Diebold-Mariano test on squared errors with the HLN correction; see the module doc."""
    e1, e2 = np.asarray(model_errors, float), np.asarray(benchmark_errors, float)
    if e1.shape != e2.shape:
        raise ValueError(f"error arrays differ in shape: {e1.shape} and {e2.shape}")
    return diebold_mariano_from_differential(e1**2 - e2**2, horizon)


def diebold_mariano_from_differential(d: np.ndarray, horizon: int = 1) -> DMResult:
    """The same test given the loss differential ``d`` directly (e.g. a panel average)."""
    statistic, n = hln_t(d, horizon)
    if not np.isfinite(statistic):
        return DMResult(float("nan"), float("nan"), float("nan"), n)  # identical forecasts
    p_better = float(stats.t.cdf(statistic, df=n - 1))
    return DMResult(statistic, p_better, float(2 * min(p_better, 1 - p_better)), n)


BEATS = "beats the random walk (family-wise 5%)"
NOT_AFTER_CORRECTION = "no evidence once every test is counted"


def verdict(p_better: float, kept: bool, same: bool = True) -> str:
    """A model's standing against the random walk, in words a user understands: it "beats"
    the random walk only if the family-wise StepM test keeps it (``kept``); an unadjusted DM
    p-value below 5% that does not survive the correction is said to be so. Without a
    p-value, ``same`` tells forecasts equal to the random walk's from too short a test."""
    if not np.isfinite(p_better):
        return "same forecasts as the random walk" if same else "too few test days to test"
    if kept:
        return BEATS
    if p_better < 0.05:
        return NOT_AFTER_CORRECTION
    if p_better > 0.95:
        return "significantly worse than the random walk"
    return "no evidence of skill"


def pesaran_timmermann(
    actual: np.ndarray, forecast: np.ndarray, horizon: int = 1
) -> tuple[float, float]:
    r"""Directional accuracy beyond chance (Pesaran & Timmermann 1992): (statistic, p-value).

    With :math:`P` the hit rate, :math:`P_y` and :math:`P_x` the shares of rising outcomes and
    of rising forecasts, chance alone gives :math:`P_* = P_y P_x + (1-P_y)(1-P_x)`. The
    statistic :math:`(P - P_*) / \sqrt{\hat V(P) - \hat V(P_*)}` is standard normal under
    independence of forecast and outcome signs; the one-sided p-value is small when the
    forecasts call directions better than chance. Unlike a test against a fair coin, an
    always-"up" forecast in a rising market scores no skill (the statistic is undefined:
    NaN). Zero forecasts and zero outcomes are left out. For ``horizon`` > 1, on every h-th
    origin counted back from the last (see the module doc).
    """
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    if horizon > 1:
        actual, forecast = actual[::-1][::horizon][::-1], forecast[::-1][::horizon][::-1]
    keep = (actual != 0) & (forecast != 0)
    up_y, up_x = actual[keep] > 0, forecast[keep] > 0
    n = int(keep.sum())
    if n < 2:
        return float("nan"), float("nan")
    p_hat = float(np.mean(up_y == up_x))
    py, px = float(up_y.mean()), float(up_x.mean())
    p_star = py * px + (1 - py) * (1 - px)
    var_p = p_star * (1 - p_star) / n
    var_star = (
        (2 * py - 1) ** 2 * px * (1 - px) / n
        + (2 * px - 1) ** 2 * py * (1 - py) / n
        + 4 * py * px * (1 - py) * (1 - px) / n**2
    )
    denominator = var_p - var_star
    if denominator <= 0:
        return float("nan"), float("nan")
    statistic = (p_hat - p_star) / np.sqrt(denominator)
    return float(statistic), float(stats.norm.sf(statistic))
