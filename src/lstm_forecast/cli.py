"""The ``lstm-forecast`` command line: parses arguments, calls the library, prints with rich.

Heavy libraries (NumPy, matplotlib, torch) are imported inside the commands so that
``lstm-forecast --help`` answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .cli_options import READ_OPTIONS, ThreadsOpt, TickersOpt, pick, with_options

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
console = Console()


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


def _memory_table(title: str, days) -> Table:
    table = Table(title=title, title_justify="left")
    for column in (
        "day",
        "price",
        "forget f",
        "input i",
        "candidate g",
        "output o",
        "long c",
        "short h",
    ):
        table.add_column(column, justify="right")
    for d in days:
        table.add_row(
            str(d.day),
            f"{d.price:g}",
            f"{d.forget_gate:.2f}",
            f"{d.input_gate:.2f}",
            f"{d.candidate:.2f}",
            f"{d.output_gate:.2f}",
            f"{d.long_term:.2f}",
            f"{d.short_term:.2f}",
        )
    return table


@demo_app.command("memory")
def demo_memory(
    train: Annotated[bool, typer.Option(help="Learn the weights from scratch first.")] = False,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed of the random initialisation (--train), >= 0.")
    ] = 0,
    threads: ThreadsOpt = None,
) -> None:
    """The seed's worked LSTM unit, day by day, for Company A and Company B.

    Day 1 is the only difference between the companies, and Day 5 repeats Day 1: the unit
    must carry Day 1 in its long-term memory (the cell state) to predict Day 5.
    """
    from .demos.worked_example import COMPANIES, run_unit, seed_unit, train_unit

    layers = seed_unit()
    source = "the seed's weights"
    if train:
        _threads(threads)
        layers, losses = train_unit(seed=seed)
        source = f"weights learned from scratch (seed {seed}, {len(losses)} Adam steps)"
    console.print(f"One LSTM unit with {source}; memories start at 0.\n")
    for name, (prices, target) in COMPANIES.items():
        days = run_unit(layers, prices)
        console.print(_memory_table(f"{name} {list(prices)}", days))
        console.print(
            f"  Day 5 prediction (final short-term memory): "
            f"[bold]{days[-1].short_term:.2f}[/bold], actual {target:g}\n"
        )
    w = layers[0]
    console.print(
        "Weights (rows i, f, g, o):  input "
        + _fmt(w["W_ih"][:, 0])
        + "  short-term "
        + _fmt(w["W_hh"][:, 0])
        + "  bias "
        + _fmt(w["b_ih"] + w["b_hh"])
    )


def _fmt(values) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"


@demo_app.command("gradients")
def demo_gradients(
    out: Annotated[Path | None, typer.Option(help="Directory for gradients.png.")] = None,
    length: Annotated[int, typer.Option(min=2, help="Length of the random sequences.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of weights and data.")] = 0,
) -> None:
    """Vanishing and exploding gradients: 2^50, 0.5^50, then a tanh RNN against an LSTM."""
    from .demos.gradients import gradient_table, linear_rnn_gradient, plot_gradients

    table = Table(
        title="Linear RNN h_t = w x_t + w h_(t-1), unrolled 50 steps", title_justify="left"
    )
    table.add_column("feedback weight w", justify="right")
    table.add_column("d h_50 / d x_1 (backprop)", justify="right")
    table.add_column("w^50", justify="right")
    for w, verdict in ((2.0, "explodes"), (0.5, "vanishes")):
        table.add_row(f"{w:g}", f"{linear_rnn_gradient(w):.6e}  ({verdict})", f"{w**50:.6e}")
    console.print(table)

    curves = gradient_table(length=length, seed=seed)
    lags = sorted({k for k in (0, 1, 5, 10, 25, 50, 75, 99, length - 1) if k < length})
    table = Table(
        title=f"Mean ||dL/dx_(T-k)|| on random sequences, T = {length}, 32 units",
        title_justify="left",
    )
    table.add_column("lag k", justify="right")
    for name in curves:
        table.add_column(name, justify="right")
    for k in lags:
        table.add_row(str(k), *(f"{values[k]:.2e}" for values in curves.values()))
    console.print(table)
    if out is not None:
        _write_plot(out / "gradients.png", lambda path: plot_gradients(curves, path))


@demo_app.command("adding")
def demo_adding(
    steps: Annotated[int, typer.Option(min=4, help="Sequence length T.")] = 100,
    iterations: Annotated[int, typer.Option(min=1, help="Training batches per network.")] = 3000,
    hidden: Annotated[
        int, typer.Option("--hidden-size", "--hidden", min=1, help="Units of both networks.")
    ] = 32,
    seed: Annotated[int, typer.Option(min=0, help="Random seed (>= 0).")] = 0,
    out: Annotated[Path | None, typer.Option(help="Directory for adding.png.")] = None,
    threads: ThreadsOpt = None,
) -> None:
    """Long memory measured: the adding problem (Hochreiter & Schmidhuber 1997), LSTM vs RNN."""
    from .demos.adding import BASELINE_MSE, plot_adding, run_adding

    _threads(threads)

    console.print(
        f"Adding problem, T = {steps}: predict the sum of two marked values. "
        f"Predicting the mean gives MSE {BASELINE_MSE:.3f}."
    )
    runs = []
    for variant, label in (("standard", "LSTM"), ("rnn", "tanh RNN")):
        with console.status(f"training the {label} ({iterations} batches of 64)..."):
            runs.append(
                run_adding(
                    variant,
                    steps,
                    hidden,
                    iterations,
                    seed=seed,
                    eval_every=max(1, iterations // 10),
                )
            )
    table = Table(title="Test MSE during training (1000 test sequences)", title_justify="left")
    table.add_column("iteration", justify="right")
    for label in ("LSTM", "tanh RNN"):
        table.add_column(label, justify="right")
    for k, it in enumerate(runs[0].steps_done):
        table.add_row(str(it), *(f"{run.test_mse[k]:.4f}" for run in runs))
    console.print(table)
    for label, run in zip(("LSTM", "tanh RNN"), runs, strict=True):
        verdict = "solved" if run.test_mse[-1] < 0.01 else "not solved"
        console.print(
            f"{label}: final test MSE {run.test_mse[-1]:.4f} ({verdict}), "
            f"{run.accuracy:.1%} of sequences within 0.04, {run.seconds:.0f} s"
        )
    if out is not None:
        _write_plot(out / "adding.png", lambda path: plot_adding(runs, path))


@data_app.command("list")
def data_list() -> None:
    """List the datasets shipped inside the package."""
    from .data.datasets import DATASETS, DEFAULT_DATASET

    table = Table(
        title="Embedded datasets (use the name wherever a --data path goes)", title_justify="left"
    )
    for column in ("name", "contents", "source", "license"):
        table.add_column(column)
    for d in DATASETS.values():
        name = d.name + (" (default)" if d.name == DEFAULT_DATASET else "")
        table.add_row(name, d.description, d.source, d.license)
    console.print(table)


@data_app.command("show")
@with_options(READ_OPTIONS)
def data_show(
    name: Annotated[str, typer.Argument(help="Dataset name, or a CSV/Parquet/XLSX path.")],
    out: Annotated[Path | None, typer.Option(help="Directory for a PNG plot.")] = None,
    tickers: TickersOpt = None,
    **options,
) -> None:
    """Summarise a dataset: date range, tickers, rows, annualised return and volatility."""
    from .data.summary import plot_prices, summarize

    prices = _read_or_exit(name, tickers, options)
    summary = summarize(prices)
    table = Table(
        title=f"{name}: {len(prices)} dates, {len(summary)} ticker(s), "
        f"{prices.index[0]:%Y-%m-%d} to {prices.index[-1]:%Y-%m-%d}",
        title_justify="left",
    )
    table.add_column("ticker")
    for column in summary.columns:
        table.add_column(column, justify="right")
    for ticker, row in summary.iterrows():
        table.add_row(
            str(ticker),
            str(row["first"]),
            str(row["last"]),
            str(row["rows"]),
            f"{row['first price']:,.2f}",
            f"{row['last price']:,.2f}",
            f"{row['ann. return']:+.1%}",
            f"{row['ann. volatility']:.1%}",
        )
    console.print(table)
    if out is not None:
        from .reports.rundir import safe_name

        path = out / f"{safe_name(Path(name).name.split('.')[0])}.png"
        _write_plot(path, lambda target: plot_prices(prices, target, name))


def _write_plot(path: Path, plot) -> None:
    """``plot(path)`` into a new file only: an existing file (or a link) is never replaced."""
    if path.exists() or path.is_symlink():
        _fail(f"{path}: exists; choose another --out, nothing is overwritten")
    try:
        plot(path)
    except OSError as exc:
        _fail(f"{path}: cannot be written ({exc.strerror or exc}); choose another --out")
    console.print(f"Plot written to {path}")


def _split(names: str | None) -> list[str] | None:
    return [n.strip() for n in names.split(",") if n.strip()] if names else None


def _read_or_exit(source: str, tickers: str | None = None, options: dict | None = None):
    """read_prices with the reading options among ``options`` (:data:`READ_OPTIONS`); a
    DataError ends the command through _fail."""
    from .data import DataError, read_prices

    reading = pick(options, READ_OPTIONS) if options else {}
    try:
        return read_prices(source, tickers=_split(tickers), **reading)
    except DataError as exc:
        _fail(exc)


def _fail(exc: Exception | str) -> NoReturn:
    """End the command: the error as one red line, exit code 2, no traceback."""
    console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _threads(threads: int | None) -> int:
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


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one yellow line of their text, not 'src/.../cli.py:270: DataWarning:'."""
    console.print(f"[yellow]warning:[/yellow] {message}", highlight=False, soft_wrap=True)


def main() -> None:
    """Entry point of the ``lstm-forecast`` console script: usage errors (a bad flag value, an
    unknown option) as one line like every other error, warnings as their text."""
    import sys
    import warnings

    warnings.showwarning = _show_warning
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        console.print("aborted")
        sys.exit(1)
    except typer.TyperException as exc:
        context = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
            console.print(context.get_help(), markup=False, highlight=False)
            sys.exit(2)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        command = f" {context.command_path}" if context is not None else ""
        console.print(
            f"[red]error:[/red] {message} (see{command} --help)", highlight=False, soft_wrap=True
        )
        sys.exit(getattr(exc, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


from . import cli_backtest, cli_models  # noqa: E402, F401  (register their commands)

if __name__ == "__main__":  # run as the package's module, so the commands above register
    from lstm_forecast.cli import main as package_main

    package_main()
