"""``read_prices``: a CSV/Parquet/XLSX file or an embedded dataset in, a validated price frame
out.

Three layouts are recognised, with column names matched case-insensitively:

* single ticker, the usual download: Date, Open, High, Low, Close, Adj Close, Volume
  (the adjusted close is preferred; the OHLCV bars are kept beside the closes:
  :func:`~lstm_forecast.data.ohlcv.bars_of`);
* long: date, ticker, close (one row per date and ticker);
* wide: date plus one column of prices per ticker.

yfinance's files (columns keyed by field and ticker: three header lines in a CSV, merged
cells in Excel, two column levels in Parquet) are turned into the first layout for one
ticker and the second for several.

The result has a sorted ``DatetimeIndex`` named ``date`` and one float64 column of closes
per ticker. Every problem raises :class:`DataError` naming the file, row, column and remedy.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .covariates import MAX_LAG, PERIODIC, median_gap, refuse_period_start, warn_weekly_on_weekends
from .datasets import DATASETS, load_raw
from .dates import FORMAT, trades_on_weekends
from .dates import shown as quoted
from .errors import DataError, DataWarning
from .ohlcv import KEY as OHLCV_KEY
from .ohlcv import OHLCV, attach, attach_bars, ohlcv_of
from .validate import to_dates, to_prices

# (observation_date: FRED; datum: German, Dutch and Nordic exports; fecha: Spanish; data:
# Italian, Portuguese and Polish; tarih: Turkish; open_time: Binance's klines)
DATE_NAMES = (
    "date",
    "datetime",
    "timestamp",
    "time",
    "day",
    "observation_date",
    "datum",
    "fecha",
    "data",
    "tarih",
    "дата",
    "open_time",
)
TICKER_NAMES = ("ticker", "symbol", "asset", "instrument", "name")
PRICE_NAMES = (
    "adj close",
    "adj. close",
    "adj_close",
    "adjclose",
    "adjusted close",
    "adjusted_close",
    "close",
    "close price",
    "closing price",
    "close/last",
    "px_last",
    "price",
    "value",
)
OHLCV_NAMES = {
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "close/last": "close",  # nasdaq.com's historical data
    # NSE India's and other exchanges' downloads: 'Open Price', ..., 'Close Price'
    "open price": "open",
    "opening price": "open",
    "high price": "high",
    "low price": "low",
    "close price": "close",
    "closing price": "close",
    "total traded quantity": "volume",
    "adj close": "adj_close",
    "adj. close": "adj_close",  # Quandl's (Nasdaq Data Link) WIKI prices
    "adj_close": "adj_close",
    "adjclose": "adj_close",
    "adjusted close": "adj_close",
    "adjusted_close": "adj_close",
    "volume": "volume",
    "vol.": "volume",  # investing.com's download, with K/M/B suffixes
    "vol": "volume",  # MetaTrader's <VOL>; its <TICKVOL> counts price changes (_tick_volume)
    # Bloomberg's field names (BDH in Excel: PX_LAST is the close)
    "px_open": "open",
    "px_high": "high",
    "px_low": "low",
    "px_last": "close",
    "px_volume": "volume",
}
# the names of a close column, adjusted or not: a file with one is a single ticker's bars
CLOSE_NAMES = frozenset(k for k, v in OHLCV_NAMES.items() if v in ("close", "adj_close"))
# The bar fields of German, Spanish, French, Italian, Portuguese, Dutch, Nordic, Polish,
# Turkish and Russian downloads (a bank's, a broker's, investing.com's; stooq.pl writes
# Polish without its accents, Zamkniecie). They are read only
# where three fields or more are named so, together: a wide file's ticker named like one of
# them (SLOT, MAX) stays a ticker.
_LOCAL = {
    "open": "eröffnung|eroeffnung|eröffn.|erster|apertura|ouverture|ouv.|abertura|openingskoers|"
    "opening|öppning|åbning|åpning|åpningskurs|otwarcie|a\u00e7\u0131l\u0131\u015f|acilis|"
    "открытие|откр.",
    "high": "hoch|höchst|hoechst|máximo|maximo|máx.|max.|plus haut|haut|massimo|máxima|maxima|"
    "hoog|högst|høj|høy|najwyższy|najwyzszy|yüksek|yuksek|максимум|макс.",
    "low": "tief|tiefst|mínimo|minimo|mín.|min.|plus bas|bas|minima|mínima|laag|lägst|lav|"
    "najniższy|najnizszy|düşük|dusuk|минимум|мин.",
    "close": "schluss|schlusskurs|schlußkurs|schluß|cierre|clôture|cloture|chiusura|fechamento|"
    "slot|slotkoers|stängning|stängningskurs|lukkekurs|luk|zamknięcie|zamkniecie|"
    "kapan\u0131\u015f|kapanis|закрытие",
    "volume": "volumen|volym|wolumen|hacim|объем|объём|stücke",
}
LOCAL_NAMES = {name: field for field, names in _LOCAL.items() for name in names.split("|")}
# investing.com's last price ('Price', in German 'Zuletzt', in Spanish 'Último', in French
# 'Dernier', in Italian 'Ultimo', in Russian 'Цена'): the close, where open, high and low
# stand beside it
LAST_NAMES = (
    *("price", "zuletzt", "último", "ultimo", "dernier", "laatste", "senaste", "son", "цена"),
)


# A close named so in a file of a date and that one column: a single series (the names that
# no ticker has; 'Slot' or 'Luk' could be one)
LOCAL_CLOSE_ALONE = frozenset(
    (
        *("schlusskurs", "schlu\u00dfkurs", "cierre", "cl\u00f4ture", "cloture", "chiusura"),
        *("fechamento", "slotkoers", "st\u00e4ngningskurs", "lukkekurs", "zamkni\u0119cie"),
        *("kapan\u0131\u015f", "\u0437\u0430\u043a\u0440\u044b\u0442\u0438\u0435"),
        *("zamkniecie", "kapanis"),
    )
)


def _field_names(columns: Sequence) -> dict[str, str]:
    """The column names read as bar fields in a file with these columns: the English ones,
    and another language's where three of its fields or more appear together, or where its
    close stands alone beside the date (``Datum;Schlusskurs``)."""
    lower = {str(c).strip().lower() for c in columns}
    local = {LOCAL_NAMES[n] for n in lower if n in LOCAL_NAMES}
    if len(local) >= 3:
        return {**OHLCV_NAMES, **LOCAL_NAMES}
    rest = {n for n in lower if n and n not in DATE_NAMES}
    if len(lower) == 2 and len(rest) == 1 and rest <= LOCAL_CLOSE_ALONE:
        return {**OHLCV_NAMES, **{n: "close" for n in rest}}
    return OHLCV_NAMES


def read_covariates(
    source: str | Path,
    *,
    lag: int = 0,
    date_col: str | None = None,
    date_format: str | None = None,
    decimal: str = ".",
    sheet: str | None = None,
) -> pd.DataFrame:
    """Read a user's own daily series (rates, an index level, sentiment) to feed the models.

    The same layouts, parsing and errors as :func:`read_prices` (wide: a date column and one
    column per series; long: date, name, value), but values may be zero or negative. ``lag``
    business days (``--covariate-lag``; calendar days for a daily series dated on weekends): a
    value dated d is first known on d + lag, for series published after the close. A monthly
    or rarer series dated on the first day of each period, weekends included (FRED's dating of
    the period a value measures), is refused unless ``lag`` reaches the next period's start
    (:class:`DataError` with the lag it needs). Returns
    the series indexed by the date each value becomes known;
    :func:`~lstm_forecast.data.covariates.attach_covariates` aligns them to prices. ``sheet``
    (``--covariate-sheet``): the sheet of an Excel workbook that holds them (default: its
    only sheet with data).
    """
    if decimal not in (".", ","):
        raise DataError(f"decimal must be '.' or ',', got {decimal!r} (--decimal)")
    if not isinstance(lag, int) or isinstance(lag, bool) or not 0 <= lag <= MAX_LAG:
        raise DataError(
            f"--covariate-lag must be a whole number of days in [0, {MAX_LAG}], got {lag!r}"
        )
    raw, label, default = _load(source, sheet, "--covariate-sheet")
    parse = {"date_format": date_format, "decimal": decimal, "positive": False}
    frame = _to_wide(raw, label, default, date_col, None, None, parse)
    frame = frame.dropna(how="all")
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if frame.empty or empty:
        raise DataError(f"{label}: covariate {(empty or ['?'])[0]!r} has no values at all")
    for column in frame.columns:
        refuse_period_start(frame[column].dropna().index, lag, label, str(column))
        warn_weekly_on_weekends(frame[column].dropna().index, lag, label, str(column))
    if lag:  # business days, or calendar days for a daily series dated on weekends (crypto)
        daily = [c for c in frame.columns if median_gap(frame[c].dropna().index) < PERIODIC]
        dated = frame.index[frame[daily].notna().any(axis=1)] if daily else frame.index[:0]
        day = pd.offsets.Day if trades_on_weekends(dated) else pd.offsets.BDay
        frame.index = frame.index + day(lag)
    return frame


def read_prices(
    source: str | Path,
    *,
    tickers: Sequence[str] | str | None = None,
    date_col: str | None = None,
    price_col: str | None = None,
    ticker_col: str | None = None,
    max_gap: int = 5,
    date_format: str | None = None,
    decimal: str = ".",
    ticker: str | None = None,
    sheet: str | None = None,
    weekdays: bool = False,
) -> pd.DataFrame:
    """Read and validate daily prices.

    Args:
        source: a ``.csv``/``.csv.gz``/``.parquet`` path, or an embedded dataset name
            (``lstm-forecast data list``).
        tickers: keep only these tickers (a list, or one comma-separated string; an absent one
            is an error listing those present).
        date_col, price_col, ticker_col: column names overriding detection.
        max_gap: interior runs of missing prices up to this many rows are forward-filled
            (with a :class:`DataWarning`); longer runs are an error. Dates on which no
            ticker has a price (market holidays in a download) are dropped, with a warning.
        date_format: a ``strptime`` format for the date column (``%d/%m/%Y``); by default
            one format is inferred from the whole column (see :mod:`.dates`).
        decimal: ``.`` or ``,`` (European files: ``1.234,5``).
        ticker: the name of the series in a single-ticker file (default: the file's name).
        sheet: the sheet of an Excel workbook that holds the prices (default: its only sheet
            with data; a workbook with several is refused until this names one).
        weekdays: keep Monday-Friday rows only (``--weekdays``): a market open every day
            (crypto) read beside stocks, its weekend moves folded into Monday's return.
            Without it, a ticker with no weekend prices beside one with them is refused.

    Returns:
        DataFrame indexed by date (sorted, unique), one float64 column per ticker.
    """
    if decimal not in (".", ","):
        raise DataError(f"decimal must be '.' or ',', got {decimal!r} (--decimal)")
    if ticker is not None and not ticker.strip():
        raise DataError("the ticker name is empty (--ticker); give a name such as MSFT")
    raw, label, default_ticker = _load(source, sheet, "--sheet")
    parse = {"date_format": date_format, "decimal": decimal}
    name = ticker.strip() if ticker else default_ticker
    frame = _to_wide(raw, label, name, date_col, price_col, ticker_col, parse)
    if TEXT in raw.attrs and READ_AS in frame.attrs:
        frame.attrs[READ_AS] += f"; {raw.attrs[TEXT]}"
    if weekdays:
        frame = _weekdays_only(frame, label)
    _check_daily(frame.index, label)
    if isinstance(tickers, str):  # "AAPL,KO", as --tickers writes it, not "A", "A", "P" ...
        tickers = [t.strip() for t in tickers.split(",") if t.strip()]
    if tickers is not None:
        frame = _select(frame, list(tickers), label)
    elif price_col is None and frame.attrs.get(READ_AS, "").startswith(WIDE):
        _refuse_bars_as_tickers(frame, label)
    frame = _fill_gaps(_drop_no_trading_days(frame, label), label, max_gap)
    # not for the embedded, adjusted closes: their two crashes (-52%, -67%) look like splits,
    # and RRC's closes stand still for 68 days in 1990
    if not _embedded(source):
        _warn_splits(frame, label)
        _warn_stale(frame, label)
        _warn_jumps(frame.index, label)
    _warn_bad_bars(frame, label)
    return frame


JUMP_DAYS = 10  # business days between two dates: no market's holidays, rows missing


def _warn_jumps(dates: pd.DatetimeIndex, label: str) -> None:
    """Warn about dates that jump more than :data:`JUMP_DAYS` business days (calendar days for
    a market open every day), and about dates after today: the return across a jump is read
    as one day's, and a forecast dated after a future date is dated wrong."""
    days = dates.to_numpy("datetime64[D]")
    weekends = trades_on_weekends(dates)
    steps = np.diff(days).astype(int) if weekends else np.busday_count(days[:-1], days[1:])
    found = [
        f"{dates[t]:%Y-%m-%d} to {dates[t + 1]:%Y-%m-%d} ({steps[t]} "
        f"{'days' if weekends else 'business days'})"
        for t in np.flatnonzero(steps > JUMP_DAYS)
    ]
    if found:
        warnings.warn(
            f"{label}: the dates jump {_first_three(found)}: rows missing, or a market closed "
            "that long? The return across a jump is read as one day's",
            DataWarning,
            stacklevel=3,
        )
    today = pd.Timestamp.now().normalize()
    if dates[-1] > today + pd.Timedelta(days=2):  # a day ahead of here, in a later time zone
        warnings.warn(
            f"{label}: its last date, {dates[-1]:%Y-%m-%d}, is after today ({today:%Y-%m-%d}): "
            "a mistyped date? Forecasts are dated from it",
            DataWarning,
            stacklevel=3,
        )


def _warn_bad_bars(frame: pd.DataFrame, label: str) -> None:
    """Warn about bars that contradict themselves (:func:`~.ohlcv.inconsistent_bars`); the
    volatility proxy takes those days' squared returns instead."""
    from .ohlcv import bars_of, inconsistent_bars

    found = []
    for ticker in frame.columns:
        bars = bars_of(frame, str(ticker))
        if bars is not None:
            bad = inconsistent_bars(bars)
            found += [(str(ticker), day, bars.loc[day]) for day in bad.index[bad.to_numpy()]]
    if found:
        ticker, day, bar = found[0]
        shown = ", ".join(
            f"{k} {bar[k]:,.6g}" for k in ("open", "high", "low", "close") if k in bar
        )
        warnings.warn(
            f"{label}: {len(found)} daily bar(s) contradict themselves (a high below the low, "
            f"or an open or close outside them), e.g. {ticker} {day:%Y-%m-%d}: {shown}. The "
            "volatility proxy uses those days' squared returns; --features ohlc reads them "
            "as they are, so fix them at the source if you use it",
            DataWarning,
            stacklevel=3,
        )


# Split ratios: a day's close near 1/k or k times the day before's looks like a split the
# prices were not adjusted for (2:1, 3:1 ..., and reverse splits). Near: within 6%, as the
# stock moves on the split's day too (Apple's 4:1 on 2020-08-31: 499.23 to 129.04, 3.87).
# 100 and 1000 are more often a change of units (a London price in pence, then pounds).
SPLIT_RATIOS = np.array([2.0, 3.0, 4.0, 5.0, 8.0, 10.0, 15.0, 20.0, 50.0, 100.0, 1000.0])
UNIT_RATIOS = (100.0, 1000.0)
SPLIT_TOLERANCE = 0.06
SPLIT_CONTEXT = 20  # days of a ticker's own moves needed before one is called split-sized
SPIKE_SIZE = 2.0  # a day's close at least this factor away, back the next day within 6%


def _warn_splits(frame: pd.DataFrame, label: str) -> None:
    """Warn (not refuse: crashes happen) about day-to-day moves of about a split's size or a
    change of units, and about one day's close far off and back the next (a misplaced
    decimal point), each at least ten times a typical day of the ticker."""
    found, spikes = [], []
    for ticker in frame.columns:
        closes = frame[ticker].dropna()
        values = closes.to_numpy()
        if len(values) <= SPLIT_CONTEXT:
            continue  # too few days to tell a split from the series' ordinary moves
        ratio = values[:-1] / values[1:]  # > 1: a fall, as a split makes
        size = np.maximum(ratio, 1 / ratio)
        ordinary = np.median(np.log(size))  # a typical day's absolute log return
        large = np.log(size) > 10 * ordinary
        # out on day t + 1 and back on day t + 2: one bad close, not two moves
        spike = np.zeros(len(size), dtype=bool)
        spike[:-1] = (
            large[:-1]
            & large[1:]
            & (size[:-1] >= SPIKE_SIZE)
            & (np.abs(ratio[:-1] * ratio[1:] - 1) <= SPLIT_TOLERANCE)
        )
        for t in np.flatnonzero(spike):
            spikes.append(
                f"{ticker} {closes.index[t + 1]:%Y-%m-%d} ({values[t]:,.4g}, then "
                f"{values[t + 1]:,.4g}, then {values[t + 2]:,.4g})"
            )
        back = np.r_[False, spike[:-1]]  # the day a spike returns: not a split either
        nearest = SPLIT_RATIOS[np.abs(size[:, None] - SPLIT_RATIOS).argmin(axis=1)]
        like = (np.abs(size / nearest - 1) <= SPLIT_TOLERANCE) & large & ~spike & ~back
        for t in np.flatnonzero(like):
            split = f"{nearest[t]:g}:1" if ratio[t] > 1 else f"1:{nearest[t]:g}"
            units = " or a change of units" if nearest[t] in UNIT_RATIOS else ""
            found.append(
                f"{ticker} {closes.index[t + 1]:%Y-%m-%d} ({values[t]:,.4g} to "
                f"{values[t + 1]:,.4g}, {split}{units})"
            )
    if found:
        warnings.warn(
            f"{label}: a day's move of about a split's size: {_first_three(found)}. If these "
            "are splits the prices were not adjusted for, use adjusted closes; if the prices "
            "change units (pence to pounds, cents to dollars), put them in one unit: a model "
            "would learn each as a crash or a leap",
            DataWarning,
            stacklevel=3,
        )
    if spikes:
        warnings.warn(
            f"{label}: one day's close far from the days around it: {_first_three(spikes)}. "
            "A misplaced decimal point or a bad tick? Fix or blank that cell: a model would "
            "learn a leap and a crash",
            DataWarning,
            stacklevel=3,
        )


def _first_three(found: list[str]) -> str:
    """The first three findings of a warning, and how many more."""
    return "; ".join(found[:3]) + (f"; {len(found) - 3} more" if len(found) > 3 else "")


STALE_DAYS = 10  # this many unchanged closes in a row: a halt, or gaps a vendor filled


def _warn_stale(frame: pd.DataFrame, label: str) -> None:
    """Warn about runs of identical closes: the models read each as a return of exactly 0."""
    found = []
    for ticker in frame.columns:
        closes = frame[ticker].dropna()
        same = (closes.diff() == 0).to_numpy()
        if same.sum() < STALE_DAYS:
            continue
        run_id = np.cumsum(~same)
        lengths = np.bincount(run_id, weights=same)
        longest = int(lengths.max())
        if longest >= STALE_DAYS:
            start = closes.index[np.flatnonzero(run_id == lengths.argmax())[0]]
            found.append(f"{ticker}: {longest} from {start:%Y-%m-%d}")
    if found:
        warnings.warn(
            f"{label}: closes that do not change for {STALE_DAYS} days or more in a row "
            f"({_first_three(found)}): a halt, an illiquid stretch, or gaps the vendor "
            "filled? The models read each such day as a return of exactly 0",
            DataWarning,
            stacklevel=3,
        )


COARSE_GAP_DAYS = 5  # a median gap between dates of this many days or more: not daily data


def _check_daily(index: pd.DatetimeIndex, label: str) -> None:
    """One row per calendar day, most days: intraday bars would be taken for days (a 'day' of
    an hour, volatility annualised as if daily), so they are refused with the way to make
    them daily; weekly or monthly rows are refused too."""
    day = pd.Series(index.normalize())
    repeated = day.duplicated(keep=False)
    if repeated.any():
        first = day[repeated].iloc[0]
        times = index[(day == first).to_numpy()]
        raise DataError(
            f"{label}: {int(repeated.sum())} rows fall on {day[repeated].nunique()} dates with "
            f"more than one row each (e.g. {first:%Y-%m-%d} at {times[0]:%H:%M} to "
            f"{times[-1]:%H:%M}): intraday bars; the models forecast daily closes, so keep "
            "each day's last row (pandas: frame.resample('D').last().dropna())"
        )
    # Weekly or monthly closes would be read as days: a "1-day" forecast a week or a month
    # ahead, volatility annualised by 252 rows. Daily data has a median gap of 1 day (a
    # market shut at weekends included); even a stock trading every other day has 2.
    gaps = np.diff(day.drop_duplicates().to_numpy()) / np.timedelta64(1, "D")
    if len(gaps) >= 4 and (median := float(np.median(gaps))) >= COARSE_GAP_DAYS:
        kind = "weekly" if median < 20 else "monthly" if median < 60 else "coarser than monthly"
        raise DataError(
            f"{label}: its dates are {median:.0f} days apart (median): {kind} data; the models "
            "forecast daily closes and count a year in trading days, so give daily prices"
        )


def _embedded(source: str | Path) -> bool:
    """Whether ``source`` names an embedded dataset (a file of that name comes first)."""
    return str(source) in DATASETS and not Path(source).exists()


def _load(
    source: str | Path, sheet: str | None = None, flag: str | None = None
) -> tuple[pd.DataFrame, str, str]:
    """``(cells as text, label, default ticker)``; ``flag`` names the option that picks an
    Excel sheet (None: there is none, a workbook must have one sheet with data)."""
    path = Path(source).expanduser()  # '~/prices.csv' quoted, as pandas reads it too
    if sheet is not None and path.suffix.lower() not in EXCEL:
        raise DataError(f"{flag}: {source} is not an Excel workbook (.xlsx); drop {flag}")
    if _embedded(source):
        raw, label = load_raw(str(source))
        return raw, label, "SP500"
    if not path.exists():
        raise DataError(
            f"{source}: no such file, and no embedded dataset of that name "
            f"(embedded: {', '.join(DATASETS)}). Give a .csv, .parquet or .xlsx path."
        )
    if path.is_dir():
        raise DataError(f"{path}: is a directory; give a .csv, .parquet or .xlsx file")
    label = str(path)
    if not path.is_file():  # a pipe (/dev/stdin, <(...)) is read once, then from a copy
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / path.name
            try:
                with open(path, "rb") as pipe, open(copy, "wb") as out:
                    shutil.copyfileobj(pipe, out)
            except OSError as exc:
                raise DataError(f"{label}: cannot be read ({exc.strerror or exc})") from None
            try:
                raw, _, ticker = _load(copy, sheet, flag)
            except DataError as exc:  # named as the user named it
                raise DataError(str(exc).replace(str(copy), label)) from None
        return raw, label, ticker
    try:
        _refuse_other_formats(path)
        if path.suffix.lower() in EXCEL:
            raw = _read_excel(path, sheet, flag)
        elif path.suffix.lower() in PARQUET:
            raw = pd.read_parquet(path)
            if isinstance(raw.columns, pd.MultiIndex):
                raw = _from_column_levels(raw, label)
            else:
                unnamed = not isinstance(raw.index, pd.RangeIndex) and raw.index.name is None
                raw = raw.reset_index() if not isinstance(raw.index, pd.RangeIndex) else raw
                if unnamed:  # frame.to_parquet() of prices on an unnamed DatetimeIndex
                    raw = raw.rename(columns={"index": ""})
                _refuse_repeated_names(list(raw.columns), label)
                raw = raw.astype(str).where(raw.notna(), "")
                raw = _unnamed_columns(raw, list(raw.columns), label)
        else:
            raw = _read_yfinance(path)
            raw = _read_csv(path) if raw is None else raw
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{label}: the file is empty; expected a header and price rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{label}: cannot be read as a price table: {first}") from None
    stem = path.name.split(".")[0] or "price"
    return raw, label, raw.attrs.get("ticker", stem)


COMPRESSED = (".gz", ".bz2", ".xz", ".zip", ".zst", ".tar")
EXCEL, PARQUET = (".xlsx", ".xlsm"), (".parquet", ".pq")


def _content(path: Path) -> str:
    """What a file holds, by its first bytes: xlsx, zip, xls (Excel 97-2003), parquet, html
    (or XML), json or text."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            names = zipfile.ZipFile(path).namelist()
        except (zipfile.BadZipFile, OSError):
            names = []
        return "xlsx" if "xl/workbook.xml" in names else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"PAR1"):
        return "parquet"
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        return "html"
    return "json" if text.startswith((b"{", b"[")) else "text"


_HOLDS = {
    "xlsx": "an Excel workbook under another name; rename it to .xlsx",
    "zip": "a zip archive; name it .zip (one CSV inside is read) or unzip it",
    "xls": "an Excel 97-2003 workbook (.xls), which is not read; open it in Excel and save it "
    "as .xlsx or CSV",
    "parquet": "a Parquet file under another name; rename it to .parquet",
    "html": "a web page (HTML or XML), not a price table: a download that failed often saves "
    "its error page; download it again",
    "json": "JSON, which is not read; give a CSV, Parquet or Excel file (pandas: "
    "pd.read_json(path).to_csv('prices.csv', index=False))",
    "text": "text, not {kind}: a CSV under another name? rename it to .csv",
}


def _refuse_other_formats(path: Path) -> None:
    """A file that is not what its name says, by its first bytes: a workbook, a Parquet file
    or a zip named .csv, a CSV named .xlsx or .parquet, a legacy .xls, JSON, or a web page
    saved in place of a download (a failed download's error page)."""
    suffix = path.suffix.lower()
    if suffix in COMPRESSED:
        return
    found = _content(path)
    expected = "xlsx" if suffix in EXCEL else "parquet" if suffix in PARQUET else "text"
    if found == expected or (expected == "text" and found == "text"):
        return
    kind = {"xlsx": "an Excel workbook", "parquet": "a Parquet file"}.get(expected, "")
    raise DataError(f"{path}: is {_HOLDS[found].format(kind=kind)}")


def _read_yfinance(path: Path) -> pd.DataFrame | None:
    """A CSV written by yfinance (``yf.download(...).to_csv()``, version 0.2.51 on): three
    header lines, ``Price,<field>...``, ``Ticker,<ticker>...`` (either order) and
    ``Date,,,``; see :func:`_by_field_and_ticker`. None for any other file."""
    import csv
    import itertools

    def rows():
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            yield from csv.reader(handle)

    first = rows()
    try:
        head = list(itertools.islice(first, 3))
    except csv.Error:  # a huge cell, a stray NUL: not yfinance's; the plain reader says why
        return None
    finally:
        first.close()
    header = _stacked_header(head)
    if header is None:
        return None
    try:
        body = [(n + 1, row) for n, row in enumerate(rows()) if row and n >= 3]
    except csv.Error as exc:
        raise DataError(f"{path}: cannot be read as a yfinance file: {exc}") from None
    return _from_stacked(path, header, body)


def _stacked_header(head: list[list[str]]) -> tuple[list[str], list[str]] | None:
    """(fields, tickers) from yfinance's three header rows, or None if these are not them."""
    if len(head) < 3 or not head[0] or not head[1] or not head[2]:
        return None
    if len(head[0]) != len(head[1]):
        return None
    kinds = {str(head[0][0]).strip().lower(): 0, str(head[1][0]).strip().lower(): 1}
    third = [str(cell).strip() for cell in head[2]]
    if set(kinds) != {"price", "ticker"} or third[0].lower() not in DATE_NAMES:
        return None
    if any(third[1:]):
        return None
    fields = [str(f).strip() for f in head[kinds["price"]][1:]]
    tickers = [str(t).strip() for t in head[kinds["ticker"]][1:]]
    return fields, tickers


def _from_stacked(label, header: tuple[list[str], list[str]], body: list[tuple[int, list]]):
    """The rows of a file with yfinance's header (``(fields, tickers)`` from
    :func:`_stacked_header`) as the table they stand for; ``body`` is (file line, cells) for
    each data row."""
    fields, tickers = header
    ragged = [(n, len(row)) for n, row in body if len(row) != len(fields) + 1]
    if ragged:
        n, width = ragged[0]
        raise DataError(
            f"{label}: a yfinance file whose header has {len(fields) + 1} fields and line {n} "
            f"{width}; download it again"
        )
    cells = [row for _, row in body]
    lines = np.array([n for n, _ in body], dtype=int)
    columns = [[row[k] for row in cells] for k in range(len(fields) + 1)]
    return _by_field_and_ticker(columns[0], fields, tickers, columns[1:], lines)


def _by_field_and_ticker(dates, fields, tickers, columns, lines) -> pd.DataFrame:
    """Columns keyed by (field, ticker), as yfinance writes them, as a plain table: one
    ticker as date and fields (its bars kept, named after the ticker; ``attrs["ticker"]``),
    several in the long layout (date, ticker, fields). ``lines``: each row's file line."""
    names = list(dict.fromkeys(tickers))
    parts = []
    for name in names:
        part = pd.DataFrame({"Date": list(dates)})
        if len(names) > 1:
            part["Ticker"] = name
        for field, owner, values in zip(fields, tickers, columns, strict=True):
            if owner == name:
                part[field] = list(values)
        parts.append(part)
    raw = pd.concat(parts, ignore_index=True)
    raw.attrs = {"lines": np.tile(lines, len(names))}
    if len(names) == 1:
        raw.attrs["ticker"] = names[0]
    return raw


def _from_column_levels(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """A Parquet table with two levels of column names, (field, ticker) in either order, as
    ``yf.download(...).to_parquet()`` writes it; the dates in its index."""
    if frame.columns.nlevels != 2:
        raise DataError(
            f"{label}: {frame.columns.nlevels} levels of column names; save one level "
            "(a column per ticker) or (field, ticker)"
        )
    levels = [{str(v).strip().lower() for v in frame.columns.get_level_values(k)} for k in (0, 1)]
    level = 0 if levels[0] & CLOSE_NAMES else 1 if levels[1] & CLOSE_NAMES else None
    if level is None:
        raise DataError(
            f"{label}: two levels of column names and neither holds a close; save one "
            "level, a column per ticker"
        )
    if isinstance(frame.index, pd.RangeIndex):
        raise DataError(f"{label}: two levels of column names and no dates in the index")
    text = frame.astype(str).where(frame.notna(), "")
    fields = [str(c[level]).strip() for c in frame.columns]
    tickers = [str(c[1 - level]).strip() for c in frame.columns]
    dates = pd.Series(frame.index).astype(str).tolist()
    columns = [text.iloc[:, k].tolist() for k in range(frame.shape[1])]
    lines = np.arange(1, len(frame) + 1)  # rows of the table, there being no file lines
    return _by_field_and_ticker(dates, fields, tickers, columns, lines)


def _read_excel(path: Path, sheet: str | None, flag: str | None) -> pd.DataFrame:
    """One sheet, every cell as text (Excel dates arrive as ISO timestamps): ``sheet``, or
    the only one with data; with several and none named, which holds the prices is asked,
    not guessed."""
    book = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl", header=None)
    names = list(book)
    if sheet is not None:
        if sheet not in book:
            raise DataError(f"{path}: no sheet {sheet!r} ({flag}); its sheets: {', '.join(names)}")
        chosen = sheet
    else:
        filled = [name for name, frame in book.items() if frame.size > 0]
        if len(filled) > 1:
            listed = ", ".join(repr(n) for n in filled[:8]) + (" ..." if len(filled) > 8 else "")
            how = f"pass {flag} NAME to say which" if flag else "save the one meant on its own"
            raise DataError(f"{path}: {len(filled)} sheets hold data ({listed}); {how}")
        chosen = (filled or names)[0]
    cells = book[chosen]
    rows = cells.where(cells.notna(), "").values.tolist()
    head = [list(row) for row in rows[:3]]
    if len(head) == 3:  # yfinance's to_excel: its field row is merged over the tickers
        for row in head[:2]:
            if str(row[0]).strip().lower() == "price":
                row[1:] = pd.Series(row[1:]).replace("", None).ffill().fillna("").tolist()
        header = _stacked_header(head)
        if header is not None:
            body = [(n + 1, row) for n, row in enumerate(rows) if n >= 3 and any(row)]
            return _from_stacked(path, header, body)
    _refuse_titles(rows, f"{path}, sheet {chosen!r}")
    _refuse_repeated_names(rows[0] if rows else [], f"{path}, sheet {chosen!r}")
    raw = pd.read_excel(path, sheet_name=chosen, dtype=str, engine="openpyxl")  # names as usual
    raw = raw.where(raw.notna(), "")
    raw = _unnamed_columns(raw, rows[0] if rows else [], f"{path}, sheet {chosen!r}")
    raw.attrs[TEXT] = f"sheet {chosen!r}"
    return raw


def _refuse_titles(rows: list[list], label: str) -> None:
    """Rows of one cell at most above a wider one (a title, a note, a blank line over the
    header) are refused with the title quoted: read as the header, the title would be the
    date column's name and the real header a row of data."""
    widths = [sum(str(c).strip() != "" for c in row) for row in rows[:10]]
    lead = next((k for k, w in enumerate(widths) if w >= 2), 0)
    if lead and any(widths[:lead]):
        title = next(str(c).strip() for row in rows[:lead] for c in row if str(c).strip())
        raise DataError(
            f"{label}: {quoted(title, 60)} stands above the header (a title?); delete the "
            "rows above the header, so that the dates' and prices' names are the first row"
        )


def _read_csv(path: Path) -> pd.DataFrame:
    """Read every cell as text; a file with one column and ';' or tabs in it is re-read.

    Rows with more fields than the header are refused (pandas would quietly turn the first
    column into an index, or drop the extra field): in a comma-separated file they are most
    often decimal commas.
    """
    encoding = _encoding(path)
    options = {"dtype": str, "keep_default_na": False, "skipinitialspace": True}
    options["encoding"] = encoding
    try:
        # the separator from the header line: a ';' file's rows hold decimal commas, and a
        # row without one (an integer price, as Excel writes 100) beside rows with one made
        # the comma reading fail before the header could say which
        first = pd.read_csv(path, **options, sep="\x01", header=None, nrows=1).iloc[0, 0]
        sep = next((s for s in (";", "\t") if s in str(first) and "," not in str(first)), ",")
        raw = pd.read_csv(path, **options, sep=sep)
        if raw.shape[1] == 1 and sep == ",":
            sep = next((s for s in (";", "\t") if s in str(raw.columns[0])), ",")
            if sep != ",":
                raw = pd.read_csv(path, **options, sep=sep)
        header = pd.read_csv(path, **options, sep=sep, header=None, nrows=1)
        if _numbers_only(list(header.iloc[0])):
            return _headerless(path, pd.read_csv(path, **options, sep=sep, header=None))
        _refuse_repeated_names(list(header.iloc[0]), str(path))
    except pd.errors.ParserError as exc:
        first = str(exc).strip().splitlines()[0]
        hint = _extra_fields_hint(path, encoding)
        if hint == _EXTRA_FIELDS_HINT:  # no title above the header: a summary below the data?
            hint = _footer_hint(path, encoding, first) or hint
        raise DataError(f"{path}: {first}{hint}") from None
    if not isinstance(raw.index, pd.RangeIndex):
        raise DataError(
            f"{path}: the data rows have more fields than the header"
            + _extra_fields_hint(path, encoding)
        )
    names = [str(c).strip() for c in raw.columns]
    if all(n.startswith("<") and n.endswith(">") for n in names):
        raw.columns = [n[1:-1] for n in names]  # MetaTrader's export: <DATE>, <OPEN> ...
    raw = _unnamed_columns(raw, list(header.iloc[0]), str(path))
    raw.attrs[TEXT] = (
        {",": "comma", ";": "semicolon", "\t": "tab"}[sep]
        + "-separated, "
        + {
            "utf-8-sig": "UTF-8",
            "utf-16": "UTF-16",
            "cp1252": "Windows-1252",
            "cp1251": "Windows-1251",
        }.get(encoding, encoding)
    )
    return raw


TEXT = "text"  # raw.attrs key: a CSV file's separator and encoding, a workbook's sheet

# Binance's kline files (data.binance.vision) have no header; these are its documented fields.
BINANCE_KLINE = (
    *("open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume"),
    *("trades", "taker_buy_volume", "taker_buy_quote_volume", "ignore"),
)


_VALUE = re.compile(
    r"[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?"  # a number
    r"|[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}([ T][0-9:.]+)?"  # a date
)


def _numbers_only(cells: list) -> bool:
    """Whether a header line holds only numbers and dates (the file has no header row). Its
    first cell must hold one: a wide file saved from pandas has an empty first cell and may
    have tickers that are numbers (Tokyo's 7203, CRSP's PERMNOs)."""
    texts = [str(c).strip() for c in cells]
    filled = [c for c in texts if c]
    return bool(texts[0]) and all(_VALUE.fullmatch(c) for c in filled)


def _headerless(path: Path, raw: pd.DataFrame) -> pd.DataFrame:
    """A file without a header row: Binance's klines (12 numeric fields, open and close times
    in Unix milliseconds, or microseconds as its spot files have since 2025) are read by
    their documented fields, the ticker from the file name (``BTCUSDT-1d-2024-01.csv``);
    anything else is refused, since which column is the date and which the price is a
    guess."""
    first = ",".join(str(c) for c in raw.iloc[0])
    times = raw.iloc[:, [0, 6]] if raw.shape[1] == len(BINANCE_KLINE) else None
    if times is None or not times.stack().str.fullmatch(r"[0-9]{13}|[0-9]{16}").all():
        raise DataError(
            f"{path}: the first line ({first[:60]}) holds values, not column names: the file "
            "has no header row; add one that names the columns (e.g. Date,Close)"
        )
    raw.columns = list(BINANCE_KLINE)
    raw["open_time"] = raw["open_time"].str[:13]  # microseconds to milliseconds
    raw = raw[["open_time", "open", "high", "low", "close", "volume"]].copy()
    raw.attrs["ticker"] = path.name.split(".")[0].split("-")[0] or "price"
    raw.attrs[TEXT] = "Binance klines without a header, comma-separated"
    return raw


INDEX_COLUMN = "index_column"  # raw.attrs key: a first column without a name (an index)


def _unnamed_columns(raw: pd.DataFrame, names: list, label: str) -> pd.DataFrame:
    """Columns without a name in the header: dropped where empty (the trailing ';' of an
    Excel export), kept as a date column candidate where first (``frame.to_csv()`` of
    prices on an unnamed DatetimeIndex), refused elsewhere (values that no name says what
    they are)."""
    blank = [
        k
        for k, name in enumerate(names[: raw.shape[1]])
        if str(name).strip() in ("", "nan", "None")
    ]
    empty = [k for k in blank if (raw.iloc[:, k].astype(str).str.strip() == "").all()]
    for k in blank:
        if k in empty or k == 0:
            continue
        cells = raw.iloc[:, k].astype(str).str.strip()
        row = int(np.flatnonzero(cells.to_numpy() != "")[0])
        raise DataError(
            f"{label}: column {k + 1} has values (line {row + 2}: {quoted(cells.iloc[row])}) but "
            "no name in the header; name it (a ticker) or delete it"
        )
    out = raw.drop(columns=[raw.columns[k] for k in empty])
    out.attrs = dict(raw.attrs)
    if 0 in blank and 0 not in empty:
        out.attrs[INDEX_COLUMN] = raw.columns[0]
    return out


def _encoding(path: Path) -> str:
    """The text encoding of a CSV file: UTF-16 where its byte-order mark says so (Excel's
    'Unicode text'), UTF-8 (with or without a mark) where every byte decodes as UTF-8, else
    Windows-1252 (a CSV from a European Excel: 'Eröffnung' in one byte per letter), and
    Latin-1 for the five bytes Windows-1252 leaves undefined. Numbers and dates are ASCII in
    all of them; only names (columns, tickers) depend on it."""
    import bz2
    import codecs
    import gzip
    import lzma
    import zipfile

    def unzip(path: Path, mode: str):  # a .zip holding one CSV, as pandas reads it
        archive = zipfile.ZipFile(path)
        return archive.open(archive.namelist()[0])

    openers = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".zip": unzip}
    opener = openers.get(path.suffix.lower(), open)
    # the encodings still possible, in order of preference
    decoders = {name: codecs.getincrementaldecoder(name)() for name in ("utf-8-sig", "cp1252")}
    try:
        with opener(path, "rb") as handle:
            chunk = first = handle.read(1 << 20)
            if chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                return "utf-16"
            while decoders:  # a megabyte at a time: a large file is never held whole
                for name in list(decoders):
                    try:
                        decoders[name].decode(chunk, final=not chunk)
                    except UnicodeDecodeError:
                        del decoders[name]
                if not chunk:
                    break
                chunk = handle.read(1 << 20)
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, IndexError):
        return "utf-8"  # pandas then says what is wrong with the file
    found = next(iter(decoders), "latin-1")
    return "cp1251" if found == "cp1252" and _cyrillic(first) else found


def _cyrillic(chunk: bytes) -> bool:
    """Whether a file's first line, not UTF-8, is Windows-1251 (a Russian Excel's CSV:
    'Дата;Цена') rather than Windows-1252: a word of three letters or more made only of the
    bytes 0xC0-0xFF, which are Cyrillic letters in one and accented Latin ones in the other,
    where no Western word is accents only ('Eröffnung' has one)."""
    head = chunk.split(b"\n", 1)[0]
    return (
        re.search(rb"(?<![A-Za-z\x80-\xff])[\xc0-\xff]{3,}(?![A-Za-z\x80-\xff])", head) is not None
    )


def _refuse_repeated_names(names: list, label: str) -> None:
    """Two columns of one name: pandas would rename the second ('AAPL.1') and read both as
    tickers; which is meant is asked, not guessed. Names that differ only in case ('AAPL',
    'aapl') are one name too, since columns are matched case-insensitively."""
    seen: dict[str, tuple[int, str]] = {}
    for k, name in enumerate(str(n).strip() for n in names):
        if not name or name.lower() == "nan":
            continue
        if name.upper() in seen:
            first, spelled = seen[name.upper()]
            said = (
                f"both named {name!r}"
                if spelled == name
                else f"named {spelled!r} and {name!r}, one name when case is ignored"
            )
            raise DataError(
                f"{label}: columns {first + 1} and {k + 1} are {said}; rename or remove one"
            )
        seen[name.upper()] = (k, name)


def _extra_fields_hint(path: Path, encoding: str = "utf-8-sig") -> str:
    """Why rows have more fields than the header: title or comment lines above the header
    (one field each, or '#' comments, the lines below them wider and agreeing), or else
    decimal commas."""
    import csv
    import itertools

    try:
        with open(path, encoding=encoding, errors="replace", newline="") as handle:
            head = [row for row in itertools.islice(csv.reader(handle), 8) if row]
    except (OSError, csv.Error):
        return _EXTRA_FIELDS_HINT
    widths = [len(row) for row in head]
    lead = next((k for k, w in enumerate(widths) if w == max(widths, default=0)), 0)
    titles = head[:lead]
    if (
        titles
        and len(widths) - lead >= 2
        and len(set(widths[lead:])) == 1
        and all(len(row) == 1 or row[0].lstrip().startswith("#") for row in titles)
    ):
        first = quoted(",".join(titles[0]), 60)
        if lead == 1:
            return f"; is line 1 ({first}) a title above the header? Delete it"
        return f"; are lines 1-{lead} ({first} ...) titles above the header? Delete them"
    return _EXTRA_FIELDS_HINT


def _footer_hint(path: Path, encoding: str, error: str) -> str | None:
    """Why a line has more fields than the header when it is one of the file's last three
    lines with text and does not start with a date or number: a summary under the table
    (investing.com's older downloads end with 'Highest: ...,Lowest: ...,Difference: ...'),
    not decimal commas."""
    found = re.search(r"in line ([0-9]+), saw", error)
    if found is None:
        return None
    number = int(found.group(1))
    try:
        with open(path, encoding=encoding, errors="replace", newline="") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    filled = [k + 1 for k, text in enumerate(lines) if text.strip()]
    if number not in filled[-3:]:
        return None
    first_cell = re.split(r"[,;\t]", lines[number - 1], maxsplit=1)[0].strip().strip('"')
    if _VALUE.fullmatch(first_cell):  # a dated row: decimal commas, more likely
        return None
    return (
        f"; line {number} ({quoted(lines[number - 1], 60)}) stands below the data rows: a "
        "summary under the table? Delete it and the lines after it"
    )


_EXTRA_FIELDS_HINT = (
    "; decimal commas in a comma-separated file? Quote those cells or separate the fields "
    "with ';' (and pass --decimal ,)"
)


def _find(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def _require(columns: Sequence[str], name: str, what: str, label: str) -> str:
    match = _find(columns, [name.strip().lower()])
    if match is None:
        raise DataError(f"{label}: no {what} column {name!r}; columns present: {list(columns)}")
    return match


def _to_wide(raw, label, default_ticker, date_col, price_col, ticker_col, parse) -> pd.DataFrame:
    columns = list(raw.columns)
    if raw.empty:
        raise DataError(f"{label}: header only, no data rows (columns: {columns})")
    date = _require(columns, date_col, "date", label) if date_col else _find(columns, DATE_NAMES)
    unnamed = raw.attrs.get(INDEX_COLUMN)
    if unnamed in columns and date is None:
        date = unnamed  # an unnamed first column: pandas' index, the dates
    elif unnamed in columns and unnamed != date:
        cells = raw[unnamed].astype(str).str.strip()
        if not (cells == [str(k) for k in range(len(raw))]).all():
            raise DataError(
                f"{label}: column 1 has values (line 2: {quoted(cells.iloc[0])}) but no name in "
                "the header; name it (a ticker) or delete it"
            )
        raw = raw.drop(columns=[unnamed])  # 0, 1, 2 ...: a frame's row numbers, written out
        columns = list(raw.columns)
    if date is None:
        raise DataError(
            f"{label}: no date column found among {columns}; name it 'date' or pass --date-col"
        )
    # file line of each row: after one header line, unless the reader knows better (yfinance)
    line = pd.Series(raw.attrs.get("lines", range(2, len(raw) + 2)), index=raw.index)
    undated = raw[date].astype(str).str.strip() == ""
    if undated.any():  # a row of separators only (',,,' in an Excel export): no row at all
        rest = raw[undated].astype(str).apply(lambda cells: cells.str.strip())
        blank = pd.Series(False, index=raw.index)
        blank[undated] = (rest == "").all(axis=1)
        raw, line = raw[~blank], line[~blank]
    dates = to_dates(raw[date], label, str(date), line, parse["date_format"])
    dates.attrs["column"] = "the unnamed first column" if date == unnamed else f"column {date!r}"
    decimal = parse["decimal"]
    crsp = parse.get("positive", True) and price_col is None and _is_crsp(columns)
    ticker = (
        _require(columns, ticker_col, "ticker", label)
        if ticker_col
        else _find(columns, ("permno",) if crsp else TICKER_NAMES)
    )
    positive = parse.get("positive", True)
    if crsp and ticker is not None:
        name, close = _crsp_close(raw, raw[ticker], dates, label, line, decimal)
        raw = _crsp_bars(raw.assign(**{name: close.map(repr)}), close, label, line, decimal)
    if ticker is not None:
        return _from_long(raw, dates, line, label, ticker, price_col, decimal, positive)
    lower = {str(c).strip().lower() for c in columns}
    names = _field_names(columns)
    fields = {names[n] for n in lower if n in names}
    if positive and price_col is None and fields & {"close", "adj_close"}:
        return _from_single(raw, dates, line, label, default_ticker, decimal)
    bars = sorted({"open", "high", "low", "volume"} & fields)
    last = next((n for n in LAST_NAMES if n in lower), None)
    if positive and price_col is None and len(bars) >= 3 and last:
        # investing.com's download: Date, Price, Open, High, Low, Vol., Change %
        return _from_single(raw, dates, line, label, default_ticker, decimal, close_name=last)
    if positive and price_col is None and len(bars) >= 3:  # one alone may be a ticker (LOW)
        raise DataError(
            f"{label}: daily bars ({', '.join(bars)}) but no close column among "
            f"{[str(c) for c in columns]}; name it 'close' or pass --price-col, rather than "
            "each column being read as a ticker"
        )
    value_cols = (
        [_require(columns, price_col, "price", label)]
        if price_col
        else [c for c in columns if c != date]
    )
    if not value_cols:
        raise DataError(f"{label}: only a date column; add one price column per ticker")
    _check_unique(dates, line, label, raw)
    frame = pd.DataFrame(
        {
            str(c).strip(): to_prices(
                raw[c], label, str(c), line, decimal=decimal, positive=positive
            )
            for c in value_cols
        }
    )
    return _said(_index(frame, dates), WIDE, dates)


WIDE = "a wide file, a column per ticker"
BAR_SPREAD = 1.2  # the most a day's high may exceed its low at the median day, for bars
BAR_AGREEMENT = 0.99  # the share of common rows on which the bounds must hold


def _refuse_bars_as_tickers(frame: pd.DataFrame, label: str) -> None:
    """Refuse a wide file whose columns are one instrument's bars under names not known here
    (a download in another language): one column at or above and one at or below the others
    on every row (99%: a rounding may cross), at most :data:`BAR_SPREAD` apart at the median
    day. Tickers of one price level cross over the years; a volume column lies outside the
    bounds and is not counted. ``--tickers`` reads such columns as tickers all the same."""
    columns = [c for c in frame.columns if frame[c].notna().sum() >= 30]
    if not 3 <= len(columns) <= 12:  # bars have a handful of columns; a panel has many
        return
    values = frame[columns]

    def holds(mask: pd.Series, rows: pd.Series) -> bool:
        return bool(rows.sum() >= 30 and mask[rows].mean() >= BAR_AGREEMENT)

    found = []  # (columns between, high, low, median spread) of each bounding pair
    for high in columns:
        for low in (c for c in columns if c != high):
            both = values[high].notna() & values[low].notna()
            if not holds(values[high] >= values[low], both):
                continue
            spread = float((values[high] / values[low])[both].median())
            if spread > BAR_SPREAD:
                continue
            inside = [
                c
                for c in columns
                if c not in (high, low)
                and holds(
                    (values[c] <= values[high]) & (values[c] >= values[low]),
                    both & values[c].notna(),
                )
            ]
            if inside:
                found.append((inside, high, low, spread))
    if found:  # the widest bounds: the high and the low, the open and the close between
        inside, high, low, spread = max(found, key=lambda f: (len(f[0]), f[3]))
        between = ", ".join(repr(str(c)) for c in inside)
        raise DataError(
            f"{label}: column {str(high)!r} is at or above and {str(low)!r} at or below "
            f"{between} on every row, {spread - 1:.1%} apart on the median day: one "
            "instrument's daily high, low and other prices, not tickers; name the close "
            f"with --price-col (one of {between}), or pass --tickers to read them as tickers "
            "all the same"
        )


READ_AS = "read_as"  # prices.attrs key: how the file was read, in words (data show says it)


def _said(frame: pd.DataFrame, layout: str, dates: pd.Series) -> pd.DataFrame:
    """``frame`` with how it was read in ``attrs``: the layout, and the dates' column and
    format (``data show`` prints it, so that a user sees what was inferred)."""
    frame.attrs[READ_AS] = (
        f"{layout}; dates from {dates.attrs.get('column', '?')}, read as "
        f"{dates.attrs.get(FORMAT, '?')}"
    )
    return frame


def _from_single(raw, dates, line, label, ticker, decimal, close_name=None) -> pd.DataFrame:
    """One ticker's closes and bars; ``close_name``: the (lower-case) name of a close column
    called otherwise."""
    _check_unique(dates, line, label, raw)
    named = _bar_columns(raw, {close_name: "close"} if close_name else None)
    close = named.get("adj_close", named.get("close"))
    frame = pd.DataFrame({ticker: to_prices(raw[close], label, str(close), line, decimal=decimal)})
    frame = _index(frame, dates)
    parsed = _parse_bars(raw, named, label, line, decimal)
    ticks = _tick_volume(raw, named, parsed)
    if ticks is not None:
        named["volume"] = ticks
        parsed.update(_parse_bars(raw, {"volume": ticks}, label, line, decimal))
    attach(frame, _index(pd.DataFrame(parsed), dates))
    note = " (its VOL is zero on every day, as MetaTrader writes it for forex)"
    bars = [
        f"{key} from {str(col)!r}" + (note if key == "volume" and ticks is not None else "")
        for key, col in named.items()
        if col != close
    ]
    layout = f"one ticker's series: the close from column {str(close)!r}" + (
        f", bars: {', '.join(bars)}" if bars else ""
    )
    return _said(frame, layout, dates)


def _tick_volume(raw: pd.DataFrame, named: dict[str, str], parsed: dict) -> str | None:
    """MetaTrader's TICKVOL column, where its VOL is zero on every day (a forex pair, which
    has no exchange volume); else None. The number of price changes in a bar then stands in
    for its volume, as it does in MetaTrader's own volume indicators."""
    volume = named.get("volume")
    if volume is None or str(volume).strip().lower() != "vol":
        return None
    if not (parsed["volume"].fillna(0) == 0).all():
        return None
    return next((c for c in raw.columns if str(c).strip().lower() == "tickvol"), None)


# CRSP's daily stock file (WRDS): PERMNO, date, PRC (the close, or minus the bid/ask average
# on a day without a trade, 0 without either), CFACPR (the cumulative factor that adjusts a
# price for splits), RET (the total return, dividends included). Read as |PRC| / CFACPR:
# split-adjusted; with RET, adjusted for dividends too (see :func:`_crsp_total`).
CRSP_CLOSE = "close (|prc| / cfacpr)"
CRSP_TOTAL = "close (|prc| / cfacpr, with the dividends of ret)"
CRSP_DELISTED = "close (|prc| / cfacpr, with ret and the delisting return dlret)"


def _is_crsp(columns: Sequence) -> bool:
    """A CRSP layout: a PRC column and a PERMNO column, and no close of another name."""
    lower = {str(c).strip().lower() for c in columns}
    return {"prc", "permno"} <= lower and not lower & set(PRICE_NAMES)


def _crsp_close(raw, permno, dates, label, line, decimal) -> tuple[str, pd.Series]:
    """The price column's name and values: |PRC| / CFACPR (NaN where PRC is 0 or missing, or
    the factor is not positive; :data:`CRSP_CLOSE`), adjusted for dividends where RET is
    there (:data:`CRSP_TOTAL`, :func:`_crsp_total`)."""
    prc = _crsp_number(raw, "prc", label, line, decimal)
    price = prc.abs().where(prc != 0)
    factor = _crsp_number(raw, "cfacpr", label, line, decimal)
    if factor is not None:
        price = price / factor.where(factor > 0)
    # RET's letter codes (B: no valid previous price, C: no valid price) and the numeric
    # missing codes of SAS exports (-66, -77, -88, -99) are missing
    ret = _crsp_number(raw, "ret", label, line, decimal, codes=("A", "B", "C", "D", "E"))
    # DLRET, the delisting return (a merge with CRSP's delisting file): its letter codes
    # (A, S, T, P: no return known) are missing
    dlret = _crsp_number(raw, "dlret", label, line, decimal, codes=("A", "S", "T", "P"))
    if ret is None and dlret is None:
        return CRSP_CLOSE, price
    if ret is None:
        ret = pd.Series(np.nan, index=price.index)
    name = CRSP_TOTAL
    if dlret is not None and dlret.notna().any():
        gone = dlret <= -1
        if gone.any():
            first = int(line[gone].iloc[0])
            raise DataError(
                f"{label}: line {first}: DLRET {dlret[gone].iloc[0]:g}, a loss of everything: a "
                "price of 0 has no log return. Set it to the last value recovered (above -1), "
                "or leave that PERMNO out"
            )
        name = CRSP_DELISTED
    return name, _crsp_total(price, ret.where(ret > -1), permno, dates, dlret)


def _crsp_bars(raw, close, label, line, decimal) -> pd.DataFrame:
    """``raw`` with CRSP's daily bars as the reader's bar columns, in the units of ``close``
    (each day's bars times its close over |PRC|, so split- and dividend-adjusted as the close
    is): OPENPRC the open, ASKHI the high and BIDLO the low on a day with a trade; on a day
    without one (PRC negative, the bid/ask average) ASKHI and BIDLO are the ask and the bid,
    not a range, so that day's open, high and low are its close. VOL times CFACSHR is the
    volume in today's shares (a split does not step it)."""
    found = {key: _find(raw.columns, (key,)) for key in ("openprc", "askhi", "bidlo", "vol")}
    if not any(found.values()):
        return raw
    prc = _crsp_number(raw, "prc", label, line, decimal)
    traded = prc > 0
    scale = close / prc.abs().where(prc != 0)
    bars = {}
    for key, field in (("open", "openprc"), ("high", "askhi"), ("low", "bidlo")):
        value = _crsp_number(raw, field, label, line, decimal)
        if value is not None:
            # a negative or zero value is a code or a quote, not a traded price: missing
            bars[key] = (value.where(value > 0) * scale).where(traded, close)
    volume = _crsp_number(raw, "vol", label, line, decimal)
    if volume is not None:
        volume = volume.where(volume >= 0)  # SAS exports' missing codes are negative
        shares = _crsp_number(raw, "cfacshr", label, line, decimal)
        bars["volume"] = volume if shares is None else volume * shares.where(shares > 0)
    bars["close"] = close  # the bar's close: the close read, in the same units
    raw = raw.drop(columns=[c for c in found.values() if c is not None])
    return raw.assign(**{key: values.map(repr) for key, values in bars.items()})


def _crsp_number(raw, name, label, line, decimal, codes=()) -> pd.Series | None:
    """CRSP's column ``name`` as numbers of any sign (``codes``: cells read as missing);
    None where the file has no such column."""
    column = _find(raw.columns, (name,))
    if column is None:
        return None
    text = raw[column].astype(str).str.strip()
    text = text.where(~text.str.upper().isin(codes), "")
    return to_prices(text, label, str(column), line, decimal=decimal, positive=False)


def _crsp_total(
    price: pd.Series,
    ret: pd.Series,
    permno: pd.Series,
    dates: pd.Series,
    dlret: pd.Series | None = None,
):
    """Prices adjusted for dividends as Yahoo's Adj Close is: each PERMNO's growth from one
    day to the next is 1 + RET (the price ratio where RET is missing), anchored so that its
    last traded price is its last |PRC| / CFACPR; a day without a price stays without one.

    A delisting return (``dlret``) multiplies its day's growth by 1 + DLRET, as WRDS
    combines them, (1 + RET)(1 + DLRET) - 1. CRSP dates it on the delisting date, the day of
    the last price on the exchange, so that day's close becomes the last price times
    1 + DLRET, the value a holder was left with; on a row without a price (a merge dated
    the day after), that row gets the last price times the growth.
    """
    out = pd.Series(np.nan, index=price.index)
    delisting = pd.Series(np.nan, index=price.index) if dlret is None else dlret
    frame = pd.DataFrame(
        {"p": price, "r": ret, "k": permno.astype(str), "d": dates.to_numpy(), "x": delisting}
    )
    for _, rows in frame.sort_values(["k", "d"], kind="stable").groupby("k", sort=False):
        ratio = rows["p"] / rows["p"].ffill().shift()
        growth = (1 + rows["r"]).fillna(ratio).fillna(1.0) * (1 + rows["x"]).fillna(1.0)
        index = growth.cumprod()
        valid = rows["p"].notna()
        if valid.any():
            last = valid[::-1].idxmax()
            traded = index[last] / (1 + rows["x"]).fillna(1.0)[last]  # before its DLRET
            priced = valid | (rows["x"].notna() & valid.cummax())  # a delisting row after
            out[rows.index] = (index * rows.at[last, "p"] / traded).where(priced)
    return out


def _from_long(raw, dates, line, label, ticker, price_col, decimal, positive=True) -> pd.DataFrame:
    price = (
        _require(raw.columns, price_col, "price", label)
        if price_col
        else _find(raw.columns, (CRSP_DELISTED, CRSP_TOTAL, CRSP_CLOSE, *PRICE_NAMES))
    )
    if price is None:  # a long file in another language: its (adjusted) close
        fields = _bar_columns(raw)
        price = fields.get("adj_close", fields.get("close"))
    if price is None:
        raise DataError(
            f"{label}: long layout (ticker column {ticker!r}) but no price column "
            f"among {list(raw.columns)}; name it 'close' or pass --price-col"
        )
    names = raw[ticker].str.strip()
    if (names == "").any():
        first = int(line[names == ""].iloc[0])
        raise DataError(f"{label}: line {first}: empty ticker in column {ticker!r}")
    spelled = pd.Series(names.unique())
    twice = spelled[spelled.str.upper().duplicated(keep=False)]
    if len(twice):  # 'AAPL' and 'aapl': one ticker written two ways, or two?
        a, b = twice.iloc[0], twice[twice.str.upper() == twice.iloc[0].upper()].iloc[1]
        lines = [int(line[names == n].iloc[0]) for n in (a, b)]
        raise DataError(
            f"{label}: tickers {a!r} (line {lines[0]}) and {b!r} (line {lines[1]}) differ only "
            "in case; write each ticker one way throughout"
        )
    long = pd.DataFrame(
        {
            "date": dates.values,
            "ticker": names.values,
            "price": to_prices(
                raw[price], label, str(price), line, decimal=decimal, positive=positive
            ).values,
            "line": line.values,
        }
    )
    dup = long.duplicated(["date", "ticker"], keep=False)
    if dup.any():
        shown = long[dup].head(6)
        listing = ", ".join(
            f"{t} {d:%Y-%m-%d} (line {n})"
            for d, t, n in zip(shown["date"], shown["ticker"], shown["line"], strict=True)
        )
        raise DataError(
            f"{label}: {int(dup.sum())} rows repeat a date for the same ticker: "
            f"{listing}; keep one row per date and ticker"
        )
    wide = long.pivot(index="date", columns="ticker", values="price")
    wide.columns = [str(c) for c in wide.columns]
    frame = _index(wide, pd.Series(wide.index))
    if positive:
        _attach_long_bars(frame, raw, dates, line, label, names, decimal)
    layout = f"a long file: tickers from column {str(ticker)!r}, prices from {str(price)!r}"
    return _said(frame, layout, dates)


def _bar_columns(raw: pd.DataFrame, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The bar field (open, high, low, close, adj_close, volume) of each column that names
    one (:data:`OHLCV_NAMES`, :data:`LOCAL_NAMES` where three are found, and ``extra``:
    another name for a field)."""
    names = {**_field_names(raw.columns), **(extra or {})}
    return {
        names[str(c).strip().lower()]: c for c in raw.columns if str(c).strip().lower() in names
    }


def _parse_bars(raw, named: dict[str, str], label, line, decimal) -> dict[str, pd.Series]:
    """Each bar column parsed; a volume may be zero and carry a K/M/B suffix."""
    return {
        key: to_prices(
            raw[col], label, str(col), line, key == "volume", decimal, counts=key == "volume"
        )
        for key, col in named.items()
    }


def _attach_long_bars(frame, raw, dates, line, label, names, decimal) -> None:
    """Each ticker's daily bars, where a long file has open/high/low/volume columns beside
    its prices (a yfinance download of several tickers)."""
    named = _bar_columns(raw)
    if not {"open", "high", "low", "volume"} & set(named):
        return
    fields = {
        key: values.to_numpy()
        for key, values in _parse_bars(raw, named, label, line, decimal).items()
    }
    table = pd.DataFrame(fields, index=pd.DatetimeIndex(dates.values, name="date"))
    tables = {
        str(name): part.sort_index() for name, part in table.groupby(names.to_numpy(), sort=False)
    }
    attach_bars(frame, tables)


def _check_unique(dates: pd.Series, line: pd.Series, label: str, raw: pd.DataFrame) -> None:
    dup = dates.duplicated(keep=False)
    if dup.any():
        shown = [
            f"{d:%Y-%m-%d} (line {n})"
            for d, n in zip(dates[dup].head(6), line[dup].head(6), strict=True)
        ]
        clock = next((c for c in raw.columns if str(c).lower() == "time"), None)
        if clock is not None:  # the time of day in a column of its own (MetaTrader's <TIME>)
            times = raw.loc[dup[dup].index[:2], clock].astype(str).str.strip().tolist()
            raise DataError(
                f"{label}: {int(dup.sum())} rows share a date, at the times in column "
                f"{str(clock)!r} ({', '.join(shown[:2])}: {' and '.join(times)}): intraday "
                "bars; the models forecast daily closes, so keep each day's last row (or "
                "export daily bars)"
            )
        raise DataError(
            f"{label}: {int(dup.sum())} rows share a date: {', '.join(shown)}; "
            "remove the duplicates (or is this a long file without a ticker column?)"
        )


def _index(frame: pd.DataFrame, dates: pd.Series) -> pd.DataFrame:
    frame.index = pd.DatetimeIndex(dates.values, name="date")
    return frame.sort_index(kind="stable").astype("float64")


def match_tickers(wanted: Sequence[str], present: Sequence[str], label: str) -> list[str]:
    """The columns meant by ``wanted``: exact names, or a name that matches one column when
    case is ignored (``aapl`` -> ``AAPL``). Absent or ambiguous names raise :class:`DataError`."""
    present = list(present)
    lower: dict[str, list[str]] = {}
    for name in present:
        lower.setdefault(name.lower(), []).append(name)
    chosen, missing = [], []
    for name in wanted:
        if name in present:
            chosen.append(name)
        elif len(lower.get(name.lower(), [])) == 1:
            chosen.append(lower[name.lower()][0])
        elif name.lower() in lower:
            raise DataError(
                f"{label}: ticker {name!r} matches {lower[name.lower()]} when case is ignored; "
                "write it exactly"
            )
        else:
            missing.append(name)
    if missing:
        import difflib

        guesses = [
            f"{lower[close[0]][0]!r} for {name!r}"
            for name in missing
            if (close := difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.75))
        ]
        meant = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
        more = f" and {len(present) - 20} more" if len(present) > 20 else ""
        raise DataError(
            f"{label}: ticker(s) {missing} not found{meant}; present: {present[:20]}{more}"
        )
    return list(dict.fromkeys(chosen))


def _select(frame: pd.DataFrame, tickers: list[str], label: str) -> pd.DataFrame:
    names = match_tickers(tickers, [str(c) for c in frame.columns], label)
    holder = frame.attrs.get(OHLCV_KEY)
    out = frame[names].copy()
    if isinstance(holder, OHLCV):  # the chosen tickers' bars
        attach_bars(out, {t: holder.tables[t] for t in names if t in holder.tables})
    return out


def _keep_rows(frame: pd.DataFrame, keep) -> pd.DataFrame:
    """The rows of ``frame`` where ``keep`` (a boolean mask), a single ticker's bars too."""
    bars = ohlcv_of(frame)
    kept = frame.loc[keep].copy()
    if bars is not None:
        attach(kept, bars.loc[keep])
    return kept


def _up_to_last(valid: pd.Series) -> pd.Series:
    """True from the start up to a series' last price (``valid``: where it has one)."""
    return valid[::-1].cummax()[::-1]


def _drop_no_trading_days(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """A date on which no ticker has a price is not a trading day (a holiday row with a blank
    or '.' in a download): drop it rather than forward-fill a fake zero return."""
    empty = frame.isna().all(axis=1)
    if not empty.any():
        return frame
    dates = frame.index[empty]
    kept = _keep_rows(frame, ~empty)
    if kept.empty:
        raise DataError(f"{label}: no prices at all (every price cell is empty)")
    listed = ", ".join(f"{d:%Y-%m-%d}" for d in dates[:3]) + (" ..." if len(dates) > 3 else "")
    warnings.warn(
        f"{label}: dropped {len(dates)} date(s) on which no ticker has a price "
        f"(holidays?): {listed}",
        DataWarning,
        stacklevel=3,
    )
    return kept


def _weekdays_only(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """The Monday-Friday rows (and their bars), said in "Read as"."""
    weekday = frame.index.day_of_week < 5
    if weekday.all():
        return frame
    if not weekday.any():
        raise DataError(f"{label}: every date is a Saturday or Sunday; drop --weekdays")
    kept = _keep_rows(frame, weekday)
    said = f"{(~weekday).sum()} weekend rows dropped (--weekdays)"
    kept.attrs[READ_AS] = f"{frame.attrs[READ_AS]}; {said}" if READ_AS in frame.attrs else said
    return kept


def _refuse_weekdays_beside_weekends(frame: pd.DataFrame, label: str) -> None:
    """A ticker that never has a weekend price beside one that has them (a stock beside a
    coin) would have every weekend forward-filled: flat days that never traded, a fifth of
    its returns set to zero. Refuse it, naming the two ways to read such a file."""
    weekend = frame.index.day_of_week >= 5
    if weekend.sum() < 2:
        return
    priced = frame.notna()
    weekenders = [str(t) for t in frame.columns if (priced[t] & weekend).any()]
    for ticker in frame.columns:
        valid = priced[ticker]
        span = valid.cummax() & _up_to_last(valid)  # from its first price to its last
        if (valid & weekend).any() or (span & weekend).sum() < 2:
            continue
        invented = int((span & ~valid).sum())
        workweek = [str(t) for t in frame.columns if str(t) not in weekenders]
        raise DataError(
            f"{label}: column {ticker!r} has no prices on weekends, where {weekenders[0]!r} "
            f"has them: filling them would invent {invented} flat days it never traded. Keep "
            f"the weekdays of all (--weekdays: weekend moves fold into Monday's return), or "
            f"read the calendars apart (--tickers {','.join(workweek)} and --tickers "
            f"{','.join(weekenders)})"
        )


def _fill_gaps(frame: pd.DataFrame, label: str, max_gap: int) -> pd.DataFrame:
    _refuse_weekdays_beside_weekends(frame, label)
    filled, ended = 0, []
    for ticker in frame.columns:
        values = frame[ticker]
        valid = values.notna()
        if not valid.any():
            raise DataError(f"{label}: column {ticker!r} has no prices at all")
        # leading missing values: listed later, allowed; trailing ones beyond max_gap: it
        # ended (delisted, or not updated), never filled flat
        missing = ~valid & valid.cummax()
        up_to_last = _up_to_last(valid)
        if int((~up_to_last).sum()) > max_gap:
            ended.append(f"{ticker} after {values[valid].index[-1]:%Y-%m-%d}")
            missing &= up_to_last
        if not missing.any():
            continue
        run_id = (~missing).cumsum()
        runs = missing.groupby(run_id).sum()
        longest = int(runs.max())
        if longest > max_gap:
            start = missing[run_id == runs.idxmax()].idxmax()
            raise DataError(
                f"{label}: column {ticker!r} has {longest} missing prices in a row from "
                f"{start:%Y-%m-%d}; at most {max_gap} are forward-filled. Fill or drop them, "
                f"raise the limit (--max-gap), or leave this ticker out"
            )
        filled += int(missing.sum())
        frame[ticker] = values.where(~missing, values.ffill())
    if filled:
        warnings.warn(
            f"{label}: forward-filled {filled} missing price(s) in short gaps "
            f"(up to {max_gap} rows)",
            DataWarning,
            stacklevel=3,
        )
    if ended:
        warnings.warn(
            f"{label}: no prices for {'; '.join(ended[:5])}{' ...' if len(ended) > 5 else ''} "
            "(delisted, or not updated?): each is read as ending there, never filled with flat "
            "prices, and forecast only while it has prices. "
            + (
                "Its delisting return (DLRET) is its last move"
                if CRSP_DELISTED in str(frame.attrs.get(READ_AS, ""))
                else "A delisting return is not in the prices"
            )
            + "; leave it out (--tickers) if the file was not updated",
            DataWarning,
            stacklevel=3,
        )
    return frame
