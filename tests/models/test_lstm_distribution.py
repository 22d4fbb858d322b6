"""The LSTM's distribution heads: losses against torch.distributions, the contract (causality
of the distribution too), model files, and a conditional variance that it learns."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from lstm_forecast.data import read_prices
from lstm_forecast.models import LSTMForecaster, check_forecaster
from lstm_forecast.models.lstm_heads import decode, gaussian_nll, qlike_loss, student_t_nll

FAST = dict(lookback=20, hidden_size=8, epochs=3)


@pytest.fixture(scope="module")
def prices():
    return read_prices("sp500-stocks", tickers=["AAPL", "KO"]).iloc[-700:]


def test_losses_against_torch_distributions():
    g = torch.Generator().manual_seed(0)
    target = torch.randn(64, 3, generator=g, dtype=torch.float64)
    out = torch.randn(64, 3, generator=g, dtype=torch.float64)
    total = target.sum(1)
    normal = torch.distributions.Normal(out[:, 0], out[:, 1].exp())
    expected = -normal.log_prob(total).mean() - 0.5 * math.log(2 * math.pi)
    assert gaussian_nll(out, target).item() == pytest.approx(expected.item(), rel=1e-12)
    nu = 2 + torch.nn.functional.softplus(out[:, 2])
    t = torch.distributions.StudentT(nu, out[:, 0], out[:, 1].exp())
    assert student_t_nll(out, target).item() == pytest.approx(-t.log_prob(total).mean().item())
    proxy = target.abs()
    by_hand = (proxy.sum(1) / out[:, 0].exp() + out[:, 0]).mean()
    assert qlike_loss(out[:, :1], proxy).item() == pytest.approx(by_hand.item())


def test_decode_to_return_units():
    out = np.array([[0.5, math.log(2.0), 0.0]])
    mean, std = np.array([0.001]), np.array([0.01])
    loc, sd, df = decode("t", out, mean, std, horizon=5)
    nu = 2 + math.log(2)
    assert loc[0] == pytest.approx(5 * 0.001 + 0.01 * 0.5)
    assert df[0] == pytest.approx(nu)
    assert sd[0] == pytest.approx(0.01 * 2.0 * math.sqrt(nu / (nu - 2)))
    _, sd_v, df_v = decode("variance", np.array([[math.log(4.0)]]), mean, std, horizon=5)
    assert sd_v[0] == pytest.approx(0.02) and np.isinf(df_v[0])


@pytest.mark.parametrize(
    "settings", [{"distribution": "normal"}, {"distribution": "t"}, {"target": "variance"}]
)
def test_contract_with_a_distribution(prices, settings):
    check_forecaster(lambda: LSTMForecaster(**FAST, **settings), prices)
    check_forecaster(
        lambda: LSTMForecaster(**FAST, **settings, horizon=3), read_prices("sp500").iloc[-600:]
    )


def test_saved_and_loaded_model_forecasts_the_same_distribution(prices, tmp_path):
    model = LSTMForecaster(**FAST, distribution="t").fit(prices.iloc[:500])
    model.save(tmp_path / "m")
    loaded = LSTMForecaster.load(tmp_path / "m")
    assert loaded.distribution == "t"
    a = model.predict_distribution(prices)
    b = loaded.predict_distribution(prices)
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key])


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"distribution": "laplace"}, "--distribution"),
        ({"ensemble": 2, "distribution": "normal"}, "--ensemble"),
        ({"tune": 2, "distribution": "t"}, "--tune"),
    ],
)
def test_bad_combinations_are_refused_by_name(settings, match):
    with pytest.raises(ValueError, match=match):
        LSTMForecaster(**settings)


def garch_prices(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    r, v = np.zeros(n), np.full(n, 1e-4)
    for t in range(1, n):
        v[t] = 2e-6 + 0.15 * r[t - 1] ** 2 + 0.83 * v[t - 1]
        r[t] = math.sqrt(v[t]) * rng.standard_normal()
    index = pd.bdate_range("2001-01-01", periods=n)
    return pd.DataFrame({"X": 100 * np.exp(np.cumsum(r))}, index=index), v


def test_the_variance_head_learns_a_garch_variance():
    prices, v = garch_prices(2500, 0)
    model = LSTMForecaster(lookback=20, hidden_size=16, epochs=15, target="variance")
    model.fit(prices.iloc[:2000])
    sd = model.predict_distribution(prices, prices.index[2000:-1])["sd"].iloc[:, 0]
    true_next = v[2001:]
    # the forecast tracks the true conditional variance, not just its average
    assert np.corrcoef(sd.to_numpy() ** 2, true_next)[0, 1] > 0.7


def test_a_variance_head_with_t_intervals_fits_nu_and_keeps_it_in_its_file(tmp_path):
    from lstm_forecast.data.simulate import simulate_volatility
    from lstm_forecast.models.lstm_heads import fit_nu

    rng = np.random.default_rng(0)
    draws = rng.standard_t(4, 20_000) * math.sqrt(2 / 4)
    assert fit_nu(draws) == pytest.approx(4, rel=0.15)
    assert fit_nu(rng.standard_normal(20_000)) > 30

    prices, _, _ = simulate_volatility("constant", days=1500, seed=0, nu=4.0)
    model = LSTMForecaster(**FAST, target="variance", distribution="t").fit(prices)
    assert 3 < model.nu_ < 8  # the returns' own tails
    dist = model.predict_distribution(prices, prices.index[-5:])
    assert (dist["df"].to_numpy() == model.nu_).all()
    model.save(tmp_path / "m")
    loaded = LSTMForecaster.load(tmp_path / "m")
    assert loaded.nu_ == pytest.approx(model.nu_)
    pd.testing.assert_frame_equal(
        loaded.predict_distribution(prices)["df"], model.predict_distribution(prices)["df"]
    )
    normal = LSTMForecaster(**FAST, target="variance").fit(prices)
    assert np.isinf(normal.predict_distribution(prices, prices.index[-1:])["df"]).all().all()
