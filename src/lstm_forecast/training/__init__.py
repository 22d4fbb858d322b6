"""Model-agnostic training: the loop, safe files, progress."""

from .files import ModelFileError
from .loop import TrainConfig, TrainingError, TrainResult, train

__all__ = ["ModelFileError", "TrainConfig", "TrainResult", "TrainingError", "train"]
