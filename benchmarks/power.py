"""Power and size of the backtest's verdicts, by simulation: does the LSTM find a signal that is
there, and stay quiet when none is?

For each kind of simulated series (``lstm_forecast.data.simulate``: four signals, two nulls)
and each seed: a 4,000-day series, the backtest protocol of ``make demo`` (last 500 days
tested, refits every 63 days, expanding window, LSTM warm-started), and for each model the
out-of-sample R² against the random walk as a share of the oracle's R² (the rule's own
forecasts on the same origins), and whether the one-sided Diebold-Mariano test rejects the
random walk at 5%. Models: the default LSTM of ``backtest``, OLS on 5 lags, and a reference
MLP on 10 lags (two hidden layers of 64, Adam 1e-3, batch 64, the best of 3,000 steps by
the loss on the last 15% of training), as in the issue that asked for this benchmark. More
references know the form of one rule, or all of it, and are there to show what the same days
allow (``--models ...,quad,shocks,additive,told``): ``quad``, OLS on 10 lags and their 55
pairwise products (the product kind's form), ``shocks``, OLS on 60 lags of shock signs (the
event kind's form), ``additive``, the same form with the function of each lag learned rather
than told, and ``told``, which knows the whole event rule and infers the shocks from the
returns.

    python benchmarks/power.py [--seeds 5] [--kinds ar1,threshold,...] [--models lstm,ols,mlp]
                               [--lstm '{"steps": 3000}']   # settings over the defaults
                               [--variants tuned,ensemble]  # more LSTM columns
                               [--processes 2]              # runs in parallel, 1 thread each
                               [--runs benchmarks/runs]     # keep each finished run; resume
                               [--first-seed 5]             # seeds 5, 6, ... instead of 0, 1, ...
                               [--event-jump 6]             # the event kind's shock size
                               [--event-lags 1,21]          # the days after it with drift
    python benchmarks/power.py --inputs [--seeds 5]   # the planted-input kinds
                               [--kinds volume] [--variants ensemble]
    python benchmarks/power.py --curve [--seeds 3] [--days 3500,7000,14000,28000]
                               [--kinds product,event,volume]   # share of the oracle vs data
    python benchmarks/power.py --ceiling [--seeds 100] [--kinds event,ar1,...]
                               # the best filters linear in a channel of the returns
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from lstm_forecast.data.simulate import (
    EVENT_RULE,
    INPUT_KINDS,
    KINDS,
    SIGMA,
    SIGNALS,
    simulate,
    simulate_inputs,
)
from lstm_forecast.evaluation import BacktestSettings, metrics_table, run_backtest
from lstm_forecast.evaluation.executors import exit_with_parent
from lstm_forecast.models import MODELS
from lstm_forecast.models.base import BaseForecaster
from lstm_forecast.models.tuning import SPACE, TRIAL_BATCH


class MLPForecaster(BaseForecaster):
    """Reference: an MLP on the last ``lags`` standardised one-day returns."""

    name = "mlp"

    def __init__(self, lags: int = 10, horizon: int = 1, steps: int = 3000, seed: int = 0):
        super().__init__(horizon)
        self.lags, self.steps, self.seed = lags, steps, seed

    def _design(self, returns: np.ndarray):
        windows = np.lib.stride_tricks.sliding_window_view(returns, self.lags)
        return windows  # row k: returns[k .. k + lags - 1], known at origin k + lags - 1

    def _network(self) -> nn.Module:  # (S, lags) -> (S, 1)
        return nn.Sequential(
            nn.Linear(self.lags, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)
        )

    def _fit(self, prices: pd.DataFrame) -> None:
        r = np.log(prices.iloc[:, 0].to_numpy()).astype(np.float64)
        r = np.diff(r)
        self.mu_, self.sd_ = r.mean(), r.std()
        z = (r - self.mu_) / self.sd_
        x = self._design(z)[:-1]
        y = z[self.lags :]
        n_val = len(x) // 7
        torch.manual_seed(self.seed)
        net = self._network()
        xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
        train_x, train_y = xt[: -n_val - 1], yt[: -n_val - 1]
        val_x, val_y = xt[-n_val:], yt[-n_val:]
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(self.seed)
        best, best_state = np.inf, None
        for step in range(self.steps):
            idx = torch.randint(len(train_x), (64,), generator=g)
            opt.zero_grad()
            loss = nn.functional.mse_loss(net(train_x[idx])[:, 0], train_y[idx])
            loss.backward()
            opt.step()
            if step % 100 == 99:
                with torch.no_grad():
                    val = nn.functional.mse_loss(net(val_x)[:, 0], val_y).item()
                if val < best:
                    best, best_state = val, {k: v.clone() for k, v in net.state_dict().items()}
        net.load_state_dict(best_state)
        self.net_ = net

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        r = np.diff(np.log(history.iloc[:, 0].to_numpy()))
        z = (r - self.mu_) / self.sd_
        out = np.full(len(history), np.nan)
        if len(z) >= self.lags:
            with torch.no_grad():
                pred = self.net_(torch.tensor(self._design(z), dtype=torch.float32))[:, 0]
            out[self.lags :] = self.mu_ + self.sd_ * pred.numpy().astype(np.float64)
        return pd.DataFrame({history.columns[0]: out}, index=history.index)


class Additive(nn.Module):
    """``b + sum_j w_j g(z_j)``: one small function ``g`` (1-8-1, tanh) of each lag's return,
    shared by the lags, weighted per lag. (S, lags) -> (S, 1); ``w`` starts at zero."""

    def __init__(self, lags: int, units: int = 8):
        super().__init__()
        self.g = nn.Sequential(nn.Linear(1, units), nn.Tanh(), nn.Linear(units, 1))
        self.w = nn.Linear(lags, 1)
        nn.init.zeros_(self.w.weight)

    def forward(self, lagged: torch.Tensor) -> torch.Tensor:
        return self.w(self.g(lagged.unsqueeze(-1)).squeeze(-1))


class AdditiveLags(MLPForecaster):
    """Reference of the event kind's form with nothing told: a learned function of each of the
    last 60 returns, summed with a learned weight per lag (``Additive``), trained as the MLP.
    ``shocks`` is this form with the function told (the sign beyond 2.5 standard deviations)."""

    name = "additive"

    def __init__(self, lags: int = 60, horizon: int = 1, steps: int = 3000, seed: int = 0):
        super().__init__(lags, horizon, steps, seed)

    def _network(self) -> nn.Module:
        return Additive(self.lags)


class LagRegression(BaseForecaster):
    """Reference with a built-in structure: OLS of the next return on ``_features`` of the
    standardised returns up to the origin (a subclass says which). Not a general model: each
    shows what a learner that knows the form of one rule (but not its lags or coefficients)
    extracts from the same days."""

    lags = 10

    def _features(self, lagged: np.ndarray) -> np.ndarray:  # lagged (S, lags): z_t, z_{t-1}..
        raise NotImplementedError

    def _design(self, z: np.ndarray) -> np.ndarray:
        lagged = np.lib.stride_tricks.sliding_window_view(z, self.lags)[:, ::-1]
        return np.column_stack([np.ones(len(lagged)), self._features(lagged)])

    def _fit(self, prices: pd.DataFrame) -> None:
        r = np.diff(np.log(prices.iloc[:, 0].to_numpy()))
        self.mu_, self.sd_ = r.mean(), r.std()
        z = (r - self.mu_) / self.sd_
        x = self._design(z)[:-1]  # row k: known at origin k + lags - 1, forecasts z[k + lags]
        self.beta_ = np.linalg.lstsq(x, z[self.lags :], rcond=None)[0]

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        r = np.diff(np.log(history.iloc[:, 0].to_numpy()))
        out = np.full(len(history), np.nan)
        if len(r) >= self.lags:
            z = (r - self.mu_) / self.sd_
            out[self.lags :] = self.mu_ + self.sd_ * (self._design(z) @ self.beta_)
        return pd.DataFrame({history.columns[0]: out}, index=history.index)


class QuadraticAR(LagRegression):
    """Knows the product kind's form: the last 10 returns and all 55 products of two of them
    (a second-order Volterra series)."""

    name = "quad"

    def _features(self, lagged):
        i, j = np.triu_indices(self.lags)
        return np.column_stack([lagged, lagged[:, i] * lagged[:, j]])


class ShockLags(LagRegression):
    """Knows the event kind's form: for each of the last 60 days, the sign of its return if it
    was beyond 2.5 standard deviations (a shock), else 0; the window of lags is left to OLS."""

    name = "shocks"
    lags = 60

    def _features(self, lagged):
        return np.sign(lagged) * (np.abs(lagged) > 2.5)


class ToldEvent(BaseForecaster):
    """Knows the whole event rule (``EVENT_RULE``: shock probability, size, drift, window) and
    is not shown the shocks: it infers each day's mark from that day's return, as the posterior
    mean E[mark | r_t - m_t] under the rule's mixture (no shock, or a shock of +-jump sigma, plus
    N(0, sigma) noise), with m_t its own drift forecast, and forecasts the drift those expected
    marks imply. About the best a forecaster reading returns can do on this kind (the exact
    posterior would weigh each mark jointly with its neighbours'); the oracle sees the marks."""

    name = "told"

    def _fit(self, prices: pd.DataFrame) -> None:
        pass  # nothing to learn

    def _predict(self, history: pd.DataFrame) -> pd.DataFrame:
        r = np.diff(np.log(history.iloc[:, 0].to_numpy()))
        p, jump, drift = EVENT_RULE["p"], EVENT_RULE["jump"], EVENT_RULE["drift"]
        first, last = EVENT_RULE["lags"]
        marks, m = np.zeros(len(r)), np.zeros(len(r) + 1)  # m[k]: drift forecast of r[k]
        for k in range(len(r) + 1):
            lo, hi = max(0, k - last), k - first
            if hi >= lo:
                m[k] = drift * SIGMA * marks[lo : hi + 1].sum()
            if k < len(r):
                u = (r[k] - m[k]) / SIGMA
                up, down = np.exp(-0.5 * (u - jump) ** 2), np.exp(-0.5 * (u + jump) ** 2)
                none = (1 - p) / (p / 2) * np.exp(-0.5 * u**2)
                marks[k] = (up - down) / (up + down + none)
        # row k of the history is the origin of r[k]: m has one forecast per row
        return pd.DataFrame({history.columns[0]: m}, index=history.index)


REFERENCES = {
    "mlp": MLPForecaster,
    "quad": QuadraticAR,
    "shocks": ShockLags,
    "told": ToldEvent,
    "additive": AdditiveLags,
}


def _backtest(prices: pd.DataFrame, models: list[str], lstm: dict, others: dict | None = None):
    """The backtest protocol of ``make demo`` on ``prices``, the LSTM with settings ``lstm``
    (``others``: settings of the other models by name); (result, seconds)."""
    settings = BacktestSettings(
        models=tuple(models),
        test_days=500,
        refit_every=63,
        model_settings={"lstm": lstm, **(others or {})},
    )
    start = time.perf_counter()
    result = run_backtest(prices, settings)
    return result, time.perf_counter() - start


def one_run(kind: str, seed: int, models: list[str], settings: dict, runs: RunStore) -> dict:
    """One series and one backtest of ``models`` (the LSTM with ``settings`` over its
    defaults): each model's R² against the random walk and DM p-value, the oracle's R² on the
    same origins, and the seconds. Read from ``runs`` when a finished copy is there, else run
    and saved to it."""
    spec = run_spec(kind, seed, models, settings)
    found = runs.load(spec)
    if found is not None:
        return found
    prices, oracle = simulate(kind, 4000, seed)
    result, seconds = _backtest(prices, models, settings)
    first = result.predictions[result.predictions["model"] == models[0]]
    actual = first["actual"].to_numpy()
    best = oracle.loc[first["origin"]].to_numpy()
    out = {
        "oracle_r2": float(1 - ((actual - best) ** 2).sum() / (actual**2).sum()),
        "seconds": seconds,
    }
    for row in metrics_table(result).itertuples():
        if row.model in models:  # not the random walk each is measured against
            out[row.model] = [float(row.r2_vs_zero), float(row.dm_p)]
    choices = tuner_choices(result.refits)
    if choices:
        out["lstm_choices"] = choices
    runs.save(spec, out)
    return out


def tuner_choices(refits: pd.DataFrame) -> list[dict]:
    """The settings the tuner chose at each of the LSTM's refits, in order (none when the
    LSTM was not tuned)."""
    if refits.empty or "tuned" not in refits:
        return []
    tuned = refits.loc[refits["model"] == "lstm", "tuned"]
    return [json.loads(t) for t in tuned if isinstance(t, str) and t]


def choices_summary(choices: list[dict]) -> str:
    """What the tuner chose over many refits, one setting after another: the count of each
    value where a setting took few values, else the median and the range."""
    parts = []
    for name in sorted({k for c in choices for k in c}):
        values = [c[name] for c in choices if name in c]
        distinct = sorted(set(values), key=lambda v: (-values.count(v), str(v)))
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if len(distinct) <= 4 or not numeric:
            shown = (f"{v:.3g}" if isinstance(v, float) else str(v) for v in distinct)
            counts = (f"{v} ({values.count(d)})" for v, d in zip(shown, distinct, strict=True))
            parts.append(f"{name} " + ", ".join(counts))
        else:
            med = statistics.median(values)
            parts.append(f"{name} median {med:.3g} ({min(values):.3g} to {max(values):.3g})")
    return "; ".join(parts)


def run_spec(kind: str, seed: int, models: list[str], settings: dict) -> dict:
    """What decides a run's result: the series (kind, seed, days, the event rule), the
    protocol, the models, the LSTM's settings over its defaults and, for a tuned LSTM, what
    the tuner searches (:func:`tuner_spec`)."""
    spec = {"kind": kind, "seed": seed, "days": 4000, "test_days": 500, "refit_every": 63}
    if kind == "event":
        spec["event_rule"] = dict(EVENT_RULE)
    spec["models"] = list(models)
    if "lstm" in models:
        spec["lstm"] = lstm_key(settings)
        if settings.get("tune"):
            spec["tuner"] = tuner_spec()
    return spec


# The LSTM's defaults when the runs kept in benchmarks/runs/power began (2026-12-04). A run
# is keyed by its settings that differ from these, so a default changed since (min_gain_se
# from 0 to 1 on 2026-12-07) is part of the key of every run measured under it, and a run
# measured under an old default is never read back as one under the new.
KEPT_DEFAULTS = {
    "lookback": 60, "hidden_size": 32, "num_layers": 1, "variant": "standard", "dropout": 0.0,
    "horizon": 1, "epochs": None, "batch_size": 64, "learning_rate": 0.002, "patience": 10,
    "clip_norm": 1.0, "seed": 0, "device": "cpu", "validation_fraction": 0.15,
    "path": "eager", "steps": 2000, "eval_every": 100, "schedule": "cosine", "warmup": 0.05,
    "weight_decay": 0.0, "ensemble": 1, "features": ["returns"], "distribution": "none",
    "target": "return", "max_epoch_steps": 64, "ewma_anchor": True, "anchor_gain": 10.0,
    "head_lags": 10, "head_activation": "relu", "min_gain_se": 0.0, "mean_floor": False,
}  # fmt: skip


def lstm_key(settings: dict) -> dict:
    """The LSTM's part of a run's key: the settings it runs with that differ from
    :data:`KEPT_DEFAULTS` (a setting added later counts unless it is at its kept value), and
    those given that are not model settings (``tune``). The floor of a warm start
    (``mean_floor``) cannot change a tuned LSTM's run (it starts every refit afresh) or one
    with the rule off (``min_gain_se`` 0, which turns the floor off too), so it is left out
    of their keys."""
    from lstm_forecast.models import LSTMForecaster

    effective = LSTMForecaster(**settings).settings()
    key = {k: v for k, v in settings.items() if k not in effective}
    key.update({k: v for k, v in effective.items() if KEPT_DEFAULTS.get(k, ...) != v})
    if key.get("tune") or not effective["min_gain_se"]:
        key.pop("mean_floor", None)
    return key


def tuner_spec() -> dict:
    """The tuner's search space and trial batch as JSON keeps them (a range as a list), so
    that a run tuned over another space is another run, not one read back as current (the
    space also decides the first trials: the own settings, then the head's other units)."""
    return {
        "space": {name: list(values) for name, values in SPACE.items()},
        "trial_batch": TRIAL_BATCH,
    }


class RunStore:
    """Finished runs kept as JSON files in ``folder`` (none: nothing kept), one per spec, so
    that a stopped benchmark resumes where it was and columns measured on different days
    make one table. A file is written once and never replaced; each records the commit and
    the date it was measured at."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    def path(self, spec: dict) -> Path:
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
        return self.folder / f"{spec['kind']}-seed{spec['seed']}-{digest}.json"

    def load(self, spec: dict) -> dict | None:
        if self.folder is None or not self.path(spec).exists():
            return None
        path = self.path(spec)
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise SystemExit(f"{path}: not a saved run ({error}); move it away to re-run") from None
        if saved.get("spec") != json.loads(json.dumps(spec)):  # a tuple as JSON reads it back
            raise SystemExit(f"{path}: saved for another run; move it away to re-run")
        return saved["result"]

    def save(self, spec: dict, result: dict) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"spec": spec, "result": result, "commit": _commit(), "date": _today()}
        path = self.path(spec)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        try:
            os.link(partial, path)  # fails if the file is there: a saved run is never replaced
        except FileExistsError:
            pass
        finally:
            partial.unlink()

    def commits(self, specs: list[dict]) -> list[str]:
        """The commits the saved runs among ``specs`` were measured at."""
        if self.folder is None:
            return []
        found = (self.path(s) for s in specs)
        return sorted({json.loads(p.read_text())["commit"] for p in found if p.exists()})


def _commit() -> str:
    """HEAD of the repository the benchmark runs from, ``+`` when its tree has changes."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+" if dirty else "")


def _today() -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime())


def input_run(kind: str, seed: int, features: str, lstm: dict, variants: dict) -> dict:
    """One planted-input series: the backtest with LSTM and OLS reading ``features``; R² of
    each (all tickers pooled) against the random walk, DM p-value, and the oracle's R²; then a
    backtest of the LSTM alone for each of ``variants`` (label -> settings over ``lstm``)."""
    prices, oracle = simulate_inputs(kind, 4000, seed)
    pooled = "ALL" if prices.shape[1] > 1 else prices.columns[0]

    def backtest(models: list[str], extra: dict):
        lstm_settings = {**lstm, **extra, "features": features}
        result, seconds = _backtest(prices, models, lstm_settings, {"ols": {"features": features}})
        table = metrics_table(result)
        rows = {
            r.model: (r.r2_vs_zero, r.dm_p) for r in table[table["ticker"] == pooled].itertuples()
        }
        return result, rows, seconds

    result, rows, seconds = backtest(["lstm", "ols"], {})
    naive = result.predictions[result.predictions["model"] == "naive"]
    best = oracle.stack().reindex(list(zip(naive["origin"], naive["ticker"], strict=True)))
    actual = naive["actual"].to_numpy()
    out = {"oracle_r2": 1 - ((actual - best.to_numpy()) ** 2).sum() / (actual**2).sum()}
    out["seconds"] = seconds
    out.update(rows)
    for label, extra in variants.items():
        out[label] = backtest(["lstm"], extra)[1]["lstm"]
    return out


def inputs_table(kinds: list[str], seeds: range, lstm: dict, variants: dict, pool) -> None:
    """The planted-input kinds: LSTM and OLS with the revealing features and without; the
    LSTM's variants (``variants``) with the revealing features only."""
    print(f"\n## Planted inputs, {_seeds(seeds)} (R² as a share of the oracle's; DM<5%)\n")
    columns = ["lstm", "ols", *variants]
    head = " | ".join(f"{m} R²/oracle | {m} DM<5%" for m in columns)
    per_seed_head = " | ".join(f"{m} per seed" for m in ["lstm", *variants])
    print(f"| kind | oracle R² | features | {head} | {per_seed_head} | seconds per run |")
    print("|---|---:|---|" + "---:|" * (2 * len(columns)) + "---|" * (1 + len(variants)) + "---:|")
    for kind in kinds:
        group = INPUT_KINDS[kind]
        for features in ("returns", f"returns,{group}"):
            extra = variants if features != "returns" else {}
            jobs = [(input_run, kind, s, features, lstm, extra) for s in seeds]
            runs = list(pool.map(_call, jobs))
            oracle = statistics.mean(r["oracle_r2"] for r in runs)
            cells = []
            for m in columns:
                if m not in runs[0]:
                    cells += ["", ""]
                    continue
                share = statistics.mean(r[m][0] for r in runs) / oracle
                cells += [f"{share:.0%}", f"{sum(r[m][1] < 0.05 for r in runs)}/{len(runs)}"]
            per_seed = [
                " ".join(f"{r[m][0] / r['oracle_r2']:.0%}" for r in runs) if m in runs[0] else ""
                for m in ["lstm", *variants]
            ]
            seconds = statistics.mean(r["seconds"] for r in runs)
            print(
                f"| {kind} | {oracle:.3f} | {features} | "
                + " | ".join(cells + per_seed)
                + f" | {seconds:.0f} |",
                flush=True,
            )


CURVE_TEST_DAYS = 500
CURVE_KINDS = ["product", "event", "volume"]


def curve_run(
    kind: str, seed: int, days: int, model: str, lstm: dict
) -> tuple[float, float, float]:
    """One fit on the first ``days`` days of a series, forecasts of the next 500: (R² against
    the random walk, the oracle's R² on the same days, seconds to fit)."""
    n = days + CURVE_TEST_DAYS
    if kind in INPUT_KINDS:
        prices, oracle = simulate_inputs(kind, n + 1, seed)
        oracle = oracle.iloc[:, -1]
        lstm = {**lstm, "features": f"returns,{INPUT_KINDS[kind]}"}
    else:
        prices, oracle = simulate(kind, n, seed)
    settings = lstm if model == "lstm" else {}
    start = time.perf_counter()
    fitted = MODELS[model](**settings).fit(prices.iloc[: days + 1])
    seconds = time.perf_counter() - start
    origins = prices.index[days:n]
    forecast = fitted.predict(prices, origins).iloc[:, -1].to_numpy()
    actual = np.diff(np.log(prices.iloc[:, -1].to_numpy()))[days:n]
    best = oracle.loc[origins].to_numpy()

    def r2(f):
        return 1 - ((actual - f) ** 2).sum() / (actual**2).sum()

    return r2(forecast), r2(best), seconds


def curve_table(kinds: list[str], days: list[int], seeds: range, lstm: dict, pool) -> None:
    """How much of the oracle each model finds as the training history grows."""
    print(
        f"\n## Share of the oracle R² against training days ({_seeds(seeds)}; one fit on the "
        f"first N days, {CURVE_TEST_DAYS} test days after them)\n"
    )
    print("| kind | training days | lstm R²/oracle | per seed | mlp R²/oracle | lstm s per fit |")
    print("|---|---:|---:|---|---:|---:|")
    for kind in kinds:
        for n in days:
            jobs = [(curve_run, kind, seed, n, "lstm", lstm) for seed in seeds]
            lstm_runs = list(pool.map(_call, jobs))
            oracle = statistics.mean(r[1] for r in lstm_runs)
            share = statistics.mean(r[0] for r in lstm_runs) / oracle
            per_seed = " ".join(f"{r[0] / r[1]:.0%}" for r in lstm_runs)
            mlp = "-"
            if kind not in INPUT_KINDS:  # the MLP reads returns only
                jobs = [(curve_run, kind, seed, n, "mlp", lstm) for seed in seeds]
                mlp_runs = list(pool.map(_call, jobs))
                mlp = f"{statistics.mean(r[0] for r in mlp_runs) / oracle:.0%}"
            seconds = statistics.mean(r[2] for r in lstm_runs)
            print(
                f"| {kind} | {n:,} | {share:.0%} | {per_seed} | {mlp} | {seconds:.0f} |", flush=True
            )


CEILING_LAGS = 60
CEILING_CHANNELS = {
    "r": lambda z: z,
    "r·abs(r)": lambda z: z * np.abs(z),
    "r³": lambda z: z**3,
    "r·1[abs(r)>2.5]": lambda z: z * (np.abs(z) > 2.5),
    "sign·1[abs(r)>2.5]": lambda z: np.sign(z) * (np.abs(z) > 2.5),
    "r and r·abs(r)": lambda z: np.hstack([z, z * np.abs(z)]),  # both, 120 lags
}


def ceiling_rows(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One series' regression rows: ``(lagged, target, oracle)``, a row per origin with the
    ``CEILING_LAGS`` returns before it, newest first, all in units of the noise's sd."""
    prices, oracle = simulate(kind, 4000, seed)
    z = np.diff(np.log(prices.iloc[:, 0].to_numpy())) / SIGMA
    lagged = np.lib.stride_tricks.sliding_window_view(z[:-1], CEILING_LAGS)[:, ::-1]
    return lagged, z[CEILING_LAGS:], oracle.to_numpy()[CEILING_LAGS:] / SIGMA


def _r2_against(fitted: np.ndarray, actual: np.ndarray, forecast: np.ndarray) -> float:
    """Out-of-sample R² of ``forecast`` against the mean of the fitted days."""
    return 1 - ((actual - forecast) ** 2).sum() / ((actual - fitted.mean()) ** 2).sum()


def _ols_r2(x_fit: np.ndarray, y_fit: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """OLS with an intercept fitted on ``(x_fit, y_fit)``; its R² on ``(x_test, y_test)``."""
    beta = np.linalg.lstsq(np.column_stack([np.ones(len(x_fit)), x_fit]), y_fit, rcond=None)[0]
    forecast = np.column_stack([np.ones(len(x_test)), x_test]) @ beta
    return _r2_against(y_fit, y_test, forecast)


def ceiling_table(kinds: list[str], seeds: range) -> None:
    """The most a forecast linear in one channel of the last 60 returns can find once its
    estimation error is negligible: OLS fitted on the first half of the seeds' series (about
    200,000 days at 100 seeds) and scored on the other half, as a share of the oracle's R² on
    the same days (R² itself on the nulls). A learner whose forecast is close to linear in
    the returns (a leaky sum of them) cannot pass the first column, whatever its data."""
    print(
        f"\n## The best linear filters ({_seeds(seeds)} of 4,000 days, half fitted and half "
        f"scored; OLS on the last {CEILING_LAGS} days of each channel, r in units of the "
        "noise's sd)\n"
    )
    print("| kind | oracle R² | " + " | ".join(CEILING_CHANNELS) + " |")
    print("|---|---:|" + "---:|" * len(CEILING_CHANNELS))
    for kind in kinds:
        parts = [ceiling_rows(kind, seed) for seed in seeds]
        half = len(parts) // 2
        fit, test = (
            [np.concatenate([part[i] for part in group]) for i in range(3)]
            for group in (parts[:half], parts[half:])
        )
        oracle = _r2_against(fit[1], test[1], test[2])
        r2s = [_ols_r2(f(fit[0]), fit[1], f(test[0]), test[1]) for f in CEILING_CHANNELS.values()]
        if kind in SIGNALS:
            cells = " | ".join(f"{r2 / oracle:.0%}".replace("-0%", "0%") for r2 in r2s)
        else:  # no signal: a share of nothing means nothing, so R² itself
            cells = " | ".join(f"R² {r2:+.4f}" for r2 in r2s)
        shown = f"{oracle:.3f}".replace("-0.000", "0.000")
        print(f"| {kind} | {shown} | {cells} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="5 (--ceiling: 100)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds run from this one")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--models", default="lstm,ols,mlp")
    parser.add_argument("--lstm", default="{}", help="JSON settings over the LSTM defaults")
    parser.add_argument(
        "--inputs",
        action="store_true",
        help="the planted-input kinds (" + ", ".join(INPUT_KINDS) + ")",
    )
    parser.add_argument(
        "--curve", action="store_true", help="share of the oracle against training days"
    )
    parser.add_argument("--days", default="3500,7000,14000,28000", help="training days (--curve)")
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="the best filters linear in a channel of the last 60 returns",
    )
    parser.add_argument(
        "--variants", default="", help="more LSTM columns, comma-separated: tuned, ensemble"
    )
    parser.add_argument("--tune-trials", type=int, default=5, help="trials per refit (tuned)")
    parser.add_argument("--ensemble-size", type=int, default=5, help="members (ensemble)")
    parser.add_argument("--processes", type=int, default=1, help="runs in parallel")
    parser.add_argument(
        "--runs",
        default="",
        help="folder that keeps each finished run (JSON) and reads it back instead of re-running",
    )
    parser.add_argument(
        "--event-jump",
        type=float,
        default=EVENT_RULE["jump"],
        help="the event kind's shock size in standard deviations of the daily noise",
    )
    parser.add_argument(
        "--event-lags",
        type=_event_lags,
        default=EVENT_RULE["lags"],
        help="FIRST,LAST: the days after an event's shock that carry its drift",
    )
    args = parser.parse_args()
    if args.runs and (args.inputs or args.curve or args.ceiling):
        parser.error(
            "--runs: only the signal kinds' table keeps its runs; drop --inputs/--curve/--ceiling"
        )
    if args.runs and Path(args.runs).exists() and not Path(args.runs).is_dir():
        parser.error(f"--runs: {args.runs} is a file; give a folder (made if missing)")
    _worker(args.event_jump, args.event_lags)
    models = args.models.split(",")
    lstm = json.loads(args.lstm)
    if args.seeds is None:
        args.seeds = 100 if args.ceiling else 5
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if args.ceiling:
        kinds = ["event"] if args.kinds == ",".join(KINDS) else args.kinds.split(",")
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            parser.error(f"--kinds: unknown kind {unknown[0]!r}; choose from " + ", ".join(KINDS))
        if args.seeds < 2:
            parser.error(
                "--seeds: --ceiling fits on half of the series and scores the rest; give 2 or more"
            )
        ceiling_table(kinds, seeds)
        return
    rule = f"; event rule {EVENT_RULE}" if "event" in args.kinds.split(",") else ""
    print(f"LSTM settings over the defaults: {lstm or 'none'}; {_seeds(seeds)}{rule}\n")
    pool = concurrent.futures.ProcessPoolExecutor(
        args.processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker,
        initargs=(args.event_jump, args.event_lags),
    )
    with pool:
        variants = {}
        for name in filter(None, args.variants.split(",")):
            if name not in ("tuned", "ensemble"):
                parser.error(f"--variants: unknown {name!r}; choose from tuned, ensemble")
            variants[f"lstm {name}"] = (
                {"tune": args.tune_trials} if name == "tuned" else {"ensemble": args.ensemble_size}
            )
        default_kinds = args.kinds == ",".join(KINDS)
        if args.inputs:
            kinds = list(INPUT_KINDS) if default_kinds else args.kinds.split(",")
            unknown = [k for k in kinds if k not in INPUT_KINDS]
            if unknown:
                parser.error(
                    f"--kinds: unknown input kind {unknown[0]!r}; choose from "
                    + ", ".join(INPUT_KINDS)
                )
            inputs_table(kinds, seeds, lstm, variants, pool)
        elif args.curve:
            kinds = CURVE_KINDS if default_kinds else args.kinds.split(",")
            curve_table(kinds, [int(d) for d in args.days.split(",")], seeds, lstm, pool)
        else:
            runs = RunStore(Path(args.runs) if args.runs else None)
            signals_table(args.kinds.split(","), seeds, models, lstm, variants, pool, runs)


def signals_table(
    kinds, seeds: range, models: list[str], lstm: dict, variants: dict, pool, runs: RunStore
) -> None:
    """The simulated kinds: each model's share of the oracle R² and DM rejections, per kind.
    Each seed's backtest of ``models`` and each LSTM variant's backtest is a job of its own."""
    columns = models + list(variants)
    head = " | ".join(f"{m} R²/oracle | {m} DM<5%" for m in columns)
    timing = " | ".join(f"s per run: {m}" for m in ["models", *variants])
    lstms = [m for m in columns if m.startswith("lstm")]
    per_seed_head = "".join(f" | {m} per seed" for m in lstms)
    groups = {"models": (models, lstm)}
    groups.update({label: (["lstm"], {**lstm, **extra}) for label, extra in variants.items()})
    keys = [(k, s, label) for label in reversed(groups) for k in kinds for s in seeds]
    specs = {key: run_spec(key[0], key[1], *groups[key[2]]) for key in keys}
    saved = {key: runs.load(spec) for key, spec in specs.items()}  # all read before any runs
    jobs = {}  # every job queued at once, the longest (tuned, ensembles) first; rows in order
    for key in keys:
        if saved[key] is None:
            jobs[key] = pool.submit(one_run, key[0], key[1], *groups[key[2]], runs)
        else:
            jobs[key] = concurrent.futures.Future()
            jobs[key].set_result(saved[key])
    print(f"| kind | oracle R² | {head} | {timing}{per_seed_head} |")
    print("|---|---:|" + "---:|" * (2 * len(columns) + 1 + len(variants)) + "---|" * len(lstms))
    for kind in kinds:
        runs_of = []
        for seed in seeds:
            parts = {label: jobs[kind, seed, label].result() for label in groups}
            merged = dict(parts["models"])
            merged["seconds"] = {label: part["seconds"] for label, part in parts.items()}
            merged.update({label: parts[label]["lstm"] for label in variants})
            runs_of.append(merged)
        oracle = statistics.mean(r["oracle_r2"] for r in runs_of)
        cells = []
        for m in columns:
            r2 = statistics.mean(r[m][0] for r in runs_of)
            share = f"{r2 / oracle:.0%}" if kind in SIGNALS else f"R² {r2:+.4f}"
            rejects = sum(r[m][1] < 0.05 for r in runs_of)
            cells += [share, f"{rejects}/{len(runs_of)}"]
        for label in groups:
            cells.append(f"{statistics.mean(r['seconds'][label] for r in runs_of):.0f}")
        for m in lstms:  # the spread behind each LSTM mean
            cells.append(
                " ".join(
                    f"{r[m][0] / r['oracle_r2']:.0%}" if kind in SIGNALS else f"{r[m][0]:+.4f}"
                    for r in runs_of
                )
            )
        print(f"| {kind} | {oracle:.3f} | " + " | ".join(cells) + " |", flush=True)
    for label in variants:
        lines = []
        for kind in kinds:
            parts = [jobs[kind, seed, label].result() for seed in seeds]
            choices = [c for part in parts for c in part.get("lstm_choices", [])]
            if choices:
                told = sum("lstm_choices" in part for part in parts)
                lines.append(
                    f"- {kind} ({len(choices)} refits of {told} seeds): " + choices_summary(choices)
                )
        if lines:
            print(f"\nThe tuner's choices, {label}:\n" + "\n".join(lines))
    measured = runs.commits(list(specs.values()))
    if measured:
        print(f"\nRuns saved in {runs.folder}, measured at commits {', '.join(measured)}")


def _seeds(seeds: range) -> str:
    """``5 seeds`` (0-4), or ``2 seeds (5-6)`` when they do not start at 0."""
    text = f"{len(seeds)} seeds"
    return text if seeds.start == 0 else f"{text} ({seeds.start}-{seeds.stop - 1})"


def _event_lags(text: str) -> tuple[int, int]:
    """``--event-lags FIRST,LAST`` as a tuple, the form of ``EVENT_RULE["lags"]``."""
    try:
        first, last = (int(d) for d in text.split(","))
    except ValueError:
        first = last = 0
    if not 1 <= first <= last:
        raise argparse.ArgumentTypeError(f"{text!r}; give FIRST,LAST with 1 <= FIRST <= LAST")
    return first, last


def _worker(event_jump: float, event_lags: tuple[int, int]) -> None:
    exit_with_parent()  # a worker of a stopped benchmark stops with it
    torch.set_num_threads(1)
    MODELS.update(REFERENCES)
    EVENT_RULE["jump"] = event_jump  # the simulation and ``told`` read them
    EVENT_RULE["lags"] = event_lags


def _call(job: tuple):
    """Run ``job[0](*job[1:])`` in a worker process."""
    return job[0](*job[1:])


if __name__ == "__main__":
    main()
