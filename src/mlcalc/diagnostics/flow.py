"""Gradient flow through depth.

For a layered model a_l = f_l(a_{l−1}; θ_l), l = 1..L (a_0 = X), reverse mode multiplies
the loss gradient at the output by the layer Jacobians J_l = ∂a_l/∂a_{l−1}:

    ∂L/∂a_l = J_{l+1}ᵀ ⋯ J_Lᵀ ∂L/∂a_L,        ∂L/∂θ_l = (∂a_l/∂θ_l)ᵀ ∂L/∂a_l.

When the factors' norms are mostly below 1 the product vanishes geometrically with depth;
above 1 it explodes (Hochreiter 1991; Bengio, Simard, Frasconi 1994; Glorot & Bengio
2010). :func:`gradient_flow` measures every factor on a batch, the accumulated product,
the singular values of the end-to-end input–output Jacobian ∂a_L/∂a_0 (dynamical isometry:
all close to 1, Saxe et al. 2014; Pennington et al. 2017) and the update-to-weight ratio
of an SGD step, and gives each layer a verdict.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ..autodiff import tree
from ..autodiff.api import grad, jacfwd, vjp
from ..autodiff.vmap import vmap

__all__ = ["LayerFlow", "GradientFlowReport", "gradient_flow", "DEFAULT_THRESHOLDS"]

#: (vanishing, exploding): a layer whose backward gain is below the first is
#: "vanishing", above the second "exploding", otherwise "healthy".
DEFAULT_THRESHOLDS = (1e-3, 1e3)


@dataclasses.dataclass(frozen=True)
class LayerFlow:
    """One layer l of the chain (one entry of ``model.layers``).

    ``name``: the layer's class; ``n_params``; ``grad_norm``: ‖∂L/∂θ_l‖₂ (0 for a
    parameterless layer); ``param_norm``: ‖θ_l‖₂; ``update_ratio``: η‖∂L/∂θ_l‖/‖θ_l‖, the
    relative size of one SGD step, or ‖Δθ_l‖/‖θ_l‖ for given updates (NaN without
    parameters; ≈ 1e-3 is the usual rule of thumb); ``output_grad_norm``: ‖∂L/∂a_l‖,
    the root mean square over examples of the per-example gradient with respect to the
    layer's output; ``gain``: that norm divided
    by the one at the network output (the accumulated product of the Jacobians above the
    layer; 1 for the last layer); ``jacobian_norm``: the spectral norm ‖J_l‖₂ of the
    per-example Jacobian ∂a_l/∂a_{l−1}, averaged over examples; ``jacobian_rms``: its root
    mean square singular value ‖J_l‖_F/√min(d_in, d_out), averaged; ``verdict``:
    "vanishing", "healthy" or "exploding" from ``gain`` and the report's thresholds.
    """

    index: int
    name: str
    n_params: int
    grad_norm: float
    param_norm: float
    update_ratio: float
    output_grad_norm: float
    gain: float
    jacobian_norm: float
    jacobian_rms: float
    verdict: str


@dataclasses.dataclass(frozen=True)
class GradientFlowReport:
    """The gradient flow of a model on a batch.

    ``layers``: one :class:`LayerFlow` per layer (input side first); ``singular_values``:
    (n_examples, k) singular values of the end-to-end Jacobian ∂a_L/∂a_0 per example
    (descending); ``isometry``: their mean, standard deviation, largest and smallest over
    the batch (dynamical isometry: mean ≈ 1, std ≈ 0); ``loss``: the loss on the batch;
    ``thresholds``: (vanishing, exploding) applied to the gains; ``n_examples``;
    ``learning_rate``: η of the update ratios.
    """

    layers: tuple[LayerFlow, ...]
    singular_values: np.ndarray
    isometry: dict
    loss: float
    thresholds: tuple[float, float]
    n_examples: int
    learning_rate: float

    @property
    def verdicts(self) -> list[str]:
        """The verdict of every layer, input side first."""
        return [layer.verdict for layer in self.layers]

    @property
    def grad_norms(self) -> np.ndarray:
        """‖∂L/∂θ_l‖ of the layers with parameters, input side first."""
        return np.array([lf.grad_norm for lf in self.layers if lf.n_params > 0])

    def table(self) -> str:
        """A plain-text table of the per-layer figures."""
        head = (f"{'l':>3} {'layer':<12} {'‖∂L/∂θ‖':>10} {'η‖g‖/‖θ‖':>10} {'‖∂L/∂a‖':>10} "
                f"{'gain':>10} {'‖J‖₂':>8} {'rms σ(J)':>9}  verdict")
        rows = [head]
        for lf in self.layers:
            rows.append(
                f"{lf.index:>3} {lf.name[:12]:<12} {lf.grad_norm:>10.3e} {lf.update_ratio:>10.2e} "
                f"{lf.output_grad_norm:>10.3e} {lf.gain:>10.3e} {lf.jacobian_norm:>8.3f} "
                f"{lf.jacobian_rms:>9.3f}  {lf.verdict}"
            )
        iso = self.isometry
        rows.append(f"end-to-end singular values: mean {iso['mean']:.3g}, std {iso['std']:.3g}, "
                    f"max {iso['max']:.3g}, min {iso['min']:.3g}")
        return "\n".join(rows)


def _norm(x) -> float:
    leaves = tree.leaves(x)
    return math.sqrt(sum(float(np.sum(np.square(np.asarray(v, dtype=float)))) for v in leaves))


def _n_params(p) -> int:
    return int(sum(np.size(v) for v in tree.leaves(p)))


def _resolve(model_or_problem, params, data, loss):
    """(model, params list, X, y, loss) from a Sequential + data or a Problem."""
    obj = model_or_problem
    if not hasattr(obj, "layers") and hasattr(obj, "model"):  # a Problem
        problem = obj
        model = problem.model
        if params is None:
            params = problem.params
        elif isinstance(params, np.ndarray) and params.ndim == 1 and hasattr(problem, "unravel"):
            params = problem.unravel(params)
        if data is None:
            data = (problem.X, problem.y)
        if loss is None:
            loss = getattr(problem, "loss_fn", None)
    else:
        model = obj
    if not (hasattr(model, "layers") and hasattr(model, "activations")):
        raise TypeError(
            f"gradient_flow: need a layered model with .layers and .activations(params, X) "
            f"(mlcalc.models.Sequential), or a Problem whose .model is one; got "
            f"{type(model).__name__}."
        )
    if params is None:
        raise ValueError("gradient_flow: pass params (a list with one entry per layer, from "
                         "model.init(seed)).")
    if not isinstance(params, (list, tuple)) or len(params) != len(model.layers):
        got = len(params) if isinstance(params, (list, tuple)) else type(params).__name__
        raise ValueError(f"gradient_flow: params must be a list with one entry per layer "
                         f"({len(model.layers)}); got {got}.")
    if data is None:
        raise ValueError("gradient_flow: pass data=X or data=(X, y).")
    if isinstance(data, tuple):
        X, y = data
    else:
        X, y = data, None
    return model, list(params), np.asarray(X, dtype=float), y, loss


def gradient_flow(
    model_or_problem: Any,
    params: Any = None,
    data: Any = None,
    loss: Any = None,
    learning_rate: float = 1e-2,
    thresholds: tuple[float, float] = DEFAULT_THRESHOLDS,
    max_examples: int = 64,
    seed: int = 0,
    updates: Any = None,
    max_jacobian_entries: int = 2**24,
) -> GradientFlowReport:
    """Per-layer gradient norms, layer Jacobians, their accumulated product, end-to-end
    singular values and update ratios of a layered model on a batch.

    ``model_or_problem``: an :class:`mlcalc.models.Sequential` (then ``params``, ``data``
    = X or (X, y), and ``loss(outputs, y)`` a mean over the batch) or a
    :class:`mlcalc.models.Problem` whose model is one (its params, data and loss are the
    defaults; ``params`` may be the flat vector; its regularizer is not part of the
    flow). The first ``max_examples`` examples are used. Without a loss (or without y)
    the output cotangent is a fixed random direction: L = (1/n) Σᵢ ⟨rᵢ, a_L(xᵢ)⟩,
    rᵢ ~ N(0, I) (``seed``), which isolates the network's own gain from a loss's.

    Norms: Euclidean (Frobenius for matrices). ``gain_l`` = ‖∂L/∂a_l‖/‖∂L/∂a_L‖ with
    ‖∂L/∂a_l‖ the root mean square over examples of n·‖∂L/∂a_{l,i}‖ (the per-example
    gradient). Verdict: "vanishing" if gain < thresholds[0], "exploding" if gain >
    thresholds[1], else "healthy" (defaults 1e-3 and 1e3: three orders of magnitude away
    from the output layer); "undefined" where the output gradient is 0. Layer
    Jacobians: per example, by forward mode (vmap of jacfwd over the batch); the
    end-to-end Jacobian is their product.

    ``updates``: the steps of an actual optimizer (a list like ``params``); the update
    ratios are then ‖Δθ_l‖/‖θ_l‖ instead of η‖∂L/∂θ_l‖/‖θ_l‖ (plain SGD).

    Cost: one forward and one backward pass, plus Σ_l n·d_{l−1} forward-mode products
    for the Jacobians and n SVDs of d_L × d_0 matrices. Layers whose batch of Jacobians
    would exceed ``max_jacobian_entries`` numbers (wide convolutions) are skipped: their
    Jacobian figures, and the end-to-end singular values, are then NaN.
    """
    model, params, X, y, loss = _resolve(model_or_problem, params, data, loss)
    lo, hi = (float(t) for t in thresholds)
    if not 0 < lo < hi:
        raise ValueError(f"gradient_flow: thresholds must be 0 < vanishing < exploding; got "
                         f"{thresholds}.")
    L = len(model.layers)
    if updates is not None and (not isinstance(updates, (list, tuple)) or len(updates) != L):
        raise ValueError(f"gradient_flow: updates must be a list like params ({L} entries).")
    X = X[: int(max_examples)]
    n = X.shape[0]
    if y is not None:
        y = np.asarray(y)[:n]
    acts = model.activations(params, X)
    out = acts[-1]
    if loss is not None and y is not None:
        loss_value = float(loss(out, y))
        g = np.asarray(grad(lambda o: loss(o, y))(out), dtype=float)
    else:
        r = np.random.default_rng(seed).standard_normal(np.shape(out))
        loss_value = float(np.sum(r * out) / n)
        g = r / n

    # backward pass layer by layer: cotangents of each layer's output and params
    out_grads: list[np.ndarray] = [None] * L  # ∂L/∂a_l for l = 1..L (index l−1)
    param_grads: list[Any] = [None] * L
    for l in range(L - 1, -1, -1):
        layer, p = model.layers[l], params[l]
        out_grads[l] = g
        _, pull = vjp(lambda pp, a, layer=layer: layer.apply(pp, a), p, acts[l])
        gp, ga = pull(g)
        param_grads[l] = gp
        g = np.asarray(ga, dtype=float)

    def per_example_rms(c) -> float:
        c = np.reshape(np.asarray(c, dtype=float), (n, -1)) * n
        return float(np.sqrt(np.mean(np.sum(c * c, axis=1))))

    top = per_example_rms(out_grads[-1])

    # per-example layer Jacobians (forward mode, batched over examples)
    jacobians: list[np.ndarray | None] = []
    for l in range(L):
        layer, p = model.layers[l], params[l]
        a_in = acts[l]
        in_shape = np.shape(a_in)[1:]
        if np.size(acts[l + 1]) * (np.size(a_in) // n) > max_jacobian_entries:
            jacobians.append(None)
            continue

        def single(a, layer=layer, p=p, in_shape=in_shape):
            return np.ravel(layer.apply(p, np.reshape(a, (1,) + in_shape)))

        flat_in = np.reshape(np.asarray(a_in, dtype=float), (n, -1))
        J = np.asarray(vmap(jacfwd(single))(flat_in), dtype=float)  # (n, d_out, d_in)
        jacobians.append(J)

    layers = []
    for l in range(L):
        J = jacobians[l]
        if J is None:
            jac_norm = jac_rms = float("nan")
        else:
            sv = np.linalg.svd(J, compute_uv=False)
            k = min(J.shape[1], J.shape[2])
            jac_norm = float(np.mean(sv[:, 0]))
            jac_rms = float(np.mean(np.sqrt(np.sum(J * J, axis=(1, 2)) / k)))
        npar = _n_params(params[l])
        gnorm = _norm(param_grads[l]) if npar else 0.0
        pnorm = _norm(params[l]) if npar else 0.0
        step = learning_rate * gnorm if updates is None else _norm(updates[l])
        ratio = step / pnorm if npar and pnorm > 0 else float("nan")
        og = per_example_rms(out_grads[l])
        gain = og / top if top > 0 else float("nan")
        if not np.isfinite(gain):
            verdict = "undefined"  # the gradient at the output is 0 (or not finite)
        else:
            verdict = "vanishing" if gain < lo else "exploding" if gain > hi else "healthy"
        layers.append(LayerFlow(
            index=l + 1, name=type(model.layers[l]).__name__, n_params=npar, grad_norm=gnorm,
            param_norm=pnorm, update_ratio=ratio, output_grad_norm=og, gain=gain,
            jacobian_norm=jac_norm, jacobian_rms=jac_rms, verdict=verdict,
        ))

    if any(J is None for J in jacobians):
        sv = np.full((n, 1), np.nan)
    else:
        total = jacobians[0]
        for J in jacobians[1:]:
            total = np.matmul(J, total)
        sv = np.linalg.svd(total, compute_uv=False)
    iso = {"mean": float(np.mean(sv)), "std": float(np.std(sv)), "max": float(np.max(sv)),
           "min": float(np.min(sv))}
    sv.setflags(write=False)
    return GradientFlowReport(
        layers=tuple(layers), singular_values=sv, isometry=iso, loss=loss_value,
        thresholds=(lo, hi), n_examples=n, learning_rate=float(learning_rate),
    )
