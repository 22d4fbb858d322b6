r"""Pointwise step code of the torch engine, one forward/backward pair per variant.

The matrix products live in :mod:`.engine_sequence`; these functions do everything between
them, gate by gate, as in ``docs/lstm_backprop.md``. Inputs are the two projections of a step,
``ax = x_t W_ih^T + b`` and ``ah = h_{t-1} W_hh^T (+ b_hh)``, each (B, G*H); for the LSTM
variants the engine folds both biases into ``ax`` and only the sum matters.

``forward(ax, ah, h, c, peep) -> (h_new, c_new, saved)`` and
``backward(dh, dc, saved, h, c, peep) -> (d_ax, d_ah, dh_direct, dc_prev)``, ``ah`` is
``None`` for every variant but the GRU,, where
``dh_direct`` is the part of dL/dh_{t-1} that does not go through ``W_hh`` (GRU only) and
``d_ah`` is ``None`` when it equals ``d_ax``. ``saved`` is a (B, S, H) tensor whose first
slots are the gates in the variant's documented order.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _split(a: Tensor, parts: int) -> list[Tensor]:
    return list(a.chunk(parts, dim=1))


def _pre(ax: Tensor, ah: Tensor | None) -> Tensor:
    # LSTM variants get the whole pre-activation in ax (ah is None): one addmm per step.
    return ax if ah is None else ax + ah


def standard_forward(ax, ah, h, c, peep):
    i, f, g, o = _split(_pre(ax, ah), 4)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_new = f * c + i * g
    tc = torch.tanh(c_new)
    return o * tc, c_new, torch.stack([i, f, g, o, tc], dim=1)  # saved (B, 5, H)


def standard_backward(dh, dc, saved, h, c, peep):
    i, f, g, o, tc = saved.unbind(1)
    dct = dc + dh * o * (1 - tc * tc)
    d_o = dh * tc * o * (1 - o)
    da = torch.cat([dct * g * i * (1 - i), dct * c * f * (1 - f), dct * i * (1 - g * g), d_o], 1)
    return da, None, None, dct * f


def peephole_forward(ax, ah, h, c, peep):
    p_i, p_f, p_o = peep
    i, f, g, o = _split(_pre(ax, ah), 4)
    i, f, g = torch.sigmoid(i + p_i * c), torch.sigmoid(f + p_f * c), torch.tanh(g)
    c_new = f * c + i * g
    o = torch.sigmoid(o + p_o * c_new)
    tc = torch.tanh(c_new)
    return o * tc, c_new, torch.stack([i, f, g, o, tc], dim=1)


def peephole_backward(dh, dc, saved, h, c, peep):
    p_i, p_f, p_o = peep
    i, f, g, o, tc = saved.unbind(1)
    d_o = dh * tc * o * (1 - o)
    dct = dc + dh * o * (1 - tc * tc) + d_o * p_o
    d_i, d_f = dct * g * i * (1 - i), dct * c * f * (1 - f)
    da = torch.cat([d_i, d_f, dct * i * (1 - g * g), d_o], 1)
    return da, None, None, dct * f + d_i * p_i + d_f * p_f


def coupled_forward(ax, ah, h, c, peep):
    f, g, o = _split(_pre(ax, ah), 3)
    f, g, o = torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    i = 1 - f
    c_new = f * c + i * g
    tc = torch.tanh(c_new)
    return o * tc, c_new, torch.stack([i, f, g, o, tc], dim=1)


def coupled_backward(dh, dc, saved, h, c, peep):
    _, f, g, o, tc = saved.unbind(1)
    dct = dc + dh * o * (1 - tc * tc)
    d_o = dh * tc * o * (1 - o)
    da = torch.cat([dct * (c - g) * f * (1 - f), dct * (1 - f) * (1 - g * g), d_o], 1)
    return da, None, None, dct * f


def gru_forward(ax, ah, h, c, peep):
    x_r, x_z, x_n = _split(ax, 3)
    h_r, h_z, h_n = _split(ah, 3)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h, c, torch.stack([r, z, n, h_n], dim=1)


def gru_backward(dh, dc, saved, h, c, peep):
    r, z, n, h_n = saved.unbind(1)
    d_an = dh * (1 - z) * (1 - n * n)
    d_az = dh * (h - n) * z * (1 - z)
    d_ar = d_an * h_n * r * (1 - r)
    return torch.cat([d_ar, d_az, d_an], 1), torch.cat([d_ar, d_az, d_an * r], 1), dh * z, dc


def rnn_forward(ax, ah, h, c, peep):
    h_new = torch.tanh(_pre(ax, ah))
    return h_new, c, h_new.unsqueeze(1)


def rnn_backward(dh, dc, saved, h, c, peep):
    h_new = saved[:, 0]
    return dh * (1 - h_new * h_new), None, None, dc


# name: (forward, backward, gate rows G, gate names in `saved`, has a cell state)
CELLS = {
    "standard": (standard_forward, standard_backward, 4, ("i", "f", "g", "o"), True),
    "peephole": (peephole_forward, peephole_backward, 4, ("i", "f", "g", "o"), True),
    "coupled": (coupled_forward, coupled_backward, 3, ("i", "f", "g", "o"), True),
    "gru": (gru_forward, gru_backward, 3, ("r", "z", "n"), False),
    "rnn": (rnn_forward, rnn_backward, 1, (), False),
}
