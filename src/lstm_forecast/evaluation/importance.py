r"""What each input is worth out of sample: permutation importance (Breiman 2001).

At the test origins of each refit, the fitted model's input windows are taken as they are,
then once per input (a feature group, and each block of lags of the group) with that input's
values shuffled across the windows (the same permutation for every lag it covers, so only its
link to the outcome is broken). The worth of the input is the rise in the loss the model is
judged by: the squared error of a point forecast,

.. math::
    \Delta\text{MSE} = \frac{1}{n}\sum_t \big[(y_t - \hat y_t^{\text{perm}})^2
    - (y_t - \hat y_t)^2\big],

or, for a model that forecasts a distribution (``--distribution``, ``--target volatility``),
the log score :math:`-\log \hat p(y_t)`, which judges its spread as well as its mean (for a
normal zero-mean variance forecast it is half the QLIKE of the squared return, up to terms
that do not depend on the forecast). The rise is above 0 when the model relies on the input
to forecast well. Its 95% interval comes from the stationary bootstrap of the per-date
differences (``arch``; block length as in :mod:`.family`). Blocks of lags are counted back
from the origin: lag 1 is the origin's own day, so "lags 1-5" are the last five days the
model saw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..models.distribution import log_density

if TYPE_CHECKING:
    from ..models import LSTMForecaster
    from .backtest import BacktestResult

LAG_BLOCKS = ((1, 5), (6, 20), (21, None))  # (first, last) lag; None: to the lookback


def permuted_losses(
    model: LSTMForecaster,
    prices: pd.DataFrame,
    origins: pd.DatetimeIndex,
    target: pd.DataFrame,
    seed: int,
) -> pd.DataFrame:
    """The losses (:func:`metric_of`) at ``origins`` with each input permuted: columns origin,
    ticker, input, loss, metric (and input "none" for the model as it is). ``target``: the
    h-day outcomes."""
    windows, keys = model.input_windows(prices, origins)
    if not len(windows):
        return pd.DataFrame(columns=["origin", "ticker", "input", "loss", "metric"])
    actual = target.stack(future_stack=True).reindex(
        list(zip(keys["origin"], keys["ticker"], strict=True))
    )
    actual = actual.to_numpy()
    rng = np.random.default_rng(seed)
    lookback = windows.shape[1]
    metric = metric_of(model)

    def losses(name: str, inputs: np.ndarray) -> pd.DataFrame:
        if metric == "MSE":
            loss = (actual - model.forecast_windows(inputs, keys["ticker"])) ** 2
        else:
            loss = -log_density(actual, *model.distribution_windows(inputs, keys["ticker"]))
        return keys.assign(input=name, loss=loss, metric=metric)

    frames = [losses("none", windows)]
    for group, columns in model.input_groups().items():
        spans = [(group, 1, lookback)]
        spans += [
            (f"{group}, lags {a}-{min(b or lookback, lookback)}", a, min(b or lookback, lookback))
            for a, b in LAG_BLOCKS
            if a <= lookback and (a, b) != (1, None)
        ]
        if len(spans) == 2:  # one block covers the whole window: it is the group itself
            spans = spans[:1]
        for name, first, last in spans:
            order = rng.permutation(len(windows))
            shuffled = np.array(windows, copy=True)
            rows = slice(lookback - last, lookback - first + 1)
            shuffled[:, rows, columns] = windows[order][:, rows, columns]
            frames.append(losses(name, shuffled))
    return pd.concat(frames, ignore_index=True)


def metric_of(model: LSTMForecaster) -> str:
    """``MSE`` for a point forecaster, ``log score`` for one of a distribution."""
    return "log score" if getattr(model, "distributional", False) else "MSE"


COLUMNS = ["input", "delta", "low", "high", "share", "n", "metric"]


def importance_table(losses: pd.DataFrame, horizon: int = 1, seed: int = 0) -> pd.DataFrame:
    """Per input: the rise in the loss (column ``metric``: MSE, or the log score) when it is
    permuted, its 95% bootstrap interval, and for MSE the rise as a share of the model's own
    (NaN for the log score, whose level has no zero to compare with); largest first."""
    from arch.bootstrap import StationaryBootstrap

    from .family import block_length

    if losses.empty:
        return pd.DataFrame(columns=COLUMNS)
    metric = str(losses["metric"].iloc[0]) if "metric" in losses else "MSE"
    wide = losses.pivot_table(
        index=["origin", "ticker"], columns="input", values="loss", aggfunc="mean"
    )
    base = wide.pop("none")
    rows = []
    for name in wide.columns:
        diff = (wide[name] - base).groupby(level="origin").mean()  # per date, tickers pooled
        values = diff.to_numpy()
        block = block_length(diff.to_frame(), horizon)
        bootstrap = StationaryBootstrap(block, values, seed=seed)
        low, high = bootstrap.conf_int(np.mean, reps=500, method="percentile")[:, 0]
        rows.append(
            {
                "input": name,
                "delta": float(values.mean()),
                "low": float(low),
                "high": float(high),
                "share": _share(values, base, metric),
                "n": len(values),
                "metric": metric,
            }
        )
    return pd.DataFrame(rows).sort_values("delta", ascending=False, ignore_index=True)


def _share(values: np.ndarray, base: pd.Series, metric: str) -> float:
    if metric != "MSE" or not base.mean() > 0:
        return np.nan
    return float(values.mean() / base.mean())


def backtest_importance(result: BacktestResult) -> pd.DataFrame:
    """:func:`importance_table` of the LSTM in a backtest (empty when it did not run)."""
    losses = result.importance
    if losses is None or losses.empty:
        return importance_table(pd.DataFrame())
    lstm = losses[losses["model"] == "lstm"].drop(columns="model")
    return importance_table(lstm, result.settings.horizon)
