"""Reading prices: files or embedded datasets in, a validated frame out."""

from .covariates import attach_covariates
from .datasets import DATASETS, DEFAULT_DATASET
from .errors import DataError, DataWarning
from .reader import read_covariates, read_prices
from .validate import check_history

__all__ = [
    "DATASETS",
    "DEFAULT_DATASET",
    "DataError",
    "DataWarning",
    "attach_covariates",
    "check_history",
    "read_covariates",
    "read_prices",
]
