"""LSTMForecaster: contract, skill where there is some, none where there is none, model files."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from lstm_forecast.data import read_prices
from lstm_forecast.models import LSTMForecaster, check_forecaster
from lstm_forecast.models.lstm import lag_inputs
from lstm_forecast.models.lstm_files import config_digest
from lstm_forecast.training import ModelFileError

FAST = dict(lookback=20, hidden_size=8, epochs=3)


@pytest.fixture(scope="module")
def prices():
    return read_prices("sp500-stocks", tickers=["AAPL", "KO"]).iloc[-700:]


@pytest.fixture(scope="module")
def fitted(prices):
    return LSTMForecaster(**FAST).fit(prices.iloc[:500])


@pytest.mark.parametrize(
    ("settings", "start"),
    [
        ({}, [0.0]),
        ({"distribution": "normal", "horizon": 4}, [0.0, 0.5 * np.log(4)]),
        ({"distribution": "t"}, [0.0, 0.0, np.log(np.expm1(8.0))]),  # nu = 2 + softplus = 10
        ({"target": "variance", "horizon": 5}, [np.log(5)]),
    ],
)
def test_an_untrained_network_forecasts_the_training_distribution(settings, start):
    """The head starts at zero weights: whatever the window, the forecast is the training mean
    (0 in standardised units) with the training spread, the forecast that claims nothing."""
    net = LSTMForecaster(lookback=6, hidden_size=4, **settings).new_net()
    with torch.no_grad():
        out = net(torch.randn(9, 6, 1))
    np.testing.assert_allclose(out.numpy(), np.tile(start, (9, 1)), rtol=1e-6, atol=1e-7)


def test_the_budget_is_in_steps_or_in_epochs_not_both():
    assert (LSTMForecaster().steps, LSTMForecaster().epochs) == (2000, None)
    assert (LSTMForecaster(epochs=3).steps, LSTMForecaster(epochs=3).epochs) == (None, 3)
    assert LSTMForecaster(steps=50).steps == 50
    with pytest.raises(ValueError, match="--steps.*--epochs.*not both"):
        LSTMForecaster(steps=50, epochs=3)


def test_a_warm_start_keeps_the_previous_fit_unless_training_beats_it(prices):
    """Round 0 of a warm-started refit is the previous fold's network: a refit whose training
    only makes things worse (a learning rate of 5) hands that network back unchanged."""
    model = LSTMForecaster(**FAST, warm_start=True).fit(prices.iloc[:500])
    before = {k: v.clone() for k, v in model.net_.state_dict().items()}
    model.learning_rate = 5.0
    model.fit(prices.iloc[:520])
    assert model.history_.best_epoch == 0
    assert all(row["val_loss"] > model.history_.best_val_loss for row in model.history_.history)
    for name, value in model.net_.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_a_warm_start_keeps_the_fit_when_a_ticker_joins(prices):
    """The network is shared by every ticker, so a refit where a ticker joins (listed later,
    evaluation.splits.fold_tickers) starts from the previous fit, not afresh."""
    # the floor off: perturbed weights that lose to the mean would be replaced by it (below)
    model = LSTMForecaster(**FAST, warm_start=True, mean_floor=False).fit(prices.iloc[:500, :1])
    torch.manual_seed(1)
    with torch.no_grad():  # a fit of its own, not the weights a fresh network starts from
        for weight in model.net_.parameters():
            weight.add_(0.01 * torch.randn_like(weight))
    before = {k: v.clone() for k, v in model.net_.state_dict().items()}
    model.learning_rate = 5.0  # training only makes things worse: round 0 is kept
    model.fit(prices.iloc[:520])
    assert model.tickers_ == list(prices.columns) and model.history_.best_epoch == 0
    for name, value in model.net_.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_a_warm_start_that_loses_to_the_mean_starts_again_from_it(prices):
    """A previous fit whose weights were disturbed (a fit of noise, not of these prices)
    loses to the training mean on the next refit's validation slice: the floor replaces it
    with a fresh network, which forecasts that mean, and records the gain it fell short by.
    Without the floor the disturbed weights are kept."""
    for floor in (True, False):
        model = LSTMForecaster(**FAST, warm_start=True, mean_floor=floor).fit(prices.iloc[:500])
        torch.manual_seed(1)
        with torch.no_grad():
            for weight in model.net_.parameters():
                weight.add_(0.3 * torch.randn_like(weight))
        before = {k: v.clone() for k, v in model.net_.state_dict().items()}
        model.learning_rate = 5.0  # training only makes things worse: round 0 is the start
        model.fit(prices.iloc[:520])
        assert model.history_.best_epoch == 0
        if floor:
            assert model.history_.floored and model.history_.floor_gain_se < 1
            fresh = model.new_net().state_dict()
            for name, value in model.net_.state_dict().items():
                assert torch.equal(value, fresh[name]), name
            forecast = model.predict(prices.iloc[:520]).iloc[-5:]  # the training mean
            np.testing.assert_allclose(
                forecast.to_numpy(), np.tile(model.scaler_.mean_.to_numpy(), (5, 1)), rtol=1e-6
            )
        else:
            assert not model.history_.floored and math.isnan(model.history_.floor_gain_se)
            for name, value in model.net_.state_dict().items():
                assert torch.equal(value, before[name]), name


def test_with_the_rule_off_no_floor_is_judged(prices):
    """--min-gain-se 0 turns the floor off: no gain over the mean is taken, so no line can
    say a fit was dropped for it."""
    model = LSTMForecaster(**FAST, warm_start=True, min_gain_se=0).fit(prices.iloc[:500])
    torch.manual_seed(1)
    with torch.no_grad():
        for weight in model.net_.parameters():
            weight.add_(0.3 * torch.randn_like(weight))
    model.learning_rate = 1e-9
    model.fit(prices.iloc[:520])
    assert not model.history_.floored and math.isnan(model.history_.floor_gain_se)


def test_a_variance_forecast_has_no_floor(prices):
    """A variance target keeps its warm start as before (the floor cost it accuracy,
    docs/distributions.md): the disturbed weights stay and no gain over the mean is taken."""
    model = LSTMForecaster(**FAST, target="variance", warm_start=True).fit(prices.iloc[:500])
    torch.manual_seed(1)
    with torch.no_grad():
        for weight in model.net_.parameters():
            weight.add_(0.3 * torch.randn_like(weight))
    before = {k: v.clone() for k, v in model.net_.state_dict().items()}
    model.learning_rate = 1e-9  # training cannot move: round 0 is kept
    model.fit(prices.iloc[:520])
    assert model.mean_floor and not model.history_.floored
    assert math.isnan(model.history_.floor_gain_se)
    for name, value in model.net_.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_contract(prices):
    check_forecaster(lambda: LSTMForecaster(**FAST), prices)


@pytest.mark.parametrize("variant", ["peephole", "coupled"])
def test_contract_other_variants_and_horizons(prices, variant):
    out = check_forecaster(
        lambda: LSTMForecaster(**FAST, variant=variant, horizon=5), prices.iloc[:, :1]
    )
    assert out.shape[1] == 1


def ar1_prices(phi, n, seed):
    rng = np.random.default_rng(seed)
    noise, r = rng.normal(0, 0.01, n), np.zeros(n)
    for t in range(1, n):
        r[t] = phi * r[t - 1] + noise[t]
    return pd.DataFrame(
        {"X": 100 * np.exp(np.cumsum(r))}, index=pd.bdate_range("2000-01-03", periods=n)
    )


def oos_r2(prices, split, forecast):
    actual = np.log(prices["X"]).diff().shift(-1).iloc[split:-1].to_numpy()
    return 1 - np.sum((actual - forecast) ** 2) / np.sum(actual**2)


@pytest.mark.parametrize("seed", [1, 2])
def test_learns_a_predictable_ar1(seed):
    prices, split = ar1_prices(0.3, 5000, seed), 4000
    model = LSTMForecaster(lookback=10, hidden_size=16, epochs=20, learning_rate=3e-3)
    forecast = model.fit(prices.iloc[:split]).predict(prices, prices.index[split:-1])["X"]
    r = np.log(prices["X"]).diff()
    oracle = oos_r2(prices, split, 0.3 * r.iloc[split:-1].to_numpy())  # knows phi: the best
    achieved = oos_r2(prices, split, forecast.to_numpy())
    assert oracle > 0.05
    assert achieved >= 0.8 * oracle, f"R^2 {achieved:.4f} vs best possible {oracle:.4f}"


def test_no_skill_on_a_random_walk():
    prices, split = ar1_prices(0.0, 5000, 7), 4000
    model = LSTMForecaster(lookback=10, hidden_size=16, epochs=20, learning_rate=3e-3)
    forecast = model.fit(prices.iloc[:split]).predict(prices, prices.index[split:-1])["X"]
    assert oos_r2(prices, split, forecast.to_numpy()) <= 0.01


def test_save_load_round_trip_forecasts_identically(fitted, prices, tmp_path):
    fitted.save(tmp_path / "m")
    loaded = LSTMForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(prices), fitted.predict(prices), check_exact=True)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["tickers"] == ["AAPL", "KO"] and config["settings"]["lookback"] == 20
    assert set(config["versions"]) >= {"torch", "lstm_forecast"}
    assert len(config["weights_sha256"]) == 64


def test_model_trained_on_cuda_loads_on_a_cpu_machine(fitted, prices, tmp_path, monkeypatch):
    import torch

    fitted.save(tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    doc = json.loads(path.read_text())
    doc["settings"]["device"] = "cuda"
    doc["model_sha256"] = config_digest(doc)
    path.write_text(json.dumps(doc))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(RuntimeWarning, match="loading it on the CPU"):
        loaded = LSTMForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(prices), fitted.predict(prices))


def damage(directory, how):
    weights, config = directory / "model.safetensors", directory / "config.json"
    if how == "truncated":
        weights.write_bytes(weights.read_bytes()[:-50])
    elif how == "tampered":
        raw = bytearray(weights.read_bytes())
        raw[-3] ^= 0xFF
        weights.write_bytes(bytes(raw))
    elif how == "mismatched":
        doc = json.loads(config.read_text())
        doc["settings"]["hidden_size"] = 9
        doc["model_sha256"] = config_digest(doc)  # consistent config, weights of another size
        config.write_text(json.dumps(doc))
    elif how == "edited":
        doc = json.loads(config.read_text())
        doc["settings"]["lookback"] = 5
        config.write_text(json.dumps(doc))
    elif how == "bad json":
        config.write_text("{not json")
    elif how == "missing weights":
        weights.unlink()
    elif how == "other format":
        config.write_text(json.dumps({"format": "something-else"}))


@pytest.mark.parametrize(
    ("how", "match"),
    [
        ("truncated", "SHA-256 does not match"),
        ("tampered", "SHA-256 does not match"),
        ("mismatched", "do not match the settings"),
        ("edited", "model_sha256 does not match"),
        ("bad json", "not valid JSON"),
        ("missing weights", "no such file"),
        ("other format", "not an lstm-forecast LSTM model"),
    ],
)
def test_damaged_model_files_raise_model_file_error(fitted, tmp_path, how, match):
    fitted.save(tmp_path / "m")
    damage(tmp_path / "m", how)
    with pytest.raises(ModelFileError, match=match):
        LSTMForecaster.load(tmp_path / "m")


def test_save_never_overwrites_user_files(fitted, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ModelFileError, match="not empty"):
        fitted.save(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    fitted.save(tmp_path / "m")
    with pytest.raises(ModelFileError, match="pass --force"):
        fitted.save(tmp_path / "m")
    fitted.save(tmp_path / "m", overwrite=True)
    with pytest.raises(ModelFileError, match="not fitted"):
        LSTMForecaster().save(tmp_path / "new")


def test_one_global_network_with_per_ticker_scaling(fitted, prices):
    assert list(fitted.scaler_.mean_.index) == ["AAPL", "KO"]
    assert fitted.scaler_.std_["AAPL"] != fitted.scaler_.std_["KO"]
    out = fitted.predict(prices)
    assert out.iloc[:20].isna().all().all() and np.isfinite(out.iloc[20:].to_numpy()).all()


def test_too_little_training_data_is_a_clear_error(prices):
    with pytest.raises(ValueError, match="training origins"):
        LSTMForecaster(lookback=60).fit(prices.iloc[:70])


def test_forecasts_at_some_origins_equal_those_of_every_date(fitted, prices):
    """Only the windows at the asked origins go through the network; they give the same
    numbers as a forecast of every date (including origins without a complete window)."""
    every = fitted.predict(prices)
    origins = prices.index[[3, 19, 20, 250, 699]]
    pd.testing.assert_frame_equal(fitted.predict(prices, origins), every.loc[origins])


def test_a_panel_trains_a_bounded_number_of_steps():
    """An epoch is at most ``max_epoch_steps`` batches: 40 tickers train no more steps than 4
    (and validation is a bounded sample of the last dates)."""
    rng = np.random.default_rng(0)
    index = pd.bdate_range("2010-01-01", periods=400)
    steps = {}
    for n in (4, 40):
        prices = pd.DataFrame(
            100 * np.exp(np.cumsum(rng.normal(0, 0.01, (400, n)), axis=0)),
            index,
            [f"T{i}" for i in range(n)],
        )
        model = LSTMForecaster(
            lookback=10, hidden_size=4, epochs=2, batch_size=64, max_epoch_steps=5, patience=10
        ).fit(prices)
        steps[n] = model.history_.steps
    assert steps == {4: 10, 40: 10}  # a whole pass: 21 and 207 batches of 64


def test_the_head_reads_the_last_returns_beside_the_lstm_state():
    """``head_lags``: a hidden layer on [last state; last k standardised returns], k at most
    the lookback, returns only (not the other feature groups), none without the returns."""
    net = LSTMForecaster().new_net()
    assert net.head_lags == 10 and net.lag_hidden.in_features == 32 + 10
    assert LSTMForecaster(lookback=6).new_net().head_lags == 6
    assert LSTMForecaster(features="returns,calendar").new_net().lag_hidden.in_features == 42
    for linear in (LSTMForecaster(features="calendar"), LSTMForecaster(head_lags=0)):
        assert linear.new_net().head_lags == 0 and not hasattr(linear.new_net(), "lag_hidden")

    net = LSTMForecaster(lookback=8, hidden_size=4, head_lags=3, features="returns,calendar")
    net = net.new_net()
    x, last = torch.randn(5, 8, 4), torch.randn(5, 4)
    torch.testing.assert_close(
        lag_inputs(last, x, net.head_lags), torch.cat([last, x[:, -3:, 0]], 1)
    )
    moved = x.clone()
    moved[:, :5, 0] += 1.0  # returns before the last three days
    moved[:, :, 1:] += 1.0  # every other input
    torch.testing.assert_close(lag_inputs(last, moved, 3), lag_inputs(last, x, 3))

    for bad in (-1, 1.5, "ten", 10_000):
        with pytest.raises(ValueError, match="--head-lags"):
            LSTMForecaster(head_lags=bad)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_the_lag_layer_is_what_the_head_adds_to_the_linear_head(activation):
    """With the lag layer's output weights set, the forecast is the linear head on the last
    state plus that layer on [state; last returns], computed here by hand: ReLU units, or
    GELU's x Phi(x) with the normal CDF written through erf."""
    model = LSTMForecaster(lookback=7, hidden_size=5, head_lags=4, head_activation=activation)
    net = model.new_net()
    with torch.no_grad():
        for p in (net.head.weight, net.lag_out.weight, net.lag_out.bias):
            p.normal_()
    x = torch.randn(6, 7, 1)
    with torch.no_grad():
        last = net.rnn(x)[0][:, -1]
        units = net.lag_hidden(torch.cat([last, x[:, -4:, 0]], 1))
        if activation == "relu":
            hidden = units.clamp(min=0)
        else:
            hidden = units * 0.5 * (1 + torch.erf(units / math.sqrt(2)))
        expected = last @ net.head.weight.T + net.head.bias + net.lag_out(hidden)
        torch.testing.assert_close(net(x), expected)
    for bad in ("tanh", "", 1):
        with pytest.raises(ValueError, match="--head-activation"):
            LSTMForecaster(head_activation=bad)
