"""Sliding windows as zero-copy views of a series (no copy of the data per window)."""

from __future__ import annotations

import numpy as np


def sliding_windows(values: np.ndarray, lookback: int) -> np.ndarray:
    """All windows of ``lookback`` consecutive rows, as a read-only view.

    Args:
        values: (T,) or (T, F) array.
        lookback: window length L, 1 <= L <= T.

    Returns:
        (T - L + 1, L, F) view; window ``k`` holds rows ``k .. k + L - 1``, so the window ending
        at row ``t`` is index ``t - L + 1``. A 1-D input gets F = 1.
    """
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"values must be (T,) or (T, F), got shape {values.shape}")
    if not 1 <= lookback <= len(values):
        raise ValueError(f"lookback must be between 1 and {len(values)} rows, got {lookback}")
    view = np.lib.stride_tricks.sliding_window_view(values, lookback, axis=0)  # (N, F, L)
    return view.transpose(0, 2, 1)  # (N, L, F)
