"""Training K members of a batched ensemble at once, each exactly as it would train alone.

The model maps a batch to (K, B, ...) predictions, one slice per member, with disjoint
parameters whose first dimension is the member. The loss is the sum of the members' losses,
so each member's gradient is its own; Adam and AdamW act element by element, so each member's
update is its own. What :func:`~.loop.train` does globally is done per member here:

* gradient-norm clipping with each member's own norm;
* the starting weights validated as round 0, then validation loss, best weights and
  patience per member; a member whose patience has run out
  keeps the best weights it had then (it is no longer watched), as if it had stopped alone;
  training ends when every member has stopped or the budget is spent;
* each member's best round replaces its starting weights only if it beats them by
  ``min_gain_se`` standard errors of its own per-sample loss differences.

Given the same initial weights, batches and settings, member ``k`` ends with the weights that
:func:`~.loop.train` gives the ``k``-th model trained alone (tested, float64).
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from .loop import (
    TrainConfig,
    TrainingError,
    TrainResult,
    _Batches,
    _decide,
    _judge_floor,
    make_optimizer,
)


def _member_losses(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each member: (K,)."""
    return ((pred - target.unsqueeze(0)) ** 2).flatten(1).mean(1)


def _evaluate(model, inputs, targets, batch_size) -> torch.Tensor:
    model.eval()
    total = None
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            pred = model(inputs[start : start + batch_size])
            part = _member_losses(pred, targets[start : start + batch_size]) * pred.shape[1]
            total = part if total is None else total + part
    model.train()
    return total / max(len(inputs), 1)


def _row_losses(model, inputs, targets, batch_size) -> torch.Tensor:
    """Each member's loss on each sample: (K, N)."""
    model.eval()
    with torch.no_grad():
        parts = [
            ((model(inputs[i : i + batch_size]) - targets[i : i + batch_size].unsqueeze(0)) ** 2)
            .flatten(2)
            .mean(2)
            for i in range(0, len(inputs), batch_size)
        ]
    model.train()
    return torch.cat(parts, dim=1)


def _clip_per_member(params: list[nn.Parameter], limit: float) -> torch.Tensor:
    """Scale each member's gradients as ``clip_grad_norm_`` would scale that member alone."""
    norms = torch.stack([torch.linalg.vector_norm(p.grad.flatten(1), dim=1) for p in params])
    total = torch.linalg.vector_norm(norms, dim=0)  # (K,)
    if math.isfinite(limit):
        coef = torch.clamp(limit / (total + 1e-6), max=1.0)
        for p in params:
            p.grad.mul_(coef.view(-1, *([1] * (p.grad.dim() - 1))))
    return total


def train_ensemble(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    val_inputs: torch.Tensor,
    val_targets: torch.Tensor,
    config: TrainConfig,
    val_dates=None,
    floor: nn.Module | None = None,
) -> list[TrainResult]:
    """Train every member of ``model``; one :class:`TrainResult` per member (``val_dates``:
    the validation samples' dates, and ``floor``, a model of the same shape whose member
    ``k`` member ``k`` must beat, as :func:`~.loop.train` takes them)."""
    params = list(model.parameters())
    members = params[0].shape[0]
    optimizer = make_optimizer(params, config, len(inputs), len(val_inputs))
    torch.manual_seed(config.seed)
    best = [p.detach().clone() for p in params]
    first = [p.detach().clone() for p in params]  # the starting weights (round 0)
    results = [TrainResult() for _ in range(members)]
    bad = [0] * members
    active = [True] * members
    total, per_round = config.plan(len(inputs))
    batches = _Batches(len(inputs), config)
    limit = config.clip_norm if config.clip_norm else math.inf
    step = 0
    for k, loss in enumerate(_evaluate(model, val_inputs, val_targets, config.batch_size)):
        start = float(loss) if math.isfinite(loss) else math.inf
        results[k].start_val_loss = results[k].best_val_loss = start
    model.train()
    for epoch in range(1, math.ceil(total / per_round) + 1):
        if not any(active):
            break
        start, seen = time.perf_counter(), 0
        running = torch.zeros(members, dtype=torch.float64, device=params[0].device)
        for _ in range(min(per_round, total - step)):
            index = batches(step)
            for group in optimizer.param_groups:
                group["lr"] = config.learning_rate * config.rate_factor(step, total)
            optimizer.zero_grad(set_to_none=True)
            losses = _member_losses(model(inputs[index]), targets[index])
            if not torch.isfinite(losses).all():
                bad_member = int((~torch.isfinite(losses)).nonzero()[0])
                raise TrainingError(
                    f"the loss of ensemble member {bad_member} became non-finite at step "
                    f"{step + 1}; lower the learning rate or tighten --clip-norm"
                )
            losses.sum().backward()
            norms = _clip_per_member(params, limit)
            if not torch.isfinite(norms).all():
                raise TrainingError(
                    f"a gradient became non-finite at step {step + 1}; lower the learning "
                    "rate or tighten --clip-norm"
                )
            optimizer.step()
            step += 1
            running += losses.detach().double() * len(index)
            seen += len(index)
        val = _evaluate(model, val_inputs, val_targets, config.batch_size)
        seconds = time.perf_counter() - start
        for k in range(members):
            if not active[k]:
                continue
            result = results[k]
            row = {
                "epoch": epoch,
                "step": step,
                "loss": float(running[k] / max(seen, 1)),
                "val_loss": float(val[k]),
                "seconds": seconds,
            }
            result.history.append(row)
            result.steps = step
            if row["val_loss"] < result.best_val_loss:
                result.best_val_loss, result.best_epoch = row["val_loss"], epoch
                for saved, p in zip(best, params, strict=True):
                    saved[k].copy_(p.detach()[k])
                bad[k] = 0
            else:
                bad[k] += 1
                if bad[k] >= config.patience:
                    result.stopped_early, active[k] = True, False
    _keep_or_decline(
        model, params, first, best, results, val_inputs, val_targets, config, val_dates
    )
    if floor is not None:
        _floor_members(model, floor, results, val_inputs, val_targets, config, val_dates)
    model.eval()
    return results


def _keep_or_decline(
    model, params, first, best, results, val_inputs, val_targets, config, val_dates
):
    """Load each member's best weights, or its starting weights where the rule of
    ``min_gain_se`` declines its best round (as :func:`~.loop.train` does for one model)."""
    with torch.no_grad():
        for p, start in zip(params, first, strict=True):
            p.copy_(start)
        before = _row_losses(model, val_inputs, val_targets, config.batch_size)
        for p, saved in zip(params, best, strict=True):
            p.copy_(saved)
        after = _row_losses(model, val_inputs, val_targets, config.batch_size)
        for k, result in enumerate(results):
            result.best_round = result.best_epoch
            if result.best_epoch == 0 or not math.isfinite(result.start_val_loss):
                continue
            _decide(result, before[k] - after[k], val_targets, val_dates, config.min_gain_se)
            if result.declined:
                for p, start in zip(params, first, strict=True):
                    p[k].copy_(start[k])


def _floor_members(model, floor, results, val_inputs, val_targets, config, val_dates) -> None:
    """Member ``k`` of ``floor`` replaces member ``k`` of ``model`` unless the kept weights
    beat it on validation (as :func:`~.loop._floor` does for one model)."""
    kept = _row_losses(model, val_inputs, val_targets, config.batch_size)
    simple = _row_losses(floor, val_inputs, val_targets, config.batch_size)
    with torch.no_grad():
        for k, result in enumerate(results):
            if _judge_floor(result, simple[k], kept[k], val_targets, val_dates, config.min_gain_se):
                for p, q in zip(model.parameters(), floor.parameters(), strict=True):
                    p[k].copy_(q[k])
