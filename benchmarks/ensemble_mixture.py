"""Does combining a seed ensemble's distributions by their moments lose against the mixture?

An ensemble of K distribution heads forecasts, per day, K distributions. The tool combines
them into one of the head's family with the mean, variance (and for a t, the kurtosis) of
their equal-weight mixture (``models.lstm_heads.combine``), so that every score and test
reads one (mean, sd, df). The mixture itself has the density
:math:`\\tfrac1K \\sum_k f_k(y)`. Here both are scored by the log score (minus the log
density of the outcome; lower is better) on the same held-out days: one fit of a K-member
ensemble on the training days, each member opened with ``LSTMForecaster.member(k)``, on the
embedded S&P 500 (trained to 2016, 500 days of 2017-2018 scored) and on GARCH(1,1) series
with Student-t noise (``simulate_volatility("garch_t")``, 4,000 days, the last 500 scored).
Printed: the mean log score of the moment-matched distribution and of the mixture, their
difference with its standard error, the members' own mean log score, and seconds.

    python benchmarks/ensemble_mixture.py [--members 5] [--seeds 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

HEADS = {"t": {"distribution": "t"}, "normal": {"distribution": "normal"},
         "variance": {"target": "variance", "distribution": "t"}}  # fmt: skip


def one_fit(
    series: str, head: str, members: int, days: int = 4000, quick: dict | None = None
) -> dict:
    """One K-member ensemble, fitted once and scored on the last 500 days (``days`` and
    ``quick``, the LSTM's settings, shrink it for the tests)."""
    import torch
    from scipy import special

    from lstm_forecast.data import read_prices
    from lstm_forecast.data.simulate import simulate_volatility
    from lstm_forecast.models import LSTMForecaster
    from lstm_forecast.models.distribution import log_density

    torch.set_num_threads(1)
    if series == "sp500":
        prices = read_prices("sp500")
        split = prices.index.get_loc(prices.loc[:"2016"].index[-1])
    else:
        seed = int(series.rsplit("-", 1)[1])
        prices = simulate_volatility("garch_t", days=days, seed=seed, nu=5.0)[0]
        split = len(prices) - 502  # 500 origins, each with its next day
    tested = min(500, len(prices) - split - 2)
    origins = prices.index[split + 1 : split + 1 + tested]
    start = time.perf_counter()
    settings = {**HEADS[head], "ensemble": members, "seed": 0, **(quick or {})}
    model = LSTMForecaster(**settings).fit(prices.iloc[: split + 1])
    outcome = np.log(prices.iloc[:, 0]).diff().shift(-1).loc[origins].to_numpy()

    def density(forecaster) -> np.ndarray:
        dist = forecaster.predict_distribution(prices, origins)
        return log_density(outcome, *(dist[k].iloc[:, 0].to_numpy() for k in ("mean", "sd", "df")))

    matched = -density(model)
    each = np.array([density(model.member(k)) for k in range(members)])
    mixture = -(special.logsumexp(each, axis=0) - np.log(members))
    difference = matched - mixture
    return {
        "series": series,
        "head": head,
        "days": len(origins),
        "matched": matched.mean(),
        "mixture": mixture.mean(),
        "difference": difference.mean(),
        "se": difference.std(ddof=1) / np.sqrt(len(difference)),
        "members": -each.mean(),
        "seconds": time.perf_counter() - start,
    }


def print_table(rows: list[dict]) -> None:
    print(
        "| series | head | days | moment-matched | mixture | matched - mixture (se) "
        "| members alone | s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['series']} | {r['head']} | {r['days']} | {r['matched']:.4f} | "
            f"{r['mixture']:.4f} | {r['difference']:+.5f} ({r['se']:.5f}) | "
            f"{r['members']:.4f} | {r['seconds']:.0f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=2, help="GARCH series (0..seeds-1)")
    args = parser.parse_args()
    runs = [("sp500", head) for head in HEADS]
    runs += [(f"garch_t-{s}", head) for s in range(args.seeds) for head in ("t", "variance")]
    print_table([one_fit(series, head, args.members) for series, head in runs])


if __name__ == "__main__":
    main()
