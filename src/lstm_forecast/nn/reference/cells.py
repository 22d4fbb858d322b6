"""The registry of reference cells: one entry per variant, all with the same interface.

``forward(x, h, c, params) -> (h, c, cache)`` and ``backward(dh, dc, cache) -> grads``;
cells without a cell state (``rnn``, ``gru``) take and return ``c = None``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from . import coupled, gru, peephole, rnn, standard
from .common import Params, init_params


@dataclass(frozen=True)
class Cell:
    """A variant: its step functions, gate names and parameter layout."""

    name: str
    forward: Callable
    backward: Callable
    gates: tuple[str, ...]  # row blocks of W_ih / W_hh, in order
    extra_params: tuple[str, ...]  # (H,) vectors beside the four PyTorch-style tensors
    has_cell_state: bool

    @property
    def blocks(self) -> int:
        """How many H-row blocks W_ih has (4 for the LSTM, 3 for coupled/GRU, 1 for RNN)."""
        return max(len(self.gates), 1)

    def init(
        self,
        input_size: int,
        hidden_size: int,
        rng: np.random.Generator,
        dtype: np.dtype | type = np.float64,
    ) -> Params:
        """Fresh parameters with PyTorch's default initialisation."""
        return init_params(input_size, hidden_size, self.blocks, rng, self.extra_params, dtype)


def _cell(module, name: str, has_cell_state: bool, **kwargs) -> Cell:
    fwd = partial(module.forward, **kwargs) if kwargs else module.forward
    return Cell(name, fwd, module.backward, module.GATES, module.EXTRA_PARAMS, has_cell_state)


CELLS: dict[str, Cell] = {
    "standard": _cell(standard, "standard", True),
    "peephole": _cell(peephole, "peephole", True),
    "coupled": _cell(coupled, "coupled", True),
    "gru": _cell(gru, "gru", False),
    "rnn": _cell(rnn, "rnn", False),
    "linear-rnn": _cell(rnn, "linear-rnn", False, linear=True),
}


def get_cell(variant: str) -> Cell:
    """Look a variant up by name, with an error that lists the ones there are."""
    try:
        return CELLS[variant]
    except KeyError:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(CELLS)}") from None
