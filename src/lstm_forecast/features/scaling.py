r"""A per-ticker standard scaler whose statistics come from training rows only.

.. math::
    z = (x - \mu_{\text{ticker}}) / \sigma_{\text{ticker}}, \qquad x = \mu + \sigma z

with :math:`\mu, \sigma` the mean and standard deviation of the ticker's training rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class StandardScaler:
    """Per-column standardisation; ``fit`` sees training rows only, by construction."""

    def __init__(self, min_std: float = 1e-12) -> None:
        self.min_std = min_std

    def fit(self, train: pd.DataFrame) -> StandardScaler:
        """Learn each column's mean and standard deviation (NaN ignored) from ``train``."""
        if train.empty:
            raise ValueError("cannot fit a scaler on no rows")
        mean, std = train.mean(), train.std(ddof=0)
        bad = [c for c in train.columns if not np.isfinite(mean[c]) or not np.isfinite(std[c])]
        if bad:
            raise ValueError(f"columns {bad} have no finite training values to scale by")
        self.mean_ = mean.astype("float64")
        self.std_ = std.clip(lower=self.min_std).astype("float64")
        return self

    def _check(self, frame: pd.DataFrame) -> None:
        if not hasattr(self, "mean_"):
            raise RuntimeError("StandardScaler is not fitted; call fit(train) first")
        unknown = [c for c in frame.columns if c not in self.mean_.index]
        if unknown:
            raise ValueError(f"columns {unknown} were not seen in fit ({list(self.mean_.index)})")

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Standardise with the training statistics."""
        self._check(frame)
        return (frame - self.mean_[frame.columns]) / self.std_[frame.columns]

    def inverse_transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Back from standardised units to the original (log-return) units."""
        self._check(frame)
        return frame * self.std_[frame.columns] + self.mean_[frame.columns]

    def to_dict(self) -> dict[str, dict[str, float]]:
        """The fitted statistics as plain JSON-ready numbers."""
        self._check(pd.DataFrame())
        return {"mean": self.mean_.to_dict(), "std": self.std_.to_dict()}

    @classmethod
    def from_dict(cls, stats: dict[str, dict[str, float]]) -> StandardScaler:
        """Rebuild a fitted scaler from :meth:`to_dict`'s output."""
        scaler = cls()
        scaler.mean_ = pd.Series(stats["mean"], dtype="float64")
        scaler.std_ = pd.Series(stats["std"], dtype="float64")
        return scaler
