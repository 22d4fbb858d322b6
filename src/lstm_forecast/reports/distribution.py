"""The report's distribution part: volatility and calibration tables, interval bands, the
VaR-breach plot, PIT histograms and the volatility forecasts against the proxy. Used inside the
return report when a model forecast a distribution, and as the whole report for
``--target volatility``."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from .. import __version__
from ..evaluation.backtest import BacktestResult
from ..evaluation.calibration import (
    NAIVE_VARIANCE,
    backtest_calibration,
    distribution_rows,
    pit,
    volatility_words,
)
from ..features.volatility import GARMAN_KLASS, variance_proxy
from . import plots
from .parts import (
    STYLE,
    embedded,
    html_table,
    read_as_note,
    records,
    run_config,
    settings_rows,
    worth_section,
)
from .rundir import RunDirectory

VOLATILITY_COLUMNS = [
    ("model", "model", "{}"),
    ("ticker", "ticker", "{}"),
    ("qlike", "QLIKE", "{:.4f}"),
    ("mse", "MSE of the variance", "{:.3g}"),
    ("qlike_dm", "DM on QLIKE", "{:+.2f}"),
    ("qlike_dm_p", "p (beats the naive variance)", "{:.3g}"),
    ("stepm", "beats it after counting every comparison (StepM 5%)", "{}"),
    ("in_mcs", "in the 90% model confidence set", "{}"),
    ("crps", "CRPS", "{:.3g}"),
    ("log_score", "log score", "{:.3f}"),
    ("pinball", "pinball", "{:.3g}"),
    ("cov80", "80% covers", "{:.1%}"),
    ("cov90", "90% covers", "{:.1%}"),
    ("cov95", "95% covers", "{:.1%}"),
    ("cov99", "99% covers", "{:.1%}"),
    ("kupiec_p90", "Kupiec p (90%)", "{:.3f}"),
    ("christoffersen_p90", "Christoffersen p (90%)", "{:.3f}"),
    ("kupiec_p99", "Kupiec p (99%)", "{:.3f}"),
    ("christoffersen_p99", "Christoffersen p (99%)", "{:.3f}"),
]
CALIBRATION_COLUMNS = [
    ("model", "model", "{}"),
    ("ticker", "ticker", "{}"),
    ("kind", "kind", "{}"),
    ("level", "level", "{:.0%}"),
    ("n", "days tested", "{}"),
    ("misses", "misses", "{}"),
    ("expected", "expected", "{:.1f}"),
    ("coverage", "coverage", "{:.1%}"),
    ("kupiec_p", "Kupiec p", "{:.3f}"),
    ("independence_p", "independence p", "{:.3f}"),
    ("conditional_p", "conditional coverage p", "{:.3f}"),
]


def _calibrated(record: dict) -> str:
    p = record["conditional_p"]
    return "bad" if isinstance(p, float) and p < 0.05 else ""


def _first_ticker(rows: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    ticker = rows["ticker"].iloc[0]
    return ticker, rows[rows["ticker"] == ticker]


def distribution_figures(result: BacktestResult) -> dict[str, bytes]:
    """Name -> PNG of the distribution figures (empty when no model forecast one)."""
    rows = distribution_rows(result.all_predictions())
    if not len(rows):
        return {}
    h = result.settings.horizon
    _, one = _first_ticker(rows)
    return {
        "intervals.png": plots.interval_plot(one, h),
        "var_breaches.png": plots.var_breach_plot(one, h),
        "pit.png": plots.pit_plot(pit(rows)),
        "volatility.png": plots.volatility_plot(one, h),
    }


def _proxy_words(result: BacktestResult) -> str:
    _, kind = variance_proxy(result.prices)
    if kind == GARMAN_KLASS:
        return (
            "the Garman-Klass range estimator with the overnight gap, from each day's open, high, "
            "low and close, scaled so that its mean equals the squared returns' mean (an index's "
            "open often repeats the previous close and hides the overnight move)"
        )
    return "the squared daily log return (the data has closes only): unbiased but noisy"


def _overlap_words(h: int) -> str:
    if h == 1:
        return ""
    return f" Coverage tests use every {h}th origin, whose outcomes do not overlap."


Tables = tuple[pd.DataFrame, pd.DataFrame]  # volatility, calibration: backtest_calibration


def distribution_section(result: BacktestResult, embed: dict[str, str], tables: Tables) -> str:
    """The HTML of the distribution part: ``tables`` from
    :func:`~lstm_forecast.evaluation.calibration.backtest_calibration`, figures taken from
    ``embed`` (name -> data URI)."""
    vol, calibration = tables
    if not len(vol):
        return ""
    h = result.settings.horizon
    ticker, _ = _first_ticker(distribution_rows(result.all_predictions()))

    def img(name: str) -> str:
        return f'<img alt="{name}" src="{embed[name]}">'

    return f"""<h2>Forecast distributions and volatility ({h}-day)</h2>
<p class="note">Each model here forecasts the distribution of the {h}-day log return (the
volatility models and the naive variance, {NAIVE_VARIANCE}, have a zero mean: the random walk's).
Its variance is scored against a proxy of the variance that came true: {_proxy_words(result)},
summed over the {h} days. QLIKE and the MSE of the variance rank forecasts as the true variance
would even with a noisy proxy (Patton 2011); QLIKE is 0 for a perfect forecast and punishes
too low a variance more than too high. "p (beats the naive variance)": one-sided
Diebold-Mariano test on QLIKE against {NAIVE_VARIANCE}, unadjusted. CRPS, log score and
pinball loss score the whole distribution (lower is better). Coverage: the share of outcomes
inside the central interval. Kupiec tests the number of misses, Christoffersen's conditional
coverage also whether misses come in clusters (p below 0.05: reject a calibrated
model).{_overlap_words(h)} The family-wise tests count every comparison: SPA (Hansen 2005)
asks whether any model beats {NAIVE_VARIANCE} on QLIKE, StepM (Romano and Wolf 2005, 5% over
every model on every ticker) which ones do, and the 90% model confidence set (Hansen, Lunde
and Nason 2011) holds the models that cannot be told from the best.</p>
<p>{html.escape(volatility_words(vol))}</p>
{html_table(vol, VOLATILITY_COLUMNS, "volatility")}
<h3>Calibration: central intervals and Value-at-Risk</h3>
<p class="note">Interval: a miss is an outcome outside the central interval. VaR: a breach is an
outcome below the lower (1 - level) quantile, the loss a risk manager reports. Red rows fail the
conditional coverage test at 5%. Also in calibration.csv.</p>
{html_table(calibration, CALIBRATION_COLUMNS, "calibration", _calibrated)}
<h3>Intervals and Value-at-Risk over the test period ({html.escape(str(ticker))})</h3>
{img("intervals.png")}
{img("var_breaches.png")}
<h3>Probability integral transform</h3>
<p class="note">The forecast CDF at each outcome. A calibrated model gives a flat histogram at
height 1; a hump in the middle says the intervals are too wide, a U too narrow, a slope a biased
mean.</p>
{img("pit.png")}
<h3>Volatility forecasts against the proxy ({html.escape(str(ticker))})</h3>
{img("volatility.png")}"""


def write_distribution_files(result: BacktestResult, run: RunDirectory, tables: Tables) -> dict:
    """volatility.csv and calibration.csv; returns their content for metrics.json."""
    vol, calibration = tables
    run.write("volatility.csv", vol.to_csv(index=False))
    run.write("calibration.csv", calibration.to_csv(index=False))
    _, proxy = variance_proxy(result.prices)
    return {"proxy": proxy, "volatility": records(vol), "calibration": records(calibration)}


def write_volatility_outputs(
    result: BacktestResult,
    run: RunDirectory,
    source: str,
    command: dict | None = None,
    tables: Tables | None = None,
) -> Path:
    """Everything a ``--target volatility`` backtest writes: predictions.csv, volatility.csv,
    calibration.csv, refits.csv, metrics.json, the PNGs and report.html (``tables``: from
    :func:`~lstm_forecast.evaluation.calibration.backtest_calibration` if already computed)."""
    from ..evaluation.importance import backtest_importance
    from ..evaluation.summary import refit_table

    tables = backtest_calibration(result) if tables is None else tables
    worth = backtest_importance(result)
    if len(worth):
        run.write("importance.csv", worth.to_csv(index=False))
    predictions = result.all_predictions()
    run.write("predictions.csv", predictions.to_csv(index=False, date_format="%Y-%m-%d"))
    scores = write_distribution_files(result, run, tables)
    refits = refit_table(result)
    run.write("refits.csv", refits.to_csv(index=False, date_format="%Y-%m-%d"))
    document = {
        "version": __version__,
        "source": source,
        "tickers": list(result.prices.columns),
        "test_start": f"{predictions['origin'].min():%Y-%m-%d}",
        "test_end": f"{predictions['origin'].max():%Y-%m-%d}",
        "seconds": result.seconds,
        "settings": result.settings_dict(),
        "command": command,
        **scores,
        "refits": records(result.refits),
        "importance": records(worth),
    }
    run.write("metrics.json", json.dumps(document, indent=2, default=str))
    if command is not None:
        run.write("run.toml", run_config(command))
    images = distribution_figures(result)
    for name, data in images.items():
        run.write(name, data)
    embed = embedded(images)
    s, prices, h = result.settings, result.prices, result.settings.horizon
    body = f"""<!doctype html><html><head><meta charset="utf-8">
<title>lstm-forecast volatility backtest: {html.escape(source)}, {h}-day</title>
<style>{STYLE}</style></head><body>
<h1>Walk-forward backtest of {h}-day volatility forecasts: {html.escape(source)}</h1>
<p class="note">Data: {html.escape(", ".join(prices.columns))}, {prices.index[0]:%Y-%m-%d} to
{prices.index[-1]:%Y-%m-%d}; {len(result.folds)} refits, every {s.refit_every} days,
{s.window} window; every forecast made from data up to its origin only. The LSTM forecasts
the log variance, trained on QLIKE against the proxy. Run time {result.seconds:.1f} s.
{read_as_note(prices)}</p>
{distribution_section(result, embed, tables)}
{worth_section(worth)}
<h2>Settings</h2><table id="settings">{settings_rows(result.settings_dict())}</table>
</body></html>"""
    return run.write("report.html", body)
