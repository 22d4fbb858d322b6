r"""The gated recurrent unit (Cho et al. 2014), in PyTorch's formulation.

.. math::
    \begin{array}{ll}
    r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) & \text{reset gate} \\
    z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) & \text{update gate} \\
    n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) & \text{candidate} \\
    h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1} & \text{hidden state}
    \end{array}

There is no separate cell state: ``c`` is ignored and returned as ``None``.

Shapes: x: (B, I); h: (B, H); W_ih: (3H, I); W_hh: (3H, H); b_ih, b_hh: (3H,), rows r, z, n.
"""

from __future__ import annotations

import numpy as np

from .common import Grads, Params, affine, affine_backward, sigmoid, split, tanh

GATES = ("r", "z", "n")
EXTRA_PARAMS: tuple[str, ...] = ()


def forward(
    x: np.ndarray, h: np.ndarray, c: np.ndarray | None, params: Params
) -> tuple[np.ndarray, None, dict]:
    """One step. Returns the new hidden state (B, H), ``None`` and a cache."""
    a_x, a_h = affine(x, h, params)
    x_r, x_z, x_n = split(a_x, 3)  # each (B, H)
    h_r, h_z, h_n = split(a_h, 3)
    reset = sigmoid(x_r + h_r)
    update = sigmoid(x_z + h_z)
    candidate = tanh(x_n + reset * h_n)
    h_new = (1.0 - update) * candidate + update * h
    gates = {"r": reset, "z": update, "n": candidate}
    cache = {"x": x, "h": h, "params": params, "gates": gates, "h_n": h_n}
    return h_new, None, cache


def backward(dh: np.ndarray, dc: np.ndarray | None, cache: dict) -> Grads:
    """Gradients given dL/dh_t (``dc`` is ignored); includes ``x`` and ``h``."""
    g = cache["gates"]
    r, z, n = g["r"], g["z"], g["n"]
    d_an = dh * (1.0 - z) * (1.0 - n**2)  # pre-activation of the candidate
    d_az = dh * (cache["h"] - n) * z * (1.0 - z)
    d_ar = d_an * cache["h_n"] * r * (1.0 - r)
    d_ax = np.concatenate([d_ar, d_az, d_an], axis=-1)  # (B, 3H)
    d_ah = np.concatenate([d_ar, d_az, d_an * r], axis=-1)  # reset scales the hidden part
    grads = affine_backward(d_ax, d_ah, cache["x"], cache["h"], cache["params"])
    grads["h"] = grads["h"] + dh * z
    return grads
