"""Pieces every HTML report shares: the style sheet and the table writer."""

from __future__ import annotations

import html

import pandas as pd

STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;color:#222}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;
text-align:right}th{background:#f2f2f2}td.l{text-align:left}img{max-width:100%;display:block;
margin:1em 0}.good{background:#e6f4e6}.bad{background:#fbe9e9}.note{color:#555;font-size:14px}"""


def cell(value, fmt: str) -> str:
    if isinstance(value, float) and value != value:  # NaN
        return "-"
    return html.escape(fmt.format(value))


LEFT = {
    *("model", "ticker", "kind", "verdict", "tuned"),
    *("stepm", "confidence_set", "best_strategy", "input"),
}


def html_table(frame: pd.DataFrame, columns, table_id: str, row_class=lambda record: "") -> str:
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
