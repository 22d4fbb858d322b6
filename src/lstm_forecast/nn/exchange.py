"""Weights across implementations: engine <-> NumPy reference, engine <-> torch.nn.LSTM/GRU."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .engine import RecurrentEngine

# engine short name -> reference name
NAMES = {
    "weight_ih": "W_ih",
    "weight_hh": "W_hh",
    "bias_ih": "b_ih",
    "bias_hh": "b_hh",
    "peephole_i": "p_i",
    "peephole_f": "p_f",
    "peephole_o": "p_o",
}


def to_reference(engine: RecurrentEngine) -> list[dict[str, np.ndarray]]:
    """The engine's weights as reference parameters (float64 NumPy, one dict per layer)."""
    return [
        {
            NAMES[name]: p.detach().to("cpu", torch.float64).numpy().copy()
            for name, p in engine.layer_params(layer).items()
        }
        for layer in range(engine.num_layers)
    ]


def from_reference(
    layers: list[dict[str, np.ndarray]], variant: str = "standard", **settings
) -> RecurrentEngine:
    """A new engine holding the reference parameters ``layers`` (sizes inferred)."""
    if variant in ("linear-rnn",):
        raise ValueError("the linear RNN exists only in the reference (for the gradient demo)")
    if not layers or not {"W_ih", "W_hh"} <= set(layers[0]):
        raise ValueError(
            "reference layers must be a non-empty list of dicts with W_ih, W_hh, "
            "b_ih, b_hh (and p_i, p_f, p_o for peephole)"
        )
    hidden, inputs = layers[0]["W_hh"].shape[1], layers[0]["W_ih"].shape[1]
    engine = RecurrentEngine(inputs, hidden, len(layers), variant, **settings)
    load_reference(engine, layers)
    return engine


def load_reference(engine: RecurrentEngine, layers: list[dict[str, np.ndarray]]) -> None:
    """Copy reference parameters into an existing engine, checking every shape."""
    if len(layers) != engine.num_layers:
        raise ValueError(f"{len(layers)} reference layers for an engine of {engine.num_layers}")
    with torch.no_grad():
        for layer, params in enumerate(layers):
            for name, p in engine.layer_params(layer).items():
                value = params.get(NAMES[name])
                if value is None or tuple(value.shape) != tuple(p.shape):
                    got = None if value is None else tuple(value.shape)
                    raise ValueError(
                        f"layer {layer} {NAMES[name]}: expected shape {tuple(p.shape)}, got {got}"
                    )
                p.copy_(torch.as_tensor(value))


def from_torch(module: nn.LSTM | nn.GRU, **settings) -> RecurrentEngine:
    """An engine with the weights of a batch-first, unidirectional ``nn.LSTM`` or ``nn.GRU``."""
    if not isinstance(module, nn.LSTM | nn.GRU):
        raise TypeError(f"expected torch.nn.LSTM or torch.nn.GRU, got {type(module).__name__}")
    if module.bidirectional or module.proj_size or not module.bias:
        raise ValueError("only unidirectional modules with biases and no projection are supported")
    variant = "standard" if isinstance(module, nn.LSTM) else "gru"
    settings.setdefault("dtype", module.weight_ih_l0.dtype)
    settings.setdefault("device", module.weight_ih_l0.device)
    engine = RecurrentEngine(
        module.input_size,
        module.hidden_size,
        module.num_layers,
        variant,
        dropout=module.dropout,
        **settings,
    )
    engine.load_state_dict(module.state_dict())
    return engine


def to_torch(engine: RecurrentEngine) -> nn.LSTM | nn.GRU:
    """A batch-first ``nn.LSTM`` (standard) or ``nn.GRU`` (gru) with the engine's weights."""
    kinds = {"standard": nn.LSTM, "gru": nn.GRU}
    if engine.variant not in kinds:
        raise ValueError(f"torch.nn has no {engine.variant!r} layer; only standard and gru map")
    module = kinds[engine.variant](
        engine.input_size,
        engine.hidden_size,
        engine.num_layers,
        batch_first=True,
        dropout=engine.dropout,
        device=engine.device,
        dtype=engine.weight_ih_l0.dtype,
    )
    module.load_state_dict(engine.state_dict())
    return module
