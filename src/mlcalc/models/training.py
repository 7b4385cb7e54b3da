"""Building problems from names (:func:`make_problem`) and training them
(:func:`train`).

``train`` runs the optax-style transformations of :mod:`mlcalc.optimize.transforms`
(``sgd``, ``momentum``, ``nesterov``, ``adam``, ``adamw``, ``rmsprop``, ``adagrad``) over
shuffled mini-batches or the full data, or any full-batch method of
:func:`mlcalc.optimize.minimize` (``lbfgs``, ``bfgs``, ``newton_cg``, ``gd``...). It
records the loss at every step and the flat parameters every ``record_every`` steps
(the trajectory that trajectory PCA reads).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autodiff import tree
from ..autodiff.api import value_and_grad
from .data import DATASETS, load_arrays
from .layers import Sequential, logistic_regression, mlp
from .losses import cross_entropy, get_loss, logistic, mse
from .problem import Problem

__all__ = ["make_problem", "train", "TrainResult", "DEFAULT_HIDDEN", "TRANSFORM_METHODS"]

DEFAULT_HIDDEN = (24, 24)
"""Hidden widths of the default MLP: 2 → 24 → 24 → 2, 722 parameters."""

_DEFAULT_N = {"spirals": 300, "moons": 300, "blobs": 300, "teacher": 200}


def _data_key(name: str) -> str:
    return {"two_spirals": "spirals", "two_moons": "moons", "teacher_student": "teacher"}.get(
        name, name)


def make_problem(
    model: str | Sequential = "mlp",
    data: str | os.PathLike | tuple = "spirals",
    hidden: int | Sequence[int] = DEFAULT_HIDDEN,
    n: int | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    activation: str | Callable = "tanh",
    loss: str | Callable | None = None,
    init: str | Callable = "glorot",
    residual: bool = False,
    layer_norm: bool = False,
    weight_decay: float = 0.0,
    data_options: dict | None = None,
) -> Problem:
    """A :class:`Problem` from names: a model on a data set, at fresh parameters.

    ``model``: ``"mlp"`` (widths [d_in, *hidden, d_out]), ``"logistic"`` (a linear
    model) or a :class:`Sequential`. ``data``: ``"spirals"``, ``"moons"``, ``"blobs"``,
    ``"teacher"`` (generated from ``seed`` with ``n`` examples and ``data_options``,
    e.g. ``{"noise": 0.2}`` or ``{"classes": 4, "dim": 5}``), a path to an ``.npz`` with
    ``X`` and ``y``, or a pair ``(X, y)``. The default loss follows the targets:
    cross-entropy with one logit per class for integer labels, squared error for real
    targets; ``loss="logistic"`` uses one logit for binary labels. ``weight_decay`` λ
    adds (λ/2)‖w‖² to the loss. Parameters are drawn from ``seed``.

    The default (an MLP 2 → 24 → 24 → 2, tanh, on 300 two-spiral points) trains to
    ≥ 95 % training accuracy with ``train(problem)`` in a few seconds.
    """
    opts = dict(data_options or {})
    if isinstance(data, str) and data.lower() in DATASETS:
        key = _data_key(data.lower())
        size = int(n) if n is not None else _DEFAULT_N[key]
        X, y = DATASETS[key](n=size, seed=seed, **opts)
        data_name = key
    elif isinstance(data, (str, os.PathLike)):
        if not os.fspath(data).endswith(".npz") and not os.path.exists(os.fspath(data)):
            raise ValueError(
                f"make_problem: unknown data {data!r}; use one of "
                f"{', '.join(sorted(set(map(_data_key, DATASETS))))}, a path to an .npz file "
                "or a pair (X, y)"
            )
        X, y = load_arrays(data, **opts)
        data_name = os.path.splitext(os.path.basename(os.fspath(data)))[0]
        if n is not None:
            X, y = X[: int(n)], y[: int(n)]
    else:
        X, y = load_arrays(data, **opts)
        data_name = "arrays"
        if n is not None:
            X, y = X[: int(n)], y[: int(n)]

    classification = np.issubdtype(y.dtype, np.integer)
    if loss is None:
        loss_fn = cross_entropy if classification else mse
    else:
        loss_fn = get_loss(loss)
    if loss_fn is cross_entropy:
        if not classification:
            raise ValueError("make_problem: cross_entropy needs integer class labels y; got "
                             f"dtype {y.dtype}")
        out_dim = int(y.max()) + 1
    elif loss_fn is logistic:
        out_dim = 1
    elif loss_fn is mse:
        if classification:
            y = y.astype(float)
        out_dim = 1 if y.ndim == 1 else int(np.prod(y.shape[1:]))
    else:
        out_dim = int(y.max()) + 1 if classification else (1 if y.ndim == 1 else y.shape[1])

    in_shape = X.shape[1:]
    if isinstance(model, Sequential):
        net = model
        if net.input_shape is None:
            net = Sequential(net.layers, in_shape if len(in_shape) > 1 else in_shape[0])
        model_name = "model"
    elif str(model).lower() == "mlp":
        if len(in_shape) != 1:
            raise ValueError(f"make_problem: an mlp needs flat inputs (n, d); X has shape "
                             f"{X.shape}; pass a Sequential starting with Flatten()")
        widths = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
        net = mlp([in_shape[0], *widths, out_dim], activation, init, residual, layer_norm)
        model_name = "mlp"
    elif str(model).lower() in ("logistic", "logistic_regression", "linear"):
        if len(in_shape) != 1:
            raise ValueError(f"make_problem: a linear model needs flat inputs; X has shape "
                             f"{X.shape}")
        net = logistic_regression(in_shape[0], out_dim, init)
        model_name = "logistic"
    else:
        raise ValueError(f"make_problem: unknown model {model!r}; use 'mlp', 'logistic' or a "
                         "Sequential")

    params = net.init(seed)
    regularizer = None
    if weight_decay:
        lam = float(weight_decay)

        def regularizer(p, lam=lam):
            return 0.5 * lam * sum(np.sum(leaf * leaf) for leaf in tree.leaves(p))

    return Problem(net, loss_fn, (X, y), params, batch_size=batch_size,
                   regularizer=regularizer, name=f"{model_name}-{data_name}")


# ---------------------------------------------------------------------------- train
TRANSFORM_METHODS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad")
_DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.02, "adamw": 0.02,
               "rmsprop": 0.005, "adagrad": 0.1}
DEFAULT_STEPS = 1500


@dataclasses.dataclass(frozen=True, repr=False)
class TrainResult:
    """The outcome of :func:`train`.

    ``params`` / ``flat_params``: the final parameters (pytree, flat vector);
    ``losses[k]``: the training loss at which step k's gradient was taken (the
    mini-batch loss for mini-batch training, the full loss for full-batch methods);
    ``trajectory`` (m, dim): the flat parameters at ``record_steps`` (step 0, every
    ``record_every`` steps, and the last); ``problem``: the problem at the final
    parameters; ``final_loss``/``accuracy``: on the full data at the end
    (``accuracy`` is ``None`` for regression); ``message`` says why training stopped.
    """

    params: Any
    flat_params: np.ndarray
    losses: np.ndarray
    trajectory: np.ndarray
    record_steps: np.ndarray
    problem: Any
    method: str
    steps: int
    final_loss: float
    accuracy: float | None
    wall_time: float
    message: str

    def __repr__(self) -> str:
        acc = "" if self.accuracy is None else f", accuracy={self.accuracy:.4f}"
        return (f"TrainResult(method={self.method!r}, steps={self.steps}, "
                f"final_loss={self.final_loss:.6g}{acc}, wall_time={self.wall_time:.2f}s, "
                f"message={self.message!r})")


class _Progress:
    """A rich progress bar on stderr (imported only when asked for)."""

    def __init__(self, enabled: bool, total: int, label: str):
        self.bar = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total}"), TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(), console=Console(file=sys.stderr),
        )
        self.task = self.bar.add_task(label, total=total, loss="—")
        self.bar.start()
        self.every = max(1, total // 200)

    def update(self, step: int, loss: float) -> None:
        if self.bar is not None and (step % self.every == 0):
            self.bar.update(self.task, completed=step, loss=f"{loss:.4g}")

    def close(self, step: int, loss: float) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=step, loss=f"{loss:.4g}")
            self.bar.stop()


def _transform(method: str, lr, options: dict):
    from ..optimize import transforms as T

    if method == "nesterov":
        return T.momentum(lr, nesterov=True, **options)
    return getattr(T, method)(lr, **options)


def train(
    problem: Any,
    method: str = "adam",
    steps: int = DEFAULT_STEPS,
    learning_rate: float | Callable | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    record_every: int | None = None,
    progress: bool = False,
    callback: Callable | None = None,
    options: dict | None = None,
) -> TrainResult:
    """Train ``problem`` from its current parameters.

    ``method``: one of ``TRANSFORM_METHODS`` (optax-style, learning rate
    ``learning_rate``, a float or a schedule of the step count; defaults: adam 0.02,
    sgd 0.1, ...) or a full-batch method of ``mlcalc.optimize.minimize`` (``lbfgs``,
    ``bfgs``, ``newton_cg``, ``trust_ncg``, ``gd``...; ``steps`` is its ``maxiter``).
    ``batch_size``: examples per mini-batch, reshuffled every epoch from ``seed``
    (``None``: the full data each step, summed over the problem's own batches).
    ``options``: the method's own settings (``b1``, ``momentum``, ``m``, ``tol``...).
    ``callback(step, w, loss)`` runs after every step; raising ``StopIteration`` stops.
    ``progress=True`` shows a progress bar on stderr. Cost per step: one gradient
    (a reverse pass) on the batch.
    """
    name = str(method).lower()
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"train: steps must be ≥ 0, got {steps}")
    every = max(1, steps // 200) if record_every is None else int(record_every)
    if every < 1:
        raise ValueError(f"train: record_every must be ≥ 1, got {record_every}")
    options = dict(options or {})
    w0 = np.array(problem.flat_params, dtype=float, copy=True)
    start = time.perf_counter()
    if name in TRANSFORM_METHODS:
        lr = _DEFAULT_LR[name] if learning_rate is None else learning_rate
        w, losses, traj, rec, message = _train_transform(
            problem, _transform(name, lr, options), w0, steps, batch_size, seed, every,
            progress, callback, name)
    else:
        from ..optimize import METHODS

        if name not in METHODS:
            raise ValueError(
                f"train: unknown method {method!r}; use one of {', '.join(TRANSFORM_METHODS)} "
                f"(mini-batch) or a full-batch method of minimize: "
                f"{', '.join(sorted(m for m in METHODS if m not in TRANSFORM_METHODS))}"
            )
        if batch_size is not None:
            raise ValueError(f"train: method {name!r} is full-batch; pass batch_size=None or "
                             f"use one of {', '.join(TRANSFORM_METHODS)}")
        w, losses, traj, rec, message = _train_minimize(
            problem, name, w0, steps, learning_rate, every, progress, callback, options)
    wall = time.perf_counter() - start
    final = problem.with_params(w)
    return TrainResult(
        params=final.params, flat_params=w, losses=np.asarray(losses, dtype=float),
        trajectory=np.stack(traj), record_steps=np.asarray(rec, dtype=int), problem=final,
        method=name, steps=len(losses), final_loss=float(final.loss()),
        accuracy=final.accuracy(), wall_time=wall, message=message,
    )


def _batch_objective(problem):
    if not hasattr(problem, "batch_loss"):
        raise TypeError(
            "train: mini-batches need problem.batch_loss(w, Xb, yb); this problem has none: "
            "pass batch_size=None"
        )
    reg = getattr(problem, "regularizer", None)

    def f(w, Xb, yb):
        val = problem.batch_loss(w, Xb, yb)
        return val if reg is None else val + reg(problem.unravel(w))

    return value_and_grad(f)


def _train_transform(problem, tx, w, steps, batch_size, seed, every, progress, callback, label):
    from ..optimize.transforms import apply_updates

    state = tx.init(w)
    losses: list[float] = []
    traj, rec = [w.copy()], [0]
    message = f"completed {steps} steps"
    if batch_size is not None:
        bs = int(batch_size)
        if bs < 1:
            raise ValueError(f"train: batch_size must be a positive integer, got {batch_size}")
        vg = _batch_objective(problem)
        rng = np.random.default_rng(seed)
        X, y = problem.X, problem.y
        n = len(y)
        order, pos = rng.permutation(n), 0
    bar = _Progress(progress, steps, f"{label}")
    try:
        for k in range(steps):
            if batch_size is None:
                loss, g = problem.value_and_grad(w)
            else:
                if pos >= n:
                    order, pos = rng.permutation(n), 0
                idx = order[pos : pos + bs]
                pos += bs
                loss, g = vg(w, X[idx], y[idx])
                loss, g = float(loss), np.asarray(g, dtype=float)
            if not np.isfinite(loss) or not np.all(np.isfinite(g)):
                message = (f"stopped at step {k}: the loss or gradient became non-finite "
                           f"(loss {loss}); lower the learning rate")
                break
            losses.append(float(loss))
            updates, state = tx.update(g, state, w)
            w = np.asarray(apply_updates(w, updates), dtype=float)
            done = k + 1
            if done % every == 0 or done == steps:
                traj.append(w.copy())
                rec.append(done)
            bar.update(done, loss)
            if callback is not None:
                try:
                    callback(done, w.copy(), float(loss))
                except StopIteration:
                    message = f"stopped by the callback after {done} steps"
                    break
    finally:
        bar.close(len(losses), losses[-1] if losses else float("nan"))
    if rec[-1] != len(losses):
        traj.append(w.copy())
        rec.append(len(losses))
    return w, losses, traj, rec, message


def _train_minimize(problem, name, w0, steps, learning_rate, every, progress, callback,
                    options):
    from ..optimize import METHODS, minimize

    cache: dict = {}

    def fg(w):
        if "w" not in cache or not np.array_equal(cache["w"], w):
            f, g = problem.value_and_grad(w)
            cache.update(w=np.array(w, copy=True), f=f, g=g)
        return cache["f"], cache["g"]

    def hess(w):
        eye = np.eye(problem.dim)
        return np.stack([problem.hvp(w, e) for e in eye])

    import inspect

    accepted = inspect.signature(METHODS[name]).parameters
    if learning_rate is not None:
        if "lr" not in accepted:
            raise ValueError(f"train: method {name!r} takes no learning rate")
        options.setdefault("lr", learning_rate)
    tol = options.pop("tol", 1e-10)
    f0 = fg(w0)[0]
    losses: list[float] = []
    traj, rec = [w0.copy()], [0]
    prev = {"f": f0}
    bar = _Progress(progress, steps, name)

    def cb(intermediate_result):
        k = int(intermediate_result.nit)
        losses.append(prev["f"])  # the loss at the point the step started from
        prev["f"] = float(intermediate_result.fun)
        x = np.asarray(intermediate_result.x, dtype=float)
        if k % every == 0:
            traj.append(x.copy())
            rec.append(k)
        bar.update(k, prev["f"])
        if callback is not None:
            callback(k, x.copy(), prev["f"])

    try:
        res = minimize(lambda w: fg(w)[0], w0, method=name, jac=lambda w: fg(w)[1],
                       hess=hess, hvp=problem.hvp, tol=tol, maxiter=steps, callback=cb,
                       options=options)
    finally:
        bar.close(len(losses), prev["f"])
    w = np.asarray(res.x, dtype=float)
    if rec[-1] != len(losses) or not np.array_equal(traj[-1], w):
        traj.append(w.copy())
        rec.append(len(losses))
    return w, losses, traj, rec, str(res.message)
