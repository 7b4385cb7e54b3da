"""Built-in data sets, generated on the fly from a seed (no downloads), and a loader
for the user's arrays.

Every generator returns ``(X, y)``: ``X`` float64 of shape (n, d), standardised (each
feature has sample mean 0 and sample standard deviation 1); ``y`` int64 class labels
of shape (n,) with balanced classes (counts differ by at most one), or float64
regression targets of shape (n, k). The same seed gives the same arrays.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

__all__ = [
    "two_spirals",
    "two_moons",
    "blobs",
    "teacher_student",
    "load_arrays",
    "standardize",
    "DATASETS",
]


def standardize(X: np.ndarray) -> np.ndarray:
    """(X − mean)/std per feature (column); constant features are only centred."""
    X = np.asarray(X, dtype=float)
    mu = X.mean(axis=0)
    sd = X.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (X - mu) / sd


def _counts(n: int, classes: int) -> np.ndarray:
    """Balanced class sizes summing to n (the first n mod C classes get one more)."""
    base = np.full(classes, n // classes)
    base[: n % classes] += 1
    return base


def _check_n(name: str, n, classes: int) -> int:
    if int(n) != n or n < classes:
        raise ValueError(f"{name}: n must be an integer ≥ {classes} (one per class), got {n!r}")
    return int(n)


def _shuffle(rng, X, y):
    perm = rng.permutation(len(y))
    return X[perm], y[perm]


def two_spirals(n: int = 300, noise: float = 0.1, turns: float = 1.5, seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals in the plane: class k ∈ {0, 1} has points
    r (cos(θ + kπ), sin(θ + kπ)) with θ = 2π·turns·√u, u ~ U(0, 1), r = θ/(2π·turns)
    (so radius grows linearly with angle and points are uniform along the arms' area),
    plus Gaussian noise of standard deviation ``noise`` (relative to the outer radius 1).

    Returns X (n, 2) standardised and y (n,) ∈ {0, 1}, shuffled."""
    n = _check_n("two_spirals", n, 2)
    rng = np.random.default_rng(seed)
    Xs, ys = [], []
    for k, m in enumerate(_counts(n, 2)):
        theta = 2 * np.pi * turns * np.sqrt(rng.uniform(0.0, 1.0, m))
        r = theta / (2 * np.pi * turns)
        pts = np.stack([r * np.cos(theta + k * np.pi), r * np.sin(theta + k * np.pi)], axis=1)
        Xs.append(pts + noise * rng.normal(size=(m, 2)))
        ys.append(np.full(m, k, dtype=np.int64))
    X, y = _shuffle(rng, np.concatenate(Xs), np.concatenate(ys))
    return standardize(X), y


def two_moons(n: int = 300, noise: float = 0.1, seed: int = 0
              ) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's ``make_moons``): class 0 on
    (cos t, sin t), class 1 on (1 − cos t, ½ − sin t), t ~ U(0, π), plus Gaussian noise
    of standard deviation ``noise``.

    Returns X (n, 2) standardised and y (n,) ∈ {0, 1}, shuffled."""
    n = _check_n("two_moons", n, 2)
    rng = np.random.default_rng(seed)
    m0, m1 = _counts(n, 2)
    t0 = rng.uniform(0.0, np.pi, m0)
    t1 = rng.uniform(0.0, np.pi, m1)
    X = np.concatenate([
        np.stack([np.cos(t0), np.sin(t0)], axis=1),
        np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1),
    ])
    X = X + noise * rng.normal(size=X.shape)
    y = np.concatenate([np.zeros(m0, np.int64), np.ones(m1, np.int64)])
    X, y = _shuffle(rng, X, y)
    return standardize(X), y


def blobs(n: int = 300, classes: int = 3, dim: int = 2, spread: float = 1.0,
          separation: float = 4.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """C isotropic Gaussian clusters: centres μ_c ~ N(0, separation² I_dim), points
    μ_c + spread·N(0, I_dim).

    Returns X (n, dim) standardised and y (n,) ∈ {0, …, C−1}, shuffled."""
    classes = int(classes)
    if classes < 1 or int(dim) < 1:
        raise ValueError(f"blobs: classes and dim must be ≥ 1, got {classes}, {dim}")
    n = _check_n("blobs", n, classes)
    rng = np.random.default_rng(seed)
    centres = separation * rng.normal(size=(classes, int(dim)))
    counts = _counts(n, classes)
    y = np.repeat(np.arange(classes, dtype=np.int64), counts)
    X = centres[y] + spread * rng.normal(size=(n, int(dim)))
    X, y = _shuffle(rng, X, y)
    return standardize(X), y


def teacher_student(n: int = 200, d_in: int = 4, d_hidden: int = 8, noise: float = 0.1,
                    d_out: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Regression on the outputs of a random teacher network:
    y = tanh(X W₁ + b₁) W₂ + ε, with W₁ ~ N(0, 1/d_in), b₁ ~ N(0, 0.1²),
    W₂ ~ N(0, 1/d_hidden) and ε ~ N(0, noise²); X ~ N(0, I) then standardised (the
    teacher sees the standardised X). A student MLP of width ≥ d_hidden can reach the
    noise floor, mean squared error ≈ d_out·noise².

    Returns X (n, d_in) and y (n, d_out) float64."""
    n = _check_n("teacher_student", n, 1)
    rng = np.random.default_rng(seed)
    X = standardize(rng.normal(size=(n, int(d_in))))
    W1 = rng.normal(0.0, 1.0 / np.sqrt(d_in), size=(int(d_in), int(d_hidden)))
    b1 = rng.normal(0.0, 0.1, size=int(d_hidden))
    W2 = rng.normal(0.0, 1.0 / np.sqrt(d_hidden), size=(int(d_hidden), int(d_out)))
    y = np.tanh(X @ W1 + b1) @ W2 + noise * rng.normal(size=(n, int(d_out)))
    return X, y


def load_arrays(source: str | os.PathLike | Sequence, standardize_inputs: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """The user's data: a path to an ``.npz`` file holding arrays ``X`` and ``y``, or a
    pair ``(X, y)``. X becomes float64 with the examples along axis 0 (a 1-D X becomes
    a column); y becomes int64 when it holds integers or booleans (class labels),
    float64 otherwise. With ``standardize_inputs`` each column of X is standardised."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise FileNotFoundError(f"load_arrays: no file {path!r}")
        with np.load(path, allow_pickle=False) as f:
            keys = list(f.keys())
            xk = next((k for k in ("X", "x") if k in keys), None)
            yk = next((k for k in ("y", "Y") if k in keys), None)
            if xk is None or yk is None:
                raise ValueError(
                    f"load_arrays: {path!r} holds arrays {keys}; it needs 'X' (inputs) and "
                    "'y' (targets), e.g. np.savez(path, X=X, y=y)"
                )
            X, y = np.asarray(f[xk]), np.asarray(f[yk])
    else:
        try:
            X, y = source
        except (TypeError, ValueError):
            raise TypeError(
                "load_arrays: pass a path to an .npz file or a pair (X, y), got "
                f"{type(source).__name__}"
            ) from None
        X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"load_arrays: X and y need an example axis; shapes {X.shape}, "
                         f"{y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"load_arrays: X has {X.shape[0]} examples (shape {X.shape}) but y has "
            f"{y.shape[0]} (shape {y.shape})"
        )
    if not np.issubdtype(X.dtype, np.number) and X.dtype != np.bool_:
        raise TypeError(f"load_arrays: X must be numeric, got dtype {X.dtype}")
    X = X.astype(float)
    if X.ndim == 1:
        X = X[:, None]
    if y.dtype == np.bool_ or np.issubdtype(y.dtype, np.integer):
        y = y.astype(np.int64)
    else:
        y = y.astype(float)
    if standardize_inputs:
        X = standardize(X.reshape(X.shape[0], -1)).reshape(X.shape)
    return X, y


DATASETS = {
    "spirals": two_spirals,
    "two_spirals": two_spirals,
    "moons": two_moons,
    "two_moons": two_moons,
    "blobs": blobs,
    "teacher": teacher_student,
    "teacher_student": teacher_student,
}
