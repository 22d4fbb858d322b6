r"""The LSTM-family layer (standard, peephole, coupled) with a vectorised BPTT.

Same maths as :mod:`.engine_sequence` and ``docs/lstm_backprop.md``, arranged for speed.

Forward: the input projection of all steps lands in one (T, B, G*H) buffer; each step adds
``h_{t-1} W_hh^T`` to its slice in place and activates the gates in place, so the buffer
ends up holding every gate of every step, with no per-step copies.

Backward: everything in the backward step that does not depend on the incoming gradient
is a function of forward values, so it is computed for all T steps at once:

.. math::
    A_t = \tanh(c_t)\,o_t(1-o_t),\quad B_t = o_t(1-\tanh^2 c_t) + A_t p_o,\quad
    C_t = [\,g_t\,i_t(1-i_t),\; c_{t-1} f_t(1-f_t),\; i_t(1-g_t^2)\,],\quad
    D_t = f_t + C_{t,i}\,p_i + C_{t,f}\,p_f

(:math:`p = 0` without peepholes; the coupled cell has :math:`C_t = [(c_{t-1}-g_t) f_t(1-f_t),
(1-f_t)(1-g_t^2)]`, :math:`D_t = f_t`). The recursion left is a handful of operations a step:

.. math::
    \delta h = \delta h_{t} + \partial L/\partial \mathrm{out}_t,\quad
    \delta c = \delta c_{t} + \delta h\,B_t,\quad
    \delta a_t = [\delta c\,C_t,\ \delta h\,A_t],\quad
    \delta c_{t-1} = \delta c\,D_t,\quad \delta h_{t-1} = \delta a_t W_{hh}
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .engine_cells import tanh_


def _forward_steps(ax, h, c, w_hh_t, variant, peep, out, cells, tanh_cells):
    """Run the recurrence; ``ax`` (T, B, G*H) is overwritten with the activated gates."""
    hid = h.shape[1]
    for t in range(ax.shape[0]):
        a = ax[t].addmm_(h, w_hh_t)  # (B, G*H) pre-activations of step t
        if variant == "coupled":
            f, g, o = a.chunk(3, 1)
            f.sigmoid_()
            tanh_(g)
            o.sigmoid_()
            c = torch.add(g, f * (c - g), out=cells[t])  # f c + (1 - f) g
        else:
            i, f, g, o = a.chunk(4, 1)
            if peep is not None:
                a.view(-1, 4, hid)[:, :2].addcmul_(c.unsqueeze(1), peep[0])  # p_i c, p_f c
            a[:, : 2 * hid].sigmoid_()
            tanh_(g)
            c = torch.addcmul(f * c, i, g, out=cells[t])
            if peep is not None:
                o.addcmul_(c, peep[1])  # p_o c_t
            o.sigmoid_()
        tc = torch.sigmoid(c * 2, out=tanh_cells[t]).mul_(2).sub_(1)
        h = torch.mul(o, tc, out=out[t])
    return h, c


def _coefficients(gates, c_prev, tanh_cells, variant, peep):
    """A (T,B,H), B (T,B,H), C (T,B,K,H), D (T,B,H) of the module docstring."""
    steps, batch, rows = gates.shape
    hid = tanh_cells.shape[2]
    blocks = gates.view(steps, batch, rows // hid, hid)
    o = blocks[:, :, -1]
    A = tanh_cells * o * (1 - o)
    B = o * (1 - tanh_cells * tanh_cells)
    if variant == "coupled":
        f, g = blocks[:, :, 0], blocks[:, :, 1]
        C = torch.stack([(c_prev - g) * f * (1 - f), (1 - f) * (1 - g * g)], 2)
        return A, B, C, f
    i, f, g = blocks[:, :, 0], blocks[:, :, 1], blocks[:, :, 2]
    C = torch.stack([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g)], 2)
    D = f
    if peep is not None:
        B = B + A * peep[2]
        D = f + C[:, :, 0] * peep[0] + C[:, :, 1] * peep[1]
    return A, B, C, D


class LSTMLayer(torch.autograd.Function):
    """``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, p_i, p_f, p_o, variant, fns=None)``.

    ``fns`` is a compiled version of :func:`coefficients` (the ``compiled`` path) or None.

    Shapes: x (B, T, I); h0, c0 (B, H); w_ih (G*H, I); w_hh (G*H, H); biases (G*H,);
    peepholes (H,) or None. Returns out (B, T, H), h_n, c_n (B, H), gates (T, B, G*H) and
    cell states (T, B, H); the last two are for inspection and not differentiable.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, p_i, p_f, p_o, variant, fns=None):
        steps, hid = x.shape[1], h0.shape[1]
        gates = F.linear(x.transpose(0, 1), w_ih, b_ih + b_hh)  # (T, B, G*H)
        # Row 0 of each buffer is the initial state, so h_{t-1} and c_{t-1} of every step are
        # zero-copy views (buffer[:-1]) in backward.
        h_all = x.new_empty(steps + 1, *h0.shape)  # (T+1, B, H)
        c_all = torch.empty_like(h_all)
        h_all[0], c_all[0] = h0, c0
        out, cells = h_all[1:], c_all[1:]
        tanh_cells = torch.empty_like(out)
        peep = None
        if p_i is not None:
            peep = (torch.stack([p_i, p_f]), p_o)  # (2, H) for the i/f blocks, then (H,)
        h, c = _forward_steps(gates, h0, c0, w_hh.t(), variant, peep, out, cells, tanh_cells)
        ctx.variant, ctx.hid, ctx.fns = variant, hid, fns  # fns: compiled coefficients
        ctx.save_for_backward(x, w_ih, w_hh, p_i, p_f, p_o, h_all, c_all, tanh_cells, gates)
        ctx.mark_non_differentiable(gates, cells)
        return out.transpose(0, 1), h.clone(), c.clone(), gates, cells

    @staticmethod
    def backward(ctx, d_out, d_hn, d_cn, _d_gates, _d_cells):
        x, w_ih, w_hh, p_i, p_f, p_o, h_all, c_all, tanh_cells, gates = ctx.saved_tensors
        steps, batch, hid = tanh_cells.shape
        peep = None if p_i is None else (p_i, p_f, p_o)
        c_prev, cells, h_prev = c_all[:-1], c_all[1:], h_all[:-1]  # views, (T, B, H)
        if ctx.fns is None:
            A, B, C, D = _coefficients(gates, c_prev, tanh_cells, ctx.variant, peep)
        else:
            detached = None if peep is None else tuple(p.detach() for p in peep)
            A, B, C, D = ctx.fns(gates, c_prev.detach(), tanh_cells, ctx.variant, detached)
        rows, k = gates.shape[2], C.shape[2]
        d_a = torch.empty_like(gates)  # (T, B, G*H)
        d_blocks = d_a.view(steps, batch, rows // hid, hid)
        d_out = d_out.transpose(0, 1)
        dh, dc = d_hn, d_cn
        for t in reversed(range(steps)):
            dh = dh + d_out[t]
            dc = torch.addcmul(dc, dh, B[t])
            torch.mul(dc.unsqueeze(1), C[t], out=d_blocks[t, :, :k])
            torch.mul(dh, A[t], out=d_blocks[t, :, k])
            dc = dc * D[t]
            dh = d_a[t] @ w_hh
        flat = d_a.view(-1, rows)  # (T*B, G*H)
        dx = (d_a @ w_ih).transpose(0, 1)
        # (x^T da)^T rather than da^T x: the same product, 4x faster with a skinny I on CPU.
        dw_ih = (x.transpose(0, 1).reshape(-1, x.shape[-1]).t() @ flat).t()
        dw_hh = flat.t() @ h_prev.view(-1, hid)
        db = flat.sum(0)
        dp = (None, None, None)
        if peep is not None:
            d_i, d_f, d_o = d_blocks[:, :, 0], d_blocks[:, :, 1], d_blocks[:, :, 3]
            dp = ((d_i * c_prev).sum((0, 1)), (d_f * c_prev).sum((0, 1)), (d_o * cells).sum((0, 1)))
        return dx, dh, dc, dw_ih, dw_hh, db, db, *dp, None, None


__all__ = ["LSTMLayer", "coefficients"]
coefficients = _coefficients
