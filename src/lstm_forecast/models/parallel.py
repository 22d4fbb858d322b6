"""Work inside one model fit that may run in parallel: tuning trials and ensemble members.

:func:`task_map` runs ``fn(shared, item)`` for each item and returns the results in order. By
default it runs them one after another, here. An executor can install a parallel version
(:mod:`lstm_forecast.evaluation.executors` does this on Ray, where each item becomes a Ray
task). Callers read ``parallel.task_map`` at call time, so the installed version is used.
Each item must be independent of the others, so the results do not depend on where or in
what order they run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def serial_map(fn: Callable, shared: Any, items: list) -> list:
    """``[fn(shared, item) for item in items]``."""
    return [fn(shared, item) for item in items]


#: the map in use: :func:`serial_map` unless an executor installed another
task_map: Callable[[Callable, Any, list], list] = serial_map
