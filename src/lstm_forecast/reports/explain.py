"""PNGs of what the LSTM does: gate heatmaps, cell-state trajectories, forecast vs actual."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..models.lstm_inspect import Inside
from .rundir import RunDirectory

GATE_TITLES = {
    "f": "forget gate f (share of long-term memory kept)",
    "i": "input gate i (share of the candidate written)",
    "o": "output gate o (share of the memory shown)",
    "g": "candidate g (potential new memory)",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_inside(inside: Inside, out: Path | RunDirectory) -> list[Path]:
    """Write gates.png, cells.png and forecast.png into ``out`` (all at once, never over a
    user's files: see :mod:`.rundir`); return their final paths."""
    if not isinstance(out, RunDirectory):
        with RunDirectory(out, kind="explain") as run:
            paths = plot_inside(inside, run)
            run.commit()
        return paths
    run = out
    plt = _pyplot()
    labels = [d.strftime("%Y-%m-%d") for d in inside.dates]
    ticks = np.linspace(0, len(labels) - 1, min(6, len(labels))).astype(int)
    names = [n for n in ("f", "i", "o", "g", "r", "z", "n") if n in inside.gates]
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 2.1 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        low = -1.0 if name in ("g", "n") else 0.0
        image = ax.imshow(
            inside.gates[name].T,
            aspect="auto",
            cmap="viridis",
            vmin=low,
            vmax=1.0,
            interpolation="nearest",
        )
        ax.set_title(GATE_TITLES[name], fontsize=9)
        ax.set_ylabel("unit")
        ax.set_xlabel("date")
        ax.set_xticks(ticks, [labels[k] for k in ticks], fontsize=7)
        fig.colorbar(image, ax=ax, fraction=0.02)
    fig.suptitle(f"{inside.ticker}: gates over the window of the latest forecast")
    fig.tight_layout()
    fig.savefig(run.path("gates.png"), dpi=110)
    paths = [run.out / "gates.png"]
    plt.close(fig)
    if inside.cells is not None:
        fig, ax = plt.subplots(figsize=(9, 3.5))
        ax.plot(inside.dates, inside.cells, lw=0.9)
        ax.set_title(f"{inside.ticker}: cell state (long-term memory) of each unit")
        ax.set_xlabel("date")
        ax.set_ylabel("cell state c")
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        fig.savefig(run.path("cells.png"), dpi=110)
        paths.append(run.out / "cells.png")
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.bar(inside.actual.index, inside.actual.to_numpy(), color="lightgrey", label="actual")
    ax.plot(
        inside.forecasts.index,
        inside.forecasts.to_numpy(),
        color="C3",
        marker=".",
        label="forecast",
    )
    ax.axhline(0, color="black", lw=0.5)
    ax.set_title(f"{inside.ticker}: forecast vs actual next-day log return")
    ax.set_xlabel("date")
    ax.set_ylabel("log return")
    ax.legend()
    fig.tight_layout()
    fig.savefig(run.path("forecast.png"), dpi=110)
    paths.append(run.out / "forecast.png")
    plt.close(fig)
    return paths
