"""The command line: help everywhere, the version, and the two demos end to end."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import typer.main
from rich.markup import render
from typer.testing import CliRunner

from lstm_forecast import __version__
from lstm_forecast.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("args", [[], ["demo"], ["demo", "memory"], ["demo", "gradients"]])
def test_help_on_every_command(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_demo_memory_prints_both_companies():
    result = runner.invoke(app, ["demo", "memory"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Company A" in result.output and "Company B" in result.output
    assert "0.01, actual 0" in result.output and "0.97, actual 1" in result.output


def test_demo_memory_train():
    result = runner.invoke(
        app, ["demo", "memory", "--train", "--seed", "2"], env={"COLUMNS": "120"}
    )
    assert result.exit_code == 0, result.output
    assert "learned from scratch" in result.output


def test_demo_gradients_writes_plot(tmp_path):
    result = runner.invoke(
        app, ["demo", "gradients", "--length", "30", "--out", str(tmp_path)], env={"COLUMNS": "120"}
    )
    assert result.exit_code == 0, result.output
    assert "1.125900e+15" in result.output and "8.881784e-16" in result.output
    assert (tmp_path / "gradients.png").stat().st_size > 1000


def test_bad_option_is_a_clear_error():
    result = runner.invoke(app, ["demo", "gradients", "--length", "1"])
    assert result.exit_code != 0 and "length" in result.output


def test_brackets_in_help_and_usage_errors_are_text_not_markup():
    """Rich reads '[ray]' as a style tag and drops it unless the text escapes it."""
    result = runner.invoke(app, ["backtest", "--help"], env={"COLUMNS": "250"})
    assert "pip install 'lstm-forecast[ray]'" in result.output
    command = typer.main.get_command(app)
    stack, helps = [command], []
    while stack:
        node = stack.pop()
        helps += [node.help or ""] + [getattr(p, "help", None) or "" for p in node.params]
        stack += list(getattr(node, "commands", {}).values())
    assert len(helps) > 100
    for help_text in helps:  # every help reads the same once rich has rendered it
        assert render(help_text).plain == help_text.replace("\\[", "["), help_text
    run = [sys.executable, "-m", "lstm_forecast.cli", "backtest", "--lstm[ray]"]
    out = subprocess.run(run, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 2 and "No such option: --lstm[ray]" in out.stdout + out.stderr


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from lstm_forecast import cli; "
        "print(sorted({'torch', 'matplotlib', 'pandas'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_data_list():
    result = runner.invoke(app, ["data", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "sp500-stocks" in result.output and "NCSA" in result.output


def test_data_show_with_plot(tmp_path):
    result = runner.invoke(
        app, ["data", "show", "sp500-stocks", "--out", str(tmp_path)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "8313 dates, 21 ticker(s), 1990-01-02 to 2022-12-28" in result.output
    assert (tmp_path / "sp500-stocks.png").stat().st_size > 1000
    said = " ".join(result.output.split())
    assert "Note on sp500-stocks: its 20 stocks all trade from 1990 to 2022" in said
    assert "(survivorship bias)" in said
    plain = runner.invoke(app, ["data", "show", "sp500"], env={"COLUMNS": "200"})
    assert "Note on" not in plain.output  # the index has no such caveat


def test_data_show_table_keeps_whole_dates_on_an_80_column_terminal():
    result = runner.invoke(app, ["data", "show", "sp500-stocks"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("AAPL"))
    assert "1990-01-02" in row and "2022-12-28" in row and row.rstrip().endswith("%")
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_data_show_wraps_a_long_ticker_name_rather_than_drop_the_numbers(tmp_path):
    # a single series is named after its file: investing.com's 'S&P 500 Historical Data'
    dates = pd.bdate_range("2015-01-01", periods=60)
    path = tmp_path / "S&P 500 Historical Data.csv"
    pd.DataFrame({"Date": dates, "Close": np.linspace(3000.0, 3100.0, 60)}).to_csv(path)
    result = runner.invoke(app, ["data", "show", str(path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    row = next(line for line in lines if line.startswith("S&P 500"))
    assert row.rstrip().endswith("%") and "3,000.00" in row  # the volatility is whole
    assert max(len(line.rstrip()) for line in lines) <= 80
    name = "".join(line.split("│")[0] for line in lines[lines.index(row) :][:3])
    assert name.replace(" ", "") == "S&P500HistoricalData"  # folded, all of it kept


def test_data_show_bad_file_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,A\n2020-01-02,abc\n")
    result = runner.invoke(app, ["data", "show", str(bad)], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "not a number" in result.output
    assert "Traceback" not in result.output


def test_data_show_overrides(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("when,sym,px\n2020-01-02,A,1\n2020-01-03,A,2\n2020-01-02,B,3\n2020-01-03,B,4\n")
    args = [
        "data",
        "show",
        str(path),
        "--date-col",
        "when",
        "--ticker-col",
        "sym",
        "--price-col",
        "px",
        "--tickers",
        "B",
    ]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1 ticker(s)" in result.output and "B " in result.output
    row = next(line for line in result.output.splitlines() if line.startswith("B "))
    assert "nan" not in result.output and row.rstrip().endswith(" -")  # one return: no volatility


def test_every_command_registered_and_help_fast_to_import():
    code = (
        "import sys; from lstm_forecast.cli import app; "
        "names = sorted(c.callback.__name__ for c in app.registered_commands); print(names); "
        "print(sorted({'torch', 'matplotlib', 'pandas', 'scipy'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names, heavy = out.stdout.strip().splitlines()
    assert names == "['backtest', 'explain', 'predict', 'train']" and heavy == "[]"


def test_backtest_says_when_a_model_kept_its_starting_weights_at_every_refit():
    """The line appears only when every refit of a trained model kept its start."""
    from types import SimpleNamespace

    import pandas as pd

    from lstm_forecast.evaluation import BacktestSettings
    from lstm_forecast.evaluation.summary import untrained_notes as _untrained_notes

    refits = pd.DataFrame(
        {
            "model": ["lstm", "lstm", "ols", "ols", "other", "other"],
            "epochs": [10, 11, float("nan"), float("nan"), 10, 12],
            "best_epoch": [0, 0, float("nan"), float("nan"), 0, 3],
        }
    )
    result = SimpleNamespace(refits=refits, settings=BacktestSettings())
    (note,) = _untrained_notes(result)
    assert note.startswith("lstm: at none of the 2 refits") and "the training mean" in note
    tuned = BacktestSettings(model_settings={"lstm": {"distribution": "t"}})
    (note,) = _untrained_notes(SimpleNamespace(refits=refits, settings=tuned))
    assert "the distribution it starts from" in note
    assert _untrained_notes(SimpleNamespace(refits=refits.iloc[2:], settings=tuned)) == []


def test_backtest_names_the_refits_where_an_earlier_fit_lost_to_the_mean():
    from types import SimpleNamespace

    import pandas as pd

    from lstm_forecast.evaluation.summary import floor_notes

    nan = float("nan")
    refits = pd.DataFrame(
        {
            "fold": [0, 1, 2, 3, 0, 1],
            "model": ["lstm"] * 4 + ["ols"] * 2,
            "floor_gain_se": [nan, 1.08, -0.59, 0.4, nan, nan],
        }
    )
    (note,) = floor_notes(SimpleNamespace(refits=refits))
    assert note.startswith("lstm: at refit 2 (-0.59) the weights it kept no longer beat")
    refits.loc[3, "floor_gain_se"] = 0.0
    (note,) = floor_notes(SimpleNamespace(refits=refits))
    assert note.startswith("lstm: at refits 2 (-0.59), 3 (+0.00) the weights")
    assert floor_notes(SimpleNamespace(refits=refits.drop(columns="floor_gain_se"))) == []
