"""The adjoint method for odeint (Chen et al. 2018): reverse-mode derivatives with
respect to y0 and args by integrating the adjoint system backwards in time, keeping only
the states at the requested times (memory independent of the number of steps)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff.api import vjp
from ..autodiff.custom import custom_vjp
from .solvers import odeint

__all__ = ["odeint_adjoint"]


def _flat(parts) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(p, dtype=float)) for p in parts]) if parts else (
        np.zeros(0)
    )


def _split(v, shapes):
    out, k = [], 0
    for s in shapes:
        n = int(np.prod(s, dtype=np.int64))
        out.append(v[k : k + n].reshape(s))
        k += n
    return out


def odeint_adjoint(f: Callable, y0, t, args: tuple = (), rtol: float = 1e-8,
                   atol: float = 1e-10, method: str = "rk45"):
    """``odeint`` whose reverse-mode derivative comes from the adjoint ODE: with a(t) =
    ∂L/∂y(t), da/dt = −aᵀ∂f/∂y and d(∂L/∂θ)/dt = −aᵀ∂f/∂θ, integrated from the last time
    back to the first (with y re-integrated backwards alongside), adding each output
    time's cotangent to a on the way. Memory: the states at the times ``t`` only. The
    backward solve uses the same method and tolerances, so the gradient is accurate to
    about the solver's tolerance (not to rounding, as differentiating the steps is)."""
    times = np.asarray(t, dtype=float)

    @custom_vjp
    def solve(y0, *args):
        return odeint(f, y0, times, args=args, method=method, rtol=rtol, atol=atol)

    def fwd(y0, *args):
        ys = solve(y0, *args)
        return ys, (ys, args)

    def bwd(res, g):
        ys, args = res
        y_shape = np.shape(ys)[1:]
        arg_shapes = [np.shape(a) for a in args]
        n_y = int(np.prod(y_shape, dtype=np.int64))

        def augmented(state, s):  # s = −t: the system integrated forwards in s
            y, a = state[:n_y].reshape(y_shape), state[n_y : 2 * n_y].reshape(y_shape)
            t_now = -s
            _, pull = vjp(lambda yy, *aa: f(yy, t_now, *aa), y, *args)
            cts = pull(a)
            dy = np.asarray(f(y, t_now, *args), dtype=float)
            return np.concatenate([-dy.ravel(), _flat(cts)])

        g = np.asarray(g, dtype=float)
        a = g[-1].copy()
        a_args = np.zeros(sum(int(np.prod(s, dtype=np.int64)) for s in arg_shapes))
        for k in range(len(times) - 1, 0, -1):
            state = np.concatenate([np.ravel(ys[k]), a.ravel(), a_args])
            sol = odeint(augmented, state, np.array([-times[k], -times[k - 1]]),
                         method=method, rtol=rtol, atol=atol)[-1]
            a = sol[n_y : 2 * n_y].reshape(y_shape) + g[k - 1]
            a_args = sol[2 * n_y :]
        return (a, *_split(a_args, arg_shapes))

    solve.defvjp(fwd, bwd)
    return solve(y0, *args)
