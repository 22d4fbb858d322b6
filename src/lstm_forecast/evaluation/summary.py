"""From a backtest's predictions to the metrics table: one row per model and ticker, plus
pooled rows (ticker ``ALL``) when there are several tickers.

MASE is scaled by the naive forecast's in-sample MAE over the last 252 training days (over
decades of training data, early price levels would make the scale meaningless).
Pooled figures treat the tickers as one panel: errors are summed over all forecasts, the
Diebold-Mariano and hit-rate tests run on the cross-sectional mean per date (tickers that
move together are not independent evidence), and the strategy holds an equal-weight
portfolio of the per-ticker positions.

Every p-value in a row is unadjusted: one test, as if it were the only one. The family-wise
columns (:mod:`.family`) count them all: ``spa_p`` (does any model beat the random walk on
this ticker?), ``stepm`` (kept by Romano-Wolf StepM at 5% over every model on every ticker and
pooled: only then the verdict says "beats"), ``in_mcs`` (in the 90% Model Confidence Set),
``dm_p_holm`` (Holm-adjusted DM p-values over all rows); and for each strategy the
Probabilistic and Deflated Sharpe Ratios (:mod:`.overfitting`), with ``sharpe_trials`` the
number of strategies the run tried and ``luck_sharpe`` the best annualised Sharpe ratio that
many skill-less tries would give on average.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..data.summary import periods_per_year
from ..features import horizon_target, log_returns
from . import family, metrics
from .backtest import BacktestResult
from .overfitting import deflated_sharpe, expected_max_sharpe, probabilistic_sharpe, sharpe_moments
from .stats import diebold_mariano_from_differential, hln_t, pesaran_timmermann, verdict
from .strategy import TRADING_DAYS, performance, strategy_returns

MASE_DAYS = 252  # MASE scale: naive in-sample MAE over the last year before the test period


def outcomes(result: BacktestResult) -> pd.DataFrame:
    """Per (origin, ticker) of the test origins: historical-mean forecast known then, and the
    next-day return."""
    prices, h = result.prices, result.settings.horizon
    y = horizon_target(prices, h)
    known_mean = y.shift(h).expanding().mean()  # mean of outcomes known at each origin
    next_return = log_returns(prices).shift(-1)
    origins = pd.DatetimeIndex(sorted(result.predictions["origin"].unique()))
    frame = pd.DataFrame(
        {
            "hist_mean": known_mean.loc[origins].stack(future_stack=True),
            "next_return": next_return.loc[origins].stack(future_stack=True),
        }
    )
    frame.index.names = ["origin", "ticker"]
    return frame.reset_index()


def _row(
    group: pd.DataFrame,
    naive_errors: pd.Series,
    h: int,
    scale: float,
    cost: float,
    panel: bool,
    periods: int = TRADING_DAYS,
) -> dict:
    forecast, actual = group["forecast"].to_numpy(), group["actual"].to_numpy()
    hit, calls, hit_p = metrics.hit_rate(actual, forecast, h)
    if panel:
        hit_p = _pooled_hit_p(group, h)
    errors = actual - forecast
    differential = pd.Series(errors**2 - naive_errors.to_numpy() ** 2, index=group["origin"])
    if panel:
        differential = differential.groupby(level=0).mean()
    dm = diebold_mariano_from_differential(differential.to_numpy(), h)
    r2_zero = metrics.oos_r2(actual, forecast, 0.0)
    pt = pesaran_timmermann(actual, forecast, h)
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
        "_same": bool(np.all(differential.to_numpy() == 0)),
        "verdict": "",
        **metrics.price_errors(
            group["actual_price"].to_numpy(), group["forecast_price"].to_numpy(), scale
        ),
    }
    for kind, prefix in (("long_flat", "lf"), ("long_short", "ls")):
        daily, position = strategy_daily(group, kind, cost, panel)
        row.update({f"{prefix}_{k}": v for k, v in performance(daily, position, periods).items()})
        sharpe, n, skew, kurtosis = sharpe_moments(daily)
        row[f"{prefix}_psr"] = probabilistic_sharpe(sharpe, n, skew, kurtosis)
        row[f"_{prefix}_moments"] = (sharpe, n, skew, kurtosis)
    return row


def _pooled_hit_p(group: pd.DataFrame, h: int) -> float:
    """Hit-rate p-value of a panel: the HAC t-test on the per-date mean of hit - 1/2."""
    called = group[(group["forecast"] != 0) & (group["actual"] != 0)]
    hit = np.sign(called["forecast"]) == np.sign(called["actual"])
    per_date = (hit.astype(float) - 0.5).groupby(called["origin"].to_numpy()).mean()
    statistic, n = hln_t(per_date.to_numpy(), h)
    return float(stats.t.sf(statistic, df=n - 1)) if np.isfinite(statistic) else float("nan")


def strategy_daily(
    group: pd.DataFrame, kind: str, cost: float, panel: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(daily net returns, positions) of trading ``kind`` on ``group``'s forecasts (rows of
    predictions merged with :func:`outcomes`); a panel holds the equal-weight portfolio."""
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
    data = result.predictions.merge(outcomes(result), on=["origin", "ticker"], how="left")
    curves = {}
    for name, group in data.groupby("model", sort=False):
        daily, _ = strategy_daily(group, kind, result.settings.cost_bps, panel=True)
        curves[name] = np.cumsum(daily)
    naive = data[data["model"] == "naive"]  # every model shares these origins and tickers
    curves["buy & hold"] = np.cumsum(strategy_daily(naive, "buy_hold", 0.0, panel=True)[0])
    origins = np.sort(data["origin"].unique())
    return pd.DataFrame(curves, index=pd.DatetimeIndex(origins))


def ticker_groups(data: pd.DataFrame, tickers: list[str]) -> list[tuple[str, pd.DataFrame, bool]]:
    """(ticker, rows, pooled?) for each ticker, and ("ALL", all rows, True) if several."""
    by_ticker = dict(tuple(data.groupby("ticker", sort=False)))  # one pass, not one per ticker
    groups = [(t, by_ticker.get(t, data.iloc[:0]), False) for t in tickers]
    if len(tickers) > 1:
        groups.append(("ALL", data, True))
    return groups


def metrics_table(result: BacktestResult) -> pd.DataFrame:
    """The metrics of every model, per ticker and pooled, ranked by RMSE within each ticker."""
    h, cost = result.settings.horizon, result.settings.cost_bps
    periods = periods_per_year(result.prices.index)
    data = result.predictions.merge(outcomes(result), on=["origin", "ticker"], how="left")
    naive = data[data["model"] == "naive"].set_index(["origin", "ticker"])["actual"]
    first_test = data["origin"].min()
    scales = {
        t: metrics.naive_mae(result.prices.loc[:first_test, t].to_numpy(), h)
        for t in result.prices.columns
    }
    rows = []
    tickers = list(result.prices.columns)
    for ticker, subset, panel in ticker_groups(data, tickers):
        scale = float(np.nanmean([scales[t] for t in tickers])) if panel else scales[ticker]
        for name, group in subset.groupby("model", sort=False):
            naive_errors = naive.loc[list(zip(group["origin"], group["ticker"], strict=True))]
            rows.append(
                {
                    "model": name,
                    "ticker": ticker,
                    **_row(group, naive_errors, h, scale, cost, panel, periods),
                }
            )
    table = _family_columns(pd.DataFrame(rows), data, tickers, h)
    table = _deflate(table, _configurations(result), periods)
    order = {t: k for k, t in enumerate([*tickers, "ALL"])}
    table["_t"] = table["ticker"].map(order)
    return (
        table.sort_values(["_t", "rmse"], kind="stable").drop(columns="_t").reset_index(drop=True)
    )


def _losses(data: pd.DataFrame, tickers: list[str]) -> dict[str, pd.DataFrame]:
    """Squared errors per group (each ticker, and "ALL": the mean over tickers per date):
    rows the origins, one column per model."""
    squared = data.assign(loss=(data["actual"] - data["forecast"]) ** 2)
    frames = {}
    for ticker, subset, _ in ticker_groups(squared, tickers):
        frames[ticker] = subset.pivot_table(
            index="origin", columns="model", values="loss", aggfunc="mean", sort=False
        ).dropna()
    return frames


def _family_columns(
    table: pd.DataFrame, data: pd.DataFrame, tickers: list[str], h: int
) -> pd.DataFrame:
    """SPA per group, the MCS per group, one StepM over every model on every ticker and
    pooled, Holm over every DM p-value; then the verdicts (see the module doc)."""
    frames = _losses(data, tickers)
    spa, mcs, differentials = {}, {}, {}
    for group, losses in frames.items():
        bench, others = losses["naive"], losses.drop(columns="naive")
        block = family.block_length(others.sub(bench, axis=0), h)
        spa[group] = family.spa_pvalue(bench, others, block)
        mcs[group] = set(family.confidence_set(losses, block))
        for model in others.columns:
            differentials[(model, group)] = others[model] - bench
    # One family: every model on every ticker and pooled, over every test origin. A ticker
    # that ended (delisted) has no forecast after its end: there its differential is zero (no
    # forecast, no difference from the random walk), which keeps each column's studentised
    # mean that of its own dates, and the test valid, since zero has the null's mean.
    joint = pd.DataFrame(differentials).fillna(0.0)
    joint.columns = [f"{m}|{g}" for m, g in joint.columns]
    kept = set()
    if len(joint):
        zero = pd.Series(0.0, index=joint.index)
        kept = set(family.stepm_superior(zero, joint, family.block_length(joint, h)))
    table["spa_p"] = table["ticker"].map(spa)
    table["in_mcs"] = [m in mcs[t] for m, t in zip(table["model"], table["ticker"], strict=True)]
    table["stepm"] = [
        f"{m}|{t}" in kept for m, t in zip(table["model"], table["ticker"], strict=True)
    ]
    tested = table["model"] != "naive"
    table["dm_p_holm"] = family.holm(table["dm_p"].where(tested))
    table["verdict"] = [
        verdict(p, k, same)
        for p, k, same in zip(table["dm_p"], table["stepm"], table["_same"], strict=True)
    ]
    table = table.drop(columns="_same")
    return table


def _configurations(result: BacktestResult) -> int:
    """How many model configurations were tried: one per model of the run other than the
    random walk, for a tuned LSTM one per tuning trial (all refits), and the configurations
    the user tried before this run (``prior_tries``, ``--prior-tries``)."""
    models = [m for m in result.settings.models if m != "naive"]
    trials = 0
    refits = result.refits
    if "trials" in refits and refits["trials"].notna().any():
        trials = int(refits.loc[refits["model"] == "lstm", "trials"].fillna(1).sum())
    return len(models) + (trials - 1 if trials else 0) + result.settings.prior_tries


def _deflate(table: pd.DataFrame, configurations: int, periods: int = TRADING_DAYS) -> pd.DataFrame:
    """Deflated Sharpe Ratios: N = configurations x 2 strategies x groups in the table; the
    Sharpe ratio luck would reach, annualised with ``periods`` rows a year."""
    groups = table["ticker"].nunique()
    trials = max(configurations, 1) * 2 * groups
    table["sharpe_trials"] = trials
    for prefix in ("lf", "ls"):
        column = f"_{prefix}_moments"
        table[f"{prefix}_dsr"] = [
            deflated_sharpe(sr, n, trials, skew, kurt) for sr, n, skew, kurt in table[column]
        ]
        # luck's Sharpe per row, over that row's own days (a ticker that ended has fewer,
        # and luck reaches further over fewer); a row that never traded takes the longest
        days = table[column].map(lambda m: m[1])
        days = days.where(days >= 2, days.max())
        table["luck_sharpe"] = [
            expected_max_sharpe(trials, 1 / max(int(n) - 1, 1)) * np.sqrt(periods) for n in days
        ]
        table = table.drop(columns=column)
    return table


def refit_table(result: BacktestResult) -> pd.DataFrame:
    """One row per refit and model: the training window, how training went (trained models:
    rounds of validation run, the round kept (0: the starting weights, which for a
    warm-started LSTM are the previous fold's), its validation loss), and that fold's
    out-of-sample RMSE and R² against the random walk (all tickers pooled)."""
    rows = []
    predictions = result.all_predictions()
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
    data = result.predictions.merge(outcomes(result), on=["origin", "ticker"], how="left")
    naive = data[data["model"] == "naive"]
    rows = []
    periods = periods_per_year(result.prices.index)
    for ticker, group, panel in ticker_groups(naive, list(result.prices.columns)):
        daily, position = strategy_daily(group, "buy_hold", 0.0, panel)
        rows.append({"ticker": ticker, **performance(daily, position, periods)})
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


def untrained_notes(result: BacktestResult) -> list[str]:
    """A line for each trained model that kept its starting weights at every refit: what it
    forecast is then no fit of the data (for a point forecast the training mean, as drift)."""
    refits, notes = result.refits, []
    if refits.empty or "best_epoch" not in refits:
        return notes
    for name, rows in refits.groupby("model", sort=True):
        trained = rows[rows["epochs"].fillna(0) > 0]
        if trained.empty or len(trained) < len(rows) or (trained["best_epoch"] != 0).any():
            continue
        settings = result.settings.model_settings.get(name, {})
        point = result.settings.target in ("return", "relative") and settings.get(
            "distribution", "none"
        ) in ("none", None)
        what = "the training mean, as drift does" if point else "the distribution it starts from"
        notes.append(
            f"{name}: at none of the {len(rows)} refits did a round of training beat the "
            "starting weights on validation (by --min-gain-se standard errors), so it forecast "
            f"what an untrained network does: {what}."
        )
    return notes


def ended_notes(result: BacktestResult) -> list[str]:
    """A line for each ticker whose prices stop before the data's last date (delisted, or
    not updated): the day it ended and how many of the test origins it was scored on."""
    prices, rows = result.prices, result.predictions
    origins = rows["origin"].nunique()
    notes = []
    for ticker in prices.columns:
        last = prices[ticker].last_valid_index()
        if last is None or last >= prices.index[-1]:
            continue
        scored = rows.loc[rows["ticker"] == ticker, "origin"].nunique()
        notes.append(
            f"{ticker} has no prices after {last:%Y-%m-%d} (delisted, or not updated?): it "
            f"was scored on {scored} of the {origins} test origins, up to its last price."
        )
    return notes


def listed_notes(result: BacktestResult) -> list[str]:
    """A line for each ticker first forecast after the first refit (listed inside the data,
    so that the first refits had too few of its own prices to fit it): when its prices begin,
    the refit it entered at, and how many of the test origins it was scored on."""
    from .splits import first_forecast

    prices, rows = result.prices, result.predictions
    origins = rows["origin"].nunique()
    notes = []
    need = result.settings.ticker_train_days
    for ticker, fold in first_forecast(prices, result.folds, need).items():
        if fold is None or fold is result.folds[0]:
            continue
        scored = rows.loc[rows["ticker"] == ticker, "origin"].nunique()
        notes.append(
            f"{ticker}'s prices begin {prices[ticker].first_valid_index():%Y-%m-%d}: it was "
            f"first forecast at the refit of {fold.origins[0]:%Y-%m-%d}, the first with "
            f"enough of its own prices to fit, and scored on {scored} of the {origins} test "
            "origins."
        )
    return notes


def floor_notes(result: BacktestResult) -> list[str]:
    """A line for each warm-started model that dropped an earlier fit at some refits, because
    it no longer beat the training mean on validation (``mean_floor``): which refits, and
    that each started again from the mean."""
    refits, notes = result.refits, []
    if refits.empty or "floor_gain_se" not in refits:
        return notes
    for name, rows in refits.groupby("model", sort=True):
        dropped = rows.loc[rows["floor_gain_se"] <= 0]
        if dropped.empty:
            continue
        which = ", ".join(f"{fold} ({gain:+.2f})" for fold, gain in
                          zip(dropped["fold"], dropped["floor_gain_se"], strict=True))  # fmt: skip
        notes.append(
            f"{name}: at refit{'s' if len(dropped) > 1 else ''} {which} the weights it kept no "
            "longer beat the training mean on validation (gain in standard errors), so it "
            "forecast that mean there and the next refit started again from it (--mean-floor)."
        )
    return notes


def run_notes(result: BacktestResult) -> list[str]:
    """The lines under the verdicts: tickers that listed late or ended, then models that kept
    their start, then earlier fits dropped for the training mean."""
    return [
        *listed_notes(result),
        *ended_notes(result),
        *untrained_notes(result),
        *floor_notes(result),
    ]
