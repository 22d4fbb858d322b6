"""On a GPU: the engine in float32 against the float64 reference, within 1e-5."""

import numpy as np
import pytest
import torch

from lstm_forecast.nn.exchange import from_reference
from lstm_forecast.nn.reference import ReferenceRNN

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


@pytest.mark.parametrize("variant", ["standard", "peephole", "coupled", "gru", "rnn"])
@pytest.mark.parametrize("path", ["eager", "compiled"])
def test_cuda_float32_equals_reference(variant, path):
    rng = np.random.default_rng(0)
    ref = ReferenceRNN(3, 16, 2, variant, seed=1)
    engine = from_reference(ref.layers, variant, path=path, device="cuda", dtype=torch.float32)
    x = rng.normal(size=(8, 12, 3))
    d_out = rng.normal(size=(8, 12, 16))
    r = ref.forward(x)
    grads, dx, _, _ = ref.backward(r, d_out)
    xt = torch.tensor(x, dtype=torch.float32, device="cuda", requires_grad=True)
    out, _ = engine(xt)
    (out * torch.tensor(d_out, dtype=torch.float32, device="cuda")).sum().backward()
    np.testing.assert_allclose(out.detach().cpu().numpy(), r.output, atol=1e-5)
    np.testing.assert_allclose(xt.grad.cpu().numpy(), dx, atol=1e-5)
    np.testing.assert_allclose(
        engine.weight_hh_l0.grad.cpu().numpy(),
        grads[0]["W_hh"],
        atol=1e-5 * max(1.0, np.abs(grads[0]["W_hh"]).max()),
    )


def test_auto_device_picks_cuda():
    from lstm_forecast.nn.engine import RecurrentEngine

    assert RecurrentEngine(1, 2).device.type == "cuda"
