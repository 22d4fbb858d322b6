"""The backtest as tasks: the plan, ticker groups that change nothing, a work directory that
keeps finished tasks exactly and refuses to mix runs, and resuming after a kill."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.data.errors import DataError
from lstm_forecast.evaluation import tasks as tasks_module
from lstm_forecast.evaluation.backtest import (
    BacktestSettings,
    _run_task,
    plan_backtest,
    run_backtest,
)
from lstm_forecast.evaluation.executors import LocalExecutor, make_executor
from lstm_forecast.evaluation.splits import walk_forward_splits
from lstm_forecast.evaluation.tasks import Task, TaskStore, fingerprint, plan_tasks, work_dir_for

TINY_LSTM = {"lstm": dict(lookback=10, hidden_size=4, epochs=2)}


def walks(n_tickers=5, days=600, seed=0):
    rng = np.random.default_rng(seed)
    values = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (days, n_tickers)), axis=0))
    index = pd.bdate_range("2010-01-04", periods=days)
    return pd.DataFrame(values, index, [f"T{i}" for i in range(n_tickers)])


def test_the_plan():
    prices = walks(5)
    folds = walk_forward_splits(prices.index, 100, 50, 1, "expanding", None)
    settings = BacktestSettings(("lstm", "naive", "ols"), 100, 50, model_settings=TINY_LSTM)
    plan = plan_tasks(
        settings.models, folds, list(prices.columns), {"lstm"}, {"naive", "ols"}, group_size=2
    )
    assert [t for t in plan if t.model == "lstm"] == [Task("lstm", (0, 1))]  # one warm chain
    naive = [t for t in plan if t.model == "naive"]
    assert [(t.folds, t.tickers) for t in naive] == [
        ((0,), ("T0", "T1")),
        ((0,), ("T2", "T3")),
        ((0,), ("T4",)),
        ((1,), ("T0", "T1")),
        ((1,), ("T2", "T3")),
        ((1,), ("T4",)),
    ]
    assert len({t.key for t in plan}) == len(plan)
    # the backtest's own plan: OLS reading the cross-section is one global model
    market = BacktestSettings(
        ("ols",), 100, 50, model_settings={"ols": {"features": ("returns", "market")}}
    )
    assert all(t.tickers is None for t in plan_backtest(market, folds, ["T0"] * 60))
    cold = BacktestSettings(("lstm",), 100, 50, warm_start=False, model_settings=TINY_LSTM)
    assert [t.folds for t in plan_backtest(cold, folds, list(prices.columns))] == [(0,), (1,)]


MODELS = ("drift", "sma", "ema", "kalman", "ols", "histvar", "ewma", "garch", "har")


def test_ticker_groups_change_no_forecast(monkeypatch):
    prices = walks(5, days=700)
    settings = dict(models=MODELS, test_days=100, refit_every=50)
    whole = run_backtest(prices, BacktestSettings(**settings))
    monkeypatch.setattr(tasks_module, "GROUP_SIZE", 2)
    grouped = run_backtest(prices, BacktestSettings(**settings))
    pd.testing.assert_frame_equal(whole.all_predictions(), grouped.all_predictions())
    pd.testing.assert_frame_equal(whole.refits, grouped.refits)


def test_the_store_gives_back_exactly_what_it_was_given(tmp_path):
    """Every kept task equals the task run again: forecasts, spreads, importance, records."""
    prices = walks(3)
    settings = BacktestSettings(("lstm", "garch"), 100, 50, model_settings=TINY_LSTM)
    result = run_backtest(prices, settings, work_dir=tmp_path / "w")
    settings, folds = result.settings, result.folds
    store = TaskStore(tmp_path / "w", fingerprint(prices, asdict(settings), folds), resume=True)
    plan = plan_backtest(settings, folds, list(prices.columns))
    assert store.finished() == {t.key for t in plan}
    for task in plan:
        kept, again = store.load(task), _run_task((settings, prices, folds), task)
        assert kept[0] == again[0] == task.model
        pd.testing.assert_frame_equal(pd.DataFrame(kept[1]), pd.DataFrame(again[1]))
        assert isinstance(kept[1][0]["train_start"], pd.Timestamp)
        for k in (2, 3):
            pd.testing.assert_frame_equal(kept[k], again[k], check_freq=False, check_exact=True)
        assert (kept[4] is None) == (again[4] is None)
        for name in again[4] or {}:
            pd.testing.assert_frame_equal(kept[4][name], again[4][name], check_freq=False)
    assert len(store.load(Task("lstm", (0, 1)))[3])  # the LSTM's permutation losses


def test_a_work_directory_is_never_thrown_away_or_mixed(tmp_path):
    prices = walks(3)
    settings = dict(models=("drift",), test_days=100, refit_every=50)
    work = tmp_path / "out.work"
    run_backtest(prices, BacktestSettings(**settings), work_dir=work)
    finished = sorted(p.name for p in work.iterdir())
    with pytest.raises(DataError, match="add --resume to continue it"):
        run_backtest(prices, BacktestSettings(**settings), work_dir=work)
    other = dict(settings, refit_every=25)
    with pytest.raises(DataError, match="other data or settings"):
        run_backtest(prices, BacktestSettings(**other), work_dir=work, resume=True)
    with pytest.raises(DataError, match="other data or settings"):
        run_backtest(prices * 1.01, BacktestSettings(**settings), work_dir=work, resume=True)
    # --prior-tries changes the summary, not a task: the run resumes across it
    summary_only = dict(settings, prior_tries=5)
    run_backtest(prices, BacktestSettings(**summary_only), work_dir=work, resume=True)
    assert sorted(p.name for p in work.iterdir()) == finished  # untouched
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(DataError, match="not a backtest work directory"):
        run_backtest(prices, BacktestSettings(**settings), work_dir=mine)
    assert (mine / "notes.txt").read_text() == "keep"


def test_resumed_tasks_are_not_run_again(tmp_path, monkeypatch):
    prices = walks(3)
    settings = dict(models=("drift", "sma"), test_days=100, refit_every=50)
    work = tmp_path / "w"
    first = run_backtest(prices, BacktestSettings(**settings), work_dir=work)
    ran = []

    class Counting(LocalExecutor):
        def run(self, fn, shared, tasks):
            ran.extend(tasks)
            return super().run(fn, shared, tasks)

    again = run_backtest(
        prices, BacktestSettings(**settings), executor=Counting(), work_dir=work, resume=True
    )
    assert ran == []
    pd.testing.assert_frame_equal(first.predictions, again.predictions)
    pd.testing.assert_frame_equal(first.refits, again.refits)


def test_executor_names_are_checked():
    with pytest.raises(ValueError, match="--executor must be one of local, ray"):
        make_executor("dask")


def test_work_dir_sits_beside_out(tmp_path):
    assert work_dir_for(tmp_path / "demo") == tmp_path / "demo.work"


@pytest.mark.slow
def test_a_killed_backtest_resumes_to_the_same_result(tmp_path):
    """Kill a CLI backtest once some tasks are kept; --resume ends where an uninterrupted
    run ends, file for file."""
    prices = walks(4, days=900)
    csv = tmp_path / "prices.csv"
    prices.rename_axis("date").to_csv(csv)
    args = [
        "backtest",
        "--data",
        str(csv),
        "--models",
        "drift,sma,kalman,lstm",
        "--test-days",
        "200",
        "--refit-every",
        "40",
        "--lookback",
        "10",
        "--hidden-size",
        "8",
        "--epochs",
        "10",
        "--cost-bps",
        "5",
    ]
    command = [sys.executable, "-m", "lstm_forecast", *args]
    env = {**os.environ, "COLUMNS": "200"}
    whole = tmp_path / "whole"
    done = subprocess.run([*command, "--out", str(whole)], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    out = tmp_path / "out"
    work = work_dir_for(out)
    killed = subprocess.Popen([*command, "--out", str(out)], env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (work.exists() and len(list(work.glob("sma.*"))) > 2):
        time.sleep(0.05)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    kept = [p.name for p in work.iterdir() if p.is_dir()]
    assert kept and not any(p.name.startswith("lstm") for p in work.iterdir())
    assert not out.exists()
    refused = subprocess.run([*command, "--out", str(out)], env=env, capture_output=True)
    assert refused.returncode == 2 and b"--resume" in refused.stderr + refused.stdout
    resumed = subprocess.run(
        [*command, "--out", str(out), "--resume"], env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    # off a terminal, one line per model as its last task finishes (kept tasks count)
    assert "drift: done" in resumed.stdout and "lstm: done" in resumed.stdout
    assert not work.exists()  # removed once the outputs were written
    for name in ("predictions.csv", "metrics.csv"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
