"""Everything a backtest writes: predictions.csv, metrics.csv, metrics.json, report.html, PNGs.

Nothing of the user's is overwritten: an output directory may only hold files a previous
backtest wrote (which are replaced); any other file stops the run before anything is written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from .. import __version__
from ..data.errors import DataError
from ..evaluation.backtest import BacktestResult

OURS = {
    "predictions.csv",
    "metrics.csv",
    "metrics.json",
    "report.html",
    "errors.png",
    "strategy_long_flat.png",
    "strategy_long_short.png",
}


def check_output_dir(out: Path) -> None:
    """Raise if ``out`` holds anything a backtest did not write."""
    if out.exists():
        if not out.is_dir():
            raise DataError(f"{out}: exists and is not a directory")
        foreign = sorted(
            p.name
            for p in out.iterdir()
            if p.name not in OURS and not p.name.startswith("forecast_")
        )
        if foreign:
            raise DataError(
                f"{out}: holds other files ({foreign[:5]}); choose a new or empty "
                "directory, nothing is overwritten"
            )


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_outputs(result: BacktestResult, table: pd.DataFrame, out: Path, source: str) -> Path:
    """Write every output into ``out``; returns the report's path."""
    from .html import write_report

    check_output_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    result.predictions.to_csv(out / "predictions.csv", index=False, date_format="%Y-%m-%d")
    table.to_csv(out / "metrics.csv", index=False)
    document = {
        "version": __version__,
        "source": source,
        "tickers": list(result.prices.columns),
        "data_start": f"{result.prices.index[0]:%Y-%m-%d}",
        "data_end": f"{result.prices.index[-1]:%Y-%m-%d}",
        "test_start": f"{result.predictions['origin'].min():%Y-%m-%d}",
        "test_end": f"{result.predictions['origin'].max():%Y-%m-%d}",
        "seconds": result.seconds,
        "settings": result.settings_dict(),
        "metrics": [{k: _clean(v) for k, v in row.items()} for row in table.to_dict("records")],
    }
    (out / "metrics.json").write_text(json.dumps(document, indent=2, default=str))
    return write_report(result, table, out, source)
