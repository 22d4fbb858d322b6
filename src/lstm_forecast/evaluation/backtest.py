"""The walk-forward backtest: every model refit fold by fold, forecasts from data up to each origin.

The work is a set of tasks (:mod:`.tasks`): a model over a chain of folds on a group of
tickers. The LSTM warm-starts each fold from the previous fold's weights, so its folds form one
chain; other models get a task per fold, and models that fit each ticker alone one per group of
tickers. An executor (:mod:`.executors`) runs the tasks in this process, in worker processes
(``jobs``) or on a Ray cluster; with a work directory, finished tasks are kept as they finish
and ``resume`` picks them up after a kill. Every task is deterministic, so the result does not
depend on the executor, the number of workers, or on being resumed.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.errors import DataError
from ..data.validate import check_history
from ..features.inputs import check_features
from ..features.returns import relative_prices
from ..models import make_forecaster, validate_prices
from .executors import LocalExecutor, RayExecutor
from .splits import MIN_TRAIN_DAYS, Fold, check_ticker_spans, fold_tickers, walk_forward_splits
from .tasks import Task, TaskStore, fingerprint, plan_tasks

DEFAULT_MODELS = ("lstm", "naive", "drift", "sma", "ema", "kalman", "ols")


@dataclass
class BacktestSettings:
    """Everything that defines a backtest run (recorded in the report and metrics.json)."""

    models: tuple[str, ...] = DEFAULT_MODELS
    test_days: int = 500
    refit_every: int = 63
    horizon: int = 1
    window: str = "expanding"
    train_days: int | None = None
    warm_start: bool = True
    cost_bps: float = 5.0
    jobs: int = 1
    model_settings: dict[str, dict] = field(default_factory=dict)
    # "relative": return minus the cross-sectional median; "volatility": the variance of the
    # h-day return, forecast by the volatility models and the LSTM's variance head
    target: str = "return"
    # configurations tried before this run on the same data (other backtests, settings,
    # feature sets), each counted like one of this run's models in the Deflated Sharpe
    # Ratio's number of tries; it changes no forecast
    prior_tries: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.models, str):  # "lstm,ols", as --models writes it, not "l", "s" ...
            self.models = tuple(m.strip() for m in self.models.split(",") if m.strip())

    @property
    def ticker_train_days(self) -> int:
        """Prices of its own a ticker needs in a refit's training window before that refit
        fits and forecasts it (:func:`.splits.fold_tickers`; a ticker listed inside the data
        enters later): :data:`.splits.MIN_TRAIN_DAYS`, or the LSTM's lookback and two more
        where that is longer."""
        lookback = self.model_settings.get("lstm", {}).get("lookback", 60)
        return max(MIN_TRAIN_DAYS, lookback + 2 if "lstm" in self.models else 0)


@dataclass
class BacktestResult:
    """Long-format predictions plus what produced them."""

    predictions: pd.DataFrame
    prices: pd.DataFrame
    folds: list[Fold]
    settings: BacktestSettings
    seconds: float
    refits: pd.DataFrame = field(default_factory=pd.DataFrame)
    importance: pd.DataFrame = field(default_factory=pd.DataFrame)  # see .importance
    # rows of the volatility models in a return backtest: their point forecast is the random
    # walk's, so they are kept out of the point comparisons and scored on their spread only
    variance_only: pd.DataFrame = field(default_factory=pd.DataFrame)

    def settings_dict(self) -> dict:
        return asdict(self.settings)

    def all_predictions(self) -> pd.DataFrame:
        """Every model's rows, the volatility models' included (what predictions.csv holds)."""
        if not len(self.variance_only):
            return self.predictions
        return pd.concat([self.predictions, self.variance_only], ignore_index=True)


def _model(name: str, settings: BacktestSettings):
    extra = dict(settings.model_settings.get(name, {}))
    if name == "lstm":
        extra.setdefault("warm_start", settings.warm_start)
        if settings.target == "volatility":
            extra["target"] = "variance"
    return make_forecaster(name, horizon=settings.horizon, **extra)


def _run_task(
    shared: tuple[BacktestSettings, pd.DataFrame, list[Fold]], task: Task
) -> tuple[str, list[dict], pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame] | None]:
    """Fit ``task.model`` fold by fold over the task's folds and tickers (one model object,
    so the LSTM can warm-start); ``shared`` is (settings, prices, folds), sent once per worker.

    Torch runs on one thread here, in the main process and in workers alike: a float sum
    split over a different number of threads rounds differently, and results must not depend
    on ``jobs``. Returns the model's name, one record per refit (what training did), the
    forecasts, for models that expose their inputs (the LSTM) the squared errors of the point
    forecasts with each input permuted (:mod:`.importance`; not for a volatility target,
    whose point forecasts are the random walk's), and for a model that forecasts a
    distribution its standard deviations and degrees of freedom (else None).
    """
    import torch

    from ..features import horizon_target
    from .importance import permuted_losses

    settings, prices, all_folds = shared
    name, folds = task.model, [all_folds[k] for k in task.folds]
    if task.tickers is not None:
        prices = prices[list(task.tickers)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = _model(name, settings)
        frames, refits, permuted, spread = [], [], [], {"sd": [], "df": []}
        target = horizon_target(prices, settings.horizon)
        for fold in folds:
            # the tickers with enough of their own prices to be fit here (a late listing
            # enters at a later refit); the others get no forecast from this fold
            tickers = fold_tickers(prices, fold, settings.ticker_train_days)
            if not tickers:  # a task of tickers that all list later: nothing to fit yet
                refits.append(_refit_record(name, fold, None, 0))
                empty = pd.DataFrame(np.nan, index=fold.origins, columns=prices.columns)
                frames.append(empty)
                if model.distributional:
                    spread["sd"].append(empty)
                    spread["df"].append(empty)
                continue
            model.fit(prices.loc[fold.train_start : fold.train_end, tickers])
            refits.append(_refit_record(name, fold, model, len(tickers)))
            history = prices.loc[: fold.origins[-1], tickers]
            if model.distributional:  # every task's column, NaN for a ticker not yet fit
                dist = model.predict_distribution(history, fold.origins)
                frames.append(dist["mean"].reindex(columns=prices.columns))
                spread["sd"].append(dist["sd"].reindex(columns=prices.columns))
                spread["df"].append(dist["df"].reindex(columns=prices.columns))
            else:
                frames.append(model.predict(history, fold.origins).reindex(columns=prices.columns))
            if hasattr(model, "input_windows"):
                origins = pd.DatetimeIndex(fold.origins)
                permuted.append(permuted_losses(model, history, origins, target, fold.index))
    finally:
        torch.set_num_threads(threads)
    importance = pd.concat(permuted, ignore_index=True) if permuted else pd.DataFrame()
    spreads = {k: pd.concat(v) for k, v in spread.items()} if spread["sd"] else None
    return name, refits, pd.concat(frames), importance.assign(model=name), spreads


def _refit_record(name: str, fold: Fold, model, tickers: int) -> dict:
    """What one refit did: its training window, the tickers it fit (of its task's: a ticker
    listed later joins at a later refit) and, for trained models, how training went."""
    record = {
        "fold": fold.index,
        "model": name,
        "train_start": fold.train_start,
        "train_end": fold.train_end,
        "first_origin": fold.origins[0],
        "last_origin": fold.origins[-1],
        "tickers": tickers,
        "epochs": np.nan,
        "best_epoch": np.nan,
        "best_val_loss": np.nan,
        "best_round": np.nan,
        "gain_se": np.nan,
        "floor_gain_se": np.nan,
        "tuned": "",
        "trials": np.nan,
    }
    tuning = getattr(model, "tuning_", None)
    if tuning is not None:
        record.update(
            tuned=json.dumps(tuning.best, sort_keys=True),
            trials=len(tuning.trials),
            trial_scores=json.dumps([t["score"] for t in tuning.trials]),
            trial_metric=tuning.metric,
        )
    members = getattr(model, "members_", None)
    if members is not None:
        record["member_val_losses"] = json.dumps([m.best_val_loss for m in members])
    history = getattr(model, "history_", None)
    if history is not None and history.history:
        record.update(
            epochs=len(history.history),
            best_epoch=history.best_epoch,
            best_val_loss=history.best_val_loss,
            best_round=history.best_round,
            gain_se=history.gain_se,
            floor_gain_se=history.floor_gain_se,
        )
    return record


def run_backtest(
    prices: pd.DataFrame,
    settings: BacktestSettings | None = None,
    on_progress: Callable[[Task, int, int, bool], None] | None = None,
    *,
    executor: LocalExecutor | RayExecutor | None = None,
    work_dir: str | Path | None = None,
    resume: bool = False,
) -> BacktestResult:
    """Run the walk-forward backtest.

    Args:
        prices: (dates x tickers) closes, with any bars or covariates they carry.
        settings: what to run (default :class:`BacktestSettings`).
        on_progress: ``on_progress(task, done, total, model_done)`` after each task (resumed
            ones first); ``model_done`` when it was the model's last.
        executor: where tasks run (default: :class:`~.executors.LocalExecutor` with
            ``settings.jobs`` processes).
        work_dir: keep each finished task here (:class:`~.tasks.TaskStore`); it is left in
            place for the caller to remove once the results are safe.
        resume: continue from the finished tasks in ``work_dir``.
    """
    settings = settings or BacktestSettings()
    validate_prices(prices, "prices")
    if settings.target not in TARGETS:
        raise ValueError(f"--target must be one of {', '.join(TARGETS)}, got {settings.target!r}")
    tries = settings.prior_tries
    if not isinstance(tries, int) or isinstance(tries, bool) or tries < 0:
        raise ValueError(f"--prior-tries must be a whole number >= 0, got {tries!r}")
    if settings.target == "relative":
        reading = [
            name
            for name, extra in settings.model_settings.items()
            if "ohlc" in check_features(extra.get("features", "returns"))
        ]
        if reading:
            raise ValueError(
                f"--features ohlc with --target relative: the bars are the stocks' own, the "
                f"prices forecast are relative ones ({', '.join(reading)} would read them); "
                "leave ohlc out of --features"
            )
        prices = _relative(prices)
    models = models_to_run(settings)
    settings.models = tuple(models)
    if "lstm" in models:
        lookback = settings.model_settings.get("lstm", {}).get("lookback", 60)
        check_history(prices, lookback, settings.test_days, "prices")
    folds = walk_forward_splits(
        prices.index,
        settings.test_days,
        settings.refit_every,
        settings.horizon,
        settings.window,
        settings.train_days,
    )
    check_ticker_spans(prices, folds, settings.horizon, settings.ticker_train_days)
    start = time.perf_counter()
    tasks = plan_backtest(settings, folds, list(prices.columns))
    store = None
    if work_dir is not None:
        store = TaskStore(work_dir, fingerprint(prices, asdict(settings), folds), resume)
    results: list = [None] * len(tasks)
    left = Counter(task.model for task in tasks)

    def finished(i: int, result) -> None:
        results[i] = result
        left[tasks[i].model] -= 1
        if on_progress:
            done = len(tasks) - sum(left.values())
            on_progress(tasks[i], done, len(tasks), left[tasks[i].model] == 0)

    for i, task in enumerate(tasks):
        kept = store.load(task) if store is not None else None
        if kept is not None:
            finished(i, kept)
    todo = [i for i, r in enumerate(results) if r is None]
    executor = executor or LocalExecutor(settings.jobs)
    shared = (settings, prices, folds)
    for position, result in executor.run(_run_task, shared, [tasks[i] for i in todo]):
        if store is not None:
            store.save(tasks[todo[position]], result)
        finished(todo[position], result)
    predictions = _long_format(prices, results, settings.horizon, folds)
    # a ticker group's refit is the same refit: one record, the tickers of every group
    fitted: Counter = Counter()
    for _, rs, *_ in results:
        for r in rs:
            fitted[(r["fold"], r["model"])] += r.get("tickers", 0)
    records = [
        {**r, "tickers": fitted[(r["fold"], r["model"])]}
        for task, (_, rs, *_) in zip(tasks, results, strict=True)
        for r in rs
        if task.group == 0
    ]
    refits = pd.DataFrame(records)
    importance = pd.concat([r[3] for r in results if len(r[3])] or [pd.DataFrame()])
    refits = refits.sort_values(["fold", "model"], kind="stable").reset_index(drop=True)
    seconds = time.perf_counter() - start
    variance_only = predictions.iloc[:0]
    if settings.target != "volatility":
        from ..models.registry import VOLATILITY_MODELS

        spread = predictions["model"].isin(VOLATILITY_MODELS)
        predictions, variance_only = (
            predictions[~spread].reset_index(drop=True),
            predictions[spread].reset_index(drop=True),
        )
    return BacktestResult(
        predictions, prices, folds, settings, seconds, refits, importance, variance_only
    )


def plan_backtest(settings: BacktestSettings, folds: list[Fold], tickers: list[str]) -> list[Task]:
    """The tasks of a backtest of ``settings.models`` (see :mod:`.tasks`)."""
    # a tuned LSTM starts each refit afresh (its settings change), so its folds are
    # independent tasks
    tuned = settings.model_settings.get("lstm", {}).get("tune", 0)
    chained = {"lstm"} if settings.warm_start and not tuned else set()
    per_ticker = {m for m in settings.models if _model(m, settings).per_ticker}
    return plan_tasks(settings.models, folds, tickers, chained, per_ticker)


TARGETS = ("return", "relative", "volatility")
MIN_RELATIVE_TICKERS = 3


def models_to_run(settings: BacktestSettings) -> list[str]:
    """The models to run: the random walk always, the naive variance (``histvar``) whenever
    a model forecasts a distribution; for ``--target volatility`` volatility models only."""
    from ..models.registry import VOLATILITY_MODELS

    known = _known_models()
    unknown = [m for m in settings.models if m not in known]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose from {', '.join(known)}")
    lstm = settings.model_settings.get("lstm", {})
    if settings.target == "volatility":
        point = [m for m in settings.models if m not in (*VOLATILITY_MODELS, "lstm", "naive")]
        if point:
            raise ValueError(
                f"--models: {', '.join(point)} forecast a point, not a variance; with --target "
                f"volatility choose from lstm, {', '.join(VOLATILITY_MODELS)}"
            )
        return list(dict.fromkeys(["histvar", *(m for m in settings.models if m != "naive")]))
    models = list(dict.fromkeys(["naive", *settings.models]))  # the random walk is always in
    spread = lstm.get("distribution", "none") != "none" and "lstm" in models
    if spread or any(m in VOLATILITY_MODELS for m in models):
        models = list(dict.fromkeys([*models, "histvar"]))
    return models


def _relative(prices: pd.DataFrame) -> pd.DataFrame:
    """The panel as relative prices (:func:`~lstm_forecast.features.returns.relative_prices`);
    the user's covariates ride along, the stocks' bars do not (they are not bars of these
    prices: a variance proxy from them would measure the stock, not the relative return)."""
    from ..data.covariates import KEY

    if prices.shape[1] < MIN_RELATIVE_TICKERS:
        raise DataError(
            f"--target relative needs a panel of at least {MIN_RELATIVE_TICKERS} tickers (a "
            f"return minus the cross-sectional median); the data has {prices.shape[1]}"
        )
    relative = relative_prices(prices)
    relative.attrs = {KEY: prices.attrs[KEY]} if KEY in prices.attrs else {}
    return relative


def _known_models() -> list[str]:
    from ..models import MODELS

    return list(MODELS)


def _long_format(prices: pd.DataFrame, results, horizon: int, folds: list[Fold]) -> pd.DataFrame:
    """origin, fold, date, ticker, model, forecast, actual, forecast_price, actual_price."""
    index = prices.index
    position = pd.Series(np.arange(len(index)), index=index)
    rows = []
    for name, _, forecast, _, spreads in results:
        stacked = forecast.stack(future_stack=True).rename("forecast").reset_index()
        stacked.columns = ["origin", "ticker", "forecast"]
        stacked["model"] = name
        for key, frame in (spreads or {}).items():
            stacked[key] = frame.stack(future_stack=True).to_numpy()
        rows.append(stacked)
    out = pd.concat(rows, ignore_index=True).dropna(subset=["forecast"])
    spread = "sd" in out
    target_pos = position.loc[out["origin"]].to_numpy() + horizon
    out["date"] = index[target_pos]
    origin_price = prices.stack(future_stack=True)
    lookup = lambda dates: origin_price.loc[list(zip(dates, out["ticker"], strict=True))]  # noqa: E731
    out["origin_price"] = lookup(out["origin"]).to_numpy()
    out["actual_price"] = lookup(out["date"]).to_numpy()
    # a ticker that ended (delisted) has no price at or after its end: no outcome to score
    # (validate_prices allows no missing price between a ticker's first and last)
    out = out[out["origin_price"].notna() & out["actual_price"].notna()].copy()
    out["actual"] = np.log(out["actual_price"] / out["origin_price"])
    out["forecast_price"] = out["origin_price"] * np.exp(out["forecast"])
    fold_of = pd.Series(
        [f.index for f in folds for _ in f.origins],
        index=pd.DatetimeIndex([o for f in folds for o in f.origins]),
    )
    out["fold"] = fold_of.loc[out["origin"]].to_numpy()
    if out[["actual", "forecast"]].isna().any().any():
        raise DataError("a forecast or outcome is missing in the test period; check the data")
    columns = [
        "origin",
        "fold",
        "date",
        "ticker",
        "model",
        "forecast",
        "actual",
        "forecast_price",
        "actual_price",
    ]
    if spread:
        from ..features.volatility import realized_proxy

        ahead = realized_proxy(prices, horizon)
        out["proxy"] = (
            ahead.stack(future_stack=True)
            .loc[list(zip(out["origin"], out["ticker"], strict=True))]
            .to_numpy()
        )
        columns += ["sd", "df", "proxy"]
    return out.sort_values(["model", "ticker", "origin"], kind="stable")[columns].reset_index(
        drop=True
    )
