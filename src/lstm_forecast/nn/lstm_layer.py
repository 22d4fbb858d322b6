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

Memory and cache: in the eager path the gate buffer is reused twice in backward.
:func:`coefficients_` overwrites the gates with C (blocks ``0..K-1``) and A (the last block),
and the recursion multiplies those in place into :math:`\delta a`. This is done chunk by
chunk (``CHUNK`` steps, last chunk first), so a chunk's coefficients are still in cache when
its steps use them and the temporaries stay small (fresh multi-megabyte buffers cost page
faults on every call). On 2 CPU cores, at (B, T, I, H) = (256, 60, 8, 128), this took the
peephole variant from 1.4-1.5x to 1.1-1.2x the time of ``torch.nn.LSTM``.
A second backward through the same graph (``retain_graph=True``) finds the buffer spent
and recomputes the forward first. The ``compiled`` path computes all coefficients in one
fused kernel into a new buffer instead.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .engine_cells import Peepholes, tanh_

CHUNK = 10  # steps whose backward coefficients are computed together


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


def _run(x, h0, c0, w_ih, w_hh, bias, peep, variant):
    """Forward pass: gates (T, B, G*H), xh (T+1, B, I+H+1), c_all (T+1, B, H), tanh(c).

    Row t of ``xh`` is ``[x_t, h_{t-1}, 1]`` (row T holds h_T), so that backward gets
    dW_ih, dW_hh and the bias gradient from one matrix product, and h_{t-1} of every step
    is a zero-copy view. Row 0 of ``c_all`` is ``c0`` for the same reason.
    """
    batch, steps, inputs = x.shape
    hid = h0.shape[1]
    xh = x.new_empty(steps + 1, batch, inputs + hid + 1)
    xh[:-1, :, :inputs] = x.transpose(0, 1)  # row T's x part is never read
    xh[:, :, -1] = 1
    hs = xh[:, :, inputs : inputs + hid]  # (T+1, B, H)
    hs[0] = h0
    rows_x = xh[:-1].view(-1, inputs + hid + 1)[:, :inputs]  # (T*B, I), strided, no copy
    gates = torch.addmm(bias, rows_x, w_ih.t()).view(steps, batch, -1)  # (T, B, G*H)
    c_all = x.new_empty(steps + 1, batch, hid)
    c_all[0] = c0
    tanh_cells = x.new_empty(steps, batch, hid)
    pair = None if peep is None else (torch.stack(peep[:2]), peep[2])  # (2, H) for i and f
    _forward_steps(gates, hs[0], c0, w_hh.t(), variant, pair, hs[1:], c_all[1:], tanh_cells)
    return gates, xh, c_all, tanh_cells


def coefficients_(
    gates: Tensor, c_prev: Tensor, tanh_cells: Tensor, variant: str, peep: Peepholes
) -> tuple[Tensor, Tensor]:
    """Turn the gates (T, B, G*H) into [C, A] in place; return B and D, each (T, B, H).

    The symbols are those of the module docstring; ``gates.view(T, B, G, H)[:, :, :G-1]``
    holds C afterwards and ``[:, :, G-1]`` holds A.
    """
    steps, batch, rows = gates.shape
    hid = tanh_cells.shape[2]
    blocks = gates.view(steps, batch, rows // hid, hid)
    o = blocks[:, :, -1]
    B = torch.mul(tanh_cells, tanh_cells).neg_().add_(1).mul_(o)  # o (1 - tanh^2 c)
    o.addcmul_(o, o, value=-1).mul_(tanh_cells)  # A = tanh(c) o (1 - o)
    if variant == "coupled":
        f, g = blocks[:, :, 0], blocks[:, :, 1]
        D = f.clone()
        f.addcmul_(f, f, value=-1).mul_(c_prev - g)  # (c_prev - g) f (1 - f)
        g.mul_(g).neg_().add_(1).addcmul_(g, D, value=-1)  # (1 - g^2)(1 - f)
        return B, D
    i, f, g = blocks[:, :, 0], blocks[:, :, 1], blocks[:, :, 2]
    D = f.clone()
    f.addcmul_(f, f, value=-1).mul_(c_prev)  # c_prev f (1 - f)
    ig = i * g
    g.mul_(ig).neg_().add_(i)  # i - i g^2 = i (1 - g^2)
    i.mul_(ig).neg_().add_(ig)  # i g - i^2 g = g i (1 - i)
    if peep is not None:
        B.addcmul_(o, peep[2])
        D.addcmul_(i, peep[0]).addcmul_(f, peep[1])
    return B, D


def coefficients(
    gates: Tensor, c_prev: Tensor, tanh_cells: Tensor, variant: str, peep: Peepholes
) -> tuple[Tensor, Tensor, Tensor]:
    """The same as :func:`coefficients_` without touching ``gates``: returns ([C, A], B, D).

    Written out of place because ``torch.compile`` fuses this form into one fast kernel,
    while the in-place form compiles into slow code. This is what the ``compiled`` path runs.
    """
    steps, batch, rows = gates.shape
    hid = tanh_cells.shape[2]
    blocks = gates.view(steps, batch, rows // hid, hid)
    o = blocks[:, :, -1]
    A = tanh_cells * o * (1 - o)
    B = o * (1 - tanh_cells * tanh_cells)
    if variant == "coupled":
        f, g = blocks[:, :, 0], blocks[:, :, 1]
        C = [(c_prev - g) * f * (1 - f), (1 - f) * (1 - g * g)]
        D = f
    else:
        i, f, g = blocks[:, :, 0], blocks[:, :, 1], blocks[:, :, 2]
        C = [g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g)]
        D = f
        if peep is not None:
            B = B + A * peep[2]
            D = f + C[0] * peep[0] + C[1] * peep[1]
    return torch.stack([*C, A], 2).view(steps, batch, rows), B, D


class LSTMLayer(torch.autograd.Function):
    """``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, p_i, p_f, p_o, variant, fns, keep_states)``.

    ``fns`` is a compiled :func:`coefficients` (the ``compiled`` path) or None (``eager``:
    :func:`coefficients_`, chunk by chunk).

    Shapes: x (B, T, I); h0, c0 (B, H); w_ih (G*H, I); w_hh (G*H, H); biases (G*H,);
    peepholes (H,) or None. Returns out (B, T, H), h_n, c_n (B, H), and, with
    ``keep_states``, the gates (T, B, G*H) and cell states (T, B, H) for inspection (not
    differentiable; None otherwise).
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, p_i, p_f, p_o, variant, fns, keep_states):
        peep = None if p_i is None else (p_i, p_f, p_o)
        gates, xh, c_all, tanh_cells = _run(x, h0, c0, w_ih, w_hh, b_ih + b_hh, peep, variant)
        ctx.variant, ctx.fns = variant, fns
        ctx.save_for_backward(w_ih, w_hh, b_ih, b_hh, p_i, p_f, p_o, xh, c_all, tanh_cells)
        ctx.gates = gates  # overwritten by backward, so kept outside autograd's version checks
        ctx.set_materialize_grads(False)
        states = (None, None)
        if keep_states:
            states = (gates.clone(), c_all[1:])
            ctx.mark_non_differentiable(*states)
        out = xh[1:, :, x.shape[2] : -1]  # (T, B, H)
        return out.transpose(0, 1), out[-1].clone(), c_all[-1].clone(), *states

    @staticmethod
    def backward(ctx, d_out, d_hn, d_cn, _d_gates, _d_cells):
        w_ih, w_hh, b_ih, b_hh, p_i, p_f, p_o, xh, c_all, tanh_cells = ctx.saved_tensors
        steps, batch, hid = tanh_cells.shape
        inputs = xh.shape[2] - hid - 1
        h_all = xh[:, :, inputs:-1]  # (T+1, B, H)
        peep = None if p_i is None else (p_i, p_f, p_o)
        gates, ctx.gates = ctx.gates, None  # eager spends the buffer; either way, free it soon
        if gates is None:  # a second backward (retain_graph=True): rebuild the gates
            x = xh[:-1, :, :inputs].transpose(0, 1)
            gates, _, _, _ = _run(x, h_all[0], c_all[0], w_ih, w_hh, b_ih + b_hh, peep, ctx.variant)
        c_prev, cells = c_all[:-1], c_all[1:]  # views, (T, B, H)
        detached = None if peep is None else tuple(p.detach() for p in peep)
        if ctx.fns is None:  # eager: the gate buffer becomes [C, A], chunk by chunk
            d_a, chunk = gates, CHUNK

            def coefficients_of(span):
                c_span = c_prev[span].detach()
                return coefficients_(gates[span], c_span, tanh_cells[span], ctx.variant, detached)

        else:  # compiled: [C, A] in a new buffer, all steps in one fused kernel
            d_a, B_all, D_all = ctx.fns(gates, c_prev.detach(), tanh_cells, ctx.variant, detached)
            chunk = steps

            def coefficients_of(span):
                return B_all[span], D_all[span]

        rows = gates.shape[2]
        blocks = d_a.view(steps, batch, rows // hid, hid)  # [C, A], then the gradient
        k = blocks.shape[2] - 1
        zero = h_all.new_zeros(batch, hid)
        dh = zero if d_hn is None else d_hn
        dc = zero if d_cn is None else d_cn
        if d_out is not None:
            d_out = d_out.transpose(0, 1)
            dh = dh + d_out[-1]
        dp = [zero.new_zeros(hid) for _ in range(3)] if peep is not None else None
        # Chunks of steps, last first: the coefficients of a chunk are computed just before its
        # steps use them, so they are still in cache, and temporaries stay small.
        for stop in range(steps, 0, -chunk):
            span = slice(max(stop - chunk, 0), stop)
            B, D = coefficients_of(span)
            C, A = blocks[span, :, :k], blocks[span, :, k]
            for t in reversed(range(stop - span.start)):
                step = span.start + t  # dh includes dL/d out_step here
                dc = torch.addcmul(dc, dh, B[t])
                C[t].mul_(dc.unsqueeze(1))
                A[t].mul_(dh)
                dc = dc * D[t]
                if d_out is not None and step > 0:  # dh_{t-1} = dL/d out_{t-1} + d_a W_hh
                    dh = torch.addmm(d_out[step - 1], d_a[step], w_hh)
                else:
                    dh = d_a[step] @ w_hh
            if dp is not None:
                d_blk = blocks[span]
                dp[0].add_((d_blk[:, :, 0] * c_prev[span]).sum((0, 1)))
                dp[1].add_((d_blk[:, :, 1] * c_prev[span]).sum((0, 1)))
                dp[2].add_((d_blk[:, :, 3] * cells[span]).sum((0, 1)))
        # d_a (T, B, G*H) now holds the pre-activation gradients of every step.
        flat = d_a.view(-1, rows)  # (T*B, G*H)
        dx = (d_a @ w_ih).transpose(0, 1) if ctx.needs_input_grad[0] else None
        # One product for [dW_ih, dW_hh, db]; (xh^T da)^T rather than da^T xh, the same
        # product, is faster on CPU for these shapes (4x when I is small and apart).
        dw = (xh[:-1].view(-1, xh.shape[2]).t() @ flat).t()  # (G*H, I+H+1)
        dw_ih, dw_hh, db = dw[:, :inputs], dw[:, inputs:-1], dw[:, -1]
        dp = (None, None, None) if dp is None else dp
        return dx, dh, dc, dw_ih, dw_hh, db, db, *dp, None, None, None


__all__ = ["LSTMLayer", "coefficients", "coefficients_"]
