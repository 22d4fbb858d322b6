"""The reference recurrent networks in NumPy: written to be read, checked against everything else.

Each variant's cell lives in its own module (:mod:`.standard`, :mod:`.peephole`,
:mod:`.coupled`, :mod:`.gru`, :mod:`.rnn`) as a ``forward``/``backward`` pair;
:mod:`.sequence` stacks cells over time and layers with backpropagation through time;
:mod:`.optim` trains them. The derivation is in ``docs/lstm_backprop.md``.
"""

from .cells import CELLS, Cell, get_cell
from .common import sigmoid, tanh
from .model import ReferenceRNN
from .optim import SGD, Adam
from .sequence import SequenceResult, sequence_backward, sequence_forward

__all__ = [
    "CELLS",
    "SGD",
    "Adam",
    "Cell",
    "ReferenceRNN",
    "SequenceResult",
    "get_cell",
    "sequence_backward",
    "sequence_forward",
    "sigmoid",
    "tanh",
]
