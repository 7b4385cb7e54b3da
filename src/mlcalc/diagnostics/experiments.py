"""The depth experiment: gradient norms against depth for the classic initialisations and
architectural fixes, measured with :func:`gradient_flow`.

Textbook facts it reproduces (Glorot & Bengio 2010; Saxe et al. 2014; He et al. 2015,
2016; Ba et al. 2016): with a naive small initialisation N(0, 0.01²) the gradient of a
deep tanh or ReLU network vanishes geometrically with depth (each layer multiplies it by
≈ 0.01·√width); Xavier/Glorot (tanh) and He (ReLU) scale each layer's Jacobian to unit
gain so the norms stay within a small factor across 50 layers; orthogonal weights keep
them too; residual connections (Jacobian I + ∂branch) keep it from vanishing even from
a naive start, but with unnormalised He-initialised ReLU branches the activations'
variance doubles per block and the gradient explodes (the motivation of normalised or
down-scaled residual branches); layer normalisation rescales each layer's activations so
the gain no longer depends on the weight scale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..models import mlp
from .flow import DEFAULT_THRESHOLDS, gradient_flow

__all__ = ["CONFIGS", "DepthRow", "DepthExperiment", "depth_experiment"]

#: name -> mlp keyword arguments (activation, init, residual, layer_norm)
CONFIGS: dict[str, dict] = {
    "tanh/naive": dict(activation="tanh", init="normal"),
    "tanh/xavier": dict(activation="tanh", init="glorot"),
    "tanh/orthogonal": dict(activation="tanh", init="orthogonal"),
    "relu/naive": dict(activation="relu", init="normal"),
    "relu/he": dict(activation="relu", init="he"),
    "relu/he+residual": dict(activation="relu", init="he", residual=True),
    "relu/he+layernorm": dict(activation="relu", init="he", layer_norm=True),
    "relu/he+residual+layernorm": dict(activation="relu", init="he", residual=True,
                                       layer_norm=True),
    "tanh/naive+residual": dict(activation="tanh", init="normal", residual=True),
    "tanh/naive+layernorm": dict(activation="tanh", init="normal", layer_norm=True),
}


@dataclasses.dataclass(frozen=True)
class DepthRow:
    """One network of the experiment.

    ``config``, ``depth`` (hidden layers); ``grad_norms``: ‖∂L/∂W_l‖ of every Dense layer,
    input side first (the curve to plot on a log scale against l); ``first``/``last``:
    those of the first and the last hidden layer; ``ratio``: first/last (≈ 1: the gradient
    reaches the first layer intact; ≪ 1 vanishing; ≫ 1 exploding); ``min_gain``/
    ``max_gain``: the extreme backward gains; ``n_vanishing``/``n_exploding``: layers with
    those verdicts; ``sv_mean``/``sv_std``: the end-to-end Jacobian's singular values.
    """

    config: str
    depth: int
    grad_norms: np.ndarray
    first: float
    last: float
    ratio: float
    min_gain: float
    max_gain: float
    n_vanishing: int
    n_exploding: int
    sv_mean: float
    sv_std: float


@dataclasses.dataclass(frozen=True)
class DepthExperiment:
    """The rows of :func:`depth_experiment` with the settings used."""

    rows: tuple[DepthRow, ...]
    width: int
    n_examples: int
    seed: int
    thresholds: tuple[float, float]

    def row(self, config: str, depth: int) -> DepthRow:
        """The row of one configuration and depth."""
        for r in self.rows:
            if r.config == config and r.depth == depth:
                return r
        raise KeyError(f"no row for config={config!r}, depth={depth}")

    def table(self) -> str:
        """A plain-text table: one line per (config, depth)."""
        head = (f"{'config':<27} {'depth':>5} {'‖∂L/∂W₁‖':>10} {'‖∂L/∂W_L‖':>10} "
                f"{'first/last':>10} {'min gain':>9} {'max gain':>9} {'vanish':>6} {'explode':>7} "
                f"{'σ mean':>8} {'σ std':>8}")
        lines = [head]
        for r in self.rows:
            lines.append(
                f"{r.config:<27} {r.depth:>5} {r.first:>10.3e} {r.last:>10.3e} "
                f"{r.ratio:>10.3e} {r.min_gain:>9.2e} {r.max_gain:>9.2e} {r.n_vanishing:>6} "
                f"{r.n_exploding:>7} "
                f"{r.sv_mean:>8.3g} {r.sv_std:>8.3g}"
            )
        return "\n".join(lines)


def depth_experiment(
    depths: Sequence[int] = (10, 20, 50),
    configs: Sequence[str] = tuple(CONFIGS),
    width: int = 32,
    n_examples: int = 32,
    seed: int = 0,
    thresholds: tuple[float, float] = DEFAULT_THRESHOLDS,
) -> DepthExperiment:
    """Gradient norms against depth for each configuration of :data:`CONFIGS`.

    Each network is ``mlp([width] * (depth + 1) + [width], **CONFIGS[name])`` at
    initialisation (seed ``seed``), fed X ~ N(0, I) of shape (n_examples, width), with the
    random output cotangent of :func:`gradient_flow` (the network's own gain, no loss).
    Cost: one :func:`gradient_flow` per (config, depth), dominated by the per-layer
    Jacobians: ≈ depth·n_examples·width forward-mode products.
    """
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        raise ValueError(f"depth_experiment: unknown configs {unknown}; known: "
                         f"{', '.join(CONFIGS)}.")
    X = np.random.default_rng(seed).standard_normal((int(n_examples), int(width)))
    rows = []
    for name in configs:
        for depth in depths:
            if int(depth) < 1:
                raise ValueError(f"depth_experiment: depths must be ≥ 1; got {depth}.")
            model = mlp([int(width)] * (int(depth) + 1) + [int(width)], **CONFIGS[name])
            params = model.init(seed)
            rep = gradient_flow(model, params, X, thresholds=thresholds, seed=seed)
            dense = [lf for lf in rep.layers if lf.n_params > 0 and lf.name != "LayerNorm"]
            g = np.array([lf.grad_norm for lf in dense])
            gains = np.array([lf.gain for lf in rep.layers])
            hidden = g[:-1] if g.size > 1 else g
            g.setflags(write=False)
            rows.append(DepthRow(
                config=name, depth=int(depth), grad_norms=g, first=float(hidden[0]),
                last=float(hidden[-1]),
                ratio=float(hidden[0] / hidden[-1]) if hidden[-1] > 0 else float("nan"),
                min_gain=float(np.min(gains)), max_gain=float(np.max(gains)),
                n_vanishing=rep.verdicts.count("vanishing"),
                n_exploding=rep.verdicts.count("exploding"),
                sv_mean=rep.isometry["mean"], sv_std=rep.isometry["std"],
            ))
    return DepthExperiment(rows=tuple(rows), width=int(width), n_examples=int(n_examples),
                           seed=int(seed), thresholds=tuple(float(t) for t in thresholds))
