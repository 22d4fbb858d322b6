"""Central finite differences and the relative error used by every gradient check."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(
    loss: Callable[[], float], array: np.ndarray, eps: float = 1e-5
) -> np.ndarray:
    """dL/d array by central differences, perturbing ``array`` in place one entry at a time."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + eps
        up = loss()
        array[index] = saved - eps
        down = loss()
        array[index] = saved
        grad[index] = (up - down) / (2.0 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """||a - n|| / max(||a||, ||n||); 0 when both are (numerically) zero."""
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric))
    if scale < 1e-12:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / scale)
