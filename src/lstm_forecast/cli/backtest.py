"""``lstm-forecast backtest``: the main job."""

from __future__ import annotations

import contextlib
import math
import shutil
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from .common import (
    app,
    check_covariates,
    check_device,
    console,
    fail,
    print_caveat,
    read_or_exit,
    set_threads,
    split_names,
)
from .options import (
    COVARIATE_OPTIONS,
    LSTM_OPTIONS,
    READ_OPTIONS,
    ConfigOpt,
    DataOpt,
    ThreadsOpt,
    TickersOpt,
    lstm_settings,
    resolved,
    with_options,
)

DEFAULT_MODELS = "lstm,naive,drift,sma,ema,kalman,ols"
VOLATILITY_DEFAULT = "lstm,histvar,ewma,garch,gjr,har"


@app.command()
@with_options(LSTM_OPTIONS, READ_OPTIONS, COVARIATE_OPTIONS)
def backtest(
    data: DataOpt = "sp500",
    tickers: TickersOpt = None,
    models: Annotated[
        str,
        typer.Option(
            help="Comma-separated models: lstm, naive, drift, sma, ema, kalman, kalman-trend, "
            "ols (naive, the random walk, is always in); the volatility models histvar, ewma, "
            "garch, gjr, har (with --target volatility the default is lstm and all of these)."
        ),
    ] = DEFAULT_MODELS,
    test_days: Annotated[int, typer.Option(min=1, help="Length of the test period.")] = 500,
    refit_every: Annotated[int, typer.Option(min=1, help="Refit every K origins.")] = 63,
    horizon: Annotated[int, typer.Option(min=1, help="Forecast the H-day log return.")] = 1,
    window: Annotated[str, typer.Option(help="expanding | rolling")] = "expanding",
    train_days: Annotated[int | None, typer.Option(min=2, help="Rolling window length.")] = None,
    warm_start: Annotated[bool, typer.Option(help="LSTM starts each refit from the last.")] = True,
    jobs: Annotated[
        int,
        typer.Option(
            min=1,
            help="Workers for independent tasks: processes with --executor local, CPUs of a "
            "new local Ray instance with --executor ray.",
        ),
    ] = 1,
    executor: Annotated[
        str,
        typer.Option(
            help="local: this machine (--jobs processes) | ray: every task a Ray task, on "
            "--ray-address or a new local instance (pip install 'lstm-forecast\\[ray]')."
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="With --executor ray: the cluster to join ('auto': the one this machine "
            "belongs to; ray://host:10001 for a remote one). Absent: a new local instance."
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            help="Continue an interrupted run from the finished tasks kept in OUT.work "
            "(needs the same --out, data and settings)."
        ),
    ] = False,
    cost_bps: Annotated[float, typer.Option(help="Trading cost per unit turnover, bp.")] = 5.0,
    prior_tries: Annotated[
        int,
        typer.Option(
            min=0,
            help="Configurations you tried on this data before this run (other backtests, "
            "settings, features): counted, like this run's models, in the Deflated Sharpe "
            "Ratio's number of tries.",
        ),
    ] = 0,
    target: Annotated[
        str,
        typer.Option(
            help="return | relative: the ticker's return minus the cross-sectional median "
            "(panels of 3+ tickers), scored by rank IC and a top-minus-bottom portfolio | "
            "volatility: the variance of the next H days, scored by QLIKE, MSE and interval "
            "calibration against the naive variance."
        ),
    ] = "return",
    threads: ThreadsOpt = None,
    out: Annotated[Path | None, typer.Option(help="Directory for CSV/JSON/HTML outputs.")] = None,
    config: ConfigOpt = None,
    **options,
) -> None:
    """Walk-forward backtest of every model against the random walk, with a report."""
    run_settings = resolved(locals())
    from ..data import DataError
    from ..evaluation.backtest import BacktestSettings, models_to_run, run_backtest
    from ..evaluation.calibration import backtest_calibration
    from ..evaluation.luck import luck_table
    from ..evaluation.splits import walk_forward_splits
    from ..evaluation.summary import metrics_table
    from ..models import MODELS
    from ..reports.outputs import write_outputs
    from ..reports.rundir import OutputError, RunDirectory

    started = time.perf_counter()
    if target == "volatility" and models == DEFAULT_MODELS:
        models = VOLATILITY_DEFAULT
    chosen = [m.lower() for m in split_names(models) or []]
    if not chosen:
        fail(f"--models is empty; name at least one of {', '.join(MODELS)}")
    unknown = [m for m in chosen if m not in MODELS]
    if unknown:
        fail(f"--models: unknown {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    if not math.isfinite(cost_bps) or cost_bps < 0:
        fail(f"--cost-bps must be a number of basis points >= 0, got {cost_bps}")
    if window not in ("expanding", "rolling"):
        fail(f"--window must be expanding or rolling, got {window!r}")
    from ..evaluation.splits import MIN_TEST_WINDOWS

    windows = test_days // horizon
    if windows < MIN_TEST_WINDOWS:
        fail(
            f"--horizon {horizon} with --test-days {test_days} leaves {windows} non-overlapping "
            f"test windows; the tests need at least {MIN_TEST_WINDOWS}. Raise --test-days to "
            f"{MIN_TEST_WINDOWS * horizon} or shorten --horizon"
        )
    if executor not in ("local", "ray"):
        fail(f"--executor must be local or ray, got {executor[:40]!r}")
    if ray_address is not None and executor != "ray":
        fail("--ray-address needs --executor ray")
    if resume and out is None:
        fail("--resume continues the run that writes to --out; give the same --out as that run")
    if target not in ("return", "relative", "volatility"):
        fail(f"--target must be return, relative or volatility, got {target[:40]!r}")
    lstm = lstm_settings(options)
    try:  # before any work: a point model with --target volatility is refused here
        planned = BacktestSettings(tuple(chosen), target=target, model_settings={"lstm": lstm})
        to_run = models_to_run(planned)
    except ValueError as exc:
        fail(exc)
    if target == "volatility":
        if lstm["distribution"] == "normal":
            lstm["distribution"] = "none"  # the variance head's intervals are normal anyway
        lstm["target"] = "variance"
    from ..features.inputs import check_features

    try:
        groups = check_features(lstm["features"])
    except ValueError as exc:
        fail(exc)
    # the models that read --features, and what each is given: the LSTM and OLS
    model_settings = {"lstm": lstm, "ols": {"features": lstm["features"]}}
    check_covariates(options, "covariates" in groups and any(m in to_run for m in model_settings))
    if "lstm" in chosen:
        from ..models import LSTMForecaster

        try:
            LSTMForecaster(**lstm, horizon=horizon)  # checks every setting, tuning included
        except ValueError as exc:
            fail(exc)
        if executor == "local":  # a Ray cluster's workers may have the GPUs this one lacks
            check_device(lstm["device"])
    from ..evaluation.executors import make_executor

    try:  # Ray missing: refused here, before any work
        runner = make_executor(executor, jobs, ray_address)
    except (RuntimeError, ValueError) as exc:
        fail(exc)
    set_threads(threads)
    run_dir = RunDirectory(out) if out is not None else contextlib.nullcontext()
    try:
        with run_dir as run:
            prices = read_or_exit(data, tickers, options)
            settings = BacktestSettings(
                tuple(chosen),
                test_days,
                refit_every,
                horizon,
                window,
                train_days,
                warm_start,
                cost_bps,
                jobs,
                model_settings,
                target,
                prior_tries,
            )
            # the folds' own check first: it names the training days a test window leaves
            walk_forward_splits(prices.index, test_days, refit_every, horizon, window, train_days)
            from ..evaluation.tasks import work_dir_for

            work = work_dir_for(out) if out is not None else None
            with TaskProgress(console) as progress:
                result = run_backtest(
                    prices, settings, progress.update, executor=runner, work_dir=work, resume=resume
                )
            distribution = backtest_calibration(result)
            if target == "volatility":
                from ..reports.distribution import write_volatility_outputs

                _print_volatility(distribution[0], result.settings.horizon, data)
                _print_notes(result)
                if run is not None:
                    write_volatility_outputs(result, run, data, run_settings, distribution)
                    run.commit()
            else:
                table = metrics_table(result)
                luck = luck_table(result, table)
                _print_ranking(table, result, data, luck)
                if target == "relative":
                    _print_cross_section(result)
                _print_volatility(distribution[0], result.settings.horizon, data)
                if run is not None:
                    write_outputs(result, table, run, data, run_settings, luck, distribution)
                    run.commit()
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)  # the outputs are safe now
    except typer.Exit:
        raise
    except (DataError, OutputError, ValueError, RuntimeError) as exc:
        fail(exc)
    print_caveat(data)
    if out is not None:
        console.print(f"Wrote {_listed(run.written)} to {out}")
    else:
        console.print("Nothing written: pass --out DIR for the report, predictions and metrics.")
    console.print(f"Finished in {time.perf_counter() - started:.1f} s.")


def _listed(names: list[str]) -> str:
    """The report first, then the tables in the order written, then the count of figures."""
    figures = [n for n in names if n.endswith(".png")]
    files = sorted((n for n in names if n not in figures), key=lambda n: n != "report.html")
    parts = [*files, f"{len(figures)} figures (PNG)"] if figures else files
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]


class TaskProgress:
    """A bar over the backtest's tasks with the time left, on a terminal; off one (a log, a
    pipe), one line per model as its last task finishes."""

    def __init__(self, out) -> None:
        self.console, self.started = out, time.perf_counter()
        self.bar = None
        if out.is_terminal:
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
            )
            self.bar = Progress(*columns, console=out, transient=True)

    def __enter__(self) -> TaskProgress:
        if self.bar is not None:
            self.bar.start()
            self.task = self.bar.add_task("backtest tasks", total=None)
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, task: object, done: int, total: int, model_done: bool) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total, description=task.model)
        elif model_done:
            seconds = time.perf_counter() - self.started
            self.console.print(f"{task.model}: done ({done} of {total} tasks, {seconds:.0f} s)")


SHORT = {
    "no evidence of skill": "no evidence",
    "beats the random walk (family-wise 5%)": "beats it",
    "no evidence once every test is counted": "luck (p<5% alone)",
    "significantly worse than the random walk": "worse (sig.)",
    "same forecasts as the random walk": "benchmark",
    "too few test days to test": "too few days",
}


def _fmt(value: float, spec: str) -> str:
    return "-" if value != value else spec.format(value)


def _pooled(table):
    """The label of the pooled rows (ALL) of a per-ticker table, or its only ticker, and
    those rows."""
    pooled = "ALL" if "ALL" in set(table["ticker"]) else table["ticker"].iloc[0]
    return pooled, table[table["ticker"] == pooled]


def _print_volatility(vol, h: int, source: str) -> None:
    """The distribution models' scores (pooled over tickers where there are several), and
    what the family-wise tests on QLIKE say."""
    from ..evaluation.calibration import NAIVE_VARIANCE, volatility_words

    if not len(vol):
        return
    pooled, rows = _pooled(vol)
    table = Table(
        title=f"{source}, {pooled}: {h}-day forecast distributions, ranked by QLIKE",
        title_justify="left",
    )
    columns = ("model", "QLIKE", "p(DM)", "80%", "90%", "95%", "99%", "K99", "C99")
    for column in columns:
        table.add_column(column, justify="left" if column == "model" else "right", no_wrap=True)
    for r in rows.itertuples():
        table.add_row(
            r.model,
            f"{r.qlike:.3f}",
            _fmt(r.qlike_dm_p, "{:.3f}"),
            *(f"{getattr(r, f'cov{c}'):.1%}" for c in (80, 90, 95, 99)),
            _fmt(r.kupiec_p99, "{:.3f}"),
            _fmt(r.christoffersen_p99, "{:.3f}"),
        )
    console.print(table)
    console.print(
        f"QLIKE: loss of the variance forecast against the realised proxy (0 is perfect). "
        f"p(DM): one-sided Diebold-Mariano test on QLIKE of beating the naive variance "
        f"({NAIVE_VARIANCE}), unadjusted. 80%..99%: share of outcomes inside each central "
        "interval. K99, C99: Kupiec and Christoffersen (conditional coverage) p-values of the "
        "99% interval's misses: their number, and their number and clustering (below 0.05: "
        "not calibrated)."
    )
    console.print(volatility_words(vol))


def _print_cross_section(result) -> None:
    from ..evaluation.crosssection import backtest_cross_section, cross_section_words

    table = Table(
        title="The cross-section: does each model rank the tickers? (relative returns)",
        title_justify="left",
    )
    columns = ("model", "mean rank IC", "t", "p", "p (Holm)", "IC > 0", "top-bottom", "Sharpe")
    for column in columns:
        table.add_column(column, justify="left" if column == "model" else "right")
    cross = backtest_cross_section(result)
    for row in cross.itertuples():
        table.add_row(
            row.model,
            _fmt(row.ic_mean, "{:+.3f}"),
            _fmt(row.ic_t, "{:+.2f}"),
            _fmt(row.ic_p, "{:.3f}"),
            _fmt(row.ic_p_holm, "{:.3f}"),
            _fmt(row.ic_hit, "{:.1%}"),
            _fmt(row.tmb_ann_return, "{:+.1%}"),
            _fmt(row.tmb_sharpe, "{:.2f}"),
        )
    console.print(table)
    console.print(
        "p: one-sided test of a positive mean rank IC, unadjusted; p (Holm): after counting "
        "every model's test. top-bottom: the annual return of long the top fifth, short the "
        "bottom fifth, net of costs. " + cross_section_words(cross)
    )


def _print_ranking(table, result, source: str, luck) -> None:
    pooled, rows = _pooled(table)
    first, last = result.predictions["origin"].min(), result.predictions["origin"].max()
    h = result.settings.horizon
    ranking = Table(
        title=f"{source}, {pooled}: {h}-day forecasts from {first:%Y-%m-%d} to {last:%Y-%m-%d}, "
        f"{len(result.folds)} refits, ranked by RMSE",
        title_justify="left",
    )
    for column in ("model", "RMSE", "R² vs RW", "hits", "p(DM)", "vs RW", "Sharpe", "DSR"):
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
            _fmt(row.lf_dsr, "{:.2f}"),
        )
    console.print(ranking)
    console.print(
        "R² vs RW: out-of-sample R² against the random walk (RW). hits: share of "
        "directions called right. p(DM): one-sided Diebold-Mariano test of beating the RW, "
        "unadjusted. vs RW: 'beats it' only if Romano-Wolf StepM keeps the model at 5% over "
        "every model and ticker tested. Sharpe: long/flat on the forecast sign, net of costs; "
        "DSR: its Deflated Sharpe Ratio (above 0.95: more than the luck of that many tries"
        + (
            f", {result.settings.prior_tries} before this run counted (--prior-tries)"
            if result.settings.prior_tries
            else ""
        )
        + ")."
    )
    from ..evaluation.luck import plain_words

    console.print(plain_words(luck, table))
    _print_notes(result)


def _print_notes(result) -> None:
    """The notes under the verdicts: tickers that ended, models that kept their start."""
    from ..evaluation.summary import run_notes

    for note in run_notes(result):
        console.print(note)
