"""Finite-difference checks of every hand-written gradient, for every variant and many shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_forecast.nn.reference import CELLS, ReferenceRNN, get_cell

from .gradcheck import numerical_gradient, relative_error

VARIANTS = sorted(CELLS)
TOLERANCE = 1e-6

shapes = st.fixed_dictionaries(
    {
        "batch": st.integers(1, 3),
        "steps": st.integers(1, 4),
        "inputs": st.integers(1, 3),
        "hidden": st.integers(1, 3),
        "layers": st.integers(1, 2),
        "seed": st.integers(0, 2**16),
    }
)


@pytest.mark.parametrize("variant", VARIANTS)
@settings(max_examples=25, deadline=None)
@given(shape=shapes)
def test_sequence_gradients_match_finite_differences(variant, shape):
    rng = np.random.default_rng(shape["seed"])
    model = ReferenceRNN(
        shape["inputs"], shape["hidden"], shape["layers"], variant, seed=shape["seed"]
    )
    layers, batch, hidden = shape["layers"], shape["batch"], shape["hidden"]
    x = rng.normal(size=(batch, shape["steps"], shape["inputs"]))
    h0 = rng.normal(size=(layers, batch, hidden))
    c0 = rng.normal(size=(layers, batch, hidden)) if model.cell.has_cell_state else None
    # The fake-loss trick: L = sum(out * d_out) + sum(h_n * d_h) + sum(c_n * d_c).
    d_out = rng.normal(size=(batch, shape["steps"], hidden))
    d_h = rng.normal(size=(layers, batch, hidden))
    d_c = rng.normal(size=(layers, batch, hidden)) if c0 is not None else None

    def loss() -> float:
        r = model.forward(x, h0, c0)
        total = np.sum(r.output * d_out) + np.sum(r.h_n * d_h)
        return total + (np.sum(r.c_n * d_c) if d_c is not None else 0.0)

    result = model.forward(x, h0, c0)
    grads, dx, dh0, dc0 = model.backward(result, d_out, d_h, d_c)
    for layer, params in enumerate(model.layers):
        assert set(grads[layer]) == set(params)
        for name, value in params.items():
            err = relative_error(grads[layer][name], numerical_gradient(loss, value))
            assert err < TOLERANCE, f"{variant} layer {layer} {name}: relative error {err:.2e}"
    for name, arr, analytic in [("x", x, dx), ("h0", h0, dh0), ("c0", c0, dc0)]:
        if arr is None:
            assert analytic is None
            continue
        err = relative_error(analytic, numerical_gradient(loss, arr))
        assert err < TOLERANCE, f"{variant} {name}: relative error {err:.2e}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_cell_backward_covers_previous_states(variant):
    cell = get_cell(variant)
    rng = np.random.default_rng(7)
    params = cell.init(3, 2, rng)
    x, h = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    c = rng.normal(size=(4, 2)) if cell.has_cell_state else None
    dh = rng.normal(size=(4, 2))
    dc = rng.normal(size=(4, 2)) if c is not None else None

    def loss() -> float:
        h_new, c_new, _ = cell.forward(x, h, c, params)
        return np.sum(h_new * dh) + (np.sum(c_new * dc) if c is not None else 0.0)

    _, _, cache = cell.forward(x, h, c, params)
    grads = cell.backward(dh, dc, cache)
    for name, arr in [("x", x), ("h", h), ("c", c), *params.items()]:
        if arr is None:
            assert "c" not in grads
            continue
        err = relative_error(grads[name], numerical_gradient(loss, arr))
        assert err < TOLERANCE, f"{variant} {name}: relative error {err:.2e}"


def test_the_check_catches_slightly_wrong_gradients():
    """A gradient off by 0.01% (or by 1e-8 where it is tiny) must fail the check."""
    cell = get_cell("peephole")
    rng = np.random.default_rng(3)
    params = cell.init(3, 2, rng)
    x = rng.normal(size=(4, 3))
    h, c, dh, dc = rng.normal(size=(4, 4, 2))

    def loss() -> float:
        h_new, c_new, _ = cell.forward(x, h, c, params)
        return np.sum(h_new * dh) + np.sum(c_new * dc)

    grads = cell.backward(dh, dc, cell.forward(x, h, c, params)[2])
    for name, arr in params.items():
        numeric = numerical_gradient(loss, arr)
        assert relative_error(grads[name], numeric) < TOLERANCE
        assert relative_error(grads[name] * (1 + 1e-4), numeric) > TOLERANCE, name
    tiny = np.full((2, 2), 3e-7)  # a tiny true gradient, reported 1e-8 off
    assert relative_error(tiny + 1e-8, tiny) > TOLERANCE
    assert relative_error(tiny + 1e-12, tiny) < TOLERANCE  # rounding-noise level passes
