"""Real daily price data shipped inside the package (see NOTICE beside this file).

``sp500``: S&P 500 index daily OHLCV 1999-2018 (from ``arch``), the default of every command.
``sp500-stocks``: adjusted closes of 20 large US stocks and the S&P 500 index 1990-2022
(from ``skfolio``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Dataset:
    """An embedded dataset: what it is, where it came from, and its files."""

    name: str
    description: str
    source: str
    license: str
    files: tuple[str, ...]
    caveat: str = ""  # what a result on it cannot tell, said wherever it is used


DATASETS: dict[str, Dataset] = {
    "sp500": Dataset(
        "sp500",
        "S&P 500 index, daily open, high, low, close, adjusted close, volume, 1999-2018",
        "arch 8.0.0, arch.data.sp500",
        "NCSA (Kevin Sheppard)",
        ("sp500_ohlcv_1999_2018.csv.gz",),
    ),
    "sp500-stocks": Dataset(
        "sp500-stocks",
        "Daily adjusted closes of 20 large US stocks and the S&P 500 index (SP500), 1990-2022",
        "skfolio 1.12.2, skfolio/datasets/data/sp500_dataset.csv.gz and sp500_index.csv.gz",
        "BSD 3-Clause (the skfolio developers)",
        ("sp500_20_stocks_1990_2022.csv.gz", "sp500_index_1990_2022.csv.gz"),
        "its 20 stocks all trade from 1990 to 2022: a set known, with hindsight, to have "
        "survived 33 years, so a strategy tested on them is flattered (survivorship bias)",
    ),
}
DEFAULT_DATASET = "sp500"


def dataset_path(filename: str) -> Path:
    """Path of one embedded file."""
    return Path(str(resources.files(__package__).joinpath(filename)))


def load_raw(name: str) -> tuple[pd.DataFrame, str]:
    """The dataset's rows as text, joined on the date column, and a label for messages."""
    dataset = DATASETS[name]
    frames = [pd.read_csv(dataset_path(f), dtype=str, keep_default_na=False) for f in dataset.files]
    raw = frames[0]
    for extra in frames[1:]:
        raw = raw.merge(extra, on="Date", how="outer", validate="one_to_one")
    return raw, f"embedded dataset {name!r}"
