r"""Vanishing and exploding gradients, measured rather than asserted.

1. The seed's argument: a linear RNN :math:`h_t = w\,x_t + w\,h_{t-1}` unrolled 50 steps has
   :math:`\partial h_{50} / \partial x_1 = w^{50}`: :math:`2^{50} \approx 10^{15}` explodes,
   :math:`0.5^{50} \approx 10^{-15}` vanishes. Computed by backpropagation through the reference.
2. On random sequences of length T, the norm of :math:`\partial L / \partial x_{T-k}` at each
   lag k for a tanh RNN and an LSTM whose forget gate starts open (bias 1): the RNN's
   gradient decays geometrically with the lag, the LSTM's cell state carries it much further.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..nn.reference import ReferenceRNN


def linear_rnn_gradient(weight: float, steps: int = 50) -> float:
    """d h_steps / d x_1 for the one-unit linear RNN with input and feedback weight ``weight``."""
    model = ReferenceRNN(1, 1, 1, "linear-rnn")
    params = model.layers[0]
    params["W_ih"][:] = weight
    params["W_hh"][:] = weight
    params["b_ih"][:] = 0.0
    params["b_hh"][:] = 0.0
    result = model.forward(np.zeros((1, steps, 1)))
    _, dx, _, _ = model.backward(result, np.zeros_like(result.output), np.ones((1, 1, 1)))
    return float(dx[0, 0, 0])


def gradient_by_lag(
    variant: str, length: int = 100, hidden: int = 32, batch: int = 32, seed: int = 0
) -> np.ndarray:
    """Mean over a batch of ||dL/dx_{T-k}|| for k = 0..T-1, L a random readout of h_T.

    ``variant`` is a reference variant; the LSTM variants start with forget bias 1.
    Returns an array of shape (T,), index k = lag (0 = the last input).
    """
    forget_bias = 1.0 if variant in ("standard", "peephole", "coupled") else 0.0
    model = ReferenceRNN(1, hidden, 1, variant, seed=seed, forget_bias=forget_bias)
    rng = np.random.default_rng(seed + 1)
    x = rng.normal(size=(batch, length, 1))
    readout = rng.normal(size=(1, batch, hidden)) / np.sqrt(hidden)
    result = model.forward(x)
    _, dx, _, _ = model.backward(result, np.zeros_like(result.output), readout)
    per_step = np.linalg.norm(dx, axis=2).mean(axis=0)  # (T,), index t
    return per_step[::-1].copy()  # index k = T-1-t


def gradient_table(length: int = 100, seed: int = 0) -> dict[str, np.ndarray]:
    """Gradient norm by lag for a tanh RNN and an LSTM of the same size."""
    return {
        "tanh RNN": gradient_by_lag("rnn", length, seed=seed),
        "LSTM (forget bias 1)": gradient_by_lag("standard", length, seed=seed),
    }


def plot_gradients(curves: dict[str, np.ndarray], path: Path) -> Path:
    """Save the curves as a log-scale PNG at ``path`` and return it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, values in curves.items():
        ax.semilogy(np.arange(len(values)), values, label=name)
    ax.set_xlabel("lag k (steps between the input and the loss)")
    ax.set_ylabel("mean ||dL / dx_{T-k}||")
    ax.set_title("How far back does the gradient reach?")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
