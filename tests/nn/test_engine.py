"""The engine against the NumPy reference and torch.nn, in float64, both paths, all variants."""

import numpy as np
import pytest
import torch

from lstm_forecast.nn.engine import RecurrentEngine, resolve_device
from lstm_forecast.nn.exchange import from_reference, from_torch, to_reference, to_torch
from lstm_forecast.nn.reference import ReferenceRNN

VARIANTS = ["standard", "peephole", "coupled", "gru", "rnn"]
# B, T, I, H, L; 23 steps cross the LSTM layer's backward chunks (10 steps) twice.
SHAPES = [(1, 1, 1, 1, 1), (3, 5, 2, 4, 2), (4, 9, 3, 5, 3), (2, 23, 2, 3, 2)]
TOL = 1e-10


def compare(variant, path, shape, seed=0):
    batch, steps, inputs, hidden, layers = shape
    ref = ReferenceRNN(inputs, hidden, layers, variant, seed=seed)
    engine = from_reference(ref.layers, variant, path=path, device="cpu", dtype=torch.float64)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, steps, inputs))
    h0, c0 = rng.normal(size=(2, layers, batch, hidden))
    has_c = ref.cell.has_cell_state
    d_out, d_h, d_c = (
        rng.normal(size=(batch, steps, hidden)),
        *rng.normal(size=(2, layers, batch, hidden)),
    )

    r = ref.forward(x, h0, c0 if has_c else None)
    grads, dx, dh0, dc0 = ref.backward(r, d_out, d_h, d_c if has_c else None)

    xt, h0t, c0t = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    out, (h_n, c_n) = engine(xt, (h0t, c0t if has_c else None))
    loss = (out * torch.tensor(d_out)).sum() + (h_n * torch.tensor(d_h)).sum()
    if has_c:
        loss = loss + (c_n * torch.tensor(d_c)).sum()
    loss.backward()

    def close(a, b, what):
        err = np.max(np.abs(np.asarray(a) - np.asarray(b))) if np.size(b) else 0.0
        assert err < TOL, f"{variant}/{path} {what}: max abs diff {err:.2e}"

    close(out.detach(), r.output, "output")
    close(h_n.detach(), r.h_n, "h_n")
    if has_c:
        close(c_n.detach(), r.c_n, "c_n")
        close(c0t.grad, dc0, "dc0")
    close(xt.grad, dx, "dx")
    close(h0t.grad, dh0, "dh0")
    names = {
        "W_ih": "weight_ih",
        "W_hh": "weight_hh",
        "b_ih": "bias_ih",
        "b_hh": "bias_hh",
        "p_i": "peephole_i",
        "p_f": "peephole_f",
        "p_o": "peephole_o",
    }
    for layer in range(layers):
        params = engine.layer_params(layer)
        for name, value in grads[layer].items():
            close(params[names[name]].grad, value, f"layer {layer} grad {name}")
    return engine, x


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES)
def test_eager_equals_reference(variant, shape):
    compare(variant, "eager", shape)


@pytest.mark.parametrize("variant", VARIANTS)
def test_states_path_equals_reference(variant):
    engine, x = compare(variant, "eager", SHAPES[1])
    ref = ReferenceRNN(2, 4, 2, variant, seed=0)
    r = ref.forward(x)
    _, _, states = engine(torch.tensor(x), return_states=True)
    for name, value in r.gates.items():
        np.testing.assert_allclose(states.gates[name].detach().numpy(), value, atol=TOL)
    if r.cells is not None:
        np.testing.assert_allclose(states.cells.detach().numpy(), r.cells, atol=TOL)


@pytest.mark.parametrize("kind", ["standard", "gru"])
def test_equals_torch_nn(kind):
    torch.manual_seed(0)
    module = (torch.nn.LSTM if kind == "standard" else torch.nn.GRU)(
        3, 5, 2, batch_first=True, dtype=torch.float64
    )
    engine = from_torch(module)
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    expected, _ = module(x)
    out, _ = engine(x)  # the fused kernel
    torch.testing.assert_close(out, expected, atol=TOL, rtol=0)
    looped, _, _ = engine(x, return_states=True)  # the hand-written recurrence
    torch.testing.assert_close(looped, expected, atol=TOL, rtol=0)
    again = to_torch(engine)
    torch.testing.assert_close(again(x)[0], expected, atol=0, rtol=0)


def test_documented_shapes_and_repr():
    engine = RecurrentEngine(3, 8, 2, "peephole", device="cpu")
    assert engine.weight_ih_l0.shape == (32, 3) and engine.weight_hh_l1.shape == (32, 8)
    assert engine.peephole_o_l1.shape == (8,) and engine.weight_ih_l0.dtype == torch.float32
    assert RecurrentEngine(3, 8, 1, "coupled").weight_ih_l0.shape == (24, 3)
    assert RecurrentEngine(3, 8, 1, "gru").weight_hh_l0.shape == (24, 8)
    out, (h, c), states = engine(torch.randn(5, 7, 3), return_states=True)
    assert out.shape == (5, 7, 8) and h.shape == c.shape == (2, 5, 8)
    assert states.gates["f"].shape == states.cells.shape == (2, 5, 7, 8)
    assert "variant='peephole'" in repr(engine) and "path='eager'" in repr(engine)


def test_round_trip_through_reference():
    engine = RecurrentEngine(2, 3, 2, "peephole", dtype=torch.float64, device="cpu")
    again = from_reference(to_reference(engine), "peephole", dtype=torch.float64, device="cpu")
    for (n, a), (_, b) in zip(engine.state_dict().items(), again.state_dict().items(), strict=True):
        assert torch.equal(a, b), n


def test_errors():
    with pytest.raises(ValueError, match="unknown variant"):
        RecurrentEngine(1, 1, variant="lstm")
    with pytest.raises(ValueError, match="unknown path"):
        RecurrentEngine(1, 1, path="jit")
    with pytest.raises(ValueError, match=r"x must be \(B, T, 2\)"):
        RecurrentEngine(2, 3)(torch.randn(1, 4, 3))
    with pytest.raises(ValueError, match="non-empty list"):
        from_reference([{"W_ih": np.zeros((4, 1))}], "standard")
    good = ReferenceRNN(1, 2, 1, "standard").layers
    with pytest.raises(ValueError, match="expected shape"):
        from_reference(good, "coupled")
    with pytest.raises(ValueError, match="only standard and gru"):
        to_torch(RecurrentEngine(1, 1, variant="coupled"))
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            resolve_device("cuda")


def test_dropout_only_between_layers_and_only_in_training():
    engine = RecurrentEngine(2, 4, 2, "coupled", dropout=0.5, dtype=torch.float64, device="cpu")
    x = torch.randn(3, 5, 2, dtype=torch.float64)
    engine.eval()
    a, _ = engine(x)
    b, _ = engine(x)
    assert torch.equal(a, b)
    engine.train()
    torch.manual_seed(1)
    c, _ = engine(x)
    assert not torch.allclose(a, c)


def _grads(engine, x, loss_of):
    engine.zero_grad()
    loss_of(*engine(x)).backward()
    return {n: p.grad.clone() for n, p in engine.named_parameters()}


@pytest.mark.parametrize("path", ["eager", "compiled"])
@pytest.mark.parametrize("variant", ["standard", "peephole", "coupled"])
def test_losses_through_some_outputs_only(variant, path):
    """Outputs that do not reach the loss get no gradient (None); that must equal zeros."""
    torch.manual_seed(0)
    engine = RecurrentEngine(2, 3, 2, variant, path=path, dtype=torch.float64, device="cpu")
    x = torch.randn(2, 14, 2, dtype=torch.float64)
    cases = {
        "h_n only": lambda out, s: s[0].sum(),
        "c_n only": lambda out, s: s[1].pow(2).sum(),
        "out only": lambda out, s: out.pow(2).sum(),
    }
    everything = lambda out, s: 0 * out.sum() + 0 * s[0].sum() + 0 * s[1].sum()  # noqa: E731
    for name, loss in cases.items():
        with_zeros = _grads(engine, x, lambda out, s, f=loss: f(out, s) + everything(out, s))
        alone = _grads(engine, x, loss)
        for key, value in with_zeros.items():
            torch.testing.assert_close(alone[key], value, atol=TOL, rtol=0, msg=f"{name}: {key}")


@pytest.mark.parametrize("variant", ["standard", "peephole", "coupled"])
def test_second_backward_through_a_retained_graph(variant):
    """The eager backward reuses the gate buffer; a second backward must rebuild it."""
    torch.manual_seed(0)
    engine = RecurrentEngine(2, 3, 1, variant, dtype=torch.float64, device="cpu")
    x = torch.randn(2, 12, 2, dtype=torch.float64)
    once = _grads(engine, x, lambda out, s: out.pow(2).sum())
    engine.zero_grad()
    loss = engine(x)[0].pow(2).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    for name, p in engine.named_parameters():
        torch.testing.assert_close(p.grad, 2 * once[name], atol=TOL, rtol=0, msg=name)


@pytest.mark.parametrize("variant", ["standard", "peephole", "coupled"])
def test_returned_states_survive_backward(variant):
    engine = RecurrentEngine(2, 3, 1, variant, dtype=torch.float64, device="cpu")
    out, _, states = engine(torch.randn(2, 12, 2, dtype=torch.float64), return_states=True)
    before = {n: g.clone() for n, g in states.gates.items()}
    out.sum().backward()
    for name, gate in states.gates.items():
        assert torch.equal(gate, before[name]), name
