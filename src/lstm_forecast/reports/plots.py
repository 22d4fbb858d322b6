"""The backtest's figures as PNG bytes: forecasts over the test period, strategy wealth, errors."""

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


def forecast_plot(predictions: pd.DataFrame, ticker: str) -> bytes:
    """The actual price over the test period with each model's forecast price."""
    plt = _pyplot()
    data = predictions[predictions["ticker"] == ticker]
    fig, ax = plt.subplots(figsize=(10, 4.2))
    actual = data[data["model"] == "naive"].set_index("date")["actual_price"]
    ax.plot(actual.index, actual.to_numpy(), color="black", lw=1.6, label="actual")
    for name, group in data.groupby("model", sort=False):
        if name == "naive":
            continue
        series = group.set_index("date")["forecast_price"]
        ax.plot(series.index, series.to_numpy(), lw=0.8, alpha=0.85, label=name)
    ax.set_title(f"{ticker}: forecast price for each target date (test period)")
    ax.grid(True, alpha=0.3)
    ax.legend(ncol=4, fontsize=8)
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
    ax.set_ylabel("cumulative log return")
    ax.grid(True, alpha=0.3)
    ax.legend(ncol=4, fontsize=8)
    return _png(fig)


def error_plot(predictions: pd.DataFrame) -> bytes:
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
    ax.set_title("Forecast errors (actual minus forecast log return; whiskers 1.5 IQR)")
    ax.grid(True, axis="y", alpha=0.3)
    return _png(fig)
