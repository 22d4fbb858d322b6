r"""What a model reads at each origin besides its ticker's own return: feature groups, each
known at the origin's close.

For ticker :math:`i` on day :math:`t`, with :math:`r_{i,t} = \log(P_{i,t}/P_{i,t-1})`:

* ``returns``: :math:`r_{i,t}` (the default, and the only input before feature groups);
* ``market`` (panels of at least two tickers): the equal-weighted return
  :math:`\bar r_t = \frac1N\sum_j r_{j,t}`, the ticker's return minus the cross-sectional
  median :math:`r_{i,t} - \mathrm{med}_j\, r_{j,t}`, and its cross-sectional rank scaled to
  :math:`[-\tfrac12, \tfrac12]`;
* ``ohlc`` (each ticker's open, high, low and volume bars: a single-ticker file, a long file or
  a yfinance download with those columns): the overnight gap
  :math:`\log(O_t/C_{t-1})`, the intraday return :math:`\log(C_t/O_t)`, the range
  :math:`\log(H_t/L_t)`, and the log volume as a z-score against its own trailing 60 days
  (today included, at least 20 of them);
* ``covariates``: the user's own series (``--covariates FILE``), each date holding the latest
  value known by then (:mod:`lstm_forecast.data.covariates`), the same for every ticker;
* ``calendar``: the day of the week as :math:`\sin, \cos(2\pi d/5)` (Monday :math:`d = 0` to
  Friday 4; Saturday and Sunday, for markets open every day, :math:`4\tfrac13` and
  :math:`4\tfrac23`, so that they differ from Monday), and the business days
  left in the month after :math:`t` divided by 21. Both come from the date alone (a business-day
  calendar, not the rows of the data), so a forecast on the last day of the data sees what it
  would have seen with more data after it.

:func:`input_panel` returns a ``(T, N, F)`` array; row :math:`t` uses prices up to :math:`t`
only (a test changes every later price and checks the rows up to :math:`t` stay bit-identical).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..data.covariates import covariates_of
from ..data.ohlcv import adjusted, bars_of
from .returns import log_returns

GROUPS: dict[str, tuple[str, ...]] = {
    "returns": ("return",),
    "market": ("market", "excess", "rank"),
    "ohlc": ("gap", "intraday", "range", "volume_z"),
    "calendar": ("weekday_sin", "weekday_cos", "to_month_end"),
    "covariates": (),  # one input per series of the user's file, named "covariate:<name>"
}
COVARIATE = "covariate:"
GROUP_OF = {name: group for group, names in GROUPS.items() for name in names}
DEFAULT = ("returns",)


def check_features(features: Sequence[str] | str) -> tuple[str, ...]:
    """The feature groups in canonical order; a ``ValueError`` naming ``--features`` for an
    unknown, repeated or empty list. A string is split on commas."""
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    if not isinstance(features, (list, tuple)) or not features:
        raise ValueError(f"--features must name at least one of {', '.join(GROUPS)}")
    unknown = [f for f in features if f not in GROUPS]
    if unknown:
        raise ValueError(
            f"--features: unknown feature group {str(unknown[0])[:40]!r}; "
            f"choose from {', '.join(GROUPS)}"
        )
    if len(set(features)) != len(features):
        raise ValueError("--features: each feature group may be named once")
    return tuple(g for g in GROUPS if g in features)


def feature_names(features: Sequence[str], covariates: Sequence[str] = ()) -> list[str]:
    """The input columns of ``features`` (with these covariate series), in the order of
    :func:`input_panel`."""
    names = []
    for group in check_features(features):
        if group == "covariates":
            names += [COVARIATE + str(c) for c in covariates]
        else:
            names += GROUPS[group]
    return names


def covariate_names(prices: pd.DataFrame, features: Sequence[str]) -> list[str]:
    """The covariate series ``prices`` carries, if ``features`` asks for them (else [])."""
    if "covariates" not in check_features(features):
        return []
    return [str(c) for c in _carried(prices).columns]


def _carried(prices: pd.DataFrame) -> pd.DataFrame:
    """The covariates ``prices`` carries, on its dates; a clear error when there are none."""
    table = covariates_of(prices)
    if table is None:
        raise ValueError(
            "feature 'covariates' needs your series: pass --covariates FILE (a date column "
            "and one column per series), or leave 'covariates' out of --features"
        )
    table.columns = [str(c) for c in table.columns]
    return table


def input_panel(
    prices: pd.DataFrame, features: Sequence[str], covariates: Sequence[str] | None = None
) -> np.ndarray:
    """``(T, N, F)`` inputs for every date and ticker of ``prices`` (columns of
    :func:`feature_names`); NaN where a value is not known (the first row's return).
    ``covariates``: the series to use, in order (a fitted model's); default all carried."""
    groups = check_features(features)
    returns = log_returns(prices).to_numpy(np.float64)  # (T, N)
    parts = []
    for group in groups:
        if group == "returns":
            parts.append(returns[:, :, None])
        elif group == "market":
            parts.append(_market(returns, prices.columns))
        elif group == "ohlc":
            parts.append(_ohlc(prices))
        elif group == "covariates":
            parts.append(_covariates(prices, covariates))
        else:
            parts.append(_calendar(prices.index, returns.shape[1]))
    return np.concatenate(parts, axis=2)


def _market(returns: np.ndarray, tickers: pd.Index) -> np.ndarray:
    if returns.shape[1] < 2:
        raise ValueError(
            f"feature 'market' needs a panel of at least two tickers; the data has "
            f"{returns.shape[1]} ({', '.join(map(str, tickers))}). Leave it out of --features "
            "or add tickers"
        )
    known = np.isfinite(returns)
    count = known.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.nansum(returns, axis=1, keepdims=True) / count, np.nan)
        median = np.full_like(mean, np.nan)
        rows = count[:, 0] > 0
        median[rows, 0] = np.nanmedian(returns[rows], axis=1)
        order = pd.DataFrame(returns).rank(axis=1).to_numpy()  # 1..count, NaN stays NaN
        rank = np.where(count > 1, (order - 1) / (count - 1) - 0.5, 0.0)
    rank = np.where(known, rank, np.nan)
    market = np.broadcast_to(mean, returns.shape)
    return np.stack([market, returns - median, rank], axis=2)


VOLUME_DAYS, VOLUME_MIN_DAYS = 60, 20


BAR_FIELDS = {"open", "high", "low", "volume"}  # what the ohlc group reads beside the close


def without_bars(prices: pd.DataFrame, tickers: list[str] | None = None) -> list[str]:
    """The tickers (default: every column of ``prices``) whose bars lack a field the ohlc
    group reads."""
    return _lacking(_bar_tables(prices, tickers))


def _bar_tables(prices: pd.DataFrame, tickers=None) -> dict[str, pd.DataFrame | None]:
    names = prices.columns if tickers is None else tickers
    return {str(t): bars_of(prices, str(t)) for t in names}


def _lacking(tables: dict[str, pd.DataFrame | None]) -> list[str]:
    return [t for t, bars in tables.items() if bars is None or not set(bars) >= BAR_FIELDS]


def _ohlc(prices: pd.DataFrame) -> np.ndarray:
    """(T, N, 4): each ticker's gap, intraday move, range and volume z-score."""
    tables = _bar_tables(prices)
    lacking = _lacking(tables)
    if lacking:
        which = "the ticker"
        if prices.shape[1] > 1:
            verb = "lacks" if len(lacking) == 1 else "lack"
            which = f"every ticker ({', '.join(lacking[:5])} {verb} them)"
        raise ValueError(
            f"feature 'ohlc' needs open, high, low and volume columns for {which}; this data "
            "has closes only (bars come from a file with Open, High, Low, Close and Volume "
            "columns, one ticker's or a long file's, or a yfinance download). Leave 'ohlc' "
            "out of --features"
        )
    return np.stack([_bar_inputs(bars) for bars in tables.values()], axis=1)


def _bar_inputs(raw: pd.DataFrame) -> np.ndarray:
    bars = adjusted(raw)  # in the adjusted close's units: a raw split is no overnight gap
    close = bars["close"] if "close" in bars else bars["adj_close"]
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.log(bars["open"] / close.shift(1))
        intraday = np.log(close / bars["open"])
        spread = np.log(bars["high"] / bars["low"])
        volume = np.log1p(bars["volume"])
        trailing = volume.rolling(VOLUME_DAYS, min_periods=VOLUME_MIN_DAYS)
        spread_of_volume = trailing.std()
        z = (volume - trailing.mean()) / spread_of_volume
        # a volume that did not vary over the window (an index's constant or zero volume) is
        # at its usual level: z = 0, not 0/0 (which left no value to train on)
        z = z.where(~(spread_of_volume == 0) | volume.isna(), 0.0)
    columns = np.stack([c.to_numpy(np.float64) for c in (gap, intraday, spread, z)], axis=1)
    columns[~np.isfinite(columns)] = np.nan
    return columns


def _covariates(prices: pd.DataFrame, wanted: Sequence[str] | None) -> np.ndarray:
    table = _carried(prices)
    present = list(table.columns)
    wanted = present if wanted is None else list(wanted)
    missing = [c for c in wanted if c not in present]
    if missing:
        raise ValueError(
            f"the model reads covariate {missing[0]!r}, which the data lacks; pass "
            f"--covariates with a file that has it (found: {present or 'none'})"
        )
    values = table[wanted].to_numpy(np.float64)  # (T, C)
    return np.broadcast_to(values[:, None, :], (len(prices), prices.shape[1], len(wanted)))


def _calendar(index: pd.DatetimeIndex, tickers: int) -> np.ndarray:
    weekday = index.day_of_week.to_numpy().astype(np.float64)
    weekday[weekday >= 5] = 4 + (weekday[weekday >= 5] - 4) / 3  # the weekend between Fri, Mon
    angle = 2 * np.pi * weekday / 5
    days = index.values.astype("datetime64[D]")
    month_end = (index + pd.offsets.MonthEnd(0)).values.astype("datetime64[D]")
    left = np.busday_count(days + 1, month_end + 1) / 21
    columns = np.stack([np.sin(angle), np.cos(angle), left], axis=1)  # (T, 3)
    return np.broadcast_to(columns[:, None, :], (len(index), tickers, 3))
