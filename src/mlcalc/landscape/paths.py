"""The loss along paths between two solutions: straight lines (linear interpolation) and
trained curves (mode connectivity).

Linear interpolation: θ(t) = (1 − t) a + t b, t ∈ [0, 1] (Goodfellow et al. 2015; the
"linear mode connectivity" of Frankle, Dziugaite, Roy & Carbin, ICML 2020). Two barrier
heights are reported:

* ``barrier`` = max_t L(θ(t)) − max(L(a), L(b)): the height of the path above its higher
  end (the convention of Garipov et al. 2018 and Draxler et al. 2018); 0 when the loss
  never rises above both ends;
* ``barrier_mean`` = max_t L(θ(t)) − ½(L(a) + L(b)): Frankle et al.'s definition (they
  apply it to the error; with ``accuracy=True`` ``error_barrier`` is that quantity for the
  error 1 − accuracy, on the grid).

The maximum is taken on the grid of ``n`` points and, with ``refine=True``, polished by a
bounded Brent search between the grid neighbours of the largest value.

Mode connectivity (Garipov, Izmailov, Podoprikhin, Vetrov & Wilson, "Loss Surfaces, Mode
Connectivity, and Fast Ensembling of DNNs", NeurIPS 2018): a curve θ_c(t) with fixed ends
a, b and a trainable bend c,

* ``kind="bezier"``: θ(t) = (1 − t)² a + 2t(1 − t) c + t² b (quadratic Bézier curve);
* ``kind="polychain"``: θ(t) = (1 − 2t) a + 2t c for t ≤ ½, (2 − 2t) c + (2t − 1) b after
  (a polygonal chain with one bend),

with c trained to minimise E_{t∼U[0,1]} L(θ_c(t)) by Adam (:mod:`mlcalc.optimize.transforms`)
on the stochastic gradient (dθ/dc)(t) ∇L(θ(t)), dθ/dc = 2t(1 − t) for the Bézier curve,
2t then 2(1 − t) for the chain (one problem gradient per sampled t).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from ..autodiff import tree
from ..optimize import transforms as tx
from .directions import as_flat
from .scan import (
    ScanMismatchError,
    _checkpointing,
    _hash_update,
    _load,
    _out_path,
    _write_atomic,
    problem_fingerprint,
    scan_grid,
)

__all__ = ["Interpolation", "ModeConnection", "interpolate", "mode_connect", "curve_point"]


@dataclasses.dataclass(frozen=True)
class Interpolation:
    """The loss along θ(t) = (1 − t) a + t b.

    ``ts``, ``losses`` (and ``accuracies`` or ``None``) on the grid; ``loss_a``, ``loss_b``
    the ends; ``t_max``, ``loss_max`` the highest point (refined between grid points when
    asked); ``barrier`` = loss_max − max(loss_a, loss_b); ``barrier_mean`` = loss_max −
    (loss_a + loss_b)/2 (Frankle et al. 2020); ``error_barrier``: the latter for the error
    1 − accuracy (``None`` without accuracies); ``n_evaluated`` loss evaluations made by
    this call (grid points not loaded from ``path``, plus the refinement's)."""

    ts: np.ndarray
    losses: np.ndarray
    accuracies: np.ndarray | None
    loss_a: float
    loss_b: float
    t_max: float
    loss_max: float
    barrier: float
    barrier_mean: float
    error_barrier: float | None
    n_evaluated: int
    path: str | None


@dataclasses.dataclass(frozen=True)
class ModeConnection:
    """A trained curve between two solutions against the straight line.

    ``kind``; ``bend`` c (flat); ``ts``, ``curve_losses`` the loss along the curve and
    ``line`` the :class:`Interpolation` along the straight line, on the same ts;
    ``curve_max`` / ``line_max`` the largest losses (refined), ``curve_barrier`` /
    ``line_barrier`` these minus max(L(a), L(b)); ``train_losses`` the stochastic
    estimates of E_t L(θ(t)) at each step (the mean over the step's sampled t);
    ``n_steps`` steps made in all, ``n_grad`` problem gradients computed by this call."""

    kind: str
    bend: np.ndarray
    ts: np.ndarray
    curve_losses: np.ndarray
    line: Interpolation
    curve_max: float
    line_max: float
    curve_barrier: float
    line_barrier: float
    train_losses: np.ndarray
    n_steps: int
    n_grad: int
    path: str | None


def _max_along(f, ts: np.ndarray, values: np.ndarray, refine: bool) -> tuple[float, float, int]:
    """(t*, f(t*), extra evaluations): the grid maximum, polished by a bounded Brent
    search on [t_{i−1}, t_{i+1}] around an interior grid maximum."""
    i = int(np.nanargmax(values))
    t_best, f_best = float(ts[i]), float(values[i])
    if not refine or i == 0 or i == len(ts) - 1:
        return t_best, f_best, 0
    res = minimize_scalar(lambda t: -f(t), bounds=(ts[i - 1], ts[i + 1]), method="bounded",
                          options={"xatol": 1e-9})
    if np.isfinite(res.fun) and -res.fun > f_best:
        t_best, f_best = float(res.x), float(-res.fun)
    return t_best, f_best, int(res.nfev)


def _ts(n) -> np.ndarray:
    if int(n) != n or int(n) < 2:
        raise ValueError(f"n: expected an integer ≥ 2 (points along the path), got {n!r}")
    return np.linspace(0.0, 1.0, int(n))


def interpolate(
    problem: Any,
    params_a: Any,
    params_b: Any,
    *,
    n: int = 51,
    refine: bool = True,
    accuracy: bool = False,
    out: str | os.PathLike | None = None,
    save_every: int = 10,
    progress: bool = False,
) -> Interpolation:
    """The loss along the straight line θ(t) = (1 − t) a + t b on ``n`` equally spaced
    t ∈ [0, 1], with its barrier heights (module docstring). ``params_a``, ``params_b``:
    pytrees or flat vectors. ``out``: an ``.npz`` file to save to and resume from.
    Cost: n loss evaluations, plus ≈ 10–25 for the refinement."""
    a = as_flat(problem, params_a, "params_a")
    b = as_flat(problem, params_b, "params_b")
    ts = _ts(n)

    def point(t):
        return (1.0 - t) * a + t * b

    def evaluate(t):
        w = point(t)
        loss = float(problem.loss(w))
        if not accuracy:
            return loss
        acc = problem.accuracy(w)
        return loss, (np.nan if acc is None else float(acc))

    fields = ("loss", "accuracy") if accuracy else ("loss",)
    scan = scan_grid(
        evaluate, [ts], fields=fields, out=out,
        meta={"a": a, "b": b} if out is None else
        {"a": a, "b": b, "problem": np.array(problem_fingerprint(problem))},
        save_every=save_every, progress=progress, description="interpolate",
    )
    losses = scan.field("loss").copy()
    t_max, loss_max, extra = _max_along(lambda t: problem.loss(point(t)), ts, losses, refine)
    la, lb = float(losses[0]), float(losses[-1])
    accs = scan.field("accuracy").copy() if accuracy else None
    error_barrier = None
    if accs is not None and np.all(np.isfinite(accs)):
        err = 1.0 - accs
        error_barrier = float(err.max() - 0.5 * (err[0] + err[-1]))
    return Interpolation(
        ts, losses, accs, la, lb, t_max, loss_max, loss_max - max(la, lb),
        loss_max - 0.5 * (la + lb), error_barrier, scan.n_evaluated + extra, scan.path,
    )


_KINDS = ("bezier", "polychain")


def curve_point(kind: str, a: np.ndarray, b: np.ndarray, c: np.ndarray,
                t: float) -> tuple[np.ndarray, float]:
    """(θ(t), dθ/dc(t)) for the curve ``kind`` with ends a, b and bend c (module
    docstring); dθ/dc is a scalar multiple of the identity."""
    if kind == "bezier":
        return (1 - t) ** 2 * a + 2 * t * (1 - t) * c + t ** 2 * b, 2 * t * (1 - t)
    if kind == "polychain":
        if t <= 0.5:
            return (1 - 2 * t) * a + 2 * t * c, 2 * t
        return (2 - 2 * t) * c + (2 * t - 1) * b, 2 * (1 - t)
    raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")


def _fingerprint(problem, a, b, c0, kind, steps, learning_rate, n_samples, entropy) -> str:
    h = hashlib.sha256()
    for name, arr in (("a", a), ("b", b), ("c0", c0)):
        _hash_update(h, name, arr)
    rate = (getattr(learning_rate, "__qualname__", "schedule") if callable(learning_rate)
            else repr(float(learning_rate)))  # a schedule is known by its name only
    h.update(f"{kind}|{steps}|{rate}|{n_samples}|{entropy}|".encode())
    h.update(problem_fingerprint(problem).encode())
    return h.hexdigest()


def mode_connect(
    problem: Any,
    params_a: Any,
    params_b: Any,
    kind: str = "bezier",
    *,
    steps: int = 500,
    learning_rate: float | Callable[[int], float] = 1e-2,
    n_samples: int = 1,
    init: Any = None,
    n: int = 51,
    refine: bool = True,
    seed: int | None = 0,
    out: str | os.PathLike | None = None,
    save_every: int = 50,
    progress: bool = False,
) -> ModeConnection:
    """Train a curve between two solutions a, b (Garipov et al. 2018; module docstring)
    and compare the largest loss along it with the straight line's.

    The bend c starts at ``init`` (default the midpoint (a + b)/2) and takes ``steps``
    Adam steps of size ``learning_rate`` (a number or a schedule of the step; a
    checkpoint knows a schedule by its name only) on the mean of (dθ/dc)(t)∇L(θ(t)) over
    ``n_samples`` t ∼ U[0, 1] per step (drawn from ``seed`` and the step number, so a run
    is reproducible and a resumed one identical). The trained curve and the line are
    then evaluated at ``n`` equally spaced t. ``out``: an ``.npz`` checkpoint (bend,
    optimizer state, step) written atomically every ``save_every`` steps and when the
    run stops; a rerun with the same inputs continues from it.
    Cost: steps·n_samples problem gradients, plus 2n (+ refinement) loss evaluations.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be an integer ≥ 0, got {steps!r}")
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if int(save_every) < 1:
        raise ValueError(f"save_every must be a positive integer, got {save_every!r}")
    steps, n_samples, save_every = int(steps), int(n_samples), int(save_every)
    a = as_flat(problem, params_a, "params_a")
    b = as_flat(problem, params_b, "params_b")
    c0 = 0.5 * (a + b) if init is None else as_flat(problem, init, "init")
    entropy = np.random.SeedSequence(seed).entropy
    opt = tx.adam(learning_rate)
    c = c0.copy()
    state = opt.init(c)
    _, state_def = tree.flatten(state)
    step = 0
    train_losses = np.full(steps, np.nan)
    path = _out_path(out)
    fp = "" if path is None else _fingerprint(problem, a, b, c0, kind, steps, learning_rate,
                                              n_samples, entropy)
    if path is not None and path.exists():
        stored = _load(path)
        if str(stored.get("fingerprint", "")) != fp or "bend" not in stored:
            raise ScanMismatchError(
                f"out={str(path)!r} holds a mode connection of different inputs (ends, "
                "init, kind, steps, learning_rate, n_samples, seed or problem), so it "
                "cannot be resumed; use the same inputs, or another out= path"
            )
        c, step = stored["bend"].copy(), int(stored["step"])
        train_losses = stored["train_losses"].copy()
        n_leaves = int(stored["n_state"])
        state = tree.unflatten(state_def, [stored[f"state{i}"] for i in range(n_leaves)])

    def save():
        if path is None:
            return
        leaves = tree.leaves(state)
        arrays = {f"state{i}": np.asarray(x) for i, x in enumerate(leaves)}
        arrays.update(bend=c, step=np.array(step), train_losses=train_losses,
                      n_state=np.array(len(leaves)), fingerprint=np.array(fp))
        _write_atomic(path, arrays)

    n_grad = 0
    with _checkpointing(save, save_every, path, steps, step, f"mode_connect ({kind})",
                        progress and step < steps) as tick:
        while step < steps:
            rng = np.random.default_rng([entropy, step])
            g = np.zeros_like(c)
            total = 0.0
            for t in rng.uniform(0.0, 1.0, n_samples):
                w, dw_dc = curve_point(kind, a, b, c, float(t))
                value, gw = problem.value_and_grad(w)
                n_grad += 1
                total += float(value)
                g += dw_dc * np.asarray(gw, dtype=float)
            updates, state = opt.update(g / n_samples, state, c)
            c = np.asarray(tx.apply_updates(c, updates), dtype=float)
            train_losses[step] = total / n_samples
            step += 1
            tick()

    line = interpolate(problem, a, b, n=n, refine=refine)
    ts = line.ts

    def curve_loss(t):
        return float(problem.loss(curve_point(kind, a, b, c, float(t))[0]))

    curve = scan_grid(curve_loss, [ts], description="curve").field("loss").copy()
    _, curve_max, _ = _max_along(curve_loss, ts, curve, refine)
    top = max(line.loss_a, line.loss_b)
    return ModeConnection(
        kind, c, ts, curve, line, curve_max, line.loss_max, curve_max - top,
        line.loss_max - top, train_losses, step, n_grad,
        None if path is None else str(path),
    )
