"""Cross-section metrics against scipy and by hand; a planted ranking signal found through
--target relative, none in noise."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lstm_forecast.evaluation.backtest import BacktestSettings, run_backtest
from lstm_forecast.evaluation.crosssection import backtest_cross_section, rank_ic, top_minus_bottom
from lstm_forecast.features.returns import relative_prices


def test_rank_ic_is_spearman_per_date():
    rng = np.random.default_rng(0)
    f, a = pd.DataFrame(rng.normal(size=(6, 7))), pd.DataFrame(rng.normal(size=(6, 7)))
    expected = [stats.spearmanr(f.iloc[t], a.iloc[t]).statistic for t in range(6)]
    np.testing.assert_allclose(rank_ic(f, a), expected)


def test_top_minus_bottom_by_hand():
    # five tickers: k = 1, long the highest forecast, short the lowest, half the book each
    forecast = pd.DataFrame([[5, 4, 3, 2, 1], [1, 2, 3, 4, 5.0]])
    returns = pd.DataFrame([[0.02, 0, 0, 0, -0.02], [0.01, 0, 0, 0, 0.03]])
    daily, turnover = top_minus_bottom(forecast, returns, cost_bps=10)
    # day 1: 0.5*0.02 - 0.5*(-0.02) = 0.02, turnover 1; day 2: 0.5*0.03 - 0.5*0.01, turnover 2
    np.testing.assert_allclose(turnover, [1.0, 2.0])
    np.testing.assert_allclose(daily, [0.02 - 0.001, 0.01 - 0.002])


def test_relative_prices_by_hand_and_causal():
    prices = pd.DataFrame(
        {"A": [100.0, 110, 121], "B": [100.0, 100, 100], "C": [100.0, 90, 81]},
        index=pd.bdate_range("2024-01-01", periods=3),
    )
    rel = np.log(relative_prices(prices)).diff()
    np.testing.assert_allclose(rel.iloc[1], np.log([1.1, 1.0, 0.9]) - 0.0)
    changed = prices.copy()
    changed.iloc[2] *= 2
    pd.testing.assert_frame_equal(
        relative_prices(changed).iloc[:2], relative_prices(prices).iloc[:2]
    )


def _panel(signal: float, n=1500, tickers=6, seed=0):
    """Each ticker's return tomorrow leans on its own return today minus the median
    (short-term relative momentum), plus a common market factor."""
    rng = np.random.default_rng(seed)
    market = rng.normal(0, 0.01, n)
    r = np.zeros((n, tickers))
    for t in range(1, n):
        own = r[t - 1] - np.median(r[t - 1])
        r[t] = market[t] + signal * own + rng.normal(0, 0.01, tickers)
    index = pd.bdate_range("2012-01-02", periods=n)
    return pd.DataFrame(100 * np.exp(np.cumsum(r, 0)), index, [f"T{k}" for k in range(tickers)])


@pytest.mark.parametrize("signal", [0.0, 0.3])
def test_relative_target_finds_a_ranking_signal_and_not_noise(signal):
    settings = BacktestSettings(models=("ols",), test_days=500, refit_every=125, target="relative")
    table = backtest_cross_section(run_backtest(_panel(signal), settings)).set_index("model")
    ols = table.loc["ols"]
    if signal:
        assert ols["ic_mean"] > 0.1 and ols["ic_p"] < 0.01 and ols["tmb_sharpe"] > 1
    else:
        assert abs(ols["ic_mean"]) < 0.05 and ols["ic_p"] > 0.01


def test_relative_target_needs_three_tickers():
    from lstm_forecast.data import DataError

    with pytest.raises(DataError, match="--target relative needs a panel of at least 3"):
        run_backtest(_panel(0.0, tickers=2), BacktestSettings(models=("ols",), target="relative"))


def test_relative_target_leaves_the_stocks_bars_behind():
    """Bars are the stocks' own: read as ohlc inputs beside relative returns they are refused
    by name, and the relative prices carry none (a variance proxy from them would measure the
    stock, not the relative return)."""
    from lstm_forecast.data.ohlcv import attach_bars, bars_of
    from lstm_forecast.evaluation.backtest import _relative

    panel = _panel(0.0)
    bars = {t: pd.DataFrame({"open": panel[t], "high": panel[t], "low": panel[t],
                             "close": panel[t], "volume": 1.0}) for t in panel.columns}  # fmt: skip
    attach_bars(panel, bars)
    settings = BacktestSettings(
        models=("ols",), target="relative", model_settings={"ols": {"features": "returns,ohlc"}}
    )
    with pytest.raises(ValueError, match="--features ohlc with --target relative.*ols would"):
        run_backtest(panel, settings)
    relative = _relative(panel)
    assert all(bars_of(relative, str(t)) is None for t in relative.columns)


def test_holm_counts_every_models_ic_test():
    """The IC p-values are adjusted for the models tested (Holm, as statsmodels computes it),
    and the sentence under the table says what survives at 5%."""
    from statsmodels.stats.multitest import multipletests

    from lstm_forecast.evaluation.crosssection import cross_section_words

    table = pd.DataFrame({"model": ["a", "b", "c"], "ic_p": [0.026, 0.6, 0.9]})
    holm = multipletests(table["ic_p"], method="holm")[1]
    from lstm_forecast.evaluation import family

    table["ic_p_holm"] = family.holm(table["ic_p"])
    np.testing.assert_allclose(table["ic_p_holm"], holm)
    said = cross_section_words(table)
    assert said.startswith("After Holm's adjustment for the 3 models' IC tests, no model ranks")
    assert "0.026 for a, is 0.078 after it" in said
    table.loc[0, ["ic_p", "ic_p_holm"]] = [0.001, 0.003]
    assert cross_section_words(table).endswith(", a ranks the tickers at 5%.")
    settings = BacktestSettings(models=("ols", "drift"), test_days=500, refit_every=125,
                                target="relative")  # fmt: skip
    found = backtest_cross_section(run_backtest(_panel(0.3), settings)).set_index("model")
    assert found.loc["ols", "ic_p_holm"] == pytest.approx(min(1.0, 2 * found.loc["ols", "ic_p"]))
