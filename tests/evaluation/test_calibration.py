"""The backtest's volatility and calibration tables against direct computations."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lstm_forecast.evaluation import scoring
from lstm_forecast.evaluation.calibration import calibration_table, pit, volatility_table
from lstm_forecast.evaluation.stats import diebold_mariano_from_differential


def frame(n: int = 1000, seed: int = 0, tickers=("A",)) -> pd.DataFrame:
    """A true model (sd follows the true variance) and the naive constant variance."""
    rng = np.random.default_rng(seed)
    parts = []
    for ticker in tickers:
        true_sd = 0.01 * np.exp(0.5 * np.sin(np.arange(n) / 40))
        actual = true_sd * rng.standard_normal(n)
        origin = pd.bdate_range("2010-01-01", periods=n)
        base = dict(origin=origin, ticker=ticker, actual=actual, forecast=0.0, df=np.inf)
        parts.append(pd.DataFrame(dict(base, model="true", sd=true_sd, proxy=actual**2)))
        naive = np.full(n, true_sd.mean() * 1.05)
        parts.append(pd.DataFrame(dict(base, model="histvar", sd=naive, proxy=actual**2)))
    return pd.concat(parts, ignore_index=True)


def test_volatility_table_matches_direct_computation():
    data = frame()
    table = volatility_table(data, 1).set_index("model")
    own = data[data["model"] == "true"]
    naive = data[data["model"] == "histvar"]
    y, sd, proxy = own["actual"].to_numpy(), own["sd"].to_numpy(), own["proxy"].to_numpy()
    assert table.loc["true", "qlike"] == pytest.approx(scoring.qlike(proxy, sd**2).mean())
    assert table.loc["true", "mse"] == pytest.approx(((proxy - sd**2) ** 2).mean())
    assert table.loc["true", "crps"] == pytest.approx(scoring.crps(y, 0, sd, np.inf).mean())
    assert table.loc["true", "log_score"] == pytest.approx(-stats.norm.logpdf(y, 0, sd).mean())
    inside = np.abs(y) <= stats.norm.ppf(0.95) * sd
    assert table.loc["true", "cov90"] == pytest.approx(inside.mean())
    d = proxy / sd**2 + np.log(sd**2) - proxy / naive["sd"] ** 2 - np.log(naive["sd"] ** 2)
    dm = diebold_mariano_from_differential(d.to_numpy(), 1)
    assert table.loc["true", "qlike_dm_p"] == pytest.approx(dm.p_better)
    assert table.loc["true", "qlike_dm_p"] < 0.01  # the true variance beats a constant one
    assert np.isnan(table.loc["histvar", "qlike_dm_p"])


def test_calibration_counts_and_tests_every_hth_origin():
    data = frame(n=1000)
    one = calibration_table(data, 1)
    row = one[(one["model"] == "true") & (one["kind"] == "VaR") & (one["level"] == 0.95)].iloc[0]
    own = data[data["model"] == "true"]
    breaches = own["actual"] < stats.norm.ppf(0.05) * own["sd"]
    assert row["n"] == 1000 and row["misses"] == breaches.sum()
    assert row["kupiec_p"] == pytest.approx(scoring.kupiec(int(breaches.sum()), 1000, 0.05)[1])
    five = calibration_table(data, 5)
    assert (five["n"] == 200).all()


def test_pooled_rows_add_the_tickers_independence_statistics():
    data = frame(n=500, tickers=("A", "B"))
    table = calibration_table(data, 1)
    pick = (table["model"] == "true") & (table["kind"] == "interval") & (table["level"] == 0.9)
    rows = table[pick].set_index("ticker")
    assert rows.loc["ALL", "n"] == 1000
    assert rows.loc["ALL", "misses"] == rows.loc["A", "misses"] + rows.loc["B", "misses"]
    lr = sum(
        scoring.christoffersen(scoring.interval_misses(g["actual"], 0, g["sd"], np.inf, 0.9))[0]
        for _, g in data[data["model"] == "true"].groupby("ticker")
    )
    assert rows.loc["ALL", "independence_p"] == pytest.approx(stats.chi2.sf(lr, 2))


def test_pit_is_uniform_for_the_true_model():
    values = pit(frame(n=3000))
    true = values.loc[values["model"] == "true", "pit"]
    assert stats.kstest(true, "uniform").pvalue > 0.01


def with_models(data: pd.DataFrame, **scales: float) -> pd.DataFrame:
    """``data`` with more models: the true sd times each scale (a constant bias)."""
    true = data[data["model"] == "true"]
    extra = [true.assign(model=name, sd=true["sd"] * k) for name, k in scales.items()]
    return pd.concat([data, *extra], ignore_index=True)


def test_family_columns_match_arch_on_the_qlike_losses():
    from arch.bootstrap import MCS, SPA

    from lstm_forecast.evaluation import family

    data = with_models(frame(n=800, seed=3), low=0.8, high=1.3)
    table = volatility_table(data, 1).set_index("model")
    wide = data.pivot(index="origin", columns="model", values="sd") ** 2
    proxy = data[data["model"] == "true"].set_index("origin")["proxy"]
    losses = wide.rdiv(proxy, axis=0) + np.log(wide)  # QLIKE up to terms no forecast changes
    bench, others = losses["histvar"], losses.drop(columns="histvar")
    block = family.block_length(others.sub(bench, axis=0), 1)
    spa = SPA(bench.to_numpy(), others.to_numpy(), block_size=block, reps=1000, seed=20141)
    spa.compute()
    assert table["spa_p"].dropna().unique() == pytest.approx([spa.pvalues["consistent"]])
    mcs = MCS(losses, size=0.10, block_size=block, reps=1000, seed=20141)
    mcs.compute()
    assert set(table.index[table["in_mcs"]]) == set(mcs.included) == {"true"}
    assert table.loc["true", "stepm"] and not table.loc["histvar", "stepm"]


def test_family_keeps_its_size_where_no_variance_forecast_beats_the_naive_one():
    # an exact null: the naive variance and four others are equally noisy forecasts of a
    # constant variance, so none has a lower expected QLIKE than another
    stepm, raw, in_set = 0, 0, 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        n, sd = 500, 0.01
        actual = sd * rng.standard_normal(n)
        base = dict(origin=pd.bdate_range("2010-01-01", periods=n), ticker="A", actual=actual)
        rows = [
            pd.DataFrame(dict(base, model=name, sd=sd * np.exp(0.2 * rng.standard_normal(n))))
            for name in ("histvar", "m0", "m1", "m2", "m3")
        ]
        data = pd.concat(rows, ignore_index=True).assign(forecast=0.0, df=np.inf)
        table = volatility_table(data.assign(proxy=data["actual"] ** 2), 1)
        stepm += bool(table["stepm"].any())
        raw += bool((table["qlike_dm_p"] < 0.05).any())
        in_set += int(table["in_mcs"].sum())
    assert stepm <= 3  # at most one run in ten claims a model beats it (5% asked; 30 runs)
    assert raw > stepm  # four unadjusted DM tests claim more often
    assert in_set >= 0.8 * 30 * 5  # equals are mostly all kept in the 90% set


def test_family_over_a_panel_is_one_stepm_over_every_model_and_ticker():
    data = with_models(frame(n=600, seed=5, tickers=("A", "B")), low=0.5)
    table = volatility_table(data, 1)
    assert set(table["ticker"]) == {"A", "B", "ALL"}
    true = table[table["model"] == "true"].set_index("ticker")
    assert true["stepm"].all() and true["in_mcs"].all()
    assert (table.groupby("ticker")["spa_p"].nunique() == 1).all()
