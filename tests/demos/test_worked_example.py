"""The seed's worked example (002_1ce0cc7f0ec03f85.txt) as tests, with its exact weights."""

import numpy as np
import pytest

from lstm_forecast.demos.worked_example import COMPANY_A, COMPANY_B, run_unit, seed_unit, train_unit
from lstm_forecast.nn.reference import standard


def test_forget_gate_input_for_short_term_one_and_input_one():
    p = seed_unit()[0]
    a_f = p["W_hh"][1, 0] * 1 + p["W_ih"][1, 0] * 1 + p["b_ih"][1] + p["b_hh"][1]
    assert round(a_f, 2) == 5.95


def test_company_a_memories():
    days = run_unit(seed_unit(), COMPANY_A)
    long_term = [d.long_term for d in days]
    assert [round(v, 2) for v in long_term[:2]] == [-0.20, -0.20]
    # Exact arithmetic gives -0.3246; the seed's -0.33 carries 2-decimal memories day to day
    # (checked below), so the exact value is within 0.01 of it.
    assert long_term[2] == pytest.approx(-0.33, abs=0.01)
    assert round(days[0].short_term, 1) == -0.1  # the seed's "-0.1 (rounded)"
    assert round(days[-1].short_term, 1) == 0.0


def test_company_a_day_three_with_the_seeds_rounding():
    p = seed_unit()[0]
    h = c = np.zeros((1, 1))
    for price in COMPANY_A[:3]:
        h, c, _ = standard.forward(np.array([[price]]), h, c, p)
        h, c = np.round(h, 2), np.round(c, 2)
    assert c[0, 0] == -0.33


def test_company_b_memories():
    days = run_unit(seed_unit(), COMPANY_B)
    assert round(days[0].long_term, 2) == 0.50
    assert round(days[0].short_term, 2) == 0.28
    assert round(days[-1].short_term, 1) == 1.0


def test_days_report_every_gate_consistently():
    for d in run_unit(seed_unit(), COMPANY_B):
        assert 0 < d.forget_gate < 1 and 0 < d.input_gate < 1 and 0 < d.output_gate < 1
        assert d.short_term == pytest.approx(d.output_gate * np.tanh(d.long_term), abs=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_training_from_scratch_learns_day_one(seed):
    layers, losses = train_unit(seed=seed)
    assert losses[-1] < losses[0]
    final_a = run_unit(layers, COMPANY_A)[-1].short_term
    final_b = run_unit(layers, COMPANY_B)[-1].short_term
    assert abs(final_a - 0.0) < 0.05 and abs(final_b - 1.0) < 0.05
