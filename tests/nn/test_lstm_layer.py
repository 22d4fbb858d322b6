"""The LSTM layer's two forms of the backward coefficients agree."""

import pytest
import torch

from lstm_forecast.nn.lstm_layer import coefficients, coefficients_


@pytest.mark.parametrize("variant", ["standard", "peephole", "coupled"])
def test_in_place_coefficients_equal_the_out_of_place_ones(variant):
    torch.manual_seed(0)
    steps, batch, hid = 5, 3, 4
    rows = (3 if variant == "coupled" else 4) * hid
    gates = torch.rand(steps, batch, rows, dtype=torch.float64)
    c_prev, tanh_cells = torch.randn(2, steps, batch, hid, dtype=torch.float64)
    peep = tuple(torch.randn(hid, dtype=torch.float64) for _ in range(3))
    peep = peep if variant == "peephole" else None
    ca, b, d = (t.clone() for t in coefficients(gates, c_prev, tanh_cells, variant, peep))
    b_, d_ = coefficients_(gates, c_prev, tanh_cells, variant, peep)  # gates becomes [C, A]
    for got, want in ((gates, ca), (b_, b), (d_, d)):
        torch.testing.assert_close(got, want, atol=1e-14, rtol=0)
