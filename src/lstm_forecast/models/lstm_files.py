"""Saving and loading an :class:`LSTMForecaster` as ``model.safetensors`` + ``config.json``.

Nothing is unpickled. ``config.json`` holds the settings, the scaler statistics, the tickers,
the training date range, the training history, library versions and the SHA-256 of the
weights file. Loading checks the format, the hash, and every tensor name and shape, and raises
:class:`~lstm_forecast.training.files.ModelFileError` for any mismatch or damage.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import __version__
from ..features import StandardScaler
from ..training.files import (
    ModelFileError,
    read_json,
    read_tensors,
    sha256,
    write_json,
    write_tensors,
)
from ..training.loop import TrainResult
from .lstm import SETTINGS, ForecastNet, LSTMForecaster

FORMAT, VERSION = "lstm-forecast/lstm", 1
WEIGHTS, CONFIG = "model.safetensors", "config.json"


def save_model(model: LSTMForecaster, directory: str | Path, overwrite: bool = False) -> Path:
    """Write the fitted ``model`` to ``directory`` (created if needed).

    An existing directory is only written into when it is empty, or holds a model saved
    before and ``overwrite`` is true: nothing else of the user's is ever replaced.
    """
    if not hasattr(model, "net_"):
        raise ModelFileError("the model is not fitted; fit it before saving")
    directory = Path(directory)
    if directory.exists():
        if not directory.is_dir():
            raise ModelFileError(f"{directory}: exists and is not a directory")
        present = {p.name for p in directory.iterdir()}
        if present and not (overwrite and present <= {WEIGHTS, CONFIG}):
            what = (
                "holds a saved model; pass overwrite"
                if present <= {WEIGHTS, CONFIG}
                else f"is not empty ({sorted(present)[:5]}); choose a new directory"
            )
            raise ModelFileError(f"{directory}: {what}")
    weights = directory / WEIGHTS
    write_tensors(weights, model.net_.state_dict())
    config = {
        "format": FORMAT,
        "format_version": VERSION,
        "settings": model.settings(),
        "scaler": model.scaler_.to_dict(),
        "tickers": model.tickers_,
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
    write_json(directory / CONFIG, config)
    return directory


def load_model(directory: str | Path, device: str | None = None) -> LSTMForecaster:
    """Read a model saved by :func:`save_model`; it forecasts exactly what the saved one did."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelFileError(f"{directory}: no such model directory")
    config = read_json(directory / CONFIG)
    if config.get("format") != FORMAT:
        raise ModelFileError(
            f"{directory / CONFIG}: not an lstm-forecast LSTM model "
            f"(format {config.get('format')!r})"
        )
    if config.get("format_version") != VERSION:
        raise ModelFileError(
            f"{directory / CONFIG}: format version "
            f"{config.get('format_version')!r}; this release reads {VERSION}"
        )
    try:
        settings = {k: config["settings"][k] for k in SETTINGS}
        tickers, scaler = list(config["tickers"]), StandardScaler.from_dict(config["scaler"])
        train_range = pd.Timestamp(config["train_start"]), pd.Timestamp(config["train_end"])
        expected_hash = str(config["weights_sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{directory / CONFIG}: missing or invalid entry ({exc})") from None
    if device is not None:
        settings["device"] = device
    elif settings["device"] == "cuda" and not torch.cuda.is_available():
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
    model = LSTMForecaster(**settings)
    net = ForecastNet(
        model.hidden_size,
        model.num_layers,
        model.variant,
        model.dropout,
        model.horizon,
        model.path,
        model.device,
    )
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in tensors.items()}
    if expected != found:
        raise ModelFileError(
            f"{directory / WEIGHTS}: tensors do not match the settings in "
            f"config.json (expected {expected}, found {found})"
        )
    net.load_state_dict(tensors)
    net.eval()
    model.net_, model.scaler_, model.tickers_ = net, scaler, tickers
    model.train_start_, model.train_end_ = train_range
    model.history_ = TrainResult(config.get("history", []), config.get("best_epoch", 0))
    return model
