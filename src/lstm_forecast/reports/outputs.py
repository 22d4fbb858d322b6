"""Everything a backtest writes: predictions.csv, metrics.csv, metrics.json, report.html, PNGs.

Nothing of the user's is overwritten or mixed with a new run: see :mod:`.rundir`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import __version__
from ..data.reader import READ_AS
from ..evaluation.backtest import BacktestResult
from ..evaluation.calibration import backtest_calibration
from ..evaluation.crosssection import backtest_cross_section
from ..evaluation.importance import backtest_importance
from ..evaluation.luck import luck_table, plain_words
from ..evaluation.summary import (
    buy_and_hold,
    ended_notes,
    floor_notes,
    listed_notes,
    untrained_notes,
)
from .distribution import write_distribution_files
from .parts import records, run_config
from .rundir import RunDirectory


def write_outputs(
    result: BacktestResult,
    table: pd.DataFrame,
    out: Path | RunDirectory,
    source: str,
    command: dict | None = None,
    luck: pd.DataFrame | None = None,
    distribution: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> Path:
    """Write every output into ``out``, all at once (see :mod:`.rundir`); returns the report's
    final path. Given a path, the directory is checked, locked, written and swapped in here;
    given an open :class:`RunDirectory` (checked before the compute), the caller commits it.
    ``command``: the resolved options of the command that ran (so a run can be repeated);
    ``luck``: :func:`~lstm_forecast.evaluation.luck.luck_table` and ``distribution``:
    :func:`~lstm_forecast.evaluation.calibration.backtest_calibration`, if already computed."""
    from .html import write_report

    if luck is None:
        luck = luck_table(result, table)
    if distribution is None:
        distribution = backtest_calibration(result)
    if not isinstance(out, RunDirectory):
        with RunDirectory(out) as run:
            report = write_outputs(result, table, run, source, command, luck, distribution)
            run.commit()
        return report
    run = out
    worth = backtest_importance(result)  # here, not above: the call above comes back here
    relative = result.settings.target == "relative"
    cross = backtest_cross_section(result) if relative else None
    predictions = result.all_predictions()
    run.write("predictions.csv", predictions.to_csv(index=False, date_format="%Y-%m-%d"))
    run.write("metrics.csv", table.to_csv(index=False))
    document = {
        "version": __version__,
        "source": source,
        "read_as": result.prices.attrs.get(READ_AS),
        "tickers": list(result.prices.columns),
        "data_start": f"{result.prices.index[0]:%Y-%m-%d}",
        "data_end": f"{result.prices.index[-1]:%Y-%m-%d}",
        "test_start": f"{result.predictions['origin'].min():%Y-%m-%d}",
        "test_end": f"{result.predictions['origin'].max():%Y-%m-%d}",
        "seconds": result.seconds,
        "settings": result.settings_dict(),
        "command": command,
        "metrics": records(table),
        "refits": records(result.refits),
        "could_this_be_luck": {"summary": plain_words(luck, table), "groups": records(luck)},
        "kept_their_start": untrained_notes(result),
        "dropped_for_the_mean": floor_notes(result),
        "listed": listed_notes(result),
        "ended": ended_notes(result),
        "cross_section": records(cross) if cross is not None else None,
        "importance": records(worth),
        "buy_and_hold": records(buy_and_hold(result)),
    }
    if len(distribution[0]):
        document["distributions"] = write_distribution_files(result, run, distribution)
    run.write("metrics.json", json.dumps(document, indent=2, default=str))
    if command is not None:
        run.write("run.toml", run_config(command))
    if len(worth):
        run.write("importance.csv", worth.to_csv(index=False))
    return write_report(result, table, run, source, luck, worth, cross, distribution)
