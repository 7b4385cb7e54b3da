"""Composable gradient transformations for training loops over pytree parameters, in the
style of optax: a :class:`GradientTransformation` is a pair of pure functions
``init(params) -> state`` and ``update(grads, state, params=None) -> (updates, state)``;
:func:`chain` composes them; :func:`apply_updates` adds the updates to the parameters.

Convention: the updates returned by the optimizers (``sgd``, ``adam``, ...) are the steps
to *add* to the parameters (they already carry the minus sign and the learning rate).
States are NamedTuples of NumPy arrays (pytrees). Learning rates are a float or a
schedule, a callable of the step count (0 for the first update). ::

    tx = chain(clip_by_global_norm(1.0), adam(warmup_cosine_decay_schedule(0, 1e-2, 100, 1000)))
    state = tx.init(params)
    for batch in batches:
        grads = mc.grad(loss)(params, batch)
        updates, state = tx.update(grads, state, params)
        params = apply_updates(params, updates)

The flat-vector methods of ``minimize`` (``sgd``, ``momentum``, ``nesterov``, ``adagrad``,
``rmsprop``, ``adam``, ``adamw``) run these same transformations on the flat vector.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..autodiff import tree

__all__ = [
    "GradientTransformation",
    "Schedule",
    "EmptyState",
    "ScaleByScheduleState",
    "TraceState",
    "ScaleByAdamState",
    "ScaleByRmsState",
    "ScaleByRssState",
    "chain",
    "scale",
    "scale_by_schedule",
    "scale_by_learning_rate",
    "trace",
    "scale_by_adam",
    "scale_by_rms",
    "scale_by_rss",
    "add_decayed_weights",
    "clip_by_global_norm",
    "clip_by_value",
    "sgd",
    "momentum",
    "adam",
    "adamw",
    "rmsprop",
    "adagrad",
    "constant_schedule",
    "cosine_decay_schedule",
    "linear_warmup",
    "warmup_cosine_decay_schedule",
    "apply_updates",
    "global_norm",
]

Schedule = Callable[[int], float]


class GradientTransformation(NamedTuple):
    """``init(params) -> state`` and ``update(grads, state, params=None) ->
    (updates, new_state)``; pure functions (the state passed in is never modified)."""

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


class EmptyState(NamedTuple):
    """The state of a stateless transformation."""


class ScaleByScheduleState(NamedTuple):
    count: np.ndarray  # updates made so far (int64, shape ())


class TraceState(NamedTuple):
    trace: Any  # the momentum buffer, a pytree like the params


class ScaleByAdamState(NamedTuple):
    count: np.ndarray
    mu: Any  # first-moment estimate
    nu: Any  # second-moment estimate


class ScaleByRmsState(NamedTuple):
    nu: Any  # running mean of g²


class ScaleByRssState(NamedTuple):
    sum_of_squares: Any  # running sum of g²


# -- helpers ------------------------------------------------------------------------
def _zeros(p) -> np.ndarray:
    p = np.asarray(p)
    dtype = p.dtype if np.issubdtype(p.dtype, np.floating) else np.float64
    return np.zeros(p.shape, dtype=dtype)


def _count0() -> np.ndarray:
    return np.zeros((), dtype=np.int64)


def _next(count: np.ndarray) -> np.ndarray:
    return np.asarray(count + 1, dtype=np.int64)


def _check_rate(name: str, what: str, value: float, lo: float = 0.0, hi: float = 1.0) -> float:
    """A float in [lo, hi), or an error naming the transformation and the argument."""
    v = float(value)
    if not lo <= v < hi:
        raise ValueError(f"{name}: {what} must lie in [{lo}, {hi}); got {value!r}.")
    return v


def _check_nonneg(name: str, what: str, value: float) -> float:
    v = float(value)
    if not (np.isfinite(v) and v >= 0):
        raise ValueError(f"{name}: {what} must be a finite number ≥ 0; got {value!r}.")
    return v


def global_norm(updates) -> float:
    """‖u‖₂ over all leaves of a pytree, √(Σ_leaves Σ u²). O(size)."""
    return float(np.sqrt(sum(float(np.sum(np.square(u))) for u in tree.leaves(updates))))


# -- combinators and scalings -------------------------------------------------------
def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` in order: the updates of each are the input of the next. The
    state is the tuple of their states."""
    for t in transforms:
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"chain: expected GradientTransformations; got {type(t).__name__}.")

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params=None):
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)


def scale(step_size: float) -> GradientTransformation:
    """u ← s·u. Stateless; O(size)."""
    s = float(step_size)

    def update(updates, state, params=None):
        return tree.map(lambda u: s * u, updates), state

    return GradientTransformation(lambda params: EmptyState(), update)


def scale_by_schedule(step_size_fn: Schedule) -> GradientTransformation:
    """u ← s(k)·u, k the number of earlier updates (0 for the first). O(size)."""
    if not callable(step_size_fn):
        raise TypeError("scale_by_schedule: step_size_fn must be a callable of the step count.")

    def update(updates, state, params=None):
        s = float(step_size_fn(int(state.count)))
        return tree.map(lambda u: s * u, updates), ScaleByScheduleState(_next(state.count))

    return GradientTransformation(lambda params: ScaleByScheduleState(_count0()), update)


def scale_by_learning_rate(learning_rate: float | Schedule) -> GradientTransformation:
    """u ← −η·u (gradient *descent*) for a float η ≥ 0 or a schedule η(k)."""
    if callable(learning_rate):
        return scale_by_schedule(lambda k: -float(learning_rate(k)))
    return scale(-_check_nonneg("scale_by_learning_rate", "learning_rate", learning_rate))


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum buffer: t_k = g_k + β t_{k−1} (t_0 = 0), u = t_k, or with ``nesterov``
    u = g_k + β t_k (Sutskever et al. 2013). Followed by a learning rate −η this is the
    heavy ball x_{k+1} = x_k − η g_k + β (x_k − x_{k−1}). O(size), one buffer."""
    beta = _check_rate("trace", "the decay β", decay)

    def init(params):
        return TraceState(tree.map(_zeros, params))

    def update(updates, state, params=None):
        t = tree.map(lambda g, m: g + beta * m, updates, state.trace)
        out = tree.map(lambda g, m: g + beta * m, updates, t) if nesterov else t
        return out, TraceState(t)

    return GradientTransformation(init, update)


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam's rescaling (Kingma & Ba 2015): m_k = β₁m + (1−β₁)g, v_k = β₂v + (1−β₂)g²,
    u = m̂/(√v̂ + ε) with the bias corrections m̂ = m_k/(1−β₁ᵏ), v̂ = v_k/(1−β₂ᵏ) (so the
    first update is g/(|g| + ε) ≈ sign g). O(size), two buffers."""
    b1 = _check_rate("scale_by_adam", "b1", b1)
    b2 = _check_rate("scale_by_adam", "b2", b2)
    eps = _check_nonneg("scale_by_adam", "eps", eps)

    def init(params):
        return ScaleByAdamState(_count0(), tree.map(_zeros, params), tree.map(_zeros, params))

    def update(updates, state, params=None):
        k = _next(state.count)
        mu = tree.map(lambda g, m: b1 * m + (1.0 - b1) * g, updates, state.mu)
        nu = tree.map(lambda g, v: b2 * v + (1.0 - b2) * (g * g), updates, state.nu)
        c1, c2 = 1.0 - b1 ** int(k), 1.0 - b2 ** int(k)
        out = tree.map(lambda m, v: (m / c1) / (np.sqrt(v / c2) + eps), mu, nu)
        return out, ScaleByAdamState(k, mu, nu)

    return GradientTransformation(init, update)


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8) -> GradientTransformation:
    """RMSprop's rescaling (Tieleman & Hinton 2012): v_k = ρv + (1−ρ)g² (v_0 = 0),
    u = g/(√v_k + ε). O(size), one buffer."""
    rho = _check_rate("scale_by_rms", "decay", decay)
    eps = _check_nonneg("scale_by_rms", "eps", eps)

    def init(params):
        return ScaleByRmsState(tree.map(_zeros, params))

    def update(updates, state, params=None):
        nu = tree.map(lambda g, v: rho * v + (1.0 - rho) * (g * g), updates, state.nu)
        out = tree.map(lambda g, v: g / (np.sqrt(v) + eps), updates, nu)
        return out, ScaleByRmsState(nu)

    return GradientTransformation(init, update)


def scale_by_rss(initial_accumulator: float = 0.0, eps: float = 1e-10) -> GradientTransformation:
    """AdaGrad's rescaling (Duchi, Hazan & Singer 2011): G_k = G_{k−1} + g² (G_0 the
    initial accumulator), u = g/(√G_k + ε). O(size), one buffer."""
    g0 = _check_nonneg("scale_by_rss", "initial_accumulator", initial_accumulator)
    eps = _check_nonneg("scale_by_rss", "eps", eps)

    def init(params):
        return ScaleByRssState(tree.map(lambda p: _zeros(p) + g0, params))

    def update(updates, state, params=None):
        ss = tree.map(lambda g, s: s + g * g, updates, state.sum_of_squares)
        out = tree.map(lambda g, s: g / (np.sqrt(s) + eps), updates, ss)
        return out, ScaleByRssState(ss)

    return GradientTransformation(init, update)


def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    """u ← u + λ·params (decoupled weight decay when it comes after the adaptive
    rescaling and before the learning rate, as in AdamW). Needs ``params``. O(size)."""
    wd = _check_nonneg("add_decayed_weights", "weight_decay", weight_decay)

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("add_decayed_weights: update(grads, state, params) needs params.")
        return tree.map(lambda u, p: u + wd * p, updates, params), state

    return GradientTransformation(lambda params: EmptyState(), update)


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """u ← u·min(1, c/‖u‖) with ‖u‖ the norm over all leaves: the direction is kept, the
    norm capped at c; updates with ‖u‖ ≤ c pass unchanged. O(size)."""
    c = float(max_norm)
    if not c > 0:
        raise ValueError(f"clip_by_global_norm: max_norm must be > 0; got {max_norm!r}.")

    def update(updates, state, params=None):
        n = global_norm(updates)
        if n <= c:
            return updates, state
        return tree.map(lambda u: u * (c / n), updates), state

    return GradientTransformation(lambda params: EmptyState(), update)


def clip_by_value(lo: float, hi: float) -> GradientTransformation:
    """u ← clip(u, lo, hi) elementwise. O(size)."""
    lo, hi = float(lo), float(hi)
    if not lo <= hi:
        raise ValueError(f"clip_by_value: need lo ≤ hi; got lo={lo}, hi={hi}.")

    def update(updates, state, params=None):
        return tree.map(lambda u: np.clip(u, lo, hi), updates), state

    return GradientTransformation(lambda params: EmptyState(), update)


# -- optimizers -----------------------------------------------------------------------
def sgd(
    learning_rate: float | Schedule, momentum: float = 0.0, nesterov: bool = False
) -> GradientTransformation:
    """Stochastic gradient descent u = −η g, with heavy-ball momentum β (``momentum``)
    or Nesterov momentum (``nesterov=True``), as in :func:`trace`."""
    if momentum:
        return chain(trace(momentum, nesterov), scale_by_learning_rate(learning_rate))
    return chain(scale_by_learning_rate(learning_rate))


def momentum(
    learning_rate: float | Schedule, beta: float = 0.9, nesterov: bool = False
) -> GradientTransformation:
    """Heavy ball (Polyak 1964) x_{k+1} = x_k − η ∇f(x_k) + β (x_k − x_{k−1}); with
    ``nesterov`` the accelerated form u = −η (g_k + β t_k) of :func:`trace`."""
    return chain(trace(beta, nesterov), scale_by_learning_rate(learning_rate))


def adam(
    learning_rate: float | Schedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """Adam: u = −η m̂/(√v̂ + ε) (:func:`scale_by_adam`)."""
    return chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(learning_rate))


def adamw(
    learning_rate: float | Schedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
) -> GradientTransformation:
    """AdamW (Loshchilov & Hutter 2019): u = −η (m̂/(√v̂ + ε) + λ·params); the decay is
    decoupled from the adaptive rescaling (a zero gradient shrinks params by η λ params)."""
    return chain(
        scale_by_adam(b1, b2, eps),
        add_decayed_weights(weight_decay),
        scale_by_learning_rate(learning_rate),
    )


def rmsprop(
    learning_rate: float | Schedule, decay: float = 0.9, eps: float = 1e-8
) -> GradientTransformation:
    """RMSprop: u = −η g/(√v + ε), v the running mean of g² (:func:`scale_by_rms`)."""
    return chain(scale_by_rms(decay, eps), scale_by_learning_rate(learning_rate))


def adagrad(
    learning_rate: float | Schedule, initial_accumulator: float = 0.0, eps: float = 1e-10
) -> GradientTransformation:
    """AdaGrad: u = −η g/(√G + ε), G the running sum of g² (:func:`scale_by_rss`)."""
    return chain(scale_by_rss(initial_accumulator, eps), scale_by_learning_rate(learning_rate))


# -- schedules ------------------------------------------------------------------------
def constant_schedule(value: float) -> Schedule:
    """η(k) = value."""
    v = float(value)
    return lambda count: v


def _steps(name: str, what: str, n, minimum: int) -> int:
    if int(n) != n or n < minimum:
        raise ValueError(f"{name}: {what} must be an integer ≥ {minimum}; got {n!r}.")
    return int(n)


def _cosine(start: float, end: float, steps: int) -> Schedule:
    def schedule(count: int) -> float:
        t = min(max(count, 0), steps) / steps
        return end + (start - end) * 0.5 * (1.0 + np.cos(np.pi * t))

    return schedule


def cosine_decay_schedule(init_value: float, decay_steps: int, alpha: float = 0.0) -> Schedule:
    """Cosine decay (Loshchilov & Hutter 2017): η(k) = η₀((1−α)·½(1 + cos(π k/K)) + α)
    for k ≤ K = ``decay_steps``, then α η₀. η(0) = η₀, η(K) = α η₀."""
    k = _steps("cosine_decay_schedule", "decay_steps", decay_steps, 1)
    return _cosine(float(init_value), float(alpha) * float(init_value), k)


def linear_warmup(
    peak_value: float,
    warmup_steps: int,
    init_value: float = 0.0,
    then: Schedule | None = None,
) -> Schedule:
    """Linear warmup: η(k) = η_init + (η_peak − η_init)·k/W for k < W = ``warmup_steps``;
    from k = W on, η_peak, or ``then(k − W)`` when a following schedule is given."""
    w = _steps("linear_warmup", "warmup_steps", warmup_steps, 0)
    lo, hi = float(init_value), float(peak_value)

    def schedule(count: int) -> float:
        if count < w:
            return lo + (hi - lo) * count / w
        return hi if then is None else float(then(count - w))

    return schedule


def warmup_cosine_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float = 0.0,
) -> Schedule:
    """Linear warmup from ``init_value`` to ``peak_value`` over ``warmup_steps``, then
    cosine decay to ``end_value``, reached at step ``decay_steps`` (which counts the
    warmup, as in optax)."""
    w = _steps("warmup_cosine_decay_schedule", "warmup_steps", warmup_steps, 0)
    k = _steps("warmup_cosine_decay_schedule", "decay_steps", decay_steps, w + 1)
    return linear_warmup(peak_value, w, init_value,
                         then=_cosine(float(peak_value), float(end_value), k - w))


# -- applying -------------------------------------------------------------------------
def apply_updates(params, updates):
    """params + updates, leafwise, keeping each parameter's floating dtype. O(size)."""

    def add(p, u):
        p = np.asarray(p)
        out = p + u
        return out.astype(p.dtype, copy=False) if np.issubdtype(p.dtype, np.floating) else out

    return tree.map(add, params, updates)
