"""First-order methods: gradient descent (fixed step, backtracking Armijo, exact step on
quadratics), and the momentum and adaptive methods sgd, momentum (heavy ball), nesterov,
adagrad, rmsprop, adam and adamw, which run the gradient transformations of
:mod:`mlcalc.optimize.transforms` on the flat vector and take one step per mini-batch on
a :class:`~mlcalc.optimize.stochastic.StochasticObjective`."""

from __future__ import annotations

import numpy as np

from .driver import Run, require_unconstrained
from .line_search import backtracking
from .objective import Objective
from .registry import register_method
from .stochastic import minibatch_oracle
from .transforms import GradientTransformation, Schedule
from .transforms import adagrad as _adagrad
from .transforms import adam as _adam
from .transforms import adamw as _adamw
from .transforms import momentum as _momentum
from .transforms import rmsprop as _rmsprop
from .transforms import sgd as _sgd

__all__ = ["run_transformation"]


@register_method("gd")
def gradient_descent(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    step: float | str = "armijo",
    lr: float | None = None,
    bounds=None,
    constraints=(),
):
    """Gradient descent x_{k+1} = x_k − t_k ∇f(x_k).

    ``step``: a number (fixed step; ``lr`` is an alias), ``"armijo"`` (backtracking from
    the previous step doubled, :func:`.line_search.backtracking`; when it finds no step,
    the run stops with success if the decrease predicted for the first trial is within
    the rounding of f, :meth:`Run.stop_at_rounding`) or ``"exact"`` (the exact
    minimiser along −∇f of the local quadratic model, t = gᵀg / gᵀHg, one
    Hessian-vector product per iteration: exact for quadratics). Cost per iteration:
    one gradient (+ line-search values or one HVP).
    """
    require_unconstrained("gd", bounds, constraints)
    if lr is not None:
        step = lr
    f, g = obj.value_and_grad(x)
    if run.start(x, f, g):
        return run.result()
    t = 1.0
    while True:
        if step == "armijo":
            t0 = min(2.0 * t, 1e8)
            t, x_new, _ = backtracking(obj, x, f, g, -g, step=t0)
            if t == 0.0:
                run.stop_at_rounding(t0 * float(g @ g), "the Armijo line search found no "
                                     "decrease")
                return run.result()
        elif step == "exact":
            curv = float(g @ obj.hvp(x, g))
            if not curv > 0:
                run.fail("exact step needs positive curvature along the gradient")
                return run.result()
            t = float(g @ g) / curv
            x_new = x - t * g
        else:
            t = float(step)
            x_new = x - t * g
        x = x_new
        f, g = obj.value_and_grad(x)
        if run.iterate(x, f, g, t):
            return run.result()


# -- methods that run a gradient transformation -------------------------------------
def run_transformation(
    obj: Objective, x: np.ndarray, run: Run, transform: GradientTransformation
):
    """Iterate x_{k+1} = x_k + u_k, with (u_k, state) = transform.update(g_k, state, x_k)
    and g_k the gradient at x_k: the full gradient, or on a StochasticObjective the
    gradient of the next mini-batch (then f_k, g_k, the trajectory and the ‖∇f‖ ≤ tol
    test are mini-batch values, while the result's ``fun`` and ``jac`` are full-data
    values at the final point, with ``batch_fun`` and ``epochs`` added). The step
    recorded is ‖x_{k+1} − x_k‖. Cost per iteration: one gradient (of a mini-batch or
    of the full objective) plus O(n) for the transformation."""
    minibatch = minibatch_oracle(obj)
    oracle = obj.value_and_grad if minibatch is None else minibatch

    def done():
        return run.result() if minibatch is None else minibatch.result(run)

    state = transform.init(x)
    f, g = oracle(x)
    if run.start(x, f, g):
        return done()
    while True:
        u, state = transform.update(g, state, x)
        x = x + u
        f, g = oracle(x)
        if run.iterate(x, f, g, float(np.linalg.norm(u))):
            return done()


@register_method("sgd")
def sgd(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    lr: float | Schedule = 0.01,
    momentum: float = 0.0,
    nesterov: bool = False,
    bounds=None,
    constraints=(),
):
    """(Stochastic) gradient descent x_{k+1} = x_k − η_k g_k with optional momentum β
    (heavy ball, or Nesterov's form with ``nesterov=True``), g_k the gradient of the k-th
    mini-batch of a StochasticObjective (the full gradient on any other function).

    Options: ``lr`` η, a float or a schedule k ↦ η_k (default 0.01; a decaying schedule,
    e.g. η₀/(1 + k/k₀), makes the iterates converge despite the gradient noise);
    ``momentum`` β ∈ [0, 1) (default 0); ``nesterov`` (default False). Cost per
    iteration: one mini-batch gradient."""
    require_unconstrained("sgd", bounds, constraints)
    return run_transformation(obj, x, run, _sgd(lr, momentum, nesterov))


@register_method("momentum")
def heavy_ball(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    lr: float | Schedule = 0.01,
    beta: float = 0.9,
    bounds=None,
    constraints=(),
):
    """Polyak's heavy ball x_{k+1} = x_k − η ∇f(x_k) + β (x_k − x_{k−1}).

    Options: ``lr`` η (float or schedule, default 0.01), ``beta`` β ∈ [0, 1) (default
    0.9). On a quadratic with μI ⪯ H ⪯ LI, η = 4/(√L + √μ)² and β = ((√κ−1)/(√κ+1))²
    give the asymptotic rate (√κ−1)/(√κ+1), κ = L/μ. Cost per iteration: one gradient."""
    require_unconstrained("momentum", bounds, constraints)
    return run_transformation(obj, x, run, _momentum(lr, beta))


@register_method("nesterov")
def nesterov(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    lr: float | Schedule = 0.01,
    beta: float = 0.9,
    bounds=None,
    constraints=(),
):
    """Nesterov's accelerated gradient with constant momentum: y_k = x_k + β(x_k − x_{k−1}),
    x_{k+1} = y_k − η ∇f(y_k). The iterates reported are the look-ahead points y_k, at
    which the gradient is taken; in these variables the update reads
    t_k = ∇f(y_k) + β t_{k−1}, y_{k+1} = y_k − η (∇f(y_k) + β t_k) (Sutskever et al.
    2013).

    Options: ``lr`` η (float or schedule, default 0.01; 1/L for an L-smooth f),
    ``beta`` β ∈ [0, 1) (default 0.9; (√κ−1)/(√κ+1) for a μ-strongly convex f). Cost per
    iteration: one gradient."""
    require_unconstrained("nesterov", bounds, constraints)
    return run_transformation(obj, x, run, _momentum(lr, beta, nesterov=True))


@register_method("adagrad")
def adagrad(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    lr: float | Schedule = 0.01,
    initial_accumulator: float = 0.0,
    eps: float = 1e-10,
    bounds=None,
    constraints=(),
):
    """AdaGrad (Duchi, Hazan & Singer 2011): G_k = G_{k−1} + g_k², x_{k+1} = x_k −
    η g_k/(√G_k + ε), per coordinate.

    Options: ``lr`` η (float or schedule, default 0.01), ``initial_accumulator`` G_0
    (default 0), ``eps`` ε (default 1e-10). Cost per iteration: one gradient."""
    require_unconstrained("adagrad", bounds, constraints)
    return run_transformation(obj, x, run, _adagrad(lr, initial_accumulator, eps))


@register_method("rmsprop")
def rmsprop(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    lr: float | Schedule = 0.01,
    decay: float = 0.9,
    eps: float = 1e-8,
    bounds=None,
    constraints=(),
):
    """RMSprop (Tieleman & Hinton 2012): v_k = ρ v_{k−1} + (1−ρ) g_k², x_{k+1} = x_k −
    η g_k/(√v_k + ε), per coordinate.

    Options: ``lr`` η (float or schedule, default 0.01), ``decay`` ρ (default 0.9),
    ``eps`` ε (default 1e-8). Cost per iteration: one gradient."""
    require_unconstrained("rmsprop", bounds, constraints)
    return run_transformation(obj, x, run, _rmsprop(lr, decay, eps))


@register_method("adam")
def adam(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    lr: float | Schedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    bounds=None,
    constraints=(),
):
    """Adam (Kingma & Ba 2015): m_k = β₁m + (1−β₁)g, v_k = β₂v + (1−β₂)g², x_{k+1} =
    x_k − η m̂_k/(√v̂_k + ε) with m̂ = m/(1−β₁ᵏ), v̂ = v/(1−β₂ᵏ).

    Options: ``lr`` η (float or schedule, default 1e-3), ``b1`` (0.9), ``b2`` (0.999),
    ``eps`` (1e-8). Cost per iteration: one gradient."""
    require_unconstrained("adam", bounds, constraints)
    return run_transformation(obj, x, run, _adam(lr, b1, b2, eps))


@register_method("adamw")
def adamw(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    lr: float | Schedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    bounds=None,
    constraints=(),
):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay,
    x_{k+1} = x_k − η (m̂_k/(√v̂_k + ε) + λ x_k). It minimises f only for λ = 0; for
    λ > 0 its fixed points solve ∇f(x)/(|∇f(x)| + ε) ≈ −λx, not ∇f = 0.

    Options: as ``adam``, plus ``weight_decay`` λ (default 1e-2). Cost per iteration:
    one gradient."""
    require_unconstrained("adamw", bounds, constraints)
    return run_transformation(obj, x, run, _adamw(lr, b1, b2, eps, weight_decay))
