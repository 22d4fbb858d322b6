"""The benchmark scripts that the test suite does not run at scale still run, at a small one."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_ensemble_distribution_benchmark_runs_and_prints_its_table(capsys):
    bench = _module("ensemble_distribution")
    quick = {"test_days": 60, "refit_every": 30, "lstm": {"lookback": 10, "hidden_size": 4,
             "steps": 40, "eval_every": 20}}  # fmt: skip
    done = [bench.one_run("garch_t-0", "t", k, days=600, quick=quick) for k in (1, 2)]
    for scores, rows in done:
        assert len(rows) == 60 and np.isfinite(rows["log_score"]).all()
        assert 0 < scores["qlike_true"] < 10 and 0 <= scores["cov90"] <= 1
    table = pd.DataFrame([scores for scores, _ in done]).assign(p_dm=[np.nan, 0.5])
    bench.print_table(table)
    printed = capsys.readouterr().out
    assert printed.count("| garch_t-0 | t |") == 2 and "| 0.500 |" in printed


def test_the_ensemble_mixture_benchmark_runs_and_prints_its_table(capsys):
    bench = _module("ensemble_mixture")
    quick = {"lookback": 10, "hidden_size": 4, "steps": 40, "eval_every": 20}
    rows = [
        bench.one_fit("garch_t-0", head, 2, days=700, quick=quick) for head in ("t", "variance")
    ]
    for row in rows:
        assert row["days"] == 500 and np.isfinite([row["matched"], row["mixture"]]).all()
        # the log of a mean of densities is at least the mean of their logs (Jensen)
        assert row["mixture"] <= row["members"] + 1e-12
    bench.print_table(rows)
    printed = capsys.readouterr().out
    assert printed.count("| garch_t-0 |") == 2
