"""The power benchmark keeps each finished run: a stopped run resumes, a saved run is never
replaced, and a table of saved runs needs no training (``benchmarks/power.py --runs``)."""

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "power.py"


@pytest.fixture(scope="module")
def power():
    spec = importlib.util.spec_from_file_location("power_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_saved_run_reads_back_and_is_never_replaced(power, tmp_path):
    runs = power.RunStore(tmp_path / "runs")
    spec = power.run_spec("product", 3, ["lstm", "ols"], {"ensemble": 5})
    assert runs.load(spec) is None
    first = {"oracle_r2": 0.1, "seconds": 12.0, "lstm": [0.08, 0.001], "ols": [0.0, 0.6]}
    runs.save(spec, first)
    runs.save(spec, {**first, "oracle_r2": 0.2})  # a second copy of the same run
    assert runs.load(spec) == first
    (saved,) = (tmp_path / "runs").iterdir()  # one file, no partial left behind
    record = json.loads(saved.read_text())
    assert record["spec"] == spec and record["commit"] and record["date"]
    other = power.run_spec("product", 3, ["lstm", "ols"], {"ensemble": 3})
    assert runs.path(other) != runs.path(spec) and runs.load(other) is None


def test_the_spec_holds_what_decides_the_result(power, monkeypatch):
    assert "lstm" not in power.run_spec("null", 0, ["ols"], {"tune": 5})  # OLS ignores it
    assert "event_rule" not in power.run_spec("ar1", 0, ["lstm"], {})
    before = power.run_spec("event", 0, ["lstm"], {})
    monkeypatch.setitem(power.EVENT_RULE, "jump", 6.0)
    assert power.run_spec("event", 0, ["lstm"], {}) != before


def test_a_spec_with_tuples_reads_back(power, tmp_path):
    """The event rule's lags are a tuple, which the saved JSON holds as a list."""
    runs = power.RunStore(tmp_path)
    spec = power.run_spec("event", 1, ["lstm"], {"tune": 5})
    assert isinstance(spec["event_rule"]["lags"], tuple)
    runs.save(spec, {"oracle_r2": 0.1, "seconds": 900, "lstm": [0.03, 0.2]})
    assert runs.load(spec) == {"oracle_r2": 0.1, "seconds": 900, "lstm": [0.03, 0.2]}


def test_a_tuned_run_is_keyed_by_the_tuners_space(power, tmp_path, monkeypatch):
    assert "tuner" not in power.run_spec("ar1", 0, ["lstm"], {"ensemble": 5})
    runs = power.RunStore(tmp_path)
    spec = power.run_spec("product", 0, ["lstm"], {"tune": 5})
    assert spec["tuner"]["space"]["dropout"] == [0.0, 0.3]  # a range, as JSON reads it back
    runs.save(spec, {"oracle_r2": 0.1, "seconds": 900, "lstm": [0.09, 0.01]})
    assert runs.load(spec) is not None  # the JSON copy equals the spec built in memory
    monkeypatch.setitem(power.SPACE, "head_activation", ["relu"])  # an older space
    older = power.run_spec("product", 0, ["lstm"], {"tune": 5})
    assert runs.path(older) != runs.path(spec) and runs.load(older) is None


def test_every_kept_run_is_where_its_spec_says(power):
    """The runs kept in ``benchmarks/runs``: each file named by its spec, every tuned one
    with the tuner's space it was measured with."""
    kept = sorted((PATH.parent / "runs").glob("*/*.json"))
    assert kept
    for path in kept:
        record = json.loads(path.read_text())
        assert power.RunStore(path.parent).path(record["spec"]) == path, path
        if record["spec"].get("lstm", {}).get("tune"):
            assert set(record["spec"]["tuner"]["space"]) >= {"lookback", "head_lags"}, path


def test_a_broken_file_is_refused_in_one_line(power, tmp_path):
    runs = power.RunStore(tmp_path)
    spec = power.run_spec("ar1", 0, ["lstm"], {})
    runs.path(spec).write_text("{not json")
    with pytest.raises(SystemExit, match="not a saved run.*move it away"):
        runs.load(spec)
    runs.path(spec).write_text(json.dumps({"spec": {"kind": "other"}, "result": {}}))
    with pytest.raises(SystemExit, match="saved for another run"):
        runs.load(spec)


class NoPool:
    def submit(self, *args):
        raise AssertionError("a saved run was run again")


def test_a_table_of_saved_runs_trains_nothing(power, tmp_path, capsys):
    runs = power.RunStore(tmp_path)
    models, lstm, tuned = ["lstm", "ols"], {}, {"tune": 5}
    for seed, (oracle, lstm_r2, tuned_r2) in enumerate([(0.1, 0.08, 0.09), (0.2, 0.1, 0.2)]):
        runs.save(
            power.run_spec("threshold", seed, models, lstm),
            {"oracle_r2": oracle, "seconds": 40, "lstm": [lstm_r2, 0.01], "ols": [0.0, 0.5]},
        )
        runs.save(
            power.run_spec("threshold", seed, ["lstm"], tuned),
            {"oracle_r2": oracle, "seconds": 900, "lstm": [tuned_r2, 0.2]},
        )
    power.signals_table(
        ["threshold"], range(2), models, lstm, {"lstm tuned": tuned}, NoPool(), runs
    )
    row = next(line for line in capsys.readouterr().out.splitlines() if "| threshold" in line)
    # mean R² over mean oracle: lstm 0.09/0.15, tuned 0.145/0.15; seconds; the per-seed shares
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells == [
        "threshold", "0.150", "60%", "2/2", "0%", "0/2", "97%", "0/2", "40", "900",
        "80% 50%", "90% 100%",
    ]  # fmt: skip


def test_a_run_is_saved_as_soon_as_it_ends_and_read_back_after(power, tmp_path, monkeypatch):
    """A job writes its file itself, so stopping the table later loses no finished run."""
    runs = power.RunStore(tmp_path)
    out = power.one_run("ar1", 0, ["ols"], {}, runs)  # OLS: a real backtest in seconds
    r2, p = out["ols"]
    assert 0.5 < r2 / out["oracle_r2"] < 1.5 and p < 0.05  # OLS finds the AR(1)
    assert len(list(tmp_path.iterdir())) == 1

    def stopped(*args):
        raise KeyboardInterrupt  # stands for a run stopped part way

    monkeypatch.setattr(power, "_backtest", stopped)
    assert power.one_run("ar1", 0, ["ols"], {}, runs) == out  # read back, not run
    with pytest.raises(KeyboardInterrupt):
        power.one_run("ar1", 1, ["ols"], {}, runs)
    assert len(list(tmp_path.iterdir())) == 1  # nothing half-written


def test_the_tuners_choices_are_kept_and_summed_up(power, tmp_path, capsys):
    refits = pd.DataFrame(
        {
            "model": ["lstm", "ols", "lstm"],
            "tuned": ['{"hidden": 64, "lr": 0.001}', "", '{"hidden": 32, "lr": 0.003}'],
        }
    )
    assert power.tuner_choices(refits) == [{"hidden": 64, "lr": 0.001}, {"hidden": 32, "lr": 0.003}]
    assert power.tuner_choices(refits.assign(tuned="")) == []  # an LSTM not tuned
    assert power.tuner_choices(pd.DataFrame()) == []
    lrs = [0.001, 0.002, 0.003, 0.004, 0.010]
    choices = [{"head_activation": a, "lr": lr} for a, lr in zip("rrgrg", lrs, strict=True)]
    assert power.choices_summary(choices) == (
        "head_activation r (3), g (2); lr median 0.003 (0.001 to 0.01)"
    )
    few = [{"dropout": 0.23415875288593663, "layers": 2}, {"dropout": 0.0, "layers": 2}]
    assert power.choices_summary(few) == "dropout 0 (1), 0.234 (1); layers 2 (2)"
    runs, tuned = power.RunStore(tmp_path), {"tune": 5}
    for seed in range(2):
        runs.save(
            power.run_spec("ar1", seed, ["ols"], {}),
            {"oracle_r2": 0.1, "seconds": 4, "ols": [0.09, 0.01]},
        )
        result = {"oracle_r2": 0.1, "seconds": 900, "lstm": [0.09, 0.01]}
        if seed == 1:  # a run saved before the choices were kept has none
            result["lstm_choices"] = choices[:2]
        runs.save(power.run_spec("ar1", seed, ["lstm"], tuned), result)
    power.signals_table(["ar1"], range(2), ["ols"], {}, {"lstm tuned": tuned}, NoPool(), runs)
    out = capsys.readouterr().out
    assert (
        "The tuner's choices, lstm tuned:\n- ar1 (2 refits of 1 seeds): head_activation r (2)"
        in out
    )


@pytest.mark.parametrize("lags", ["5,2", "0,3", "20", "a,b"])
def test_bad_event_lags_are_refused_in_one_line(lags):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(PATH), "--kinds", "event", "--event-lags", lags],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith("give FIRST,LAST with 1 <= FIRST <= LAST")


def test_the_event_lags_are_in_the_spec(power, monkeypatch):
    before = power.run_spec("event", 0, ["lstm"], {})["event_rule"]["lags"]
    monkeypatch.setitem(power.EVENT_RULE, "lags", (1, 21))
    after = power.run_spec("event", 0, ["lstm"], {})["event_rule"]["lags"]
    assert before == (20, 40) and after == (1, 21)


def test_a_changed_default_is_part_of_the_key(power, monkeypatch):
    """Runs kept before min_gain_se's default became 1 were measured with 0, and before the
    mean floor without it: asked for the defaults now, the key says so and they are not read
    back; asked for the old values, they are."""
    from lstm_forecast.models import LSTMForecaster

    old = {"min_gain_se": 0, "mean_floor": False}
    assert power.run_spec("ar1", 0, ["lstm"], {"min_gain_se": 0})["lstm"] == {}  # no floor
    assert LSTMForecaster().settings().keys() <= power.KEPT_DEFAULTS.keys()
    assert power.run_spec("ar1", 0, ["lstm"], {})["lstm"] == {
        "min_gain_se": 1.0,
        "mean_floor": True,
    }
    assert power.run_spec("ar1", 0, ["lstm"], {"mean_floor": False})["lstm"] == {"min_gain_se": 1.0}
    assert power.run_spec("ar1", 0, ["lstm"], old)["lstm"] == {}
    assert power.run_spec("ar1", 0, ["lstm"], {"tune": 5, **old})["lstm"] == {"tune": 5}
    tuned = {"tune": 5, "min_gain_se": 1.0}  # tuned: no warm start, so no floor to key by
    assert power.run_spec("ar1", 0, ["lstm"], {"tune": 5})["lstm"] == tuned
    monkeypatch.setitem(power.KEPT_DEFAULTS, "head_lags", 0)  # as if its default changed
    assert power.run_spec("ar1", 0, ["lstm"], old)["lstm"] == {"head_lags": 10}


def test_the_ceiling_finds_a_linear_rule_whole_and_a_nonlinear_one_not_at_all(power, capsys):
    """``--ceiling``: OLS on 60 lags recovers AR(1) (its rule is linear in r), sees nothing
    of the threshold rule (|r| is uncorrelated with every lag), and a hand fit of the same
    regression on the same rows gives the printed share."""
    import numpy as np

    power.ceiling_table(["ar1", "threshold"], range(4))
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines()]
    shares = {row[0].strip("| "): [float(c.strip("| %")) for c in row[2:]] for row in rows[4:]}
    # 60 lags fitted on 7,880 rows cost about 60/7,880 of R²: 8% of AR(1)'s 0.09, and the
    # threshold rule, of which they see nothing, scores that much below zero
    assert shares["ar1"][0] >= 85 and -12 <= shares["threshold"][0] <= 1
    fit = [power.ceiling_rows("ar1", seed) for seed in (0, 1)]
    test = [power.ceiling_rows("ar1", seed) for seed in (2, 3)]
    x, y = np.vstack([f[0] for f in fit]), np.concatenate([f[1] for f in fit])
    xt, yt, ot = (np.concatenate([t[i] for t in test]) for i in range(3))
    beta, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(x)), x]), y, rcond=None)
    r2 = 1 - ((yt - beta[0] - xt @ beta[1:]) ** 2).sum() / ((yt - y.mean()) ** 2).sum()
    oracle = 1 - ((yt - ot) ** 2).sum() / ((yt - y.mean()) ** 2).sum()
    assert round(100 * r2 / oracle) == shares["ar1"][0]
