"""Models shared by the landscape tests: a tanh MLP on a list of ``{"W", "b"}`` layers,
its initialisation, an L2 penalty, and the full-data loss of a ``Problem`` as one
traceable function (for dense reference Hessians)."""

from __future__ import annotations

import numpy as np

from mlcalc.models import Problem, cross_entropy


def mlp(params, X):
    """tanh MLP: h ← tanh(h W + b) for every layer but the last, which is linear."""
    h = X
    for i, layer in enumerate(params):
        h = h @ layer["W"] + layer["b"]
        if i < len(params) - 1:
            h = np.tanh(h)
    return h


def init_mlp(sizes, seed):
    """Layers ``sizes[k] → sizes[k + 1]``: W ~ N(0, 1/fan_in), b ~ N(0, 0.01); ``seed``
    is an int or a Generator (whose stream it continues)."""
    rng = np.random.default_rng(seed)
    return [{"W": rng.normal(size=(a, b)) / np.sqrt(a), "b": 0.1 * rng.normal(size=b)}
            for a, b in zip(sizes[:-1], sizes[1:])]


def l2(params, lam=1e-3):
    """lam · Σ ‖W‖² over the weight matrices (biases free)."""
    return lam * sum(np.sum(layer["W"] ** 2) for layer in params)


def small_mlp_problem(batch_size=7, seed=0, sizes=(3, 5, 3), n=30, lam=1e-2):
    """A tanh MLP classifier on ``n`` Gaussian examples with random labels, softmax
    cross-entropy and weight decay ``lam``, summed over mini-batches of ``batch_size``."""
    rng = np.random.default_rng(seed)
    params = init_mlp(sizes, rng)
    X = rng.normal(size=(n, sizes[0]))
    y = rng.integers(0, sizes[-1], size=n)
    return Problem(mlp, cross_entropy, (X, y), params, batch_size=batch_size,
                   regularizer=lambda p: l2(p, lam))


def full_loss(problem):
    """The full-data loss (regulariser included) as one traceable function of the flat
    parameter vector."""
    return lambda w: problem.batch_loss(w, problem.X, problem.y) + problem._reg(w)
