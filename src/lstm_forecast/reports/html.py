"""The backtest report: one self-contained HTML file (images embedded), and its PNGs."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from ..evaluation.backtest import BacktestResult
from ..evaluation.summary import strategy_curves
from . import plots
from .rundir import RunDirectory, safe_name

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
    ("dm_p", "p (DM)", "{:.3f}"),
    ("verdict", "against the random walk", "{}"),
    ("mase", "MASE", "{:.3f}"),
    ("lf_sharpe", "Sharpe long/flat", "{:.2f}"),
    ("ls_sharpe", "Sharpe long/short", "{:.2f}"),
    ("lf_max_drawdown", "max DD long/flat", "{:.1%}"),
    ("bh_sharpe", "Sharpe buy&hold", "{:.2f}"),
]

STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1150px;color:#222}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;
text-align:right}th{background:#f2f2f2}td.l{text-align:left}img{max-width:100%;display:block;
margin:1em 0}.good{background:#e6f4e6}.bad{background:#fbe9e9}.note{color:#555;font-size:14px}"""


def _cell(value, fmt: str) -> str:
    if isinstance(value, float) and value != value:  # NaN
        return "-"
    return html.escape(fmt.format(value))


def metrics_html(table: pd.DataFrame) -> str:
    """The metrics table, verdicts coloured."""
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in COLUMNS)
    rows = []
    for record in table.to_dict("records"):
        css = (
            "good"
            if record["verdict"].startswith("beats")
            else ("bad" if record["verdict"].startswith("significantly worse") else "")
        )
        cells = "".join(
            f'<td class="{"l" if key in ("model", "ticker", "verdict") else ""}">'
            f"{_cell(record[key], fmt)}</td>"
            for key, _, fmt in COLUMNS
        )
        rows.append(f'<tr class="{css}">{cells}</tr>')
    return f'<table id="metrics"><tr>{head}</tr>{"".join(rows)}</table>'


def figures(result: BacktestResult) -> dict[str, bytes]:
    """Name -> PNG bytes of every figure of the report."""
    out: dict[str, bytes] = {}
    for t in list(result.prices.columns)[:6]:
        name = f"forecast_{safe_name(t, {n[9:-4] for n in out})}.png"
        out[name] = plots.forecast_plot(result.predictions, t)
    cost = result.settings.cost_bps
    out["strategy_long_flat.png"] = plots.strategy_plot(
        strategy_curves(result, "long_flat"), f"Long/flat on the forecast sign, net of {cost:g} bp"
    )
    out["strategy_long_short.png"] = plots.strategy_plot(
        strategy_curves(result, "long_short"),
        f"Long/short on the forecast sign, net of {cost:g} bp",
    )
    out["errors.png"] = plots.error_plot(result.predictions)
    return out


def write_report(
    result: BacktestResult, table: pd.DataFrame, run: RunDirectory, source: str
) -> Path:
    """Write the PNGs and ``report.html`` (images embedded) into ``run``; return the HTML's
    final path."""
    images = figures(result)
    for name, data in images.items():
        run.write(name, data)
    embed = {n: "data:image/png;base64," + base64.b64encode(d).decode() for n, d in images.items()}
    s, prices = result.settings, result.prices
    first, last = result.predictions["origin"].min(), result.predictions["origin"].max()
    settings = "".join(
        f"<tr><td class='l'>{html.escape(str(k))}</td><td class='l'>{html.escape(str(v))}</td></tr>"
        for k, v in result.settings_dict().items()
    )
    forecast_imgs = "".join(
        f'<img alt="{html.escape(n)}" src="{embed[n]}">'
        for n in images
        if n.startswith("forecast_")
    )
    body = f"""<!doctype html><html><head><meta charset="utf-8">
<title>lstm-forecast backtest: {html.escape(source)}</title><style>{STYLE}</style></head><body>
<h1>Walk-forward backtest: {html.escape(source)}</h1>
<p class="note">Data: {html.escape(", ".join(prices.columns))}, {prices.index[0]:%Y-%m-%d} to
{prices.index[-1]:%Y-%m-%d}. Test origins {first:%Y-%m-%d} to {last:%Y-%m-%d}
({len(result.folds)} refits, every {s.refit_every} days, {s.window} window); forecasts of the
{s.horizon}-day log return, each made from data up to its origin only. Run time
{result.seconds:.1f} s.</p>
<h2>Does any model beat the random walk?</h2>
<p class="note">The random walk forecasts no change. "R² vs RW" is the out-of-sample R² against
it (above 0 means smaller squared errors); the Diebold-Mariano test asks whether the
difference is larger than luck would give (one-sided p-value). "R² vs mean" compares with the
historical average return (Campbell & Thompson 2008). Hit rate is the share of correctly
called directions: "p (coin)" is the chance of doing that well by coin flips, which an
always-"up" forecast passes in a rising market; "p (PT)" is the Pesaran-Timmermann test of
calling directions better than chance given how often prices and forecasts rise (blank when
the forecast never changes direction). Green rows beat the
random walk at the 5% level; red rows are significantly worse.</p>
{metrics_html(table)}
<h2>Forecasts over the test period</h2>{forecast_imgs}
<h2>Trading on the forecasts</h2>
<img alt="strategy_long_flat.png" src="{embed["strategy_long_flat.png"]}">
<img alt="strategy_long_short.png" src="{embed["strategy_long_short.png"]}">
<h2>Error distribution</h2><img alt="errors.png" src="{embed["errors.png"]}">
<h2>Settings</h2><table id="settings">{settings}</table>
</body></html>"""
    return run.write("report.html", body)
