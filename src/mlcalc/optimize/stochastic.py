"""Stochastic objectives: a loss over a data set, evaluated on mini-batches drawn with
epoch-wise shuffling, for the first-order methods of ``minimize``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..autodiff import tree
from ..autodiff.api import value_and_grad
from .driver import Run
from .objective import Objective
from .result import OptimizeResult

__all__ = ["StochasticObjective", "MiniBatchOracle", "minibatch_oracle"]


class StochasticObjective:
    """The loss ``f(θ) = loss(θ, data, *args)`` of a data set, seen one mini-batch at a
    time.

    ``data``: an array, or a tuple/list/dict (any pytree) of arrays sharing their first
    axis (the samples); a batch has the same structure, with the rows of one batch.
    ``loss(params, batch, *args)`` returns a scalar (usually the mean over the batch, so
    that the mini-batch gradient is an unbiased estimate of ∇f).

    Sampling: each epoch is a fresh permutation of the n samples, from a
    ``numpy.random.Generator`` seeded with ``seed``, cut into consecutive batches of
    ``batch_size`` (the last one is smaller when ``batch_size`` does not divide n).
    :meth:`batches` restarts the generator, so every run with the same seed sees the
    same batches.

    With ``minimize(StochasticObjective(...), x0, method=...)`` the methods sgd,
    momentum, nesterov, adagrad, rmsprop, adam and adamw take one step per mini-batch;
    every other method sees the full-data loss (calling the object evaluates it).
    """

    def __init__(self, loss: Callable, data: Any, batch_size: int, seed: int | None = 0):
        if not callable(loss):
            raise TypeError("StochasticObjective: loss must be a callable loss(params, batch).")
        leaves, self._treedef = tree.flatten(data)
        self._leaves = [np.asarray(leaf) for leaf in leaves]
        if not self._leaves or any(a.ndim == 0 for a in self._leaves):
            shapes = [a.shape for a in self._leaves]
            raise ValueError(
                "StochasticObjective: data must be an array or a pytree of arrays with a "
                f"sample axis first; got leaf shapes {shapes}."
            )
        n = self._leaves[0].shape[0]
        if any(a.shape[0] != n for a in self._leaves):
            shapes = [a.shape for a in self._leaves]
            raise ValueError(
                "StochasticObjective: the data arrays must share their first (sample) axis; "
                f"got shapes {shapes}."
            )
        if int(batch_size) != batch_size or not 1 <= batch_size <= n:
            raise ValueError(
                f"StochasticObjective: batch_size must be an integer in [1, {n}] (the number "
                f"of samples); got {batch_size!r}."
            )
        self.loss = loss
        self.data = tree.unflatten(self._treedef, self._leaves)
        self.n_samples = n
        self.batch_size = int(batch_size)
        self.seed = seed

    def __call__(self, params, *args) -> Any:
        """The full-data loss ``loss(params, data, *args)``."""
        return self.loss(params, self.data, *args)

    def batches(self) -> Iterator[Any]:
        """An endless stream of mini-batches: epoch after epoch, a fresh permutation cut
        into batches of ``batch_size``. Restarts the seeded generator on each call."""
        rng = np.random.default_rng(self.seed)
        n, b = self.n_samples, self.batch_size
        while True:
            perm = rng.permutation(n)
            for start in range(0, n, b):
                idx = perm[start : start + b]
                yield tree.unflatten(self._treedef, [a[idx] for a in self._leaves])


class MiniBatchOracle:
    """Value and gradient of a :class:`StochasticObjective` on the flat vector, on the
    next mini-batch at each call (one reverse pass over a batch; counted once in each of
    ``nfev`` and ``njev`` of the objective)."""

    def __init__(self, obj: Objective, stochastic: StochasticObjective):
        self._obj = obj
        self._stochastic = stochastic
        self._batches = stochastic.batches()
        unravel, args, loss = obj.unravel, obj.args, stochastic.loss
        self._vg = value_and_grad(lambda v, batch: loss(unravel(v), batch, *args))
        self.samples = 0

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        batch = next(self._batches)
        self.samples += tree.leaves(batch)[0].shape[0]
        self._obj.nfev += 1
        self._obj.njev += 1
        f, g = self._vg(x, batch)
        return float(f), np.asarray(g, dtype=float)

    def result(self, run: Run) -> OptimizeResult:
        """The run's result with ``fun`` and ``jac`` on the full data at the final point
        (one full-data evaluation), ``batch_fun`` the last mini-batch loss, and ``epochs``
        the number of passes over the data."""
        f, g = self._obj.value_and_grad(run.x)
        return run.result(
            fun=f,
            jac=self._obj.unravel(g),
            batch_fun=run.f,
            epochs=self.samples / self._stochastic.n_samples,
        )


def minibatch_oracle(obj: Objective) -> MiniBatchOracle | None:
    """A :class:`MiniBatchOracle` when the objective's function is a
    :class:`StochasticObjective`, else ``None``."""
    fun = getattr(obj, "fun", None)
    return MiniBatchOracle(obj, fun) if isinstance(fun, StochasticObjective) else None
