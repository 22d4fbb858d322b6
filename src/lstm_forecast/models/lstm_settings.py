"""The LSTM forecaster's settings: one schema, checked when a model is built and when one is
loaded from a file, so a bad value is refused before any work and names its flag.

Each entry: (flag, type, lowest, highest). Ranges are generous for real use and keep a
tampered ``config.json`` from asking for 100,000 layers or a million hidden units.
"""

from __future__ import annotations

import math

# The settings that define a model: what config.json records, in this order.
SETTINGS = (
    "lookback",
    "hidden_size",
    "num_layers",
    "variant",
    "dropout",
    "horizon",
    "epochs",
    "batch_size",
    "learning_rate",
    "patience",
    "clip_norm",
    "seed",
    "device",
    "validation_fraction",
    "path",
    "steps",
    "eval_every",
    "schedule",
    "warmup",
    "weight_decay",
    "ensemble",
    "features",
    "distribution",
    "target",
    "max_epoch_steps",
    "ewma_anchor",
    "anchor_gain",
    "head_lags",
    "head_activation",
    "min_gain_se",
    "mean_floor",
)
# settings added after format version 1 was first written: a file without them gets these
LATER_SETTINGS = {
    "steps": None,
    "eval_every": 100,
    "schedule": "constant",
    "warmup": 0.05,
    "weight_decay": 0.0,
    "ensemble": 1,
    "features": ["returns"],
    "distribution": "none",
    "target": "return",
    "max_epoch_steps": None,  # files written before the cap: an epoch was a whole pass
    "ewma_anchor": False,  # files written before the anchor have none
    "anchor_gain": 1.0,  # files written before the gain was a setting: the anchor entered as 1a
    "head_lags": 0,  # files written before the head read the last inputs: a linear head
    "head_activation": "relu",  # files written before the choice: ReLU units
    "min_gain_se": 0.0,  # files written before the rule: the best round kept by any margin
    "mean_floor": False,  # files written before the floor: a warm start's weights kept as is
}

VARIANTS = ("standard", "peephole", "coupled", "gru", "rnn")
HEAD_ACTIVATIONS = ("relu", "gelu")
PATHS = ("eager", "compiled")
DEVICES = ("auto", "cpu", "cuda")

SCHEMA: dict[str, tuple[str, type, float | None, float | None]] = {
    "lookback": ("--lookback", int, 1, 5000),
    "hidden_size": ("--hidden-size", int, 1, 4096),
    "num_layers": ("--layers", int, 1, 16),
    "dropout": ("--dropout", float, 0.0, 0.95),
    "horizon": ("--horizon", int, 1, 1000),
    "epochs": ("--epochs", int, 1, 100_000),
    "batch_size": ("--batch-size", int, 1, 1_000_000),
    "learning_rate": ("--learning-rate", float, 1e-8, 10.0),
    "patience": ("--patience", int, 1, 100_000),
    "clip_norm": ("--clip-norm", float, 1e-8, 1e6),
    "seed": ("--seed", int, 0, 2**32 - 1),
    "validation_fraction": ("--validation-fraction", float, 0.01, 0.9),
    "steps": ("--steps", int, 1, 10_000_000),
    "eval_every": ("--eval-every", int, 1, 1_000_000),
    "warmup": ("--warmup", float, 0.0, 0.9),
    "weight_decay": ("--weight-decay", float, 0.0, 10.0),
    "ensemble": ("--ensemble", int, 1, 64),
    "max_epoch_steps": ("max_epoch_steps", int, 1, 10_000_000),
    "anchor_gain": ("anchor_gain", float, 0.01, 1000.0),
    "head_lags": ("--head-lags", int, 0, 1000),
    "min_gain_se": ("--min-gain-se", float, 0.0, 100.0),
}
CHOICES = {
    "variant": ("--variant", VARIANTS),
    "path": ("--path", PATHS),
    "schedule": ("--schedule", ("constant", "cosine")),
    "distribution": ("--distribution", ("none", "normal", "t")),
    "target": ("--target", ("return", "variance")),
    "head_activation": ("--head-activation", HEAD_ACTIVATIONS),
}
# None means: no clipping / a budget in epochs / a budget in steps / an epoch is a whole pass
# over the samples
OPTIONAL = {"clip_norm", "steps", "epochs", "max_epoch_steps"}


def check_lstm_settings(settings: dict) -> None:
    """Raise ``ValueError`` naming the setting and its flag for any value out of its schema."""
    for name, (flag, kind, low, high) in SCHEMA.items():
        if name not in settings:
            continue
        value = settings[name]
        if name in OPTIONAL and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"lstm: {name} ({flag}) must be a number, got {value!r}")
        if kind is int and (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"lstm: {name} ({flag}) must be a whole number, got {value!r}")
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"lstm: {name} ({flag}) must be in [{low:g}, {high:g}], got {value!r}")
    for name, flag in (("ewma_anchor", "--ewma-anchor"), ("mean_floor", "--mean-floor")):
        if name in settings and not isinstance(settings[name], bool):
            raise ValueError(
                f"lstm: {name} ({flag}) must be true or false, got {str(settings[name])[:40]!r}"
            )
    if settings.get("epochs") is not None and settings.get("steps") is not None:
        raise ValueError("lstm: give a budget in steps (--steps) or in epochs (--epochs), not both")
    if "dropout" in settings and settings["dropout"] >= 1:
        raise ValueError("lstm: dropout (--dropout) must be below 1")
    for name, (flag, allowed) in CHOICES.items():
        if name in settings and settings[name] not in allowed:
            raise ValueError(
                f"lstm: {name} ({flag}) must be one of {', '.join(allowed)}, got "
                f"{str(settings[name])[:40]!r}"
            )
    if settings.get("ensemble", 1) > 1 and settings.get("variant", "standard") != "standard":
        raise ValueError("lstm: --ensemble runs the standard LSTM only; use --variant standard")
    if "features" in settings:
        from ..features.inputs import check_features

        check_features(settings["features"])  # names --features in its message
    if "device" in settings:
        device = settings["device"]
        if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
            raise ValueError(
                f"lstm: device (--device) must be auto, cpu or cuda (cuda:N), got "
                f"{str(device)[:40]!r}"
            )
