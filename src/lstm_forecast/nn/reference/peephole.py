r"""The peephole LSTM cell (Gers & Schmidhuber 2000): the gates also look at the cell state.

.. math::
    \begin{array}{ll}
    i_t = \sigma(W_{ii} x_t + W_{hi} h_{t-1} + b_i + p_i \odot c_{t-1}) & \text{input gate} \\
    f_t = \sigma(W_{if} x_t + W_{hf} h_{t-1} + b_f + p_f \odot c_{t-1}) & \text{forget gate} \\
    g_t = \tanh(W_{ig} x_t + W_{hg} h_{t-1} + b_g) & \text{candidate} \\
    c_t = f_t \odot c_{t-1} + i_t \odot g_t & \text{cell state} \\
    o_t = \sigma(W_{io} x_t + W_{ho} h_{t-1} + b_o + p_o \odot c_t) & \text{output gate} \\
    h_t = o_t \odot \tanh(c_t) & \text{hidden state}
    \end{array}

:math:`b_*` is the sum of the ``b_ih`` and ``b_hh`` blocks; :math:`p_i, p_f, p_o` are
diagonal peephole weights, each of shape (H,).

Shapes: x: (B, I); h, c: (B, H); W_ih: (4H, I); W_hh: (4H, H); b_ih, b_hh: (4H,), rows
i, f, g, o; p_i, p_f, p_o: (H,).
"""

from __future__ import annotations

import numpy as np

from .common import Grads, Params, affine, affine_backward, sigmoid, split, tanh

GATES = ("i", "f", "g", "o")
EXTRA_PARAMS = ("p_i", "p_f", "p_o")


def forward(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray, dict]:
    """One step. Returns the new hidden state (B, H), new cell state (B, H) and a cache."""
    a_x, a_h = affine(x, h, params)
    a_i, a_f, a_g, a_o = split(a_x + a_h, 4)  # each (B, H)
    input_gate = sigmoid(a_i + params["p_i"] * c)  # peeks at the previous cell
    forget_gate = sigmoid(a_f + params["p_f"] * c)
    candidate = tanh(a_g)
    c_new = forget_gate * c + input_gate * candidate
    output_gate = sigmoid(a_o + params["p_o"] * c_new)  # peeks at the new cell
    tanh_c = tanh(c_new)
    h_new = output_gate * tanh_c
    gates = {"i": input_gate, "f": forget_gate, "g": candidate, "o": output_gate}
    cache = {
        "x": x,
        "h": h,
        "c": c,
        "c_new": c_new,
        "params": params,
        "gates": gates,
        "tanh_c": tanh_c,
    }
    return h_new, c_new, cache


def backward(dh: np.ndarray, dc: np.ndarray, cache: dict) -> Grads:
    """Gradients given dL/dh_t and dL/dc_t, as in :func:`.standard.backward`."""
    g, p = cache["gates"], cache["params"]
    i, f, cand, o = g["i"], g["f"], g["g"], g["o"]
    tanh_c, c_prev = cache["tanh_c"], cache["c"]
    d_o = dh * tanh_c * o * (1.0 - o)
    # c_t reaches the loss through c_{t+1}, through h_t = o tanh(c_t), and through o's peephole.
    dc_total = dc + dh * o * (1.0 - tanh_c**2) + d_o * p["p_o"]
    d_i = dc_total * cand * i * (1.0 - i)
    d_f = dc_total * c_prev * f * (1.0 - f)
    d_g = dc_total * i * (1.0 - cand**2)
    d_a = np.concatenate([d_i, d_f, d_g, d_o], axis=-1)  # (B, 4H)
    grads = affine_backward(d_a, d_a, cache["x"], cache["h"], p)
    grads["c"] = dc_total * f + d_i * p["p_i"] + d_f * p["p_f"]
    grads["p_i"] = (d_i * c_prev).sum(axis=0)
    grads["p_f"] = (d_f * c_prev).sum(axis=0)
    grads["p_o"] = (d_o * cache["c_new"]).sum(axis=0)
    return grads
