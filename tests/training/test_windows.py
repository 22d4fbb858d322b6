"""The lazily gathered windows equal the materialised ones, and share the panel's memory."""

import numpy as np
import torch

from lstm_forecast.features import sliding_windows
from lstm_forecast.training.windows import WindowSet


def _panel(T=50, N=3, F=2, seed=0):
    return np.random.default_rng(seed).normal(size=(T, N, F)).astype(np.float32)


def test_batches_equal_materialised_windows():
    x, L = _panel(), 7
    tickers = np.repeat(np.arange(3), 44)
    ends = np.tile(np.arange(L - 1, 50), 3)
    windows = WindowSet(x, tickers, ends, L)
    full = np.concatenate([sliding_windows(x[:, n, :], L) for n in range(3)])
    assert windows.shape == full.shape == (132, L, 2)
    np.testing.assert_array_equal(windows.numpy(), full)
    pick = torch.tensor([5, 0, 131, 60])
    np.testing.assert_array_equal(windows[pick].numpy(), full[[5, 0, 131, 60]])
    np.testing.assert_array_equal(windows[10:20].numpy(), full[10:20])
    sub = windows.subset(np.array([3, 100]))
    np.testing.assert_array_equal(sub[:].numpy(), full[[3, 100]])
    assert len(sub) == 2


def test_shares_the_array():
    x = _panel()
    windows = WindowSet(x, np.zeros(1, int), np.array([10]), 5)
    assert windows.values.data_ptr() == torch.from_numpy(x).data_ptr()  # no copy
    assert windows.subset(np.array([0])).values is windows.values


def test_a_read_only_array_is_read_without_a_warning(recwarn):
    x = _panel()
    x.flags.writeable = False
    WindowSet(x, np.zeros(1, int), np.array([10]), 5)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
