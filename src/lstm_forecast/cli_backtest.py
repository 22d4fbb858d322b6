"""``lstm-forecast backtest``: the main job."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .cli import _fail, _read_or_exit, _split, app, console


@app.command()
def backtest(
    data: Annotated[str, typer.Option(help="CSV/Parquet path or embedded dataset.")] = "sp500",
    tickers: Annotated[str | None, typer.Option(help="Comma-separated tickers.")] = None,
    models: Annotated[str, typer.Option(help="Comma-separated models (naive is always in).")] = (
        "lstm,naive,drift,sma,ema,kalman,ols"
    ),
    test_days: Annotated[int, typer.Option(min=1, help="Length of the test period.")] = 500,
    refit_every: Annotated[int, typer.Option(min=1, help="Refit every K origins.")] = 63,
    horizon: Annotated[int, typer.Option(min=1, help="Forecast the H-day log return.")] = 1,
    window: Annotated[str, typer.Option(help="expanding | rolling")] = "expanding",
    train_days: Annotated[int | None, typer.Option(help="Rolling window length.")] = None,
    warm_start: Annotated[bool, typer.Option(help="LSTM starts each refit from the last.")] = True,
    jobs: Annotated[int, typer.Option(min=1, help="Processes for independent work.")] = 1,
    cost_bps: Annotated[float, typer.Option(help="Trading cost per unit turnover, bp.")] = 5.0,
    lstm_lookback: int = 60,
    lstm_hidden: int = 32,
    lstm_epochs: int = 20,
    seed: int = 0,
    out: Annotated[Path | None, typer.Option(help="Directory for CSV/JSON/HTML outputs.")] = None,
    date_col: Annotated[str | None, typer.Option(help="Name of the date column.")] = None,
    price_col: Annotated[str | None, typer.Option(help="Name of the price column.")] = None,
    ticker_col: Annotated[str | None, typer.Option(help="Name of the ticker column.")] = None,
) -> None:
    """Walk-forward backtest of every model against the random walk, with a report."""
    from .data import DataError
    from .evaluation.backtest import BacktestSettings, run_backtest
    from .evaluation.splits import walk_forward_splits
    from .evaluation.summary import metrics_table
    from .reports.outputs import check_output_dir, write_outputs

    started = time.perf_counter()
    prices = _read_or_exit(
        data, tickers=_split(tickers), date_col=date_col, price_col=price_col, ticker_col=ticker_col
    )
    lstm = dict(lookback=lstm_lookback, hidden_size=lstm_hidden, epochs=lstm_epochs, seed=seed)
    settings = BacktestSettings(
        tuple(_split(models) or ()),
        test_days,
        refit_every,
        horizon,
        window,
        train_days,
        warm_start,
        cost_bps,
        jobs,
        {"lstm": lstm},
    )
    try:
        if out is not None:
            check_output_dir(out)
        folds = walk_forward_splits(
            prices.index, test_days, refit_every, horizon, window, train_days
        )
        total = len(folds) * len(set([*settings.models, "naive"]))
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("fitting models fold by fold", total=total)
            result = run_backtest(
                prices,
                settings,
                lambda name, done: bar.update(task, advance=done, description=f"{name} done"),
            )
        table = metrics_table(result)
    except (DataError, ValueError, RuntimeError) as exc:
        _fail(exc)
    _print_ranking(table, result, data)
    if out is not None:
        report = write_outputs(result, table, out, data)
        console.print(f"Wrote predictions.csv, metrics.csv, metrics.json and {report}")
    console.print(f"Finished in {time.perf_counter() - started:.1f} s.")


SHORT = {
    "no evidence of skill": "no evidence",
    "beats the random walk at the 5% level": "beats it (5%)",
    "beats the random walk at the 1% level": "beats it (1%)",
    "significantly worse than the random walk": "worse (sig.)",
    "same forecasts as the random walk": "benchmark",
}


def _fmt(value: float, spec: str) -> str:
    return "-" if value != value else spec.format(value)


def _print_ranking(table, result, source: str) -> None:
    pooled = "ALL" if "ALL" in set(table["ticker"]) else table["ticker"].iloc[0]
    rows = table[table["ticker"] == pooled]
    first, last = result.predictions["origin"].min(), result.predictions["origin"].max()
    ranking = Table(
        title=f"{source}, {pooled}: {first:%Y-%m-%d} to {last:%Y-%m-%d}, "
        f"{len(result.folds)} refits, ranked by RMSE",
        title_justify="left",
    )
    for column in ("model", "RMSE", "R² vs RW", "hits", "p(DM)", "vs RW", "Sharpe"):
        left = column in ("model", "vs RW")
        ranking.add_column(column, justify="left" if left else "right", no_wrap=True)
    for row in rows.itertuples():
        ranking.add_row(
            row.model,
            f"{row.rmse:.5f}",
            _fmt(row.r2_vs_zero, "{:+.4f}"),
            _fmt(row.hit_rate, "{:.1%}"),
            _fmt(row.dm_p, "{:.3f}"),
            SHORT.get(row.verdict, row.verdict),
            _fmt(row.lf_sharpe, "{:.2f}"),
        )
    console.print(ranking)
    console.print(
        "R² vs RW: out-of-sample R² against the random walk (RW). hits: share of "
        "directions called right. p(DM), vs RW: one-sided Diebold-Mariano test of "
        "beating the RW. Sharpe: long/flat on the forecast sign, net of costs. "
        "The report has every figure."
    )
