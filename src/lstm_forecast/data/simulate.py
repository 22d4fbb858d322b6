"""Simulated prices with a known rule in their returns, and the rule's own forecasts.

Each generator returns ``(prices, oracle)``: a one-column price frame on business days and
the true conditional mean of each day's log return given the past (the forecast of a model
that knows the rule), aligned so that ``oracle[t]`` forecasts the return from ``t`` to
``t + 1``. The out-of-sample R² of the oracle is the most any model can reach; the power
benchmark reports every model's R² as a share of it.

Daily noise has standard deviation ``SIGMA`` (1%, a typical stock). The kinds:

* ``ar1``: :math:`r_t = 0.3\\,r_{t-1} + e_t`, linear (OLS finds it);
* ``threshold``: the sign of yesterday's return switches the coefficient,
  :math:`r_t = a\\,\\mathrm{sign}(r_{t-1})\\,r_{t-1} - c + e_t = a\\,|r_{t-1}| - c + e_t`
  with ``c`` centring it: uncorrelated with any lag, invisible to linear models;
* ``product``: :math:`r_t = b\\,r_{t-1} r_{t-5} / \\sigma + e_t`, also uncorrelated with lags;
* ``event``: on 3% of days a marked shock of :math:`\\pm 4\\sigma` arrives; from 20 to 40 days
  after it the drift is :math:`\\pm 0.5\\sigma` in its direction (long memory: a model must
  remember a day 40 steps back);
* ``null``: a Gaussian random walk, nothing to find;
* ``garch``: GARCH(1,1) noise (:math:`\\omega, \\alpha, \\beta = 10^{-6}\\cdot 0.02, 0.08,
  0.90`), volatility clusters but the mean is zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SIGMA = 0.01
KINDS = ("ar1", "threshold", "product", "event", "null", "garch")
SIGNALS = ("ar1", "threshold", "product", "event")


def simulate(kind: str, days: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """``(prices, oracle)`` for one of :data:`KINDS`; see the module docstring."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    returns, mean = _draw(_RULES[kind], days, seed)[:2]
    dates = pd.bdate_range("2000-01-03", periods=days + 1)
    prices = pd.DataFrame(
        {kind: 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(returns)]))},
        index=pd.DatetimeIndex(dates, name="date"),
    )
    # mean[k] is the forecast of returns[k], the return from dates[k] to dates[k + 1]
    oracle = pd.Series(mean, index=dates[:-1], name=kind)
    return prices, oracle


def _draw(rule, days: int, seed: int) -> tuple[np.ndarray, ...]:
    """The arrays ``rule(noise, rng)`` returns, less the 100 days of burn-in.

    A path that runs away is drawn again. The product kind can: once two returns five days
    apart pass about 2.9 sigma, each drift is larger than the last and the returns overflow
    within days (16 of the first 100 seeds at 4,000 days, none below 24). Such a path is not a
    price series, so it is replaced by the next stream's, ``default_rng([seed, attempt])``;
    every path that stays finite is the one ``default_rng(seed)`` draws."""
    for attempt in range(100):
        rng = np.random.default_rng(seed if attempt == 0 else [seed, attempt])
        noise = rng.normal(0.0, SIGMA, days + 100)
        with np.errstate(over="ignore", invalid="ignore"):
            arrays = rule(noise, rng)
        if all(np.isfinite(a).all() for a in arrays):
            return tuple(a[100:] for a in arrays)
    raise RuntimeError(f"{rule.__name__}: 100 paths of {days} days ran away; use fewer days")


def _ar1(e, rng):
    r, m = np.zeros_like(e), np.zeros_like(e)
    for t in range(1, len(e)):
        m[t] = 0.3 * r[t - 1]
        r[t] = m[t] + e[t]
    return r, m


def _threshold(e, rng, a=0.6):
    # centring constant: E|r| of the stationary process, from a long pilot run
    pilot = np.zeros(200_000)
    shocks = np.random.default_rng(12345).normal(0, SIGMA, len(pilot))
    for t in range(1, len(pilot)):
        pilot[t] = a * abs(pilot[t - 1]) + shocks[t]
    c = a * np.abs(pilot).mean()
    r, m = np.zeros_like(e), np.zeros_like(e)
    for t in range(1, len(e)):
        m[t] = a * abs(r[t - 1]) - c
        r[t] = m[t] + e[t]
    return r, m


def _product(e, rng, b=0.35):
    r, m = np.zeros_like(e), np.zeros_like(e)
    for t in range(5, len(e)):
        m[t] = b * r[t - 1] * r[t - 5] / SIGMA
        r[t] = m[t] + e[t]
    return r, m


# The event kind's rule: shock probability, size and drift (in SIGMA), and the days after it
# that carry the drift. Read when a series is simulated, so a study may change it (the power
# benchmark's --event-jump).
EVENT_RULE = {"p": 0.03, "jump": 4.0, "drift": 0.5, "lags": (20, 40)}


def _event_counted(e, rng):
    """``(returns, mean, count)``: ``count[t]``, the signed number of shocks in the window
    that sets day ``t``'s drift, so that ``mean = drift * SIGMA * count``."""
    p, jump, drift, lags = (EVENT_RULE[k] for k in ("p", "jump", "drift", "lags"))
    marks = np.where(rng.random(len(e)) < p, rng.choice([-1.0, 1.0], len(e)), 0.0)
    count = np.zeros_like(e)
    for t in range(len(e)):
        lo, hi = max(0, t - lags[1]), t - lags[0]
        if hi >= lo:
            count[t] = marks[lo : hi + 1].sum()
    m = drift * SIGMA * count
    r = m + e + jump * SIGMA * marks
    return r, m, count


def _event(e, rng):
    return _event_counted(e, rng)[:2]


def _null(e, rng):
    return e.copy(), np.zeros_like(e)


def _garch(e, rng, alpha=0.08, beta=0.90):
    omega = SIGMA**2 * (1 - alpha - beta)
    z = e / SIGMA
    r, var = np.zeros_like(e), np.full_like(e, SIGMA**2)
    for t in range(1, len(e)):
        var[t] = omega + alpha * r[t - 1] ** 2 + beta * var[t - 1]
        r[t] = np.sqrt(var[t]) * z[t]
    return r, np.zeros_like(e)


_RULES = {
    "ar1": _ar1,
    "threshold": _threshold,
    "product": _product,
    "event": _event,
    "null": _null,
    "garch": _garch,
}


# -- planted inputs: a signal that only an input beyond the ticker's own returns reveals ----

INPUT_KINDS = {
    "leadlag": "market",
    "volume": "ohlc",
    "covariate": "covariates",
    "eventwindow": "covariates",
    "eventsize": "covariates",
    "eventsquare": "covariates",
}


def simulate_inputs(
    kind: str, days: int = 4000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(prices, oracle)`` for one of :data:`INPUT_KINDS`, each revealed only by the feature
    group it maps to; ``oracle`` (dates x tickers) is the rule's forecast of the next return.

    * ``leadlag``: two tickers; B's return is half of A's the day before (A a random walk):
      :math:`r^B_{t+1} = 0.5\\,r^A_t + e_{t+1}`.
    * ``volume``: one ticker with daily bars; on 10% of days the volume is five times its
      usual level, and the next day's return then follows the sign of that day's intraday
      move with a drift of :math:`\\sigma`.
    * ``covariate``: one ticker and a user's series :math:`c`, independent from day to day,
      published with the close: :math:`r_{t+1} = 0.5\\,c_t + e_{t+1}`.
    * ``eventwindow``: the ``event`` kind's series (the same seed, less its first day) and
      the series a user who knows the rule would publish, ``events``: the signed count of
      shocks 20 to 40 days before tomorrow, known 19 days ahead, so that
      :math:`E[r_{t+1}] = 0.5\\,\\sigma\\,\\mathrm{events}_t`.
    * ``eventsize``: the same series with each day's absolute return as a covariate,
      ``size``: no news, only a channel on which a gate can open for a large day of either
      sign.
    * ``eventsquare``: the same series with each day's signed square return
      :math:`r_t |r_t|` as a covariate, ``square``: no news, only the channel that the best
      filter linear in it uses to find about half of the oracle (``power.py --ceiling``).
    """
    from .covariates import attach_covariates
    from .ohlcv import attach

    if kind not in INPUT_KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(INPUT_KINDS)}")
    if kind in ("eventwindow", "eventsize", "eventsquare"):
        series, mean = simulate("event", days, seed)
        prices = series.iloc[1:].set_axis(["X"], axis=1)
        forecast = mean.iloc[1:].reindex(prices.index, fill_value=0.0)
        if kind == "eventwindow":
            count = _draw(_event_counted, days, seed)[2]  # the draws simulate() made
            table = {"events": pd.Series(np.r_[count[1:], 0.0], index=prices.index)}
        else:
            r = np.log(series["event"]).diff().iloc[1:]
            table = {"size": r.abs()} if kind == "eventsize" else {"square": r * r.abs()}
        prices = attach_covariates(prices, pd.DataFrame(table))
        return prices, forecast.to_frame("X")
    rng = np.random.default_rng(seed)
    index = pd.DatetimeIndex(pd.bdate_range("2000-01-03", periods=days), name="date")
    e = rng.normal(0.0, SIGMA, days)
    if kind == "leadlag":
        a = rng.normal(0.0, SIGMA, days)
        mean_b = np.r_[0.0, 0.5 * a[:-1]]
        b = mean_b + e
        prices = pd.DataFrame(
            {"A": 100 * np.exp(np.cumsum(a)), "B": 100 * np.exp(np.cumsum(b))}, index=index
        )
        oracle = pd.DataFrame({"A": 0.0, "B": np.r_[mean_b[1:], 0.0]}, index=index)
        return prices, oracle
    if kind == "covariate":
        c = rng.normal(0.0, SIGMA, days)
        mean = np.r_[0.0, 0.5 * c[:-1]]
        prices = pd.DataFrame({"X": 100 * np.exp(np.cumsum(mean + e))}, index=index)
        prices = attach_covariates(prices, pd.DataFrame({"signal": c}, index=index))
        return prices, pd.DataFrame({"X": np.r_[mean[1:], 0.0]}, index=index)
    shock = rng.random(days) < 0.1
    intraday = rng.normal(0.0, SIGMA / 2, days)
    gap = rng.normal(0.0, SIGMA / 2, days)
    mean = np.r_[0.0, SIGMA * np.sign(intraday[:-1]) * shock[:-1]]
    close = 100 * np.exp(np.cumsum(gap + intraday + mean))
    open_ = close * np.exp(-intraday)
    bars = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "close": close,
            "volume": np.where(shock, 5.0, 1.0) * rng.uniform(0.8, 1.2, days) * 1e6,
        },
        index=index,
    )
    prices = pd.DataFrame({"X": close}, index=index)
    attach(prices, bars)
    return prices, pd.DataFrame({"X": np.r_[mean[1:], 0.0]}, index=index)


# -- volatility: a known conditional variance -----------------------------------------------

VOLATILITY_KINDS = ("garch_t", "constant")


def simulate_volatility(
    kind: str, days: int = 4000, seed: int = 0, nu: float = 5.0
) -> tuple[pd.DataFrame, pd.Series, float]:
    """``(prices, variance, nu)``: returns with Student-t noise (``nu`` degrees of freedom,
    unit variance; ``inf``: Gaussian) and a known conditional variance; ``variance[t]`` is
    the variance of the return from ``t`` to ``t + 1`` given the past (the true model's
    forecast).

    * ``garch_t``: GARCH(1,1), :math:`\\omega = \\sigma^2(1-\\alpha-\\beta)`,
      :math:`\\alpha, \\beta = 0.08, 0.90`, unconditional standard deviation ``SIGMA``;
    * ``constant``: i.i.d., variance ``SIGMA**2``: nothing to forecast but the level.
    """
    if kind not in VOLATILITY_KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(VOLATILITY_KINDS)}")
    rng = np.random.default_rng(seed)
    n = days + 100
    if np.isinf(nu):
        z = rng.standard_normal(n)
    else:
        z = rng.standard_t(nu, n) * np.sqrt((nu - 2) / nu)
    r, var = np.zeros(n), np.full(n, SIGMA**2)
    if kind == "garch_t":
        alpha, beta = 0.08, 0.90
        omega = SIGMA**2 * (1 - alpha - beta)
        for t in range(1, n):
            var[t] = omega + alpha * r[t - 1] ** 2 + beta * var[t - 1]
            r[t] = np.sqrt(var[t]) * z[t]
    else:
        r = SIGMA * z
    r, var = r[100:], var[100:]
    dates = pd.bdate_range("2000-01-03", periods=days + 1)
    prices = pd.DataFrame(
        {kind: 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(r)]))},
        index=pd.DatetimeIndex(dates, name="date"),
    )
    # var[k] is the variance of r[k], the return from dates[k] to dates[k + 1]
    return prices, pd.Series(var, index=dates[:-1], name=kind), nu
