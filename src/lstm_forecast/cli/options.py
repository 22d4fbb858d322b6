"""Options that several commands share under one name: how to read a price file, the LSTM's
settings, ``--threads`` and ``--config``; :func:`with_options` adds a group to a command.

``train`` and ``backtest`` take the same LSTM flags (``--hidden-size`` everywhere; the old
``--lstm-hidden``/``--lstm-lookback``/``--lstm-epochs`` of ``backtest`` still work). Any option
can also come from a TOML file, ``--config run.toml``, with the option's name as the key
(``hidden-size = 64`` or ``hidden_size = 64``); flags on the command line win.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

# -- options shared by every command that reads prices ---------------------------------------
DataOpt = Annotated[
    str, typer.Option(help="CSV/Parquet/XLSX path, or an embedded dataset ('data list').")
]
TickersOpt = Annotated[str | None, typer.Option(help="Comma-separated tickers (default: all).")]
DateColOpt = Annotated[str | None, typer.Option(help="Name of the date column.")]
PriceColOpt = Annotated[str | None, typer.Option(help="Name of the price column.")]
TickerColOpt = Annotated[str | None, typer.Option(help="Name of the ticker column.")]
DateFormatOpt = Annotated[
    str | None,
    typer.Option(help="Date format, e.g. %d/%m/%Y (default: one inferred for the column)."),
]
DecimalOpt = Annotated[str, typer.Option(help="Decimal mark of the prices: . or ,")]
TickerOpt = Annotated[
    str | None,
    typer.Option(help="Name of the series in a single-ticker file (default: the file name)."),
]
SheetOpt = Annotated[
    str | None,
    typer.Option(
        help="The sheet of an Excel workbook that holds the prices (default: its only sheet "
        "with data)."
    ),
]
MaxGapOpt = Annotated[
    int, typer.Option(min=0, help="Forward-fill a ticker's missing prices up to this many days.")
]
WeekdaysOpt = Annotated[
    bool,
    typer.Option(
        help="Keep Monday-Friday rows only: a market open every day (crypto) read beside "
        "stocks, its weekend moves folded into Monday's return."
    ),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        min=1, help="Torch CPU threads (default: $OMP_NUM_THREADS, else 1; see the README)."
    ),
]

LookbackOpt = Annotated[
    int, typer.Option("--lookback", "--lstm-lookback", help="Days of returns the LSTM reads.")
]
HiddenSizeOpt = Annotated[
    int, typer.Option("--hidden-size", "--lstm-hidden", help="LSTM units per layer.")
]
LayersOpt = Annotated[int, typer.Option(help="Stacked LSTM layers.")]
VariantOpt = Annotated[str, typer.Option(help="standard | peephole | coupled | gru | rnn")]
DropoutOpt = Annotated[float, typer.Option(help="Dropout between stacked layers, in [0, 1).")]
EpochsOpt = Annotated[
    int | None,
    typer.Option(
        "--epochs",
        "--lstm-epochs",
        help="Budget training in epochs (passes of at most 64 batches) instead of --steps.",
    ),
]
StepsOpt = Annotated[
    int | None,
    typer.Option(
        help="Budget training in optimiser steps (default 2000 when --epochs is not given)."
    ),
]
EvalEveryOpt = Annotated[
    int, typer.Option(help="Optimiser steps between validations (with --steps).")
]
ScheduleOpt = Annotated[
    str, typer.Option(help="Learning rate: cosine (warm-up, then cosine decay) | constant.")
]
WarmupOpt = Annotated[float, typer.Option(help="Share of the steps spent warming up (cosine).")]
WeightDecayOpt = Annotated[float, typer.Option(help="AdamW weight decay (0: plain Adam).")]
HeadLagsOpt = Annotated[
    int,
    typer.Option(
        help="The head also reads the last N daily returns directly, with the LSTM's state, "
        "through a hidden layer of 64 units (0: a linear head on the LSTM's state only)."
    ),
]
HeadActivationOpt = Annotated[
    str,
    typer.Option(
        help="relu | gelu: the units of the head's layer on the last returns. GELU finds more "
        "of a product of two lags, ReLU more of a threshold rule (docs/power.md)."
    ),
]
MinGainSeOpt = Annotated[
    float,
    typer.Option(
        help="A trained round replaces the starting weights only if it beats them on "
        "validation by this many standard errors (0: by any margin; docs/power.md)."
    ),
]
BatchSizeOpt = Annotated[int, typer.Option(help="Training batch size.")]
LearningRateOpt = Annotated[float, typer.Option(help="Adam's peak learning rate.")]
PatienceOpt = Annotated[
    int, typer.Option(help="Validations without improvement before stopping early.")
]
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
        help="Optuna trials choosing lookback, size, layers, dropout, learning rate, weight "
        "decay and the head (--head-lags 0 or 10, --head-activation) on validation folds "
        "inside the training rows, scored by squared error (log score with --distribution, "
        "QLIKE with --target volatility), starting from the settings given (0: no tuning).",
    ),
]
EnsembleOpt = Annotated[
    int,
    typer.Option(
        "--ensemble",
        "--lstm-ensemble",
        min=1,
        help="Seed ensemble: K members (seeds seed..seed+K-1), their forecasts averaged; "
        "with --distribution or --target volatility, one distribution with their mixture's "
        "mean and variance (standard LSTM).",
    ),
]
EnsembleBatchedOpt = Annotated[
    bool,
    typer.Option(
        help="Train the ensemble as one batched model (a models dimension through the matrix "
        "products) instead of member by member; slower on the machines measured so far."
    ),
]
FeaturesOpt = Annotated[
    str,
    typer.Option(
        "--features",
        help="What the LSTM reads, comma-separated: returns (its own), ohlc (files with daily "
        "bars: gap, intraday, range, volume z-score), covariates (--covariates), "
        "market (panels: equal-weighted return, return minus the median, rank), calendar "
        "(weekday, business days to month end). backtest gives OLS the same inputs.",
    ),
]
DistributionOpt = Annotated[
    str,
    typer.Option(
        "--distribution",
        help="none | normal | t: forecast the distribution of the return (Gaussian or "
        "Student-t with learned degrees of freedom, trained on the negative log-likelihood); "
        "predict then shows the median and the 80% and 95% intervals. With --target "
        "volatility, t gives the variance forecast Student-t intervals (degrees of freedom "
        "fitted on the training residuals).",
    ),
]
MeanFloorOpt = Annotated[
    bool,
    typer.Option(
        help="A backtest refit that starts from the last one (--warm-start) keeps its weights "
        "only while they beat the training mean on its validation slice; else it starts "
        "again from that mean (forecasts of returns, not --target volatility; off with "
        "--min-gain-se 0; docs/power.md)."
    ),
]
EwmaAnchorOpt = Annotated[
    bool,
    typer.Option(
        help="With --distribution or --target volatility: add a learned multiple of the log "
        "EWMA variance (lambda 0.94) of the window's returns to the forecast's log scale, so "
        "the forecast spread can follow volatility beyond the range the network was trained "
        "on (docs/distributions.md)."
    ),
]
TuneSecondsOpt = Annotated[
    float | None, typer.Option(min=1, help="Stop tuning after this many seconds per fit.")
]

CovariatesOpt = Annotated[
    str | None,
    typer.Option(
        help="Your own daily series as inputs (a file with a date column and one column per "
        "series, any sign); the models read them with --features ...,covariates."
    ),
]
CovariateLagOpt = Annotated[
    int,
    typer.Option(
        min=0,  # the largest is checked where covariates are read (data.reader.MAX_LAG)
        help="Business days after its date that a covariate value becomes known (for series "
        "published after the close; a monthly series dated on the 1st, as FRED dates them, "
        "needs at least its month's business days plus its publication delay).",
    ),
]

# CLI parameter name -> LSTMForecaster setting
# option groups: parameter name -> (annotation, default)
READ_OPTIONS: dict[str, tuple[Any, Any]] = {
    "date_col": (DateColOpt, None),
    "price_col": (PriceColOpt, None),
    "ticker_col": (TickerColOpt, None),
    "date_format": (DateFormatOpt, None),
    "decimal": (DecimalOpt, "."),
    "ticker": (TickerOpt, None),
    "sheet": (SheetOpt, None),
    "max_gap": (MaxGapOpt, 5),
    "weekdays": (WeekdaysOpt, False),
}
CovariateSheetOpt = Annotated[
    str | None,
    typer.Option(
        help="The sheet of an Excel workbook that holds the covariates (default: its only "
        "sheet with data)."
    ),
]
COVARIATE_OPTIONS: dict[str, tuple[Any, Any]] = {
    "covariates": (CovariatesOpt, None),
    "covariate_lag": (CovariateLagOpt, 0),
    "covariate_sheet": (CovariateSheetOpt, None),
}
LSTM_OPTIONS: dict[str, tuple[Any, Any]] = {
    "lookback": (LookbackOpt, 60),
    "hidden_size": (HiddenSizeOpt, 32),
    "layers": (LayersOpt, 1),
    "variant": (VariantOpt, "standard"),
    "dropout": (DropoutOpt, 0.0),
    "steps": (StepsOpt, None),
    "epochs": (EpochsOpt, None),
    "eval_every": (EvalEveryOpt, 100),
    "batch_size": (BatchSizeOpt, 64),
    "learning_rate": (LearningRateOpt, 2e-3),
    "schedule": (ScheduleOpt, "cosine"),
    "warmup": (WarmupOpt, 0.05),
    "weight_decay": (WeightDecayOpt, 0.0),
    "min_gain_se": (MinGainSeOpt, 1.0),
    "mean_floor": (MeanFloorOpt, True),
    "head_lags": (HeadLagsOpt, 10),
    "head_activation": (HeadActivationOpt, "relu"),
    "patience": (PatienceOpt, 10),
    "clip_norm": (ClipNormOpt, 1.0),
    "seed": (SeedOpt, 0),
    "device": (DeviceOpt, "cpu"),
    "path": (PathOpt, "eager"),
    "tune": (TuneOpt, 0),
    "tune_seconds": (TuneSecondsOpt, None),
    "ensemble": (EnsembleOpt, 1),
    "ensemble_batched": (EnsembleBatchedOpt, False),
    "features": (FeaturesOpt, "returns"),
    "distribution": (DistributionOpt, "none"),
    "ewma_anchor": (EwmaAnchorOpt, True),
}
_SETTING_NAMES = {"layers": "num_layers"}  # CLI name -> LSTMForecaster name, where they differ


# options whose value is one of a few words (or a list of them): read in any case, as
# --models already was
WORD_CHOICES = frozenset(
    {"window", "target", "executor", "variant", "schedule", "head_activation", "device"}
    | {"path", "distribution", "features"}
)


def with_options(*groups: dict[str, tuple[Any, Any]]) -> Callable[[Callable], Callable]:
    """Give a command every option of ``groups`` without listing them in its signature: the
    command takes ``**options`` and receives them there (typer reads ``__signature__``)."""

    def decorate(func):
        own = inspect.signature(func, eval_str=True)
        kept = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a)
            for group in groups
            for name, (a, d) in group.items()
        ]

        @functools.wraps(func)
        def command(**values):
            for name in WORD_CHOICES & values.keys():  # 'Rolling' is --window rolling
                if isinstance(values[name], str):
                    values[name] = values[name].strip().lower()
            return func(**values)

        command.__signature__ = own.replace(parameters=[*kept, *added])
        command.__annotations__ = {p.name: p.annotation for p in (*kept, *added)}
        return command

    return decorate


def pick(options: dict[str, Any], group: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """The values of one option group."""
    return {name: options[name] for name in group}


def lstm_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The LSTMForecaster settings among a command's options."""
    return {_SETTING_NAMES.get(name, name): options[name] for name in LSTM_OPTIONS}


# Options whose value is a comma-separated list: a TOML array of names is read as one too.
_COMMA_LISTS = {"models", "tickers", "features"}


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
    # every flag's name is a key, an alias included ('lstm-hidden' as 'hidden-size')
    known = {
        flag.lstrip("-"): param.name
        for param in ctx.command.params
        if param.name and param.name != "config"
        for flag in (*param.opts, param.name.replace("_", "-"))
        if not flag.startswith("-") or flag.startswith("--")
    }
    defaults = {}
    for key, item in document.items():
        name = known.get(str(key).replace("_", "-"))
        if name is None and isinstance(item, dict):
            raise typer.BadParameter(
                f"{value}: [{key}] is a table; write the options at the top level, one key "
                "per flag (e.g. hidden-size = 64 for --hidden-size 64)"
            )
        if name is None:
            close = difflib.get_close_matches(str(key).replace("_", "-"), known, n=1)
            raise typer.BadParameter(
                f"{value}: unknown option {key!r}"
                + (f" (did you mean {close[0]!r}?)" if close else "")
                + "; the keys are this command's options "
                f"({', '.join(sorted({n.replace('_', '-') for n in known.values()}))})"
            )
        if isinstance(item, list) and name in _COMMA_LISTS:
            if not all(isinstance(part, str) and "," not in part for part in item):
                raise typer.BadParameter(
                    f'{value}: {key!r} must be a list of names, e.g. {key} = ["a", "b"]'
                )
            item = ",".join(item)
        if isinstance(item, (dict, list)):
            raise typer.BadParameter(f"{value}: {key!r} must be a single value")
        if isinstance(item, str) and item.startswith("~/"):
            item = str(Path(item).expanduser())  # a path a shell would have expanded
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
    """A command's final option values as JSON-ready data (metrics.json records them);
    ``values`` is its ``locals()``, the grouped ``options`` flattened in."""
    flat = {**{k: v for k, v in values.items() if k != "options"}, **values.get("options", {})}
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in flat.items()}
