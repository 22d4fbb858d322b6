"""Training samples as (ticker, end row) pairs into one (T, N, F) array, gathered per batch.

A panel of 500 tickers and 5,000 days has 2.4 million windows of 60 days: 570 MB in float32
if they are copied out, against 10 MB for the array they are cut from. :class:`WindowSet`
keeps the array once and copies out only the batch that a step asks for, so memory grows with
the panel, not with the lookback. The training loop sees a sequence of tensors: ``len`` and
indexing by a slice or an index tensor, exactly as it would with the materialised windows
(and the batches are equal to them, element for element).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch


class WindowSet:
    """Windows ``values[e - L + 1 : e + 1, n, :]`` for sample pairs ``(n, e)``.

    Args:
        values: (T, N, F) array (float32; shared, not copied, when it already is).
        tickers: (S,) column ``n`` of each sample.
        ends: (S,) row ``e`` each window ends at (its origin).
        lookback: window length L.
        device: where the batches go.

    ``windows[index]`` is the (B, L, F) float32 tensor of the samples ``index`` (a slice, an
    integer array or tensor).
    """

    def __init__(
        self,
        values: np.ndarray,
        tickers: np.ndarray,
        ends: np.ndarray,
        lookback: int,
        device: torch.device | str = "cpu",
    ) -> None:
        with warnings.catch_warnings():  # a read-only array: the windows only read it
            warnings.simplefilter("ignore", UserWarning)
            self.values = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
        if torch.device(device).type != "cpu":
            self.values = self.values.to(device)
        self.device = self.values.device
        self.tickers = torch.as_tensor(np.asarray(tickers, np.int64), device=self.device)
        self.ends = torch.as_tensor(np.asarray(ends, np.int64), device=self.device)
        self.lookback = lookback
        self._offsets = torch.arange(1 - lookback, 1, device=self.device)  # (L,)

    def __len__(self) -> int:
        return len(self.ends)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self), self.lookback, self.values.shape[2])

    def _positions(self, index) -> torch.Tensor:
        if isinstance(index, slice):
            return torch.arange(len(self), device=self.device)[index]
        return torch.as_tensor(np.asarray(index) if isinstance(index, list) else index).to(
            self.device
        )

    def __getitem__(self, index) -> torch.Tensor:
        at = self._positions(index)
        rows = self.ends[at, None] + self._offsets  # (B, L)
        return self.values[rows, self.tickers[at, None]]  # (B, L, F)

    def subset(self, index: np.ndarray) -> WindowSet:
        """The samples ``index``, sharing the array."""
        out = object.__new__(WindowSet)
        out.values, out.device, out.lookback = self.values, self.device, self.lookback
        at = self._positions(index)
        out.tickers, out.ends, out._offsets = self.tickers[at], self.ends[at], self._offsets
        return out

    def numpy(self) -> np.ndarray:
        """All windows as one (S, L, F) array (a copy: for small sets and tests)."""
        return self[:].cpu().numpy()
