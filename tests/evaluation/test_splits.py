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


@pytest.mark.parametrize(
    ("window", "train_days", "need"), [("expanding", None, 100), ("rolling", 50, 50)]
)
def test_a_ticker_listed_late_enters_at_the_first_refit_with_its_own_training_days(
    window, train_days, need
):
    """A ticker that begins inside the test window is fit and forecast from the first refit
    whose training window holds ``need`` of its prices, by every model alike; the others'
    forecasts are those of a run without it; one that would have too few outcomes left is
    refused in words that name it and the others."""
    import numpy as np

    from lstm_forecast.evaluation import BacktestSettings, run_backtest
    from lstm_forecast.evaluation.splits import first_forecast, walk_forward_splits
    from lstm_forecast.evaluation.summary import listed_notes

    dates = pd.bdate_range("2020-01-01", periods=700)
    rng = np.random.default_rng(0)
    walk = np.exp(np.cumsum(rng.normal(0, 0.01, (700, 3)), axis=0)) * 100
    prices = pd.DataFrame(walk, index=dates, columns=["A", "B", "NEW"])
    prices.iloc[:450, 2] = np.nan  # NEW lists on its 451st date, 2021-09-22

    def run(frame, test_days=250, refit_every=63):
        settings = BacktestSettings(
            ("naive", "drift", "ols"), test_days, refit_every, 1, window, train_days, jobs=1
        )
        return run_backtest(frame, settings)

    result = run(prices)
    folds = walk_forward_splits(dates, 250, 63, 1, window, train_days)
    entry = next(f for f in folds if prices.loc[: f.train_end, "NEW"].notna().sum() >= need)
    assert entry.index > 0 and first_forecast(prices, folds)["NEW"] is not None
    rows = result.predictions
    for model in ("naive", "drift", "ols"):  # every model from the same refit, none before
        own = rows[(rows["model"] == model) & (rows["ticker"] == "NEW")]
        assert own["origin"].min() == entry.origins[0]
        assert len(own) == 699 - dates.get_loc(entry.origins[0])
    refits = result.refits.set_index(["fold", "model"])["tickers"]
    assert refits.loc[(0, "drift")] == 2 and refits.loc[(entry.index, "ols")] == 3
    alone = run(prices[["A", "B"]]).predictions
    kept = rows[rows["ticker"] != "NEW"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, alone.reset_index(drop=True))  # A, B as without it
    said = listed_notes(result)
    assert said == [
        f"NEW's prices begin 2021-09-22: it was first forecast at the refit of "
        f"{entry.origins[0]:%Y-%m-%d}, the first with enough of its own prices to fit, and "
        f"scored on {len(own)} of the 250 test origins."
    ]
    late = prices.copy()
    late.iloc[:660, 2] = np.nan  # lists 40 days before the end: too few outcomes, if any
    with pytest.raises(DataError) as info:
        run(late)
    assert "'NEW'" in str(info.value) and "--tickers A,B" in str(info.value)
    if window == "expanding":  # it enters at the last refit, 20 outcomes before the end
        late.iloc[:, 2] = prices["NEW"].where(np.arange(700) >= 500)
        with pytest.raises(DataError) as info:
            run(late, test_days=220, refit_every=100)
        said = str(info.value)
        assert "'NEW' is first forecast at the refit of 2022-08-09" in said
        assert "leaves it 20 test outcome(s)" in said and "--refit-every" in said
        assert len(run(late, test_days=220, refit_every=50).predictions) > 0


def test_a_ticker_that_ends_is_tested_while_it_has_prices():
    """A delisted ticker is forecast and scored up to its last price; the family-wise test
    still counts every date of the others, and luck's Sharpe is judged over its own days."""
    import numpy as np

    from lstm_forecast.evaluation import BacktestSettings, run_backtest
    from lstm_forecast.evaluation.luck import luck_table
    from lstm_forecast.evaluation.summary import ended_notes, metrics_table

    dates = pd.bdate_range("2020-01-01", periods=700)
    walk = np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, (700, 3)), axis=0))
    prices = pd.DataFrame(walk * 100, index=dates, columns=["A", "B", "OLD"])
    prices.iloc[600:, 2] = np.nan  # OLD's last price is on its 600th date

    def run(test_days):
        return run_backtest(prices, BacktestSettings(("naive", "drift"), test_days, jobs=1))

    result = run(200)
    rows = result.predictions[result.predictions["model"] == "drift"]
    old = rows[rows["ticker"] == "OLD"]
    assert old["date"].max() == dates[599] and len(old) == 100  # origins 499 to 598
    assert (rows.groupby("ticker").size()[["A", "B"]] == 200).all()
    assert np.isfinite(old[["forecast", "actual"]].to_numpy()).all()
    assert ended_notes(result) == [
        "OLD has no prices after 2022-04-19 (delisted, or not updated?): it was scored on 100 "
        "of the 200 test origins, up to its last price."
    ]
    table = metrics_table(result)
    luck = table.set_index(["model", "ticker"])["luck_sharpe"]
    assert luck[("drift", "OLD")] > luck[("drift", "A")]  # luck reaches further in fewer days
    assert table["stepm"].notna().all() and set(luck_table(result, table)["ticker"]) == {
        "A",
        "B",
        "OLD",
        "ALL",
    }
    with pytest.raises(DataError) as info:  # 29 outcomes left: too few to test
        run(129)
    said = str(info.value)
    assert "'OLD' has no prices after 2022-04-19" in said and "29 test outcome(s)" in said
    assert "--tickers A,B" in said and "--test-days 130 or more" in said
    assert len(run(130).predictions) > 0


def test_a_late_ticker_alone_in_its_task_skips_the_refits_before_it_enters(monkeypatch):
    """Per-ticker models split tickers into tasks; a task whose tickers all list later fits
    nothing at the first refits and still lines up its forecasts and spreads with the
    others' (the same results as one task of every ticker)."""
    import numpy as np

    from lstm_forecast.evaluation import BacktestSettings, run_backtest, tasks

    dates = pd.bdate_range("2020-01-01", periods=700)
    rng = np.random.default_rng(1)
    walk = np.exp(np.cumsum(rng.normal(0, 0.01, (700, 2)), axis=0)) * 100
    prices = pd.DataFrame(walk, index=dates, columns=["A", "NEW"])
    prices.iloc[:450, 1] = np.nan
    settings = dict(models=("garch", "ewma"), test_days=250, target="volatility", jobs=1)
    whole = run_backtest(prices, BacktestSettings(**settings))
    monkeypatch.setattr(tasks, "GROUP_SIZE", 1)  # one task per ticker for garch
    split = run_backtest(prices, BacktestSettings(**settings))
    pd.testing.assert_frame_equal(whole.predictions, split.predictions)
    pd.testing.assert_frame_equal(
        whole.refits.drop(columns="seconds", errors="ignore"),
        split.refits.drop(columns="seconds", errors="ignore"),
    )
    first = split.refits[split.refits["model"] == "garch"]
    assert list(first["tickers"])[:2] == [1, 1] and list(first["tickers"])[-1] == 2
