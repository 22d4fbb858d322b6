"""Executors: the same result from this process, worker processes and a Ray cluster.

The Ray test starts one local two-CPU instance (about 6 s and 1 GB here), so it is one test;
it is skipped where Ray is not installed, except in CI, which installs the ``ray`` extra and
sets LSTM_FORECAST_REQUIRE_RAY=1 so that a missing Ray fails rather than skips.
"""

import os
import sys

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.evaluation import tasks as tasks_module
from lstm_forecast.evaluation.backtest import BacktestSettings, run_backtest
from lstm_forecast.evaluation.executors import RAY_INSTALL, LocalExecutor, make_executor
from tests.test_cli_models import invoke, text

SETTINGS = dict(
    models=("ols", "kalman", "lstm"),
    test_days=100,
    refit_every=50,
    model_settings={"lstm": dict(lookback=10, hidden_size=4, epochs=2)},
)


def walks(n_tickers=4, days=500, seed=1):
    rng = np.random.default_rng(seed)
    values = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (days, n_tickers)), axis=0))
    index = pd.bdate_range("2012-01-02", periods=days)
    return pd.DataFrame(values, index, [f"S{i}" for i in range(n_tickers)])


def _same(a, b):
    pd.testing.assert_frame_equal(a.predictions, b.predictions, check_exact=True)
    pd.testing.assert_frame_equal(a.refits, b.refits)
    pd.testing.assert_frame_equal(a.importance, b.importance, check_exact=True)


def test_worker_processes_and_this_process_agree(monkeypatch):
    monkeypatch.setattr(tasks_module, "GROUP_SIZE", 3)  # two ticker groups per baseline fold
    prices = walks()
    one = run_backtest(prices, BacktestSettings(**SETTINGS))
    two = run_backtest(prices, BacktestSettings(**SETTINGS), executor=LocalExecutor(2))
    _same(one, two)


def test_without_ray_the_ray_executor_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(RuntimeError, match=r"pip install 'lstm-forecast\[ray\]'"):
        make_executor("ray")
    result = invoke(["backtest", "--models", "drift", "--executor", "ray"])
    assert result.exit_code == 2 and "lstm-forecast[ray]" in text(result)
    assert RAY_INSTALL.startswith("--executor ray needs Ray")


def test_executor_flags_are_checked():
    result = invoke(["backtest", "--models", "drift", "--executor", "spark"])
    assert result.exit_code == 2 and "--executor must be local or ray" in text(result)
    result = invoke(["backtest", "--models", "drift", "--ray-address", "auto"])
    assert result.exit_code == 2 and "--ray-address needs --executor ray" in text(result)
    result = invoke(["backtest", "--models", "drift", "--resume"])
    assert result.exit_code == 2 and "--resume continues the run" in text(result)


def _ray():
    try:
        import ray
    except ImportError:
        if os.environ.get("LSTM_FORECAST_REQUIRE_RAY"):
            pytest.fail("Ray is required here (LSTM_FORECAST_REQUIRE_RAY) but not installed")
        pytest.skip("Ray is not installed (pip install 'lstm-forecast[ray]')")
    return ray


def test_ray_gives_the_local_result(monkeypatch, tmp_path):
    """Python and CLI: a local two-CPU Ray instance, tasks in ticker groups, tuning trials and
    ensemble members as Ray tasks: the same predictions, refits, importance and files as the
    local executor."""
    ray = _ray()
    monkeypatch.setattr(tasks_module, "GROUP_SIZE", 3)
    prices = walks()
    local = run_backtest(prices, BacktestSettings(**SETTINGS))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        on_ray = run_backtest(prices, BacktestSettings(**SETTINGS), executor=make_executor("ray"))
        _same(local, on_ray)
        csv = tmp_path / "prices.csv"
        prices.rename_axis("date").to_csv(csv)
        args = ["backtest", "--data", str(csv), "--models", "ols,kalman", "--test-days", "100"]
        args += ["--refit-every", "50"]
        for executor in ("local", "ray"):
            result = invoke([*args, "--executor", executor, "--out", str(tmp_path / executor)])
            assert result.exit_code == 0, result.output
        for name in ("predictions.csv", "metrics.csv"):
            assert (tmp_path / "ray" / name).read_bytes() == (
                tmp_path / "local" / name
            ).read_bytes()
        # tuning trials become Ray tasks of their own; the study chooses the same
        tuned = dict(SETTINGS, models=("lstm",))
        tuned["model_settings"] = {"lstm": dict(tune=5, epochs=1, batch_size=128)}
        local = run_backtest(prices, BacktestSettings(**tuned))
        on_ray = run_backtest(prices, BacktestSettings(**tuned), executor=make_executor("ray"))
        _same(local, on_ray)
        assert (on_ray.refits.loc[on_ray.refits["model"] == "lstm", "trials"] == 5).all()
        # so do the members of a seed ensemble
        seeds = dict(SETTINGS, models=("lstm",))
        seeds["model_settings"] = {"lstm": dict(lookback=10, hidden_size=4, epochs=2, ensemble=2)}
        local = run_backtest(prices, BacktestSettings(**seeds))
        on_ray = run_backtest(prices, BacktestSettings(**seeds), executor=make_executor("ray"))
        _same(local, on_ray)
    finally:
        ray.shutdown()


_ORPHAN_SCRIPT = """
import os, sys, time
from lstm_forecast.evaluation.executors import LocalExecutor

def task(folder, k):
    open(os.path.join(folder, f"{os.getpid()}.pid"), "w").close()
    time.sleep(120)
    return k

if __name__ == "__main__":
    for _ in LocalExecutor(jobs=2).run(task, sys.argv[1], [0, 1, 2, 3]):
        pass
"""


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie that nobody has reaped yet."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_end_when_their_parent_is_killed_outright(tmp_path):
    """``kill -9`` of a backtest with ``--jobs 2``: its workers end within seconds instead of
    training on through their tasks (here, two minutes of sleep each)."""
    import signal
    import subprocess
    import time

    script = tmp_path / "parent.py"
    script.write_text(_ORPHAN_SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path)])
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("*.pid"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = [int(p.stem) for p in tmp_path.glob("*.pid")]
        assert len(workers) == 2 and not any(_gone(pid) for pid in workers)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 15
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in workers if not _gone(pid)]
    for pid in left:  # leave no sleeper behind, whatever the outcome
        os.kill(pid, signal.SIGKILL)
    assert not left, f"workers {left} outlived their parent"
