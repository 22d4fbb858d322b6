"""The training loop: determinism, the NaN guard, early stopping, checkpoints and resume."""

import copy
import itertools
import math

import pytest
import torch
from torch import nn

from lstm_forecast.training import ModelFileError, TrainConfig, TrainingError, train
from lstm_forecast.training.files import read_bundle


def data(seed=0, n=300):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, 1, generator=g)
    y = x[:, -1] * 0.5 + 0.1 * torch.randn(n, 1, generator=g)
    return x[:240], y[:240], x[240:], y[240:]


class Net(nn.Module):
    def __init__(self, dropout=0.2, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.rnn = nn.GRU(1, 8, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.drop(self.rnn(x)[0][:, -1]))


class PoisonAfter(Net):
    """Returns NaN from its n-th call on."""

    def __init__(self, calls):
        super().__init__()
        self.calls, self.seen = calls, 0

    def forward(self, x):
        self.seen += 1
        out = super().forward(x)
        return out * math.nan if self.seen >= self.calls else out


def state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_same_seed_bit_identical():
    config = TrainConfig(epochs=4, batch_size=32, learning_rate=1e-2, seed=3)
    a, b = Net(), Net()
    train(a, *data(), config)
    train(b, *data(), config)
    for (name, va), vb in zip(state(a).items(), state(b).values(), strict=True):
        assert torch.equal(va, vb), name
    c = Net()
    train(c, *data(), TrainConfig(epochs=4, batch_size=32, learning_rate=1e-2, seed=4))
    assert not torch.equal(state(a)["head.weight"], state(c)["head.weight"])


def test_nan_stops_with_epoch_and_batch_and_keeps_finite_weights(tmp_path):
    # Round 0 validates the starting weights (2 batches, calls 1-2); epoch 1: 8 training
    # batches of 32 (calls 3-10) and 2 validation batches (11-12); call 14 is the second batch
    # of epoch 2.
    model = PoisonAfter(calls=14)
    checkpoint = tmp_path / "ckpt.safetensors"
    config = TrainConfig(epochs=5, batch_size=32, learning_rate=1e-2)
    with pytest.raises(TrainingError, match="round 2, step 10; lower the learning rate"):
        train(model, *data(), config, checkpoint=checkpoint)
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    tensors, _ = read_bundle(checkpoint)
    assert all(torch.isfinite(v).all() for v in tensors.values() if v.is_floating_point())


def test_early_stopping_restores_best_weights():
    model = Net(dropout=0.0)
    x, y, vx, vy = data()
    result = train(
        model, x, y, vx, vy, TrainConfig(epochs=60, batch_size=16, learning_rate=5e-2, patience=2)
    )
    assert result.stopped_early and len(result.history) < 60
    best = min(row["val_loss"] for row in result.history)
    assert result.best_val_loss == best
    with torch.no_grad():
        now = nn.functional.mse_loss(model(vx), vy).item()
    assert now == pytest.approx(best, rel=1e-6)


def test_the_starting_weights_are_kept_when_no_round_beats_them():
    """Round 0: a head that starts at zero forecasts 0, exactly the validation targets here, so
    every round of training on noise is worse and training hands back the starting weights."""
    model = Net(dropout=0.0)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    start = state(model)
    x, y, vx, _ = data()
    config = TrainConfig(epochs=5, batch_size=32, learning_rate=1e-2, patience=3)
    result = train(model, x, torch.randn_like(y), vx, torch.zeros(len(vx), 1), config)
    assert result.best_epoch == 0 and result.best_val_loss == 0.0
    assert result.stopped_early and len(result.history) == 3
    assert all(row["val_loss"] > 0 for row in result.history)
    for name, value in state(model).items():
        assert torch.equal(value, start[name]), name


def test_a_round_that_beats_the_start_is_kept():
    model = Net(dropout=0.0)
    x, y, vx, vy = data()
    with torch.no_grad():
        start = nn.functional.mse_loss(model(vx), vy).item()
    result = train(model, x, y, vx, vy, TrainConfig(epochs=5, batch_size=32, learning_rate=1e-2))
    assert result.best_epoch > 0 and result.best_val_loss < start


def test_resume_after_interruption_equals_uninterrupted(tmp_path):
    config = TrainConfig(epochs=6, batch_size=32, learning_rate=1e-2, patience=10, seed=1)
    full = Net()
    expected = train(full, *data(), config, checkpoint=tmp_path / "full.safetensors")

    def interrupt(epoch, row):
        if epoch == 3:
            raise KeyboardInterrupt

    path = tmp_path / "run.safetensors"
    first = Net()
    with pytest.raises(KeyboardInterrupt):
        train(first, *data(), config, checkpoint=path, on_epoch_end=interrupt)
    resumed = Net(seed=99)  # different initial weights: the checkpoint must supply them
    result = train(resumed, *data(), config, checkpoint=path, resume=True)
    assert [r["val_loss"] for r in result.history] == [r["val_loss"] for r in expected.history]
    for (name, a), b in zip(state(full).items(), state(resumed).values(), strict=True):
        assert torch.equal(a, b), name


def test_resume_refuses_other_settings_and_damaged_files(tmp_path):
    path = tmp_path / "c.safetensors"
    config = TrainConfig(epochs=1, batch_size=64)
    train(Net(), *data(), config, checkpoint=path, fingerprint="a")
    with pytest.raises(ModelFileError, match="other settings or data"):
        train(Net(), *data(), config, checkpoint=path, resume=True, fingerprint="b")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        train(Net(), *data(), config, checkpoint=path, resume=True, fingerprint="a")


def test_config_and_data_errors():
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig(learning_rate=0)
    x, y, _, _ = data()
    with pytest.raises(ValueError, match="validation samples"):
        train(Net(), x, y, x[:0], y[:0], TrainConfig())


def test_progress_is_silent_off_a_terminal(capsys):
    train(Net(), *data(), TrainConfig(epochs=2), progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        ("rng.torch", "'rng.torch' is missing"),
        ("optimizer", "'optimizer' is missing"),
        ("bad_epochs", "'bad_epochs' is missing"),
        ("result", "'result' is missing"),
    ],
)
def test_checkpoint_missing_a_part_is_a_model_file_error(tmp_path, damage, match):
    from lstm_forecast.training.files import write_tensors

    path = tmp_path / "c.safetensors"
    config = TrainConfig(epochs=1, batch_size=64)
    train(Net(), *data(), config, checkpoint=path, fingerprint="a")
    tensors, doc = read_bundle(path)
    tensors.pop(damage, None)
    doc.pop(damage, None)
    write_tensors(path, tensors, doc)
    with pytest.raises(ModelFileError, match=match):
        train(Net(), *data(), config, checkpoint=path, resume=True, fingerprint="a")


def test_checkpoint_paths_checked_before_training(tmp_path):
    config = TrainConfig(epochs=1, batch_size=64)
    with pytest.raises(ModelFileError, match="is a directory"):
        train(Net(), *data(), config, checkpoint=tmp_path)
    path = tmp_path / "c.safetensors"
    path.write_bytes(b"the user's")
    with pytest.raises(ModelFileError, match="exists; pass --resume"):
        train(Net(), *data(), config, checkpoint=path)
    assert path.read_bytes() == b"the user's"


def test_temporary_files_of_a_killed_checkpoint_write_are_removed(tmp_path):
    path = tmp_path / "c.safetensors"
    for k in range(3):
        (tmp_path / f".c.safetensors.tmp{k}").write_bytes(b"partial")
    (tmp_path / "mine.txt").write_text("kept")
    train(Net(), *data(), TrainConfig(epochs=1, batch_size=64), checkpoint=path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.safetensors", "mine.txt"]


def test_step_budget_runs_rounds_of_eval_every_steps():
    config = TrainConfig(batch_size=32, steps=25, eval_every=10, patience=100, seed=1)
    result = train(Net(), *data(), config)
    assert [row["step"] for row in result.history] == [10, 20, 25]
    assert result.steps == 25


def test_cosine_schedule_warms_up_then_decays_to_the_floor():
    config = TrainConfig(steps=100, schedule="cosine", warmup=0.1, min_lr_ratio=0.1)
    factors = [config.rate_factor(k, 100) for k in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(factors[9:]))
    assert factors[-1] == pytest.approx(0.1, abs=2e-3)
    assert TrainConfig().rate_factor(50, 100) == 1.0


def test_step_budget_resume_is_exact(tmp_path):
    """Interrupted after a round and resumed: the same weights as one uninterrupted run."""
    config = TrainConfig(
        batch_size=32,
        steps=40,
        eval_every=10,
        patience=100,
        schedule="cosine",
        seed=2,
        weight_decay=0.01,
    )
    full = Net(seed=5)
    train(full, *data(), config)
    path = tmp_path / "c.safetensors"

    def interrupt(epoch, row):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(Net(seed=5), *data(), config, checkpoint=path, on_epoch_end=interrupt)
    resumed = Net(seed=99)
    train(resumed, *data(), config, checkpoint=path, resume=True)
    for (name, a), b in zip(state(full).items(), state(resumed).values(), strict=True):
        assert torch.equal(a, b), name


def test_gain_in_se_is_a_one_sample_t_statistic():
    from scipy import stats

    from lstm_forecast.training.loop import gain_in_se

    gain = torch.tensor([0.3, -0.1, 0.25, 0.05, 0.4, -0.2, 0.1], dtype=torch.float64)
    assert gain_in_se(gain) == pytest.approx(stats.ttest_1samp(gain.numpy(), 0).statistic)
    assert gain_in_se(torch.tensor([0.5])) != gain_in_se(torch.tensor([0.5]))  # nan: one sample
    assert gain_in_se(torch.tensor([0.5, 0.5])) == math.inf
    assert gain_in_se(torch.tensor([0.0, 0.0])) == 0.0


def test_the_best_round_must_beat_the_start_by_min_gain_se_standard_errors():
    """The same training with the rule off, at 1 and at 100 standard errors: the best round
    is the same; its gain (a t statistic on the validation samples, checked by hand) decides
    whether it replaces the starting weights."""
    x, y, vx, vy = data()
    runs = {}
    for m in (0.0, 1.0, 100.0):
        net = Net(dropout=0.0)
        start = state(net)
        config = TrainConfig(epochs=5, batch_size=32, learning_rate=1e-2, min_gain_se=m)
        runs[m] = (net, start, train(net, x, y, vx, vy, config))
    net, start, result = runs[0.0]
    assert result.best_round == result.best_epoch > 0 and not result.declined
    with torch.no_grad():
        before = (Net(dropout=0.0)(vx) - vy).pow(2).squeeze(1)
        after = (net(vx) - vy).pow(2).squeeze(1)
    gain = (before - after).double()
    t = gain.mean() / (gain.std() / math.sqrt(len(gain)))
    assert result.gain_se == pytest.approx(float(t), rel=1e-5) and 1 < result.gain_se < 100
    assert not runs[1.0][2].declined and runs[1.0][2].best_epoch == result.best_epoch
    net, start, declined = runs[100.0]
    assert declined.declined and declined.best_epoch == 0
    assert declined.best_round == result.best_round and declined.gain_se == result.gain_se
    assert declined.best_val_loss == declined.start_val_loss
    for name, value in state(net).items():  # the starting weights, as they were
        assert torch.equal(value, start[name]), name
    with pytest.raises(ValueError, match="min_gain_se"):
        TrainConfig(min_gain_se=-1)


def test_on_noise_the_rule_keeps_the_start_where_the_lowest_loss_is_luck():
    """Targets independent of the inputs and 40 validation samples: the lowest of the
    rounds' validation losses beats the start by luck; the rule declines it."""

    def at_the_mean():  # the head starts at zero: the targets' mean, as the LSTM's does
        net = Net(dropout=0.0)
        nn.init.zeros_(net.head.weight), nn.init.zeros_(net.head.bias)
        return net

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(300, 5, 1, generator=g), torch.randn(300, 1, generator=g)
    config = dict(epochs=20, batch_size=32, learning_rate=1e-2, patience=20)
    kept = train(at_the_mean(), x[:260], y[:260], x[260:], y[260:], TrainConfig(**config))
    assert kept.best_epoch > 0 and kept.gain_se < 1  # the lucky round, kept without the rule
    ruled = train(
        at_the_mean(), x[:260], y[:260], x[260:], y[260:], TrainConfig(**config, min_gain_se=1.0)
    )
    assert ruled.declined and ruled.best_epoch == 0 and ruled.best_round == kept.best_epoch


def test_resume_with_the_rule_equals_uninterrupted(tmp_path):
    """The starting weights are in the checkpoint: a resumed run declines as the whole run."""
    config = TrainConfig(epochs=6, batch_size=32, learning_rate=1e-2, seed=1, min_gain_se=100)
    full = Net()
    expected = train(full, *data(), config)
    assert expected.declined

    def interrupt(epoch, row):
        if epoch == 3:
            raise KeyboardInterrupt

    path = tmp_path / "run.safetensors"
    with pytest.raises(KeyboardInterrupt):
        train(Net(), *data(), config, checkpoint=path, on_epoch_end=interrupt)
    resumed = Net(seed=99)
    result = train(resumed, *data(), config, checkpoint=path, resume=True)
    assert result.declined and result.best_round == expected.best_round
    for (name, a), b in zip(state(full).items(), state(resumed).values(), strict=True):
        assert torch.equal(a, b), name


def test_gain_in_se_counts_a_date_once_and_overlapping_targets_by_newey_west():
    """A panel's samples of one date are averaged (they move together); with h-day targets
    the variance is Newey-West's with h - 1 lags, as statsmodels computes it for a mean."""
    import numpy as np
    import statsmodels.api as sm

    from lstm_forecast.training.loop import gain_in_se

    g = np.random.default_rng(3)
    per_date = np.convolve(g.normal(0.1, 1, 203), np.ones(4) / 4, mode="valid")  # overlapping
    fit = sm.OLS(per_date, np.ones(len(per_date))).fit(
        cov_type="HAC", cov_kwds={"maxlags": 3, "use_correction": False}
    )
    expected = per_date.mean() / fit.bse[0]
    assert gain_in_se(torch.tensor(per_date), lags=3) == pytest.approx(expected, rel=1e-10)
    # three tickers a date, their gains around the date's: the dates are the samples
    dates = np.repeat(np.arange(len(per_date)), 3)
    panel = np.repeat(per_date, 3) + np.tile([-0.5, 0.0, 0.5], len(per_date))
    shuffled = g.permutation(len(dates))
    got = gain_in_se(torch.tensor(panel[shuffled]), dates[shuffled], lags=3)
    assert got == pytest.approx(expected, rel=1e-10)
    iid = gain_in_se(torch.tensor(panel))  # as independent samples: too many standard errors
    assert iid > 1.5 * expected > 0


def test_a_floor_replaces_kept_weights_that_do_not_beat_it():
    """A warm start from a fit of another rule, refitted on noise. Where training cannot move
    (a learning rate of 1e-9) the rule keeps the start, and the floor, a network at the
    targets' mean, replaces it, by a gain checked by hand. Where training improves on the bad
    start by more than a standard error, the round kept still loses to the mean and is
    replaced too. Weights that beat the mean by less than a standard error are kept (the bar
    to stay is a gain above 0). With the rule off (0) the floor is not applied, and on a
    planted signal the trained weights beat the floor and stay."""

    def at_the_mean():
        net = Net(dropout=0.0, seed=7)
        nn.init.zeros_(net.head.weight), nn.init.zeros_(net.head.bias)
        return net

    previous = Net(dropout=0.0)  # fitted to a rule that the noise below does not follow
    train(previous, *data(seed=3), TrainConfig(epochs=10, batch_size=32, learning_rate=1e-2))
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(300, 5, 1, generator=g), torch.randn(300, 1, generator=g)
    noise = (x[:240], y[:240], x[240:], y[240:])
    config = dict(epochs=10, batch_size=32, patience=3, min_gain_se=1.0)
    net, floor = copy.deepcopy(previous), at_the_mean()
    stuck = train(net, *noise, TrainConfig(**config, learning_rate=1e-9), floor=floor)
    with torch.no_grad():
        kept = (previous(x[240:]) - y[240:]).pow(2).squeeze(1)
        simple = y[240:].pow(2).squeeze(1)
    gain = (simple - kept).double()
    t = gain.mean() / (gain.std() / math.sqrt(len(gain)))
    assert stuck.best_round == 0 or stuck.declined  # the start, as it was
    assert stuck.floored and stuck.best_epoch == 0 and t < 0
    assert stuck.floor_gain_se == pytest.approx(float(t), rel=1e-5)
    for name, value in state(net).items():
        assert torch.equal(value, state(floor)[name]), name
    moved = train(
        copy.deepcopy(previous), *noise, TrainConfig(**config, learning_rate=1e-3),
        floor=at_the_mean(),
    )  # fmt: skip
    assert moved.best_round > 0 and not moved.declined and moved.gain_se > 1
    assert moved.floored and moved.floor_gain_se < 0 and moved.best_epoch == 0
    x = torch.randn(300, 5, 1, generator=g.manual_seed(0))
    y = 0.4 * x[:, -1] + torch.randn(300, 1, generator=g)  # the rule, weaker: still ahead
    weaker = train(
        copy.deepcopy(previous), x[:240], y[:240], x[240:], y[240:],
        TrainConfig(**config, learning_rate=1e-9), floor=at_the_mean(),
    )  # fmt: skip
    assert not weaker.floored and 0 < weaker.floor_gain_se < 1
    off = train(
        copy.deepcopy(previous), *noise, TrainConfig(**{**config, "min_gain_se": 0.0}),
        floor=at_the_mean(),
    )  # fmt: skip
    assert not off.floored and off.floor_gain_se < 0
    signal = train(
        Net(dropout=0.0), *data(), TrainConfig(**config, learning_rate=1e-2), floor=at_the_mean()
    )
    assert not signal.floored and signal.floor_gain_se > 1 and signal.best_epoch > 0


def test_a_floor_that_forecasts_as_the_kept_weights_decides_nothing():
    def at_the_mean(seed):
        net = Net(dropout=0.0, seed=seed)
        nn.init.zeros_(net.head.weight), nn.init.zeros_(net.head.bias)
        return net

    net = at_the_mean(0)
    config = TrainConfig(epochs=3, batch_size=32, learning_rate=1e-2, min_gain_se=100.0)
    result = train(net, *data(), config, floor=at_the_mean(1))
    assert result.declined and not result.floored and math.isnan(result.floor_gain_se)
