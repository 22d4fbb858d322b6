r"""The LSTM forecaster: the torch engine behind the same contract as the baselines.

At origin :math:`t` the network reads the last ``lookback`` one-step log returns of a ticker,
standardised with that ticker's training mean and standard deviation, and outputs the next
``horizon`` standardised returns at once (direct multi-step). The forecast is their sum in
return units, :math:`\hat y_t = \sum_{k=1}^{h} (\mu + \sigma \hat z_{t+k})`, the log return
over the horizon. With several tickers one global network is trained on all of them.
The head reads the LSTM's last state and, through a hidden layer, the last ``head_lags``
standardised returns as well (:class:`ForecastNet`).

Training samples whose targets reach the validation slice are dropped (a gap of ``horizon``
origins), and the validation slice is the chronologically last part of the training window.
The head starts at zero (the training mean), and training keeps a round's weights only if
they beat those starting weights on validation by ``min_gain_se`` standard errors
(:func:`~lstm_forecast.training.loop.train`). A warm-started refit starts from the previous
fit; with ``mean_floor`` whatever it keeps must also beat a fresh network, which forecasts
the training mean, on this refit's validation slice, or the fresh network is kept: a fit
that beat its start by luck once is tested again at every refit (forecasts of returns, not
of variance).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional

from ..data.holidays import closed_weekdays
from ..features import StandardScaler, log_returns, sliding_windows
from ..features.inputs import (
    COVARIATE,
    GROUP_OF,
    check_features,
    covariate_names,
    feature_names,
    input_panel,
)
from ..features.inputs import DEFAULT as DEFAULT_FEATURES
from . import parallel
from .base import BaseForecaster
from .lstm_heads import (
    ANCHORED_OUTPUT,
    LOSSES,
    combine,
    decode,
    fit_nu,
    head_kind,
    head_width,
    init_head,
    log_ewma_variance,
)
from .lstm_settings import SETTINGS, check_lstm_settings

if TYPE_CHECKING:
    from ..training.windows import WindowSet

# Hidden units of the head's layer on the last inputs (ForecastNet, head_lags > 0).
LAG_UNITS = 64
# The units of that layer (``head_activation``): GELU, smooth, finds more of a product of two
# lags, ReLU, with its kink, more of a threshold rule (docs/power.md).
ACTIVATIONS = {"relu": torch.relu, "gelu": functional.gelu}
# The linear layers of a ForecastNet's head, in the order its forward applies them.
HEAD_LAYERS = ("head", "lag_hidden", "lag_out")


def lag_inputs(last: torch.Tensor, x: torch.Tensor, lags: int) -> torch.Tensor:
    """What the head's layer reads: ``[h_L; z_{L-k+1}; ...; z_L]``, the last state beside the
    last ``lags`` values of input 0 of ``x`` (B, L, F). ``last`` is (B, H) for one network or
    (K, B, H) for K members, which all read the same returns: (..., B, H + k)."""
    z = x[:, -lags:, 0]  # (B, k)
    return torch.cat([last, z.expand(*last.shape[:-1], lags)], dim=-1)


def anchored(prediction: torch.Tensor, x: torch.Tensor, k: int, gain: torch.Tensor) -> torch.Tensor:
    """``prediction`` (..., B, width) with output ``k`` moved by ``gain`` times the log EWMA
    variance of input 0 of ``x`` (B, L, F): the EWMA anchor. ``gain`` is a scalar for one
    network, (K, 1, 1) for K members."""
    moved = prediction[..., k : k + 1] + gain * log_ewma_variance(x[:, :, 0])[:, None]
    return torch.cat([prediction[..., :k], moved, prediction[..., k + 1 :]], dim=-1)


class EnsembleNet(nn.Module):
    """K :class:`ForecastNet` members as one batched model: (B, L, F) -> (K, B, h).

    The recurrent stacks run in one :class:`~lstm_forecast.nn.batched.BatchedLSTM` (``fused``:
    its block-diagonal fused kernel, its step loop, or None for the fused kernel on a GPU only);
    each member keeps its own head: every linear layer ``name`` of it stacked as
    ``name_weight`` (K, out, in) and ``name_bias`` (K, out).
    """

    def __init__(self, nets: list[ForecastNet], fused: bool | None = None) -> None:
        super().__init__()
        from ..nn.batched import BatchedLSTM

        self.rnn = BatchedLSTM([net.rnn for net in nets], fused)
        self.head_lags = nets[0].head_lags
        self.head_activation = nets[0].head_activation
        self.layers = [name for name in HEAD_LAYERS if hasattr(nets[0], name)]
        for name in self.layers:
            for part in ("weight", "bias"):
                stacked = torch.stack([getattr(getattr(n, name), part).detach() for n in nets])
                self.register_parameter(f"{name}_{part}", nn.Parameter(stacked))
        # each member's EWMA anchor (distribution and variance heads): (K,)
        self.anchor_output, self.anchor_gain = nets[0].anchor_output, nets[0].anchor_gain
        if self.anchor_output is not None:
            self.anchor = nn.Parameter(torch.stack([n.anchor.detach() for n in nets]))

    def _linear(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """Each member's layer ``name`` on its own rows: (K, B, in) -> (K, B, out)."""
        weight, bias = getattr(self, f"{name}_weight"), getattr(self, f"{name}_bias")
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))

    def forward(self, x: torch.Tensor, return_states: bool = False) -> torch.Tensor:
        if return_states:
            raise ValueError("an ensemble holds several LSTMs; open one model at a time")
        out, _ = self.rnn(x)
        last = out[:, :, -1]  # (K, B, H)
        prediction = self._linear("head", last)
        if self.head_lags:
            units = self._linear("lag_hidden", lag_inputs(last, x, self.head_lags))
            hidden = ACTIVATIONS[self.head_activation](units)
            prediction = prediction + self._linear("lag_out", hidden)
        if self.anchor_output is not None:  # each member with its own weight
            gain = (self.anchor_gain * self.anchor)[:, None, None]  # (K, 1, 1)
            prediction = anchored(prediction, x, self.anchor_output, gain)
        return prediction

    def load_members(self, nets: list[ForecastNet]) -> None:
        """Copy the weights of ``nets`` (member ``k`` from ``nets[k]``) into this ensemble."""
        self._exchange(nets, into_members=False)

    def to_members(self, nets: list[ForecastNet]) -> list[ForecastNet]:
        """The inverse of :meth:`load_members`: member ``k``'s weights into ``nets[k]``."""
        self._exchange(nets, into_members=True)
        return nets

    def _exchange(self, nets: list[ForecastNet], into_members: bool) -> None:
        with torch.no_grad():
            for k, net in enumerate(nets):
                pairs = [
                    (value, getattr(self.rnn, name)[k])
                    for name, value in net.rnn.named_parameters()
                ]
                for name in self.layers:
                    layer = getattr(net, name)
                    pairs += [
                        (getattr(layer, part), getattr(self, f"{name}_{part}")[k])
                        for part in ("weight", "bias")
                    ]
                if self.anchor_output is not None:
                    pairs.append((net.anchor, self.anchor[k]))
                for member, stacked in pairs:
                    if into_members:
                        member.copy_(stacked)
                    else:
                        stacked.copy_(member)


class ForecastNet(nn.Module):
    r"""Recurrent stack, then a head on the last hidden state: (B, L, F) -> (B, h).

    .. math::
        \hat y = W h_L + b + V\,\sigma\big(U [h_L; z_{L-k+1}; \dots; z_L] + c\big) + d

    The first two terms are the linear head; the third, with ``head_lags`` :math:`k > 0`, is a
    hidden layer of ``LAG_UNITS`` units :math:`\sigma` (``head_activation``: ReLU or GELU,
    :data:`ACTIVATIONS`) that reads the LSTM's last state beside the last
    :math:`k` values :math:`z` of input 0, the standardised return: a skip connection from the
    inputs to the head, as in LSTNet's highway, but nonlinear. The LSTM carries the past in
    leaky sums, so an interaction of two recent days (a product of lags) costs it many
    examples to isolate; the hidden layer sees those days one by one. It reads the returns
    only: given every feature group's last days as well, it has too many inputs for a few
    thousand days and fits their noise (docs/power.md). :math:`V, d` start at zero, like the
    linear head.

    ``anchor``: the output that gets ``anchor_gain * self.anchor`` times the log EWMA variance
    of input 0 (:func:`~.lstm_heads.log_ewma_variance`), or None (no anchor).

    Shapes: ``x`` (B, L, F) with :math:`L \ge k`; ``h_L`` (B, H); output (B, h).
    """

    def __init__(
        self,
        hidden_size,
        num_layers,
        variant,
        dropout,
        horizon,
        path,
        device,
        input_size=1,
        anchor: int | None = None,
        anchor_gain: float = 1.0,
        head_lags: int = 0,
        head_activation: str = "relu",
    ):
        super().__init__()
        from ..nn.engine import RecurrentEngine

        self.rnn = RecurrentEngine(
            input_size, hidden_size, num_layers, variant, dropout, path, device
        )
        # The layers are drawn on the CPU and then moved, as the engine's are: one seed gives
        # the same starting weights on every device (CUDA's generator draws other numbers).
        self.head = nn.Linear(hidden_size, horizon)
        self.anchor_output, self.anchor_gain = anchor, float(anchor_gain)
        if anchor is not None:
            self.anchor = nn.Parameter(torch.zeros(()))
        self.head_lags = int(head_lags)
        if head_activation not in ACTIVATIONS:
            raise ValueError(f"head_activation must be one of {', '.join(ACTIVATIONS)}")
        self.head_activation = head_activation
        if self.head_lags:
            width = hidden_size + self.head_lags
            self.lag_hidden = nn.Linear(width, LAG_UNITS)
            self.lag_out = nn.Linear(LAG_UNITS, horizon)
            with torch.no_grad():
                self.lag_out.weight.zero_()
                self.lag_out.bias.zero_()
        self.to(self.rnn.device)

    def forward(
        self, x: torch.Tensor, return_states: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        result = self.rnn(x, return_states=return_states)
        last = result[0][:, -1]  # (B, H)
        prediction = self.head(last)  # (B, h)
        if self.head_lags:
            units = self.lag_hidden(lag_inputs(last, x, self.head_lags))
            hidden = ACTIVATIONS[self.head_activation](units)
            prediction = prediction + self.lag_out(hidden)
        if self.anchor_output is not None:
            prediction = anchored(prediction, x, self.anchor_output, self.anchor_gain * self.anchor)
        return (prediction, result[2]) if return_states else prediction


MIN_TRAIN_DATES = 30
# The default training budget, in optimiser steps of the default batch (64): chosen on the
# power benchmark (docs/power.md), with patience 10 validations of 100 steps each.
DEFAULT_STEPS = 2000
# Validation samples scored after every round: a panel's last dates can hold hundreds of
# thousands of windows, and early stopping needs a loss, not all of them (a seeded subsample).
MAX_VALIDATION = 16_384


def _train_member(shared: tuple, pair: tuple[nn.Module, nn.Module | None]):
    """One ensemble member trained alone, given its floor (or None): (the trained network,
    its history)."""
    from ..training import train

    data, config, loss_fn, val_dates = shared
    net, floor = pair
    return net, train(net, *data, config, loss_fn=loss_fn, val_dates=val_dates, floor=floor)


class LSTMForecaster(BaseForecaster):
    """An LSTM on standardised log returns; see the module docstring."""

    name = "lstm"

    def __init__(
        self,
        lookback: int = 60,
        hidden_size: int = 32,
        num_layers: int = 1,
        variant: str = "standard",
        dropout: float = 0.0,
        horizon: int = 1,
        epochs: int | None = None,
        batch_size: int = 64,
        learning_rate: float = 2e-3,
        patience: int = 10,
        clip_norm: float | None = 1.0,
        seed: int = 0,
        device: str = "cpu",
        validation_fraction: float = 0.15,
        path: str = "eager",
        steps: int | None = None,
        eval_every: int = 100,
        schedule: str = "cosine",
        warmup: float = 0.05,
        weight_decay: float = 0.0,
        min_gain_se: float = 1.0,
        ensemble: int = 1,
        features: tuple[str, ...] | list[str] | str = DEFAULT_FEATURES,
        ensemble_batched: bool = False,
        distribution: str = "none",
        target: str = "return",
        max_epoch_steps: int | None = 64,
        ewma_anchor: bool = True,
        anchor_gain: float = 10.0,
        head_lags: int = 10,
        head_activation: str = "relu",
        mean_floor: bool = True,
        tune: int = 0,
        tune_seconds: float | None = None,
        warm_start: bool = False,
        progress: bool = False,
        checkpoint: str | None = None,
        resume: bool = False,
    ) -> None:
        super().__init__(horizon)
        if epochs is not None and steps is not None:
            raise ValueError(
                "lstm: give a budget in steps (--steps) or in epochs (--epochs), not both"
            )
        if epochs is None and steps is None:
            steps = DEFAULT_STEPS
        self.lookback, self.hidden_size, self.num_layers = lookback, hidden_size, num_layers
        self.variant, self.dropout, self.epochs = variant, dropout, epochs
        self.batch_size, self.learning_rate, self.patience = batch_size, learning_rate, patience
        self.clip_norm, self.seed, self.device = clip_norm, seed, device
        self.validation_fraction, self.path, self.warm_start = validation_fraction, path, warm_start
        self.progress, self.checkpoint, self.resume = progress, checkpoint, resume
        self.steps, self.eval_every, self.schedule = steps, eval_every, schedule
        self.warmup, self.weight_decay, self.min_gain_se = warmup, weight_decay, min_gain_se
        self.tune, self.tune_seconds, self.ensemble = tune, tune_seconds, ensemble
        self.ensemble_batched = ensemble_batched
        self.distribution, self.target = distribution, target
        self.max_epoch_steps, self.ewma_anchor = max_epoch_steps, ewma_anchor
        self.anchor_gain, self.head_lags = anchor_gain, head_lags
        self.head_activation, self.mean_floor = head_activation, mean_floor
        self.features = check_features(features)
        check_lstm_settings(self.settings())
        if ensemble > 1 and ensemble_batched and (distribution != "none" or target != "return"):
            raise ValueError(
                "lstm: --ensemble-batched trains point forecasts only (on the squared error); "
                "drop it to train a distribution's members one after another"
            )
        if not isinstance(tune, int) or isinstance(tune, bool) or not 0 <= tune <= 10_000:
            raise ValueError(f"lstm: tune (--tune) must be a number of trials >= 0, got {tune!r}")

    @property
    def head(self) -> str:
        """What the network forecasts: ``point``, ``normal``, ``t`` or ``variance``
        (:mod:`.lstm_heads`)."""
        return head_kind(self.distribution, self.target)

    @property
    def reads_other_tickers(self) -> bool:  # type: ignore[override]
        """True with the market features (each day's cross-section of every ticker); else a
        ticker's forecast reads its own data (and the shared covariates) only."""
        return "market" in self.features

    @property
    def distributional(self) -> bool:  # type: ignore[override]
        """True when the model forecasts a distribution (``predict_distribution``)."""
        return self.head != "point"

    def save(self, directory: str | Path, overwrite: bool = False) -> Path:
        """Write ``model.safetensors`` and ``config.json``; see :mod:`.lstm_files`."""
        from .lstm_files import save_model

        return save_model(self, directory, overwrite)

    @classmethod
    def load(cls, directory: str | Path, device: str | None = None) -> LSTMForecaster:
        """Read a saved model; nothing is unpickled. See :mod:`.lstm_files`."""
        from .lstm_files import load_model

        return load_model(directory, device, build=cls)

    def settings(self) -> dict:
        """The settings that define the model (what ``config.json`` records)."""
        settings = {name: getattr(self, name) for name in SETTINGS}
        settings["features"] = list(self.features)
        return settings

    # -- data -------------------------------------------------------------------------------

    def _standardized(self, prices: pd.DataFrame) -> np.ndarray:
        """Standardised log returns (T, N): the target's units."""
        returns = log_returns(prices)
        return self.scaler_.transform(returns).to_numpy(np.float32)  # (T, N)

    def _fit_scalers(self, prices: pd.DataFrame) -> np.ndarray | None:
        """Scaling from the training rows only: returns per ticker, other inputs pooled.
        Returns the unscaled inputs it was fitted on (None for returns alone)."""
        self.scaler_ = StandardScaler().fit(log_returns(prices))
        self.covariates_ = covariate_names(prices, self.features)
        names = self._input_names()
        extra = [k for k, n in enumerate(names) if n != "return"]
        self.feature_scaler_ = None
        if not extra:
            return None
        x = input_panel(prices, self.features, self.covariates_)
        values = x[:, :, extra].reshape(-1, len(extra))
        columns = [names[k] for k in extra]
        self.feature_scaler_ = StandardScaler().fit(pd.DataFrame(values, columns=columns))
        return x

    def _input_names(self) -> list[str]:
        return feature_names(self.features, getattr(self, "covariates_", []))

    def _inputs(
        self, prices: pd.DataFrame, raw: np.ndarray | None = None, z: np.ndarray | None = None
    ) -> np.ndarray:
        """The network's inputs (T, N, F), each feature standardised with training statistics
        (``raw``: the unscaled inputs and ``z``: the standardised returns, if at hand)."""
        z = self._standardized(prices) if z is None else z
        names = self._input_names()
        if names == ["return"]:
            return z[:, :, None]
        x = input_panel(prices, self.features, self.covariates_) if raw is None else raw
        out = np.empty(x.shape, np.float32)
        scaler = self.feature_scaler_
        for k, name in enumerate(names):
            if name == "return":
                out[:, :, k] = z
            else:
                out[:, :, k] = (x[:, :, k] - scaler.mean_[name]) / scaler.std_[name]
        return out

    def _samples(self, x: np.ndarray, z: np.ndarray, device=None):
        """Windows (S, L, F) of inputs ``x`` (T, N, F), gathered per batch (a
        :class:`~..training.windows.WindowSet`), targets (S, h) of standardised returns ``z``
        (T, N) and origin row of every complete sample."""
        from ..training.windows import WindowSet

        tickers, targets, origins = [], [], []
        lookback, horizon = self.lookback, self.horizon
        for n, column in enumerate(z.T):
            if len(column) < lookback + horizon + 1:
                continue
            view = sliding_windows(x[:, n, :], lookback)  # (T-L+1, L, F), zero-copy
            ahead = sliding_windows(column[lookback:], horizon)[:, :, 0]  # rows t+1..t+h
            m = len(ahead)
            ok = np.isfinite(view[:m]).all(axis=(1, 2)) & np.isfinite(ahead).all(axis=1)
            idx = np.flatnonzero(ok)
            tickers.append(np.full(len(idx), n))
            targets.append(ahead[idx])
            origins.append(idx + lookback - 1)
        if not targets:
            tickers, targets, origins = (
                [np.empty(0, int)],
                [np.empty((0, horizon))],
                [np.empty(0, int)],
            )
        origins = np.concatenate(origins)
        windows = WindowSet(x, np.concatenate(tickers), origins, lookback, device or "cpu")
        return windows, np.concatenate(targets), origins

    def _split(self, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chronological split: the last dates validate; a gap of ``horizon`` separates them."""
        dates = np.unique(origins)
        n_val = max(1, round(len(dates) * self.validation_fraction))
        if len(dates) - n_val - self.horizon < MIN_TRAIN_DATES:
            raise ValueError(
                f"lstm: only {len(dates)} training origins for lookback {self.lookback} and "
                f"horizon {self.horizon}; at least {MIN_TRAIN_DATES} dates must remain for "
                "training after the validation slice. Use more training data or a shorter "
                "lookback"
            )
        first_val = dates[-n_val]
        train = origins < first_val - self.horizon  # targets end before validation starts
        return np.flatnonzero(train), np.flatnonzero(origins >= first_val)

    def _validation_sample(self, val_idx: np.ndarray) -> np.ndarray:
        """At most ``MAX_VALIDATION`` of the validation samples, drawn with the model's seed."""
        if len(val_idx) <= MAX_VALIDATION:
            return val_idx
        rng = np.random.default_rng(self.seed)
        return np.sort(rng.choice(val_idx, MAX_VALIDATION, replace=False))

    # -- fit / predict ---------------------------------------------------------------------

    def _fit(self, prices: pd.DataFrame) -> None:
        from ..training import TrainConfig, train

        if not isinstance(self.lookback, int) or self.lookback < 1:
            raise ValueError(f"lstm: lookback must be a positive integer, got {self.lookback!r}")
        if not 0 < self.validation_fraction < 1:
            raise ValueError("lstm: validation_fraction must be between 0 and 1")
        if self.tune:
            self._tune(prices)
        if self.ensemble > 1 and self.checkpoint:
            raise ValueError("lstm: --checkpoint is not supported with --ensemble; leave one out")
        config = TrainConfig(
            TrainConfig.epochs if self.epochs is None else self.epochs,
            self.batch_size,
            self.learning_rate,
            self.patience,
            self.clip_norm,
            self.seed,
            steps=self.steps,
            eval_every=self.eval_every,
            schedule=self.schedule,
            warmup=self.warmup,
            weight_decay=self.weight_decay,
            min_gain_se=self.min_gain_se,
            max_epoch_steps=self.max_epoch_steps,
        )
        reuse = (
            self.warm_start
            and not self.tune
            and hasattr(self, "net_")
            # one network for every ticker: a ticker that joins (listed later) keeps the fit,
            # as long as each reads the same inputs
            and covariate_names(prices, self.features) == getattr(self, "covariates_", [])
        )
        raw = self._fit_scalers(prices)
        z = self._standardized(prices)
        inputs = self._inputs(prices, raw, z)
        if not reuse:
            self.net_ = self.new_net()
        # what a warm start's weights must beat too: a fresh network, the training mean. Not
        # for a variance target: there a fit of real volatility clustering loses to the
        # constant variance on some validation slices of heavy-tailed returns, and dropping it
        # cost the variance head a quarter of its accuracy (docs/distributions.md); nor with
        # the rule off (min_gain_se 0), which turns the floor off too
        judged = reuse and self.mean_floor and self.min_gain_se > 0
        floor = self.new_net() if judged and self.head != "variance" else None
        device = self.net_.rnn.device
        x, y, origins = self._samples(inputs, self._targets(prices, z), device)
        train_idx, val_idx = self._split(origins)
        val_idx = self._validation_sample(val_idx)
        y = torch.as_tensor(np.ascontiguousarray(y), dtype=torch.float32, device=device)
        data = [x.subset(train_idx), y[train_idx], x.subset(val_idx), y[val_idx]]
        val_dates = np.asarray(origins)[val_idx]  # the rule's standard error: per date
        if self.ensemble > 1 and self.ensemble_batched:
            from ..training.ensemble import train_ensemble

            self.members_ = train_ensemble(self.net_, *data, config, val_dates, floor)
            self.history_ = min(self.members_, key=lambda r: r.best_val_loss)
        elif self.ensemble > 1:
            # One member after another on the fused kernel, then stacked for forecasting:
            # faster than the batched model on the CPU and GPU measured
            # (benchmarks/bench_ensemble.py), and each member is the model trained alone.
            # Members are independent: parallel.task_map may train them anywhere (on Ray,
            # each a Ray task); each comes back trained, with its history.
            nets = self.net_.to_members(self._member_nets())
            floors = [None] * len(nets) if floor is None else floor.to_members(self._member_nets())
            shared = (data, config, LOSSES[self.head], val_dates)
            trained = parallel.task_map(_train_member, shared, list(zip(nets, floors, strict=True)))
            nets = [net for net, _ in trained]
            self.members_ = [history for _, history in trained]
            self.net_.load_members(nets)
            self.net_.eval()
            self.history_ = min(self.members_, key=lambda r: r.best_val_loss)
        else:
            self.history_ = train(
                self.net_,
                *data,
                config,
                checkpoint=self.checkpoint,
                resume=self.resume,
                fingerprint=self._fingerprint(prices),
                progress=self.progress,
                loss_fn=LOSSES[self.head],
                val_dates=val_dates,
                floor=floor,
            )
        self.nu_ = np.inf
        if self.head == "variance" and self.distribution == "t":
            windows, ahead, _ = self._samples(inputs, z)  # the returns the variances are of
            # an ensemble's variance: its members' mean (the mixture's)
            variance = np.exp(self.member_outputs(windows)[..., 0].astype(np.float64)).mean(0)
            self.nu_ = fit_nu(ahead.sum(axis=1) / np.sqrt(variance))
        self.train_start_, self.train_end_ = prices.index[0], prices.index[-1]
        self.closed_days_ = closed_weekdays(prices.index)  # its market's calendar, for predict

    def _targets(self, prices: pd.DataFrame, z: np.ndarray) -> np.ndarray:
        """What the network learns to forecast, per day (T, N): the standardised returns, or
        for a variance target the daily variance proxy in squared standardised units (scaled
        to the squared returns' mean over these rows, :mod:`~..features.volatility`)."""
        if self.head != "variance":
            return z
        from ..features.volatility import proxy_scale, variance_proxy

        proxy, _ = variance_proxy(prices)
        scaled = proxy * proxy_scale(prices, proxy) / self.scaler_.std_[prices.columns] ** 2
        return scaled.to_numpy(np.float32)

    def _blank_net(self) -> ForecastNet:
        net = ForecastNet(
            self.hidden_size,
            self.num_layers,
            self.variant,
            self.dropout,
            head_width(self.head, self.horizon),
            self.path,
            self.device,
            input_size=len(self._input_names()),
            anchor=self._anchored_output(),
            anchor_gain=self.anchor_gain,
            head_lags=self._head_lags(),
            head_activation=self.head_activation,
        )
        init_head(net.head, self.head, self.horizon)
        return net

    def _head_lags(self) -> int:
        """The returns the head reads (:class:`ForecastNet`): ``head_lags``, at most the
        lookback, and none without the returns among the inputs (input 0 is then another)."""
        return min(self.head_lags, self.lookback) if "returns" in self.features else 0

    def _anchored_output(self) -> int | None:
        """The head output the EWMA anchor moves, or None: only a distribution or variance
        head reading the returns (input 0) has one, and only with ``ewma_anchor``."""
        if not self.ewma_anchor or "returns" not in self.features:
            return None
        return ANCHORED_OUTPUT.get(self.head)

    def _member_nets(self) -> list[ForecastNet]:
        return [self._blank_net() for _ in range(self.ensemble)]

    def new_net(self) -> nn.Module:
        """The untrained network: member ``k`` of an ensemble starts from seed ``seed + k``."""
        nets = []
        for k in range(self.ensemble):
            torch.manual_seed(self.seed + k)
            nets.append(self._blank_net())
        return nets[0] if self.ensemble == 1 else EnsembleNet(nets)

    def _tune(self, prices: pd.DataFrame) -> None:
        """Choose the tuned settings on validation folds inside ``prices`` (see
        :mod:`.tuning`); they replace this model's own, and ``tuning_`` records the search."""
        from .tuning import SPACE, tune_lstm

        own = self.settings()
        base = {k: v for k, v in own.items() if k not in SPACE}
        # each trial is one network: the settings are chosen for a member, and an ensemble
        # costs its K members once, in the fit that follows, not in every trial and fold
        base["device"], base["ensemble"] = self.device, 1
        self.tuning_ = tune_lstm(
            prices, base, self.tune, self.tune_seconds, self.seed, build=type(self), start=own
        )
        for name, value in self.tuning_.best.items():
            setattr(self, name, value)

    def _fingerprint(self, prices: pd.DataFrame) -> str:
        digest = hashlib.sha256(json.dumps(self.settings(), sort_keys=True).encode())
        digest.update(np.ascontiguousarray(prices.to_numpy(np.float64)).tobytes())
        digest.update(
            json.dumps([str(prices.index[0]), str(prices.index[-1]), list(prices.columns)]).encode()
        )
        return digest.hexdigest()

    def predict_standardized(self, z_windows: np.ndarray | WindowSet) -> np.ndarray:
        """Network output (S, width) for standardised windows (S, L, F) (an array or a
        :class:`~..training.windows.WindowSet`), in batches; an ensemble's members' average."""
        return self.member_outputs(z_windows).mean(axis=0)

    def member_outputs(self, z_windows: np.ndarray | WindowSet) -> np.ndarray:
        """Each member's network output (K, S, width) for standardised windows (S, L, F);
        K = 1 for a single model."""
        self.net_.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(z_windows), 4096):
                batch = z_windows[start : start + 4096]  # a WindowSet gives a tensor
                batch = torch.as_tensor(
                    batch if isinstance(batch, torch.Tensor) else np.array(batch, np.float32),
                    dtype=torch.float32,
                    device=self.net_.rnn.device,
                )
                pred = self.net_(batch)
                out.append((pred if pred.dim() == 3 else pred[None]).cpu().numpy())
        if not out:
            width = head_width(self.head, self.horizon)
            return np.empty((self.ensemble, 0, width), np.float32)
        return np.concatenate(out, axis=1)

    def member(self, k: int) -> LSTMForecaster:
        """Member ``k`` of a fitted seed ensemble as a model of its own: its own network, the
        ensemble's settings and scalers (shared, read-only). Its forecasts are row ``k`` of
        :meth:`member_outputs`; ``explain --member K`` opens it. A t variance head keeps the
        ensemble's degrees of freedom."""
        import copy

        if not hasattr(self, "net_"):
            raise ValueError("member: the model is not fitted")
        if self.ensemble <= 1:
            raise ValueError("member: this model is one LSTM, not an ensemble (--ensemble)")
        if not isinstance(k, int) or not 0 <= k < self.ensemble:
            raise ValueError(
                f"member {k!r}: this ensemble has members 0 to {self.ensemble - 1} (--member)"
            )
        one = copy.copy(self)
        one.ensemble, one.ensemble_batched = 1, False
        one.net_ = self.net_.to_members(self._member_nets())[k].to(self.net_.rnn.device)
        one.net_.eval()
        members = getattr(self, "members_", None)
        if members is not None:
            one.history_ = members[k]
            del one.members_
        return one

    def input_groups(self) -> dict[str, list[int]]:
        """Feature group -> the input columns it fills (for permutation importance)."""
        groups: dict[str, list[int]] = {}
        for k, name in enumerate(self._input_names()):
            group = "covariates" if name.startswith(COVARIATE) else GROUP_OF[name]
            groups.setdefault(group, []).append(k)
        return groups

    def input_windows(
        self, prices: pd.DataFrame, origins: pd.DatetimeIndex
    ) -> tuple[np.ndarray, pd.DataFrame]:
        """The standardised input windows (S, L, F) the model reads at ``origins``, one per
        origin and ticker with a complete window, and their (origin, ticker) keys."""
        history = prices.loc[: origins.max(), self.tickers_]
        x = self._inputs(history)
        ends = history.index.get_indexer(origins)
        windows, keys = [], []
        for n, ticker in enumerate(self.tickers_):
            if len(x) < self.lookback:
                continue
            view = sliding_windows(x[:, n, :], self.lookback)
            starts = ends - (self.lookback - 1)
            ok = starts >= 0
            ok[ok] = np.isfinite(view[starts[ok]]).all(axis=(1, 2))
            windows.append(view[starts[ok]])
            keys.append(pd.DataFrame({"origin": origins[ok], "ticker": ticker}))
        if not windows:
            return np.empty((0, self.lookback, x.shape[2]), np.float32), pd.DataFrame()
        return np.concatenate(windows), pd.concat(keys, ignore_index=True)

    def distribution_windows(
        self, windows: np.ndarray, tickers: pd.Series
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The h-day log return's (mean, sd, df), each (S,), from standardised windows,
        ``tickers`` naming each (a distribution or variance head; an ensemble's mixture)."""
        mean = self.scaler_.mean_[tickers].to_numpy()
        std = self.scaler_.std_[tickers].to_numpy()
        return self._decode(windows, mean, std)

    def forecast_windows(self, windows: np.ndarray, tickers: pd.Series) -> np.ndarray:
        """Forecast log returns (S,) from standardised windows, ``tickers`` naming each."""
        out = self.predict_standardized(windows)
        mean = self.scaler_.mean_[tickers].to_numpy()
        std = self.scaler_.std_[tickers].to_numpy()
        return decode(self.head, out, mean, std, self.horizon, self._nu())[0]

    def _decoded(self, history: pd.DataFrame, rows: np.ndarray) -> list[np.ndarray]:
        """Mean, sd and df (R, N) of the h-day log return at ``rows`` of ``history`` (NaN
        without a complete window; sd and df NaN for a point forecaster). Only the windows
        ending at ``rows`` go through the network."""
        x = self._inputs(history)
        frames = [np.full((len(rows), x.shape[1]), np.nan) for _ in range(3)]
        mean = self.scaler_.mean_[history.columns].to_numpy()
        std = self.scaler_.std_[history.columns].to_numpy()
        starts = rows - (self.lookback - 1)  # window k ends at row k + L - 1
        for n in range(x.shape[1]):
            if len(x) < self.lookback:
                continue
            windows = sliding_windows(x[:, n, :], self.lookback)
            at = np.flatnonzero(starts >= 0)
            at = at[np.isfinite(windows[starts[at]]).all(axis=(1, 2))]
            if len(at):
                ones = np.full(len(at), 1.0)
                parts = self._decode(windows[starts[at]], mean[n] * ones, std[n] * ones)
                for frame, part in zip(frames, parts, strict=True):
                    if part is not None:
                        frame[at, n] = part
        return frames

    def _decode(self, windows, mean: np.ndarray, std: np.ndarray) -> tuple:
        """The h-day log return's (mean, sd, df) at each window (:func:`decode`); an
        ensemble's distributions are combined by their mixture's moments (:func:`combine`),
        its point forecasts averaged."""
        if self.head == "point" or self.ensemble == 1:
            out = self.predict_standardized(windows)
            return decode(self.head, out, mean, std, self.horizon, self._nu())
        members = [
            decode(self.head, out, mean, std, self.horizon, self._nu())
            for out in self.member_outputs(windows)
        ]
        return combine(self.head, *(np.stack(part) for part in zip(*members, strict=True)))

    def _nu(self) -> float:
        return float(getattr(self, "nu_", np.inf))

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        return self._predict_at(history, history.index)

    def _predict_at(self, history: pd.DataFrame, origins: pd.DatetimeIndex) -> pd.DataFrame:
        mean = self._decoded(history, history.index.get_indexer(origins))[0]
        return pd.DataFrame(mean, index=origins, columns=history.columns)

    def _predict_distribution(self, history: pd.DataFrame):
        return self._predict_distribution_at(history, history.index)

    def _predict_distribution_at(self, history: pd.DataFrame, origins: pd.DatetimeIndex):
        parts = self._decoded(history, history.index.get_indexer(origins))
        return tuple(pd.DataFrame(p, index=origins, columns=history.columns) for p in parts)
