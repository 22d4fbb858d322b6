r"""What the LSTM's head outputs, the loss it is trained on, and how to read it.

In standardised units (each ticker's daily returns divided by their training standard
deviation :math:`\sigma` after removing their mean :math:`\mu`), for the h-day sum
:math:`Z = \sum_{k=1}^h z_{t+k}`:

* ``point`` (``distribution="none"``): h outputs, the next h standardised returns, trained on
  their mean squared error;
* ``normal``: 2 outputs :math:`(m, \log s)`, trained on the Gaussian negative log-likelihood
  :math:`\log s + \tfrac12 ((Z - m)/s)^2`;
* ``t``: 3 outputs :math:`(m, \log s, u)`, :math:`\nu = 2 + \mathrm{softplus}(u)` (so the
  variance exists), trained on the Student-t negative log-likelihood

  .. math::
      -\log\Gamma(\tfrac{\nu+1}{2}) + \log\Gamma(\tfrac{\nu}{2}) + \tfrac12\log(\nu\pi)
      + \log s + \tfrac{\nu+1}{2}\log\left(1 + \tfrac{(Z-m)^2}{\nu s^2}\right)

  with standard deviation :math:`s\sqrt{\nu/(\nu-2)}`;
* ``variance`` (``target="variance"``): 1 output :math:`\ell`, the log of the h-day variance,
  trained on QLIKE against the h-day variance proxy :math:`V` (in the same units):
  :math:`V e^{-\ell} + \ell`, minimised by :math:`e^\ell = E[V]` (Patton 2011), so the noisy
  proxy still teaches the conditional variance. Its intervals are normal, or with
  ``distribution="t"`` Student-t with :math:`\nu` fitted by maximum likelihood to the training
  residuals :math:`Z e^{-\ell/2}` after training (:func:`fit_nu`).

With ``ewma_anchor`` (the default for these three heads when the network reads the returns),
the output that sets the spread (:math:`\log s`, or :math:`\ell`) gets a learned multiple
:math:`a` of the log of the RiskMetrics average of the squared standardised returns in the
window (:func:`log_ewma_variance`): :math:`\log s \leftarrow \log s + a \log \bar v_t`.
:math:`a` starts at 0, so training still starts at the training distribution; a network whose
hidden states are bounded by tanh cannot follow a variance beyond the range it was trained
on, and this linear path lets it (``docs/distributions.md``). The trained weight is
:math:`w` in :math:`a = g w`, with the gain :math:`g` = ``anchor_gain`` (10 by default): Adam
moves each weight by about the learning rate per step, so the anchor learns :math:`g` times
faster than the network's other weights: early stopping often keeps the weights of the first
rounds, and at :math:`g = 1` the anchor has not got far by then (``docs/distributions.md``).

In return units the h-day log return has mean :math:`h\mu + \sigma m` (0 for ``variance``:
the random walk's) and standard deviation :math:`\sigma s` (:math:`\sigma e^{\ell/2}`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F

DISTRIBUTIONS = ("none", "normal", "t")
TARGETS = ("return", "variance")
NU_START = 8.0  # softplus(u) at initialisation: nu = 10, a mildly heavy tail


def head_kind(distribution: str, target: str) -> str:
    """``point``, ``normal``, ``t`` or ``variance``."""
    if target == "variance":
        return "variance"
    return "point" if distribution == "none" else distribution


def head_width(kind: str, horizon: int) -> int:
    """Outputs of the head."""
    return {"point": horizon, "normal": 2, "t": 3, "variance": 1}[kind]


def init_head(head: torch.nn.Linear, kind: str, horizon: int) -> None:
    """Start every head at the training distribution: weights zero, so the untrained network
    forecasts the training mean (0 in standardised units) whatever it reads, with the scale
    at the training spread (the sum of h unit variances) and nu at 10. Training starts from
    the forecast that claims nothing, and keeps it if nothing beats it on validation."""
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        if kind in ("normal", "t"):
            head.bias[1] = 0.5 * math.log(horizon)
        if kind == "t":
            head.bias[2] = math.log(math.expm1(NU_START))
        if kind == "variance":
            head.bias[0] = math.log(horizon)


# The output that the EWMA anchor moves, per head kind (the point head has none).
ANCHORED_OUTPUT = {"normal": 1, "t": 1, "variance": 0}
EWMA_DECAY = 0.94  # RiskMetrics
EWMA_FLOOR = 1e-2  # in squared standardised units: a flat window still has a finite log


def log_ewma_variance(z: torch.Tensor) -> torch.Tensor:
    r"""The log of the exponentially weighted average of ``z**2`` over each window (B, L) ->
    (B,), the weights :math:`\lambda^{L-1-j}` normalised to sum to 1 over the window
    (:math:`\lambda` = :data:`EWMA_DECAY`), plus :data:`EWMA_FLOOR` inside the log."""
    length = z.shape[1]
    weights = EWMA_DECAY ** torch.arange(length - 1, -1, -1, device=z.device, dtype=z.dtype)
    return torch.log((z**2 * weights).sum(1) / weights.sum() + EWMA_FLOOR)


def _nu(raw: torch.Tensor) -> torch.Tensor:
    return 2.0 + F.softplus(raw)


def gaussian_nll(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean Gaussian NLL (without its constant) of the h-day sum of ``target`` (B, h)."""
    total = target.sum(dim=1)
    mean, log_scale = out[:, 0], out[:, 1]
    return (log_scale + 0.5 * ((total - mean) * torch.exp(-log_scale)) ** 2).mean()


def student_t_nll(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean Student-t NLL of the h-day sum of ``target`` (B, h)."""
    total = target.sum(dim=1)
    mean, log_scale, nu = out[:, 0], out[:, 1], _nu(out[:, 2])
    u = (total - mean) * torch.exp(-log_scale)
    return (
        torch.lgamma(nu / 2)
        - torch.lgamma((nu + 1) / 2)
        + 0.5 * torch.log(nu * math.pi)
        + log_scale
        + 0.5 * (nu + 1) * torch.log1p(u * u / nu)
    ).mean()


def qlike_loss(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean QLIKE of the log variance ``out`` (B, 1) against the h-day proxy sum of
    ``target`` (B, h)."""
    total = target.sum(dim=1)
    log_var = out[:, 0]
    return (total * torch.exp(-log_var) + log_var).mean()


LOSSES = {"point": F.mse_loss, "normal": gaussian_nll, "t": student_t_nll, "variance": qlike_loss}


def decode(
    kind: str, out: np.ndarray, mean: np.ndarray, std: np.ndarray, horizon: int, nu: float = np.inf
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Network outputs (S, width) to the h-day log return's (mean, sd, df), each (S,), given
    each row's ticker training ``mean`` and ``std`` (S,); ``nu``: the degrees of freedom of a
    variance head's intervals (:func:`fit_nu`; inf: normal)."""
    out = np.asarray(out, dtype=np.float64)
    if kind == "point":
        return (mean[:, None] + std[:, None] * out).sum(axis=1), None, None
    if kind == "variance":
        return np.zeros(len(out)), std * np.exp(0.5 * out[:, 0]), np.full(len(out), nu)
    loc = horizon * mean + std * out[:, 0]
    scale = std * np.exp(out[:, 1])
    if kind == "normal":
        return loc, scale, np.full(len(out), np.inf)
    nu = 2.0 + np.logaddexp(0.0, out[:, 2])  # softplus
    return loc, scale * np.sqrt(nu / (nu - 2.0)), nu


def combine(
    kind: str, loc: np.ndarray, sd: np.ndarray, df: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""One distribution per row for a seed ensemble's K members: their (mean, sd, df), each
    (K, S), from heads of ``kind`` (:func:`decode`), to the (mean, sd, df) of the distribution
    of the head's family whose moments are those of the members' equal-weight mixture (each
    (S,)).

    .. math::
        \bar m = \tfrac1K \sum_k m_k, \qquad
        v = \tfrac1K \sum_k (s_k^2 + m_k^2) - \bar m^2

    (mixture of normals: a normal; of variance heads, all of one ``df``: that ``df``). Student-t
    members give the t whose kurtosis is the mixture's,
    :math:`\nu = 4 + 6/(\kappa - 3)` with
    :math:`\kappa = \tfrac{1}{K v^2}\sum_k [d_k^4 + 6 d_k^2 s_k^2 + \kappa_k s_k^4]`,
    :math:`d_k = m_k - \bar m`, :math:`\kappa_k = 3 + 6/(\nu_k - 4)`; where a member's
    fourth moment is infinite (:math:`\nu_k \le 4`) the mixture's tail is its heaviest
    member's, :math:`\nu = \min_k \nu_k`.
    """
    loc, sd, df = (np.asarray(a, dtype=np.float64) for a in (loc, sd, df))
    mean = loc.mean(axis=0)
    d = loc - mean
    var = (sd**2 + d**2).mean(axis=0)  # = mean(s^2 + m^2) - mean^2, without cancellation
    if kind != "t":  # normal members (df inf), or a variance head's one nu
        return mean, np.sqrt(var), df[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        kurt = np.where(df > 4.0, 3.0 + 6.0 / (df - 4.0), np.inf)
        fourth = (d**4 + 6.0 * d**2 * sd**2 + kurt * sd**4).mean(axis=0) / var**2
        nu = np.where(
            np.isfinite(fourth), 4.0 + 6.0 / np.maximum(fourth - 3.0, 1e-12), df.min(axis=0)
        )
    return mean, np.sqrt(var), nu


NU_RANGE = (2.05, 200.0)


def fit_nu(residuals: np.ndarray) -> float:
    r"""The degrees of freedom of a unit-variance Student-t fitted by maximum likelihood to
    standardised residuals :math:`e = Z / \hat\sigma` (a variance head's intervals with
    ``distribution="t"``), in :data:`NU_RANGE`."""
    from scipy import optimize, stats

    e = np.asarray(residuals, dtype=np.float64)
    e = e[np.isfinite(e)]

    def nll(nu: float) -> float:
        scale = np.sqrt((nu - 2.0) / nu)
        return -float(np.sum(stats.t.logpdf(e / scale, nu) - np.log(scale)))

    result = optimize.minimize_scalar(nll, bounds=NU_RANGE, method="bounded")
    return float(result.x)
