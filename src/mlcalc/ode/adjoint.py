"""The adjoint method (Chen, Rubanova, Bettencourt and Duvenaud, *Neural ODEs*, 2018):
reverse-mode derivatives of an ODE solution with respect to y0 and the parameters by
integrating the adjoint system backwards in time.

With a(t) = ∂L/∂y(t) and θ the (flattened) parameters,

    dy/dt = f(y, t, θ),   da/dt = −aᵀ ∂f/∂y,   d(∂L/∂θ)/dt = −aᵀ ∂f/∂θ,

integrated from the last requested time to the first, the state y re-integrated
backwards alongside (so nothing of the forward steps is stored), and each requested
time's cotangent added to a when the backward solve passes it. Memory: the states at the
requested times only, independent of the number of steps. Each backward right-hand side
costs one vector–Jacobian product of f (about 2–3 evaluations of f).

The gradient solves a continuous problem with the solver's own error, so it matches the
direct (through-the-steps) derivative to about the solver's tolerance, not to rounding.
Re-integrating y backwards is accurate for non-stiff, non-dissipative-dominated
problems; strongly contracting dynamics amplify the backward error (use the direct
derivative there). First-order reverse mode only (forward mode, e.g. ``hessian``,
differentiates through the steps).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff import tree
from ..autodiff.api import vjp
from ..autodiff.custom import custom_vjp
from .runge_kutta import integrate_flat

__all__ = ["adjoint_solve"]


def _ravel(parts) -> np.ndarray:
    flat = [np.ravel(np.asarray(p, dtype=float)) for p in parts]
    return np.concatenate(flat) if flat else np.zeros(0)


def _split(v: np.ndarray, shapes: list[tuple]) -> list[np.ndarray]:
    out, k = [], 0
    for s in shapes:
        n = int(np.prod(s, dtype=np.int64))
        out.append(v[k:k + n].reshape(s))
        k += n
    return out


def adjoint_solve(f: Callable, y0, times: np.ndarray, args: tuple, **solver) -> np.ndarray:
    """``integrate_flat(f, y0, times, args, **solver)`` (a 1-D state) whose reverse-mode
    derivative with respect to y0 and the leaves of ``args`` comes from the adjoint ODE
    (see the module docstring); ``solver`` holds method, rtol, atol, steps_per_interval,
    first_step and max_steps, used by both the forward and the backward solve."""
    arg_leaves, arg_def = tree.flatten(args)

    def call(y, t, leaves):
        return f(y, t, *tree.unflatten(arg_def, list(leaves)))

    @custom_vjp
    def solve(y0, *leaves):
        return integrate_flat(lambda y, t: call(y, t, leaves), y0, times, (), **solver)

    def fwd(y0, *leaves):
        ys = solve(y0, *leaves)
        return ys, (np.asarray(ys, dtype=float), leaves)

    def bwd(res, g):
        ys, leaves = res
        leaves = [np.asarray(x, dtype=float) for x in leaves]
        shapes = [x.shape for x in leaves]
        n = ys.shape[1]

        def augmented(state, t):
            y, a = state[:n], state[n:2 * n]
            dy, pull = vjp(lambda yy, *ll: call(yy, t, ll), y, *leaves)
            cts = pull(a)
            return np.concatenate([np.asarray(dy, dtype=float), -_ravel(cts)])

        g = np.asarray(g, dtype=float)
        a = g[-1].copy()
        a_theta = np.zeros(sum(int(np.prod(s, dtype=np.int64)) for s in shapes))
        for k in range(len(times) - 1, 0, -1):
            state = np.concatenate([ys[k], a, a_theta])
            # d/dt of [y, a, a_θ] is [f, −aᵀf_y, −aᵀf_θ]: integrate from times[k] down
            back = integrate_flat(augmented, state,
                                  np.array([times[k], times[k - 1]]), (), **solver)[-1]
            back = np.asarray(back, dtype=float)
            a = back[n:2 * n] + g[k - 1]
            a_theta = back[2 * n:]
        return (a, *_split(a_theta, shapes))

    solve.defvjp(fwd, bwd)
    return solve(y0, *arg_leaves)
