"""The seed's worked example: one LSTM unit that remembers Day 1 to predict Day 5.

Company A's prices are [0, 0.5, 0.25, 1] and Company B's [1, 0.5, 0.25, 1]: they differ only
on Day 1, and Day 5 repeats Day 1 (0 for A, 1 for B). Run through the unit with the seed's
weights, the final short-term memory (hidden state) is ~0 for A and ~1 for B.

The seed writes each gate as ``w_h * short_term + w_x * input + bias``; in PyTorch's layout
(rows i, f, g, o) that is ``W_hh`` = the short-term weights, ``W_ih`` = the input weights,
``b_ih`` = the biases and ``b_hh`` = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn.reference import Adam, ReferenceRNN
from ..nn.reference.common import Params

COMPANY_A = (0.0, 0.5, 0.25, 1.0)
COMPANY_B = (1.0, 0.5, 0.25, 1.0)
COMPANIES = {"Company A": (COMPANY_A, 0.0), "Company B": (COMPANY_B, 1.0)}


def seed_unit() -> list[Params]:
    """The seed's one-unit LSTM (H = 1, I = 1), rows in order i, f, g, o."""
    return [
        {
            "W_ih": np.array([[1.65], [1.63], [0.94], [-0.19]]),  # input weights
            "W_hh": np.array([[2.00], [2.70], [1.41], [4.38]]),  # short-term memory weights
            "b_ih": np.array([0.62, 1.62, -0.32, 0.59]),
            "b_hh": np.zeros(4),
        }
    ]


@dataclass(frozen=True)
class Day:
    """What the unit did on one day."""

    day: int
    price: float
    forget_gate: float  # % of long-term memory kept
    input_gate: float  # % of the potential memory added
    candidate: float  # potential long-term memory
    output_gate: float  # % of the potential short-term memory passed on
    long_term: float  # cell state after the day
    short_term: float  # hidden state after the day


def run_unit(layers: list[Params], prices: tuple[float, ...]) -> list[Day]:
    """Feed ``prices`` one day at a time, memories starting at 0; one :class:`Day` per price."""
    from ..nn.reference import sequence_forward

    r = sequence_forward(np.asarray(prices, dtype=np.float64).reshape(1, -1, 1), layers)
    g = {name: value[0, 0, :, 0] for name, value in r.gates.items()}  # (T,)
    return [
        Day(
            t + 1,
            float(p),
            float(g["f"][t]),
            float(g["i"][t]),
            float(g["g"][t]),
            float(g["o"][t]),
            float(r.cells[0, 0, t, 0]),
            float(r.output[0, t, 0]),
        )
        for t, p in enumerate(prices)
    ]


def train_unit(
    seed: int = 0, steps: int = 1500, lr: float = 0.05, tolerance: float = 0.02
) -> tuple[list[Params], list[float]]:
    """Learn a one-unit LSTM from a seeded random start so A ends at 0 and B at 1.

    Minimises the mean squared error of the final short-term memory with Adam, stopping
    early once both companies are within ``tolerance`` of their Day 5 value.
    Returns the learned parameters and the loss after every step.
    """
    model = ReferenceRNN(1, 1, 1, "standard", seed=seed)
    x = np.array([COMPANY_A, COMPANY_B]).reshape(2, 4, 1)  # (B, T, I)
    target = np.array([0.0, 1.0])
    optimiser = Adam(model.layers, lr=lr)
    losses = []
    for _ in range(steps):
        r = model.forward(x)
        error = r.h_n[0, :, 0] - target  # (B,)
        losses.append(float(np.mean(error**2)))
        if np.max(np.abs(error)) < tolerance:
            break
        d_h_n = (2.0 * error / error.size).reshape(1, 2, 1)
        grads, *_ = model.backward(r, np.zeros_like(r.output), d_h_n)
        optimiser.step(grads)
    return model.layers, losses
