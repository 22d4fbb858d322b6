"""A seed ensemble trained as one batched model: each member is the model it would be alone."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from lstm_forecast.data.simulate import simulate
from lstm_forecast.models import LSTMForecaster, check_forecaster
from lstm_forecast.models.lstm import EnsembleNet, ForecastNet
from lstm_forecast.training import TrainConfig, train
from lstm_forecast.training.ensemble import train_ensemble


def nets(k, hidden=6, layers=2, head_lags=0, activation="relu"):
    """K members; with ``head_lags``, the head's layer on the last returns gets random output
    weights (it starts at zero, which would leave it out of every comparison)."""
    out = []
    for seed in range(k):
        torch.manual_seed(seed)
        net = ForecastNet(
            hidden,
            layers,
            "standard",
            0.0,
            2,
            "eager",
            "cpu",
            head_lags=head_lags,
            head_activation=activation,
        )
        if head_lags:
            with torch.no_grad():
                net.lag_out.weight.normal_()
                net.lag_out.bias.normal_()
        out.append(net.double())
    return out


def data(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 12, 1, generator=g, dtype=torch.float64)
    y = torch.stack([x[:, -1, 0] * x[:, -5, 0], x[:, -2, 0]], 1)
    y = y + 0.3 * torch.randn(n, 2, generator=g, dtype=torch.float64)
    return x[:240], y[:240], x[240:], y[240:]


PATHS = pytest.mark.parametrize("fused", [False, True], ids=["step-loop", "block-diagonal"])
HEADS = pytest.mark.parametrize(
    "head_lags, activation",
    [(0, "relu"), (4, "relu"), (4, "gelu")],
    ids=["linear-head", "head-lags", "head-lags-gelu"],
)


@PATHS
@HEADS
def test_batched_forward_equals_each_member(fused, head_lags, activation):
    members = nets(3, head_lags=head_lags, activation=activation)
    ensemble = EnsembleNet(members, fused).double()
    x = torch.randn(5, 12, 1, dtype=torch.float64)
    together = ensemble(x)
    for k, net in enumerate(members):
        torch.testing.assert_close(together[k], net(x), atol=1e-12, rtol=0)


@PATHS
@HEADS
@pytest.mark.parametrize("clip", [1.0, 0.05])
@pytest.mark.parametrize("min_gain_se", [0.0, 8.0])
def test_each_member_trains_as_it_would_alone(clip, fused, head_lags, activation, min_gain_se):
    """Same initial weights, same batches: the same final weights, member by member (float64),
    through per-member clipping (0.05 clips every step), early stopping, the schedule and the
    rule that a best round must beat the start by ``min_gain_se`` standard errors."""
    members = nets(3, head_lags=head_lags, activation=activation)
    alone = [copy.deepcopy(net) for net in members]
    config = TrainConfig(
        batch_size=32,
        steps=60,
        eval_every=10,
        patience=2,
        clip_norm=clip,
        seed=5,
        schedule="cosine",
        weight_decay=1e-3,
        learning_rate=1e-2,
        min_gain_se=min_gain_se,
    )
    ensemble = EnsembleNet(members, fused).double()
    dates = np.repeat(np.arange(30), 2)  # two samples a date, 2-day targets: one lag
    results = train_ensemble(ensemble, *data(), config, dates)
    declined = []
    for k, net in enumerate(alone):
        result = train(net, *data(), config, val_dates=dates)
        assert results[k].best_epoch == result.best_epoch
        assert results[k].best_val_loss == pytest.approx(result.best_val_loss, rel=1e-10)
        assert results[k].declined == result.declined
        assert results[k].gain_se == pytest.approx(result.gain_se, rel=1e-8)
        declined.append(result.declined)
        x = data()[2]
        torch.testing.assert_close(ensemble(x)[k], net(x), atol=1e-8, rtol=0)
    assert len({r.best_epoch for r in results}) >= 1
    if min_gain_se:
        assert any(declined)
    else:
        assert not any(declined)


def test_the_two_paths_agree_in_gradients_and_states():
    """The block-diagonal fused LSTM against the step loop, float64: outputs, final states and
    every parameter's gradient, two layers."""
    paths = [EnsembleNet(nets(4), fused).double() for fused in (False, True)]
    x = torch.randn(5, 12, 1, dtype=torch.float64)
    weights = torch.randn(4, 5, 12, 6, dtype=torch.float64)
    results = []
    for ensemble in paths:
        out, (h_n, c_n) = ensemble.rnn(x)
        (out * weights).sum().backward()
        results.append((out, h_n, c_n))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    for (name, a), b in zip(paths[0].named_parameters(), paths[1].parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-12, rtol=0, msg=name)


@pytest.mark.parametrize("batched", [False, True])
def test_ensemble_forecaster_averages_its_members_and_is_causal(batched):
    """The forecast is the average of the members' forecasts, each member run as a single
    forecaster (float32: the fused and the batched kernels round apart by ~1e-7)."""
    prices = simulate("ar1", 700, seed=1)[0]
    quick = dict(
        lookback=10, hidden_size=4, steps=100, eval_every=50, learning_rate=1e-2, min_gain_se=0
    )
    model = LSTMForecaster(ensemble=3, ensemble_batched=batched, **quick).fit(prices)
    assert len(model.members_) == 3
    assert all(m.best_epoch > 0 for m in model.members_)  # each learned, none kept its start
    forecasts = []
    for k in range(3):  # member k alone: its network, the ensemble's scalers and settings
        single = model.member(k)
        assert single.ensemble == 1 and single.history_ is model.members_[k]
        forecasts.append(single.predict(prices).to_numpy())
    with pytest.raises(ValueError, match="members 0 to 2"):
        model.member(3)
    with pytest.raises(ValueError, match="one LSTM, not an ensemble"):
        model.member(0).member(0)
    assert model.ensemble == 3 and len(model.members_) == 3  # the ensemble is left as it was
    mean, got = np.mean(forecasts, axis=0), model.predict(prices).to_numpy()
    ok = np.isfinite(mean)
    np.testing.assert_allclose(got[ok], mean[ok], atol=1e-6)
    assert np.std(np.array(forecasts)[:, ok], axis=0).mean() > 0  # the members differ
    check_forecaster(lambda: LSTMForecaster(ensemble=2, ensemble_batched=batched, **quick), prices)


def test_ensemble_saves_and_loads(tmp_path):
    prices = simulate("ar1", 500, seed=2)[0]
    model = LSTMForecaster(ensemble=2, lookback=10, hidden_size=4, epochs=1).fit(prices)
    model.save(tmp_path / "m")
    loaded = LSTMForecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(prices), model.predict(prices))
    # what training kept for each member comes back too (explain --member, predict's note)
    for was, back in zip(model.members_, loaded.members_, strict=True):
        assert (back.best_epoch, back.steps, back.best_round) == (
            was.best_epoch,
            was.steps,
            was.best_round,
        )
        assert back.best_val_loss == pytest.approx(was.best_val_loss)
        assert back.gain_se == pytest.approx(was.gain_se, nan_ok=True)
    assert loaded.member(1).history_ is loaded.members_[1]
    with pytest.raises(ValueError, match="--variant standard"):
        LSTMForecaster(ensemble=2, variant="peephole")


def test_members_trained_through_any_map_give_the_same_model(monkeypatch):
    """Members are independent: trained last to first (as a parallel map may), the ensemble
    forecasts exactly as trained in order."""
    from lstm_forecast.data.simulate import simulate
    from lstm_forecast.models import LSTMForecaster, parallel

    prices = simulate("ar1", 500, seed=2)[0]
    settings = dict(lookback=10, hidden_size=4, epochs=2, ensemble=3)
    ordered = LSTMForecaster(**settings).fit(prices)

    def backwards(fn, shared, items):
        return [fn(shared, item) for item in items[::-1]][::-1]

    monkeypatch.setattr(parallel, "task_map", backwards)
    reverse = LSTMForecaster(**settings).fit(prices)
    pd.testing.assert_frame_equal(ordered.predict(prices), reverse.predict(prices))
    assert [m.best_val_loss for m in ordered.members_] == [
        m.best_val_loss for m in reverse.members_
    ]


@pytest.mark.parametrize(
    "settings",
    [
        {"distribution": "normal"},
        {"distribution": "t"},
        {"target": "variance", "distribution": "t"},
    ],
)
def test_an_ensemble_of_distributions_is_its_members_mixture_moments(settings, monkeypatch):
    """Each member as trained, run as a single forecaster, gives its own (mean, sd, df); the
    ensemble's are those of their mixture (:func:`combine`), so nothing a member learned (its
    EWMA anchor included) is lost in stacking them; member 0 is the model its seed trains
    alone, on the head's loss; and the ensemble is causal, its distribution included."""
    from lstm_forecast.data.simulate import simulate_volatility
    from lstm_forecast.models import parallel
    from lstm_forecast.models.lstm_heads import combine

    trained, task_map = [], parallel.task_map

    def recording(fn, shared, items):
        out = task_map(fn, shared, items)
        trained.extend(copy.deepcopy(net) for net, _ in out)
        return out

    monkeypatch.setattr(parallel, "task_map", recording)
    prices = simulate_volatility("garch_t", days=700, seed=1)[0]
    quick = dict(
        lookback=10, hidden_size=4, steps=100, eval_every=10, learning_rate=1e-2, min_gain_se=0
    )
    quick.update(settings)
    model = LSTMForecaster(ensemble=3, **quick).fit(prices)
    assert len(trained) == 3
    at = prices.index[-40:]
    parts = {"mean": [], "sd": [], "df": []}
    for net in trained:
        single = copy.copy(model)
        single.net_, single.ensemble = net.eval(), 1
        for key, frame in single.predict_distribution(prices, at).items():
            parts[key].append(frame.to_numpy())
    alone = LSTMForecaster(**quick).fit(prices)
    assert alone.history_.best_val_loss == pytest.approx(model.members_[0].best_val_loss)
    kind = "variance" if "target" in settings else settings["distribution"]
    expected = combine(kind, *(np.stack(parts[key]) for key in ("mean", "sd", "df")))
    got = model.predict_distribution(prices, at)
    for key, want in zip(("mean", "sd", "df"), expected, strict=True):
        want = want * np.ones_like(got[key])
        np.testing.assert_allclose(got[key].to_numpy(), want, rtol=1e-5, atol=1e-9)
    assert np.std(np.array(parts["sd"]), axis=0).mean() > 0  # the members differ
    check_forecaster(lambda: LSTMForecaster(ensemble=2, **quick), prices)


def test_mixture_moments_against_numerical_integration():
    from scipy import integrate, stats

    from lstm_forecast.models.lstm_heads import combine

    loc, sd = np.array([[0.01], [-0.02], [0.005]]), np.array([[0.02], [0.01], [0.03]])
    for kind, df in (("normal", np.full((3, 1), np.inf)), ("t", np.array([[7.0], [9.0], [30.0]]))):
        # each member's scale from its sd (a t's variance is scale^2 nu / (nu - 2))
        scale = sd * np.sqrt(np.where(np.isinf(df), 1.0, (df - 2) / np.minimum(df, 1e300)))
        members = [
            stats.norm(loc[k, 0], sd[k, 0]) if np.isinf(df[k, 0])
            else stats.t(df[k, 0], loc[k, 0], scale[k, 0])
            for k in range(3)
        ]  # fmt: skip

        def density(x, members=members):
            return np.mean([m.pdf(x) for m in members])

        def moment(f, density=density):
            return integrate.quad(lambda x: f(x) * density(x), -np.inf, np.inf, limit=400)[0]

        mean = moment(lambda x: x)
        var = moment(lambda x, m=mean: (x - m) ** 2)
        got_mean, got_sd, got_df = combine(kind, loc, sd, df)
        assert got_mean[0] == pytest.approx(mean, rel=1e-6)
        assert got_sd[0] == pytest.approx(np.sqrt(var), rel=1e-6)
        if kind == "t":  # the t of the mixture's kurtosis: 3 + 6 / (nu - 4)
            kurtosis = moment(lambda x, m=mean: (x - m) ** 4) / var**2
            assert got_df[0] == pytest.approx(4 + 6 / (kurtosis - 3), rel=1e-4)
        else:
            assert np.isinf(got_df[0])
    heavy = combine("t", loc, sd, np.array([[3.0], [9.0], [30.0]]))[2]
    assert heavy[0] == 3.0  # an infinite fourth moment: the heaviest member's tail
    one = combine("variance", np.zeros((2, 1)), np.array([[1.0], [2.0]]), np.full((2, 1), 6.0))
    assert one[1][0] == pytest.approx(np.sqrt(2.5)) and one[2][0] == 6.0


def test_an_ensemble_of_distributions_saves_and_loads(tmp_path):
    prices = simulate("ar1", 500, seed=2)[0]
    model = LSTMForecaster(ensemble=2, lookback=10, hidden_size=4, epochs=1, distribution="t")
    model.fit(prices).save(tmp_path / "m")
    loaded = LSTMForecaster.load(tmp_path / "m")
    a, b = model.predict_distribution(prices), loaded.predict_distribution(prices)
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key])
    with pytest.raises(ValueError, match="--ensemble-batched trains point forecasts only"):
        LSTMForecaster(ensemble=2, ensemble_batched=True, distribution="t")


@PATHS
@pytest.mark.parametrize("min_gain_se", [1.0, 8.0])
def test_each_member_meets_its_floor_as_it_would_alone(fused, min_gain_se):
    """With a floor (members at zero: the mean), batched members are floored or kept as each
    is trained alone: the same decisions, gains and final forecasts. Members whose kept
    weights are their random starting heads lose to the mean and are replaced."""
    members = nets(3, head_lags=4)
    alone = [copy.deepcopy(net) for net in members]
    floors = nets(3, head_lags=4)
    for net in floors:
        with torch.no_grad():
            net.lag_out.weight.zero_(), net.lag_out.bias.zero_()
    config = TrainConfig(
        batch_size=32, steps=60, eval_every=10, patience=2, seed=5, learning_rate=1e-2,
        min_gain_se=min_gain_se,
    )  # fmt: skip
    ensemble = EnsembleNet(members, fused).double()
    dates = np.repeat(np.arange(30), 2)
    results = train_ensemble(ensemble, *data(), config, dates, EnsembleNet(floors, fused).double())
    x = data()[2]
    for k, net in enumerate(alone):
        result = train(net, *data(), config, val_dates=dates, floor=floors[k])
        assert results[k].floored == result.floored and results[k].best_epoch == result.best_epoch
        assert results[k].floor_gain_se == pytest.approx(result.floor_gain_se, rel=1e-8)
        torch.testing.assert_close(ensemble(x)[k], net(x), atol=1e-8, rtol=0)
        if result.floored:
            torch.testing.assert_close(net(x), floors[k](x), atol=0, rtol=0)
    assert any(r.floored for r in results) == (min_gain_se == 8.0)
