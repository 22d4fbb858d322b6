r"""A training loop that knows nothing about LSTMs.

Adam (AdamW with ``weight_decay``) on mini-batches, validation on a held-out slice, early
stopping that restores the best weights, gradient-norm clipping, and:

* a budget in optimiser steps (``steps``): a small data set gets as many updates as it needs
  rather than a few passes. The steps run in *rounds* of ``eval_every`` steps, each ending
  with a validation (a round is a row of the history, still called ``epoch``); patience
  counts rounds. Without ``steps`` a round is one pass over the data and ``epochs`` rounds
  are run, as before;
* a learning-rate schedule: ``"constant"``, or ``"cosine"``: a linear warm-up over the first
  ``warmup`` share of the steps, then a cosine decay to ``min_lr_ratio`` of the rate;
* the starting weights compete: before the first step they are validated as round 0, and
  if no round beats them they are what training returns (``best_epoch`` 0). A network whose
  head starts at zero starts at the training mean, so a model that learns nothing useful
  forecasts that mean rather than noise, and a warm start keeps the previous fit unless
  training on the new rows improves it;
* a one-standard-error rule for that competition (``min_gain_se``): the best round replaces
  the starting weights only if its validation loss is lower by at least ``min_gain_se``
  standard errors of the per-sample loss differences, :math:`\bar d \ge m\,s_d/\sqrt{n}`
  with :math:`d_i = \ell_i(\text{start}) - \ell_i(\text{best})`. On a short validation
  slice the lowest of 20 noisy losses is often a round that fitted noise; this keeps the
  simpler fit unless the gain is more than noise (the rule of Breiman et al. 1984, with the
  starting weights as the simplest model). Given the validation samples' dates, a panel's
  samples of one date count as one, and an h-day target's overlap gets a Newey-West
  standard error (:func:`gain_in_se`);
* a ``floor`` (a model of the same shape, for a warm start: a fresh network at the training
  mean) that the kept weights must also beat on validation, or its weights are returned
  instead, so that a fit adopted by luck is not carried from refit to refit (:func:`_floor`);
* a non-finite loss or gradient stops training with a :class:`TrainingError` that names the
  round and step; the model is left with its best (finite) weights;
* determinism: pass ``p`` over the data shuffles with a generator seeded with ``(seed, p)``
  and the global RNG (dropout) is seeded from ``seed``, so the same seed gives bit-identical
  weights on the same machine;
* a checkpoint after every round (model, optimiser, best weights, RNG state, history),
  written atomically, so a run resumed from it ends exactly where an uninterrupted run would.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .files import ModelFileError, read_bundle, writable_home, write_tensors


class TrainingError(RuntimeError):
    """Training produced a non-finite loss or gradient."""


@dataclass
class TrainConfig:
    """Settings of :func:`train`."""

    epochs: int = 20
    batch_size: int = 256
    learning_rate: float = 1e-3
    patience: int = 5
    clip_norm: float | None = 1.0
    seed: int = 0
    steps: int | None = None
    eval_every: int = 100
    schedule: str = "constant"
    warmup: float = 0.05
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0
    # The best round replaces the starting weights only if it beats them on validation by at
    # least this many standard errors of the per-sample loss differences (0: by any margin).
    min_gain_se: float = 0.0
    # Without ``steps``: at most this many steps make an epoch (None: a whole pass), so a
    # panel of 500 tickers trains for as many steps as a panel of 5, on more varied batches;
    # the next epoch goes on through the same shuffled pass.
    max_epoch_steps: int | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("steps", "max_epoch_steps"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.patience < 1:
            raise ValueError(f"patience must be at least 1, got {self.patience}")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"schedule must be 'constant' or 'cosine', got {self.schedule!r}")
        if not 0 <= self.warmup < 1 or not 0 <= self.min_lr_ratio <= 1:
            raise ValueError("warmup must be in [0, 1) and min_lr_ratio in [0, 1]")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not self.min_gain_se >= 0:
            raise ValueError(f"min_gain_se must be >= 0, got {self.min_gain_se}")

    def plan(self, n_samples: int) -> tuple[int, int]:
        """(total steps, steps per round) for ``n_samples`` training samples."""
        per_pass = math.ceil(n_samples / self.batch_size)
        if self.steps is None:
            per_epoch = min(per_pass, self.max_epoch_steps or per_pass)
            return self.epochs * per_epoch, per_epoch
        return self.steps, min(self.eval_every, self.steps)

    def rate_factor(self, step: int, total: int) -> float:
        """The learning-rate multiplier before optimiser step ``step`` (0-based) of ``total``."""
        if self.schedule == "constant":
            return 1.0
        warm = int(self.warmup * total)
        if step < warm:
            return (step + 1) / warm
        progress = (step - warm) / max(1, total - warm)
        cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        return self.min_lr_ratio + (1 - self.min_lr_ratio) * cosine


@dataclass
class TrainResult:
    """What happened: one row per round (``epoch``), and which round's weights were kept
    (0: the starting weights, which no round beat on validation)."""

    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = math.inf
    stopped_early: bool = False
    steps: int = 0
    start_val_loss: float = math.inf  # round 0: the validation loss of the starting weights
    # The best round on validation and its gain over the starting weights in standard errors
    # (:func:`gain_in_se`); declined: the rule of ``min_gain_se`` kept the starting weights.
    best_round: int = 0
    gain_se: float = math.nan
    declined: bool = False
    # With a ``floor`` (the simplest model, which a warm start's weights must beat too): the
    # kept weights' gain over it in standard errors, and whether the floor replaced them.
    floor_gain_se: float = math.nan
    floored: bool = False


def _optimizer_to_bundle(optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    state = optimizer.state_dict()
    tensors = {
        f"optim.{idx}.{key}": value
        for idx, entry in state["state"].items()
        for key, value in entry.items()
    }
    keys = {str(idx): list(entry) for idx, entry in state["state"].items()}
    return tensors, {"param_groups": state["param_groups"], "keys": keys}


def _optimizer_from_bundle(tensors, document) -> dict:
    state = {
        int(idx): {key: tensors[f"optim.{idx}.{key}"] for key in keys}
        for idx, keys in document["keys"].items()
    }
    return {"state": state, "param_groups": document["param_groups"]}


def _save_checkpoint(
    path, model, optimizer, best_state, start_state, result, bad_epochs, fingerprint
):
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"best.{k}": v for k, v in best_state.items()})
    tensors.update({f"start.{k}": v for k, v in start_state.items()})
    opt_tensors, opt_doc = _optimizer_to_bundle(optimizer)
    tensors.update(opt_tensors)
    tensors["rng.torch"] = torch.get_rng_state()
    document = {
        "optimizer": opt_doc,
        "result": asdict(result),
        "bad_epochs": bad_epochs,
        "fingerprint": fingerprint,
    }
    write_tensors(path, tensors, document)


def _load_checkpoint(path, model, optimizer, fingerprint):
    tensors, doc = read_bundle(path)
    if doc.get("fingerprint") != fingerprint:
        raise ModelFileError(
            f"{path}: the checkpoint was written for other settings or data; "
            "delete it or train without --resume"
        )
    for key in ("optimizer", "result", "bad_epochs"):
        if key not in doc:
            raise ModelFileError(f"{path}: field {key!r} is missing; delete the checkpoint")
    if "rng.torch" not in tensors:
        raise ModelFileError(f"{path}: tensor 'rng.torch' is missing; delete the checkpoint")
    try:
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        optimizer.load_state_dict(_optimizer_from_bundle(tensors, doc["optimizer"]))
        torch.set_rng_state(tensors["rng.torch"])
        best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
        start = {k[6:]: v for k, v in tensors.items() if k.startswith("start.")}
        if best.keys() != model.state_dict().keys():
            raise ValueError("the best weights do not match the model")
        if start.keys() != model.state_dict().keys():
            raise ValueError("the starting weights are missing (a checkpoint of an older version)")
        result, bad_epochs = TrainResult(**doc["result"]), int(doc["bad_epochs"])
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise ModelFileError(
            f"{path}: damaged checkpoint ({type(exc).__name__}: {str(exc)[:100]}); delete it"
        ) from None
    return best, start, result, bad_epochs


def check_checkpoint_path(checkpoint: Path, resume: bool) -> None:
    """Refuse a checkpoint path that cannot be written (before any training), and remove
    temporary files that a killed write of it left behind."""
    path = Path(checkpoint)
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory; give a file path for --checkpoint")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise ModelFileError(f"{parent}: is not a directory; fix --checkpoint")
    if writable_home(path) is None:
        raise ModelFileError(f"{path}: cannot be written there; choose another --checkpoint")
    if path.exists() and not resume:
        raise ModelFileError(
            f"{path}: exists; pass --resume to continue from it, or choose another --checkpoint"
        )
    if parent.is_dir():
        for leftover in parent.glob(f".{path.name}.*"):
            if leftover.is_file() and not leftover.is_symlink():
                leftover.unlink(missing_ok=True)


def _evaluate(model, inputs, targets, loss_fn, batch_size) -> float:
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            pred = model(inputs[start : start + batch_size])
            total += loss_fn(pred, targets[start : start + batch_size]).item() * len(pred)
    model.train()
    return total / max(len(inputs), 1)


def make_optimizer(
    params: list, config: TrainConfig, n_train: int, n_val: int
) -> torch.optim.Optimizer:
    """Adam, or AdamW with ``weight_decay``; refuses an empty training or validation set."""
    if n_train == 0 or n_val == 0:
        raise ValueError(
            f"need training and validation samples, got {n_train} and {n_val}; "
            "use more data or a shorter lookback"
        )
    if config.weight_decay > 0:
        return torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    return torch.optim.Adam(params, lr=config.learning_rate)


def train(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    val_inputs: torch.Tensor,
    val_targets: torch.Tensor,
    config: TrainConfig,
    *,
    loss_fn: Callable = nn.functional.mse_loss,
    checkpoint: Path | None = None,
    resume: bool = False,
    fingerprint: str = "",
    progress: bool = False,
    on_epoch_end: Callable[[int, dict], None] | None = None,
    val_dates: np.ndarray | None = None,
    floor: nn.Module | None = None,
) -> TrainResult:
    """Train ``model`` to map ``inputs`` (N, ...) to ``targets`` (N, K); returns the history.

    ``checkpoint`` is written after every epoch; with ``resume`` an existing checkpoint whose
    ``fingerprint`` matches is loaded and training continues from the epoch after it.
    ``on_epoch_end(epoch, row)`` is called after each epoch's checkpoint is written.
    ``val_dates`` (N_val,): each validation sample's date, for the standard error of the rule
    of ``min_gain_se`` (:func:`gain_in_se`).
    ``floor``: a model of the same shape that the kept weights must also beat on
    validation, or its weights are loaded instead (:func:`_floor`).
    """
    if checkpoint is not None:
        check_checkpoint_path(checkpoint, resume)
    optimizer = make_optimizer(list(model.parameters()), config, len(inputs), len(val_inputs))
    torch.manual_seed(config.seed)
    best_state = copy.deepcopy(model.state_dict())
    start_state = best_state
    result, bad_epochs = TrainResult(), 0
    if resume and checkpoint is not None and Path(checkpoint).exists():
        best_state, start_state, result, bad_epochs = _load_checkpoint(
            checkpoint, model, optimizer, fingerprint
        )
    total, per_round = config.plan(len(inputs))
    rounds = math.ceil(total / per_round)
    steps = _Steps(
        model, optimizer, inputs, targets, loss_fn, config, _Batches(len(inputs), config), total
    )
    done = len(result.history)
    if done == 0:  # round 0: the starting weights are the first candidate
        start = _evaluate(model, val_inputs, val_targets, loss_fn, config.batch_size)
        result.start_val_loss = result.best_val_loss = start if math.isfinite(start) else math.inf
    model.train()
    from .progress import EpochProgress

    with EpochProgress(rounds, enabled=progress, done=done) as bar:
        for epoch in range(done + 1, rounds + 1):
            if result.stopped_early:
                break
            start = time.perf_counter()
            n_steps = min(per_round, total - result.steps)
            loss = steps.run(epoch, result, n_steps, best_state)
            val_loss = _evaluate(model, val_inputs, val_targets, loss_fn, config.batch_size)
            if not math.isfinite(val_loss):
                model.load_state_dict(best_state)
                raise TrainingError(
                    f"validation loss is not finite after round {epoch} (step {result.steps}); "
                    "lower the learning rate or tighten --clip-norm"
                )
            row = {
                "epoch": epoch,
                "step": result.steps,
                "loss": loss,
                "val_loss": val_loss,
                "seconds": time.perf_counter() - start,
            }
            best_state, bad_epochs = _record(
                result, row, model, best_state, bad_epochs, config.patience
            )
            if checkpoint is not None:
                _save_checkpoint(
                    checkpoint,
                    model,
                    optimizer,
                    best_state,
                    start_state,
                    result,
                    bad_epochs,
                    fingerprint,
                )
            bar.update(row)
            if on_epoch_end is not None:
                on_epoch_end(epoch, row)
    result.best_round = result.best_epoch
    if result.best_epoch > 0 and math.isfinite(result.start_val_loss):
        model.load_state_dict(start_state)
        before = _row_losses(model, val_inputs, val_targets, loss_fn, config.batch_size)
        model.load_state_dict(best_state)
        after = _row_losses(model, val_inputs, val_targets, loss_fn, config.batch_size)
        _decide(result, before - after, val_targets, val_dates, config.min_gain_se)
        if result.declined:
            best_state = start_state
    model.load_state_dict(best_state)
    if floor is not None:
        _floor(result, model, floor, val_inputs, val_targets, loss_fn, config, val_dates)
    model.eval()
    return result


def _floor(result, model, floor, val_inputs, val_targets, loss_fn, config, val_dates) -> None:
    """Load ``floor``'s weights into ``model`` unless the kept weights beat it on validation
    (a mean gain above 0; only while the rule of ``min_gain_se`` is on).

    A warm-started refit starts from the previous fit, and the rule of ``min_gain_se`` keeps
    those weights unless a round beats them; a previous fit that beat its own start by luck
    would then be kept from refit to refit, its luck never tested again. With the simplest
    model as the floor (a fresh network, whose head at zero forecasts the training mean),
    what is kept must also beat that on this refit's validation slice. The bar is lower
    than the one to adopt new weights (``min_gain_se`` standard errors): weights that passed
    it once are kept until the new rows contradict them, not dropped each time a slice of
    weak signal shows less than a standard error (docs/power.md measures both bars)."""
    kept = _row_losses(model, val_inputs, val_targets, loss_fn, config.batch_size)
    simple = _row_losses(floor, val_inputs, val_targets, loss_fn, config.batch_size)
    if _judge_floor(result, simple, kept, val_targets, val_dates, config.min_gain_se):
        model.load_state_dict(floor.state_dict())


def _overlap_lags(val_targets: torch.Tensor) -> int:
    """Newey-West lags for h-day targets, whose windows overlap by h - 1 days."""
    return val_targets.shape[1] - 1 if val_targets.dim() > 1 else 0


def _judge_floor(result, simple, kept, val_targets, val_dates, min_gain_se: float) -> bool:
    """Whether the floor replaces the kept weights, given both per-sample losses (N,): not
    when they forecast alike; else when their gain over the floor is not above 0 (only while
    the rule is on). Records the gain, and a replacement, in ``result``."""
    if torch.equal(simple, kept):  # the kept weights forecast as the floor does
        return False
    result.floor_gain_se = gain_in_se(simple - kept, val_dates, _overlap_lags(val_targets))
    if min_gain_se > 0 and not result.floor_gain_se > 0:
        result.floored, result.best_epoch = True, 0
        result.best_val_loss = float(simple.mean())
    return result.floored


def gain_in_se(gain: torch.Tensor, dates: np.ndarray | None = None, lags: int = 0) -> float:
    r"""The mean of the per-sample gains ``gain`` (N,) in standard errors,
    :math:`\bar d / \widehat{\mathrm{se}}(\bar d)`; inf for a gain without spread, nan for
    fewer than two dates.

    With ``dates`` (N,) the gains of one date (a panel's tickers, which move together) are
    averaged first and the dates are the samples, in date order. With ``lags`` > 0 (the
    targets of an h-day horizon overlap by h - 1 days) the variance is Newey-West's with
    Bartlett weights, :math:`\hat\gamma_0 + 2\sum_{l=1}^{L}(1 - \tfrac{l}{L+1})\hat\gamma_l`;
    with 0 it is the sample variance (a one-sample t statistic).
    """
    series = gain.detach().double().cpu().numpy()
    if dates is not None:
        _, codes = np.unique(np.asarray(dates), return_inverse=True)
        series = np.bincount(codes, series) / np.bincount(codes)
    n = len(series)
    if n < 2:
        return math.nan
    mean = float(series.mean())
    if lags == 0:
        variance = float(series.var(ddof=1))
    else:
        d = series - mean
        variance = float(d @ d) / n
        for lag in range(1, min(lags, n - 1) + 1):
            variance += 2 * (1 - lag / (lags + 1)) * float(d[lag:] @ d[:-lag]) / n
    if variance <= 0:
        return math.copysign(math.inf, mean) if mean else 0.0
    return mean / math.sqrt(variance / n)


def _decide(result: TrainResult, gain, val_targets, val_dates, min_gain_se: float) -> None:
    """Keep the best round (``result.best_epoch``) or decline it for the starting weights,
    by its per-sample ``gain`` over them in standard errors (h-day targets, whose windows
    overlap by h - 1 days, take as many Newey-West lags)."""
    result.gain_se = gain_se = gain_in_se(gain, val_dates, _overlap_lags(val_targets))
    if min_gain_se > 0 and not gain_se >= min_gain_se:
        result.declined, result.best_epoch = True, 0
        result.best_val_loss = result.start_val_loss


def _row_losses(model, inputs, targets, loss_fn, batch_size) -> torch.Tensor:
    """The loss of each validation sample (N,): ``loss_fn`` is a mean over samples."""
    model.eval()
    each = torch.func.vmap(lambda out, target: loss_fn(out[None], target[None]))
    with torch.no_grad():
        parts = [
            each(model(inputs[i : i + batch_size]), targets[i : i + batch_size])
            for i in range(0, len(inputs), batch_size)
        ]
    model.train()
    return torch.cat(parts)


class _Batches:
    """The sample indices of global step ``k``: pass ``k // per_pass`` over the data, shuffled
    by a generator seeded with (seed, pass), so that any step can be found again (resume)."""

    def __init__(self, n: int, config: TrainConfig) -> None:
        self.n, self.size, self.seed = n, config.batch_size, config.seed
        self.per_pass = math.ceil(n / self.size)
        self._pass, self._order = 0, None

    def __call__(self, step: int) -> torch.Tensor:
        number, position = step // self.per_pass + 1, step % self.per_pass
        if number != self._pass:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + number)
            self._pass, self._order = number, torch.randperm(self.n, generator=generator)
        return self._order[position * self.size : (position + 1) * self.size]


def _record(result: TrainResult, row: dict, model, best_state, bad_epochs: int, patience: int):
    """Append the epoch's row; keep its weights if best; decide on early stopping."""
    result.history.append(row)
    if row["val_loss"] < result.best_val_loss:
        result.best_val_loss, result.best_epoch = row["val_loss"], row["epoch"]
        return copy.deepcopy(model.state_dict()), 0
    result.stopped_early = bad_epochs + 1 >= patience
    return best_state, bad_epochs + 1


@dataclass
class _Steps:
    """What every optimiser step of one training run uses, fixed for the run."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    inputs: torch.Tensor
    targets: torch.Tensor
    loss_fn: Callable
    config: TrainConfig
    batches: _Batches
    total: int

    def run(self, epoch: int, result: TrainResult, n_steps: int, best_state: dict) -> float:
        """``n_steps`` optimiser steps from ``result.steps`` on; the mean training loss."""
        model, optimizer, config = self.model, self.optimizer, self.config
        total_loss, seen = 0.0, 0
        for _ in range(n_steps):
            step = result.steps
            index = self.batches(step)
            for group in optimizer.param_groups:
                group["lr"] = config.learning_rate * config.rate_factor(step, self.total)
            optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(model(self.inputs[index]), self.targets[index])
            if not torch.isfinite(loss):
                model.load_state_dict(best_state)
                raise TrainingError(
                    f"the loss became {loss.item()} at round {epoch}, step {step + 1}; lower the "
                    "learning rate, tighten gradient clipping (--clip-norm), or look for extreme "
                    "values in the prices. The model keeps its last good weights."
                )
            loss.backward()
            limit = config.clip_norm if config.clip_norm else math.inf
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), limit)
            if not torch.isfinite(norm):
                model.load_state_dict(best_state)
                raise TrainingError(
                    f"the gradient became non-finite at round {epoch}, step {step + 1}; lower the "
                    "learning rate or tighten gradient clipping (--clip-norm). The model keeps "
                    "its last good weights."
                )
            optimizer.step()
            result.steps += 1
            total_loss += loss.item() * len(index)
            seen += len(index)
        return total_loss / max(seen, 1)
