r"""The forecast distribution of an h-day log return: mean ``loc``, standard deviation ``sd``
and degrees of freedom ``df`` (``inf``: normal). A Student-t with :math:`\nu > 2` degrees of
freedom and standard deviation :math:`s` has scale :math:`s\sqrt{(\nu-2)/\nu}`."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats


def as_arrays(*values: ArrayLike) -> list[np.ndarray]:
    """The values as float arrays of one broadcast shape."""
    return np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values))


def t_scale(sd: ArrayLike, df: ArrayLike) -> np.ndarray:
    """The scale of a Student-t with standard deviation ``sd`` (``df`` inf: ``sd`` itself)."""
    sd, df = as_arrays(sd, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isinf(df), sd, sd * np.sqrt((df - 2.0) / df))


def quantile(level: ArrayLike, loc: ArrayLike, sd: ArrayLike, df: ArrayLike) -> np.ndarray:
    """The ``level`` quantile of the distribution (loc, sd, df)."""
    level, loc, sd, df = as_arrays(level, loc, sd, df)
    nu = np.where(np.isinf(df), 3.0, df)  # the t branch is computed for normal rows too
    z = np.where(np.isinf(df), stats.norm.ppf(level), stats.t.ppf(level, nu))
    return loc + t_scale(sd, df) * z


def log_density(y: ArrayLike, loc: ArrayLike, sd: ArrayLike, df: ArrayLike) -> np.ndarray:
    """The log density of the distribution (loc, sd, df) at the outcome ``y``."""
    y, loc, sd, df = as_arrays(y, loc, sd, df)
    nu = np.where(np.isinf(df), 3.0, df)
    return np.where(
        np.isinf(df), stats.norm.logpdf(y, loc, sd), stats.t.logpdf(y, nu, loc, t_scale(sd, df))
    )


def qlike(proxy: ArrayLike, variance: ArrayLike) -> np.ndarray:
    """QLIKE per observation: proxy/variance - log(proxy/variance) - 1 (proxy > 0)."""
    proxy, variance = as_arrays(proxy, variance)
    ratio = proxy / variance
    return ratio - np.log(ratio) - 1.0


def cdf(y: ArrayLike, loc: ArrayLike, sd: ArrayLike, df: ArrayLike) -> np.ndarray:
    """The PIT: the forecast distribution's CDF at the outcome ``y``."""
    y, loc, sd, df = as_arrays(y, loc, sd, df)
    u = (y - loc) / t_scale(sd, df)
    nu = np.where(np.isinf(df), 3.0, df)
    return np.where(np.isinf(df), stats.norm.cdf(u), stats.t.cdf(u, nu))
