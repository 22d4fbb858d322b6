"""``lstm-forecast train | predict | explain``: the LSTM forecaster from the command line."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import (
    app,
    check_covariates,
    check_device,
    console,
    fail,
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
    with_options,
)


def _load_model(model: Path, features: str | None = None):
    """A saved model; a damaged or missing one ends the command with one line, and so does
    ``--features`` naming other inputs than the model reads."""
    from ..features.inputs import check_features
    from ..models import LSTMForecaster
    from ..training import ModelFileError

    try:
        fitted = LSTMForecaster.load(model)
        if features is not None and check_features(features) != fitted.features:
            fail(
                f"--features {features}: the model reads {','.join(fitted.features)} (its "
                "config.json); drop the flag or train a model with these inputs"
            )
        return fitted
    except (ModelFileError, ValueError) as exc:
        fail(exc)


CheckFeaturesOpt = Annotated[
    str | None,
    typer.Option(
        "--features",
        help="The inputs you expect the model to read; refused if its config.json says "
        "otherwise (default: whatever it was trained with).",
    ),
]


def _parse_date(value: str | None, flag: str):
    import pandas as pd

    if value is None:
        return None
    try:
        return pd.Timestamp(value)
    except (ValueError, TypeError):
        fail(f"{flag} {value!r} is not a date; write it as YYYY-MM-DD")


@app.command()
@with_options(LSTM_OPTIONS, READ_OPTIONS, COVARIATE_OPTIONS)
def train(
    out: Annotated[Path, typer.Option(help="Directory to save the model in.")],
    data: DataOpt = "sp500",
    tickers: TickersOpt = None,
    train_end: Annotated[
        str | None, typer.Option(help="Last training date, YYYY-MM-DD (default: all).")
    ] = None,
    horizon: Annotated[int, typer.Option(min=1, help="Days ahead, predicted at once.")] = 1,
    threads: ThreadsOpt = None,
    checkpoint: Annotated[
        Path | None, typer.Option(help="Checkpoint file, written every epoch.")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from --checkpoint.")] = False,
    force: Annotated[bool, typer.Option(help="Replace a model saved in --out before.")] = False,
    target: Annotated[
        str,
        typer.Option(
            help="return | volatility: forecast the variance of the next H days (trained on "
            "QLIKE against the Garman-Klass proxy where the data has OHLC, squared returns "
            "otherwise); predict then shows 80% and 95% intervals."
        ),
    ] = "return",
    config: ConfigOpt = None,
    **options,
) -> None:
    """Train an LSTM on log returns and save it (model.safetensors + config.json)."""
    from ..models import LSTMForecaster
    from ..models.lstm_files import check_destination
    from ..training import ModelFileError, TrainingError
    from ..training.loop import check_checkpoint_path

    if target not in ("return", "volatility"):
        fail(f"--target must be return or volatility, got {target[:40]!r}")
    settings = {**lstm_settings(options), "horizon": horizon}
    if target == "volatility":
        settings["target"] = "variance"
    end = _parse_date(train_end, "--train-end")
    if resume and checkpoint is None:
        fail("--resume needs --checkpoint FILE: the checkpoint to continue from")
    try:
        model = LSTMForecaster(
            **settings,
            progress=True,
            checkpoint=str(checkpoint) if checkpoint else None,
            resume=resume,
        )
        check_destination(out, overwrite=force)
        if checkpoint is not None:
            check_checkpoint_path(checkpoint, resume)
    except (ValueError, ModelFileError) as exc:
        fail(exc)
    from ..features.inputs import check_features

    check_covariates(options, "covariates" in check_features(settings["features"]))
    check_device(settings["device"])
    set_threads(threads)
    prices = read_or_exit(data, tickers, options)
    if end is not None:
        if end < prices.index[0]:
            fail(
                f"--train-end {train_end} is before the first date of --data "
                f"({prices.index[0]:%Y-%m-%d}); choose a later date"
            )
        if end > prices.index[-1]:
            console.print(
                f"[yellow]warning:[/yellow] --train-end {train_end} is after the last date "
                f"of --data ({prices.index[-1]:%Y-%m-%d}): the model trains on all of it, and "
                "no day after training is left to judge it on",
                markup=True,
            )
        prices = prices.loc[:end]
    console.print(
        f"Training on {len(prices)} days of {', '.join(prices.columns)} "
        f"({prices.index[0]:%Y-%m-%d} to {prices.index[-1]:%Y-%m-%d})"
    )
    try:
        model.fit(prices)
        model.save(out, overwrite=force)
    except (ValueError, TrainingError, ModelFileError, RuntimeError, OSError) as exc:
        fail(exc)
    history = model.history_
    members = getattr(model, "members_", None) or [history]
    title = "Training history"
    if len(members) > 1:
        _print_members(members, history)
        best = next(k for k, m in enumerate(members, 1) if m is history)
        title = f"Training history of member {best}, the best of {len(members)} on validation"
    table = Table(title=title, title_justify="left")
    for column in ("round", "steps", "loss", "val loss", "seconds"):
        table.add_column(column, justify="right")
    if math.isfinite(history.start_val_loss):
        mark = " *" if history.best_epoch == 0 else ""
        table.add_row(f"0{mark}", "0", "-", f"{history.start_val_loss:.4f}", "-")
    for row in history.history:
        mark = " *" if row["epoch"] == history.best_epoch else ""
        table.add_row(
            f"{row['epoch']}{mark}",
            str(row.get("step", "-")),
            f"{row['loss']:.4f}",
            f"{row['val_loss']:.4f}",
            f"{row['seconds']:.1f}",
        )
    console.print(table)
    tuning = getattr(model, "tuning_", None)
    if tuning is not None:
        chosen = ", ".join(
            f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in tuning.best.items()
        )
        console.print(
            f"Tuned with {len(tuning.trials)} trials in {tuning.seconds:.0f} s on validation "
            f"folds inside the training rows, scored by {tuning.metric}: {chosen}"
        )
    if len(members) > 1:
        kept = (
            "each member's weights from its best round on validation, or its starting weights "
            "(round 0) where that round did not beat them by --min-gain-se standard errors "
            "(the first table)"
        )
    elif history.declined:
        kept = (
            f"the starting weights (round 0): round {history.best_round} was the best on "
            f"validation but beat them by only {history.gain_se:.2f} standard errors, fewer "
            f"than the {model.min_gain_se:g} a trained round needs (--min-gain-se)"
        )
    elif history.best_epoch == 0:
        kept = "the starting weights (round 0), which no round of training beat on validation"
    else:
        kept = f"round {history.best_epoch}'s weights, the best on validation"
    console.print(f"* kept: {kept}. Model saved to {out}")


def _print_members(members, best) -> None:
    """One row per member of a seed ensemble: the round it kept and its validation loss."""
    table = Table(
        title=f"Ensemble of {len(members)} members (forecasts are their average)",
        title_justify="left",
    )
    for column in ("member", "kept round", "best round", "its gain (s.e.)", "steps"):
        table.add_column(column, justify="right")
    table.add_column("kept val loss", justify="right")
    for k, member in enumerate(members, 1):
        steps = member.history[-1].get("step", "-") if member.history else 0
        table.add_row(
            f"{k}{' *' if member is best else ''}",
            str(member.best_epoch),
            str(member.best_round),
            "-" if math.isnan(member.gain_se) else f"{member.gain_se:.2f}",
            str(steps),
            f"{member.best_val_loss:.4f}",
        )
    console.print(table)


@app.command()
@with_options(READ_OPTIONS, COVARIATE_OPTIONS)
def predict(
    model: Annotated[Path, typer.Option(help="A directory written by 'train'.")],
    data: DataOpt = "sp500",
    tickers: TickersOpt = None,
    horizon: Annotated[
        int | None, typer.Option(min=1, help="Steps to show (<= the model's).")
    ] = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the table to this CSV.")] = None,
    features: CheckFeaturesOpt = None,
    **options,
) -> None:
    """The next forecasts (log return and price) per ticker, from the last date of --data."""
    from ..models.lstm_inspect import forecast_path

    if csv is not None and (csv.exists() or csv.is_symlink()):
        fail(f"{csv} exists; choose another file name for --csv, nothing is overwritten")
    if csv is not None and not csv.parent.is_dir():
        fail(f"{csv}: its folder {csv.parent} does not exist; create it or choose another --csv")
    fitted = _load_model(model, features)
    check_covariates(options, "covariates" in fitted.features, str(model))
    prices = read_or_exit(data, tickers, options)
    _check_bars(fitted, prices, model, data)
    if prices.index[-1] < fitted.train_end_:
        console.print(
            f"[yellow]warning:[/yellow] --data ends on {prices.index[-1]:%Y-%m-%d}, before the "
            f"end of the model's training data ({fitted.train_end_:%Y-%m-%d}): the model has "
            "seen what followed, so these are in-sample fits, not forecasts",
            markup=True,
        )
    if fitted.distributional:
        if horizon is not None and horizon != fitted.horizon:
            fail(
                f"--horizon {horizon}: this model forecasts the distribution of the "
                f"{fitted.horizon}-day return as one (its config.json), not day by day; drop "
                f"--horizon, or train a model with --horizon {horizon}"
            )
        _predict_distribution(fitted, prices, csv)
        _print_kept_start(fitted)
        return
    try:
        table_frame = forecast_path(fitted, prices, horizon)
    except ValueError as exc:
        fail(exc)
    table = Table(
        title=f"Forecasts from {prices.index[-1]:%Y-%m-%d} (model trained "
        f"{fitted.train_start_:%Y-%m-%d} to {fitted.train_end_:%Y-%m-%d})",
        title_justify="left",
    )
    for column in ("ticker", "step", "date", "log return", "price"):
        table.add_column(column, justify="right")
    for row in table_frame.itertuples():
        table.add_row(
            row.ticker, str(row.step), str(row.date), f"{row.log_return:+.4%}", f"{row.price:,.2f}"
        )
    console.print(table)
    _print_ended(table_frame)
    _print_kept_start(fitted)
    _write_csv(table_frame, csv)


def _print_kept_start(fitted, more: str = "") -> None:
    """Say why a model's forecast reads nothing, where it kept its starting weights after
    training (its head at zero); nothing where it kept a trained round (``more``: words to
    add)."""
    what = (
        "the training mean whatever the data"
        if fitted.head == "point"
        else "the distribution it started from"
    )
    if fitted.ensemble > 1:
        members = getattr(fitted, "members_", None) or []
        kept = sum(m.best_epoch == 0 and m.steps > 0 for m in members)
        if kept < len(members):
            if kept:
                console.print(
                    f"{kept} of {len(members)} members of this ensemble kept their starting "
                    f"weights (no round beat them on validation): their forecast is {what}, "
                    "and the average leans toward it"
                )
            return
        who, heads, whose = "Every member of this ensemble", "their heads start", "the"
    else:
        history = getattr(fitted, "history_", None)
        if history is None or not (history.history or history.steps) or history.best_epoch:
            return
        who, heads, whose = "This model", "its head starts", "its"
    console.print(
        f"{who} kept its starting weights: no round of training beat them on validation, and "
        f"{heads} at zero, so {whose} forecast is {what} (the LSTM found nothing to learn)"
        f"{more}"
    )


def _check_bars(fitted, prices, model: Path, data: str) -> None:
    """A model trained on daily bars (``--features ohlc``) refuses --data with closes only, in
    words that fit a saved model (its features cannot be left out, the data must change)."""
    if "ohlc" not in fitted.features:
        return
    from ..features.inputs import without_bars

    lacking = without_bars(prices, fitted.tickers_in(prices))
    if lacking:
        fail(
            f"the model in {model} reads daily bars (--features ohlc, its config.json), and "
            f"--data {data} has closes only for {', '.join(lacking[:5])}: pass a file with "
            "Open, High, Low, Close and Volume columns for it (one ticker's, a long file's or "
            "a yfinance download)"
        )


def _write_csv(frame, csv: Path | None) -> None:
    if csv is None:
        return
    try:
        with open(csv, "x", encoding="utf-8") as handle:  # "x": never replaces a file
            frame.to_csv(handle, index=False)
    except OSError as exc:
        fail(f"{csv}: cannot be written ({exc.strerror or exc}); choose another --csv")
    console.print(f"Written to {csv}")


def _predict_distribution(fitted, prices, csv: Path | None) -> None:
    """The median and the 80% and 95% intervals of the h-day return and price."""
    from ..models.lstm_inspect import forecast_distribution

    try:
        frame = forecast_distribution(fitted, prices)
    except ValueError as exc:
        fail(exc)
    h = fitted.horizon
    shape = "variance head, normal" if fitted.head == "variance" else fitted.distribution
    returns = [
        [
            r.ticker,
            str(r.date),
            f"{r.median:+.2%}",
            f"{r.low80:+.2%} to {r.high80:+.2%}",
            f"{r.low95:+.2%} to {r.high95:+.2%}",
            f"{r.sd:.2%}",
        ]
        for r in frame.itertuples()
    ]
    console.print(
        _whole_numbers_table(
            f"{h}-day forecast distribution from {prices.index[-1]:%Y-%m-%d} ({shape}; model "
            f"trained {fitted.train_start_:%Y-%m-%d} to {fitted.train_end_:%Y-%m-%d})",
            ("ticker", "to", "median", "80% interval", "95% interval", "sd"),
            returns,
        )
    )
    in_prices = [
        [
            r.ticker,
            f"{prices[r.ticker].iloc[-1]:,.2f}",
            f"{r.price_median:,.2f}",
            f"{r.price_low80:,.2f} to {r.price_high80:,.2f}",
            f"{r.price_low95:,.2f} to {r.price_high95:,.2f}",
        ]
        for r in frame.itertuples()
    ]
    console.print(
        _whole_numbers_table(
            "The same in prices",
            ("ticker", "last close", "median", "80% interval", "95% interval"),
            in_prices,
        )
    )
    console.print("Log returns over the horizon; prices are the last close times exp(return).")
    _print_ended(frame)
    _write_csv(frame, csv)


def _whole_numbers_table(title: str, columns: tuple[str, ...], rows: list[list[str]]) -> Table:
    """A table whose cells are never cut: each column at least as wide as its longest word,
    so that on a narrow terminal an interval wraps at 'to' and a heading at its spaces."""
    table = Table(title=title, title_justify="left")
    for k, column in enumerate(columns):
        words = [word for row in rows for word in row[k].split()]
        table.add_column(
            column,
            justify="left" if k == 0 else "right",
            min_width=max((len(w) for w in words), default=1),
            overflow="fold",
        )
    for row in rows:
        table.add_row(*row)
    return table


def _print_ended(frame) -> None:
    """Name the tickers that had ended (delisted) before the last date, and those listed too
    recently for the model's lookback: no forecast for either."""
    from ..models.lstm_inspect import ENDED, SHORT

    if ended := frame.attrs.get(ENDED):
        listed = ", ".join(f"{t} (last price {day})" for t, day in ended.items())
        console.print(f"No forecast for tickers that ended before the last date: {listed}")
    if short := frame.attrs.get(SHORT):
        listed = ", ".join(f"{t} ({n} returns)" for t, n in short.items())
        console.print(
            f"No forecast for tickers with fewer returns than the model's lookback before the "
            f"last date: {listed}"
        )


@app.command()
@with_options(READ_OPTIONS, COVARIATE_OPTIONS)
def explain(
    model: Annotated[Path, typer.Option(help="A directory written by 'train'.")],
    out: Annotated[Path, typer.Option(help="Directory for the PNGs.")],
    data: DataOpt = "sp500",
    tickers: Annotated[
        str | None, typer.Option(help="The ticker to open up (default: the model's first).")
    ] = None,
    days: Annotated[
        int, typer.Option(min=2, help="Recent days to show (at most the model's lookback).")
    ] = 60,
    member: Annotated[
        int | None,
        typer.Option(min=0, help="The member of a seed ensemble (--ensemble K) to open: 0..K-1."),
    ] = None,
    features: CheckFeaturesOpt = None,
    **options,
) -> None:
    """PNGs of the gates, cell states and forecasts over recent days: the LSTM, opened up."""
    from ..models.lstm_inspect import look_inside
    from ..reports.explain import plot_inside
    from ..reports.rundir import OutputError, RunDirectory

    fitted = _load_model(model, features)
    if member is not None:
        if fitted.ensemble <= 1:
            fail(f"--member {member}: the model in {model} is one LSTM, not an ensemble; drop it")
        try:
            fitted = fitted.member(member)
        except ValueError as exc:
            fail(exc)
    check_covariates(options, "covariates" in fitted.features, str(model))
    prices = read_or_exit(data, None, options)
    _check_bars(fitted, prices, model, data)
    name = (fitted.tickers_in(prices) or fitted.tickers_)[0]
    if tickers:
        from ..data import DataError
        from ..data.reader import match_tickers

        wanted = split_names(tickers) or []
        if len(wanted) != 1:
            fail("--tickers: explain opens up one ticker at a time; name one")
        try:
            name = match_tickers(wanted, list(prices.columns), "--tickers")[0]
        except DataError as exc:
            fail(exc)
    lookback = fitted.lookback
    if days > lookback:
        console.print(
            f"[yellow]warning:[/yellow] --days {days} is more than the model's lookback "
            f"({lookback}); showing {lookback} days",
            markup=True,
        )
        days = lookback
    try:  # --out is checked (never a user's files, never a run in progress) before the plots
        with RunDirectory(out, kind="explain") as run:
            paths = plot_inside(look_inside(fitted, prices, name, days), run)
            run.commit()
    except (OutputError, ValueError) as exc:
        fail(exc)
    for path in paths:
        console.print(f"Written {path}")
    if member is not None:
        console.print(
            f"Member {member} of the ensemble in {model}: its own network; the ensemble "
            "forecasts the average of its members"
        )
    _print_kept_start(
        fitted,
        ". The gates and cell states drawn are an untrained network's and do not reach its "
        "forecast.",
    )
    _print_worth(fitted, prices)


WORTH_DAYS = 250


def _print_worth(fitted, prices) -> None:
    """Permutation importance of each input over the last dates whose outcome is known (after
    the model's training data where there are enough of them)."""
    from ..evaluation.importance import importance_table, permuted_losses
    from ..features import horizon_target

    data = prices[fitted.tickers_in(prices)]
    known = data.index[: len(data) - fitted.horizon]
    after = known[known > fitted.train_end_]
    origins = after if len(after) >= 30 else known[-WORTH_DAYS:]
    origins = origins[-WORTH_DAYS:]
    try:
        losses = permuted_losses(fitted, prices, origins, horizon_target(data, fitted.horizon), 0)
    except ValueError as exc:
        fail(exc)
    worth = importance_table(losses, fitted.horizon)
    if worth.empty:
        return
    where = "after training" if len(after) >= 30 else "inside the training data: optimistic"
    metric = worth["metric"].iloc[0]
    table = Table(
        title=f"What each input is worth: rise in {metric} when shuffled, {len(origins)} dates "
        f"to {origins[-1]:%Y-%m-%d} ({where})",
        title_justify="left",
    )
    columns = ["input", f"rise in {metric}", "95% interval"]
    columns += ["share of MSE"] if metric == "MSE" else []
    for column in columns:
        table.add_column(column, justify="left" if column == "input" else "right")
    for row in worth.itertuples():
        cells = [row.input, f"{row.delta:+.3g}", f"{row.low:+.3g} to {row.high:+.3g}"]
        table.add_row(*cells, *([f"{row.share:+.2%}"] if metric == "MSE" else []))
    console.print(table)
    if metric != "MSE":
        console.print(
            "The log score (minus the log density of the outcome) judges the whole forecast "
            "distribution, spread included."
        )
