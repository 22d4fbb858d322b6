"""On a GPU: the forecaster fits and forecasts on CUDA as it does on the CPU."""

import numpy as np
import pytest
import torch

from lstm_forecast.data.simulate import simulate
from lstm_forecast.models.lstm import LSTMForecaster

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"ensemble": 3, "ensemble_batched": True},
        {"ensemble": 2},
        {"distribution": "t"},
        {"target": "variance"},
    ],
    ids=["one", "batched-ensemble", "ensemble-in-a-row", "t-head", "variance"],
)
def test_cuda_fit_equals_cpu_fit(settings):
    prices, _ = simulate("ar1", 1200, 0)
    origins = prices.index[1000:-1]
    forecasts = []
    for device in ("cpu", "cuda"):
        model = LSTMForecaster(steps=40, eval_every=20, seed=3, device=device, **settings)
        model.fit(prices.iloc[:1000])
        if model.distributional:
            parts = model.predict_distribution(prices, origins)
            forecasts.append(np.hstack([parts[k].to_numpy() for k in ("mean", "sd", "df")]))
        else:
            forecasts.append(model.predict(prices, origins).to_numpy())
    assert not np.isnan(forecasts[1]).any()
    # float32 on two kinds of kernel: the same fit up to rounding
    np.testing.assert_allclose(forecasts[1], forecasts[0], rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("settings", [{}, {"ensemble": 3, "ensemble_batched": True}])
def test_one_seed_gives_the_same_starting_weights_on_every_device(settings):
    # every layer is drawn from the CPU's generator and then moved: CUDA's draws other numbers
    nets = [LSTMForecaster(seed=5, device=d, **settings).new_net() for d in ("cpu", "cuda")]
    cpu, cuda = (dict(net.named_parameters()) for net in nets)
    assert cpu.keys() == cuda.keys() and any("lag_hidden" in name for name in cpu)
    for name, value in cpu.items():
        assert cuda[name].device.type == "cuda"
        torch.testing.assert_close(cuda[name].cpu(), value, rtol=0, atol=0, msg=name)
