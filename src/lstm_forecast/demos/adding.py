r"""Hochreiter & Schmidhuber's adding problem (1997): long memory, measured.

Each sequence has T steps of two features: a value :math:`u_t \sim U(0, 1)` and a marker
that is 1 at exactly two steps (one in the first half, one in the second) and 0 elsewhere.
The target is the sum of the two marked values. Predicting the mean (1) gives MSE
:math:`\mathrm{Var}(u_a + u_b) = 1/6 \approx 0.167`; solving it needs the first marked
value carried across up to T steps. An LSTM does this; a vanilla RNN of the same size, whose
gradient vanishes over such distances (``demo gradients``), stays near 0.167.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

BASELINE_MSE = 1.0 / 6.0


def adding_batch(
    batch: int, steps: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (B, T, 2) and targets (B, 1) of the adding problem."""
    values = torch.rand(batch, steps, generator=generator)
    half = steps // 2
    first = torch.randint(0, half, (batch,), generator=generator)
    second = torch.randint(half, steps, (batch,), generator=generator)
    markers = torch.zeros(batch, steps)
    rows = torch.arange(batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    target = (values * markers).sum(1, keepdim=True)
    return torch.stack([values, markers], 2), target


class AddingNet(nn.Module):
    """Recurrent layer plus a linear read-out of the last hidden state."""

    def __init__(self, variant: str, hidden: int) -> None:
        super().__init__()
        from ..nn.engine import RecurrentEngine

        self.rnn = RecurrentEngine(2, hidden, 1, variant, device="cpu")
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][:, -1])


@dataclass
class AddingRun:
    """Test MSE over training for one network."""

    variant: str
    steps_done: list[int] = field(default_factory=list)
    test_mse: list[float] = field(default_factory=list)
    accuracy: float = 0.0  # share of test sequences with absolute error < 0.04
    seconds: float = 0.0


def run_adding(
    variant: str,
    steps: int = 100,
    hidden: int = 32,
    iterations: int = 2000,
    batch: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    eval_every: int = 100,
) -> AddingRun:
    """Train one network on fresh batches and record test MSE every ``eval_every`` iterations."""
    torch.manual_seed(seed)
    net = AddingNet(variant, hidden)
    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    data = torch.Generator().manual_seed(seed + 1)
    test_x, test_y = adding_batch(1000, steps, torch.Generator().manual_seed(12345))
    run = AddingRun(variant)
    start = time.perf_counter()
    for it in range(1, iterations + 1):
        x, y = adding_batch(batch, steps, data)
        optimiser.zero_grad()
        loss = nn.functional.mse_loss(net(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimiser.step()
        if it % eval_every == 0 or it == iterations:
            with torch.no_grad():
                error = net(test_x) - test_y
            run.steps_done.append(it)
            run.test_mse.append(float((error**2).mean()))
            run.accuracy = float((error.abs() < 0.04).float().mean())
    run.seconds = time.perf_counter() - start
    return run


def plot_adding(runs: list[AddingRun], path: str | Path) -> None:
    """Test MSE over iterations (log scale), with the predict-the-mean baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for run in runs:
        ax.semilogy(run.steps_done, run.test_mse, marker=".", label=run.variant)
    ax.axhline(BASELINE_MSE, color="grey", ls="--", label="predict the mean (1/6)")
    ax.axhline(0.01, color="green", ls=":", label="0.01")
    ax.set_xlabel("training iterations")
    ax.set_ylabel("test MSE")
    ax.set_title("The adding problem")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
