"""Choosing the LSTM's settings on validation data carved from the training rows only.

Optuna's TPE sampler (seeded, so the same seed chooses the same settings) proposes lookback,
hidden size, layers, dropout, learning rate, weight decay and whether the head's layer reads
the last returns (``head_lags`` 0 or 10) and with which units (``head_activation``). The
first trial is the model's own settings (each brought into the space: a range's value clipped
to its ends, a choice's to the nearest choice), so the search departs from them only for
settings that score better. When the head reads the last returns, the second trial is the
same settings with the head's other units: GELU finds more of a product of two lags and ReLU
more of a threshold rule (docs/power.md), so the rule's form decides, on the inner folds,
before the sampler explores. Each trial is scored on
``folds`` inner folds, walking forward through the last ``share`` of the training dates: fold
``j`` fits on the rows before its validation block, less a gap of ``horizon`` rows so that no
training label reaches into it, and scores the forecasts at the block's origins: the mean
squared error of a point forecast, the mean log score of a distribution (``--distribution``),
and the mean QLIKE of a variance (``--target volatility``) against the realised variance
proxy (:data:`METRICS`). A trial whose first fold is worse than the median of earlier
trials is pruned. Each trial is one network, also for an ensemble: the forecaster trains its
K members once, after the search. The search stops after ``trials`` trials or ``seconds``
seconds, whichever comes first.

Trials run in batches of :data:`TRIAL_BATCH`: the sampler proposes a batch, its trials are
scored independently of each other (each pruned against the median of the trials finished
before the batch), and their scores are told back before the next batch is proposed. The
batch size is fixed, not the number of workers, so the same seed chooses the same settings on
one core or on a cluster; the trials of a batch go through :func:`.parallel.task_map`, which
runs them one after another unless an executor installs a parallel map (Ray runs each as a
task).

Nothing here sees a row after the last training date: the tuned model is as causal as any.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import parallel
from .distribution import log_density, qlike
from .lstm_settings import HEAD_ACTIVATIONS

TRIAL_BATCH = 4


SPACE = {
    "lookback": [20, 40, 60],
    "hidden_size": [16, 32, 64],
    "num_layers": [1, 2],
    "dropout": (0.0, 0.3),
    "learning_rate": (3e-4, 1e-2),
    "weight_decay": (1e-6, 1e-2),
    # the head's layer on the last returns (docs/power.md): it finds the product of lags and
    # costs the volume rule a few points, so the tuner may switch it off
    "head_lags": [0, 10],
    # the units of that layer: GELU finds more of a product of lags, ReLU of a threshold rule
    "head_activation": list(HEAD_ACTIVATIONS),
}
LOG_SCALE = ("learning_rate", "weight_decay")  # ranges searched on a log scale


# what a trial's forecasts are scored by, for each kind of head (lower is better): the
# squared error of a point, the log score of a distribution (minus the log density at the
# outcome), QLIKE of a variance against the realised variance proxy
METRICS = {"point": "mse", "normal": "log score", "t": "log score", "variance": "qlike"}


@dataclass
class TuneResult:
    """The settings chosen, and every trial's score (the mean validation ``metric``: mse, log
    score or qlike, see :data:`METRICS`; None if pruned)."""

    best: dict
    best_score: float
    trials: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    metric: str = "mse"


def inner_folds(
    dates: pd.DatetimeIndex, folds: int, share: float, horizon: int
) -> list[tuple[pd.Timestamp, pd.DatetimeIndex]]:
    """``(train_end, validation dates)`` of each inner fold, oldest first."""
    n = len(dates)
    block = int(n * share / folds)
    if block < 20:
        raise ValueError(
            f"lstm tuning: {n} training dates leave {block} per validation block; "
            "use more data or fewer inner folds"
        )
    out = []
    for j in range(folds):
        start = n - (folds - j) * block
        train_end = dates[start - 1 - horizon]  # a gap of horizon rows before the block
        out.append((train_end, dates[start : start + block]))
    return out


def tune_lstm(
    prices: pd.DataFrame,
    base: dict,
    trials: int = 20,
    seconds: float | None = None,
    seed: int = 0,
    folds: int = 2,
    share: float = 0.3,
    *,
    build: Callable[..., Any],
    start: dict | None = None,
) -> TuneResult:
    """Search :data:`SPACE` around the ``base`` settings, from ``start`` (the model's own
    settings: their searched ones are the first trial); ``build(**settings)`` makes each
    trial's unfitted forecaster (the LSTM forecaster passes its own class, so this module
    does not import it back)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    horizon = int(base.get("horizon", 1))
    blocks = inner_folds(prices.index, folds, share, horizon)
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    for first in first_trials(start)[:trials]:
        study.enqueue_trial(first)
    waiting = optuna.trial.TrialState.WAITING

    def asked() -> int:  # trials handed out so far; enqueued ones wait until asked for
        return sum(t.state != waiting for t in study.trials)

    began = time.perf_counter()
    metric = METRICS[build(**base).head]
    shared = (prices, base, blocks, _outcomes(prices, horizon, metric), build, metric)
    steps: list[list[float]] = []  # intermediate scores of the finished trials, per inner fold
    while asked() < trials:
        if seconds is not None and time.perf_counter() - began > seconds:
            break
        batch = [study.ask() for _ in range(min(TRIAL_BATCH, trials - asked()))]
        medians = _medians(steps)
        proposals = [(_suggest(trial), medians) for trial in batch]
        for trial, (score, path) in zip(
            batch, parallel.task_map(_score, shared, proposals), strict=True
        ):
            if score is None:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                study.tell(trial, score)
                steps.append(path)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise ValueError("lstm tuning: no trial completed; raise --tune or the time budget")
    best = dict(study.best_trial.params)
    records = [
        {
            "number": t.number,
            "params": dict(t.params),
            "score": t.value,
            "state": t.state.name.lower(),
        }
        for t in study.trials
    ]
    return TuneResult(best, study.best_value, records, time.perf_counter() - began, metric)


def _outcomes(prices: pd.DataFrame, horizon: int, metric: str) -> pd.DataFrame:
    """What each origin's forecast is scored against: the h-day log return, or for a
    variance the realised variance proxy over the h days (scaled to the squared returns of
    these training rows, as the backtest scores it)."""
    from ..features import horizon_target
    from ..features.volatility import realized_proxy

    return realized_proxy(prices, horizon) if metric == "qlike" else horizon_target(prices, horizon)


MIN_FINISHED = 3  # trials finished before pruning starts


def _medians(steps: list[list[float]]) -> list[float] | None:
    """Median of the finished trials' running mean score after each inner fold."""
    if len(steps) < MIN_FINISHED:
        return None
    return [float(np.median([path[j] for path in steps])) for j in range(len(steps[0]))]


def _validation_score(model, prices, valid, target, metric: str) -> float:
    """The mean ``metric`` of the model's forecasts at the ``valid`` origins."""
    outcome = target.loc[valid].to_numpy(np.float64)
    if metric == "mse":
        return float(np.nanmean((outcome - model.predict(prices, valid).to_numpy()) ** 2))
    dist = {k: v.to_numpy(np.float64) for k, v in model.predict_distribution(prices, valid).items()}
    if metric == "log score":
        return float(np.nanmean(-log_density(outcome, dist["mean"], dist["sd"], dist["df"])))
    positive = outcome > 0  # QLIKE needs a positive proxy
    return float(np.nanmean(qlike(outcome[positive], dist["sd"][positive] ** 2)))


def first_trials(start: dict | None) -> list[dict]:
    """The trials run before the sampler's: ``start`` brought into :data:`SPACE`, then, when
    its head reads the last returns, the same with each other ``head_activation``."""
    if not start:
        return []
    first = into_space(start)
    out = [first]
    if first.get("head_lags") and "head_activation" in first:
        out += [
            {**first, "head_activation": other}
            for other in SPACE["head_activation"]
            if other != first["head_activation"]
        ]
    return out


def into_space(settings: dict) -> dict:
    """The searched settings of ``settings``, each brought into :data:`SPACE`: a range's value
    clipped to its ends, a numeric choice's the nearest choice (the first of two as near), a
    named choice itself (the first choice if it is not one)."""
    out = {}
    for name, values in SPACE.items():
        if name not in settings:
            continue
        value = settings[name]
        if isinstance(values, list) and isinstance(values[0], str):
            out[name] = value if value in values else values[0]
        elif isinstance(values, list):
            out[name] = min(values, key=lambda choice: abs(choice - value))
        else:
            out[name] = float(min(max(value, values[0]), values[1]))
    return out


def _suggest(trial) -> dict:
    """One trial's settings, asked of the sampler in :data:`SPACE`'s order: a list is a set of
    choices, a pair a range."""
    return {
        name: trial.suggest_categorical(name, values)
        if isinstance(values, list)
        else trial.suggest_float(name, *values, log=name in LOG_SCALE)
        for name, values in SPACE.items()
    }


def _score(shared: tuple, proposal: tuple[dict, list[float] | None]):
    """One trial: (mean validation score over the inner folds, its running mean after each
    fold), or (None, path) when a running mean is worse than the median of finished trials."""
    prices, base, blocks, target, build, metric = shared
    params, medians = proposal
    scores, path = [], []
    for j, (train_end, valid) in enumerate(blocks):
        model = build(**{**base, **params}).fit(prices.loc[:train_end])
        scores.append(_validation_score(model, prices.loc[: valid[-1]], valid, target, metric))
        path.append(float(np.mean(scores)))
        if medians is not None and path[-1] > medians[j]:
            return None, path
    return path[-1], path
