"""Features: log returns and horizon targets, zero-copy windows, train-only scaling."""

from .returns import horizon_target, log_returns, to_price
from .scaling import StandardScaler
from .windows import sliding_windows

__all__ = ["StandardScaler", "horizon_target", "log_returns", "sliding_windows", "to_price"]
