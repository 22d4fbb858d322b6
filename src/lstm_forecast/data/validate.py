"""Column-level parsing with errors that point at the line: dates, prices, history length."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError

MISSING = {"", "na", "n/a", "nan", "null", "none", "-", "#n/a"}
THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"  # 1,234,567.89 -- never a decimal comma


def _where(label: str, line: pd.Series, mask: pd.Series, column: str, values: pd.Series) -> str:
    shown = [
        f"line {n}: {v!r}" for n, v in zip(line[mask].head(3), values[mask].head(3), strict=True)
    ]
    more = f" and {int(mask.sum()) - 3} more" if mask.sum() > 3 else ""
    return f"{label}: column {column!r}, " + "; ".join(shown) + more


def to_dates(values: pd.Series, label: str, column: str, line: pd.Series) -> pd.Series:
    """Parse a date column; unparseable, impossible or mixed-time-zone dates are errors."""
    text = values.astype(str).str.strip()
    empty = text.str.lower().isin(MISSING)
    if empty.any():
        raise DataError(_where(label, line, empty, column, text) + ": missing date")
    try:
        parsed = pd.to_datetime(text, format="ISO8601")
    except (ValueError, TypeError):
        try:
            parsed = pd.to_datetime(text, format="mixed", errors="coerce")
        except (ValueError, TypeError) as exc:
            if "tz" in str(exc).lower() or "offset" in str(exc).lower():
                raise DataError(
                    f"{label}: column {column!r} mixes time zones; write every "
                    "date in one time zone (or as plain dates)"
                ) from None
            raise DataError(f"{label}: column {column!r}: cannot parse dates ({exc})") from None
    if parsed.dtype == object:
        raise DataError(
            f"{label}: column {column!r} mixes time zones; write every date in one "
            "time zone (or as plain dates)"
        )
    bad = parsed.isna()
    if bad.any():
        raise DataError(
            _where(label, line, bad, column, text) + ": not a valid date (expected e.g. 2020-01-31)"
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def to_prices(
    values: pd.Series, label: str, column: str, line: pd.Series, allow_zero: bool = False
) -> pd.Series:
    """Parse a price column exactly; missing cells become NaN, bad ones are errors."""
    text = values.astype(str).str.strip()
    grouped = text.str.match(THOUSANDS)
    text = text.where(~grouped, text.str.replace(",", "", regex=False))
    missing = text.str.lower().isin(MISSING)
    cleaned = text.where(~missing, "nan")
    try:
        numbers = pd.Series(np.asarray(cleaned.to_numpy(), dtype=np.float64), index=values.index)
    except ValueError:
        numbers = pd.to_numeric(cleaned, errors="coerce")
        bad = numbers.isna() & ~missing
        raise DataError(
            _where(label, line, bad, column, values) + ": not a number; fix or blank these cells"
        ) from None
    nan_text = numbers.isna() & ~missing
    if nan_text.any():
        raise DataError(_where(label, line, nan_text, column, values) + ": not a number")
    inf = np.isinf(numbers)
    if inf.any():
        raise DataError(_where(label, line, inf, column, values) + ": infinite price")
    nonpositive = (numbers < 0) if allow_zero else (numbers <= 0)
    if nonpositive.any():
        what = "negative" if allow_zero else "zero or negative"
        raise DataError(
            _where(label, line, nonpositive, column, values)
            + f": {what} price; prices must be positive (log returns need it)"
        )
    return numbers


def check_history(prices: pd.DataFrame, lookback: int, test_days: int, label: str = "data") -> None:
    """Raise :class:`DataError` if any ticker is too short for ``lookback`` + ``test_days``.

    A model needs ``lookback`` prices before its first training target, some training rows,
    and the test window after them.
    """
    needed = lookback + test_days + 2
    for ticker in prices.columns:
        series = prices[ticker].dropna()
        if len(series) < needed:
            span = (
                f"{series.index[0]:%Y-%m-%d} to {series.index[-1]:%Y-%m-%d}"
                if len(series)
                else "no rows"
            )
            raise DataError(
                f"{label}: {ticker!r} has {len(series)} prices ({span}) but lookback {lookback} "
                f"and {test_days} test days need at least {needed}; use more data or shorten "
                "the lookback or the test window"
            )
