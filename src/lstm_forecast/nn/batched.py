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

The same K members are also one standard LSTM of ``K H`` units whose weights are
block-diagonal, member :math:`k`'s gate rows reading only member :math:`k`'s units (and, above
the first layer, only member :math:`k`'s outputs): the gates act unit by unit, so nothing
couples the blocks. ``fused=True`` builds those block weights from the members' parameters
in every forward (autograd carries the gradient back to each member's own blocks; the zeros
between blocks are constants, not parameters) and runs the fused kernel of ``torch.nn.LSTM``
(cuDNN on a GPU) on a shared input. The work of the recurrent product grows K times, but on a
GPU one fused call at these sizes costs little more than one member's (``docs/engine.md``).

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

    def __init__(self, members: list[nn.Module], fused: bool | None = None) -> None:
        super().__init__()
        #: the block-diagonal fused kernel (True), the step loop (False), or None: fused on a
        #: GPU, the step loop on the CPU (where K times the recurrent work costs more)
        self.fused = fused
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
        fused = self.fused if self.fused is not None else x.is_cuda
        if fused and x.dim() == 3:
            return self._block_forward(x)
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

    def _block_forward(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """One fused LSTM of K H units on the block-diagonal weights; x (B, T, I) shared."""
        from .engine import fused_kernel

        k, hidden, b = self.members, self.hidden_size, x.shape[0]
        weights = []
        for layer in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = (getattr(self, f"{n}_l{layer}") for n in NAMES)
            # the first layer's input is shared (every member reads all of it); above it,
            # member k reads only member k's outputs
            w_in = torch.block_diag(*w_ih.unbind(0)) if layer else w_ih.flatten(0, 1)
            blocks = (w_in, torch.block_diag(*w_hh.unbind(0)), b_ih.flatten(), b_hh.flatten())
            weights += [_gate_major(w, k, hidden) for w in blocks]
        h0 = x.new_zeros(self.num_layers, b, k * hidden)
        out, (h_n, c_n) = fused_kernel(
            "lstm", x, h0, h0, weights, self.num_layers, self.dropout, self.training
        )
        out = out.unflatten(2, (k, hidden)).permute(2, 0, 1, 3)  # (K, B, T, H)
        h_n, c_n = (s.unflatten(2, (k, hidden)).transpose(1, 2) for s in (h_n, c_n))
        return out, (h_n, c_n)

    def member_state(self, k: int) -> dict[str, Tensor]:
        """Member ``k``'s parameters under the single engine's names."""
        return {name: p[k] for name, p in self.named_parameters()}


def _gate_major(rows: Tensor, k: int, hidden: int) -> Tensor:
    """Rows (a weight's or a bias's first dimension) ordered member by member (member, gate,
    unit) -> gate by gate (gate, member, unit), the order of ``torch.nn.LSTM``'s K H-unit gate
    blocks."""
    return rows.unflatten(0, (k, 4, hidden)).transpose(0, 1).flatten(0, 2)
