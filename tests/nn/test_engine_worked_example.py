"""The seed's Company A/B unit through the engine: same memories, and it learns with Adam."""

import numpy as np
import pytest
import torch

from lstm_forecast.demos.worked_example import COMPANY_A, COMPANY_B, run_unit, seed_unit
from lstm_forecast.nn.engine import RecurrentEngine
from lstm_forecast.nn.exchange import from_reference


@pytest.mark.parametrize("path", ["eager", "compiled"])
def test_engine_gives_the_seeds_memories(path):
    engine = from_reference(seed_unit(), "standard", path=path, dtype=torch.float64, device="cpu")
    x = torch.tensor([COMPANY_A, COMPANY_B], dtype=torch.float64).unsqueeze(-1)  # (2, 4, 1)
    out, (h_n, _), states = engine(x, return_states=True)
    for row, prices in enumerate((COMPANY_A, COMPANY_B)):
        days = run_unit(seed_unit(), prices)
        np.testing.assert_allclose(
            states.cells[0, row, :, 0], [d.long_term for d in days], atol=1e-12
        )
        np.testing.assert_allclose(
            out[row, :, 0].detach(), [d.short_term for d in days], atol=1e-12
        )
        np.testing.assert_allclose(
            states.gates["f"][0, row, :, 0], [d.forget_gate for d in days], atol=1e-12
        )
    assert round(h_n[0, 0, 0].item(), 1) == 0.0 and round(h_n[0, 1, 0].item(), 1) == 1.0


def test_engine_learns_company_a_and_b_with_adam():
    torch.manual_seed(0)
    engine = RecurrentEngine(1, 1, 1, "standard", dtype=torch.float64, device="cpu")
    x = torch.tensor([COMPANY_A, COMPANY_B], dtype=torch.float64).unsqueeze(-1)
    target = torch.tensor([0.0, 1.0], dtype=torch.float64)
    optimiser = torch.optim.Adam(engine.parameters(), lr=0.05)
    for _ in range(1500):
        optimiser.zero_grad()
        _, (h_n, _) = engine(x)
        error = h_n[0, :, 0] - target
        if error.abs().max() < 0.02:
            break
        (error**2).mean().backward()
        optimiser.step()
    final = engine(x)[1][0][0, :, 0].detach()
    assert abs(final[0].item()) < 0.05 and abs(final[1].item() - 1.0) < 0.05
