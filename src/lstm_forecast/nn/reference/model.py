"""A thin stateful wrapper around the sequence functions: settings plus parameters."""

from __future__ import annotations

import numpy as np

from .cells import get_cell
from .common import Grads, Params
from .sequence import SequenceResult, sequence_backward, sequence_forward


class ReferenceRNN:
    """Stacked recurrent network of any reference variant, PyTorch weight layout.

    Args:
        input_size: features per step, I.
        hidden_size: units per layer, H.
        num_layers: stacked layers, L.
        variant: ``standard``, ``peephole``, ``coupled``, ``gru``, ``rnn`` or ``linear-rnn``.
        seed: seeds the initialisation (PyTorch's U(-1/sqrt(H), 1/sqrt(H))).
        forget_bias: added to the forget-gate rows of ``b_ih`` (LSTM variants only).

    Shapes: x (B, T, I) -> output (B, T, H), h_n and c_n (L, B, H).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        variant: str = "standard",
        seed: int = 0,
        forget_bias: float = 0.0,
    ) -> None:
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.cell = get_cell(variant)
        self.variant = variant
        self.hidden_size = hidden_size
        rng = np.random.default_rng(seed)
        self.layers: list[Params] = [
            self.cell.init(input_size if layer == 0 else hidden_size, hidden_size, rng)
            for layer in range(num_layers)
        ]
        if forget_bias and "f" in self.cell.gates:
            block = self.cell.gates.index("f")
            for params in self.layers:
                params["b_ih"][block * hidden_size : (block + 1) * hidden_size] += forget_bias

    def forward(
        self, x: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None
    ) -> SequenceResult:
        """Run the network over ``x`` (B, T, I); see :func:`sequence_forward`."""
        return sequence_forward(x, self.layers, self.variant, h0, c0)

    def backward(
        self,
        result: SequenceResult,
        d_output: np.ndarray,
        d_h_n: np.ndarray | None = None,
        d_c_n: np.ndarray | None = None,
    ) -> tuple[list[Grads], np.ndarray, np.ndarray, np.ndarray | None]:
        """BPTT; see :func:`sequence_backward`."""
        return sequence_backward(result, d_output, d_h_n, d_c_n)
