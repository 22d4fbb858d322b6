r"""Is the skill real? The Diebold-Mariano test against the random walk.

With forecast errors :math:`e_1` (the model) and :math:`e_2` (the benchmark) and squared-error
loss, the loss differential is :math:`d_t = e_{1,t}^2 - e_{2,t}^2`. Its mean :math:`\bar d`
has long-run variance estimated by Newey-West with :math:`h-1` lags (an h-step forecast's
errors are MA(h-1)):

.. math::
    \hat\sigma^2 = \hat\gamma_0 + 2\sum_{k=1}^{h-1}\Big(1-\frac{k}{h}\Big)\hat\gamma_k,\qquad
    DM = \bar d / \sqrt{\hat\sigma^2 / n}

Harvey, Leybourne & Newbold (1997) correct it for small samples,
:math:`DM^* = DM\,\sqrt{(n + 1 - 2h + h(h-1)/n)/n}`, compared with Student's t with
:math:`n-1` degrees of freedom. The one-sided p-value :math:`P(t_{n-1} < DM^*)` is small
when the model's loss is significantly lower than the benchmark's.
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


def newey_west_variance(d: np.ndarray, lags: int) -> float:
    """Long-run variance of ``d`` with Bartlett weights ``1 - k/(lags+1)``."""
    d = np.asarray(d, dtype=float) - np.mean(d)
    n = len(d)
    variance = np.dot(d, d) / n
    for k in range(1, lags + 1):
        variance += 2 * (1 - k / (lags + 1)) * np.dot(d[k:], d[:-k]) / n
    return float(variance)


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
    d = np.asarray(d, float)
    n = len(d)
    if n < 3:
        return DMResult(float("nan"), float("nan"), float("nan"), n)
    variance = newey_west_variance(d, horizon - 1)
    if variance <= 0 or not np.isfinite(variance):
        return DMResult(float("nan"), float("nan"), float("nan"), n)  # identical forecasts
    dm = np.mean(d) / np.sqrt(variance / n)
    correction = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    statistic = float(dm * correction)
    p_better = float(stats.t.cdf(statistic, df=n - 1))
    return DMResult(statistic, p_better, float(2 * min(p_better, 1 - p_better)), n)


def verdict(p_better: float, r2_vs_zero: float) -> str:
    """The significance of a model against the random walk, in words a user understands."""
    if not np.isfinite(p_better):
        return "same forecasts as the random walk"
    if p_better < 0.01:
        return "beats the random walk at the 1% level"
    if p_better < 0.05:
        return "beats the random walk at the 5% level"
    if p_better > 0.95:
        return "significantly worse than the random walk"
    return "no evidence of skill"


def pesaran_timmermann(actual: np.ndarray, forecast: np.ndarray) -> tuple[float, float]:
    r"""Directional accuracy beyond chance (Pesaran & Timmermann 1992): (statistic, p-value).

    With :math:`P` the hit rate, :math:`P_y` and :math:`P_x` the shares of rising outcomes and
    of rising forecasts, chance alone gives :math:`P_* = P_y P_x + (1-P_y)(1-P_x)`. The
    statistic :math:`(P - P_*) / \sqrt{\hat V(P) - \hat V(P_*)}` is standard normal under
    independence of forecast and outcome signs; the one-sided p-value is small when the
    forecasts call directions better than chance. Unlike a test against a fair coin, an
    always-"up" forecast in a rising market scores no skill (the statistic is undefined:
    NaN). Zero forecasts and zero outcomes are left out.
    """
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
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
