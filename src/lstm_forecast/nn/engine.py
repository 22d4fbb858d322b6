r"""The torch recurrent engine: the reference's numbers, fast, on CPU and GPU.

A stack of ``num_layers`` recurrent layers (Hochreiter & Schmidhuber 1997; peepholes: Gers &
Schmidhuber 2000; coupled gates and the "LSTM: a search space odyssey" comparison: Greff et
al. 2017; GRU: Cho et al. 2014). Equations and weight layout are those of DESIGN.md and
:mod:`lstm_forecast.nn.reference`; parameter names are ``torch.nn.LSTM``'s, so
``engine.load_state_dict(torch_lstm.state_dict())`` works for the standard variant.

Two execution paths:

* ``eager`` (default): ``standard``, ``gru`` and ``rnn`` run on PyTorch's fused kernels (the
  ones behind ``torch.nn.LSTM``/``GRU``/``RNN``: oneDNN on CPU, cuDNN on GPU); ``peephole``
  and ``coupled`` run :class:`.engine_sequence.RecurrentLayer`, whose backward is
  hand-written BPTT.
* ``compiled``: every variant runs :class:`RecurrentLayer` with its pointwise cell code
  compiled by ``torch.compile``; see :mod:`.compile` for the cache and the fallback.

Args:
    input_size: I. hidden_size: H. num_layers: L.
    variant: ``standard``, ``peephole``, ``coupled``, ``gru`` or ``rnn``.
    dropout: dropout on the outputs of every layer but the last (training only).
    path: ``eager`` or ``compiled``. device: ``auto``, ``cpu`` or ``cuda``.
    dtype: ``torch.float32`` (default) or ``torch.float64``.

Shapes: x (B, T, I) batch-first; state ``(h0, c0)`` each (L, B, H) (``c0`` ignored by
gru/rnn) -> output (B, T, H), ``(h_n, c_n)`` each (L, B, H) (``c_n`` is None for gru/rnn).
With ``return_states=True`` a third item, :class:`EngineStates`, holds every step's gates.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .engine_cells import CELLS, LAYOUTS
from .engine_sequence import RecurrentLayer
from .lstm_layer import LSTMLayer

VARIANTS = tuple(LAYOUTS)
PATHS = ("eager", "compiled")
_FUSED = {"standard": "lstm", "gru": "gru", "rnn": "rnn_tanh"}
LSTM_FAMILY = ("standard", "peephole", "coupled")


def _lstm_gate_states(gates: Tensor, variant: str, hidden: int) -> Tensor:
    """(T, B, G*H) activated gates -> (B, T, 4, H) in the order i, f, g, o."""
    blocks = gates.view(gates.shape[0], gates.shape[1], -1, hidden).transpose(0, 1)
    if variant == "coupled":  # f, g, o -> i = 1 - f, f, g, o
        blocks = torch.cat([1 - blocks[:, :, :1], blocks], 2)
    return blocks


@dataclass
class EngineStates:
    """Every step's gates and cell states, for inspection: each tensor (L, B, T, H)."""

    gates: dict[str, Tensor]
    cells: Tensor | None


def device_problem(device: str | torch.device) -> str | None:
    """Why ``device`` cannot be used on this machine, in words; ``None`` when it can."""
    device = torch.device("cpu" if str(device) == "auto" else device)
    if device.type == "cuda" and not torch.cuda.is_available():
        return "CUDA is not available (torch sees no GPU here); use cpu or auto"
    if device.type == "cuda" and (device.index or 0) >= (count := torch.cuda.device_count()):
        return f"torch sees {count} GPU(s), numbered from 0; use cuda:0 or auto"
    return None


def resolve_device(device: str | torch.device) -> torch.device:
    """``auto`` means CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if problem := device_problem(device):
        raise RuntimeError(f"device {str(device)!r} requested but {problem}")
    return torch.device(device)


class RecurrentEngine(nn.Module):
    """Stacked LSTM/GRU/RNN with PyTorch's weight names; see the module docstring."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        variant: str = "standard",
        dropout: float = 0.0,
        path: str = "eager",
        device: str | torch.device = "auto",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        if variant not in LAYOUTS:
            raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(LAYOUTS)}")
        if path not in PATHS:
            raise ValueError(f"unknown path {path!r}; choose one of {', '.join(PATHS)}")
        if min(input_size, hidden_size, num_layers) < 1:
            raise ValueError(
                "input_size, hidden_size and num_layers must be positive, got "
                f"{input_size}, {hidden_size} and {num_layers}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.variant, self.dropout, self.path = variant, dropout, path
        rows = LAYOUTS[variant].rows * hidden_size
        k = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size
            shapes = {
                "weight_ih": (rows, width),
                "weight_hh": (rows, hidden_size),
                "bias_ih": (rows,),
                "bias_hh": (rows,),
            }
            if variant == "peephole":
                shapes.update({f"peephole_{g}": (hidden_size,) for g in "ifo"})
            for name, shape in shapes.items():
                param = nn.Parameter(torch.empty(shape, dtype=dtype).uniform_(-k, k))
                self.register_parameter(f"{name}_l{layer}", param)
        self.to(resolve_device(device))
        self._cell = None  # the TorchCell in use, resolved on first use

    @property
    def device(self) -> torch.device:
        return self.weight_ih_l0.device

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"variant={self.variant!r}, path={self.path!r}, dropout={self.dropout}, "
            f"device={self.device}, dtype={self.weight_ih_l0.dtype}"
        )

    def layer_params(self, layer: int) -> dict[str, Tensor]:
        """The parameters of one layer by short name (``weight_ih``, ..., ``peephole_o``)."""
        suffix = f"_l{layer}"
        return {n[: -len(suffix)]: p for n, p in self.named_parameters() if n.endswith(suffix)}

    def _lstm_functions(self):
        if self.path != "compiled":
            return None
        from .compile import compiled_lstm_functions

        return compiled_lstm_functions()

    def _cell_functions(self):
        if self._cell is None:
            self._cell = CELLS[self.variant]
            if self.path == "compiled":
                from .compile import compiled_cell

                self._cell = compiled_cell(self.variant)
        return self._cell

    def forward(
        self,
        x: Tensor,
        state: tuple[Tensor, Tensor | None] | None = None,
        return_states: bool = False,
    ) -> (
        tuple[Tensor, tuple[Tensor, Tensor | None]]
        | tuple[Tensor, tuple[Tensor, Tensor | None], EngineStates]
    ):
        """Run the stack over ``x`` (B, T, I); see the module docstring for shapes."""
        if x.dim() != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x must be (B, T, {self.input_size}), got {tuple(x.shape)}")
        if x.device != self.device:
            raise ValueError(
                f"x is on {x.device} but the engine is on {self.device}; move one to the other"
            )
        batch, layers, hidden = x.shape[0], self.num_layers, self.hidden_size
        has_c = LAYOUTS[self.variant].has_cell_state
        zeros = x.new_zeros(layers, batch, hidden)
        h0 = zeros if state is None or state[0] is None else state[0]
        c0 = zeros if state is None or state[1] is None or not has_c else state[1]
        fused = _FUSED.get(self.variant)
        if self.path == "eager" and fused and not return_states:
            return self._fused(fused, x, h0, c0, has_c)
        h_n, c_n, gates, cells = [], [], [], []
        out = x
        for layer in range(layers):
            p = self.layer_params(layer)
            args = (
                out,
                h0[layer],
                c0[layer],
                p["weight_ih"],
                p["weight_hh"],
                p["bias_ih"],
                p["bias_hh"],
                p.get("peephole_i"),
                p.get("peephole_f"),
                p.get("peephole_o"),
            )
            if self.variant in LSTM_FAMILY:
                out, h, c, layer_gates, layer_cells = LSTMLayer.apply(
                    *args, self.variant, self._lstm_functions(), return_states
                )
                if return_states:
                    layer_gates = _lstm_gate_states(layer_gates, self.variant, hidden)
                    layer_cells = layer_cells.transpose(0, 1)  # (B, T, H)
            else:
                out, h, c, layer_gates, layer_cells = RecurrentLayer.apply(
                    *args[:7],
                    self._cell_functions(),
                    return_states,  # no peepholes
                )
            h_n.append(h)
            c_n.append(c)
            gates.append(layer_gates)
            cells.append(layer_cells)
            if layer < layers - 1 and self.dropout and self.training:
                out = F.dropout(out, self.dropout, training=True)
        final = (torch.stack(h_n), torch.stack(c_n) if has_c else None)
        if not return_states:
            return out, final
        names = LAYOUTS[self.variant].gate_names
        stacked = torch.stack(gates) if names else None  # (L, B, T, S, H)
        states = EngineStates(
            {n: stacked[:, :, :, k] for k, n in enumerate(names)},
            torch.stack(cells) if has_c else None,
        )
        return out, final, states

    def _fused(self, kernel: str, x: Tensor, h0: Tensor, c0: Tensor, has_c: bool):
        weights = [p for layer in range(self.num_layers) for p in self.layer_params(layer).values()]
        return fused_kernel(
            kernel,
            x,
            h0,
            c0 if has_c else None,
            weights,
            self.num_layers,
            self.dropout,
            self.training,
        )


def fused_kernel(
    kernel: str,
    x: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    weights: list[Tensor],
    num_layers: int,
    dropout: float,
    training: bool,
) -> tuple[Tensor, tuple[Tensor, Tensor | None]]:
    """``torch.nn.LSTM``'s own kernel (``kernel``: lstm, gru, rnn_tanh; cuDNN on a GPU, in true
    float32 forward and backward) on batch-first ``x`` (B, T, I) and flat per-layer
    ``weights`` (w_ih, w_hh, b_ih, b_hh each); ``c0`` is None for the cells without one."""
    args = (weights, True, num_layers, dropout, training, False, True)
    with _full_precision_cudnn(x.is_cuda):
        if c0 is not None:
            out, h_n, c_n = torch._VF.lstm(x, (h0, c0), *args)
        else:
            (out, h_n), c_n = getattr(torch._VF, kernel)(x, h0, *args), None
    if x.is_cuda and out.grad_fn is not None:
        _backward_in_full_precision(out.grad_fn)
    return out, (h_n, c_n)


def _backward_in_full_precision(node) -> None:
    """The cuDNN backward runs later, outside the forward's context: switch TF32 off just
    before this node's backward and restore the setting just after it."""
    rnn, saved = torch.backends.cudnn.rnn, []

    def before(grad_outputs):
        saved.append(rnn.fp32_precision)
        rnn.fp32_precision = "ieee"

    def after(grad_inputs, grad_outputs):
        rnn.fp32_precision = saved.pop()

    node.register_prehook(before)
    node.register_hook(after)


@contextlib.contextmanager
def _full_precision_cudnn(on_cuda: bool):
    """cuDNN's RNN kernels in true float32: TF32 (cuDNN's RNN default) rounds the matrix
    products to 10 mantissa bits, which put the fused float32 LSTM 1e-4 away from the float64
    reference on an H100 where every other path was within 1e-5. Our weights are separate
    parameters, not one flat buffer, so cuDNN copies them per call and warns each time; the
    copy is small at our sizes and the warning is silenced here."""
    if not on_cuda:
        yield
        return
    rnn = torch.backends.cudnn.rnn  # torch >= 2.9: per-backend fp32 precision, "tf32" here
    before = rnn.fp32_precision
    rnn.fp32_precision = "ieee"
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="RNN module weights are not part")
            yield
    finally:
        rnn.fp32_precision = before
