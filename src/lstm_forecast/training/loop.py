"""A training loop that knows nothing about LSTMs.

Adam on mini-batches, validation on a held-out slice, early stopping that restores the best
weights, gradient-norm clipping, and:

* a non-finite loss or gradient stops training with a :class:`TrainingError` that names the
  epoch and batch; the model is left with its best (finite) weights;
* determinism: the batch order of epoch ``e`` is drawn from a generator seeded with
  ``(seed, e)`` and the global RNG (dropout) is seeded from ``seed``, so the same seed gives
  bit-identical weights on the same machine;
* a checkpoint after every epoch (model, optimiser, best weights, RNG state, history),
  written atomically, so a run resumed from it ends exactly where an uninterrupted run would.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from .files import ModelFileError, read_bundle, write_tensors


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

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.patience < 1:
            raise ValueError(f"patience must be at least 1, got {self.patience}")


@dataclass
class TrainResult:
    """What happened: one row per epoch, and which epoch's weights were kept."""

    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = math.inf
    stopped_early: bool = False


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


def _save_checkpoint(path, model, optimizer, best_state, result, bad_epochs, fingerprint):
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"best.{k}": v for k, v in best_state.items()})
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
        if best.keys() != model.state_dict().keys():
            raise ValueError("the best weights do not match the model")
        result, bad_epochs = TrainResult(**doc["result"]), int(doc["bad_epochs"])
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise ModelFileError(
            f"{path}: damaged checkpoint ({type(exc).__name__}: {str(exc)[:100]}); delete it"
        ) from None
    return best, result, bad_epochs


def check_checkpoint_path(checkpoint: Path, resume: bool) -> None:
    """Refuse a checkpoint path that cannot be written (before any training), and remove
    temporary files that a killed write of it left behind."""
    path = Path(checkpoint)
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory; give a file path for --checkpoint")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise ModelFileError(f"{parent}: is not a directory; fix --checkpoint")
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ModelFileError(f"{path}: cannot be written in {probe}; choose another --checkpoint")
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
) -> TrainResult:
    """Train ``model`` to map ``inputs`` (N, ...) to ``targets`` (N, K); returns the history.

    ``checkpoint`` is written after every epoch; with ``resume`` an existing checkpoint whose
    ``fingerprint`` matches is loaded and training continues from the epoch after it.
    ``on_epoch_end(epoch, row)`` is called after each epoch's checkpoint is written.
    """
    if checkpoint is not None:
        check_checkpoint_path(checkpoint, resume)
    if len(inputs) == 0 or len(val_inputs) == 0:
        raise ValueError(
            f"need training and validation samples, got {len(inputs)} and "
            f"{len(val_inputs)}; use more data or a shorter lookback"
        )
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    torch.manual_seed(config.seed)
    best_state = copy.deepcopy(model.state_dict())
    result, bad_epochs = TrainResult(), 0
    if resume and checkpoint is not None and Path(checkpoint).exists():
        best_state, result, bad_epochs = _load_checkpoint(checkpoint, model, optimizer, fingerprint)
    done = len(result.history)
    model.train()
    from .progress import EpochProgress

    with EpochProgress(config.epochs, enabled=progress, done=done) as bar:
        for epoch in range(done + 1, config.epochs + 1):
            if result.stopped_early:
                break
            start = time.perf_counter()
            loss = _run_epoch(model, optimizer, inputs, targets, loss_fn, config, epoch, best_state)
            val_loss = _evaluate(model, val_inputs, val_targets, loss_fn, config.batch_size)
            if not math.isfinite(val_loss):
                model.load_state_dict(best_state)
                raise TrainingError(
                    f"validation loss is not finite after epoch {epoch}; "
                    "lower the learning rate or tighten --clip-norm"
                )
            row = {
                "epoch": epoch,
                "loss": loss,
                "val_loss": val_loss,
                "seconds": time.perf_counter() - start,
            }
            best_state, bad_epochs = _record(
                result, row, model, best_state, bad_epochs, config.patience
            )
            if checkpoint is not None:
                _save_checkpoint(
                    checkpoint, model, optimizer, best_state, result, bad_epochs, fingerprint
                )
            bar.update(row)
            if on_epoch_end is not None:
                on_epoch_end(epoch, row)
    model.load_state_dict(best_state)
    model.eval()
    return result


def _record(result: TrainResult, row: dict, model, best_state, bad_epochs: int, patience: int):
    """Append the epoch's row; keep its weights if best; decide on early stopping."""
    result.history.append(row)
    if row["val_loss"] < result.best_val_loss:
        result.best_val_loss, result.best_epoch = row["val_loss"], row["epoch"]
        return copy.deepcopy(model.state_dict()), 0
    result.stopped_early = bad_epochs + 1 >= patience
    return best_state, bad_epochs + 1


def _run_epoch(model, optimizer, inputs, targets, loss_fn, config, epoch, best_state) -> float:
    order = torch.randperm(
        len(inputs), generator=torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
    )
    total = 0.0
    for batch, start in enumerate(range(0, len(inputs), config.batch_size), 1):
        index = order[start : start + config.batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(inputs[index]), targets[index])
        if not torch.isfinite(loss):
            model.load_state_dict(best_state)
            raise TrainingError(
                f"the loss became {loss.item()} at epoch {epoch}, batch {batch}; lower the "
                "learning rate, tighten gradient clipping (--clip-norm), or look for extreme "
                "values in the prices. The model keeps its last good weights."
            )
        loss.backward()
        limit = config.clip_norm if config.clip_norm else math.inf
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), limit)
        if not torch.isfinite(norm):
            model.load_state_dict(best_state)
            raise TrainingError(
                f"the gradient became non-finite at epoch {epoch}, batch {batch}; lower the "
                "learning rate or tighten gradient clipping (--clip-norm). The model keeps "
                "its last good weights."
            )
        optimizer.step()
        total += loss.item() * len(index)
    return total / len(inputs)
