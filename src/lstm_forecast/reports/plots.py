"""The backtest's figures as PNG bytes: cumulative SSE against the random walk, forecast vs
realised, strategy wealth, errors."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    _pyplot().close(fig)
    return buffer.getvalue()


def cumulative_sse_plot(curves: pd.DataFrame, horizon: int) -> bytes:
    """Goyal-Welch: running sum of the random walk's squared error minus each model's."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for name in curves.columns:
        ax.plot(curves.index, curves[name].to_numpy(), lw=1.0, label=name)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_title(
        f"{horizon}-day forecasts: cumulative squared error of the random walk minus the "
        "model's (rising = beating it)"
    )
    ax.set_xlabel("forecast origin")
    ax.set_ylabel("cumulative SSE difference")
    ax.grid(True, alpha=0.3)
    if len(curves.columns):
        ax.legend(ncol=4, fontsize=8)
    return _png(fig)


def scatter_plot(predictions: pd.DataFrame, horizon: int) -> bytes:
    """Forecast against realised log return, one panel per model (the random walk's
    forecasts are all 0 and it is left out)."""
    plt = _pyplot()
    names = [n for n in dict.fromkeys(predictions["model"]) if n != "naive"] or ["naive"]
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.0 * rows), squeeze=False)
    spread = float(np.percentile(np.abs(predictions["actual"]), 99)) or 1e-3
    for ax, name in zip(axes.flat, names, strict=False):
        group = predictions[predictions["model"] == name]
        ax.scatter(group["forecast"], group["actual"], s=3, alpha=0.35)
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        reach = max(float(np.abs(group["forecast"]).max()), 1e-6)
        ax.set_xlim(-reach * 1.1, reach * 1.1)
        ax.set_ylim(-spread, spread)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(f"forecast {horizon}-day log return", fontsize=8)
        ax.set_ylabel("realised", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.locator_params(axis="x", nbins=4)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3))
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    return _png(fig)


def strategy_plot(curves: pd.DataFrame, title: str) -> bytes:
    """Cumulative net log return of each model's strategy and of buy-and-hold."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for name in curves.columns:
        style = dict(color="black", lw=1.8) if name == "buy & hold" else dict(lw=1.0)
        ax.plot(curves.index, curves[name].to_numpy(), label=name, **style)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_title(title)
    ax.set_xlabel("date")
    ax.set_ylabel("cumulative log return")
    ax.grid(True, alpha=0.3)
    ax.legend(ncol=4, fontsize=8)
    return _png(fig)


def error_plot(predictions: pd.DataFrame, horizon: int) -> bytes:
    """Distribution of the return forecast errors, one box per model."""
    plt = _pyplot()
    names = list(dict.fromkeys(predictions["model"]))
    errors = [
        (g["actual"] - g["forecast"]).to_numpy()
        for _, g in predictions.groupby("model", sort=False)
    ]
    fig, ax = plt.subplots(figsize=(10, 3.8))
    ax.boxplot(errors, tick_labels=names, showfliers=False)
    ax.axhline(0, color="grey", lw=0.6)
    spread = np.percentile(np.abs(np.concatenate(errors)), 99)
    ax.set_ylim(-spread, spread)
    ax.set_title(
        f"{horizon}-day forecast errors (actual minus forecast log return; whiskers 1.5 IQR)"
    )
    ax.set_xlabel("model")
    ax.set_ylabel("error")
    ax.grid(True, axis="y", alpha=0.3)
    return _png(fig)
