"""Natural gradient descent (Amari 1998): steepest descent of a negative log-likelihood
in the metric of the Fisher information, x⁺ = x − η (F + λI)⁻¹ ∇nll(x)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autodiff import tree
from ..autodiff.api import grad as _grad
from ..autodiff.vmap import vmap as _vmap
from .driver import Run
from .line_search import backtracking
from .minimize import minimize
from .objective import Objective, ravel_pytree
from .registry import register_method

__all__ = ["natural_gradient", "fisher_information"]


def fisher_information(
    per_example_nll: Callable,
    x: Any,
    data: tuple,
    outcomes=None,
    empirical: bool = False,
) -> np.ndarray:
    """The Fisher information of a model with independent examples, as an (n, n) matrix
    over the flattened parameters x (an array or a pytree).

    ``per_example_nll(x, *example)`` is −log p(y_i | inputs_i, x) for one example, the
    label y being the last entry of ``example``; ``data`` holds the examples stacked
    along axis 0 (e.g. ``(X, y)``).

    - exact (``outcomes`` given: the finite support of y, e.g. ``[0, 1]``):
      F = Σ_i Σ_y p(y | i) g_{iy} g_{iyᵀ}, the expectation under the model, with
      g_{iy} = ∇ₓ log p(y | i) and p(y | i) = exp(−nll); the probabilities must sum to 1
      over ``outcomes``. For logistic regression F = Xᵀ diag(p(1 − p)) X, the Hessian.
    - empirical (``empirical=True``): F = Σ_i g_i g_iᵀ at the observed labels.

    Per-example gradients come from ``vmap(grad(per_example_nll))``. Cost: one batched
    gradient over the N examples (N·K for K outcomes) and an n×n·N product.
    """
    flat, unravel = ravel_pytree(x)
    data = tuple(np.asarray(d) for d in data)
    if not data:
        raise ValueError("fisher_information: data must hold at least the labels.")
    sizes = {d.shape[0] for d in data}
    if len(sizes) != 1:
        raise ValueError(
            "fisher_information: the data arrays disagree on the number of examples: "
            f"shapes {[d.shape for d in data]}."
        )

    def nll_flat(v, *example):
        return per_example_nll(unravel(v), *example)

    grads = _vmap(_grad(nll_flat), in_axes=(None,) + (0,) * len(data))

    def flat_grads(*batch):
        G = grads(flat, *batch)
        leaves = tree.leaves(G)
        return np.concatenate(
            [np.asarray(leaf, dtype=float).reshape(batch[0].shape[0], -1) for leaf in leaves],
            axis=1,
        )

    if empirical or outcomes is None:
        if not empirical:
            raise ValueError(
                "fisher_information: the exact Fisher needs the outcomes (the support of the "
                "label); pass outcomes=..., or empirical=True for the empirical Fisher."
            )
        G = flat_grads(*data)
        return G.T @ G
    inputs = data[:-1]
    F = np.zeros((flat.size, flat.size))
    total_p = np.zeros(data[-1].shape[0])
    for y in outcomes:
        labels = np.broadcast_to(np.asarray(y, dtype=data[-1].dtype), data[-1].shape).copy()
        G = flat_grads(*inputs, labels)
        p = np.exp(-np.asarray(_vmap(nll_flat, in_axes=(None,) + (0,) * len(data))(
            flat, *inputs, labels), dtype=float))
        total_p += p
        F += (G * p[:, None]).T @ G
    if not np.allclose(total_p, 1.0, atol=1e-8):
        worst = float(np.max(np.abs(total_p - 1.0)))
        raise ValueError(
            "fisher_information: the model's probabilities over the outcomes do not sum to 1 "
            f"(off by up to {worst:.3g}); give every possible label in outcomes."
        )
    return F


@register_method("natural_gradient")
def natural_gradient_method(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    fisher: Callable | None = None,
    per_example_nll: Callable | None = None,
    data: tuple = (),
    outcomes=None,
    empirical: bool = False,
    reduction: str = "sum",
    damping: float = 1e-3,
    lr: float = 1.0,
    line_search: bool = False,
    bounds=None,
    constraints=(),
):
    """Natural gradient x_{k+1} = x_k − lr·(F(x_k) + λI)⁻¹ ∇nll(x_k), λ = ``damping``.

    The metric F is ``fisher(params)`` (a user callable returning the n×n Fisher), or
    built by :func:`fisher_information` from ``per_example_nll`` and ``data`` — exact
    with ``outcomes``, empirical with ``empirical=True``. ``reduction``: "sum" if the
    objective is Σ_i nll_i, "mean" if it is (1/N)Σ_i nll_i (F is scaled to match; checked
    at x0). With the exact Fisher of a canonical exponential family (e.g. logistic
    regression) F equals the Hessian, so lr = 1, λ = 0 gives Newton's (IRLS) step.
    ``line_search=True``: Armijo backtracking from lr (the empirical Fisher can
    misjudge the curvature and make lr = 1 oscillate, Kunstner et al. 2019).
    Cost per iteration: one gradient, one Fisher (N per-example gradients, K·N exact)
    and an n×n solve.
    """
    if bounds is not None or constraints:
        raise ValueError("minimize: method 'natural_gradient' is unconstrained.")
    if reduction not in ("sum", "mean"):
        raise ValueError(f"natural_gradient: reduction must be 'sum' or 'mean'; got {reduction!r}.")
    if damping < 0:
        raise ValueError(f"natural_gradient: damping must be ≥ 0; got {damping}.")
    if fisher is not None:
        def metric(v):
            F = np.asarray(fisher(obj.unravel(v)), dtype=float)
            if F.shape != (v.size, v.size):
                raise ValueError(f"natural_gradient: fisher returned shape {F.shape}; "
                                 f"expected ({v.size}, {v.size}).")
            return F
    elif per_example_nll is not None:
        n_examples = np.shape(data[0])[0] if data else 0
        scale = 1.0 / n_examples if reduction == "mean" else 1.0
        _check_reduction(obj, x, per_example_nll, data, scale, reduction)

        def metric(v):
            return scale * fisher_information(per_example_nll, obj.unravel(v), data,
                                              outcomes, empirical)
    else:
        raise ValueError("natural_gradient: pass options fisher=callable, or per_example_nll "
                         "with data (and outcomes, or empirical=True).")
    f, g = obj.value_and_grad(x)
    if run.start(x, f, g):
        return run.result()
    eye = np.eye(x.size)
    while True:
        d = -np.linalg.solve(metric(x) + damping * eye, g)
        t = lr
        if line_search:
            t, _, _ = backtracking(obj, x, f, g, d, step=lr)
            if t == 0.0:
                run.fail("the Armijo line search found no decrease along the natural gradient")
                return run.result()
        x = x + t * d
        f, g = obj.value_and_grad(x)
        if run.iterate(x, f, g, t):
            return run.result()


def _check_reduction(obj: Objective, x, per_example_nll, data, scale: float, reduction: str):
    """Check that the objective at x is the sum (or mean) of the per-example nll."""
    unravel = obj.unravel
    per_example = _vmap(lambda v, *ex: per_example_nll(unravel(v), *ex),
                        in_axes=(None,) + (0,) * len(data))
    total = scale * float(np.sum(per_example(x, *(np.asarray(d) for d in data))))
    value = obj.value(x)
    if not np.isclose(value, total, rtol=1e-8, atol=1e-10):
        raise ValueError(
            f"natural_gradient: the objective at x0 is {value:.6g} but the {reduction} of "
            f"per_example_nll is {total:.6g}; set reduction='sum' or 'mean' to match the "
            "objective."
        )


def natural_gradient(
    nll: Callable,
    x0: Any,
    fisher: Callable | None = None,
    damping: float = 1e-3,
    lr: float = 1.0,
    empirical: bool = False,
    line_search: bool = False,
    per_example_nll: Callable | None = None,
    data: tuple = (),
    outcomes=None,
    reduction: str = "sum",
    args: tuple = (),
    tol: float | None = None,
    maxiter: int | None = None,
    callback: Callable | None = None,
    record: bool = False,
):
    """Minimise ``nll(x, *args)`` by natural gradient descent; the same as
    ``minimize(nll, x0, method="natural_gradient", options={...})`` with the options
    described there (see ``natural_gradient_method``)."""
    options = dict(fisher=fisher, damping=damping, lr=lr, empirical=empirical,
                   line_search=line_search,
                   per_example_nll=per_example_nll, data=data, outcomes=outcomes,
                   reduction=reduction)
    return minimize(nll, x0, method="natural_gradient", args=args, tol=tol, maxiter=maxiter,
                    callback=callback, options=options, record=record)
