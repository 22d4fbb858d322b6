r"""K independent standard LSTMs computed together: a *models* dimension through the matrix
products, so that an ensemble of K seeds trains as one batched model instead of K in a row.

For member :math:`k`, layer :math:`l` and step :math:`t` (rows i, f, g, o as in
``torch.nn.LSTM``):

.. math::
    a^{(k)}_t = x^{(k)}_t W_{ih}^{(k)\top} + h^{(k)}_{t-1} W_{hh}^{(k)\top} + b_{ih}^{(k)}
    + b_{hh}^{(k)}, \qquad
    c^{(k)}_t = f \odot c^{(k)}_{t-1} + i \odot g, \qquad h^{(k)}_t = o \odot \tanh c^{(k)}_t

with :math:`i, f, o = \sigma(\cdot)` and :math:`g = \tanh(\cdot)` of the four row blocks of
:math:`a`. The input projection of all steps is one ``einsum`` and each step's recurrent
product one ``baddbmm`` over the K members; autograd differentiates it.

Shapes: ``x`` (B, T, I) shared by all members, or (K, B, T, I); output (K, B, T, H);
``h_n``, ``c_n`` (L, K, B, H). Parameters ``weight_ih_l{l}`` (K, 4H, I or H),
``weight_hh_l{l}`` (K, 4H, H), ``bias_ih_l{l}``, ``bias_hh_l{l}`` (K, 4H): member ``k`` holds
exactly the tensors of the ``k``-th engine it was built from.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class BatchedLSTM(nn.Module):
    """Stacked standard LSTMs with a leading models dimension; see the module docstring."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        first = members[0]
        if any(getattr(m, "variant", "standard") != "standard" for m in members):
            raise ValueError("a batched ensemble runs the standard LSTM only (--variant standard)")
        self.members, self.num_layers = len(members), first.num_layers
        self.hidden_size, self.dropout = first.hidden_size, first.dropout
        for layer in range(self.num_layers):
            for name in NAMES:
                stacked = torch.stack(
                    [getattr(m, f"{name}_l{layer}").detach() for m in members]
                ).clone()
                self.register_parameter(f"{name}_l{layer}", nn.Parameter(stacked))

    @property
    def device(self) -> torch.device:
        return self.weight_ih_l0.device

    def forward(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if x.dim() == 3:
            x = x.unsqueeze(0).expand(self.members, -1, -1, -1)
        k, b = x.shape[:2]
        hidden = self.hidden_size
        out, h_n, c_n = x, [], []
        for layer in range(self.num_layers):
            w_ih, w_hh = getattr(self, f"weight_ih_l{layer}"), getattr(self, f"weight_hh_l{layer}")
            bias = getattr(self, f"bias_ih_l{layer}") + getattr(self, f"bias_hh_l{layer}")
            projected = torch.einsum("kbti,kgi->kbtg", out, w_ih) + bias[:, None, None, :]
            h = x.new_zeros(k, b, hidden)
            c = x.new_zeros(k, b, hidden)
            w_t = w_hh.transpose(1, 2)  # (K, H, 4H)
            states = []
            # one unbind, not a slice per step: each slice's backward would fill a zero
            # tensor of the whole projection (quadratic in T)
            for step_in in projected.unbind(2):
                a = torch.baddbmm(step_in, h, w_t)
                i, f, g, o = a.chunk(4, dim=2)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                states.append(h)
            out = torch.stack(states, dim=2)  # (K, B, T, H)
            h_n.append(h)
            c_n.append(c)
            if layer < self.num_layers - 1 and self.dropout and self.training:
                out = F.dropout(out, self.dropout, training=True)
        return out, (torch.stack(h_n), torch.stack(c_n))

    def member_state(self, k: int) -> dict[str, Tensor]:
        """Member ``k``'s parameters under the single engine's names."""
        return {name: p[k] for name, p in self.named_parameters()}
