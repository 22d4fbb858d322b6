"""Walk-forward folds: where they start, what each trains on, and errors."""

import pandas as pd
import pytest

from lstm_forecast.data import DataError
from lstm_forecast.evaluation.splits import walk_forward_splits

DATES = pd.bdate_range("2020-01-01", periods=400)


def test_expanding_folds():
    folds = walk_forward_splits(DATES, test_days=100, refit_every=30, horizon=2)
    origins = pd.DatetimeIndex([d for f in folds for d in f.origins])
    assert len(origins) == 100 and origins.is_unique
    assert origins[-1] == DATES[-3]  # the last origin whose 2-day outcome is known
    assert [len(f.origins) for f in folds] == [30, 30, 30, 10]
    for fold in folds:
        assert fold.train_start == DATES[0]
        assert fold.train_end == fold.origins[0]  # data available at the first origin, no later


def test_rolling_window():
    folds = walk_forward_splits(DATES, 100, 50, 1, window="rolling", train_days=120)
    for fold in folds:
        assert len(DATES[(fold.train_start <= DATES) & (fold.train_end >= DATES)]) == 120


def test_errors():
    with pytest.raises(DataError, match="leave 50 training days"):
        walk_forward_splits(DATES[:151], test_days=100)
    with pytest.raises(ValueError, match="rolling window needs train_days"):
        walk_forward_splits(DATES, window="rolling")
    with pytest.raises(ValueError, match="refit_every"):
        walk_forward_splits(DATES, 100, 0)
