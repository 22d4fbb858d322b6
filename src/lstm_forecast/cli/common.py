"""What every command shares: the typer apps, the console, and the helpers that end a
command with one clear line. The command modules import from here, never from the package
that registers them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from .. import __version__
from .options import READ_OPTIONS, pick

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(
    help="Forecast asset prices with LSTM networks, and find out honestly whether it works.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
demo_app = typer.Typer(help="Demos that show how an LSTM works.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
data_app = typer.Typer(help="The embedded real datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
# plain text by default: paths, tickers and messages may hold brackets that rich would read
# as tags; the few styled lines pass markup=True and escape what they quote
console = Console(markup=False)


def _version(value: bool) -> None:
    if value:
        console.print(f"lstm-forecast {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Forecast asset prices with LSTM networks, and find out honestly whether it works."""


def split_names(names: str | None) -> list[str] | None:
    return [n.strip() for n in names.split(",") if n.strip()] if names else None


def read_or_exit(
    source: str, tickers: str | None = None, options: dict | None = None, flag: str = "--data"
) -> pd.DataFrame:
    """read_prices with the reading options among ``options`` (:data:`READ_OPTIONS`), and the
    user's covariates attached when ``--covariates`` names a file; a DataError ends the
    command through fail. ``flag`` names ``source`` in the messages."""
    from ..data import DataError, read_prices

    reading = pick(options, READ_OPTIONS) if options else {}
    if not str(source).strip():
        fail(f"{flag} is empty; give a CSV/Parquet/XLSX path or a dataset name ('data list')")
    try:
        prices = read_prices(source, tickers=split_names(tickers), **reading)
        if options and options.get("covariates"):
            from ..data.covariates import attach_covariates
            from ..data.reader import read_covariates

            table = read_covariates(
                options["covariates"],
                lag=options.get("covariate_lag", 0),
                date_format=reading.get("date_format"),
                decimal=reading.get("decimal", "."),
                sheet=options.get("covariate_sheet"),
            )
            prices = attach_covariates(prices, table)
        return prices
    except DataError as exc:
        fail(exc)


def check_covariates(options: dict, reads: bool, reader: str | None = None) -> None:
    """Refuse ``--covariates`` that nothing reads, and covariates read without the file.

    ``reads``: whether a model of the command reads covariates; ``reader``: a saved model's
    directory (predict, explain), whose config.json decided, or None (the command's
    ``--features``)."""
    given = options.get("covariates")
    check_covariate_sheet(options)
    if given and not reads:
        if reader is not None:
            fail(
                f"--covariates {given}: the model in {reader} reads no covariates (its "
                "config.json); drop --covariates"
            )
        fail(
            f"--covariates {given}: no model reads it; add covariates to --features (e.g. "
            "--features returns,covariates), or drop --covariates"
        )
    if reads and not given:
        if reader is not None:
            fail(
                f"the model in {reader} reads covariates (its config.json): pass --covariates "
                "FILE with the same series it was trained on"
            )
        fail(
            "--features names covariates: pass --covariates FILE (a date column and one "
            "column per series), or leave covariates out of --features"
        )


def check_covariate_sheet(options: dict) -> None:
    """Refuse ``--covariate-sheet`` without the ``--covariates`` workbook it names a sheet of."""
    if options.get("covariate_sheet") and not options.get("covariates"):
        fail("--covariate-sheet names a sheet of the --covariates workbook; pass --covariates")


def fail(exc: Exception | str) -> NoReturn:
    """End the command: the error as one red line, exit code 2, no traceback."""
    # the message is text, not markup: a file name or a flag like 'lstm-forecast[ray]' shows
    console.print(
        f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True
    )
    raise typer.Exit(2)


def check_device(device: str) -> None:
    """``--device cuda`` where torch sees no GPU: refused before any data is read or work
    begins (a backtest would otherwise stop at its first LSTM task, its baselines run)."""
    from ..nn.engine import device_problem

    if problem := device_problem(device):
        fail(f"--device {device}: {problem}")


def set_threads(threads: int | None) -> int:
    """Set torch's CPU threads deliberately: ``--threads``, else ``$OMP_NUM_THREADS``, else 1.

    torch's own default is one thread per core. On a shared, loaded 2-core machine that made
    a demo 47x slower than one thread (threads spinning against other processes); the small
    LSTMs here gain little from a second thread even on an idle machine (README, "Threads").
    """
    import os

    import torch

    if threads is None:
        env = os.environ.get("OMP_NUM_THREADS", "")
        threads = int(env) if env.isdigit() and int(env) > 0 else 1
    torch.set_num_threads(threads)
    return threads


def print_caveat(source: str) -> None:
    """What a result on an embedded dataset cannot tell (its caveat), where it has one."""
    from ..data.datasets import DATASETS

    dataset = DATASETS.get(str(source))
    if dataset is not None and dataset.caveat:
        console.print(f"Note on {dataset.name}: {dataset.caveat}.")
