"""Walk-forward (rolling-origin) splits: refit every K origins on the data available then.

The test origins are the last ``test_days`` dates whose ``horizon``-day outcome is known.
They are cut into folds of ``refit_every`` origins. The model of a fold is trained on the
prices up to and including the fold's first origin: every training label
``log(P[s+h] / P[s])`` inside that frame ends at or before the origin, so no training label
overlaps a test label (the last training origin is ``h`` days before the first test origin).
With ``window="rolling"`` only the last ``train_days`` of those prices are used.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data.errors import DataError


@dataclass(frozen=True)
class Fold:
    """One refit: the training rows ``[train_start, train_end]`` and the origins it forecasts."""

    index: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    origins: pd.DatetimeIndex


def walk_forward_splits(
    dates: pd.DatetimeIndex,
    test_days: int = 500,
    refit_every: int = 63,
    horizon: int = 1,
    window: str = "expanding",
    train_days: int | None = None,
    min_train_days: int = 100,
) -> list[Fold]:
    """The folds of a walk-forward backtest over ``dates`` (sorted, unique)."""
    if window not in ("expanding", "rolling"):
        raise ValueError(f"window (--window) must be 'expanding' or 'rolling', got {window!r}")
    if window == "rolling" and (train_days is None or train_days < 2):
        raise ValueError("a rolling window needs train_days (--train-days), at least 2")
    for name, value in (
        ("test_days", test_days),
        ("refit_every", refit_every),
        ("horizon", horizon),
    ):
        if value < 1:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{name} ({flag}) must be at least 1, got {value}")
    usable = len(dates) - horizon  # origins with a known outcome
    first = usable - test_days
    if first < min_train_days:
        raise DataError(
            f"{len(dates)} dates ({dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d}) leave "
            f"{max(first, 0)} training days before a {test_days}-day test period; need at "
            f"least {min_train_days}. Shorten --test-days or use more data"
        )
    folds = []
    for k, start in enumerate(range(first, usable, refit_every)):
        origins = dates[start : min(start + refit_every, usable)]
        low = 0 if window == "expanding" else max(0, start + 1 - train_days)
        folds.append(Fold(k, dates[low], dates[start], origins))
    return folds


MIN_TEST_WINDOWS = 30  # non-overlapping test outcomes the tests need, of a run or a ticker


def check_ticker_spans(
    prices: pd.DataFrame, folds: list[Fold], horizon: int = 1, min_train_days: int = 100
) -> None:
    """Raise :class:`DataError` where a ticker that begins late (a listing inside the data)
    has fewer than ``min_train_days`` prices in the first fold's training window (the panel's
    own rule, per ticker, so that no model is fitted on a handful of its days), or where one
    that ended (delisted) has no outcome left in the test period."""
    first = folds[0]
    window = prices.loc[first.train_start : first.train_end]
    usable = len(prices.index) - horizon
    start = prices.index.get_loc(first.origins[0])
    need = min(min_train_days, len(window))  # a shorter rolling window (--train-days) rules
    for ticker in prices.columns:
        priced = prices[ticker].notna().to_numpy().nonzero()[0]
        others = ",".join(str(t) for t in prices.columns if t != ticker)
        leave = f"Leave it out (--tickers {others}) or " if others else ""
        tested = priced[-1] - horizon - start + 1 if len(priced) else 0  # outcomes it has
        ended = len(priced) and priced[-1] < len(prices) - 1
        if ended and tested < MIN_TEST_WINDOWS * horizon:
            more = MIN_TEST_WINDOWS * horizon + usable - priced[-1] + horizon - 1
            raise DataError(
                f"prices: {ticker!r} has no prices after {prices.index[priced[-1]]:%Y-%m-%d}, "
                f"which leaves it {max(tested, 0)} test outcome(s) ({horizon}-day) from the "
                f"first test origin ({first.origins[0]:%Y-%m-%d}); the tests need at least "
                f"{MIN_TEST_WINDOWS * horizon} ({MIN_TEST_WINDOWS} that do not overlap). "
                f"{leave}test more days (--test-days {more} or more)"
            )
        have = int(window[ticker].notna().sum())
        if have >= need:
            continue
        most = usable - priced[need - 1] if len(priced) >= need else 0
        begins = (
            f"its prices begin {prices.index[priced[0]]:%Y-%m-%d}" if len(priced) else "no prices"
        )
        raise DataError(
            f"prices: {ticker!r} has {have} prices in the first refit's training window "
            f"(to {first.train_end:%Y-%m-%d}; {begins}); each ticker needs at least {need} "
            f"before its first forecast. "
            + (
                f"{leave}{'s' if leave else 'S'}horten --test-days to at most {most}"
                if most > 0
                else f"It has too few prices to test at all{'; leave it out' if others else ''}"
                + (f" (--tickers {others})" if others else "")
            )
        )
