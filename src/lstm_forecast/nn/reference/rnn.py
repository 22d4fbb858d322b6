r"""The vanilla (Elman) recurrent cell, kept to show vanishing and exploding gradients.

.. math::
    h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})

with :math:`\phi = \tanh` (``params`` may carry ``activation="identity"`` for the linear RNN
of the gradient demo). There is no cell state: ``c`` is ignored and returned as ``None``.

Shapes: x: (B, I); h: (B, H); W_ih: (H, I); W_hh: (H, H); b_ih, b_hh: (H,).
"""

from __future__ import annotations

import numpy as np

from .common import Grads, Params, affine, affine_backward, tanh

GATES: tuple[str, ...] = ()
EXTRA_PARAMS: tuple[str, ...] = ()


def forward(
    x: np.ndarray, h: np.ndarray, c: np.ndarray | None, params: Params, linear: bool = False
) -> tuple[np.ndarray, None, dict]:
    """One step. Returns the new hidden state (B, H), ``None`` and a cache."""
    a_x, a_h = affine(x, h, params)
    h_new = a_x + a_h if linear else tanh(a_x + a_h)
    cache = {"x": x, "h": h, "params": params, "h_new": h_new, "linear": linear, "gates": {}}
    return h_new, None, cache


def backward(dh: np.ndarray, dc: np.ndarray | None, cache: dict) -> Grads:
    """Gradients given dL/dh_t (``dc`` is ignored); includes ``x`` and ``h``."""
    d_a = dh if cache["linear"] else dh * (1.0 - cache["h_new"] ** 2)
    return affine_backward(d_a, d_a, cache["x"], cache["h"], cache["params"])
