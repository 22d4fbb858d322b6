r"""What the forecasts would have earned: trading on their sign, net of costs.

At each origin :math:`t` the position for the next day is :math:`w_t = 1` if
:math:`\hat y_t > 0`, else :math:`0` (long/flat); or :math:`w_t = \mathrm{sign}(\hat y_t)`
(long/short, flat on a zero forecast). The daily net
return is :math:`w_t r_{t+1} - c\,|w_t - w_{t-1}|` with :math:`r` the one-day log return
and :math:`c` the cost per unit of turnover (basis points / 10,000). Buy-and-hold is
:math:`w_t = 1` throughout. Figures are annualised with :math:`P` periods a year, 252 trading
days (365 for data that trades on weekends, :func:`~..data.summary.periods_per_year`):

* return :math:`P\,\bar x`, volatility :math:`\sqrt{P}\,s_x`, Sharpe ratio their ratio
  (no risk-free rate);
* maximum drawdown: the largest fall of cumulative wealth :math:`e^{\sum x}` from its peak;
* turnover: mean :math:`|w_t - w_{t-1}|` per day, times :math:`P`.
"""

from __future__ import annotations

import numpy as np

TRADING_DAYS = 252


def strategy_returns(
    forecast: np.ndarray, next_return: np.ndarray, kind: str = "long_flat", cost_bps: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(net daily log returns, positions) of trading on the forecast sign."""
    forecast = np.asarray(forecast, float)
    if kind == "long_flat":
        position = (forecast > 0).astype(float)
    elif kind == "long_short":
        position = np.sign(forecast)  # a zero forecast stays flat
    elif kind == "buy_hold":
        position = np.ones_like(forecast)
    else:
        raise ValueError(f"unknown strategy {kind!r}")
    turnover = np.abs(np.diff(position, prepend=0.0))
    return position * np.asarray(next_return) - cost_bps / 1e4 * turnover, position


def performance(daily: np.ndarray, position: np.ndarray, periods: int = TRADING_DAYS) -> dict:
    """Annualised return and volatility (``periods`` rows a year), Sharpe ratio, maximum
    drawdown, turnover."""
    daily = np.asarray(daily, float)
    volatility = float(np.std(daily, ddof=1) * np.sqrt(periods)) if len(daily) > 1 else 0.0
    annual = float(np.mean(daily) * periods)
    wealth = np.exp(np.cumsum(daily))
    peak = np.maximum.accumulate(np.concatenate([[1.0], wealth]))[1:]
    return {
        "ann_return": annual,
        "ann_volatility": volatility,
        "sharpe": annual / volatility if volatility > 0 else float("nan"),
        "max_drawdown": float(np.max(1 - wealth / peak)) if len(wealth) else 0.0,
        "turnover": float(np.mean(np.abs(np.diff(position, prepend=0.0))) * periods),
    }
