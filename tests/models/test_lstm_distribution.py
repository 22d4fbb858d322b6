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
        ({"ensemble": 2, "ensemble_batched": True, "distribution": "normal"}, "--ensemble"),
        ({"ensemble": 2, "ensemble_batched": True, "target": "variance"}, "--ensemble-batched"),
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


def test_log_ewma_variance_against_pandas():
    from lstm_forecast.models.lstm_heads import EWMA_DECAY, EWMA_FLOOR, log_ewma_variance

    z = np.random.default_rng(0).standard_normal((3, 40))
    got = log_ewma_variance(torch.as_tensor(z)).numpy()
    for row, value in zip(z, got, strict=True):
        # pandas' adjusted EWMA at the window's last day: the same weights, normalised
        ewma = pd.Series(row**2).ewm(alpha=1 - EWMA_DECAY, adjust=True).mean().iloc[-1]
        assert value == pytest.approx(math.log(ewma + EWMA_FLOOR), rel=1e-12)


@pytest.mark.parametrize(("kind", "width", "moved"), [("variance", 1, 0), ("t", 3, 1)])
def test_the_anchor_moves_the_scale_output_only(kind, width, moved):
    from lstm_forecast.models.lstm import ForecastNet
    from lstm_forecast.models.lstm_heads import log_ewma_variance

    torch.manual_seed(0)
    plain = ForecastNet(8, 1, "standard", 0.0, width, "eager", "cpu", input_size=2).double()
    torch.manual_seed(0)
    anchored = ForecastNet(8, 1, "standard", 0.0, width, "eager", "cpu", 2, moved, 10).double()
    x = torch.randn(5, 30, 2, dtype=torch.float64)
    # the anchor starts at 0: the same forecast as without it
    torch.testing.assert_close(anchored(x), plain(x), rtol=0, atol=0)
    with torch.no_grad():
        anchored.anchor.fill_(0.07)  # times the gain 10
    expected = plain(x).clone()
    expected[:, moved] += 0.7 * log_ewma_variance(x[:, :, 0])
    torch.testing.assert_close(anchored(x), expected, rtol=1e-12, atol=1e-12)
    anchored(x).sum().backward()
    assert anchored.anchor.grad is not None and anchored.anchor.grad != 0


def test_which_models_have_an_anchor(prices, tmp_path):
    def anchor_of(**settings):
        model = LSTMForecaster(**FAST, **settings)
        return model._anchored_output(), "anchor" in dict(model._blank_net().named_parameters())

    assert anchor_of(distribution="t") == (1, True)
    assert anchor_of(distribution="normal") == (1, True)
    assert anchor_of(target="variance") == (0, True)
    assert anchor_of() == (None, False)  # the point head
    assert anchor_of(distribution="t", ewma_anchor=False) == (None, False)
    assert anchor_of(distribution="t", features="calendar") == (None, False)  # no returns read
    with pytest.raises(ValueError, match="--ewma-anchor"):
        LSTMForecaster(ewma_anchor="yes")
    for gain in (0, -1, "fast", float("nan")):
        with pytest.raises(ValueError, match="anchor_gain"):
            LSTMForecaster(anchor_gain=gain)

    model = LSTMForecaster(**FAST, target="variance", min_gain_se=0).fit(prices.iloc[:500])
    assert model.net_.anchor.item() != 0  # learned
    loaded = LSTMForecaster.load(model.save(tmp_path / "m"))
    assert loaded.ewma_anchor and loaded.net_.anchor.item() == model.net_.anchor.item()
    assert loaded.net_.anchor_gain == model.anchor_gain == 10


def _as_written_before(model, setting, prices, tmp_path):
    """Save ``model`` as a file written before ``setting`` existed (without it, re-signed),
    load it, and check that it forecasts as the model did."""
    import json

    from lstm_forecast.models.lstm_files import config_digest

    model.save(tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    config = json.loads(path.read_text())
    del config["settings"][setting], config["model_sha256"]
    config["model_sha256"] = config_digest(config)
    path.write_text(json.dumps(config))
    loaded = LSTMForecaster.load(tmp_path / "m")
    if model.distributional:
        a, b = model.predict_distribution(prices), loaded.predict_distribution(prices)
    else:
        a, b = {"mean": model.predict(prices)}, {"mean": loaded.predict(prices)}
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key])
    return loaded


def test_a_file_written_before_the_anchor_gain_loads_with_gain_1(prices, tmp_path):
    model = LSTMForecaster(**FAST, distribution="t", anchor_gain=1).fit(prices.iloc[:500])
    loaded = _as_written_before(model, "anchor_gain", prices, tmp_path)
    assert loaded.ewma_anchor and loaded.anchor_gain == 1 and loaded.net_.anchor_gain == 1


def test_a_file_written_before_head_lags_loads_with_the_linear_head(prices, tmp_path):
    model = LSTMForecaster(**FAST, head_lags=0).fit(prices.iloc[:500])
    loaded = _as_written_before(model, "head_lags", prices, tmp_path)
    assert loaded.head_lags == 0 and not hasattr(loaded.net_, "lag_hidden")


def test_a_file_written_before_head_activation_loads_with_relu_units(prices, tmp_path):
    model = LSTMForecaster(**FAST).fit(prices.iloc[:500])
    loaded = _as_written_before(model, "head_activation", prices, tmp_path)
    assert loaded.head_activation == "relu" and loaded.net_.head_activation == "relu"


def test_a_file_written_before_min_gain_se_loads_with_the_rule_off(prices, tmp_path):
    """Files written before the rule kept the best round by any margin: they load with 0,
    so that refitting one trains as it did."""
    model = LSTMForecaster(**FAST, min_gain_se=0).fit(prices.iloc[:500])
    loaded = _as_written_before(model, "min_gain_se", prices, tmp_path)
    assert loaded.min_gain_se == 0 and LSTMForecaster().min_gain_se == 1


def test_a_file_written_before_the_mean_floor_loads_without_it(prices, tmp_path):
    """Files written before the floor kept a warm start's weights as they were: they load
    with the floor off, and a value that is not true or false is refused, naming the flag."""
    model = LSTMForecaster(**FAST, mean_floor=False).fit(prices.iloc[:500])
    loaded = _as_written_before(model, "mean_floor", prices, tmp_path)
    assert loaded.mean_floor is False and LSTMForecaster().mean_floor is True
    with pytest.raises(ValueError, match=r"mean_floor \(--mean-floor\) must be true or false"):
        LSTMForecaster(mean_floor="yes")


def test_a_gelu_head_is_saved_and_read_back(prices, tmp_path):
    model = LSTMForecaster(**FAST, head_activation="gelu").fit(prices.iloc[:500])
    model.save(tmp_path / "m")
    loaded = LSTMForecaster.load(tmp_path / "m")
    assert loaded.net_.head_activation == "gelu"
    pd.testing.assert_frame_equal(loaded.predict(prices), model.predict(prices))


def test_a_file_written_before_the_anchor_loads_without_one(prices, tmp_path):
    model = LSTMForecaster(**FAST, distribution="t", ewma_anchor=False).fit(prices.iloc[:500])
    assert _as_written_before(model, "ewma_anchor", prices, tmp_path).ewma_anchor is False
