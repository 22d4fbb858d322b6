"""The ``compiled`` path: pointwise cell code under ``torch.compile``, cached on disk.

Compiling the cell (not the whole unrolled sequence) keeps graphs small: each variant has a
forward and a backward graph, compiled once with dynamic shapes. Inductor's compiled
artefacts go to a per-user cache directory (``$LSTM_FORECAST_CACHE`` or
``~/.cache/lstm-forecast/inductor``), so later processes load them instead of compiling again.
If compilation fails (no C++ compiler, unsupported platform), the eager cell code is used
and one warning says so.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

_COMPILED: dict[str, tuple] = {}


def cache_dir() -> Path:
    """Where compiled artefacts are kept."""
    root = os.environ.get("LSTM_FORECAST_CACHE")
    base = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return (base if root else base / "lstm-forecast") / "inductor"


def _warm_up(variant: str, forward, backward) -> None:
    """Run both functions once on tiny inputs so a failure to compile shows up here."""
    from .engine_cells import CELLS

    rows, hidden = CELLS[variant][2], 3
    a = torch.randn(2, rows * hidden)
    h, c = torch.randn(2, hidden), torch.randn(2, hidden)
    peep = tuple(torch.randn(hidden) for _ in range(3)) if variant == "peephole" else None
    ah = torch.randn(2, rows * hidden) if variant == "gru" else None
    _, _, saved = forward(a, ah, h, c, peep)
    backward(h, c, saved, h, c, peep)


def compiled_cell(variant: str, forward, backward):
    """The compiled (forward, backward) pair of a variant, or the eager pair on failure."""
    if variant not in _COMPILED:
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir()))
        pair = (torch.compile(forward, dynamic=True), torch.compile(backward, dynamic=True))
        try:
            _warm_up(variant, *pair)
        except Exception as exc:  # any backend failure means: run eagerly
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            warnings.warn(
                f"torch.compile unavailable ({first[:160]}); using the eager cell "
                "code for the compiled path",
                RuntimeWarning,
                stacklevel=3,
            )
            pair = (forward, backward)
        _COMPILED[variant] = pair
    return _COMPILED[variant]
