"""Saving and loading an :class:`~.lstm.LSTMForecaster` as ``model.safetensors`` +
``config.json``. This module does not import the forecaster: :meth:`LSTMForecaster.load`
passes itself in as the ``build`` of :func:`load_model`.

Nothing is unpickled. ``config.json`` holds the settings, the scaler statistics, the tickers,
the training date range, the training history, library versions, the SHA-256 of the weights
file, and ``model_sha256``: the SHA-256 of all of that (the config without this field, in
canonical JSON), so a changed lookback, scaler or ticker list is caught like changed weights.
Loading checks the size, the format, both hashes, every field against a schema (types,
ranges), every tensor's name, shape, dtype (float32) and finiteness, and raises
:class:`~lstm_forecast.training.files.ModelFileError` naming the field for anything wrong.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .. import __version__
from ..features import StandardScaler
from ..features.inputs import feature_names
from ..training.files import (
    ModelFileError,
    read_json,
    read_tensors,
    sha256,
    writable_home,
    write_json,
    write_tensors,
)
from ..training.loop import TrainResult
from .lstm_settings import LATER_SETTINGS, SETTINGS, check_lstm_settings

FORMAT, VERSION = "lstm-forecast/lstm", 1
WEIGHTS, CONFIG = "model.safetensors", "config.json"


def save_model(model: Any, directory: str | Path, overwrite: bool = False) -> Path:
    """Write the fitted ``model`` to ``directory`` (created if needed).

    An existing directory is only written into when it is empty, or holds a model saved
    before and ``overwrite`` is true: nothing else of the user's is ever replaced.
    """
    if not hasattr(model, "net_"):
        raise ModelFileError("the model is not fitted; fit it before saving")
    directory = Path(directory)
    check_destination(directory, overwrite)
    if directory.exists():
        for leftover in directory.iterdir():
            if _own_temp(leftover.name) and leftover.is_file():
                leftover.unlink()
    # Both files are written under temporary names first and renamed into place only when
    # both are complete: a full disk or a kill leaves the old model (or nothing), never a
    # weights file without its config. Leftover temporaries are removed by the next save.
    weights = directory / f".{WEIGHTS}.new"
    config_path = directory / f".{CONFIG}.new"
    try:
        _write_pair(model, weights, config_path)
        os.replace(weights, directory / WEIGHTS)
        os.replace(config_path, directory / CONFIG)
    except OSError as exc:
        for path in (weights, config_path):
            path.unlink(missing_ok=True)
        raise ModelFileError(
            f"{directory}: saving the model failed ({exc.strerror or exc}); free space or "
            "choose another --out"
        ) from None
    return directory


def _write_pair(model: Any, weights: Path, config_path: Path) -> None:
    write_tensors(weights, {k: v.float() for k, v in model.net_.state_dict().items()})
    config = {
        "format": FORMAT,
        "format_version": VERSION,
        "settings": model.settings(),
        "scaler": model.scaler_.to_dict(),
        "feature_scaler": (
            None if model.feature_scaler_ is None else model.feature_scaler_.to_dict()
        ),
        "tickers": model.tickers_,
        "covariates": list(getattr(model, "covariates_", [])),
        "nu": _finite_or_none(getattr(model, "nu_", None)),
        "train_start": model.train_start_.isoformat(),
        "train_end": model.train_end_.isoformat(),
        "history": model.history_.history,
        "best_epoch": model.history_.best_epoch,
        "weights_sha256": sha256(weights),
        "tensors": {k: list(v.shape) for k, v in model.net_.state_dict().items()},
        "versions": {
            "lstm_forecast": __version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
    }
    closed = getattr(model, "closed_days_", None)
    if closed is not None:  # the training calendar's closed weekdays (predict's next dates)
        config["closed_days"] = closed
    members = getattr(model, "members_", None)
    if members is not None:
        config["members"] = [
            {
                "best_val_loss": _finite_or_none(m.best_val_loss),
                "best_epoch": m.best_epoch,
                "steps": m.steps,
                "best_round": m.best_round,
                "gain_se": _finite_or_none(m.gain_se),
            }
            for m in members
        ]
    tuning = getattr(model, "tuning_", None)
    if tuning is not None:
        config["tuning"] = {
            "best": tuning.best,
            "trials": tuning.trials,
            "seconds": tuning.seconds,
            "metric": tuning.metric,
        }
    config["model_sha256"] = config_digest(config)
    write_json(config_path, config)


def config_digest(config: dict) -> str:
    """SHA-256 of the config without its own ``model_sha256``, as canonical JSON."""
    body = {k: v for k, v in config.items() if k != "model_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def check_destination(directory: str | Path, overwrite: bool = False) -> None:
    """Raise :class:`ModelFileError` unless ``save_model`` may write ``directory``: call it
    before training so that a bad ``--out`` is refused before minutes of work."""
    directory = Path(directory)
    if directory.is_symlink():
        raise ModelFileError(f"{directory}: is a symbolic link; give a real directory for --out")
    if directory.exists():
        if not directory.is_dir():
            raise ModelFileError(
                f"{directory}: exists and is not a directory; choose another --out"
            )
        present = {p.name for p in directory.iterdir() if not _own_temp(p.name)}
        if present and not (overwrite and present <= {WEIGHTS, CONFIG}):
            others = sorted(present - {WEIGHTS, CONFIG})
            if not others:
                what = "holds a saved model; pass --force to replace it"
            elif others != sorted(present):
                what = (
                    f"holds a saved model and other files ({', '.join(others[:5])}), which "
                    "--force would not replace; move them or choose a new directory"
                )
            else:
                what = f"is not empty ({', '.join(others[:5])}); choose a new directory"
            raise ModelFileError(f"{directory}: {what}")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise ModelFileError(f"{directory}: not writable; choose another --out")
        return
    if writable_home(directory) is None:
        raise ModelFileError(f"{directory}: cannot be created there; choose another --out")


def _own_temp(name: str) -> bool:
    """A temporary file of our atomic writer (``.model.safetensors.XXXX``) left by a kill."""
    return any(name.startswith(f".{n}.") for n in (WEIGHTS, CONFIG))


def load_model(
    directory: str | Path, device: str | None = None, *, build: Callable[..., Any]
) -> Any:
    """Read a model saved by :func:`save_model`; it forecasts exactly what the saved one did.
    ``build(**settings)`` makes the unfitted model (the forecaster class)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelFileError(f"{directory}: no such model directory")
    if not (directory / CONFIG).exists():
        raise ModelFileError(
            f"{directory}: no {CONFIG} here, so not a model directory (one that 'train "
            "--out' or the model's save wrote)"
        )
    config = read_json(directory / CONFIG, max_bytes=MAX_CONFIG_BYTES)
    where = directory / CONFIG
    if config.get("format") != FORMAT:
        raise ModelFileError(
            f"{where}: not an lstm-forecast LSTM model (format {str(config.get('format'))[:40]!r})"
        )
    if config.get("format_version") != VERSION:
        raise ModelFileError(
            f"{where}: format version {str(config.get('format_version'))[:20]!r}; "
            f"this release reads {VERSION}"
        )
    if config.get("model_sha256") != config_digest(config):
        raise ModelFileError(
            f"{where}: model_sha256 does not match the contents; config.json was changed or "
            "damaged after saving (settings, scaler or tickers), so the model cannot be trusted"
        )
    settings, tickers, scaler, train_range, expected_hash = _checked_config(config, where)
    covariates = config.get("covariates", [])
    if not isinstance(covariates, list) or not all(
        isinstance(c, str) and 0 < len(c) <= 200 for c in covariates
    ):
        raise ModelFileError(f"{where}: field 'covariates' must be a list of series names")
    feature_scaler = _checked_feature_scaler(config, settings["features"], covariates, where)
    if device is not None:
        check_lstm_settings({"device": device})
        settings["device"] = device
    elif str(settings["device"]).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            "the model was trained on CUDA, which is not available here; loading it on the CPU",
            RuntimeWarning,
            stacklevel=2,
        )
        settings["device"] = "cpu"
    tensors = {
        k: v.to(torch.device("cpu"))
        for k, v in read_tensors(directory / WEIGHTS, expected_hash).items()
    }
    model = build(**settings)
    model.covariates_ = covariates
    net = model.new_net()
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in tensors.items()}
    if expected != found:
        raise ModelFileError(
            f"{directory / WEIGHTS}: tensors do not match the settings in "
            f"config.json (expected {expected}, found {found})"
        )
    for name, tensor in tensors.items():
        if tensor.dtype != torch.float32:
            raise ModelFileError(
                f"{directory / WEIGHTS}: tensor {name!r} is {tensor.dtype}, expected float32"
            )
        if not torch.isfinite(tensor).all():
            raise ModelFileError(f"{directory / WEIGHTS}: tensor {name!r} holds NaN or infinity")
    net.load_state_dict(tensors)
    net.eval()
    model.net_, model.scaler_, model.tickers_ = net, scaler, tickers
    model.feature_scaler_ = feature_scaler
    model.nu_ = _checked_nu(config.get("nu"), where)
    model.train_start_, model.train_end_ = train_range
    model.history_ = TrainResult(config.get("history", []), config.get("best_epoch", 0))
    if "members" in config:
        model.members_ = _checked_members(config["members"], model.ensemble, where)
    model.closed_days_ = _checked_closed_days(config.get("closed_days"), train_range, where)
    return model


def _checked_closed_days(closed, train_range, where: Path) -> list[str] | None:
    """The weekdays the training data had no row on (None: a file written before they were
    kept, or data dated on weekends too), each an ISO date inside the training range."""
    if closed is None:
        return None
    first, last = train_range
    if not isinstance(closed, list) or len(closed) > 200_000:
        raise ModelFileError(f"{where}: field 'closed_days' must be a list of dates")
    try:
        days = pd.DatetimeIndex([pd.Timestamp.fromisoformat(str(d)) for d in closed])
    except ValueError:
        raise ModelFileError(f"{where}: field 'closed_days' holds a bad date") from None
    if len(days) and (days.min() < first.normalize() or days.max() > last):
        raise ModelFileError(f"{where}: field 'closed_days' holds dates outside training")
    return [f"{day:%Y-%m-%d}" for day in days]


def _checked_members(members, ensemble: int, where: Path) -> list[TrainResult]:
    """What training kept for each member of a seed ensemble: its round (0: the starting
    weights), steps and validation loss (files written before ``best_round`` and ``gain_se``
    were saved read them as unknown)."""
    if not isinstance(members, list) or len(members) != ensemble:
        raise ModelFileError(f"{where}: field 'members' must list the {ensemble} members")

    def count(entry: dict, key: str) -> int:
        value = entry.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ModelFileError(f"{where}: field 'members' holds a bad {key!r}: {value!r}")
        return value

    def number(entry: dict, key: str) -> float:
        value = entry.get(key)
        if value is None:
            return math.inf if key == "best_val_loss" else math.nan
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModelFileError(f"{where}: field 'members' holds a bad {key!r}: {value!r}")
        return float(value)

    if not all(isinstance(entry, dict) for entry in members):
        raise ModelFileError(f"{where}: field 'members' must be a list of objects")
    return [
        TrainResult(
            best_epoch=count(entry, "best_epoch"),
            best_val_loss=number(entry, "best_val_loss"),
            steps=count(entry, "steps"),
            best_round=count(entry, "best_round"),
            gain_se=number(entry, "gain_se"),
        )
        for entry in members
    ]


def _finite_or_none(value) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _checked_nu(value, where: Path) -> float:
    """The fitted degrees of freedom of a variance head's intervals (None: normal)."""
    if value is None:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 2 < value <= 1000:
        raise ModelFileError(f"{where}: field 'nu' must be a number in (2, 1000] or null")
    return float(value)


MAX_CONFIG_BYTES = 20_000_000
MAX_TICKERS = 100_000


def _checked_feature_scaler(
    config: dict, features, covariates: list[str], where: Path
) -> StandardScaler | None:
    """The scaler of the inputs other than returns: present exactly when the features need
    one, with a finite mean and positive deviation for each of their columns."""
    names = [n for n in feature_names(features, covariates) if n != "return"]
    stats = config.get("feature_scaler")
    if not names:
        if stats is not None:
            raise ModelFileError(f"{where}: field 'feature_scaler' is set but no feature needs it")
        return None
    try:
        scaler = StandardScaler.from_dict(stats)
        mean, std = scaler.mean_, scaler.std_
        ok = set(mean.index) == set(names) == set(std.index)
        ok = ok and bool(np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all())
    except (KeyError, TypeError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise ModelFileError(
            f"{where}: field 'feature_scaler' must hold a finite mean and a positive standard "
            f"deviation for each of {names}"
        )
    return scaler


def _field(config: dict, name: str, where: Path):
    if name not in config:
        raise ModelFileError(f"{where}: field {name!r} is missing")
    return config[name]


def _checked_config(config: dict, where: Path):
    """Every field the model is rebuilt from, checked; a bad one names itself."""
    raw = _field(config, "settings", where)
    if not isinstance(raw, dict):
        raise ModelFileError(f"{where}: field 'settings' must be an object")
    raw = {**LATER_SETTINGS, **raw}
    missing = [k for k in SETTINGS if k not in raw]
    if missing:
        raise ModelFileError(f"{where}: field 'settings.{missing[0]}' is missing")
    settings = {k: raw[k] for k in SETTINGS}
    try:
        check_lstm_settings(settings)
    except ValueError as exc:
        raise ModelFileError(f"{where}: field 'settings': {exc}") from None
    tickers = _field(config, "tickers", where)
    if (
        not isinstance(tickers, list)
        or not 1 <= len(tickers) <= MAX_TICKERS
        or not all(isinstance(t, str) and 0 < len(t) <= 200 for t in tickers)
        or len(set(tickers)) != len(tickers)
    ):
        raise ModelFileError(f"{where}: field 'tickers' must be a list of distinct names")
    stats = _field(config, "scaler", where)
    try:
        scaler = StandardScaler.from_dict(stats)
        mean, std = scaler.mean_, scaler.std_
        ok = set(mean.index) == set(tickers) == set(std.index)
        ok = ok and bool(np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all())
    except (KeyError, TypeError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise ModelFileError(
            f"{where}: field 'scaler' must hold a finite mean and a positive standard "
            "deviation for every ticker"
        )
    try:
        train_range = pd.Timestamp(config["train_start"]), pd.Timestamp(config["train_end"])
        if train_range[0] > train_range[1]:
            raise ValueError
    except (KeyError, TypeError, ValueError):
        raise ModelFileError(
            f"{where}: fields 'train_start'/'train_end' must be dates in order"
        ) from None
    expected_hash = _field(config, "weights_sha256", where)
    if not isinstance(expected_hash, str) or len(expected_hash) != 64:
        raise ModelFileError(f"{where}: field 'weights_sha256' must be a SHA-256 hex digest")
    return settings, tickers, scaler, train_range, expected_hash
