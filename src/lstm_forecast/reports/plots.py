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


def _panels(names: list[str], height: float = 2.6):
    plt = _pyplot()
    fig, axes = plt.subplots(len(names), 1, figsize=(10, height * len(names)), squeeze=False)
    return fig, list(axes[:, 0])


def interval_plot(rows: pd.DataFrame, horizon: int) -> bytes:
    """The realised h-day return against each model's median and its 80% and 95% intervals
    (one ticker's rows, one panel per model)."""
    from ..evaluation.scoring import quantile

    names = list(dict.fromkeys(rows["model"]))
    fig, axes = _panels(names)
    for ax, name in zip(axes, names, strict=True):
        g = rows[rows["model"] == name].sort_values("origin")
        x, args = g["origin"], [g[k].to_numpy(float) for k in ("forecast", "sd", "df")]
        for level, alpha in ((0.95, 0.18), (0.80, 0.32)):
            low, high = quantile((1 - level) / 2, *args), quantile((1 + level) / 2, *args)
            ax.fill_between(x, low, high, alpha=alpha, color="tab:blue", lw=0, label=f"{level:.0%}")
        ax.plot(x, quantile(0.5, *args), color="tab:blue", lw=0.8, label="median")
        ax.plot(x, g["actual"], color="black", lw=0.6, label="realised")
        ax.set_title(f"{name}: {horizon}-day log return, forecast intervals", fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(ncol=4, fontsize=7, loc="upper left")
    return _png(fig)


def var_breach_plot(rows: pd.DataFrame, horizon: int) -> bytes:
    """The realised return against each model's 95% and 99% Value-at-Risk; breaches of the
    99% VaR in red (one ticker's rows, one panel per model)."""
    from ..evaluation.scoring import quantile

    names = list(dict.fromkeys(rows["model"]))
    fig, axes = _panels(names)
    for ax, name in zip(axes, names, strict=True):
        g = rows[rows["model"] == name].sort_values("origin")
        x, args = g["origin"], [g[k].to_numpy(float) for k in ("forecast", "sd", "df")]
        var95, var99 = quantile(0.05, *args), quantile(0.01, *args)
        actual = g["actual"].to_numpy(float)
        ax.plot(x, actual, color="grey", lw=0.5, label="realised")
        ax.plot(x, var95, color="tab:orange", lw=0.9, label="95% VaR")
        ax.plot(x, var99, color="tab:red", lw=0.9, label="99% VaR")
        breach = actual < var99
        ax.scatter(x[breach], actual[breach], color="red", s=14, zorder=3, label="breach of 99%")
        ax.set_title(
            f"{name}: {int(breach.sum())} breaches of the 99% VaR in {len(g)} days "
            f"(expected {0.01 * len(g):.1f})",
            fontsize=9,
        )
        ax.grid(True, alpha=0.3)
        ax.legend(ncol=4, fontsize=7, loc="lower left")
    return _png(fig)


def pit_plot(pit: pd.DataFrame) -> bytes:
    """Histogram of the PIT of each model's forecasts; flat at 1 when calibrated. A hump in
    the middle: intervals too wide; a U: too narrow; a slope: a biased mean."""
    plt = _pyplot()
    names = list(dict.fromkeys(pit["model"]))
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        values = pit.loc[pit["model"] == name, "pit"].to_numpy(float)
        ax.hist(values, bins=10, range=(0, 1), density=True, color="tab:blue", alpha=0.7)
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlim(0, 1)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    return _png(fig)


def volatility_plot(rows: pd.DataFrame, horizon: int) -> bytes:
    """Each model's forecast h-day volatility (sd) against the square root of the variance
    proxy that came true (one ticker's rows)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    first = rows[rows["model"] == rows["model"].iloc[0]].sort_values("origin")
    ax.scatter(
        first["origin"], np.sqrt(first["proxy"]), s=3, color="grey", alpha=0.5, label="proxy"
    )
    for name, g in rows.groupby("model", sort=False):
        g = g.sort_values("origin")
        ax.plot(g["origin"], g["sd"], lw=1.0, label=name)
    ax.set_title(f"Forecast {horizon}-day volatility against the realised proxy (square root)")
    ax.set_ylabel("standard deviation of the log return")
    ax.grid(True, alpha=0.3)
    ax.legend(ncol=4, fontsize=8)
    return _png(fig)
