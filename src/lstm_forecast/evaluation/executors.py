"""Where a backtest's tasks run: this machine (``local``) or a Ray cluster (``ray``).

An executor runs ``fn(shared, task)`` for every task and yields ``(position, result)`` as each
one finishes, in whatever order they finish; the caller puts the results back in task order,
so the final result does not depend on the executor or on its number of workers. ``shared``
(the price panel and the settings) travels to each worker once: to a worker process as it
starts, to a Ray cluster as one object in its store that every task reads.

Tasks must be deterministic for that promise to hold; the backtest's are (each runs torch on
one thread and seeds its own generators). On Ray, the tuning trials (``--lstm-tune``) and
ensemble members (``--lstm-ensemble``) that an LSTM task trains are Ray tasks of their own, so
a study's trials and seeds spread over the cluster; the trials are proposed in batches of
fixed size (:mod:`~lstm_forecast.models.tuning`), so the chosen settings are the same as on
one core.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

EXECUTORS = ("local", "ray")
RAY_INSTALL = (
    "--executor ray needs Ray, an optional extra: pip install 'lstm-forecast[ray]' "
    "(or pip install ray), or use --executor local"
)

_shared: Any = None  # what a local worker process was given when it started


def _keep(shared: Any) -> None:
    global _shared
    _shared = shared
    exit_with_parent()


def exit_with_parent() -> None:
    """In a worker process: end it as soon as the process that started it ends.

    A pool's workers are told to stop by their parent. A parent killed outright (``kill``,
    a scheduler's time limit, an out-of-memory kill) tells them nothing, and each would train
    on through its current task and the one queued after it, on cores that are no longer
    anyone's. A daemon thread waits on the parent's sentinel, which the operating system
    signals when the parent ends, and ends the worker then. Nothing in the parent process."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _call(fn: Callable, task: Any) -> Any:
    return fn(_shared, task)


class LocalExecutor:
    """Tasks in this process (``jobs=1``) or in ``jobs`` fresh worker processes.

    Workers are spawned, not forked: a fork copies torch's thread pools (and, on a GPU
    machine, an initialised CUDA context) into a child that cannot use them.
    """

    name = "local"

    def __init__(self, jobs: int = 1) -> None:
        if not isinstance(jobs, int) or jobs < 1:
            raise ValueError(f"--jobs must be a whole number >= 1, got {jobs!r}")
        self.jobs = jobs

    def run(self, fn: Callable, shared: Any, tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        if self.jobs == 1 or len(tasks) <= 1:
            for position, task in enumerate(tasks):
                yield position, fn(shared, task)
            return
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            max_workers=min(self.jobs, len(tasks)),
            mp_context=context,
            initializer=_keep,
            initargs=(shared,),
        )
        try:
            pending = {pool.submit(_call, fn, task): i for i, task in enumerate(tasks)}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=pending.get):
                    yield pending.pop(future), future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def __repr__(self) -> str:
        return f"LocalExecutor(jobs={self.jobs})"


def _import_ray():
    try:
        import ray
    except ImportError:
        raise RuntimeError(RAY_INSTALL) from None
    return ray


def _ray_call(fn: Callable, shared: Any, task: Any) -> Any:
    """A task on a Ray worker: the tuning trials and ensemble members it trains become Ray
    tasks too (:mod:`lstm_forecast.models.parallel`)."""
    from ..models import parallel

    parallel.task_map = _ray_map
    return fn(shared, task)


def _ray_item(fn: Callable, shared: Any, item: Any) -> Any:
    import torch

    torch.set_num_threads(1)  # as every backtest task: the same sums as on one core
    return fn(shared, item)


def _ray_map(fn: Callable, shared: Any, items: list) -> list:
    """Items (tuning trials, ensemble members) as Ray tasks, results in order. The waiting
    task gives its CPU back to Ray while it waits, so they can run on it."""
    ray = _import_ray()
    data = ray.put(shared)
    remote = ray.remote(num_cpus=1, max_retries=0)(_ray_item)
    return ray.get([remote.remote(fn, data, item) for item in items])


class RayExecutor:
    """Every task a Ray task (one CPU each) on the cluster at ``address``.

    ``address``: ``"auto"`` for the cluster this machine belongs to, ``"ray://host:10001"``
    for a remote one; ``None`` joins the Ray instance this process already started, else
    starts a local one with ``workers`` CPUs (default: all) and stops it when done. Every node
    needs this package installed, at the same version, as the driver has it.
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
        self.address, self.workers = address, workers
        _import_ray()  # refuse at once, before any work, when Ray is not installed

    def run(self, fn: Callable, shared: Any, tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        ray = _import_ray()
        started = not ray.is_initialized()
        if started:
            options = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            try:
                if self.address:
                    ray.init(address=self.address, **options)
                else:
                    ray.init(num_cpus=self.workers, **options)
            except ConnectionError as exc:
                raise RuntimeError(
                    f"--ray-address {self.address}: no Ray cluster answers there ({exc}); start "
                    "one with 'ray start --head', or leave --ray-address out for a local one"
                ) from None
        try:
            data = ray.put(shared)  # once; every task reads it from the object store
            remote = ray.remote(num_cpus=1, max_retries=0)(_ray_call)
            pending = {remote.remote(fn, data, task): i for i, task in enumerate(tasks)}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    position = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        # the task's own error (a ValueError naming a setting, say), without
                        # Ray's wrapping of the remote traceback
                        cause = getattr(exc, "cause", None)
                        raise (cause if isinstance(cause, Exception) else exc) from None
                    yield position, result
        finally:
            if started:
                ray.shutdown()

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r}, workers={self.workers})"


def make_executor(
    kind: str = "local", jobs: int = 1, address: str | None = None
) -> LocalExecutor | RayExecutor:
    """``local`` with ``jobs`` processes, or ``ray`` (``jobs`` CPUs for a new local instance)."""
    if kind == "local":
        return LocalExecutor(jobs)
    if kind == "ray":
        return RayExecutor(address, jobs if not address else None)
    raise ValueError(f"--executor must be one of {', '.join(EXECUTORS)}, got {str(kind)[:40]!r}")
