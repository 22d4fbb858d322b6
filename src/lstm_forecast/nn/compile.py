"""The ``compiled`` path: pointwise cell code under ``torch.compile``, cached on disk.

What is compiled is small: for the LSTM family, the backward coefficients of all steps
(:func:`.lstm_layer.coefficients`, one fused kernel per backward pass); for the GRU and
RNN, the pointwise step functions of :mod:`.engine_cells`. Matrix products stay with BLAS.
Everything is compiled once with dynamic shapes. Inductor's compiled
artefacts go to a per-user cache directory (``$LSTM_FORECAST_CACHE/inductor`` or
``~/.cache/lstm-forecast/inductor``), so later processes load them instead of compiling again.
If compilation fails (no C++ compiler, unsupported platform), the eager cell code is used
and one warning says so.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch

from .engine_cells import CELLS, TorchCell

_COMPILED: dict[str, TorchCell] = {}


def cache_dir() -> Path:
    """Where compiled artefacts are kept."""
    root = os.environ.get("LSTM_FORECAST_CACHE")
    if root:
        return Path(root) / "inductor"
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "lstm-forecast" / "inductor"


def _warm_up(cell: TorchCell) -> None:
    """Run both functions once on small inputs so a failure to compile shows up here. The
    global random state is restored after (``fork_rng``): the first compiled fit in a process
    draws its dropout masks from the seeded stream as every later one does."""
    hidden = 3
    with torch.random.fork_rng(devices=[]):
        a = torch.randn(2, cell.rows * hidden)
        h, c = torch.randn(2, hidden), torch.randn(2, hidden)
        peep = tuple(torch.randn(hidden) for _ in range(3))
        ah = torch.randn(2, cell.rows * hidden) if cell.splits_recurrent else None
    _, _, saved = cell.forward(a, ah, h, c, peep)
    cell.backward(h, c, saved, h, c, peep)


_COEFFICIENTS: list = []


def compiled_lstm_functions() -> Callable | None:
    """The compiled backward-coefficient kernel of :mod:`.lstm_layer`, or None if unavailable.

    For the LSTM family only this one all-steps computation is compiled: it is a single call
    per backward pass, so fusion pays; compiled per-step code lost more to call overhead than
    it saved (see the README's benchmark).
    """
    if not _COEFFICIENTS:
        from .lstm_layer import coefficients

        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir()))
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 32)
        fn = torch.compile(coefficients, dynamic=True)
        try:
            t, b, h = 2, 2, 3
            with torch.random.fork_rng(devices=[]):  # the seeded global stream stays untouched
                fn(
                    torch.rand(t, b, 4 * h),
                    torch.rand(t, b, h),
                    torch.rand(t, b, h),
                    "standard",
                    None,
                )
        except Exception as exc:  # any backend failure means: run eagerly
            _warn(exc)
            fn = None
        _COEFFICIENTS.append(fn)
    return _COEFFICIENTS[0]


def _warn(exc: Exception) -> None:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    warnings.warn(
        f"torch.compile unavailable ({first[:160]}); the compiled path runs the eager code instead",
        RuntimeWarning,
        stacklevel=4,
    )


def compiled_cell(variant: str) -> TorchCell:
    """The variant's cell with compiled step functions, or the eager cell on failure."""
    if variant not in _COMPILED:
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir()))
        eager = CELLS[variant]
        cell = replace(
            eager,
            forward=torch.compile(eager.forward, dynamic=True),
            backward=torch.compile(eager.backward, dynamic=True),
        )
        try:
            _warm_up(cell)
        except Exception as exc:  # any backend failure means: run eagerly
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            warnings.warn(
                f"torch.compile unavailable ({first[:160]}); using the eager cell "
                "code for the compiled path",
                RuntimeWarning,
                stacklevel=3,
            )
            cell = eager
        _COMPILED[variant] = cell
    return _COMPILED[variant]
