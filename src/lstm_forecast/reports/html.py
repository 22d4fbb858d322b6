"""The backtest report: one self-contained HTML file (images embedded), and its PNGs."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from ..evaluation.backtest import BacktestResult
from ..evaluation.calibration import backtest_calibration
from ..evaluation.crosssection import cross_section_words
from ..evaluation.importance import backtest_importance
from ..evaluation.luck import luck_table, plain_words
from ..evaluation.summary import (
    buy_and_hold,
    cumulative_sse_difference,
    refit_table,
    run_notes,
    strategy_curves,
)
from . import plots
from .distribution import distribution_figures, distribution_section
from .parts import STYLE, cell, embedded, html_table, read_as_note, settings_rows, worth_section
from .rundir import RunDirectory

COLUMNS = [
    ("model", "model", "{}"),
    ("ticker", "ticker", "{}"),
    ("rmse", "RMSE", "{:.5f}"),
    ("r2_vs_zero", "R² vs RW", "{:+.4f}"),
    ("r2_vs_mean", "R² vs mean", "{:+.4f}"),
    ("hit_rate", "hit rate", "{:.1%}"),
    ("hit_p", "p (coin)", "{:.3f}"),
    ("pt_p", "p (PT)", "{:.3f}"),
    ("dm_stat", "DM", "{:+.2f}"),
    ("dm_p", "p (DM, unadjusted)", "{:.3f}"),
    ("dm_p_holm", "p (DM, Holm)", "{:.3f}"),
    ("verdict", "against the random walk", "{}"),
    ("mase", "MASE", "{:.3f}"),
    ("lf_sharpe", "Sharpe long/flat", "{:.2f}"),
    ("ls_sharpe", "Sharpe long/short", "{:.2f}"),
    ("lf_max_drawdown", "max DD long/flat", "{:.1%}"),
    ("lf_dsr", "DSR long/flat", "{:.2f}"),
    ("ls_dsr", "DSR long/short", "{:.2f}"),
]
LUCK_COLUMNS = [
    ("ticker", "ticker", "{}"),
    ("spa_p", "SPA p-value: does any model beat the RW?", "{:.3f}"),
    ("stepm", "StepM 5%: which ones?", "{}"),
    ("confidence_set", "90% model confidence set", "{}"),
    ("best_strategy", "best strategy", "{}"),
    ("best_sharpe", "its Sharpe", "{:.2f}"),
    ("luck_sharpe", "best Sharpe of N skill-less tries", "{:.2f}"),
    ("sharpe_trials", "N", "{}"),
    ("best_dsr", "Deflated Sharpe Ratio", "{:.2f}"),
    ("pbo", "PBO", "{:.0%}"),
]
REFIT_COLUMNS = [
    ("fold", "refit", "{}"),
    ("model", "model", "{}"),
    ("train_start", "training from", "{:%Y-%m-%d}"),
    ("train_end", "to", "{:%Y-%m-%d}"),
    ("first_origin", "forecasts from", "{:%Y-%m-%d}"),
    ("last_origin", "to", "{:%Y-%m-%d}"),
    ("tickers", "tickers fit", "{:.0f}"),
    ("epochs", "rounds run", "{:.0f}"),
    ("best_epoch", "round kept (0: the start)", "{:.0f}"),
    ("best_val_loss", "best val. loss", "{:.4f}"),
    ("gain_se", "best round's gain over the start (s.e.)", "{:.2f}"),
    ("floor_gain_se", "kept weights' gain over the mean (s.e.; below 0: reset)", "{:.2f}"),
    ("rmse", "RMSE", "{:.5f}"),
    ("r2_vs_zero", "R² vs RW", "{:+.4f}"),
    ("trials", "tuning trials", "{:.0f}"),
    ("tuned", "settings chosen on validation folds", "{}"),
]


def _verdict_class(record: dict) -> str:
    if record["verdict"].startswith("beats"):
        return "good"
    return "bad" if record["verdict"].startswith("significantly worse") else ""


CROSS_COLUMNS = [
    ("model", "model", "{}"),
    ("ic_mean", "mean rank IC", "{:+.3f}"),
    ("ic_t", "t", "{:+.2f}"),
    ("ic_p", "p (one-sided)", "{:.3f}"),
    ("ic_p_holm", "p after counting every model (Holm)", "{:.3f}"),
    ("ic_hit", "dates with IC > 0", "{:.1%}"),
    ("tmb_ann_return", "top-minus-bottom return", "{:+.1%}"),
    ("tmb_sharpe", "its Sharpe", "{:.2f}"),
    ("tmb_turnover", "turnover", "{:.0f}"),
    ("dates", "dates", "{}"),
]


def _cross_section(cross: pd.DataFrame | None, h: int, cost: float) -> str:
    if cross is None or not len(cross):
        return ""
    return f"""<h2>The cross-section: does each model rank the tickers?</h2>
<p class="note">The target is each ticker's {h}-day return minus the cross-sectional median
(Fischer & Krauss 2018), so every figure above is on that relative return and the random walk
forecasts 0 for all. Rank IC: Spearman's correlation across tickers of forecast and outcome,
each date; its t statistic allows for overlapping {h}-day outcomes. Top-minus-bottom: long
the fifth of tickers with the highest forecast and short the lowest fifth, rebalanced daily,
net of {cost:g} bp per unit of turnover (annualised). {html.escape(cross_section_words(cross))}</p>
{html_table(cross, CROSS_COLUMNS, "cross_section")}"""


def _inputs_note(settings) -> str:
    """What the models read, when more than their own returns."""
    features = settings.model_settings.get("lstm", {}).get("features", "returns")
    features = features if isinstance(features, str) else ",".join(features)
    if features == "returns":
        return ""
    return (
        f" Inputs: {html.escape(features)}; OLS reads the same, so the LSTM is compared with "
        "a linear model on equal information."
    )


def metrics_html(table: pd.DataFrame) -> str:
    """The metrics table, verdicts coloured."""
    return html_table(table, COLUMNS, "metrics", _verdict_class)


def figures(result: BacktestResult) -> dict[str, bytes]:
    """Name -> PNG bytes of every figure of the report."""
    h, cost = result.settings.horizon, result.settings.cost_bps
    return {
        "cumulative_sse.png": plots.cumulative_sse_plot(cumulative_sse_difference(result), h),
        "forecast_vs_realised.png": plots.scatter_plot(result.predictions, h),
        "strategy_long_flat.png": plots.strategy_plot(
            strategy_curves(result, "long_flat"),
            f"Long/flat on the sign of the {h}-day forecast, net of {cost:g} bp",
        ),
        "strategy_long_short.png": plots.strategy_plot(
            strategy_curves(result, "long_short"),
            f"Long/short on the sign of the {h}-day forecast, net of {cost:g} bp",
        ),
        "errors.png": plots.error_plot(result.predictions, h),
    }


def write_report(
    result: BacktestResult,
    table: pd.DataFrame,
    run: RunDirectory,
    source: str,
    luck: pd.DataFrame | None = None,
    worth: pd.DataFrame | None = None,
    cross: pd.DataFrame | None = None,
    distribution: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> Path:
    """Write the PNGs and ``report.html`` (images embedded) into ``run``; return the HTML's
    final path. ``distribution``: the volatility and calibration tables
    (:func:`~lstm_forecast.evaluation.calibration.backtest_calibration`) if already computed."""
    if luck is None:
        luck = luck_table(result, table)
    if worth is None:
        worth = backtest_importance(result)
    if distribution is None:
        distribution = backtest_calibration(result)
    tests = int((table["model"] != "naive").sum())
    images = {**figures(result), **distribution_figures(result)}
    for name, data in images.items():
        run.write(name, data)
    embed = embedded(images)
    s, prices = result.settings, result.prices
    first, last = result.predictions["origin"].min(), result.predictions["origin"].max()
    settings = settings_rows(result.settings_dict())
    refits = refit_table(result)
    run.write("refits.csv", refits.to_csv(index=False, date_format="%Y-%m-%d"))
    hold = buy_and_hold(result)
    hold_text = "; ".join(
        f"{r['ticker']}: Sharpe {cell(r['sharpe'], '{:.2f}')}, "
        f"max drawdown {cell(r['max_drawdown'], '{:.1%}')}"
        for r in hold.to_dict("records")
    )

    def img(name: str) -> str:
        return f'<img alt="{name}" src="{embed[name]}">'

    h = s.horizon
    body = f"""<!doctype html><html><head><meta charset="utf-8">
<title>lstm-forecast backtest: {html.escape(source)}, {h}-day forecasts</title>
<style>{STYLE}</style></head><body>
<h1>Walk-forward backtest of {h}-day forecasts: {html.escape(source)}</h1>
<p class="note">Data: {html.escape(", ".join(prices.columns))}, {prices.index[0]:%Y-%m-%d} to
{prices.index[-1]:%Y-%m-%d}. Test origins {first:%Y-%m-%d} to {last:%Y-%m-%d}
({len(result.folds)} refits, every {s.refit_every} days, {s.window} window); forecasts of the
{h}-day log return, each made from data up to its origin only. Run time
{result.seconds:.1f} s.{_inputs_note(s)}{read_as_note(prices)}</p>
<h2>Does any model beat the random walk? ({h}-day forecasts)</h2>
<p class="note">The random walk forecasts no change. "R² vs RW" is the out-of-sample R² against
it (above 0 means smaller squared errors); the Diebold-Mariano test asks whether the
difference is larger than luck would give (one-sided p-value). "R² vs mean" compares with the
historical average return (Campbell & Thompson 2008). Hit rate is the share of correctly
called directions: "p (coin)" is the chance of doing that well by coin flips, which an
always-"up" forecast passes in a rising market; "p (PT)" is the Pesaran-Timmermann test of
calling directions better than chance given how often prices and forecasts rise (blank when
the forecast never changes direction). MASE is the mean absolute error of the price forecast
divided by the random walk's mean absolute error over the last 252 training days (Hyndman &
Koehler 2006): the scale is fixed before the test starts, so the random walk's own MASE is
not 1 but tells how much calmer or wilder the test period was than the year before it.
Every p-value in the table is unadjusted, as if its test were the only one; with
{tests} comparisons some fall below 5% by luck alone. Green rows are the models that the
Romano-Wolf StepM test keeps at a family-wise 5% over all {tests} comparisons; "p (DM, Holm)"
is the DM p-value adjusted for them by Holm's method; red rows are significantly worse.</p>
{metrics_html(table)}
<h2>Could this be luck?</h2>
<p><b>{html.escape(plain_words(luck, table))}</b></p>
{"".join(f"<p><b>{html.escape(note)}</b></p>" for note in run_notes(result))}
<p class="note">SPA (Hansen 2005): the probability of a best model this good against the random
walk if none had skill. StepM (Romano & Wolf 2005): the models that beat the random walk with
at most a 5% chance of any false claim over every model and ticker. The model confidence set
(Hansen, Lunde & Nason 2011) holds the best model (the random walk included) with 90%
probability: a set that keeps the random walk says the data cannot tell the models apart.
All three bootstrap the squared errors in blocks (stationary bootstrap, fixed seed), so
overlapping {h}-day forecasts are accounted for. The Deflated Sharpe Ratio (Bailey & López de
Prado 2014) is the probability that a strategy's true Sharpe ratio beats the best that N
skill-less strategies would show by luck; N counts every model, tuning trial, long/flat and
long/short rule and ticker this run tried. PBO (Bailey et al. 2017, 16 blocks): how often the
strategy that looks best on half the test period is below the median on the other half.</p>
{html_table(luck, LUCK_COLUMNS, "luck")}
{distribution_section(result, embed, distribution)}
{_cross_section(cross, s.horizon, s.cost_bps)}
{worth_section(worth)}
<h2>When did each model gain or lose against the random walk? ({h}-day)</h2>
<p class="note">Goyal & Welch (2008): the running sum of the random walk's squared error minus
the model's. A line that rises is beating the random walk over that stretch; one that ends
above 0 has the smaller total squared error. A steady climb is skill; a jump is one episode.</p>
{img("cumulative_sse.png")}
<h2>Forecast against realised {h}-day return</h2>
<p class="note">A model with skill shows a tilt (forecasts above 0 followed by returns above 0);
a cloud with no tilt, or forecasts squeezed near 0, shows none.</p>
{img("forecast_vs_realised.png")}
<h2>Each refit</h2>
<p class="note">Per refit: the training window, the tickers fit (a ticker listed later joins
at the first refit with 100 of its own prices), for trained models how many epochs ran and which
was kept (lowest validation loss; a round must beat the start by --min-gain-se standard
errors, and what a warm-started refit keeps must also beat the training mean, or the refit
starts again from that mean), and the out-of-sample RMSE and R² against the random walk
over the origins that refit forecast (all tickers pooled). Also in refits.csv.</p>
{html_table(refits, REFIT_COLUMNS, "refits")}
<h2>Trading on the forecasts</h2>
<p class="note">Buy and hold over the same test origins (the yardstick, the same for every
model): {html.escape(hold_text)}.</p>
{img("strategy_long_flat.png")}
{img("strategy_long_short.png")}
<h2>Error distribution ({h}-day)</h2>{img("errors.png")}
<h2>Settings</h2><table id="settings">{settings}</table>
</body></html>"""
    return run.write("report.html", body)
