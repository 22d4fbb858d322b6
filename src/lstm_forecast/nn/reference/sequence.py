r"""A stacked recurrent layer over batches, with backpropagation through time (BPTT).

For layer :math:`l = 1..L` and step :math:`t = 1..T` the chosen cell computes
:math:`(h^l_t, c^l_t) = \mathrm{cell}(h^{l-1}_t, h^l_{t-1}, c^l_{t-1})` with
:math:`h^0_t = x_t`. The output is the top layer's hidden states :math:`h^L_{1..T}`.

Backward walks the steps in reverse: at each step the gradient arriving at :math:`h^l_t`
is the sum of what the layer above sends down (or :math:`\partial L / \partial \text{out}_t`
for the top layer) and what step :math:`t+1` sends back; the cell state only receives the
latter. Parameter gradients are summed over steps because the weights are shared.

Shapes: x: (B, T, I); h0, c0: (L, B, H); output: (B, T, H); h_n, c_n: (L, B, H);
gates[name], cells: (L, B, T, H).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cells import get_cell
from .common import Grads, Params


@dataclass
class SequenceResult:
    """Everything a forward pass produced, including what backward needs."""

    output: np.ndarray  # (B, T, H), top layer's hidden states
    h_n: np.ndarray  # (L, B, H)
    c_n: np.ndarray | None  # (L, B, H); None for rnn/gru
    gates: dict[str, np.ndarray]  # name -> (L, B, T, H)
    cells: np.ndarray | None  # (L, B, T, H) cell state after every step
    variant: str
    caches: list[list[dict]] = field(repr=False, default_factory=list)  # [layer][step]


def _check_input(x: np.ndarray, layers: list[Params]) -> None:
    if x.ndim != 3:
        raise ValueError(f"x must have shape (B, T, I), got {x.shape}")
    expected = layers[0]["W_ih"].shape[1]
    if x.shape[2] != expected:
        raise ValueError(f"x has {x.shape[2]} features, the first layer expects {expected}")
    if x.shape[1] == 0:
        raise ValueError("x has no time steps (T = 0)")


def sequence_forward(
    x: np.ndarray,
    layers: list[Params],
    variant: str = "standard",
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
) -> SequenceResult:
    """Run ``len(layers)`` stacked cells over ``x`` (B, T, I); zero initial states by default."""
    cell = get_cell(variant)
    _check_input(x, layers)
    batch, steps, _ = x.shape
    num_layers, hidden = len(layers), layers[0]["W_hh"].shape[1]
    zeros = np.zeros((num_layers, batch, hidden), dtype=x.dtype)
    h0 = zeros if h0 is None else h0
    c0 = (zeros if c0 is None else c0) if cell.has_cell_state else None
    h_n = np.empty_like(zeros)
    c_n = np.empty_like(zeros) if cell.has_cell_state else None
    gates = {g: np.empty((num_layers, batch, steps, hidden), x.dtype) for g in _gate_names(cell)}
    cells = np.empty((num_layers, batch, steps, hidden), x.dtype) if cell.has_cell_state else None
    caches: list[list[dict]] = []
    layer_in = x
    for layer, params in enumerate(layers):
        h, c = h0[layer], (c0[layer] if c0 is not None else None)
        outputs, layer_caches = [], []
        for t in range(steps):
            h, c, cache = cell.forward(layer_in[:, t], h, c, params)
            outputs.append(h)
            layer_caches.append(cache)
            for name, value in cache["gates"].items():
                gates[name][layer, :, t] = value
            if cells is not None:
                cells[layer, :, t] = c
        h_n[layer] = h
        if c_n is not None:
            c_n[layer] = c
        caches.append(layer_caches)
        layer_in = np.stack(outputs, axis=1)  # (B, T, H)
    return SequenceResult(layer_in, h_n, c_n, gates, cells, variant, caches)


def _gate_names(cell) -> tuple[str, ...]:
    # The coupled cell reports its derived input gate i = 1 - f too.
    return ("i", *cell.gates) if cell.name == "coupled" else cell.gates


def sequence_backward(
    result: SequenceResult,
    d_output: np.ndarray,
    d_h_n: np.ndarray | None = None,
    d_c_n: np.ndarray | None = None,
) -> tuple[list[Grads], np.ndarray, np.ndarray, np.ndarray | None]:
    """Backpropagation through time.

    Args:
        result: what :func:`sequence_forward` returned.
        d_output: dL/d output, (B, T, H).
        d_h_n, d_c_n: dL/d final states, (L, B, H); zero when omitted.

    Returns:
        ``(layer_grads, dx, dh0, dc0)``: one dict of parameter gradients per layer,
        dL/dx (B, T, I), dL/dh0 (L, B, H) and dL/dc0 (L, B, H) (``None`` without a cell state).
    """
    cell = get_cell(result.variant)
    num_layers, batch, _ = result.h_n.shape
    steps = d_output.shape[1]
    dh0 = np.zeros_like(result.h_n)
    dc0 = np.zeros_like(result.h_n) if cell.has_cell_state else None
    layer_grads: list[Grads] = [None] * num_layers  # type: ignore[list-item]
    d_from_above = d_output
    for layer in reversed(range(num_layers)):
        caches = result.caches[layer]
        dh = np.zeros_like(dh0[layer]) if d_h_n is None else d_h_n[layer].copy()
        dc = None
        if cell.has_cell_state:
            dc = np.zeros_like(dh0[layer]) if d_c_n is None else d_c_n[layer].copy()
        d_in = None
        sums: Grads = {}
        for t in reversed(range(steps)):
            g = cell.backward(dh + d_from_above[:, t], dc, caches[t])
            dh, dc = g.pop("h"), g.pop("c", None)
            dx_t = g.pop("x")
            if d_in is None:
                d_in = np.empty((batch, steps, dx_t.shape[1]), dtype=dx_t.dtype)
            d_in[:, t] = dx_t
            for name, value in g.items():
                sums[name] = sums[name] + value if name in sums else value
        layer_grads[layer] = sums
        dh0[layer] = dh
        if dc0 is not None:
            dc0[layer] = dc
        d_from_above = d_in
    return layer_grads, d_from_above, dh0, dc0
