"""Distributions and volatility on the command line: backtest --target volatility, the
distribution part of a return backtest, train --distribution / --target and predict."""

import json

import pandas as pd

from lstm_forecast.cli import app

from .test_cli_battery import invoke, runner, text

SMALL_LSTM = ["--lookback", "10", "--hidden-size", "4", "--epochs", "2"]


def test_volatility_backtest_writes_its_tables_and_report(tmp_path):
    out = tmp_path / "vol"
    result = invoke(
        ["backtest", "--target", "volatility", "--models", "lstm,garch,ewma,har",
         "--test-days", "250", "--refit-every", "125", *SMALL_LSTM, "--out", out]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "forecast distributions, ranked by QLIKE" in text(result)
    for name in ("volatility.csv", "calibration.csv", "predictions.csv", "report.html"):
        assert (out / name).is_file(), name
    document = json.loads((out / "metrics.json").read_text())
    assert document["proxy"] == "garman-klass"
    models = {row["model"] for row in document["volatility"]}
    assert models == {"lstm", "garch", "ewma", "har", "histvar"}
    dm = {row["model"]: row["qlike_dm_p"] for row in document["volatility"]}
    assert dm["histvar"] is None and all(0 <= dm[m] <= 1 for m in models - {"histvar"})
    calibration = pd.read_csv(out / "calibration.csv")
    assert set(calibration["kind"]) == {"interval", "VaR"}
    assert set(calibration["level"]) == {0.8, 0.9, 0.95, 0.99}
    assert (calibration["n"] == 250).all()
    report = (out / "report.html").read_text()
    for fragment in ('id="volatility"', 'id="calibration"', "var_breaches.png", "pit.png"):
        assert fragment in report
    # what each input is worth to the variance head, by the log score
    assert 'id="importance"' in report and "rise in log score when shuffled" in report
    worth = pd.read_csv(out / "importance.csv")
    assert (worth["metric"] == "log score").all() and (worth["n"] == 250).all()
    assert [row["input"] for row in document["importance"]] == list(worth["input"])
    predictions = pd.read_csv(out / "predictions.csv")
    assert {"sd", "df", "proxy"} <= set(predictions.columns)
    assert (predictions["sd"] > 0).all()
    # the verdict counts every comparison: SPA, StepM and the model confidence set on QLIKE
    vol = pd.read_csv(out / "volatility.csv").set_index("model")
    assert vol["spa_p"].nunique() == 1 and vol["in_mcs"].any()
    assert not vol.loc["histvar", "stepm"]
    said = text(result)
    assert "After counting all 4 comparisons with the naive variance (histvar, on QLIKE)" in said
    assert "The 90% model confidence set holds" in said
    mcs = list(vol.index[vol["in_mcs"]])  # ranked by QLIKE, as the sentence names them
    assert (mcs[0] + " alone" if len(mcs) == 1 else ", ".join(mcs[:-1])) in said
    assert "model confidence set" in report and "StepM 5%" in report
    assert {"stepm", "in_mcs", "spa_p"} <= set(document["volatility"][0])


def test_return_backtest_with_a_distribution_keeps_volatility_models_out_of_the_point_table(
    tmp_path,
):
    out = tmp_path / "ret"
    result = invoke(
        ["backtest", "--models", "lstm,garch", "--distribution", "t", "--test-days", "120",
         "--refit-every", "60", *SMALL_LSTM, "--out", out]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics["model"]) == {"naive", "lstm"}  # garch and histvar forecast no point
    vol = pd.read_csv(out / "volatility.csv")
    assert set(vol["model"]) == {"lstm", "garch", "histvar"}
    assert (vol.loc[vol["model"] == "lstm", "df"] > 2).all()
    assert 'id="calibration"' in (out / "report.html").read_text()


def test_bad_volatility_requests_are_refused_by_name():
    for args, fragment in (
        (["--target", "volatility", "--models", "ols,garch"], "--models: ols forecast a point"),
        (["--distribution", "laplace", "--models", "lstm"], "--distribution"),
    ):
        result = invoke(["backtest", *args])
        assert result.exit_code == 2, result.output
        assert fragment in text(result), result.output
        assert "Traceback" not in result.output


def test_train_and_predict_a_distribution(tmp_path):
    runs = (
        (["--distribution", "t"], "t", True),
        (["--target", "volatility", "--no-ewma-anchor"], "v", False),
        (["--distribution", "normal", "--ensemble", "2"], "e", True),  # a mixture's moments
    )
    for extra, name, anchor in runs:
        model = tmp_path / name
        result = invoke(["train", "--out", model, "--horizon", "5", *SMALL_LSTM, *extra])
        assert result.exit_code == 0, result.output
        config = json.loads((model / "config.json").read_text())
        assert config["settings"]["ewma_anchor"] is anchor
        assert any("anchor" in name for name in config["tensors"]) is anchor
        csv = tmp_path / f"{name}.csv"
        result = invoke(["predict", "--model", model, "--csv", csv])
        assert result.exit_code == 0, result.output
        assert "5-day forecast distribution" in text(result)
        assert "prices are the last close times exp(return)" in text(result)
        row = pd.read_csv(csv).iloc[0]
        assert row["date"] == "2019-01-08"  # 5 open days after 2018-12-31: New Year's closed
        assert row["low95"] < row["low80"] < row["median"] < row["high80"] < row["high95"]
        assert row["price_low95"] < row["price_median"] < row["price_high95"]
        for steps in ("1", "6"):  # one distribution of the 5-day return: no other step count
            result = invoke(["predict", "--model", model, "--horizon", steps])
            assert result.exit_code == 2 and f"--horizon {steps}: this model" in text(result)
        result = invoke(["predict", "--model", model, "--horizon", "5"])
        assert result.exit_code == 0, result.output
        narrow = runner.invoke(app, ["predict", "--model", str(model)], env={"COLUMNS": "80"})
        assert narrow.exit_code == 0 and "…" not in narrow.output  # no number or date cut
        assert max(len(line) for line in narrow.output.splitlines()) <= 80
        assert f"{row['price_low80']:,.2f} to {row['price_high80']:,.2f}" in text(narrow)
