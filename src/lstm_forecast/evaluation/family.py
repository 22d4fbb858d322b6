r"""Tests over a family of models: could the best of many look good by luck?

A backtest compares every model with the random walk on every ticker; the more comparisons, the
more likely one of them passes a 5% test by chance. These tests control that, on squared-error
losses, with the stationary bootstrap of ``arch.bootstrap`` (a fixed seed, so a report is
reproducible; the mean block length from ``optimal_block_length`` on the loss differentials,
at least the forecast horizon, since h-day windows overlap for h - 1 days):

* **SPA** (Hansen 2005), "does any model beat the benchmark?": the consistent p-value of the
  null that no model's expected loss is below the benchmark's.
* **StepM** (Romano & Wolf 2005), "which ones?": the models whose lower loss survives a
  step-down test with family-wise error rate 5%.
* **MCS** (Hansen, Lunde & Nason 2011): the set of models, the benchmark included, that contains
  the best one with probability 90%.
* **Holm** (1979): step-down adjusted p-values of individual tests, via ``statsmodels``.

Losses come as a ``(T, k)`` frame: one column per model (or per model and ticker), rows the
forecast origins, lower is better.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from arch.bootstrap import MCS, SPA, optimal_block_length
from statsmodels.stats.multitest import multipletests

SEED = 20141  # fixed: the same data give the same report
REPS = 1000


def block_length(differentials: pd.DataFrame, horizon: int = 1) -> int:
    """Mean stationary-bootstrap block length for the columns of ``differentials``: the
    average of Politis & White's optimal lengths (Patton, Politis & White 2009), at least
    ``horizon``, at most a quarter of the rows."""
    usable = differentials.loc[:, differentials.std() > 0]
    n = len(differentials)
    if usable.shape[1] == 0 or n < 8:
        return max(1, horizon)
    lengths = optimal_block_length(usable.to_numpy())["stationary"].to_numpy()
    mean = float(np.nanmean(lengths)) if np.isfinite(lengths).any() else 1.0
    return int(min(max(math.ceil(mean), horizon, 1), max(n // 4, 1)))


def _distinct(differentials: pd.DataFrame) -> pd.DataFrame:
    """Columns that differ from the benchmark somewhere (identical forecasts test nothing)."""
    return differentials.loc[:, (differentials != 0).any()]


def spa_pvalue(
    benchmark: pd.Series, losses: pd.DataFrame, block: int, seed: int = SEED, reps: int = REPS
) -> float:
    """SPA's consistent p-value: small when some column's loss is below ``benchmark``'s."""
    models = _distinct(losses.sub(benchmark, axis=0)).add(benchmark, axis=0)
    if models.shape[1] == 0:
        return float("nan")
    spa = SPA(benchmark.to_numpy(), models.to_numpy(), block_size=block, reps=reps, seed=seed)
    spa.compute()
    return float(spa.pvalues["consistent"])


def stepm_superior(
    benchmark: pd.Series,
    losses: pd.DataFrame,
    block: int,
    size: float = 0.05,
    seed: int = SEED,
    reps: int = REPS,
) -> list[str]:
    """The columns of ``losses`` that StepM finds better than ``benchmark`` at ``size``.

    Romano and Wolf's steps, run on ``arch``'s SPA: test every model, set aside those found
    better, test the rest again, until a step finds none or none are left. (``arch`` 8.0's own
    ``StepM.compute`` goes on after the last model is set aside and raises on an empty set,
    so a backtest in which every model beats the random walk would crash.)
    """
    models = _distinct(losses.sub(benchmark, axis=0)).add(benchmark, axis=0)
    if models.shape[1] == 0:
        return []
    spa = SPA(benchmark.to_numpy(), models.to_numpy(), block_size=block, reps=reps, seed=seed)
    found: list[int] = []
    remaining = np.ones(models.shape[1], dtype=bool)
    while remaining.any():
        spa.subset(remaining)
        spa.compute()
        better = [int(i) for i in spa.better_models(size)]  # indices among all the columns
        if not better:
            break
        found += better
        remaining[better] = False
    return [str(models.columns[i]) for i in sorted(found)]


def confidence_set(
    losses: pd.DataFrame, block: int, size: float = 0.10, seed: int = SEED, reps: int = REPS
) -> list[str]:
    """The Model Confidence Set at level ``1 - size`` (range statistic). Columns identical to an
    earlier one share its fate."""
    keep = ~losses.T.duplicated().to_numpy()
    distinct = losses.loc[:, keep]
    if distinct.shape[1] == 1:
        included = list(distinct.columns)
    else:
        mcs = MCS(distinct, size=size, block_size=block, reps=reps, seed=seed)
        mcs.compute()
        included = list(mcs.included)
    twins = {c: next(d for d in distinct.columns if losses[d].equals(losses[c])) for c in losses}
    return [str(c) for c in losses.columns if twins[c] in included]


def holm(pvalues: pd.Series) -> pd.Series:
    """Holm's step-down adjusted p-values; NaN stays NaN and is not counted."""
    out = pd.Series(np.nan, index=pvalues.index)
    known = pvalues.notna()
    if known.any():
        out[known] = multipletests(pvalues[known].to_numpy(), method="holm")[1]
    return out
