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

MIN_TRAIN_DAYS = 100  # training days before the first forecast: the panel's, and each ticker's


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
    min_train_days: int = MIN_TRAIN_DAYS,
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


def _needed(prices: pd.DataFrame, fold: Fold, min_train_days: int) -> int:
    """Prices of its own a ticker needs in ``fold``'s training window to be fit and forecast
    there: ``min_train_days``, or the whole window where a rolling one is shorter."""
    return min(min_train_days, len(prices.loc[fold.train_start : fold.train_end]))


def fold_tickers(
    prices: pd.DataFrame, fold: Fold, min_train_days: int = MIN_TRAIN_DAYS
) -> list[str]:
    """The tickers that ``fold`` fits and forecasts: those with enough prices of their own in
    its training window (:func:`_needed`). A ticker listed inside the data enters at the
    first refit where it has them; every model sees the same tickers, so comparisons stay
    paired."""
    counts = prices.loc[fold.train_start : fold.train_end].notna().sum()
    need = _needed(prices, fold, min_train_days)
    return [str(t) for t in prices.columns if counts[t] >= need]


def first_forecast(
    prices: pd.DataFrame, folds: list[Fold], min_train_days: int = MIN_TRAIN_DAYS
) -> dict[str, Fold | None]:
    """Per ticker, the first fold that forecasts it (None: no fold does)."""
    first: dict[str, Fold | None] = {str(t): None for t in prices.columns}
    for fold in folds:
        for ticker in fold_tickers(prices, fold, min_train_days):
            if first[ticker] is None:
                first[ticker] = fold
    return first


def check_ticker_spans(
    prices: pd.DataFrame, folds: list[Fold], horizon: int = 1, min_train_days: int = MIN_TRAIN_DAYS
) -> None:
    """Raise :class:`DataError` where a ticker would have too few test outcomes to be tested:
    fewer than :data:`MIN_TEST_WINDOWS` non-overlapping ones between its first forecast (the
    first refit with ``min_train_days`` of its prices, :func:`fold_tickers`: later for a
    ticker listed inside the data) and its last price (earlier for one that ended)."""
    usable = len(prices.index) - horizon
    need_outcomes = MIN_TEST_WINDOWS * horizon
    starts = first_forecast(prices, folds, min_train_days)
    for ticker in prices.columns:
        priced = prices[ticker].notna().to_numpy().nonzero()[0]
        others = ",".join(str(t) for t in prices.columns if t != ticker)
        leave = f"Leave it out (--tickers {others}) or " if others else ""
        fold = starts[str(ticker)]
        if fold is None:
            last = folds[-1]
            have = int(prices.loc[last.train_start : last.train_end, ticker].notna().sum())
            begins = (
                f"its prices begin {prices.index[priced[0]]:%Y-%m-%d}"
                if len(priced)
                else "no prices"
            )
            out = f"; leave it out (--tickers {others})" if others else ""
            raise DataError(
                f"prices: {ticker!r} has {have} prices in the last refit's training window (to "
                f"{last.train_end:%Y-%m-%d}; {begins}); each ticker needs at least "
                f"{_needed(prices, last, min_train_days)} there before its first forecast, so "
                f"it cannot be tested{out}"
            )
        start = prices.index.get_loc(fold.origins[0])
        tested = priced[-1] - horizon - start + 1  # outcomes from its first forecast on
        if tested >= need_outcomes:
            continue
        if fold is folds[0]:  # it ended early in the test period: test more days
            more = need_outcomes + usable - priced[-1] + horizon - 1
            raise DataError(
                f"prices: {ticker!r} has no prices after {prices.index[priced[-1]]:%Y-%m-%d}, "
                f"which leaves it {max(tested, 0)} test outcome(s) ({horizon}-day) from the "
                f"first test origin ({fold.origins[0]:%Y-%m-%d}); the tests need at least "
                f"{need_outcomes} ({MIN_TEST_WINDOWS} that do not overlap). "
                f"{leave}test more days (--test-days {more} or more)"
            )
        raise DataError(
            f"prices: {ticker!r} is first forecast at the refit of {fold.origins[0]:%Y-%m-%d} "
            f"(its prices begin {prices.index[priced[0]]:%Y-%m-%d}; each ticker needs "
            f"{_needed(prices, fold, min_train_days)} of its own in a refit's training window "
            f"first), which leaves it {max(tested, 0)} test outcome(s) ({horizon}-day) up to "
            f"its last price; the tests need at least {need_outcomes} ({MIN_TEST_WINDOWS} that "
            f"do not overlap). {leave}refit more often (--refit-every) so that it enters sooner"
        )
