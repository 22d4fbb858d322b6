"""One recurrent layer over a whole sequence, as an autograd Function with hand-written BPTT.

Forward: the input projection of every step in one matmul, then one ``addmm`` per step for
the recurrent part and the variant's pointwise cell code (:mod:`.engine_cells`). Backward
walks the steps in reverse with one matmul per step (dL/dh_{t-1} = da_t W_hh), then forms
the weight gradients for all steps at once (two large matmuls). This is
``docs/lstm_backprop.md`` in torch; the tests hold it to the NumPy reference at 1e-10.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class RecurrentLayer(torch.autograd.Function):
    """``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, p_i, p_f, p_o, cell, keep_states)``.

    Shapes: x (B, T, I); h0, c0 (B, H); w_ih (G*H, I); w_hh (G*H, H); biases (G*H,);
    peepholes (H,) or None. Returns out (B, T, H), h_n, c_n (B, H), and when ``keep_states``
    the saved gates (B, T, S, H) and cell states (B, T, H) (empty tensors otherwise).
    ``cell`` is ``(forward, backward, gru)`` from :mod:`.engine_cells`.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, p_i, p_f, p_o, cell, keep_states):
        step, _, gru = cell
        peep = None if p_i is None else (p_i, p_f, p_o)
        if gru:
            ax_all = F.linear(x, w_ih, b_ih)  # (B, T, 3H)
        else:
            ax_all = F.linear(x, w_ih, b_ih + b_hh)  # (B, T, G*H), both biases folded in
        w_hh_t = w_hh.t()
        h, c = h0, c0
        outs, saved, cells = [], [], []
        for ax in ax_all.unbind(1):
            if gru:
                h, c, s = step(ax, torch.addmm(b_hh, h, w_hh_t), h, c, peep)
            else:
                h, c, s = step(torch.addmm(ax, h, w_hh_t), None, h, c, peep)
            outs.append(h)
            saved.append(s)
            cells.append(c)
        out = torch.stack(outs, 1)  # (B, T, H)
        ctx.cell, ctx.steps, ctx.cells = cell, saved, cells
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, p_i, p_f, p_o, out)
        empty = x.new_empty(0)
        states = torch.stack(saved, 1) if keep_states else empty  # (B, T, S, H)
        cell_states = torch.stack(cells, 1) if keep_states else empty  # (B, T, H)
        ctx.mark_non_differentiable(states, cell_states)
        return out, h, c, states, cell_states

    @staticmethod
    def backward(ctx, d_out, d_hn, d_cn, _d_states, _d_cells):
        x, h0, c0, w_ih, w_hh, p_i, p_f, p_o, out = ctx.saved_tensors
        _, step_back, gru = ctx.cell
        peep = None if p_i is None else (p_i, p_f, p_o)
        batch, steps, hidden = out.shape
        h_prev = torch.cat([h0.unsqueeze(1), out[:, :-1]], 1)  # (B, T, H): h_{t-1}
        c_prev = [c0, *ctx.cells[:-1]]
        d_ax_all = out.new_empty(batch, steps, w_ih.shape[0])
        d_ah_all = out.new_empty(batch, steps, w_ih.shape[0]) if gru else d_ax_all
        dh, dc = d_hn, d_cn
        for t in reversed(range(steps)):
            d_ax, d_ah, dh_direct, dc = step_back(
                dh + d_out[:, t], dc, ctx.steps[t], h_prev[:, t], c_prev[t], peep
            )
            d_ax_all[:, t] = d_ax
            if gru:
                d_ah_all[:, t] = d_ah
            dh = (d_ax if d_ah is None else d_ah) @ w_hh  # (B, H)
            if dh_direct is not None:
                dh = dh + dh_direct
        flat_ax = d_ax_all.reshape(-1, d_ax_all.shape[-1])  # (B*T, G*H)
        flat_ah = d_ah_all.reshape(-1, d_ah_all.shape[-1])
        dx = d_ax_all @ w_ih  # (B, T, I)
        dw_ih = flat_ax.t() @ x.reshape(-1, x.shape[-1])
        dw_hh = flat_ah.t() @ h_prev.reshape(-1, hidden)
        db_ih, db_hh = flat_ax.sum(0), flat_ah.sum(0)
        dp = (None, None, None)
        if peep is not None:
            c_before = torch.stack(c_prev, 1)  # (B, T, H)
            c_after = torch.stack(ctx.cells, 1)
            h = hidden
            dp = (
                (d_ax_all[..., :h] * c_before).sum((0, 1)),
                (d_ax_all[..., h : 2 * h] * c_before).sum((0, 1)),
                (d_ax_all[..., 3 * h :] * c_after).sum((0, 1)),
            )
        return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh, *dp, None, None
