"""``lstm-forecast train | predict | explain``: the LSTM forecaster from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .cli import _fail, _read_or_exit, _split, app, console

Data = Annotated[str, typer.Option(help="CSV/Parquet path or embedded dataset name.")]
Tickers = Annotated[str | None, typer.Option(help="Comma-separated tickers (default: all).")]


def _model_and_prices(model: Path, data: str):
    """A saved model and the prices to apply it to; errors end the command with one line."""
    from .models import LSTMForecaster
    from .training import ModelFileError

    try:
        fitted = LSTMForecaster.load(model)
    except ModelFileError as exc:
        _fail(exc)
    return fitted, _read_or_exit(data)


@app.command()
def train(
    out: Annotated[Path, typer.Option(help="Directory to save the model in.")],
    data: Data = "sp500",
    tickers: Tickers = None,
    train_end: Annotated[
        str | None, typer.Option(help="Last training date (default: all).")
    ] = None,
    lookback: int = 60,
    hidden_size: int = 32,
    layers: int = 1,
    variant: Annotated[str, typer.Option(help="standard | peephole | coupled")] = "standard",
    dropout: float = 0.0,
    horizon: Annotated[int, typer.Option(help="Days ahead, predicted at once.")] = 1,
    epochs: int = 20,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    patience: Annotated[int, typer.Option(help="Epochs without improvement before stopping.")] = 5,
    clip_norm: float = 1.0,
    seed: int = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "cpu",
    path: Annotated[str, typer.Option(help="eager | compiled")] = "eager",
    checkpoint: Annotated[
        Path | None, typer.Option(help="Checkpoint file, written every epoch.")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from --checkpoint.")] = False,
    force: Annotated[bool, typer.Option(help="Replace a model saved in --out before.")] = False,
) -> None:
    """Train an LSTM on log returns and save it (model.safetensors + config.json)."""
    from .models import LSTMForecaster
    from .training import ModelFileError, TrainingError

    prices = _read_or_exit(data, tickers=_split(tickers))
    if train_end is not None:
        prices = prices.loc[:train_end]
    model = LSTMForecaster(
        lookback=lookback,
        hidden_size=hidden_size,
        num_layers=layers,
        variant=variant,
        dropout=dropout,
        horizon=horizon,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        patience=patience,
        clip_norm=clip_norm,
        seed=seed,
        device=device,
        path=path,
        progress=True,
        checkpoint=str(checkpoint) if checkpoint else None,
        resume=resume,
    )
    console.print(
        f"Training on {len(prices)} days of {', '.join(prices.columns)} "
        f"({prices.index[0]:%Y-%m-%d} to {prices.index[-1]:%Y-%m-%d})"
    )
    try:
        model.fit(prices)
        model.save(out, overwrite=force)
    except (ValueError, TrainingError, ModelFileError, RuntimeError) as exc:
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
    console.print(f"* best epoch, whose weights were kept. Model saved to {out}")


@app.command()
def predict(
    model: Annotated[Path, typer.Option(help="A directory written by 'train'.")],
    data: Data = "sp500",
    horizon: Annotated[int | None, typer.Option(help="Steps to show (<= the model's).")] = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the table to this CSV.")] = None,
) -> None:
    """The next forecasts (log return and price) per ticker, from the last date of --data."""
    from .models.lstm_inspect import forecast_path

    fitted, prices = _model_and_prices(model, data)
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
        if csv.exists():
            _fail(FileExistsError(f"{csv} exists; choose another file name"))
        table_frame.to_csv(csv, index=False)
        console.print(f"Written to {csv}")


@app.command()
def explain(
    model: Annotated[Path, typer.Option(help="A directory written by 'train'.")],
    out: Annotated[Path, typer.Option(help="Directory for the PNGs.")],
    data: Data = "sp500",
    ticker: Annotated[str | None, typer.Option(help="Ticker (default: the first).")] = None,
    days: Annotated[int, typer.Option(min=2, help="Recent days to show (<= lookback).")] = 60,
) -> None:
    """PNGs of the gates, cell states and forecasts over recent days: the LSTM, opened up."""
    from .models.lstm_inspect import look_inside
    from .reports.explain import plot_inside

    fitted, prices = _model_and_prices(model, data)
    try:
        inside = look_inside(fitted, prices, ticker or fitted.tickers_[0], days)
    except ValueError as exc:
        _fail(exc)
    for path in plot_inside(inside, out):
        console.print(f"Written {path}")
