"""A short description of a price frame, and a small plot of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .dates import trades_on_weekends


def periods_per_year(dates: pd.DatetimeIndex) -> int:
    """Rows a year: 252 trading days, or 365 for data that trades on weekends too (crypto)."""
    return 365 if trades_on_weekends(dates) else 252


MIN_RETURNS = 20  # about a month of trading days: fewer are not annualised


def summarize(prices: pd.DataFrame) -> pd.DataFrame:
    """One row per ticker: first and last date, rows, first and last price, annualised figures
    (:func:`periods_per_year` rows a year; NaN from fewer than :data:`MIN_RETURNS` returns,
    whose mean times 252 would read as a year's)."""
    year = periods_per_year(prices.index)
    rows = []
    for ticker in prices.columns:
        series = prices[ticker].dropna()
        returns = np.log(series).diff().dropna()
        enough = len(returns) >= MIN_RETURNS
        rows.append(
            {
                "ticker": ticker,
                "first": series.index[0].date(),
                "last": series.index[-1].date(),
                "rows": len(series),
                "first price": series.iloc[0],
                "last price": series.iloc[-1],
                "ann. return": returns.mean() * year if enough else np.nan,
                "ann. volatility": returns.std() * np.sqrt(year) if enough else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("ticker")


def summarize_covariates(prices: pd.DataFrame) -> pd.DataFrame | None:
    """One row per covariate that ``prices`` carries (None when it carries none): how many
    values, the first and last day one is known (its date plus the publication lag), how far
    apart they are, the last value, and the share of the price dates on which a value is
    known (what the models read; before a series' first value, nothing)."""
    from .covariates import covariate_table, covariates_of, median_gap, spacing

    table = covariate_table(prices)
    if table is None:
        return None
    aligned = covariates_of(prices)
    rows = []
    for name in table.columns:
        values = table[name].dropna()
        rows.append(
            {
                "series": str(name),
                "values": len(values),
                "first known": values.index[0].date(),
                "last known": values.index[-1].date(),
                "spacing": spacing(median_gap(values.index)),
                "last value": values.iloc[-1],
                "price dates covered": float(aligned[name].notna().mean()),
            }
        )
    return pd.DataFrame(rows).set_index("series")


def plot_prices(prices: pd.DataFrame, path: Path, title: str) -> Path:
    """Log-scale price chart (at most 10 tickers) saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    for ticker in list(prices.columns)[:10]:
        ax.plot(prices.index, prices[ticker], lw=0.8, label=ticker)
    ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel("date")
    ax.set_ylabel("price (log scale)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
