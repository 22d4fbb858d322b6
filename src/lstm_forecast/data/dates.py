"""One date format for a whole column: inferred from all of it, or given, never guessed per cell.

``pd.to_datetime(..., format="mixed")`` reads each cell on its own: ``05/01/2020`` becomes
May 1st and ``13/01/2020`` January 13th in the same column, and sorting then scrambles the
series. Here every cell of a column must have the same layout, and for day/month layouts the
column as a whole decides the order:

* year first (``2020-01-31``, ``2020/01/31``, ``2020.01.31``, ``20200131``, ISO timestamps);
* ``31/12/2020``, ``31.12.2020``, ``31-12-2020``: day first if some first field exceeds 12,
  month first if some second field does; a column where both readings fit every cell, or
  neither does, is refused (``--date-format`` settles it);
* month names (``Jan 31, 2020``, ``31-Jan-2020``): the layout of the first cell, for all;
* Unix time, 10 digits (seconds) or 13 (milliseconds), as crypto exchanges write it: the UTC
  date of each instant;
* ISO timestamps with UTC offsets (``2020-03-09 00:00:00-04:00``): each row's local date and
  time, the offset dropped, when the offsets are one zone's (at most an hour apart, as daylight
  saving moves them); offsets of different zones are refused.

Only ASCII digits count, cells longer than :data:`MAX_CHARS` are refused before any parsing,
and dates outside :data:`FIRST`..:data:`LAST` are refused.
"""

from __future__ import annotations

import re

import pandas as pd

from .errors import DataError

MAX_CHARS = 40
FIRST, LAST = pd.Timestamp("1800-01-01"), pd.Timestamp("2199-12-31")
EPOCH_SECONDS, EPOCH_MILLISECONDS = "unix seconds", "unix milliseconds"  # inferred only
# Missing-value markers: blanks, words, a dot (FRED), Excel's #N/A and Bloomberg's #N/A N/A
# (no value that day), pandas' <NA>. Other '#' cells are errors (see to_prices).
MISSING = {"", "na", "n/a", "nan", "null", "none", "-", "#n/a", "#n/a n/a", "#na", "<na>", "."}


def trades_on_weekends(dates: pd.DatetimeIndex) -> bool:
    """Whether the data has a Saturday or Sunday row (a market open every day: crypto); its
    next day is then the next calendar day, not business day, and a year 365 rows."""
    return bool((pd.DatetimeIndex(dates).day_of_week >= 5).any())


_ISO = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_YMD = re.compile(r"[0-9]{4}([/.])[0-9]{1,2}\1[0-9]{1,2}")
_COMPACT = re.compile(r"[0-9]{8}")
_EPOCH = re.compile(r"[0-9]{10}|[0-9]{13}")  # Unix time in seconds or milliseconds
_DMY = re.compile(
    r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?"
)
_NAMED = re.compile(r"[A-Za-z0-9 ,.\-/]+")
_MONTH = r"(?i)(?<![a-z])(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?![a-z])"


def shown(value: object, limit: int = 80) -> str:
    """``repr`` of a cell, cut to ``limit`` characters: an error never echoes a huge cell."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'"


def located(label: str, column: str, line: pd.Series, text: pd.Series, mask: pd.Series) -> str:
    """The first three cells where ``mask`` holds, with their file lines."""
    cells = [
        f"line {n}: {shown(v)}" for n, v in zip(line[mask].head(3), text[mask].head(3), strict=True)
    ]
    more = f" and {int(mask.sum()) - 3} more" if mask.sum() > 3 else ""
    return f"{label}: column {column!r}, " + "; ".join(cells) + more


def _layout(text: pd.Series) -> pd.Series:
    """The layout of each cell: iso, ymd, compact, epoch, dmy, named, or bad."""
    kinds = pd.Series("bad", index=text.index, dtype=object)
    for kind, pattern in (
        ("named", _NAMED),
        ("dmy", _DMY),
        ("compact", _COMPACT),
        ("epoch", _EPOCH),
        ("ymd", _YMD),
        ("iso", _ISO),
    ):
        kinds[text.str.fullmatch(pattern.pattern)] = kind
    named = kinds == "named"
    kinds[named & ~text.str.contains(_MONTH, regex=True)] = "bad"
    return kinds


def _day_month_format(text: pd.Series, label: str, column: str, line: pd.Series) -> str:
    parts = text.str.extract(_DMY.pattern)
    first, sep, second, year = (parts[k] for k in range(4))
    s = sep.iloc[0]  # the file's own separator, in the formats the messages suggest
    first, second = first.astype(int), second.astype(int)
    day_first, month_first = (first > 12).any(), (second > 12).any()
    if year.str.len().eq(2).any():
        order = (
            f"%d{s}%m{s}%y"
            if day_first and not month_first
            else f"%m{s}%d{s}%y"
            if month_first and not day_first
            else f"%d{s}%m{s}%y or %m{s}%d{s}%y"
        )
        raise DataError(
            f"{label}: column {column!r} has two-digit years (e.g. {shown(text.iloc[0])}), "
            f"which do not say their century; pass --date-format {order} (years 00-68 read as "
            "20xx, 69-99 as 19xx), or write four-digit years"
        )
    if day_first and month_first:
        a, b = (first > 12).idxmax(), (second > 12).idxmax()
        raise DataError(
            f"{label}: column {column!r} mixes day-first (line {line[a]}: {shown(text[a])}) and "
            f"month-first (line {line[b]}: {shown(text[b])}) dates; write one format "
            "throughout, or pass --date-format"
        )
    if not day_first and not month_first:
        raise DataError(
            f"{label}: column {column!r}: dates like {shown(text.iloc[0])} read as day/month "
            f"and as month/day alike and no cell decides; pass --date-format %d{s}%m{s}%Y "
            f"(or %m{s}%d{s}%Y)"
        )
    clock = parts[4].fillna("")
    if (clock != "").any() and not (clock != "").all():
        raise DataError(
            f"{label}: column {column!r} has dates with and without a time of day; "
            "write one format throughout, or pass --date-format"
        )
    clock_fmt = "" if clock.iloc[0] == "" else (" %H:%M:%S" if parts[5].notna().any() else " %H:%M")
    return (f"%d{s}%m{s}%Y" if day_first else f"%m{s}%d{s}%Y") + clock_fmt


def _infer_format(text: pd.Series, label: str, column: str, line: pd.Series) -> str | None:
    """The one format of the column (None: ISO 8601, which pandas reads itself)."""
    kinds = _layout(text)
    bad = kinds == "bad"
    if bad.any():
        cells = text[bad]
        if cells.str.fullmatch(r"[0-9]{5}(\.0+)?").all() and (
            cells.astype(float).between(20_000, 80_000).all()
        ):
            first = pd.Timestamp("1899-12-30") + pd.Timedelta(days=float(cells.iloc[0]))
            raise DataError(
                located(label, column, line, text, bad)
                + f": Excel day numbers, not dates ({cells.iloc[0]} is {first:%Y-%m-%d}); "
                "format the column as dates in Excel before saving, or convert it: "
                "pd.to_datetime(days, unit='D', origin='1899-12-30')"
            )
        raise DataError(
            located(label, column, line, text, bad) + ": not a date (expected e.g. 2020-01-31)"
        )
    found = list(dict.fromkeys(kinds))
    if len(found) > 1:
        examples = "; ".join(
            f"line {line[(kinds == k).idxmax()]}: {shown(text[(kinds == k).idxmax()])}"
            for k in found[:3]
        )
        raise DataError(
            f"{label}: column {column!r} mixes date formats ({examples}); write one format "
            "throughout, or pass --date-format"
        )
    kind = found[0]
    if kind == "iso":
        return None
    if kind == "compact":
        return "%Y%m%d"
    if kind == "epoch":
        widths = text.str.len()
        if widths.nunique() > 1:
            a, b = (widths == 10).idxmax(), (widths == 13).idxmax()
            raise DataError(
                f"{label}: column {column!r} mixes Unix seconds (line {line[a]}: "
                f"{shown(text[a])}) and milliseconds (line {line[b]}: {shown(text[b])})"
            )
        return EPOCH_SECONDS if widths.iloc[0] == 10 else EPOCH_MILLISECONDS
    if kind == "ymd":
        s = text.iloc[0][4]
        return f"%Y{s}%m{s}%d"
    if kind == "dmy":
        return _day_month_format(text, label, column, line)
    from pandas.tseries.api import guess_datetime_format

    guessed = guess_datetime_format(text.iloc[0])
    if guessed is None:
        raise DataError(
            f"{label}: column {column!r}: cannot tell the date format of {shown(text.iloc[0])}; "
            "pass --date-format (e.g. '%b %d, %Y')"
        )
    return guessed


_OFFSET = re.compile(r"(Z|[+-][0-9]{2}:?[0-9]{2})$")


def _local_times(text: pd.Series, label: str, column: str, line: pd.Series) -> pd.Series:
    """ISO cells with their UTC offsets dropped where the offsets are one zone's: each row's
    local time (the exchange's date) is kept. Two offsets an hour apart are one zone with and
    without daylight saving (a yfinance export: ``-05:00`` in winter, ``-04:00`` in summer);
    offsets further apart are different zones, and refused."""
    found = text.str.extract(_OFFSET.pattern, expand=False)
    if found.isna().all():
        return text
    if found.isna().any():
        a, b = found.isna().idxmax(), found.notna().idxmax()
        raise DataError(
            f"{label}: column {column!r} has dates with and without a UTC offset (line "
            f"{line[a]}: {shown(text[a])}, line {line[b]}: {shown(text[b])}); write one "
            "format throughout"
        )
    minutes = found.map(_offset_minutes)
    if minutes.isna().any() or minutes.max() - minutes.min() > 60:
        a, b = minutes.idxmin(), minutes.idxmax()
        if minutes.isna().any():
            a, b = minutes.index[0], minutes.isna().idxmax()
        raise DataError(
            f"{label}: column {column!r} mixes time zones (line {line[a]}: {shown(text[a])}, "
            f"line {line[b]}: {shown(text[b])}); write every date in one time zone (or as "
            "plain dates)"
        )
    return text.str.replace(_OFFSET.pattern, "", regex=True)


def _offset_minutes(offset: str) -> float:
    """``Z`` 0, ``+05:30`` 330, ``-0400`` -240; anything else NaN."""
    if offset == "Z":
        return 0.0
    digits = offset[1:].replace(":", "")
    if len(digits) != 4 or not digits.isdigit():
        return float("nan")
    value = int(digits[:2]) * 60 + int(digits[2:])
    return float(value if offset[0] == "+" else -value)


def to_dates(
    values: pd.Series, label: str, column: str, line: pd.Series, date_format: str | None = None
) -> pd.Series:
    """Parse a date column with one format; every problem is a :class:`DataError`."""
    text = values.astype(str).str.strip()
    long = text.str.len() > MAX_CHARS
    if long.any():
        raise DataError(
            located(label, column, line, text, long)
            + f": longer than {MAX_CHARS} characters, not a date"
        )
    empty = text.str.lower().isin(MISSING)
    if empty.any():
        raise DataError(located(label, column, line, text, empty) + ": missing date")
    fmt = date_format or _infer_format(text, label, column, line)
    if fmt in (EPOCH_SECONDS, EPOCH_MILLISECONDS):  # the UTC date of each instant
        unit = "s" if fmt == EPOCH_SECONDS else "ms"
        parsed = pd.to_datetime(text.astype("int64"), unit=unit).astype("datetime64[us]")
        return _read_as(_in_range(parsed, label, column, line, text), fmt)
    if fmt is None:
        text = _local_times(text, label, column, line)
    elif fmt.rstrip().endswith("%z"):  # a given format with offsets: the same local dates
        text = _local_times(text, label, column, line).str.strip()
        fmt = fmt.rstrip()[:-2].rstrip()
    try:
        if fmt is None:
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        else:
            parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    except (ValueError, TypeError, OverflowError) as exc:
        message = str(exc).lower()
        if "tz" in message or "offset" in message or "time zone" in message:
            raise DataError(
                f"{label}: column {column!r} mixes time zones; write every date in one "
                "time zone (or as plain dates)"
            ) from None
        raise DataError(
            f"{label}: column {column!r}: cannot parse dates ({shown(str(exc), 120)})"
        ) from None
    if parsed.dtype == object:
        raise DataError(
            f"{label}: column {column!r} mixes time zones; write every date in one "
            "time zone (or as plain dates)"
        )
    bad = parsed.isna()
    if bad.any():
        expected = f"format {date_format!r}" if date_format else f"format {fmt!r}"
        raise DataError(located(label, column, line, text, bad) + f": not a date in {expected}")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return _read_as(_in_range(parsed, label, column, line, text), fmt)


FORMAT = "format"  # dates.attrs key: the format the column was read in


def _read_as(dates: pd.Series, fmt: str | None) -> pd.Series:
    """``dates`` with the format they were read in, in ``attrs`` (``data show`` names it)."""
    dates.attrs[FORMAT] = "ISO 8601 (year first)" if fmt is None else fmt
    return dates


def _in_range(parsed, label, column, line, text) -> pd.Series:
    outside = (parsed < FIRST) | (parsed > LAST)
    if outside.any():
        raise DataError(
            located(label, column, line, text, outside)
            + f": outside {FIRST:%Y-%m-%d}..{LAST:%Y-%m-%d}; fix these dates"
        )
    return parsed
