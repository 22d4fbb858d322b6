"""A backtest as a set of tasks, and the work directory that keeps the finished ones.

A task is one model fitted over a chain of folds (all of them for the warm-started LSTM, whose
fold ``k`` starts from fold ``k - 1``'s weights; one fold for every other model) on a group of
tickers (models that fit each ticker on its own get groups of :data:`GROUP_SIZE`; a global
model, the LSTM, sees the whole panel). Tasks share nothing but the data, so they can run in
any order, anywhere (:mod:`.executors`).

The work directory (:class:`TaskStore`) holds one folder per finished task, written aside and
renamed into place, so a run killed at any moment leaves whole tasks only. Its manifest
records a fingerprint of the data, the settings and the folds: a resumed run continues only
the run it belongs to, and one that would mix runs is refused. Results are kept as Parquet and
JSON (floats written exactly), never pickled: reading a work directory runs no code.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.errors import DataError
from .splits import Fold

# what a finished task returns: (model name, refits, predictions, importance, spreads)
TaskResult = tuple[str, list, pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame] | None]

GROUP_SIZE = 50  # tickers per task for models that fit each ticker alone
MANIFEST = "work.json"
_KIND = "lstm-forecast backtest work"


@dataclass(frozen=True)
class Task:
    """Model ``model`` over folds ``folds`` (in order) on ``tickers`` (None: every ticker)."""

    model: str
    folds: tuple[int, ...]
    group: int = 0
    tickers: tuple[str, ...] | None = None

    @property
    def key(self) -> str:
        """A file name unique within a run."""
        return f"{self.model}.f{self.folds[0]:03d}.g{self.group:04d}"


def plan_tasks(
    models: list[str] | tuple[str, ...],
    folds: list[Fold],
    tickers: list[str],
    chained: set[str],
    per_ticker: set[str],
    group_size: int | None = None,
) -> list[Task]:
    """Every task of a backtest, model by model. ``chained``: models whose folds run in
    order in one task; ``per_ticker``: models that may be split into groups of
    ``group_size`` tickers (default :data:`GROUP_SIZE`)."""
    group_size = group_size or GROUP_SIZE
    tasks = []
    for model in models:
        chains = (
            [tuple(f.index for f in folds)] if model in chained else [(f.index,) for f in folds]
        )
        if model in per_ticker and len(tickers) > group_size:
            groups = [
                tuple(tickers[i : i + group_size]) for i in range(0, len(tickers), group_size)
            ]
        else:
            groups = [None]
        tasks.extend(
            Task(model, chain, g, group) for chain in chains for g, group in enumerate(groups)
        )
    return tasks


# settings that change no task's result, only the summary: a run resumes across them
SUMMARY_ONLY = ("prior_tries",)


def fingerprint(prices: pd.DataFrame, settings: dict, folds: list[Fold]) -> str:
    """SHA-256 of what a backtest's tasks depend on: prices (with the bars and covariates
    they carry), settings (less :data:`SUMMARY_ONLY`) and folds."""
    digest = hashlib.sha256()
    decides = {k: v for k, v in settings.items() if k not in SUMMARY_ONLY}
    digest.update(json.dumps(decides, sort_keys=True, default=str).encode())
    digest.update(json.dumps([asdict(f) for f in folds], default=str).encode())
    frames = [prices, *(getattr(v, "table", None) for v in prices.attrs.values())]
    for frame in frames:
        if isinstance(frame, pd.DataFrame):
            digest.update(json.dumps([str(c) for c in frame.columns]).encode())
            digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    from .. import __version__

    digest.update(__version__.encode())
    return digest.hexdigest()


def work_dir_for(out: str | Path) -> Path:
    """The work directory beside an output directory: ``out.work``."""
    out = Path(out)
    return out.with_name(out.name + ".work")


class TaskStore:
    """Finished tasks of one backtest in ``path``.

    A new run (``resume=False``) refuses a work directory that already holds tasks, so that
    what an interrupted run finished is never thrown away by accident; ``resume=True`` keeps
    the tasks of the same run (same fingerprint) and refuses another run's.
    """

    def __init__(self, path: str | Path, digest: str, resume: bool = False) -> None:
        self.path = Path(path)
        manifest = self.path / MANIFEST
        if self.path.exists() and not self.path.is_dir():
            raise DataError(f"{self.path} is a file, not a work directory; move it away")
        if manifest.exists():
            try:
                document = json.loads(manifest.read_text())
                ours = document.get("kind") == _KIND
            except (OSError, ValueError, AttributeError):
                ours = False
            if not ours:
                raise DataError(f"{manifest} was not written by lstm-forecast; move it away")
            done = len(self.finished())
            if not resume:
                raise DataError(
                    f"{self.path} holds {done} finished task(s) of an interrupted backtest; "
                    "add --resume to continue it, or delete that folder to start again"
                )
            if document.get("fingerprint") != digest:
                raise DataError(
                    f"{self.path} belongs to a backtest with other data or settings; rerun "
                    "with the same ones to resume it, or delete that folder to start again"
                )
        elif self.path.exists() and any(self.path.iterdir()):
            raise DataError(
                f"{self.path} exists and is not a backtest work directory; move it away or "
                "choose another --out"
            )
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            _write_json(manifest, {"kind": _KIND, "fingerprint": digest})

    def finished(self) -> set[str]:
        return {p.name for p in self.path.iterdir() if p.is_dir() and not p.name.startswith(".")}

    def load(self, task: Task) -> TaskResult | None:
        """The task's result if it finished, else None."""
        folder = self.path / task.key
        if not folder.is_dir():
            return None
        meta = json.loads((folder / "meta.json").read_text(), object_hook=_decode)
        frames = {
            name: _read_frame(folder / f"{name}.parquet", meta["columns"][name])
            for name in ("predictions", "importance", "sd", "df")
            if (folder / f"{name}.parquet").exists()
        }
        importance = frames["importance"]
        spreads = {k: frames[k] for k in ("sd", "df")} if "sd" in frames else None
        return meta["name"], meta["refits"], frames["predictions"], importance, spreads

    def save(self, task: Task, result: TaskResult) -> None:
        """Write the task's result aside, then rename it into place (all or nothing)."""
        name, refits, predictions, importance, spreads = result
        staging = self.path / f".{task.key}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        frames = {"predictions": predictions, "importance": importance, **(spreads or {})}
        columns = {k: [_encode(c) for c in f.columns] for k, f in frames.items()}
        for key, frame in frames.items():
            plain = frame.set_axis([str(c) for c in frame.columns], axis=1)
            plain.attrs = {}  # the bars and covariates a frame carries are inputs, not results
            plain.to_parquet(staging / f"{key}.parquet")
        meta = {"name": name, "task": asdict(task), "refits": refits, "columns": columns}
        _write_json(staging / "meta.json", meta)
        os.replace(staging, self.path / task.key)


def _read_frame(path: Path, columns: list) -> pd.DataFrame:
    """A kept frame with its own column labels (decoded with the rest of meta.json)."""
    frame = pd.read_parquet(path)
    frame.columns = columns
    if isinstance(frame.index, pd.DatetimeIndex):
        frame.index.freq = None
    return frame


def _write_json(path: Path, document: dict) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps(document, default=_encode))
    os.replace(temporary, path)


def _encode(value):
    """JSON for what refit records and column names hold; floats are written exactly."""
    if isinstance(value, pd.Timestamp):
        return {"$timestamp": value.isoformat()}
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (str, int, float)) or value is None:
        return value
    raise TypeError(f"cannot keep {type(value).__name__} in a work directory")


def _decode(document: dict):
    if set(document) == {"$timestamp"}:
        return pd.Timestamp(document["$timestamp"])
    return document
