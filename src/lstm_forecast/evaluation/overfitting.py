r"""Could the best strategy's Sharpe ratio be luck? Bailey & López de Prado's corrections.

All Sharpe ratios here are per period (daily), not annualised: :math:`\widehat{SR} = \bar x/s_x`
over :math:`T` daily returns with sample skewness :math:`\gamma_3` and (non-excess) kurtosis
:math:`\gamma_4`.

* **Probabilistic Sharpe Ratio** (Bailey & López de Prado 2012): the probability that the true
  Sharpe ratio exceeds a benchmark :math:`SR^*`, allowing for the estimate's non-normality,

  .. math::
      PSR(SR^*) = \Phi\left(\frac{(\widehat{SR} - SR^*)\sqrt{T-1}}
      {\sqrt{1 - \gamma_3\widehat{SR} + \frac{\gamma_4-1}{4}\widehat{SR}^2}}\right).

* **Expected maximum Sharpe ratio** of :math:`N` skill-less strategies whose estimates have
  variance :math:`V` (the false strategy theorem; :math:`\gamma \approx 0.5772` is the
  Euler-Mascheroni constant):

  .. math::
      E[\max_n \widehat{SR}_n] \approx \sqrt{V}\left((1-\gamma)\,\Phi^{-1}(1 - 1/N)
      + \gamma\,\Phi^{-1}(1 - 1/(N e))\right).

  Without the trials' own Sharpe ratios, :math:`V = 1/(T-1)`: the variance of a Sharpe ratio
  estimate when the true one is 0.
* **Deflated Sharpe Ratio** (Bailey & López de Prado 2014): the PSR with
  :math:`SR^* = E[\max_n \widehat{SR}_n]`, the best Sharpe ratio that :math:`N` tries would
  give by luck alone. Above 0.95: skill beyond the selection at the 5% level.
* **Probability of Backtest Overfitting** (Bailey, Borwein, López de Prado & Zhu 2017), by
  combinatorially symmetric cross-validation: the :math:`T \times N` matrix of the strategies'
  returns is cut into :math:`S` blocks of consecutive rows; for each of the
  :math:`\binom{S}{S/2}` ways to pick half the blocks as "in sample", the strategy with the
  best in-sample Sharpe ratio is ranked among all :math:`N` on the other half. PBO is the share
  of splits where it ranks in the bottom half out of sample (logit of its relative rank
  :math:`\le 0`): the chance that picking the best backtest picks a below-median strategy.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats

EULER_GAMMA = 0.5772156649015329


def sharpe_moments(returns: np.ndarray) -> tuple[float, int, float, float]:
    """(per-period Sharpe ratio, T, skewness, non-excess kurtosis) of a return series."""
    x = np.asarray(returns, float)
    if len(x) < 2:
        return float("nan"), len(x), float("nan"), float("nan")
    sd = float(np.std(x, ddof=1))
    if sd <= 1e-12 * float(np.sqrt(np.mean(x**2))):  # constant returns (to rounding): no ratio
        return float("nan"), len(x), float("nan"), float("nan")
    return (
        float(np.mean(x) / sd),
        len(x),
        float(stats.skew(x)),
        float(stats.kurtosis(x, fisher=False)),
    )


def probabilistic_sharpe(
    sharpe: float, n: int, skew: float = 0.0, kurtosis: float = 3.0, benchmark: float = 0.0
) -> float:
    """PSR: the probability that the true per-period Sharpe ratio exceeds ``benchmark``."""
    if not (np.isfinite(sharpe) and n > 1):
        return float("nan")
    spread = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if not spread > 0:
        return float("nan")
    return float(stats.norm.cdf((sharpe - benchmark) * math.sqrt(n - 1) / math.sqrt(spread)))


def expected_max_sharpe(trials: int, variance: float) -> float:
    """Expected largest of ``trials`` per-period Sharpe ratio estimates with true value 0 and
    estimation variance ``variance``; 0 for a single trial."""
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    if trials == 1:
        return 0.0
    z = (1 - EULER_GAMMA) * stats.norm.ppf(1 - 1 / trials) + EULER_GAMMA * stats.norm.ppf(
        1 - 1 / (trials * math.e)
    )
    return float(math.sqrt(variance) * z)


def deflated_sharpe(
    sharpe: float,
    n: int,
    trials: int,
    skew: float = 0.0,
    kurtosis: float = 3.0,
    variance: float | None = None,
) -> float:
    """DSR: the PSR against the expected maximum Sharpe ratio of ``trials`` skill-less tries
    (``variance``: of the trials' Sharpe estimates; default ``1/(n-1)``)."""
    if n < 2:
        return float("nan")
    threshold = expected_max_sharpe(trials, 1 / (n - 1) if variance is None else variance)
    return probabilistic_sharpe(sharpe, n, skew, kurtosis, threshold)


def backtest_overfitting(returns: np.ndarray, blocks: int = 16) -> float:
    """PBO by CSCV over the columns (strategies) of a ``(T, N)`` return matrix, ``blocks``
    even; NaN with fewer than two distinct strategies (identical columns tie everywhere, and
    a tie would count as overfitting) or fewer rows than blocks."""
    m = np.asarray(returns, float)
    if m.ndim != 2 or m.shape[1] < 2 or m.shape[0] < blocks or blocks < 2 or blocks % 2:
        return float("nan")
    if np.unique(m, axis=1).shape[1] < 2:
        return float("nan")
    parts = np.array_split(np.arange(m.shape[0]), blocks)
    # Per block: row counts, sums and sums of squares; every split at once as a 0/1 matrix.
    count = np.array([len(p) for p in parts], float)
    total = np.stack([m[p].sum(0) for p in parts])
    square = np.stack([(m[p] ** 2).sum(0) for p in parts])
    inside = np.zeros((math.comb(blocks, blocks // 2), blocks))
    for row, chosen in enumerate(itertools.combinations(range(blocks), blocks // 2)):
        inside[row, list(chosen)] = 1.0
    outside = 1.0 - inside
    sr_in = _sharpe(inside @ count, inside @ total, inside @ square)
    sr_out = _sharpe(outside @ count, outside @ total, outside @ square)
    best = np.argmax(sr_in, axis=1)
    at_best = sr_out[np.arange(len(best)), best][:, None]
    rank = (sr_out < at_best).sum(1) + ((sr_out == at_best).sum(1) + 1) / 2  # average rank
    omega = rank / (m.shape[1] + 1)
    return float(np.mean(np.log(omega / (1 - omega)) <= 0))


def _sharpe(count: np.ndarray, total: np.ndarray, square: np.ndarray) -> np.ndarray:
    """Sharpe ratios per (split, strategy) from the split's row count, sums and squares."""
    n = count[:, None]
    mean = total / n
    variance = (square - n * mean**2) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(variance > 0, mean / np.sqrt(np.maximum(variance, 0)), 0.0)
