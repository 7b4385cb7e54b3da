"""First-order derivatives as the math names them: partial derivatives, directional
derivatives, the gradient, the Jacobian and its determinant, the chain rule for
composed maps, and the tangent-plane (first-order Taylor) model.

Convention: ``f`` takes one real array ``x`` (any shape; a 0-d array or a float for a
function of one variable) and returns a real array. Jacobians have the engine's shape
``f(x).shape + x.shape``; where a matrix is needed (a determinant, a product of stage
Jacobians) the input and output are flattened in C order. Everything stays
differentiable: these functions may themselves be called inside ``mc.grad`` & co.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autodiff.api import grad, jacobian, jvp

__all__ = [
    "partial",
    "directional_derivative",
    "gradient",
    "jacobian",
    "jacobian_det",
    "log_abs_det_jacobian",
    "total_derivative",
    "TotalDerivative",
    "linearize",
    "TangentModel",
]


def _shape(x) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _float_dtype(x) -> np.dtype:
    dt = np.dtype(x.dtype if hasattr(x, "dtype") else np.result_type(x))
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _as_point(x):
    """A float array of ``x`` (tracers of an enclosing transform pass through)."""
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.ndarray):
        return x  # a tracer (or an array-like the engine knows) is kept as it is
    arr = np.asarray(x)
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _fun_name(f) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _basis_vector(x, i) -> np.ndarray:
    """eᵢ with the shape of ``x``: ``i`` is an int (an index into the flattened x) or a
    tuple (a multi-index into x)."""
    shape = _shape(x)
    size = math.prod(shape)
    e = np.zeros(size, dtype=_float_dtype(x))
    if isinstance(i, tuple) and shape == () and i == ():
        flat = 0
    elif isinstance(i, tuple):
        if len(i) != len(shape) or not all(isinstance(k, (int, np.integer)) for k in i):
            raise ValueError(
                f"partial: the index {i!r} is not a multi-index into x of shape {shape}."
            )
        if not all(-n <= k < n for k, n in zip(i, shape)):
            raise IndexError(f"partial: the index {i!r} is out of range for x of shape {shape}.")
        flat = int(np.ravel_multi_index(tuple(int(k) % n for k, n in zip(i, shape)), shape))
    elif isinstance(i, (int, np.integer)) and not isinstance(i, bool):
        if not -size <= i < size:
            raise IndexError(
                f"partial: the index {i} is out of range for x of shape {shape} "
                f"({size} component(s))."
            )
        flat = int(i) % size
    else:
        raise TypeError(f"partial: the index must be an int or a tuple of ints, not {i!r}.")
    e[flat] = 1
    return e.reshape(shape)


def partial(f: Callable, i: int | tuple[int, ...]) -> Callable:
    """∂f/∂xᵢ as a function of the full point: ``partial(f, i)(x)`` = J_f(x)·eᵢ.

    ``i`` indexes ``x`` (an int: the component of the flattened ``x``; a tuple: a
    multi-index into an array-shaped ``x``). For a scalar ``f`` the result is a scalar;
    for a vector-valued ``f`` it is the column ∂f/∂xᵢ, shaped like ``f(x)``.
    Cost: one forward-mode JVP along eᵢ, about 2-3 evaluations of ``f``.
    """

    def partial_fun(x):
        x = _as_point(x)
        return jvp(f, (x,), (_basis_vector(x, i),))[1]

    partial_fun.__name__ = f"partial_{_fun_name(f)}_{i}"
    partial_fun.__doc__ = f"∂{_fun_name(f)}/∂x[{i}] at x."
    return partial_fun


def directional_derivative(f: Callable, x, u) -> Any:
    """D_u f(x) = J_f(x)·u/‖u‖, the rate of change of ``f`` per unit distance along
    ``u`` (normalised here; for the unnormalised J·u use ``mc.jvp``).

    For a scalar ``f`` this is ⟨∇f(x), u⟩/‖u‖: maximal, equal to ‖∇f‖, along ∇f and zero
    along the level set. ``u`` must have the shape of ``x``; a zero (or non-finite)
    direction is a ValueError. Cost: one forward-mode JVP (about 2-3 evaluations of f).
    """
    x = _as_point(x)
    u = np.asarray(u, dtype=_float_dtype(x))
    if u.shape != _shape(x):
        raise ValueError(
            f"directional_derivative: the direction u has shape {u.shape} but the point x "
            f"has shape {_shape(x)}; they must match."
        )
    norm = float(np.linalg.norm(u))
    if not np.isfinite(norm):
        raise ValueError(f"directional_derivative: the direction u is not finite: {u}.")
    if norm == 0.0:
        raise ValueError(
            "directional_derivative: the direction u is the zero vector, which has no "
            "direction to normalise."
        )
    return jvp(f, (x,), (u / norm,))[1]


def gradient(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """∇f, the gradient of a scalar function: the same transform as ``mc.grad``
    (``gradient(f)(x)`` has the shape of ``x``; ``argnums`` and ``has_aux`` as there).

    Cost: one reverse pass, about 2-4 evaluations of ``f``.
    """
    return grad(f, argnums, has_aux)


def _value_and_jacobian(f: Callable, x):
    """(f(x), J_f(x)) from one recording of ``f`` (``mc.jacobian(mode="auto")``, the
    value returned as its aux)."""

    def f_aux(z):
        y = f(z)
        return y, y

    J, value = jacobian(f_aux, has_aux=True)(x)
    return value, J


def _jacobian_matrix(f: Callable, x):
    """f(x), and J_f(x) flattened to a matrix (m, n), with the output and input shapes."""
    value, J = _value_and_jacobian(f, x)
    in_shape = _shape(x)
    out_shape = _shape(J)[: len(_shape(J)) - len(in_shape)]
    m, n = math.prod(out_shape), math.prod(in_shape)
    return value, np.reshape(J, (m, n)), out_shape, in_shape


def _square_jacobian(f: Callable, x, who: str):
    _, J, out_shape, in_shape = _jacobian_matrix(f, _as_point(x))
    if J.shape[0] != J.shape[1]:
        raise ValueError(
            f"{who} needs a square Jacobian, but {_fun_name(f)} maps x of shape {in_shape} "
            f"({J.shape[1]} inputs) to an output of shape {out_shape} ({J.shape[0]} "
            f"outputs): its Jacobian is {J.shape[0]}×{J.shape[1]}."
        )
    return J


def jacobian_det(f: Callable, x) -> Any:
    """det J_f(x) for a map f: ℝⁿ → ℝⁿ (input and output flattened), the local volume
    scale factor of a change of variables.

    A non-square Jacobian is a ValueError that shows its shape. Cost: one Jacobian
    (n JVPs or VJPs batched into one pass) plus an O(n³) LU factorisation.
    """
    return np.linalg.det(_square_jacobian(f, x, "jacobian_det"))


def log_abs_det_jacobian(f: Callable, x) -> Any:
    """log |det J_f(x)| for f: ℝⁿ → ℝⁿ, via ``slogdet`` (no overflow or underflow of the
    determinant itself); the log-density correction of a change of variables.

    −inf where the Jacobian is singular. Cost: as :func:`jacobian_det`.
    """
    return np.linalg.slogdet(_square_jacobian(f, x, "log_abs_det_jacobian"))[1]


@dataclasses.dataclass(frozen=True, eq=False)
class TotalDerivative:
    """The chain rule made visible for f = f_k ∘ … ∘ f_1 at x.

    ``points[0]`` is x and ``points[j]`` = f_j(points[j-1]) (so ``points[-1]`` = f(x));
    ``stage_jacobians[j]`` is J_{f_{j+1}} at ``points[j]``, shaped
    ``points[j+1].shape + points[j].shape``; ``jacobian`` is their product
    J_k ⋯ J_1 (shape ``f(x).shape + x.shape``); ``direct_jacobian`` is the Jacobian of
    the composition taken in one go, and ``residual`` the largest entry of
    |product − direct| divided by max(1, max |direct|): the chain rule holds to rounding
    when ``agrees``.
    """

    points: tuple
    stage_jacobians: tuple
    jacobian: np.ndarray
    direct_jacobian: np.ndarray
    residual: float
    agrees: bool

    @property
    def value(self):
        """f(x), the last intermediate point."""
        return self.points[-1]


def total_derivative(stages: Sequence[Callable], x, *, rtol: float = 1e-10) -> TotalDerivative:
    """The total derivative of the composition f = f_k ∘ … ∘ f_1 (``stages`` in the
    order they are applied: ``stages[0]`` first) at ``x``, by the chain rule
    J_f(x) = J_{f_k}(x_{k-1}) ⋯ J_{f_1}(x_0), with x_0 = x, x_j = f_j(x_{j-1}).

    Returns a :class:`TotalDerivative` with every intermediate point, every stage
    Jacobian, their product, and the Jacobian of the composition computed directly for
    comparison (``agrees`` when they match to ``rtol`` relative to max(1, max |J|)).
    Cost: one Jacobian per stage (``mc.jacobian(mode="auto")``, each stage recorded
    once), the matrix products, and one more Jacobian of the whole composition for the
    check.
    """
    stages = tuple(stages)
    if not stages:
        raise ValueError("total_derivative: stages is empty; give at least one function.")
    for j, s in enumerate(stages):
        if not callable(s):
            raise TypeError(f"total_derivative: stage {j} is not callable: {s!r}.")
    x = _as_point(x)
    points = [x]
    jacs = []
    product = None
    for s in stages:
        value, J, out_shape, in_shape = _jacobian_matrix(s, points[-1])
        jacs.append(np.reshape(J, out_shape + in_shape))
        points.append(value)
        product = J if product is None else J @ product

    def composed(z):
        for s in stages:
            z = s(z)
        return z

    direct = jacobian(composed)(x)
    product = np.reshape(product, _shape(direct))
    scale = max(1.0, float(np.max(np.abs(direct), initial=0.0)))
    residual = float(np.max(np.abs(product - direct), initial=0.0)) / scale
    return TotalDerivative(
        points=tuple(points),
        stage_jacobians=tuple(jacs),
        jacobian=product,
        direct_jacobian=direct,
        residual=residual,
        agrees=bool(residual <= rtol),
    )


@dataclasses.dataclass(frozen=True, eq=False)
class TangentModel:
    """The first-order Taylor model of f at ``point``:
    ``model(x) = value + jacobian·(x − point)``, the tangent plane (tangent line,
    tangent hyperplane) of a scalar f and the best affine approximation of a map.

    ``jacobian`` has shape ``value.shape + point.shape``. Call it on one point (the
    shape of ``point``) or on a batch (shape ``(n,) + point.shape``, giving
    ``(n,) + value.shape``). The error is O(‖x − point‖²) for twice-differentiable f.
    """

    point: np.ndarray
    value: np.ndarray
    jacobian: np.ndarray

    @property
    def gradient(self) -> np.ndarray:
        """∇f(point), for a scalar f (the Jacobian's only row, shaped like the point)."""
        if _shape(self.value) != ():
            raise AttributeError(
                f"gradient is defined for a scalar f; this f returns shape "
                f"{_shape(self.value)}: use .jacobian."
            )
        return self.jacobian

    def __call__(self, x):
        p_shape = _shape(self.point)
        x_shape = _shape(x)
        n_in = math.prod(p_shape)
        out_shape = _shape(self.value)
        J = np.reshape(self.jacobian, (math.prod(out_shape), n_in))
        if x_shape == p_shape:
            h = np.reshape(x - self.point, (n_in,))
            return self.value + np.reshape(J @ h, out_shape)
        if len(x_shape) == len(p_shape) + 1 and x_shape[1:] == p_shape:
            h = np.reshape(x - self.point, (x_shape[0], n_in))
            return self.value + np.reshape(h @ J.T, (x_shape[0],) + out_shape)
        raise ValueError(
            f"TangentModel: x has shape {x_shape}, but the model was built at a point of "
            f"shape {p_shape}; pass one point of that shape or a batch (n,) + {p_shape}."
        )


def linearize(f: Callable, x0) -> TangentModel:
    """The tangent-plane model of ``f`` at ``x0``: L(x) = f(x0) + J_f(x0)(x − x0).

    Unlike ``mc.linearize`` (the engine transform, which returns ``(f(x0), jvp_fn)``),
    this forms the Jacobian and returns a callable :class:`TangentModel` with
    ``.value``, ``.jacobian`` (``.gradient`` for scalar f) and ``.point``.
    Cost: one Jacobian (``mc.jacobian(mode="auto")``: f is recorded once, then n
    forward sweeps or m backward passes, batched).
    """
    x0 = _as_point(x0)
    value, J = _value_and_jacobian(f, x0)
    return TangentModel(point=x0, value=value, jacobian=J)
