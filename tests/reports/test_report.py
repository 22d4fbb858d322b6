"""The backtest report renders in a real browser (headless Chromium) with its images and table."""

import base64
import io
import json
import os
import re
import shutil
import subprocess

import pytest
from PIL import Image

from lstm_forecast.data import read_prices
from lstm_forecast.evaluation.backtest import BacktestSettings, run_backtest
from lstm_forecast.evaluation.summary import metrics_table
from lstm_forecast.reports.outputs import write_outputs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bt") / "out"
    prices = read_prices("sp500-stocks", tickers=["KO", "PG"]).iloc[-900:]
    settings = BacktestSettings(
        models=("lstm", "ema", "ols"),
        test_days=150,
        refit_every=50,
        model_settings={"lstm": dict(lookback=10, hidden_size=4, epochs=2)},
    )
    result = run_backtest(prices, settings)
    return write_outputs(result, metrics_table(result), out, "sp500-stocks")


def test_report_is_self_contained(report):
    page = report.read_text()
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 5  # 2 tickers + 2 strategies + errors
    for _, data in images:
        Image.open(io.BytesIO(base64.b64decode(data))).verify()
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert 'id="metrics"' in page
    assert "no evidence of skill" in page or "beats the random walk" in page
    for name in ("predictions.csv", "metrics.csv", "metrics.json", "errors.png"):
        assert (report.parent / name).stat().st_size > 0


def test_report_asks_whether_it_could_be_luck(report):
    page = report.read_text()
    luck = page.split("<h2>Could this be luck?</h2>")[1].split("<h2>")[0]
    assert "After counting all 9 comparisons with the random walk" in luck
    rows = re.findall(r"<tr", luck.split('id="luck"')[1].split("</table>")[0])
    assert len(rows) == 1 + 3  # header + KO, PG, ALL
    assert "p (DM, unadjusted)" in page and "p (DM, Holm)" in page
    assert 'id="importance"' in page and (report.parent / "importance.csv").stat().st_size
    document = json.loads((report.parent / "metrics.json").read_text())
    groups = document["could_this_be_luck"]["groups"]
    assert [g["ticker"] for g in groups] == ["KO", "PG", "ALL"]
    # 3 models x 2 rules x 3 groups tried: the expected best of 18 skill-less Sharpe ratios
    assert all(g["sharpe_trials"] == 18 and 0 <= g["pbo"] <= 1 for g in groups)
    assert document["could_this_be_luck"]["summary"].startswith("After counting all 9")
    row = document["metrics"][1]
    assert {"spa_p", "stepm", "in_mcs", "dm_p_holm", "lf_dsr", "ls_psr"} <= set(row)


def browser(*args, tmp_path):
    if CHROMIUM is None:
        if os.environ.get("LSTM_FORECAST_REQUIRE_CHROMIUM"):
            pytest.fail("Chromium is required here (LSTM_FORECAST_REQUIRE_CHROMIUM) but absent")
        pytest.skip(
            "headless Chromium not found; install Debian's 'chromium' package "
            "(apt-get install chromium) to run the report rendering test"
        )
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def test_report_renders_in_chromium(report, tmp_path):
    dom = browser("--dump-dom", report.as_uri(), tmp_path=tmp_path).stdout
    assert dom.count("<img") == 5 and 'id="metrics"' in dom
    rows = re.findall(r"<tr", dom.split('id="metrics"')[1].split("</table>")[0])
    assert len(rows) == 1 + 4 * 3  # header + (naive, lstm, ema, ols) x (KO, PG, ALL)
    shot = tmp_path / "shot.png"
    browser(f"--screenshot={shot}", "--window-size=1200,2600", report.as_uri(), tmp_path=tmp_path)
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 500  # plots drawn, not a blank page
    strip = image.crop((0, 1600, 1200, 2600)).convert("L")  # where the figures are
    assert strip.getextrema()[0] < 80  # dark plot lines rendered there
