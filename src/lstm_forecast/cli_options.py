"""Options that several commands share under one name: the LSTM's settings, and ``--config``.

``train`` and ``backtest`` take the same LSTM flags (``--hidden-size`` everywhere; the old
``--lstm-hidden``/``--lstm-lookback``/``--lstm-epochs`` of ``backtest`` still work). Any option
can also come from a TOML file, ``--config run.toml``, with the option's name as the key
(``hidden-size = 64`` or ``hidden_size = 64``); flags on the command line win.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

LookbackOpt = Annotated[
    int, typer.Option("--lookback", "--lstm-lookback", help="Days of returns the LSTM reads.")
]
HiddenSizeOpt = Annotated[
    int, typer.Option("--hidden-size", "--lstm-hidden", help="LSTM units per layer.")
]
LayersOpt = Annotated[int, typer.Option(help="Stacked LSTM layers.")]
VariantOpt = Annotated[str, typer.Option(help="standard | peephole | coupled | gru | rnn")]
DropoutOpt = Annotated[float, typer.Option(help="Dropout between stacked layers, in [0, 1).")]
EpochsOpt = Annotated[int, typer.Option("--epochs", "--lstm-epochs", help="Most epochs to train.")]
BatchSizeOpt = Annotated[int, typer.Option(help="Training batch size.")]
LearningRateOpt = Annotated[float, typer.Option(help="Adam's learning rate.")]
PatienceOpt = Annotated[int, typer.Option(help="Epochs without improvement before stopping.")]
ClipNormOpt = Annotated[float, typer.Option(help="Gradient-norm clipping threshold, > 0.")]
SeedOpt = Annotated[int, typer.Option(min=0, help="Random seed (>= 0).")]
DeviceOpt = Annotated[str, typer.Option(help="auto | cpu | cuda")]
PathOpt = Annotated[str, typer.Option(help="eager | compiled (torch.compile)")]
TuneOpt = Annotated[
    int,
    typer.Option(
        "--tune",
        "--lstm-tune",
        min=0,
        help="Optuna trials choosing lookback, size, layers, dropout, learning rate and weight "
        "decay on validation folds inside the training rows (0: no tuning).",
    ),
]
EnsembleOpt = Annotated[
    int,
    typer.Option(
        "--ensemble",
        "--lstm-ensemble",
        min=1,
        help="Seed ensemble: K members (seeds seed..seed+K-1), their forecasts averaged "
        "(standard LSTM).",
    ),
]
EnsembleBatchedOpt = Annotated[
    bool,
    typer.Option(
        help="Train the ensemble as one batched model (a models dimension through the matrix "
        "products) instead of member by member; slower on the machines measured so far."
    ),
]
TuneSecondsOpt = Annotated[
    float | None, typer.Option(min=1, help="Stop tuning after this many seconds per fit.")
]

# CLI parameter name -> LSTMForecaster setting
LSTM_PARAMS = {
    "lookback": "lookback",
    "hidden_size": "hidden_size",
    "layers": "num_layers",
    "variant": "variant",
    "dropout": "dropout",
    "epochs": "epochs",
    "batch_size": "batch_size",
    "learning_rate": "learning_rate",
    "patience": "patience",
    "clip_norm": "clip_norm",
    "seed": "seed",
    "device": "device",
    "path": "path",
    "tune": "tune",
    "ensemble": "ensemble",
    "ensemble_batched": "ensemble_batched",
    "tune_seconds": "tune_seconds",
}


def lstm_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The LSTMForecaster settings among a command's parameters."""
    return {setting: values[name] for name, setting in LSTM_PARAMS.items() if name in values}


def _load_config(ctx: typer.Context, param: typer.CallbackParam, value: Path | None):
    """Eager: read the TOML file and make its values the command's defaults."""
    if value is None:
        return value
    try:
        document = tomllib.loads(Path(value).read_text(encoding="utf-8"))
    except OSError as exc:
        raise typer.BadParameter(f"{value}: cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"{value}: not valid TOML ({exc})") from None
    known = {p.name for p in ctx.command.params if p.name and p.name != "config"}
    defaults = {}
    for key, item in document.items():
        name = key.replace("-", "_")
        if name not in known:
            raise typer.BadParameter(
                f"{value}: unknown option {key!r}; the keys are this command's options "
                f"({', '.join(sorted(k.replace('_', '-') for k in known))})"
            )
        if isinstance(item, (dict, list)):
            raise typer.BadParameter(f"{value}: {key!r} must be a single value")
        defaults[name] = item
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        help="TOML file of option values (keys as the flags); flags given here win.",
        callback=_load_config,
        is_eager=True,
    ),
]


def resolved(values: dict[str, Any]) -> dict[str, Any]:
    """A command's final option values as JSON-ready data (metrics.json records them)."""
    return {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in values.items()
        if not k.startswith("_")
    }
