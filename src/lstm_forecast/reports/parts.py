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
            f'<td class="{"l" if key in LEFT else ""}">{cell(record[key], fmt)}</td>'
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
