r"""Two small optimisers so the reference can train on its own.

Parameters are a list of dicts of arrays (one dict per layer, as the sequence layer uses);
gradients come in the same structure. Updates are in place.

SGD with momentum :math:`\mu`:  :math:`v \leftarrow \mu v + g,\ \theta \leftarrow \theta - \eta v`.

Adam (Kingma & Ba 2015): :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
:math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
:math:`\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)` with the
bias-corrected :math:`\hat m = m / (1-\beta_1^t)`, :math:`\hat v = v / (1-\beta_2^t)`.
"""

from __future__ import annotations

import numpy as np

from .common import Grads, Params


def _check(params: list[Params], grads: list[Grads]) -> None:
    if len(params) != len(grads):
        raise ValueError(f"{len(params)} parameter groups but {len(grads)} gradient groups")
    for layer, (p, g) in enumerate(zip(params, grads, strict=True)):
        missing = set(p) - set(g)
        if missing:
            raise ValueError(f"layer {layer}: no gradient for {sorted(missing)}")


class SGD:
    """Stochastic gradient descent with optional momentum."""

    def __init__(self, params: list[Params], lr: float = 0.01, momentum: float = 0.0) -> None:
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = [{k: np.zeros_like(v) for k, v in p.items()} for p in params]

    def step(self, grads: list[Grads]) -> None:
        """Apply one update from ``grads`` (same structure as the parameters)."""
        _check(self.params, grads)
        for p, g, vel in zip(self.params, grads, self.velocity, strict=True):
            for name in p:
                vel[name] *= self.momentum
                vel[name] += g[name]
                p[name] -= self.lr * vel[name]


class Adam:
    """Adam with bias correction."""

    def __init__(
        self,
        params: list[Params],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [{k: np.zeros_like(v) for k, v in p.items()} for p in params]
        self.v = [{k: np.zeros_like(v) for k, v in p.items()} for p in params]
        self.t = 0

    def step(self, grads: list[Grads]) -> None:
        """Apply one update from ``grads`` (same structure as the parameters)."""
        _check(self.params, grads)
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            for name in p:
                m[name] = b1 * m[name] + (1.0 - b1) * g[name]
                v[name] = b2 * v[name] + (1.0 - b2) * g[name] ** 2
                p[name] -= self.lr * (m[name] / c1) / (np.sqrt(v[name] / c2) + self.eps)
