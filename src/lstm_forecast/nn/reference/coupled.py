r"""The coupled input-forget gate LSTM (Greff et al. 2017, "CIFG"): forget only to make room.

.. math::
    \begin{array}{ll}
    f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) & \text{forget gate} \\
    i_t = 1 - f_t & \text{input gate, coupled} \\
    g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) & \text{candidate} \\
    o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) & \text{output gate} \\
    c_t = f_t \odot c_{t-1} + (1 - f_t) \odot g_t & \text{cell state} \\
    h_t = o_t \odot \tanh(c_t) & \text{hidden state}
    \end{array}

Shapes: x: (B, I); h, c: (B, H); W_ih: (3H, I); W_hh: (3H, H); b_ih, b_hh: (3H,), rows f, g, o.
"""

from __future__ import annotations

import numpy as np

from .common import Grads, Params, affine, affine_backward, sigmoid, split, tanh

GATES = ("f", "g", "o")
EXTRA_PARAMS: tuple[str, ...] = ()


def forward(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray, dict]:
    """One step. Returns the new hidden state (B, H), new cell state (B, H) and a cache."""
    a_x, a_h = affine(x, h, params)
    a_f, a_g, a_o = split(a_x + a_h, 3)  # each (B, H)
    forget_gate = sigmoid(a_f)
    input_gate = 1.0 - forget_gate
    candidate = tanh(a_g)
    output_gate = sigmoid(a_o)
    c_new = forget_gate * c + input_gate * candidate
    tanh_c = tanh(c_new)
    h_new = output_gate * tanh_c
    gates = {"i": input_gate, "f": forget_gate, "g": candidate, "o": output_gate}
    cache = {"x": x, "h": h, "c": c, "params": params, "gates": gates, "tanh_c": tanh_c}
    return h_new, c_new, cache


def backward(dh: np.ndarray, dc: np.ndarray, cache: dict) -> Grads:
    """Gradients given dL/dh_t and dL/dc_t, as in :func:`.standard.backward`."""
    g = cache["gates"]
    f, cand, o = g["f"], g["g"], g["o"]
    tanh_c = cache["tanh_c"]
    dc_total = dc + dh * o * (1.0 - tanh_c**2)
    d_o = dh * tanh_c * o * (1.0 - o)
    d_f = dc_total * (cache["c"] - cand) * f * (1.0 - f)  # f weighs old cell against candidate
    d_g = dc_total * (1.0 - f) * (1.0 - cand**2)
    d_a = np.concatenate([d_f, d_g, d_o], axis=-1)  # (B, 3H)
    grads = affine_backward(d_a, d_a, cache["x"], cache["h"], cache["params"])
    grads["c"] = dc_total * f
    return grads
