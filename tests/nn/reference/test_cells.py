"""Documented shapes, the activation values from the seed, and the variants' defining identities."""

import numpy as np
import pytest

from lstm_forecast.nn.reference import CELLS, ReferenceRNN, get_cell, sigmoid, tanh


def test_seed_activation_values():
    assert round(float(sigmoid(np.array(10.0))), 5) == 0.99995
    assert round(float(sigmoid(np.array(-5.0))), 2) == 0.01
    assert round(float(tanh(np.array(2.0))), 2) == 0.96
    assert round(float(tanh(np.array(-5.0))), 2) == -1.00


def test_sigmoid_is_finite_and_exact_at_extremes():
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = sigmoid(x)
    assert np.all(np.isfinite(y)) and y[2] == 0.5 and y[-1] == 1.0 and y[0] == 0.0
    np.testing.assert_allclose(sigmoid(x[1:4]), 1 / (1 + np.exp(-x[1:4])), rtol=1e-15)


@pytest.mark.parametrize(
    ("variant", "rows", "extra"),
    [
        ("standard", 4, ()),
        ("peephole", 4, ("p_i", "p_f", "p_o")),
        ("coupled", 3, ()),
        ("gru", 3, ()),
        ("rnn", 1, ()),
    ],
)
def test_documented_parameter_and_output_shapes(variant, rows, extra):
    batch, steps, inputs, hidden, layers = 2, 5, 3, 4, 2
    model = ReferenceRNN(inputs, hidden, layers, variant)
    for layer, params in enumerate(model.layers):
        width = inputs if layer == 0 else hidden
        assert params["W_ih"].shape == (rows * hidden, width)
        assert params["W_hh"].shape == (rows * hidden, hidden)
        assert params["b_ih"].shape == params["b_hh"].shape == (rows * hidden,)
        assert set(params) - {"W_ih", "W_hh", "b_ih", "b_hh"} == set(extra)
        assert all(params[name].shape == (hidden,) for name in extra)
        assert all(p.dtype == np.float64 for p in params.values())
    r = model.forward(np.zeros((batch, steps, inputs)))
    assert r.output.shape == (batch, steps, hidden)
    assert r.h_n.shape == (layers, batch, hidden)
    has_c = get_cell(variant).has_cell_state
    assert (r.c_n.shape == (layers, batch, hidden)) if has_c else r.c_n is None
    for value in r.gates.values():
        assert value.shape == (layers, batch, steps, hidden)


def test_output_is_last_layer_and_final_states_are_last_step():
    rng = np.random.default_rng(0)
    model = ReferenceRNN(2, 3, 2, "standard", seed=3)
    r = model.forward(rng.normal(size=(4, 6, 2)))
    np.testing.assert_array_equal(r.output[:, -1], r.h_n[-1])
    np.testing.assert_array_equal(r.cells[:, :, -1], r.c_n)
    np.testing.assert_allclose(r.output, r.gates["o"][-1] * np.tanh(r.cells[-1]), rtol=1e-14)


def test_coupled_input_gate_is_one_minus_forget():
    r = ReferenceRNN(2, 3, 1, "coupled").forward(np.random.default_rng(1).normal(size=(2, 4, 2)))
    np.testing.assert_allclose(r.gates["i"], 1.0 - r.gates["f"], rtol=0, atol=1e-15)


def test_peephole_with_zero_peepholes_equals_standard():
    standard = ReferenceRNN(2, 3, 2, "standard", seed=5)
    peephole = ReferenceRNN(2, 3, 2, "peephole", seed=5)
    for s, p in zip(standard.layers, peephole.layers, strict=True):
        p.update({k: v.copy() for k, v in s.items()})
        for name in ("p_i", "p_f", "p_o"):
            p[name][:] = 0.0
    x = np.random.default_rng(2).normal(size=(3, 5, 2))
    np.testing.assert_array_equal(standard.forward(x).output, peephole.forward(x).output)


def test_forget_bias_shifts_only_forget_rows():
    base, shifted = ReferenceRNN(1, 2, 1, seed=0), ReferenceRNN(1, 2, 1, seed=0, forget_bias=1.0)
    diff = shifted.layers[0]["b_ih"] - base.layers[0]["b_ih"]
    np.testing.assert_allclose(diff, [0, 0, 1, 1, 0, 0, 0, 0])


def test_bad_input_errors_say_what_is_wrong():
    model = ReferenceRNN(3, 2)
    with pytest.raises(ValueError, match="expects 3"):
        model.forward(np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"\(B, T, I\)"):
        model.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"unknown variant 'lstm2'.*standard"):
        ReferenceRNN(1, 1, variant="lstm2")
    assert set(CELLS) >= {"standard", "peephole", "coupled", "gru", "rnn"}
