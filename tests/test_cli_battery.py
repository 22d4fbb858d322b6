"""Bad input, tried as a user and as an attacker would: one line naming the flag, file or
field and what to do; exit code 2; no traceback; nothing the user had is lost."""

import json
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lstm_forecast.cli import app
from lstm_forecast.reports.rundir import MANIFEST, OutputError, RunDirectory, safe_name

runner = CliRunner()
ENV = {"COLUMNS": "200"}
QUICK = ["--models", "drift", "--test-days", "60", "--refit-every", "30"]


def invoke(args):
    return runner.invoke(app, [str(a) for a in args], env=ENV)


def text(result) -> str:
    return " ".join(result.output.split())


def refused(result, *fragments):
    said = text(result)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    assert said.startswith("error:") or "error:" in said, said
    for fragment in fragments:
        assert fragment in said, said


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "prices.csv"
    days = pd.bdate_range("2016-01-01", periods=400)
    price = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, len(days))))
    pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Close": price}).to_csv(path, index=False)
    return path


# -- flags ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--models", ""], ["--models is empty"]),
        (["--models", "arima"], ["--models: unknown arima"]),
        (["--cost-bps", "-1"], ["--cost-bps"]),
        (["--cost-bps", "nan"], ["--cost-bps"]),
        (["--horizon", "1000", "--test-days", "60"], ["--horizon 1000", "non-overlapping"]),
        (["--models", "lstm", "--device", "gpu"], ["--device", "auto, cpu or cuda"]),
        (["--models", "lstm", "--clip-norm", "-1"], ["--clip-norm"]),
        (["--models", "lstm", "--variant", "lstm9"], ["--variant", "peephole, coupled, gru, rnn"]),
        (["--window", "sliding"], ["--window"]),
        (["--models", "lstm", "--steps", "100", "--epochs", "3"], ["--steps", "--epochs"]),
        (["--models", "lstm", "--schedule", "linear"], ["--schedule", "constant, cosine"]),
        (["--models", "lstm", "--warmup", "1.5"], ["--warmup"]),
        (["--models", "lstm", "--weight-decay", "-1"], ["--weight-decay"]),
        (["--models", "lstm", "--eval-every", "0"], ["--eval-every"]),
        (["--models", "lstm", "--head-activation", "tanh"], ["--head-activation", "relu, gelu"]),
    ],
)
def test_backtest_flags_refused_before_any_work(csv, extra, fragments):
    refused(invoke(["backtest", "--data", csv, *QUICK, *extra]), *fragments)


def test_sheet_flag_picks_the_workbooks_prices(tmp_path):
    path = tmp_path / "book.xlsx"
    days = pd.bdate_range("2020-01-01", periods=30)
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        pd.DataFrame({"about": ["prices from the vendor"]}).to_excel(
            book, sheet_name="notes", index=False
        )
        pd.DataFrame({"date": days, "X": np.linspace(10, 20, 30)}).to_excel(
            book, sheet_name="px", index=False
        )
    refused(invoke(["data", "show", path]), "2 sheets hold data ('notes', 'px'); pass --sheet")
    result = invoke(["data", "show", path, "--sheet", "px"])
    assert result.exit_code == 0 and "20.00" in result.output, result.output


@pytest.mark.parametrize("command", ["backtest", "train", "data show"])
def test_an_empty_data_flag_is_named(command, tmp_path):
    args = [*command.split(), *(["--data", " "] if command != "data show" else [""])]
    said = "the name argument is empty" if command == "data show" else "--data is empty"
    refused(invoke([*args, *(["--out", tmp_path / "m"] if command == "train" else [])]), said)


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--clip-norm", "-1"], ["--clip-norm"]),
        (["--clip-norm", "0"], ["--clip-norm"]),
        (["--resume"], ["--resume needs --checkpoint"]),
        (["--train-end", "notadate"], ["--train-end", "not a date"]),
        (["--train-end", "1990-01-01"], ["--train-end", "before the first date"]),
        (["--device", "gpu"], ["--device"]),
        (["--layers", "100000"], ["--layers"]),
        (["--steps", "0"], ["--steps"]),
        (["--steps", "100", "--epochs", "3"], ["--steps", "--epochs", "not both"]),
    ],
)
def test_train_flags_refused(csv, tmp_path, extra, fragments):
    refused(invoke(["train", "--data", csv, "--out", tmp_path / "m", *extra]), *fragments)
    assert not (tmp_path / "m").exists()


def test_train_checks_its_destination_before_training(csv, tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    refused(invoke(["train", "--data", csv, "--out", tmp_path]), "not empty")
    (tmp_path / "dir").mkdir()
    refused(
        invoke(["train", "--data", csv, "--out", tmp_path / "m", "--checkpoint", tmp_path / "dir"]),
        "is a directory",
    )
    assert (tmp_path / "mine.txt").read_text() == "keep"


def test_every_model_subset_runs(csv):
    for models in ("drift", "naive", "naive,drift", "ols,kalman-trend"):
        result = invoke(["backtest", "--data", csv, *QUICK, "--models", models])
        assert result.exit_code == 0, (models, result.output)
        if models == "naive":
            assert "Only the random walk ran" in text(result)
        else:
            tried = [m for m in models.split(",") if m != "naive"]
            counted = "After its one comparison" if len(tried) == 1 else "After counting all"
            assert counted in text(result) and "Deflated Sharpe" in text(result)


def test_backtest_without_out_says_nothing_was_written(csv):
    result = invoke(["backtest", "--data", csv, *QUICK])
    assert result.exit_code == 0 and "Nothing written: pass --out DIR" in text(result)


def test_model_names_and_tickers_ignore_case(csv, tmp_path):
    result = invoke(["backtest", "--data", "sp500-stocks", "--tickers", "ko", *QUICK[2:]])
    assert result.exit_code == 0, result.output
    assert "Note on sp500-stocks:" in text(result) and "(survivorship bias)" in text(result)
    result = invoke(["backtest", "--data", csv, *QUICK[2:], "--models", "DRIFT"])
    assert result.exit_code == 0, result.output


def test_warnings_print_their_text_not_a_source_line(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "holiday.csv"
    rows = "".join(f"2020-01-{d:02d},{'' if d == 8 else 100 + d}\n" for d in range(1, 29))
    path.write_text("date,A\n" + rows)
    done = subprocess.run(
        [sys.executable, "-m", "lstm_forecast", "data", "show", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert "warning: " in said and "dropped 1 date(s)" in said
    assert "DataWarning" not in said and ".py:" not in said


# -- files of the user's ----------------------------------------------------------------------
def test_backtest_never_overwrites_a_users_files(csv, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.csv").write_text("mine")
    (out / "report.html").write_text("mine too")
    refused(invoke(["backtest", "--data", csv, *QUICK, "--out", out]), "no lstm-forecast")
    assert (out / "metrics.csv").read_text() == "mine"


def test_backtest_never_writes_through_a_symlink(csv, tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside.csv"
    outside.write_text("precious")
    assert invoke(["backtest", "--data", csv, *QUICK, "--out", out]).exit_code == 0
    (out / "predictions.csv").unlink()
    (out / "predictions.csv").symlink_to(outside)
    refused(invoke(["backtest", "--data", csv, *QUICK, "--out", out]), "predictions.csv")
    assert outside.read_text() == "precious"
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    refused(invoke(["backtest", "--data", csv, *QUICK, "--out", link]), "symbolic link")


def test_an_edited_output_or_a_forecast_named_file_is_not_ours(csv, tmp_path):
    out = tmp_path / "out"
    assert invoke(["backtest", "--data", csv, *QUICK, "--out", out]).exit_code == 0
    (out / "forecast_mine.png").write_bytes(b"not ours")
    refused(invoke(["backtest", "--data", csv, *QUICK, "--out", out]), "forecast_mine.png")
    (out / "forecast_mine.png").unlink()
    (out / "report.html").write_text("my notes")
    refused(invoke(["backtest", "--data", csv, *QUICK, "--out", out]), "was changed")
    assert (out / "report.html").read_text() == "my notes"


def test_a_rerun_replaces_the_whole_run_no_stale_files(tmp_path):
    out = tmp_path / "out"
    with RunDirectory(out) as run:
        run.write("forecast_JNJ.png", b"an earlier run's figure")
        run.write("report.html", "old")
        run.commit()
    one = ["backtest", "--data", "sp500-stocks", "--tickers", "KO", *QUICK]
    assert invoke([*one, "--out", out]).exit_code == 0
    assert not (out / "forecast_JNJ.png").exists()
    manifest = json.loads((out / MANIFEST).read_text())
    assert set(manifest["files"]) | {MANIFEST} == {p.name for p in out.iterdir()}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_a_run_killed_while_writing_leaves_the_old_run(tmp_path):
    out = tmp_path / "out"
    with RunDirectory(out) as run:
        run.write("predictions.csv", "old")
        run.commit()
    with pytest.raises(KeyboardInterrupt), RunDirectory(out) as run:
        run.write("predictions.csv", "new, trunc")
        raise KeyboardInterrupt  # killed before the swap
    assert (out / "predictions.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_run_killed_between_the_renames_is_recovered(tmp_path):
    out = tmp_path / "out"
    with RunDirectory(out) as run:
        run.write("a.csv", "old")
        run.commit()
    aside = tmp_path / ".out.old-x"
    aside.mkdir()
    os.replace(out, aside / "run")  # as if killed right after the first rename
    with RunDirectory(out) as run:
        assert (out / "a.csv").read_text() == "old"
        run.write("a.csv", "new")
        run.commit()
    assert (out / "a.csv").read_text() == "new" and not aside.exists()


def test_two_runs_into_one_directory_the_second_is_refused(tmp_path):
    out, seen = tmp_path / "out", []
    with RunDirectory(out):

        def second():
            try:
                with RunDirectory(out):
                    seen.append("entered")
            except OutputError as exc:
                seen.append(str(exc))

        worker = threading.Thread(target=second)
        worker.start()
        worker.join()
    assert "another lstm-forecast run is writing there" in seen[0]


def test_unwritable_places_are_one_clear_error(csv, tmp_path):
    refused(invoke(["backtest", "--data", csv, *QUICK, "--out", "/proc/lstm-forecast"]), "/proc")
    if os.geteuid() != 0:  # root writes anywhere; the check needs an ordinary user
        locked = tmp_path / "ro"
        locked.mkdir(mode=0o555)
        refused(invoke(["backtest", "--data", csv, *QUICK, "--out", locked / "o"]), "writable")
    afile = tmp_path / "file"
    afile.write_text("x")
    refused(invoke(["backtest", "--data", csv, *QUICK, "--out", afile]), "not a directory")
    refused(invoke(["backtest", "--data", csv, *QUICK, "--out", afile / "o"]), "not a directory")
    assert afile.read_text() == "x"


@pytest.mark.parametrize("ticker", ["BRK/B", "../../tmp/x", "a b", "..", "é"])
def test_file_names_are_safe_from_any_ticker(ticker):
    name = safe_name(ticker)
    assert name and "/" not in name and name not in (".", "..")
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    assert safe_name("BRK/B", {"BRK_B"}) != "BRK_B"


def test_a_slash_ticker_backtest_writes_its_report(csv, tmp_path):
    out = tmp_path / "o"
    result = invoke(["backtest", "--data", csv, "--ticker", "BRK/B", *QUICK, "--out", out])
    assert result.exit_code == 0, result.output
    assert "BRK/B" in (out / "report.html").read_text()
    assert "BRK/B" in (out / "predictions.csv").read_text()


def test_brackets_in_a_ticker_or_a_path_are_printed_as_they_are(csv, tmp_path):
    """Rich would read '[b]' and '[x]' as style tags and drop them from the tables and lines."""
    out = tmp_path / "run[x]"
    result = invoke(["backtest", "--data", csv, "--ticker", "BRK[b]", *QUICK, "--out", out])
    assert result.exit_code == 0, result.output
    said = text(result)
    assert "BRK[b]:" in said and "on BRK[b]" in said and f"to {out}" in said


# -- one run, repeatable ----------------------------------------------------------------------
def test_config_file_and_resolved_settings(csv, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('models = "drift,ols"\ntest-days = 60\nrefit_every = 30\ncost-bps = 2.5\n')
    out = tmp_path / "o"
    result = invoke(
        ["backtest", "--data", csv, "--config", config, "--cost-bps", "1", "--out", out]
    )
    assert result.exit_code == 0, result.output
    command = json.loads((out / "metrics.json").read_text())["command"]
    assert command["models"] == "drift,ols" and command["test_days"] == 60
    assert command["cost_bps"] == 1.0  # the flag wins over the file
    assert command["hidden_size"] == 32 and command["data"] == str(csv)
    config.write_text('models = ["drift", "ols"]\ntest-days = 60\nrefit-every = 30\n')
    result = invoke(["backtest", "--data", csv, "--config", config, "--out", tmp_path / "l"])
    assert result.exit_code == 0, result.output  # a TOML array of names reads as the list
    command = json.loads((tmp_path / "l" / "metrics.json").read_text())["command"]
    assert command["models"] == "drift,ols"
    for bad_list in ('models = ["drift", 3]', "test-days = [60]"):
        config.write_text(bad_list + "\n")
        bad = invoke(["backtest", "--config", config])
        assert bad.exit_code == 2 and "must be a" in text(bad) and "Traceback" not in bad.output
    config.write_text("hiden-size = 3\n")
    bad = invoke(["backtest", "--config", config])
    assert bad.exit_code == 2 and "unknown option 'hiden-size'" in text(bad)
    assert "(did you mean 'hidden-size'?)" in text(bad)
    config.write_text("[lstm]\nhidden-size = 3\n")  # options are top-level keys
    bad = invoke(["backtest", "--config", config])
    assert bad.exit_code == 2 and "[lstm] is a table" in text(bad) and "hidden-size" in text(bad)
    # a flag's alias is a key too, as on the command line (--lstm-hidden is --hidden-size)
    config.write_text('lstm-hidden = 7\nmodels = "drift"\ntest-days = 60\nrefit-every = 30\n')
    alias = invoke(["backtest", "--data", csv, "--config", config, "--out", tmp_path / "a"])
    assert alias.exit_code == 0, alias.output
    saved = (tmp_path / "a" / "run.toml").read_text()
    assert "hidden-size = 7" in saved and "lstm-hidden" not in saved


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["backtest", "--test-days", "zero"], "'--test-days'"),
        (["backtest", "--no-such-flag"], "--no-such-flag"),
        (["demo", "memory", "--train", "--seed", "-1"], "'--seed'"),
    ],
)
def test_usage_errors_are_one_line_too(args, fragment):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "lstm_forecast", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    said = (done.stdout + done.stderr).strip()
    assert done.returncode == 2 and said.startswith("error:") and fragment in said, said
    assert len(said.splitlines()) == 1 and "Traceback" not in said


def test_backtest_takes_every_lstm_setting_train_has():
    import re

    def flags(command):
        return set(re.findall(r"--[a-z][a-z-]+", text(invoke([command, "--help"]))))

    lstm = {
        "--lookback",
        "--hidden-size",
        "--layers",
        "--variant",
        "--dropout",
        "--epochs",
        "--batch-size",
        "--learning-rate",
        "--patience",
        "--clip-norm",
        "--seed",
        "--device",
        "--path",
        "--threads",
        "--date-format",
        "--decimal",
        "--ticker",
    }
    assert lstm <= flags("backtest") and lstm <= flags("train")


def test_a_full_disk_while_writing_outputs_keeps_the_old_run(tmp_path, monkeypatch):
    from pathlib import Path

    out = tmp_path / "out"
    with RunDirectory(out) as run:
        run.write("report.html", "old")
        run.commit()
    real = Path.write_bytes

    def full(self, data):
        if self.name == "metrics.csv":
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    with (
        pytest.raises(OutputError, match="writing metrics.csv failed.*No space left"),
        RunDirectory(out) as run,
    ):
        run.write("report.html", "new")
        run.write("metrics.csv", "new")
        run.commit()
    assert (out / "report.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_one_name_for_one_series_across_files(csv, tmp_path):
    """A model trained on msft.csv predicts from msft_2024.csv when told the name."""
    train_file, later = tmp_path / "msft.csv", tmp_path / "msft_2024.csv"
    train_file.write_text(csv.read_text())
    later.write_text(csv.read_text())
    model = tmp_path / "m"
    fast = ["--epochs", "1", "--lookback", "10", "--hidden-size", "4"]
    assert invoke(["train", "--data", train_file, "--out", model, *fast]).exit_code == 0
    hint = "absent from the data (it has msft_2024); if that series is msft, pass --ticker msft"
    refused(invoke(["predict", "--model", model, "--data", later]), hint)
    refused(invoke(["explain", "--model", model, "--data", later, "--out", tmp_path / "x"]), hint)
    assert not (tmp_path / "x").exists()
    result = invoke(["predict", "--model", model, "--data", later, "--ticker", "msft"])
    assert result.exit_code == 0, result.output
    inside = tmp_path / "inside"
    explain = invoke(
        [
            "explain",
            "--model",
            model,
            "--data",
            later,
            "--ticker",
            "msft",
            "--days",
            50,
            "--out",
            inside,
        ]
    )
    assert explain.exit_code == 0, explain.output
    assert "--days 50 is more than the model's lookback (10)" in text(explain)


def test_train_and_backtest_tune(tmp_path):
    data = tmp_path / "sim.csv"
    from lstm_forecast.data.simulate import simulate

    simulate("threshold", 700, seed=2)[0].to_csv(data)
    quick = ["--epochs", "1", "--batch-size", "128", "--seed", "1"]
    result = invoke(["train", "--data", data, "--out", tmp_path / "m", "--tune", "2", *quick])
    assert result.exit_code == 0, result.output
    assert "Tuned with 2 trials" in text(result)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert len(config["tuning"]["trials"]) == 2
    out = tmp_path / "bt"
    args = ["backtest", "--data", data, "--models", "lstm", "--test-days", "60"]
    result = invoke([*args, "--refit-every", "60", "--lstm-tune", "2", *quick, "--out", out])
    assert result.exit_code == 0, result.output
    refits = json.loads((out / "metrics.json").read_text())["refits"]
    lstm = [r for r in refits if r["model"] == "lstm"]
    assert lstm and all(r["trials"] == 2 and r["tuned"] for r in lstm)
    assert "settings chosen on validation folds" in (out / "report.html").read_text()


def test_train_and_backtest_ensemble(csv, tmp_path):
    quick = ["--epochs", "1", "--lookback", "10", "--hidden-size", "4", "--ensemble", "3"]
    result = invoke(["train", "--data", csv, "--out", tmp_path / "m", *quick])
    assert result.exit_code == 0, result.output
    members = json.loads((tmp_path / "m" / "config.json").read_text())["members"]
    assert len(members) == 3
    shown = text(result)  # every member's validation loss, and which history is shown
    assert "Ensemble of 3 members" in shown and "the best of 3 on validation" in shown
    assert all(f"{m['best_val_loss']:.4f}" in shown for m in members)
    out = tmp_path / "bt"
    args = ["backtest", "--data", csv, "--models", "lstm", "--test-days", "60", *quick]
    result = invoke([*args, "--refit-every", "30", "--out", out])
    assert result.exit_code == 0, result.output
    refits = json.loads((out / "metrics.json").read_text())["refits"]
    assert all(len(json.loads(r["member_val_losses"])) == 3 for r in refits if r["model"] == "lstm")
    refused(invoke([*args, "--variant", "gru"]), "--ensemble runs the standard LSTM only")


def test_features_reach_the_lstm_and_ols_and_the_model_file(tmp_path):
    args = ["--data", "sp500-stocks", "--tickers", "KO,PG", "--epochs", "1", "--lookback", "5"]
    result = invoke(
        ["backtest", *args, "--models", "ols,lstm", "--test-days", "60", "--refit-every", "30",
         "--features", "returns,market,calendar", "--out", tmp_path / "bt"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    settings = json.loads((tmp_path / "bt" / "metrics.json").read_text())["settings"]
    assert settings["model_settings"]["ols"]["features"] == "returns,market,calendar"
    result = invoke(["train", *args, "--features", "calendar,returns", "--out", tmp_path / "m"])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["settings"]["features"] == ["returns", "calendar"]
    result = invoke(["predict", "--model", tmp_path / "m", "--data", "sp500-stocks"])
    assert result.exit_code == 0, result.output
    check = ["predict", "--model", tmp_path / "m", "--data", "sp500-stocks", "--features"]
    assert invoke([*check, "returns,calendar"]).exit_code == 0
    result = invoke([*check, "returns"])
    assert result.exit_code == 2 and "the model reads returns,calendar" in text(result)
    for bad, fragment in (("volume", "unknown feature group 'volume'"), ("market", "two tickers")):
        result = invoke(["backtest", "--data", "sp500", "--models", "ols", "--features", bad])
        assert result.exit_code == 2 and fragment in text(result), result.output


def test_explain_never_writes_over_a_users_files(csv, tmp_path):
    model, out = tmp_path / "m", tmp_path / "mine"
    fast = ["--epochs", "1", "--lookback", "10", "--hidden-size", "4"]
    assert invoke(["train", "--data", csv, "--out", model, *fast]).exit_code == 0
    out.mkdir()
    (out / "gates.png").write_text("my own plot")
    explain = ["explain", "--model", model, "--data", csv, "--out", out]
    refused(invoke(explain), f"{out}: holds files that no lstm-forecast explain wrote")
    assert [p.name for p in out.iterdir()] == ["gates.png"]
    assert (out / "gates.png").read_text() == "my own plot"
    (out / "gates.png").unlink()
    for _ in range(2):  # its own plots it replaces, as a rerun should
        result = invoke(explain)
        assert result.exit_code == 0, result.output
    assert {"gates.png", "cells.png", "forecast.png"} <= {p.name for p in out.iterdir()}


@pytest.mark.parametrize("batched", [[], ["--ensemble-batched"]])
def test_explain_opens_one_member_of_an_ensemble(csv, tmp_path, batched):
    model = tmp_path / "m"
    fast = ["--epochs", "1", "--lookback", "10", "--hidden-size", "4", "--ensemble", "2"]
    assert invoke(["train", "--data", csv, "--out", model, *fast, *batched]).exit_code == 0
    result = invoke(["explain", "--model", model, "--data", csv, "--out", tmp_path / "x"])
    refused(result, "this model averages 2 (--ensemble 2): pass --member K (0 to 1)")
    assert not (tmp_path / "x").exists()
    member = ["explain", "--model", model, "--data", csv, "--out", tmp_path / "x", "--member"]
    refused(invoke([*member, "2"]), "member 2: this ensemble has members 0 to 1 (--member)")
    assert not (tmp_path / "x").exists()
    result = invoke([*member, "1"])
    assert result.exit_code == 0, result.output
    assert "Member 1 of the ensemble in" in text(result) and "What each input is worth" in text(
        result
    )
    assert {"gates.png", "cells.png", "forecast.png"} <= {
        p.name for p in (tmp_path / "x").iterdir()
    }
    single = tmp_path / "one"
    assert invoke(["train", "--data", csv, "--out", single, *fast[:-2]]).exit_code == 0
    result = invoke(["explain", "--model", single, "--data", csv, "--out", tmp_path / "y",
                     "--member", "0"])  # fmt: skip
    refused(result, f"--member 0: the model in {single} is one LSTM, not an ensemble")


def test_covariates_from_a_file_reach_the_models(tmp_path):
    dates = pd.bdate_range("1998-12-01", "2019-01-31")
    series = np.random.default_rng(0).normal(0, 1, len(dates))
    path = tmp_path / "macro.csv"
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sentiment": series}).to_csv(
        path, index=False
    )
    args = ["--data", "sp500", "--covariates", path, "--covariate-lag", "1"]
    result = invoke(
        ["backtest", *args, "--models", "ols", "--test-days", "60", "--refit-every", "30",
         "--features", "returns,covariates,ohlc"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lstm = ["--epochs", "1", "--lookback", "5", "--features", "returns,covariates"]
    result = invoke(["train", *args, *lstm, "--out", tmp_path / "m"])
    assert result.exit_code == 0, result.output
    result = invoke(["predict", "--model", tmp_path / "m", *args])
    assert result.exit_code == 0, result.output
    result = invoke(["explain", "--model", tmp_path / "m", *args, "--out", tmp_path / "ex"])
    assert result.exit_code == 0 and "What each input is worth" in text(result), result.output
    assert "covariates" in result.output
    result = invoke(["predict", "--model", tmp_path / "m", "--data", "sp500"])
    assert result.exit_code == 2 and "pass --covariates FILE" in text(result), result.output
    # a file that no model reads is refused, not silently left out, and nothing is written
    plain = ["--epochs", "1", "--lookback", "5"]
    result = invoke(["train", *args, *plain, "--out", tmp_path / "plain"])
    assert result.exit_code == 2 and "no model reads it; add covariates" in text(result)
    assert not (tmp_path / "plain").exists()
    bt = ["backtest", *args, "--test-days", "60", "--out", tmp_path / "bt"]
    for models in ("ols", "lstm,naive"):
        result = invoke([*bt, "--models", models, *plain])
        assert result.exit_code == 2 and "no model reads it" in text(result), result.output
    result = invoke(["backtest", "--models", "ols", "--features", "returns,covariates"])
    assert result.exit_code == 2 and "--features names covariates: pass" in text(result)
    assert invoke(["train", "--data", "sp500", *plain, "--out", tmp_path / "p"]).exit_code == 0
    for extra in ([], ["--out", tmp_path / "x"]):  # predict, explain
        command = "explain" if extra else "predict"
        result = invoke([command, "--model", tmp_path / "p", *args, *extra])
        assert result.exit_code == 2 and "reads no covariates" in text(result), result.output
    assert not (tmp_path / "bt").exists() and not (tmp_path / "x").exists()
    result = invoke(["predict", "--model", tmp_path / "m", "--covariate-sheet", "macro"])
    assert result.exit_code == 2 and "--covariate-sheet names a sheet of the" in text(result)
    path.write_text("date,sentiment\n2001-01-02,high\n")
    result = invoke(["backtest", *args, "--models", "ols", "--features", "returns,covariates"])
    assert result.exit_code == 2 and "'sentiment', line 2: 'high': not a number" in text(result)


def test_run_toml_repeats_the_run(tmp_path, monkeypatch):
    """Each backtest writes run.toml, its options as --config reads them: run again with it,
    from where the first ran, it gives the same forecasts; where and how it was written (out,
    config, resume) is not in it."""
    import tomllib

    monkeypatch.chdir(tmp_path)
    days = pd.bdate_range("1998-12-01", "2019-01-31")
    series = np.random.default_rng(0).normal(0, 1, len(days))
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "s": series}).to_csv("macro.csv", index=False)
    first = ["backtest", "--data", "sp500", "--covariates", "macro.csv", "--covariate-lag", "2",
             "--features", "returns,covariates", "--models", "ols,drift,lstm", "--epochs", "1",
             "--lookback", "10", "--hidden-size", "4", "--test-days", "60", "--refit-every",
             "30", "--prior-tries", "3", "--out", "one"]  # fmt: skip
    result = invoke(first)
    assert result.exit_code == 0, result.output
    assert "run.toml" in text(result).split("Wrote ")[1]
    options = tomllib.loads((tmp_path / "one" / "run.toml").read_text())
    assert options["covariate-lag"] == 2 and options["hidden-size"] == 4
    assert options["prior-tries"] == 3 and options["features"] == "returns,covariates"
    assert not {"out", "config", "resume"} & set(options)
    again = invoke(["backtest", "--config", "one/run.toml", "--out", "two"])
    assert again.exit_code == 0, again.output
    one = (tmp_path / "one" / "predictions.csv").read_text()
    assert one == (tmp_path / "two" / "predictions.csv").read_text()
    document = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert document["command"]["covariate_lag"] == 2
    assert document["read_as"].startswith("one ticker's series: the close from column 'Adj")
    report = (tmp_path / "two" / "report.html").read_text()
    assert "Read as one ticker&#x27;s series: the close from column &#x27;Adj Close" in report


def test_relative_target_reports_the_cross_section(tmp_path):
    args = ["backtest", "--data", "sp500-stocks", "--tickers", "KO,PG,XOM,AAPL", "--models"]
    result = invoke(
        [*args, "ols,drift", "--test-days", "60", "--refit-every", "30", "--target", "relative",
         "--out", tmp_path / "rel"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "does each model rank the tickers" in text(result)
    assert "After Holm's adjustment for the 2 models' IC tests" in text(result)
    # the closing line names every file written: the report, the tables, the figures
    wrote = text(result).split("Wrote ")[1].split(" to ")[0]
    names = [n.strip() for n in wrote.replace(" and ", ", ").split(",")]
    figures = len(list((tmp_path / "rel").glob("*.png")))
    assert names[0] == "report.html" and names[-1] == f"{figures} figures (PNG)"
    assert all((tmp_path / "rel" / n).is_file() for n in names[:-1]), names
    assert {n for n in names[:-1]} >= {"predictions.csv", "metrics.csv", "metrics.json"}
    document = json.loads((tmp_path / "rel" / "metrics.json").read_text())
    assert {row["model"] for row in document["cross_section"]} == {"ols", "drift"}
    assert all(row["ic_p_holm"] >= row["ic_p"] for row in document["cross_section"])
    assert document["settings"]["target"] == "relative"
    assert 'id="cross_section"' in (tmp_path / "rel" / "report.html").read_text()
    for bad, fragment in (
        (["--data", "sp500"], "--target relative needs a panel of at least 3 tickers"),
        (
            ["--data", "sp500", "--target", "excess"],
            "--target must be return, relative or volatility",
        ),
    ):
        extra = ["--target", "relative"] if "--target" not in bad else []
        result = invoke(["backtest", *bad, *extra, "--models", "ols"])
        assert result.exit_code == 2 and fragment in text(result), result.output


@pytest.mark.filterwarnings("ignore:.*closes that do not change")  # flat on purpose
def test_data_show_says_which_bars_it_found(tmp_path):
    days = pd.bdate_range("2020-01-01", periods=30).strftime("%Y-%m-%d")
    bars = "".join(f"{d},10,11,9,10.5,100\n" for d in days)
    path = tmp_path / "x.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n" + bars)
    said = text(invoke(["data", "show", path]))
    assert "Daily bars beside the closes: open, high, low, volume (--features ohlc reads" in said
    assert "Read as one ticker's series: the close from column 'Close', bars: open from" in said
    assert "dates from column 'Date', read as ISO 8601 (year first); comma-separated" in said
    path.write_text("Date,Close\n" + "".join(f"{d},10\n" for d in days))
    assert "Daily bars" not in text(invoke(["data", "show", path]))


def test_a_model_trained_on_bars_asks_for_bars_not_to_drop_them(tmp_path):
    # the bars feature cannot be left out of a saved model: predict and explain ask for data
    days = pd.bdate_range("2016-01-01", periods=300)
    close = 100 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, len(days))))
    dates = days.strftime("%Y-%m-%d")
    bars = pd.DataFrame({"Date": dates, "Open": close, "High": close * 1.01, "Low": close * 0.99,
                         "Close": close, "Volume": 1000 + np.arange(len(days)) % 7})  # fmt: skip
    with_bars, closes = tmp_path / "x.csv", tmp_path / "closes" / "x.csv"
    closes.parent.mkdir()
    bars.to_csv(with_bars, index=False)
    bars[["Date", "Close"]].to_csv(closes, index=False)
    model = tmp_path / "m"
    fast = ["--epochs", "1", "--lookback", "10", "--hidden-size", "4", "--features", "ohlc"]
    assert invoke(["train", "--data", with_bars, "--out", model, *fast]).exit_code == 0
    assert invoke(["predict", "--model", model, "--data", with_bars]).exit_code == 0
    for extra in ([], ["--out", tmp_path / "ex"]):  # predict, explain
        command = "explain" if extra else "predict"
        result = invoke([command, "--model", model, "--data", closes, *extra])
        refused(result, f"the model in {model} reads daily bars (--features ohlc, its", "for x:")
        assert "Leave 'ohlc' out" not in text(result)
    assert not (tmp_path / "ex").exists()


def test_predict_from_inside_the_training_data_says_it_is_no_forecast(csv, tmp_path):
    model = tmp_path / "m"
    fast = ["--epochs", "1", "--lookback", "10", "--hidden-size", "4"]
    assert invoke(["train", "--data", csv, "--out", model, *fast]).exit_code == 0
    frame = pd.read_csv(csv)
    early = tmp_path / "early" / csv.name
    early.parent.mkdir()
    frame.iloc[:300].to_csv(early, index=False)
    result = invoke(["predict", "--model", model, "--data", early])
    assert result.exit_code == 0, result.output
    said = text(result)
    assert f"warning: --data ends on {frame['Date'].iloc[299]}, before the end of the" in said
    assert "in-sample fits, not forecasts" in said
    assert "in-sample" not in text(invoke(["predict", "--model", model, "--data", csv]))
    late = invoke(["train", "--data", csv, "--out", tmp_path / "late", *fast,
                   "--train-end", "2030-01-01"])  # fmt: skip
    assert late.exit_code == 0, late.output
    assert (
        f"--train-end 2030-01-01 is after the last date of --data ({frame['Date'].iloc[-1]})"
        in (text(late))
    )
    assert "after the last date" not in text(
        invoke(["train", "--data", csv, "--out", tmp_path / "early_end", *fast, "--train-end",
                frame["Date"].iloc[300]])
    )  # fmt: skip


def test_data_show_shows_covariates_as_the_models_read_them(tmp_path):
    days = pd.bdate_range("2016-01-01", "2018-12-31")
    path = tmp_path / "macro.csv"
    values = np.arange(len(days), dtype=float) - 100  # any sign
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "rate": values}).to_csv(path, index=False)
    result = invoke(["data", "show", "sp500", "--covariates", path, "--covariate-lag", "1"])
    assert result.exit_code == 0, result.output
    said = text(result)
    assert "1 covariate(s), each value known 1 business day(s) after its date" in said
    sp500 = pd.bdate_range("1999-01-04", "2018-12-31")  # about: the share is of its dates
    row = next(line for line in result.output.splitlines() if line.startswith("rate"))
    cells = [c.strip() for c in row.split("│") if c.strip()][1:]
    assert cells[:5] == [str(len(days)), "2016-01-04", "2019-01-01", "daily", f"{values[-1]:,.6g}"]
    share = float(cells[5].rstrip("%")) / 100
    assert abs(share - np.mean(sp500 >= "2016-01-04")) < 0.01
    months = pd.date_range("2015-01-01", "2018-12-01", freq="MS")
    pd.DataFrame({"date": months, "cpi": 1.0}).to_csv(path, index=False)
    result = invoke(["data", "show", "sp500", "--covariates", path])
    refused(result, "'cpi' is dated on the first day of each month", "at least 23")
    refused(invoke(["data", "show", "sp500", "--covariate-sheet", "x"]), "pass --covariates")


def test_data_show_names_the_holidays_the_dates_show(tmp_path):
    said = text(invoke(["data", "show", "sp500"]))
    assert "the market keeps (predict skips them): New Year's Day" in said
    assert "Good Friday" in said and "Thanksgiving Day" in said and "Boxing Day" not in said
    days = pd.date_range("2023-01-01", periods=60, freq="D").strftime("%Y-%m-%d")
    closes = "".join(f"{d},{10 + k % 7}\n" for k, d in enumerate(days))
    (tmp_path / "btc.csv").write_text("date,close\n" + closes)
    said = text(invoke(["data", "show", tmp_path / "btc.csv"]))
    assert "Dated on weekends too: predict steps calendar days" in said and "keeps" not in said


@pytest.mark.filterwarnings("ignore:.*no prices for GONE")
def test_a_delisted_ticker_is_read_trained_on_and_named_in_predict(tmp_path):
    """A ticker whose prices stop (delisted) is kept, with a warning; train reads it as far as
    it goes; predict forecasts the others and names it; explain refuses it in words."""
    days = pd.bdate_range("2021-01-01", periods=400)
    walk = np.exp(np.cumsum(np.random.default_rng(2).normal(0, 0.01, (400, 2)), axis=0))
    frame = pd.DataFrame(walk * 50, index=days, columns=["LIVE", "GONE"])
    frame.iloc[300:, 1] = np.nan
    path = tmp_path / "panel.csv"
    frame.rename_axis("date").to_csv(path)
    from lstm_forecast.data import DataWarning

    with pytest.warns(DataWarning, match=r"no prices for GONE after 2022-02-24 \(delisted"):
        assert invoke(["data", "show", path]).exit_code == 0
    model = tmp_path / "m"
    fast = ["--steps", "100", "--lookback", "10", "--hidden-size", "4"]
    assert invoke(["train", "--data", path, "--out", model, *fast]).exit_code == 0
    result = invoke(["predict", "--model", model, "--data", path])
    assert result.exit_code == 0, result.output
    said = text(result)
    assert "LIVE" in said and "ended before the last date: GONE (last price 2022-02-24)" in said
    out = tmp_path / "x"
    result = invoke(
        ["explain", "--model", model, "--data", path, "--tickers", "GONE", "--out", out]
    )
    refused(result, "'GONE' has no prices after 2022-02-24", "explain a ticker still priced")
    assert not out.exists()


def test_a_coin_beside_a_stock_is_refused_or_read_on_weekdays(tmp_path):
    days = pd.date_range("2023-01-02", periods=30, freq="D")
    rows = [(d, "BTC", 100 + k) for k, d in enumerate(days)]
    rows += [(d, "SPY", 50 + k) for k, d in enumerate(days) if d.day_of_week < 5]
    path = tmp_path / "mixed.csv"
    pd.DataFrame(rows, columns=["date", "ticker", "close"]).to_csv(path, index=False)
    refused(invoke(["data", "show", path]), "'SPY' has no prices on weekends", "--weekdays")
    result = invoke(["data", "show", path, "--weekdays"])
    assert result.exit_code == 0, result.output
    assert "22 dates, 2 ticker(s)" in text(result) and "8 weekend rows dropped" in text(result)


def test_a_market_open_every_day_forecasts_the_next_calendar_day(tmp_path):
    """Crypto trades on weekends: the forecast dates follow the data's own days."""
    days = pd.date_range("2023-01-01", periods=398, freq="D")  # Saturdays and Sundays too
    stamps = (days - pd.Timestamp("1970-01-01")) // pd.Timedelta("1ms")
    price = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.02, len(days))))
    path = tmp_path / "btc.csv"
    pd.DataFrame({"timestamp": stamps, "close": price}).to_csv(path, index=False)
    model = tmp_path / "m"
    fast = ["--epochs", "1", "--lookback", "10", "--hidden-size", "4", "--horizon", "3"]
    assert invoke(["train", "--data", path, "--out", model, *fast]).exit_code == 0
    result = invoke(["predict", "--model", model, "--data", path, "--csv", tmp_path / "f.csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "f.csv")
    assert days[-1] == pd.Timestamp("2024-02-02") and days[-1].day_name() == "Friday"
    assert list(table["date"]) == ["2024-02-03", "2024-02-04", "2024-02-05"]  # Sat, Sun, Mon


def test_every_verdict_has_a_short_label_in_the_table():
    from lstm_forecast.cli.backtest import SHORT
    from lstm_forecast.evaluation.stats import verdict

    nan = float("nan")
    said = {verdict(nan, False), verdict(nan, False, same=False), verdict(0.01, True)}
    said |= {verdict(p, False) for p in (0.01, 0.5, 0.99)}
    assert said <= set(SHORT), said - set(SHORT)


@pytest.mark.parametrize("command", ["backtest", "train"])
def test_cuda_without_a_gpu_is_refused_before_any_work(command, tmp_path, monkeypatch):
    # before: a backtest ran its baselines and then stopped at the first LSTM task, leaving
    # OUT.work behind ("add --resume to continue it")
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = [command, "--data", "sp500", "--out", tmp_path / "run", "--device"]
    refused(invoke([*args, "cuda"]), "--device cuda: CUDA is not available", "use cpu or auto")
    assert list(tmp_path.iterdir()) == []  # no run, no work folder, no model
    said = "torch sees 1 GPU(s), numbered from 0; use cuda:0 or auto"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    refused(invoke([*args, "cuda:1"]), "--device cuda:1:", said)
    assert list(tmp_path.iterdir()) == []


def test_cuda_is_not_checked_here_for_a_ray_cluster(monkeypatch):
    # the workers of a cluster may have the GPUs that the machine which starts it lacks
    import torch

    from lstm_forecast.cli import backtest as cli_backtest

    def check(device):
        checked.append(device)
        cli_backtest.fail("checked")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    checked = []
    monkeypatch.setattr(cli_backtest, "check_device", check)
    refused(invoke(["backtest", "--models", "lstm", "--device", "cuda"]), "checked")
    assert checked == ["cuda"]
    invoke(["backtest", "--models", "lstm", "--device", "cuda", "--executor", "ray"])
    assert checked == ["cuda"]  # not looked at again: Ray's workers may have GPUs


def test_a_home_path_in_a_config_file_is_expanded(csv, tmp_path, monkeypatch):
    # no shell expands '~' inside a TOML file: read as written, it named no file, and an
    # --out of '~/runs' would have made a folder called '~' in the working directory
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prices.csv").write_bytes(Path(csv).read_bytes())
    config = tmp_path / "run.toml"
    config.write_text(
        'data = "~/prices.csv"\nout = "~/runs"\nmodels = "drift"\ntest-days = 60\n'
        "refit-every = 30\n"
    )
    result = invoke(["backtest", "--config", config])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runs" / "metrics.json").is_file() and not (tmp_path / "~").exists()
    from lstm_forecast.data import read_prices

    assert list(read_prices("~/prices.csv").columns) == list(read_prices(csv).columns)


def test_word_choices_are_read_in_any_case(csv, tmp_path):
    # --models was read in any case, --window Rolling was refused: now every word choice is
    out = tmp_path / "run"
    args = ["backtest", "--data", csv, *QUICK, "--models", "DRIFT", "--window", "Rolling"]
    result = invoke([*args, "--train-days", "120", "--target", "Return", "--out", out])
    assert result.exit_code == 0, result.output
    saved = (out / "run.toml").read_text()
    assert 'window = "rolling"' in saved and 'target = "return"' in saved
