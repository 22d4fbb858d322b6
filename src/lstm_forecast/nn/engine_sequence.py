"""A GRU or RNN layer over a whole sequence, as an autograd Function with hand-written BPTT.

(The LSTM family has its own, faster layer: :mod:`.lstm_layer`.)

Forward: the input projection of every step in one matmul, then one ``addmm`` per step for
the recurrent part and the variant's pointwise cell code (:mod:`.engine_cells`). Backward
walks the steps in reverse with one matmul per step (dL/dh_{t-1} = da_t W_hh), then forms
the weight gradients of all steps at once (two large matmuls). Internally everything is
time-major (T, B, ...) so each step's slice is contiguous. This is ``docs/lstm_backprop.md``
in torch; the tests hold it to the NumPy reference at 1e-10.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class RecurrentLayer(torch.autograd.Function):
    """``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, cell, keep_states)``.

    Shapes: x (B, T, I); h0, c0 (B, H); w_ih (G*H, I); w_hh (G*H, H); biases (G*H,);
    ``cell`` a :class:`.engine_cells.TorchCell` (possibly with
    compiled functions). Returns out (B, T, H), h_n, c_n (B, H), and when ``keep_states`` the
    gates (B, T, S, H) and cell states (B, T, H) (empty tensors otherwise).
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, cell, keep_states):
        gru = cell.splits_recurrent
        x_t = x.transpose(0, 1)  # (T, B, I)
        bias = b_ih if gru else b_ih + b_hh  # LSTM/RNN: both biases folded in once
        ax_all = F.linear(x_t, w_ih, bias)  # (T, B, G*H), contiguous
        w_hh_t = w_hh.t()
        h, c = h0, c0
        out = x.new_empty(x.shape[1], x.shape[0], h0.shape[1])  # (T, B, H)
        saved, cells = [], []
        for t, ax in enumerate(ax_all.unbind(0)):
            if gru:
                h, c, s = cell.forward(ax, torch.addmm(b_hh, h, w_hh_t), h, c, None)
            else:
                h, c, s = cell.forward(torch.addmm(ax, h, w_hh_t), None, h, c, None)
            out[t] = h
            saved.append(s)
            cells.append(c)
        ctx.cell, ctx.steps, ctx.cells, ctx.gru = cell, saved, cells, gru
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, out)
        empty = x.new_empty(0)
        states = cell_states = empty
        if keep_states:
            per_step = [torch.stack(cell.gates(s), 1) if cell.gate_names else empty for s in saved]
            states = torch.stack(per_step, 1) if cell.gate_names else empty  # (B, T, S, H)
            cell_states = torch.stack(cells, 1)  # (B, T, H)
        ctx.mark_non_differentiable(states, cell_states)
        return out.transpose(0, 1), h, c, states, cell_states

    @staticmethod
    def backward(ctx, d_out, d_hn, d_cn, _d_states, _d_cells):
        x, h0, c0, w_ih, w_hh, out = ctx.saved_tensors
        cell, gru = ctx.cell, ctx.gru
        steps, batch, hidden = out.shape
        d_out = d_out.transpose(0, 1)  # (T, B, H)
        h_prev = torch.cat([h0.unsqueeze(0), out[:-1]], 0)  # (T, B, H): h_{t-1}
        c_prev = [c0, *ctx.cells[:-1]]
        rows = w_ih.shape[0]
        d_ax_all = out.new_empty(steps, batch, rows)
        d_ah_all = out.new_empty(steps, batch, rows) if gru else d_ax_all
        dh, dc = d_hn, d_cn
        for t in reversed(range(steps)):
            d_ax, d_ah, dh_direct, dc = cell.backward(
                dh + d_out[t], dc, ctx.steps[t], h_prev[t], c_prev[t], None
            )
            d_ax_all[t] = d_ax
            if d_ah is not None:
                d_ah_all[t] = d_ah
            dh = (d_ax if d_ah is None else d_ah) @ w_hh  # (B, H)
            if dh_direct is not None:
                dh = dh + dh_direct
        flat_ax = d_ax_all.reshape(-1, rows)  # (T*B, G*H)
        flat_ah = d_ah_all.reshape(-1, rows)
        dx = (d_ax_all @ w_ih).transpose(0, 1)  # (B, T, I)
        dw_ih = (x.transpose(0, 1).reshape(-1, x.shape[-1]).t() @ flat_ax).t()  # see lstm_layer
        dw_hh = flat_ah.t() @ h_prev.reshape(-1, hidden)
        db_ih, db_hh = flat_ax.sum(0), flat_ah.sum(0)
        return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh, None, None
