"""Walk-forward evaluation: splits, the backtest runner, metrics, tests, trading figures."""

from .backtest import BacktestResult, BacktestSettings, run_backtest
from .splits import Fold, walk_forward_splits
from .summary import metrics_table, strategy_curves

__all__ = [
    "BacktestResult",
    "BacktestSettings",
    "Fold",
    "metrics_table",
    "run_backtest",
    "strategy_curves",
    "walk_forward_splits",
]
