"""train -> predict -> explain from the command line, and their errors."""

import json

import pytest
from typer.testing import CliRunner

from lstm_forecast.cli import app
from lstm_forecast.models.lstm_files import config_digest

runner = CliRunner()
ENV = {"COLUMNS": "150"}


def invoke(args: list[str]):
    return runner.invoke(app, args, env=ENV)


def text(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("m") / "model"
    args = [
        "train",
        "--data",
        "sp500-stocks",
        "--tickers",
        "KO,JNJ",
        "--train-end",
        "2020-12-31",
        "--epochs",
        "2",
        "--lookback",
        "20",
        "--hidden-size",
        "8",
        "--horizon",
        "3",
        "--out",
        str(out),
    ]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    assert "* kept:" in text(result) and (out / "config.json").exists()
    return out


def test_predict_table_and_csv(model_dir, tmp_path):
    csv = tmp_path / "f.csv"
    result = invoke(
        [
            "predict",
            "--model",
            str(model_dir),
            "--data",
            "sp500-stocks",
            "--horizon",
            "2",
            "--csv",
            str(csv),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Forecasts from 2022-12-28" in text(result)
    lines = csv.read_text().splitlines()
    assert lines[0] == "ticker,origin,step,date,log_return,price" and len(lines) == 1 + 2 * 2
    again = invoke(
        ["predict", "--model", str(model_dir), "--data", "sp500-stocks", "--csv", str(csv)]
    )
    assert again.exit_code == 2 and "exists" in text(again)  # never overwrites a user file
    nowhere = tmp_path / "no" / "such" / "f.csv"  # refused before the table, not after it
    lost = invoke(
        ["predict", "--model", str(model_dir), "--data", "sp500-stocks", "--csv", nowhere]
    )
    assert lost.exit_code == 2 and "Forecasts from" not in text(lost)
    assert f"its folder {nowhere.parent} does not exist" in text(lost)


def test_predict_from_a_short_file_knows_the_training_calendar(model_dir, tmp_path):
    """Three months of data show no New Year's Day; the model's training calendar (kept in
    config.json as the weekdays it lacked) does, so the next open day after 2020-12-31 is
    2021-01-04, not the holiday."""
    from lstm_forecast.data import read_prices

    recent = tmp_path / "recent.csv"
    read_prices("sp500-stocks", tickers="KO,JNJ").loc["2020-10-01":"2020-12-31"].to_csv(recent)
    config = json.loads((model_dir / "config.json").read_text())
    assert "2020-12-25" in config["closed_days"] and "2020-11-26" in config["closed_days"]
    csv = tmp_path / "next.csv"
    result = invoke(
        ["predict", "--model", str(model_dir), "--data", str(recent), "--csv", str(csv)]
    )
    assert result.exit_code == 0, result.output
    assert csv.read_text().splitlines()[1].split(",")[3] == "2021-01-04"


def test_predict_horizon_beyond_the_model(model_dir):
    result = invoke(
        ["predict", "--model", str(model_dir), "--data", "sp500-stocks", "--horizon", "4"]
    )
    assert result.exit_code == 2 and "model's horizon (3)" in text(result)


def test_predict_with_data_lacking_a_ticker(model_dir):
    result = invoke(["predict", "--model", str(model_dir), "--data", "sp500"])
    assert result.exit_code == 2 and "absent" in text(result)
    # one of its tickers is enough for a model that reads each ticker's own data
    base = ["predict", "--model", str(model_dir), "--data", "sp500-stocks"]
    one, both = invoke([*base, "--tickers", "KO"]), invoke(base)
    assert one.exit_code == 0, one.output

    def rows(result):
        lines = [line for line in result.output.splitlines() if line.startswith("│")]
        return {tuple(cell.strip() for cell in line.split("│")[1:-1]) for line in lines}

    assert rows(one) and {row[0] for row in rows(one)} == {"KO"}
    assert rows(one) <= rows(both)  # the same forecasts as beside JNJ


def test_explain_writes_pngs(model_dir, tmp_path):
    result = invoke(
        [
            "explain",
            "--model",
            str(model_dir),
            "--data",
            "sp500-stocks",
            "--tickers",
            "jnj",
            "--days",
            "15",
            "--out",
            str(tmp_path),
        ]
    )
    assert result.exit_code == 0, result.output
    for name in ("gates.png", "cells.png", "forecast.png"):
        assert (tmp_path / name).stat().st_size > 5000


def test_explain_unknown_ticker(model_dir, tmp_path):
    result = invoke(
        [
            "explain",
            "--model",
            str(model_dir),
            "--data",
            "sp500-stocks",
            "--tickers",
            "AAPL",
            "--out",
            str(tmp_path),
        ]
    )
    assert result.exit_code == 2 and "not in training" in text(result)


def test_missing_model_is_a_clear_error(tmp_path):
    result = invoke(["predict", "--model", str(tmp_path / "none")])
    assert result.exit_code == 2 and "no such model directory" in text(result)
    (tmp_path / "other").mkdir()  # a folder, but not one a model was saved to
    result = invoke(["predict", "--model", str(tmp_path / "other")])
    assert result.exit_code == 2 and "no config.json here, so not a model directory" in text(result)


def test_train_refuses_a_directory_with_other_files(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    result = invoke(
        ["train", "--epochs", "1", "--lookback", "10", "--hidden-size", "4", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "not empty" in text(result)
    assert (tmp_path / "keep.txt").read_text() == "x"


def test_demo_adding_small(tmp_path):
    result = invoke(
        [
            "demo",
            "adding",
            "--steps",
            "10",
            "--iterations",
            "40",
            "--hidden",
            "4",
            "--out",
            str(tmp_path),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "LSTM: final test MSE" in text(result) and (tmp_path / "adding.png").exists()


def test_backtest_command_writes_everything(tmp_path):
    out = tmp_path / "bt"
    args = [
        "backtest",
        "--data",
        "sp500-stocks",
        "--tickers",
        "KO",
        "--models",
        "lstm,drift",
        "--test-days",
        "60",
        "--refit-every",
        "30",
        "--lstm-epochs",
        "1",
        "--lstm-lookback",
        "10",
        "--lstm-hidden",
        "4",
        "--out",
        str(out),
    ]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    assert "ranked by RMSE" in text(result) and "Finished in" in text(result)
    for name in ("predictions.csv", "metrics.csv", "metrics.json", "report.html"):
        assert (out / name).exists()
    again = invoke([*args, "--prior-tries", "9"])  # our own outputs may be replaced
    assert again.exit_code == 0, again.output
    assert "9 before this run counted (--prior-tries)" in text(again)
    document = json.loads((out / "metrics.json").read_text())
    assert document["settings"]["prior_tries"] == 9
    assert {row["sharpe_trials"] for row in document["metrics"]} == {(2 + 9) * 2}
    kept = [r["best_epoch"] == 0 for r in document["refits"] if r["model"] == "lstm"]
    noted = any(n.startswith("lstm: at none of") for n in document["kept_their_start"])
    assert noted == all(kept)  # the line says so exactly when every refit kept its start
    assert noted == ("lstm: at none of" in text(again))
    (out / "mine.txt").write_text("keep")
    refused = invoke(args)
    assert refused.exit_code == 2
    assert "holds files that no lstm-forecast backtest wrote (mine.txt)" in text(refused)
    assert (out / "mine.txt").read_text() == "keep"


def test_backtest_bad_model_and_short_data():
    result = invoke(["backtest", "--models", "arima"])
    assert result.exit_code == 2 and "--models: unknown arima" in text(result)
    result = invoke(["backtest", "--test-days", "5000"])
    assert result.exit_code == 2 and "training days" in text(result)


def test_train_says_when_the_rule_keeps_the_starting_weights(tmp_path):
    """--min-gain-se 100: the best round cannot pass; train says which round was best, by how
    many standard errors, and that the starting weights were kept."""
    quick = ["--data", "sp500", "--steps", "200", "--lookback", "10", "--hidden-size", "4"]
    result = invoke(["train", *quick, "--min-gain-se", "100", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    said = text(result)
    assert "kept: the starting weights (round 0): round " in said, said
    assert "standard errors, fewer than the 100 a trained round needs (--min-gain-se)" in said
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["settings"]["min_gain_se"] == 100 and config["best_epoch"] == 0
    result = invoke(["explain", "--model", str(tmp_path / "a"), "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert "kept its starting weights" in text(result) and "is the training mean" in text(result)
    result = invoke(["predict", "--model", str(tmp_path / "a"), "--data", "sp500"])
    assert result.exit_code == 0 and "forecast is the training mean" in text(result)
    trained = tmp_path / "trained"
    assert invoke(["train", *quick, "--min-gain-se", "0", "--out", str(trained)]).exit_code == 0
    result = invoke(["explain", "--model", str(trained), "--out", str(tmp_path / "y")])
    assert result.exit_code == 0 and "starting weights" not in text(result)
    # an ensemble: every member kept its start, or some of them did
    ensemble = ["--ensemble", "2", "--out", str(tmp_path / "e")]
    assert invoke(["train", *quick, "--min-gain-se", "100", *ensemble]).exit_code == 0
    result = invoke(["predict", "--model", str(tmp_path / "e"), "--data", "sp500"])
    assert result.exit_code == 0 and "Every member of this ensemble kept its starting" in text(
        result
    )
    config = json.loads((tmp_path / "e" / "config.json").read_text())
    assert [m["best_epoch"] for m in config["members"]] == [0, 0]
    config["members"][1].update(best_epoch=3)  # as a member that kept a trained round
    config["model_sha256"] = config_digest(config)
    (tmp_path / "e" / "config.json").write_text(json.dumps(config))
    result = invoke(["predict", "--model", str(tmp_path / "e"), "--data", "sp500"])
    assert result.exit_code == 0 and "1 of 2 members of this ensemble kept" in text(result)
    result = invoke(["train", *quick, "--min-gain-se", "-1", "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "--min-gain-se" in text(result)
    assert not (tmp_path / "b").exists()


def test_predict_leaves_out_a_ticker_listed_too_recently_for_the_lookback(model_dir, tmp_path):
    # before: one such ticker refused the whole forecast ("the model needs its full lookback")
    from lstm_forecast.data import read_prices

    prices = read_prices("sp500-stocks", tickers=["KO", "JNJ"]).loc[:"2021-06-30"]
    prices.iloc[:-15, 1] = float("nan")  # JNJ "lists" 15 days before the end: 14 returns
    path = tmp_path / "recent.csv"
    prices.rename_axis("date").to_csv(path)
    result = invoke(["predict", "--model", str(model_dir), "--data", str(path)])
    assert result.exit_code == 0, result.output
    said = text(result)
    assert "fewer returns than the model's lookback before the last date: JNJ (14 returns)" in said
    lines = [line for line in result.output.splitlines() if line.startswith("│")]
    assert lines and all("KO" in line for line in lines)  # KO's forecasts, JNJ's none
    alone = prices[["JNJ"]].dropna().rename_axis("date")
    alone.to_csv(path := tmp_path / "jnj.csv")
    refused = invoke(
        ["predict", "--model", str(model_dir), "--data", str(path), "--tickers", "JNJ"]
    )
    assert refused.exit_code == 2
    assert "no ticker has 20 returns (the model's lookback)" in text(refused)
    assert "JNJ (14)" in text(refused)
