"""The gradient demo's figures: exact powers for the linear RNN, vanishing for tanh."""

import numpy as np

from lstm_forecast.demos.gradients import gradient_by_lag, linear_rnn_gradient, plot_gradients


def test_linear_rnn_gradient_is_exactly_the_power():
    assert linear_rnn_gradient(2.0) == 2.0**50
    assert linear_rnn_gradient(0.5) == 0.5**50
    assert linear_rnn_gradient(1.0) == 1.0


def test_lstm_gradient_reaches_further_back_than_tanh_rnn():
    rnn = gradient_by_lag("rnn", length=60)
    lstm = gradient_by_lag("standard", length=60)
    assert rnn.shape == lstm.shape == (60,)
    # tanh RNN: decays by orders of magnitude; the LSTM keeps far more of it at long lags.
    assert rnn[50] < 1e-10 * rnn[0]
    assert lstm[50] > 1e3 * rnn[50] * (lstm[0] / rnn[0])
    assert np.all(np.isfinite(rnn)) and np.all(np.isfinite(lstm))


def test_plot_is_written(tmp_path):
    path = plot_gradients({"a": np.array([1.0, 0.1, 0.01])}, tmp_path / "sub" / "g.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
