"""Column-level parsing with errors that point at the line: dates, prices, history length."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .dates import MISSING, located, to_dates
from .errors import DataError

__all__ = ["check_history", "to_dates", "to_prices"]

THOUSANDS = {  # 1,234,567.89 with the decimal point; 1.234.567,89 with the decimal comma
    ".": r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$",
    ",": r"^[+-]?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]*)?$",
}
# Groups of three split by an apostrophe (Swiss: 1'234.50), or by a space, a no-break or a
# narrow no-break space (French: 1 234,50), with either decimal mark
SPACED = "'\u2019 \u00a0\u202f"
SPACED_THOUSANDS = {
    mark: rf"^[+-]?[0-9]{{1,3}}([{SPACED}][0-9]{{3}})+(\{mark}[0-9]*)?$" for mark in (".", ",")
}
NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"  # ASCII digits only
DECIMAL_COMMA = r"^[+-]?[0-9]+,[0-9]+$"
CURRENCY = r"^([+-]?)([$€£¥])\s?(?=[0-9.])"  # one leading currency sign before the digits
# or one after them: a sign or an ISO code (102,06 €, 102.06 USD: European bank exports)
TRAILING_CURRENCY = r"(?<=[0-9])\s?([$€£¥]|(?<=\s)[A-Z]{3})$"


def to_prices(
    values: pd.Series,
    label: str,
    column: str,
    line: pd.Series,
    allow_zero: bool = False,
    decimal: str = ".",
    positive: bool = True,
    counts: bool = False,
) -> pd.Series:
    """Parse a price column exactly; missing cells become NaN, bad ones are errors.

    Numbers are plain ASCII (``1234.5``, ``1,234.5``, ``1.2e3``; with ``decimal=","``
    ``1234,5`` and ``1.234,5``), thousands also split by an apostrophe or a space of any
    width (``1'234.5``, ``1 234,5``), after one leading currency sign (``$1,234.50``, ``€12``);
    ``1_000``, non-ASCII digits and words are refused.
    ``positive=False`` reads any finite value (a covariate: a rate, a spread, a sentiment
    score), not a price. ``counts=True`` (a volume) also reads a K, M or B suffix
    (``1.23M``: 1,230,000, as investing.com writes volumes).
    """
    text = values.astype(str).str.strip()
    if not positive:
        text = _percentages(values, text, label, column, line)
    if decimal == ".":
        # Fast path: a plain ASCII number needs none of the rewriting below (a million cells
        # of a long file took seconds per column through it); the other cells go through it.
        plain = text.str.match(NUMBER)
        numbers = pd.Series(np.nan, index=values.index)
        numbers[plain] = np.asarray(text[plain].to_numpy(), dtype=np.float64)
        if not plain.all():
            rest = ~plain
            numbers[rest] = _parse(
                values[rest], text[rest], label, column, line[rest], decimal, counts
            )
    else:
        numbers = _parse(values, text, label, column, line, decimal, counts)
    inf = np.isinf(numbers)
    if inf.any():
        raise DataError(located(label, column, line, values, inf) + ": infinite value")
    if not positive:
        return numbers
    nonpositive = (numbers < 0) if allow_zero else (numbers <= 0)
    if nonpositive.any():
        what = "negative" if allow_zero else "zero or negative"
        raise DataError(
            located(label, column, line, values, nonpositive)
            + f": {what} price; prices must be positive (log returns need it)"
        )
    return numbers


def _parse(
    values: pd.Series,
    text: pd.Series,
    label: str,
    column: str,
    line: pd.Series,
    decimal: str,
    counts: bool,
) -> pd.Series:
    """The cells that are not plain numbers: suffixes, currency signs, thousands separators,
    decimal commas and missing markers read; anything else is an error naming its line."""
    scale = pd.Series(1.0, index=values.index)
    if counts:
        suffix = text.str.extract(r"^(.*[0-9.])\s?([KkMmBb])$")
        found = suffix[0].notna()
        scale[found] = suffix.loc[found, 1].str.upper().map({"K": 1e3, "M": 1e6, "B": 1e9})
        text = text.where(~found, suffix[0])
    _one_currency(values, text, label, column, line)
    text = text.str.replace(CURRENCY, r"\1", regex=True)  # $1,234.50 (nasdaq.com) is 1234.5
    text = text.str.replace(TRAILING_CURRENCY, "", regex=True)
    if decimal == ",":
        _refuse_decimal_points(values, text, label, column, line)
    grouped = text.str.match(THOUSANDS[decimal])
    other = "," if decimal == "." else "."
    text = text.where(~grouped, text.str.replace(other, "", regex=False))
    spaced = text.str.match(SPACED_THOUSANDS[decimal])
    text = text.where(~spaced, text.str.replace(f"[{SPACED}]", "", regex=True))
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    missing = text.str.lower().isin(MISSING)
    bad = ~missing & ~text.str.match(NUMBER)
    if bad.any():
        hint = "fix or blank these cells"
        cells = values.astype(str).str.strip()[bad]
        comma = (
            cells.str.match(DECIMAL_COMMA)
            | cells.str.match(THOUSANDS[","])
            | cells.str.match(SPACED_THOUSANDS[","])
        )
        if decimal == "." and comma.any():
            hint = "these look like decimal commas: pass --decimal ,"
        elif cells.str.startswith("#").all():
            hint = (
                "an error value of a spreadsheet or terminal (#VALUE!, #N/A Invalid Security), "
                "not a price: fix the formula or request, or blank these cells"
            )
        raise DataError(located(label, column, line, values, bad) + f": not a number; {hint}")
    cleaned = text.where(~missing, "nan")
    numbers = pd.Series(np.asarray(cleaned.to_numpy(), dtype=np.float64), index=values.index)
    return numbers * scale


def _percentages(values, text, label, column, line) -> pd.Series:
    """A covariate written as percentages (``5.25%``, as Excel formats a rate) is read as
    the number before the sign (5.25), when every value carries it; a column mixing ``5%``
    and ``0.05`` is two units and refused."""
    pct = text.str.match(r"^.*[0-9]\s?%$")
    if not pct.any():
        return text
    plain = ~pct & ~text.str.lower().isin(MISSING)
    if plain.any():
        a, b = pct.idxmax(), plain.idxmax()
        raise DataError(
            f"{label}: column {column!r} mixes percentages and plain numbers (line {line[a]}: "
            f"{values[a]!r}, line {line[b]}: {values[b]!r}); write one form throughout"
        )
    return text.str.replace(r"\s?%$", "", regex=True)


def _one_currency(values, text, label, column, line) -> None:
    """Currency signs and codes are dropped only when the column has one: ``$12`` beside
    ``€12`` is two units, not one price series."""
    signs = text.str.extract(CURRENCY)[1].fillna(text.str.extract(TRAILING_CURRENCY)[0])
    found = signs.dropna().unique()
    if len(found) > 1:
        first = signs == found[0]
        other = signs == found[1]
        a, b = first.idxmax(), other.idxmax()
        raise DataError(
            f"{label}: column {column!r} mixes currencies (line {line[a]}: "
            f"{values[a]!r}, line {line[b]}: {values[b]!r}); give one currency throughout"
        )


def _refuse_decimal_points(values, text, label, column, line) -> None:
    """``--decimal ,`` on a column written with decimal points: ``1.105`` would read as 1105
    (a thousands separator) beside ``1.1052`` read as 1.1052. A column with no comma at all
    and a cell whose point cannot separate thousands (``102.06``) is refused."""
    if text.str.contains(",", regex=False).any():
        return
    point = text.str.contains(".", regex=False) & text.str.match(NUMBER)
    proof = point & ~text.str.match(THOUSANDS[","])
    if proof.any():
        raise DataError(
            located(label, column, line, values, proof)
            + ": decimal points, with no decimal comma in the column; drop --decimal , (with "
            "it, 1.105 would read as 1105)"
        )


def check_history(prices: pd.DataFrame, lookback: int, test_days: int, label: str = "data") -> None:
    """Raise :class:`DataError` if any ticker is too short for ``lookback`` + ``test_days``.

    A model needs ``lookback`` prices before its first training target, some training rows,
    and the test window after them.
    """
    start = prices.index[-min(max(test_days, 1), len(prices))]  # the test window's first date
    for ticker in prices.columns:
        series = prices[ticker].dropna()
        if len(series) and series.index[0] > prices.index[0]:
            continue  # listed inside the data: it enters at the first refit with enough days
        # a ticker that ended (delisted) is tested only on the dates it has in the window
        ended = len(series) and series.index[-1] < prices.index[-1]
        tested = min(test_days, int((series.index >= start).sum())) if ended else test_days
        needed = lookback + tested + 2
        if len(series) < needed:
            span = (
                f"{series.index[0]:%Y-%m-%d} to {series.index[-1]:%Y-%m-%d}"
                if len(series)
                else "no rows"
            )
            raise DataError(
                f"{label}: {ticker!r} has {len(series)} prices ({span}) but lookback {lookback} "
                f"and {tested} test days need at least {needed}; use more data or shorten "
                "the lookback or the test window"
            )
