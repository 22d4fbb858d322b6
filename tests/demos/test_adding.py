"""The adding problem at T = 100: the LSTM solves it, a vanilla RNN of the same size does not."""

import pytest
import torch

from lstm_forecast.demos.adding import BASELINE_MSE, adding_batch, run_adding


def test_batches_have_two_markers_and_the_right_sum():
    x, y = adding_batch(50, 20, torch.Generator().manual_seed(0))
    assert x.shape == (50, 20, 2) and y.shape == (50, 1)
    assert torch.equal(x[:, :, 1].sum(1), torch.full((50,), 2.0))
    assert torch.allclose((x[:, :, 0] * x[:, :, 1]).sum(1, keepdim=True), y)
    assert (x[:, :10, 1].sum(1) == 1).all()  # one marker in each half


@pytest.mark.slow
def test_lstm_solves_t100_and_rnn_does_not():
    lstm = run_adding("standard", steps=100, iterations=3000, eval_every=500)
    rnn = run_adding("rnn", steps=100, iterations=300, eval_every=100)
    assert lstm.test_mse[-1] < 0.01 and lstm.accuracy > 0.9
    assert rnn.test_mse[-1] > 0.8 * BASELINE_MSE
