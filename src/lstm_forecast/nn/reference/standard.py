r"""The standard LSTM cell (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000).

.. math::
    \begin{array}{ll}
    i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) & \text{input gate} \\
    f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) & \text{forget gate} \\
    g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) & \text{candidate} \\
    o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) & \text{output gate} \\
    c_t = f_t \odot c_{t-1} + i_t \odot g_t & \text{cell state (long-term memory)} \\
    h_t = o_t \odot \tanh(c_t) & \text{hidden state (short-term memory)}
    \end{array}

where :math:`\sigma` is the logistic sigmoid and :math:`\odot` the elementwise product.

Shapes (B = batch, I = input size, H = hidden size):
    x: (B, I); h, c: (B, H); W_ih: (4H, I); W_hh: (4H, H); b_ih, b_hh: (4H,), rows i, f, g, o.
"""

from __future__ import annotations

import numpy as np

from .common import Grads, Params, affine, affine_backward, sigmoid, split, tanh

GATES = ("i", "f", "g", "o")
EXTRA_PARAMS: tuple[str, ...] = ()


def forward(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray, dict]:
    """One step. Returns the new hidden state (B, H), new cell state (B, H) and a cache."""
    a_x, a_h = affine(x, h, params)
    a_i, a_f, a_g, a_o = split(a_x + a_h, 4)  # each (B, H)
    input_gate = sigmoid(a_i)
    forget_gate = sigmoid(a_f)
    candidate = tanh(a_g)
    output_gate = sigmoid(a_o)
    c_new = forget_gate * c + input_gate * candidate  # long-term memory
    tanh_c = tanh(c_new)
    h_new = output_gate * tanh_c  # short-term memory
    gates = {"i": input_gate, "f": forget_gate, "g": candidate, "o": output_gate}
    cache = {"x": x, "h": h, "c": c, "params": params, "gates": gates, "tanh_c": tanh_c}
    return h_new, c_new, cache


def backward(dh: np.ndarray, dc: np.ndarray, cache: dict) -> Grads:
    """Gradients of a scalar loss given dL/dh_t and dL/dc_t (both (B, H)).

    Returns parameter gradients plus ``x``, ``h`` and ``c`` (input and previous states).
    """
    g = cache["gates"]
    i, f, cand, o = g["i"], g["f"], g["g"], g["o"]
    tanh_c = cache["tanh_c"]
    dc_total = dc + dh * o * (1.0 - tanh_c**2)  # both paths into c_t
    d_o = dh * tanh_c * o * (1.0 - o)  # through the sigmoid
    d_i = dc_total * cand * i * (1.0 - i)
    d_f = dc_total * cache["c"] * f * (1.0 - f)
    d_g = dc_total * i * (1.0 - cand**2)
    d_a = np.concatenate([d_i, d_f, d_g, d_o], axis=-1)  # (B, 4H)
    grads = affine_backward(d_a, d_a, cache["x"], cache["h"], cache["params"])
    grads["c"] = dc_total * f
    return grads
