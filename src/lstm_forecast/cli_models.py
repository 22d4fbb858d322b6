"""``lstm-forecast train | predict | explain``: the LSTM forecaster from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .cli import (
    DataOpt,
    DateColOpt,
    DateFormatOpt,
    DecimalOpt,
    MaxGapOpt,
    PriceColOpt,
    ThreadsOpt,
    TickerColOpt,
    TickerOpt,
    TickersOpt,
    _fail,
    _read_or_exit,
    _threads,
    app,
    console,
)
from .cli_options import (
    BatchSizeOpt,
    ClipNormOpt,
    ConfigOpt,
    DeviceOpt,
    DropoutOpt,
    EnsembleBatchedOpt,
    EnsembleOpt,
    EpochsOpt,
    HiddenSizeOpt,
    LayersOpt,
    LearningRateOpt,
    LookbackOpt,
    PathOpt,
    PatienceOpt,
    SeedOpt,
    TuneOpt,
    TuneSecondsOpt,
    VariantOpt,
    lstm_settings,
    resolved,
)


def _model_and_prices(model: Path, data: str, read: dict):
    """A saved model and the prices to apply it to; errors end the command with one line."""
    from .models import LSTMForecaster
    from .training import ModelFileError

    try:
        fitted = LSTMForecaster.load(model)
    except ModelFileError as exc:
        _fail(exc)
    tickers = read.pop("tickers")
    prices = _read_or_exit(data, **read)
    if tickers:
        names = _match_tickers(tickers, list(prices.columns))
        prices = prices[names]
    return fitted, prices


def _match_tickers(wanted: str, present: list[str]) -> list[str]:
    """Tickers by name, exactly or, where unambiguous, ignoring case."""
    from .data.reader import match_tickers

    try:
        return match_tickers([t.strip() for t in wanted.split(",") if t.strip()], present, "--data")
    except ValueError as exc:
        _fail(exc)


def _parse_date(value: str | None, flag: str):
    import pandas as pd

    if value is None:
        return None
    try:
        return pd.Timestamp(value)
    except (ValueError, TypeError):
        _fail(f"{flag} {value!r} is not a date; write it as YYYY-MM-DD")


@app.command()
def train(
    out: Annotated[Path, typer.Option(help="Directory to save the model in.")],
    data: DataOpt = "sp500",
    tickers: TickersOpt = None,
    train_end: Annotated[
        str | None, typer.Option(help="Last training date, YYYY-MM-DD (default: all).")
    ] = None,
    lookback: LookbackOpt = 60,
    hidden_size: HiddenSizeOpt = 32,
    layers: LayersOpt = 1,
    variant: VariantOpt = "standard",
    dropout: DropoutOpt = 0.0,
    horizon: Annotated[int, typer.Option(min=1, help="Days ahead, predicted at once.")] = 1,
    epochs: EpochsOpt = 20,
    batch_size: BatchSizeOpt = 256,
    learning_rate: LearningRateOpt = 1e-3,
    patience: PatienceOpt = 5,
    clip_norm: ClipNormOpt = 1.0,
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    path: PathOpt = "eager",
    tune: TuneOpt = 0,
    ensemble: EnsembleOpt = 1,
    ensemble_batched: EnsembleBatchedOpt = False,
    tune_seconds: TuneSecondsOpt = None,
    threads: ThreadsOpt = None,
    checkpoint: Annotated[
        Path | None, typer.Option(help="Checkpoint file, written every epoch.")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from --checkpoint.")] = False,
    force: Annotated[bool, typer.Option(help="Replace a model saved in --out before.")] = False,
    date_col: DateColOpt = None,
    price_col: PriceColOpt = None,
    ticker_col: TickerColOpt = None,
    date_format: DateFormatOpt = None,
    decimal: DecimalOpt = ".",
    ticker: TickerOpt = None,
    max_gap: MaxGapOpt = 5,
    config: ConfigOpt = None,
) -> None:
    """Train an LSTM on log returns and save it (model.safetensors + config.json)."""
    options = resolved(locals())
    from .models import LSTMForecaster
    from .models.lstm_files import check_destination
    from .training import ModelFileError, TrainingError
    from .training.loop import check_checkpoint_path

    settings = {**lstm_settings(options), "horizon": horizon}
    end = _parse_date(train_end, "--train-end")
    if resume and checkpoint is None:
        _fail("--resume needs --checkpoint FILE: the checkpoint to continue from")
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
        _fail(exc)
    _threads(threads)
    prices = _read_or_exit(
        data, tickers, date_col, price_col, ticker_col, date_format, decimal, ticker, max_gap
    )
    if end is not None:
        if end < prices.index[0]:
            _fail(
                f"--train-end {train_end} is before the first date of --data "
                f"({prices.index[0]:%Y-%m-%d}); choose a later date"
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
        _fail(exc)
    table = Table(title="Training history", title_justify="left")
    for column in ("epoch", "loss", "val loss", "seconds"):
        table.add_column(column, justify="right")
    for row in model.history_.history:
        mark = " *" if row["epoch"] == model.history_.best_epoch else ""
        table.add_row(
            f"{row['epoch']}{mark}",
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
            f"folds inside the training rows: {chosen}"
        )
    console.print(f"* best epoch, whose weights were kept. Model saved to {out}")


@app.command()
def predict(
    model: Annotated[Path, typer.Option(help="A directory written by 'train'.")],
    data: DataOpt = "sp500",
    tickers: TickersOpt = None,
    horizon: Annotated[
        int | None, typer.Option(min=1, help="Steps to show (<= the model's).")
    ] = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the table to this CSV.")] = None,
    date_col: DateColOpt = None,
    price_col: PriceColOpt = None,
    ticker_col: TickerColOpt = None,
    date_format: DateFormatOpt = None,
    decimal: DecimalOpt = ".",
    ticker: TickerOpt = None,
    max_gap: MaxGapOpt = 5,
) -> None:
    """The next forecasts (log return and price) per ticker, from the last date of --data."""
    from .models.lstm_inspect import forecast_path

    if csv is not None and (csv.exists() or csv.is_symlink()):
        _fail(f"{csv} exists; choose another file name for --csv, nothing is overwritten")
    read = dict(
        tickers=tickers,
        date_col=date_col,
        price_col=price_col,
        ticker_col=ticker_col,
        date_format=date_format,
        decimal=decimal,
        ticker=ticker,
        max_gap=max_gap,
    )
    fitted, prices = _model_and_prices(model, data, read)
    try:
        table_frame = forecast_path(fitted, prices, horizon)
    except ValueError as exc:
        _fail(exc)
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
    if csv is not None:
        try:
            with open(csv, "x", encoding="utf-8") as handle:  # "x": never replaces a file
                table_frame.to_csv(handle, index=False)
        except OSError as exc:
            _fail(f"{csv}: cannot be written ({exc.strerror or exc}); choose another --csv")
        console.print(f"Written to {csv}")


@app.command()
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
    date_col: DateColOpt = None,
    price_col: PriceColOpt = None,
    ticker_col: TickerColOpt = None,
    date_format: DateFormatOpt = None,
    decimal: DecimalOpt = ".",
    ticker: TickerOpt = None,
    max_gap: MaxGapOpt = 5,
) -> None:
    """PNGs of the gates, cell states and forecasts over recent days: the LSTM, opened up."""
    from .models.lstm_inspect import look_inside
    from .reports.explain import plot_inside

    read = dict(
        tickers=None,
        date_col=date_col,
        price_col=price_col,
        ticker_col=ticker_col,
        date_format=date_format,
        decimal=decimal,
        ticker=ticker,
        max_gap=max_gap,
    )
    fitted, prices = _model_and_prices(model, data, read)
    name = fitted.tickers_[0]
    if tickers:
        names = _match_tickers(tickers, list(prices.columns))
        if len(names) != 1:
            _fail("--tickers: explain opens up one ticker at a time; name one")
        name = names[0]
    lookback = fitted.lookback
    if days > lookback:
        console.print(
            f"[yellow]warning:[/yellow] --days {days} is more than the model's lookback "
            f"({lookback}); showing {lookback} days"
        )
        days = lookback
    try:
        inside = look_inside(fitted, prices, name, days)
    except ValueError as exc:
        _fail(exc)
    for path in plot_inside(inside, out):
        console.print(f"Written {path}")
