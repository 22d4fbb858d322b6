"""From a backtest's predictions to the metrics table: one row per model and ticker, plus
pooled rows (ticker ``ALL``) when there are several tickers.

MASE is scaled by the naive forecast's in-sample MAE over the last 252 training days (over
decades of training data, early price levels would make the scale meaningless).
Pooled figures treat the tickers as one panel: errors are summed over all forecasts, the
Diebold-Mariano test runs on the cross-sectional mean of the loss differential per date,
and the strategy holds an equal-weight portfolio of the per-ticker positions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..features import horizon_target, log_returns
from . import metrics
from .backtest import BacktestResult
from .stats import diebold_mariano_from_differential, pesaran_timmermann, verdict
from .strategy import performance, strategy_returns

MASE_DAYS = 252  # MASE scale: naive in-sample MAE over the last year before the test period


def _benchmarks(result: BacktestResult) -> pd.DataFrame:
    """Per (origin, ticker): historical-mean forecast known then, and the next-day return."""
    prices, h = result.prices, result.settings.horizon
    y = horizon_target(prices, h)
    known_mean = y.shift(h).expanding().mean()  # mean of outcomes known at each origin
    next_return = log_returns(prices).shift(-1)
    frame = pd.DataFrame(
        {
            "hist_mean": known_mean.stack(future_stack=True),
            "next_return": next_return.stack(future_stack=True),
        }
    )
    frame.index.names = ["origin", "ticker"]
    return frame.reset_index()


def _row(
    group: pd.DataFrame, naive_errors: pd.Series, h: int, scale: float, cost: float, panel: bool
) -> dict:
    forecast, actual = group["forecast"].to_numpy(), group["actual"].to_numpy()
    hit, calls, hit_p = metrics.hit_rate(actual, forecast)
    errors = actual - forecast
    differential = pd.Series(errors**2 - naive_errors.to_numpy() ** 2, index=group["origin"])
    if panel:
        differential = differential.groupby(level=0).mean()
    dm = diebold_mariano_from_differential(differential.to_numpy(), h)
    r2_zero = metrics.oos_r2(actual, forecast, 0.0)
    pt = pesaran_timmermann(actual, forecast)
    row = {
        "n": len(group),
        "rmse": metrics.rmse(actual, forecast),
        "mae": metrics.mae(actual, forecast),
        "r2_vs_mean": metrics.oos_r2(actual, forecast, group["hist_mean"].to_numpy()),
        "r2_vs_zero": r2_zero,
        "hit_rate": hit,
        "hit_n": calls,
        "hit_p": hit_p,
        "pt_stat": pt[0],
        "pt_p": pt[1],
        "dm_stat": dm.statistic,
        "dm_p": dm.p_better,
        "verdict": verdict(dm.p_better, r2_zero),
        **metrics.price_errors(
            group["actual_price"].to_numpy(), group["forecast_price"].to_numpy(), scale
        ),
    }
    for kind, prefix in (("long_flat", "lf"), ("long_short", "ls")):
        daily, position = _strategy(group, kind, cost, panel)
        row.update({f"{prefix}_{k}": v for k, v in performance(daily, position).items()})
    return row


def _strategy(group: pd.DataFrame, kind: str, cost: float, panel: bool):
    parts = []
    for _, one in group.groupby("ticker", sort=False):
        daily, position = strategy_returns(
            one["forecast"].to_numpy(), one["next_return"].to_numpy(), kind, cost
        )
        parts.append(
            pd.DataFrame({"daily": daily, "position": position}, index=one["origin"].to_numpy())
        )
    if not panel:
        return parts[0]["daily"].to_numpy(), parts[0]["position"].to_numpy()
    both = pd.concat(parts).groupby(level=0).mean()  # equal-weight portfolio
    return both["daily"].to_numpy(), both["position"].to_numpy()


def strategy_curves(result: BacktestResult, kind: str = "long_flat") -> pd.DataFrame:
    """Cumulative net log return of each model's strategy (pooled), plus buy-and-hold."""
    data = result.predictions.merge(_benchmarks(result), on=["origin", "ticker"], how="left")
    curves = {}
    for name, group in data.groupby("model", sort=False):
        daily, _ = _strategy(group, kind, result.settings.cost_bps, panel=True)
        curves[name] = np.cumsum(daily)
    naive = data[data["model"] == "naive"]  # every model shares these origins and tickers
    curves["buy & hold"] = np.cumsum(_strategy(naive, "buy_hold", 0.0, panel=True)[0])
    origins = np.sort(data["origin"].unique())
    return pd.DataFrame(curves, index=pd.DatetimeIndex(origins))


def _ticker_groups(data: pd.DataFrame, tickers: list[str]):
    """(ticker, rows, pooled?) for each ticker, and ("ALL", all rows, True) if several."""
    groups = [(t, data[data["ticker"] == t], False) for t in tickers]
    if len(tickers) > 1:
        groups.append(("ALL", data, True))
    return groups


def metrics_table(result: BacktestResult) -> pd.DataFrame:
    """The metrics of every model, per ticker and pooled, ranked by RMSE within each ticker."""
    h, cost = result.settings.horizon, result.settings.cost_bps
    data = result.predictions.merge(_benchmarks(result), on=["origin", "ticker"], how="left")
    naive = data[data["model"] == "naive"].set_index(["origin", "ticker"])["actual"]
    first_test = data["origin"].min()
    scales = {
        t: metrics.naive_mae(result.prices.loc[:first_test, t].to_numpy(), h)
        for t in result.prices.columns
    }
    rows = []
    tickers = list(result.prices.columns)
    for ticker, subset, panel in _ticker_groups(data, tickers):
        scale = float(np.nanmean([scales[t] for t in tickers])) if panel else scales[ticker]
        for name, group in subset.groupby("model", sort=False):
            naive_errors = naive.loc[list(zip(group["origin"], group["ticker"], strict=True))]
            rows.append(
                {
                    "model": name,
                    "ticker": ticker,
                    **_row(group, naive_errors, h, scale, cost, panel),
                }
            )
    table = pd.DataFrame(rows)
    order = {t: k for k, t in enumerate([*tickers, "ALL"])}
    table["_t"] = table["ticker"].map(order)
    return (
        table.sort_values(["_t", "rmse"], kind="stable").drop(columns="_t").reset_index(drop=True)
    )


def refit_table(result: BacktestResult) -> pd.DataFrame:
    """One row per refit and model: the training window, how training went (trained models:
    epochs run, the epoch kept, its validation loss), and that fold's out-of-sample RMSE and
    R² against the random walk (all tickers pooled)."""
    rows = []
    predictions = result.predictions
    for record in result.refits.to_dict("records"):
        fold = predictions[
            (predictions["fold"] == record["fold"]) & (predictions["model"] == record["model"])
        ]
        actual, forecast = fold["actual"].to_numpy(), fold["forecast"].to_numpy()
        rows.append(
            {
                **record,
                "n": len(fold),
                "rmse": metrics.rmse(actual, forecast) if len(fold) else np.nan,
                "r2_vs_zero": metrics.oos_r2(actual, forecast, 0.0) if len(fold) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def buy_and_hold(result: BacktestResult) -> pd.DataFrame:
    """Buy-and-hold over the test origins, once per ticker (and pooled): the yardstick of the
    trading figures, which is the same whatever model is tested."""
    data = result.predictions.merge(_benchmarks(result), on=["origin", "ticker"], how="left")
    naive = data[data["model"] == "naive"]
    rows = []
    for ticker, group, panel in _ticker_groups(naive, list(result.prices.columns)):
        daily, position = _strategy(group, "buy_hold", 0.0, panel)
        rows.append({"ticker": ticker, **performance(daily, position)})
    return pd.DataFrame(rows)


def cumulative_sse_difference(result: BacktestResult) -> pd.DataFrame:
    """Goyal-Welch curves: for each model, the running sum over origins of the random walk's
    squared error minus the model's (all tickers summed). Rising: the model is beating the
    random walk over that stretch; falling: losing; a final value above 0 means a smaller
    total squared error over the test period."""
    data = result.predictions
    naive = data[data["model"] == "naive"].set_index(["origin", "ticker"])["actual"]
    curves = {}
    for name, group in data.groupby("model", sort=False):
        if name == "naive":
            continue
        rw = naive.loc[list(zip(group["origin"], group["ticker"], strict=True))].to_numpy()
        gain = pd.Series(
            rw**2 - (group["actual"] - group["forecast"]).to_numpy() ** 2, index=group["origin"]
        )
        curves[name] = gain.groupby(level=0).sum().cumsum()
    return pd.DataFrame(curves)
