"""Pieces every reference cell shares: activations, the affine map, parameter init.

Weight layout follows PyTorch (``torch.nn.LSTM``) so weights copy across one-to-one:
``W_ih`` (G*H, I), ``W_hh`` (G*H, H), ``b_ih`` and ``b_hh`` (G*H,), with the G gate
blocks stacked row-wise in the variant's order (``i, f, g, o`` for the LSTM).
"""

from __future__ import annotations

import numpy as np

Params = dict[str, np.ndarray]
Grads = dict[str, np.ndarray]


def sigmoid(x: np.ndarray) -> np.ndarray:
    r"""Logistic sigmoid :math:`\sigma(x) = e^x / (e^x + 1)`, in (0, 1), overflow-free."""
    return np.exp(-np.logaddexp(0.0, -x))


def tanh(x: np.ndarray) -> np.ndarray:
    r"""Hyperbolic tangent :math:`(e^x - e^{-x}) / (e^x + e^{-x})`, in (-1, 1)."""
    return np.tanh(x)


def affine(x: np.ndarray, h: np.ndarray, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Input and recurrent projections, kept apart (the GRU needs them separately).

    Returns ``(x @ W_ih.T + b_ih, h @ W_hh.T + b_hh)``, each of shape (B, G*H).
    """
    a_x = x @ params["W_ih"].T + params["b_ih"]  # (B, G*H)
    a_h = h @ params["W_hh"].T + params["b_hh"]  # (B, G*H)
    return a_x, a_h


def affine_backward(
    d_ax: np.ndarray, d_ah: np.ndarray, x: np.ndarray, h: np.ndarray, params: Params
) -> Grads:
    """Gradients of :func:`affine` given upstream gradients of its two outputs.

    Returns the four weight gradients and ``x``, ``h`` (the input and previous hidden state).
    """
    return {
        "W_ih": d_ax.T @ x,  # (G*H, I)
        "W_hh": d_ah.T @ h,  # (G*H, H)
        "b_ih": d_ax.sum(axis=0),
        "b_hh": d_ah.sum(axis=0),
        "x": d_ax @ params["W_ih"],  # (B, I)
        "h": d_ah @ params["W_hh"],  # (B, H)
    }


def init_params(
    input_size: int,
    hidden_size: int,
    gates: int,
    rng: np.random.Generator,
    extra: tuple[str, ...] = (),
    dtype: np.dtype | type = np.float64,
) -> Params:
    r"""PyTorch's default initialisation: every entry from :math:`U(-k, k)`, :math:`k = 1/\sqrt{H}`.

    ``extra`` names additional (H,) vectors (the peephole weights), drawn the same way.
    """
    if input_size < 1 or hidden_size < 1:
        raise ValueError(
            f"input_size and hidden_size must be positive, got {input_size} and {hidden_size}"
        )
    k = 1.0 / np.sqrt(hidden_size)
    shapes = {
        "W_ih": (gates * hidden_size, input_size),
        "W_hh": (gates * hidden_size, hidden_size),
        "b_ih": (gates * hidden_size,),
        "b_hh": (gates * hidden_size,),
    }
    shapes.update({name: (hidden_size,) for name in extra})
    return {name: rng.uniform(-k, k, size=shape).astype(dtype) for name, shape in shapes.items()}


def split(a: np.ndarray, parts: int) -> list[np.ndarray]:
    """Split the last axis of a (B, G*H) array into G blocks of (B, H)."""
    return np.split(a, parts, axis=-1)
