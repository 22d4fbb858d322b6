"""Pieces every report shares: the style sheet, the table writer, embedded images, the
settings table, and frames as JSON records."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;color:#222}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;
text-align:right}th{background:#f2f2f2}td.l{text-align:left}img{max-width:100%;display:block;
margin:1em 0}.good{background:#e6f4e6}.bad{background:#fbe9e9}.note{color:#555;font-size:14px}"""


def cell(value: object, fmt: str) -> str:
    if isinstance(value, float) and value != value:  # NaN
        return "-"
    return html.escape(fmt.format(value))


LEFT = {
    *("model", "ticker", "kind", "verdict", "tuned"),
    *("stepm", "confidence_set", "best_strategy", "input"),
}


def html_table(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str, str]],
    table_id: str,
    row_class: Callable[[Any], str] = lambda record: "",
) -> str:
    """A table of ``columns`` (key, heading, format) of ``frame``; text columns left-aligned."""
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in columns)
    rows = "".join(
        f'<tr class="{row_class(record)}">'
        + "".join(
            f'<td class="{"l" if key in LEFT else ""}">{cell(record.get(key, math.nan), fmt)}</td>'
            for key, _, fmt in columns
        )
        + "</tr>"
        for record in frame.to_dict("records")
    )
    return f'<table id="{table_id}"><tr>{head}</tr>{rows}</table>'


def embedded(images: dict[str, bytes]) -> dict[str, str]:
    """Name -> a data URI of each PNG, for a self-contained HTML file."""
    return {n: "data:image/png;base64," + base64.b64encode(d).decode() for n, d in images.items()}


def settings_rows(settings: dict) -> str:
    """The rows of the report's settings table."""
    return "".join(
        f"<tr><td class='l'>{html.escape(str(k))}</td><td class='l'>{html.escape(str(v))}</td></tr>"
        for k, v in settings.items()
    )


def clean(value: Any) -> Any:
    """A JSON-safe value: NaN and infinities become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    """The rows of ``frame`` as JSON-safe dictionaries."""
    return [{k: clean(v) for k, v in row.items()} for row in frame.to_dict("records")]


def worth_columns(metric: str) -> list[tuple[str, str, str]]:
    """The importance table's columns: the rise in ``metric`` (MSE or log score)."""
    columns = [
        ("input", "input (lags counted back from the origin)", "{}"),
        ("delta", f"rise in {metric} when shuffled", "{:+.3g}"),
        ("low", "95% interval from", "{:+.3g}"),
        ("high", "to", "{:+.3g}"),
        ("share", "as a share of the LSTM's MSE", "{:+.2%}"),
        ("n", "test dates", "{}"),
    ]
    return [c for c in columns if metric == "MSE" or c[0] != "share"]


def worth_section(worth: pd.DataFrame | None) -> str:
    """The report's section on what each input is worth to the LSTM (none without a table)."""
    if worth is None or not len(worth):
        return ""
    metric = str(worth["metric"].iloc[0])
    loss = "mean squared error" if metric == "MSE" else "log score (of the whole distribution)"
    return f"""<h2>What each input is worth to the LSTM (out of sample)</h2>
<p class="note">Permutation importance: at every test origin the LSTM's input windows are
forecast again with one input shuffled across the windows (a feature group, or one block of
its lags), which breaks that input's link to the outcome and keeps everything else. The rise
in {loss} is what the input was worth; an interval that straddles 0 says the
model does not rely on it (95%, stationary bootstrap over test dates). Also in
importance.csv.</p>
{html_table(worth, worth_columns(metric), "importance")}"""


# a run's options that do not say what it computes: where it writes, and how it was started
NOT_REPEATED = ("out", "config", "resume")


def run_config(command: dict[str, Any]) -> str:
    """The options of a run as TOML that ``--config`` reads (``run.toml``): ``lstm-forecast
    backtest --config run.toml --out NEW`` repeats it. Unset options are left out, paths are
    as they were given (relative to where the run started)."""
    import json

    lines = [
        "# The options of this backtest. To repeat it, from the directory it ran in:",
        "#   lstm-forecast backtest --config PATH/TO/run.toml --out NEW_DIRECTORY",
    ]
    for key, value in command.items():
        if key in NOT_REPEATED or value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value)
        else:
            text = json.dumps(str(value), ensure_ascii=False)  # a TOML basic string
        lines.append(f"{key.replace('_', '-')} = {text}")
    return "\n".join(lines) + "\n"


def read_as_note(prices: pd.DataFrame) -> str:
    """How the data file was read (``data show``'s "Read as"), for the report's data note."""
    from ..data.reader import READ_AS

    said = prices.attrs.get(READ_AS)
    return f" Read as {html.escape(said)}." if said else ""
