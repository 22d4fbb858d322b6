"""``lstm-forecast demo ...`` and ``lstm-forecast data ...``: how an LSTM works, and the
embedded datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import (
    check_covariate_sheet,
    console,
    data_app,
    demo_app,
    fail,
    print_caveat,
    read_or_exit,
    set_threads,
)
from .options import COVARIATE_OPTIONS, READ_OPTIONS, ThreadsOpt, TickersOpt, with_options


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
    from ..demos.worked_example import COMPANIES, run_unit, seed_unit, train_unit

    layers = seed_unit()
    source = "the seed's weights"
    if train:
        set_threads(threads)
        layers, losses = train_unit(seed=seed)
        source = f"weights learned from scratch (seed {seed}, {len(losses)} Adam steps)"
    console.print(f"One LSTM unit with {source}; memories start at 0.\n")
    for name, (prices, target) in COMPANIES.items():
        days = run_unit(layers, prices)
        console.print(_memory_table(f"{name} {list(prices)}", days))
        console.print(
            f"  Day 5 prediction (final short-term memory): "
            f"[bold]{days[-1].short_term:.2f}[/bold], actual {target:g}\n",
            markup=True,
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
    from ..demos.gradients import gradient_table, linear_rnn_gradient, plot_gradients

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
    from ..demos.adding import BASELINE_MSE, plot_adding, run_adding

    set_threads(threads)

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
    from ..data.datasets import DATASETS, DEFAULT_DATASET

    table = Table(
        title="Embedded datasets (use the name wherever a --data path goes)", title_justify="left"
    )
    for column in ("name", "contents", "source", "license"):
        table.add_column(column)
    for d in DATASETS.values():
        name = d.name + (" (default)" if d.name == DEFAULT_DATASET else "")
        caveat = f" ({d.caveat})" if d.caveat else ""
        table.add_row(name, d.description + caveat, d.source, d.license)
    console.print(table)


@data_app.command("show")
@with_options(READ_OPTIONS, COVARIATE_OPTIONS)
def data_show(
    name: Annotated[str, typer.Argument(help="Dataset name, or a CSV/Parquet/XLSX path.")],
    out: Annotated[Path | None, typer.Option(help="Directory for a PNG plot.")] = None,
    tickers: TickersOpt = None,
    **options,
) -> None:
    """Summarise a dataset: date range, tickers, rows, annualised return and volatility."""
    from ..data.summary import plot_prices, summarize

    prices = read_or_exit(name, tickers, options, flag="the name argument")
    summary = summarize(prices)
    table = _summary_table(
        f"{name}: {len(prices)} dates, {len(summary)} ticker(s), "
        f"{prices.index[0]:%Y-%m-%d} to {prices.index[-1]:%Y-%m-%d}",
        "ticker",
        summary.rename(columns={"ann. volatility": "ann. vol."}),
        {
            "first price": "{:,.2f}".format,
            "last price": "{:,.2f}".format,
            "ann. return": lambda v: _share(v, "{:+.1%}"),
            "ann. vol.": lambda v: _share(v, "{:.1%}"),  # '-' from fewer than two returns
        },
    )
    console.print(table)
    from ..data.reader import READ_AS

    if READ_AS in prices.attrs:  # what was inferred, to check: layout, columns, dates, text
        console.print(f"Read as {prices.attrs[READ_AS]}", markup=False, highlight=False)
    from ..data.ohlcv import bars_of

    fields = ("open", "high", "low", "volume")
    found = [bars for t in prices.columns if (bars := bars_of(prices, str(t))) is not None]
    kept = [c for c in fields if found and all(c in bars for bars in found)]
    if kept:
        some = f" for {len(found)} of {prices.shape[1]} tickers" if prices.shape[1] > 1 else ""
        whole = len(kept) == 4 and len(found) == prices.shape[1]
        usable = " (--features ohlc reads them)" if whole else ""
        console.print(f"Daily bars beside the closes: {', '.join(kept)}{some}{usable}")
    from ..data.dates import trades_on_weekends
    from ..data.holidays import holidays_kept

    if trades_on_weekends(prices.index):
        console.print("Dated on weekends too: predict steps calendar days")
    elif kept := holidays_kept(prices.index):
        console.print(
            f"Holidays its dates show the market keeps (predict skips them): {', '.join(kept)}"
        )
    _show_covariates(prices, options)
    print_caveat(name)
    if out is not None:
        from ..reports.rundir import safe_name

        path = out / f"{safe_name(Path(name).name.split('.')[0])}.png"
        _write_plot(path, lambda target: plot_prices(prices, target, name))


def _show_covariates(prices, options: dict) -> None:
    """The covariates as the models will read them (after --covariate-lag), one row each."""
    from ..data.summary import summarize_covariates

    check_covariate_sheet(options)
    summary = summarize_covariates(prices)
    if summary is None:
        return
    lag = options.get("covariate_lag", 0)
    table = _summary_table(
        f"{options['covariates']}: {len(summary)} covariate(s), each value known "
        f"{lag} business day(s) after its date (--covariate-lag)",
        "series",
        summary,
        {"last value": "{:,.6g}".format, "price dates covered": "{:.1%}".format},
        left=("spacing",),
    )
    console.print(table)


def _summary_table(
    title: str, first: str, summary, formats: dict, left: tuple[str, ...] = ()
) -> Table:
    """A table of ``summary``: a column ``first`` for its index, one per summary column
    (numbers right-aligned; words, ``left``, left-aligned), each cell written by its column's
    ``formats`` entry (``str`` where there is none)."""
    rows = [
        [str(index), *(formats.get(c, str)(row[c]) for c in summary.columns)]
        for index, row in summary.iterrows()
    ]
    # each column at least as wide as its widest cell (a header may wrap, a date may not),
    # and no outer edge, so that a dated table fits an 80-column terminal whole; the first
    # column's names (a file's name, 'S&P 500 Historical Data') wrap where they must, so
    # that a long one never pushes the numbers off the edge
    columns = [first, *summary.columns]
    cells = [max((len(row[i]) for row in rows), default=0) for i in range(len(columns))]
    heads = [max(len(word) for word in str(column).split()) for column in columns]
    rest = sum(map(max, cells[1:], heads[1:])) + 3 * (len(columns) - 1)  # ' │ ' between
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for i, (column, width) in enumerate(zip(columns, cells, strict=True)):
        table.add_column(
            str(column),
            justify="left" if i == 0 or column in left else "right",
            width=max(min(width, console.width - rest), heads[0]) if i == 0 else None,
            min_width=width,
            max_width=max(width, heads[i]),
            overflow="fold",
        )
    for row in rows:
        table.add_row(*row)
    return table


def _share(value: float, fmt: str) -> str:
    return fmt.format(value) if value == value else "-"


def _write_plot(path: Path, plot) -> None:
    """``plot(path)`` into a new file only: an existing file (or a link) is never replaced."""
    if path.exists() or path.is_symlink():
        fail(f"{path}: exists; choose another --out, nothing is overwritten")
    try:
        plot(path)
    except OSError as exc:
        fail(f"{path}: cannot be written ({exc.strerror or exc}); choose another --out")
    console.print(f"Plot written to {path}")
