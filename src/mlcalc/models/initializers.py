"""Weight initialisers: functions ``(rng, shape) -> ndarray`` (float64).

Fans follow the layouts of :mod:`mlcalc.models.layers`: a dense matrix ``(in, out)``
has fan_in = in, fan_out = out; a convolution kernel ``(out_channels, in_channels,
kh, kw)`` has fan_in = in_channels·kh·kw and fan_out = out_channels·kh·kw.

=====================  =========================================  =====================
name                   distribution                               variance
=====================  =========================================  =====================
``glorot_uniform``     U(−a, a), a = √(6/(fan_in + fan_out))      2/(fan_in + fan_out)
``glorot_normal``      N(0, σ²)                                   2/(fan_in + fan_out)
``he_normal``          N(0, σ²)                                   2/fan_in
``he_uniform``         U(−a, a), a = √(6/fan_in)                  2/fan_in
``lecun_normal``       N(0, σ²)                                   1/fan_in
``orthogonal``         Q of the QR of a Gaussian matrix           (orthonormal rows or
                                                                  columns)
``normal(std)``        N(0, std²) (a factory)                     std²
``zeros``, ``ones``    constants
=====================  =========================================  =====================

Glorot & Bengio (2010); He et al. (2015); Saxe et al. (2014) for orthogonal matrices.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._lookup import lookup

__all__ = [
    "Initializer",
    "fans",
    "glorot_uniform",
    "glorot_normal",
    "xavier_uniform",
    "xavier_normal",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "orthogonal",
    "normal",
    "zeros",
    "ones",
    "get_initializer",
    "INITIALIZERS",
]

Initializer = Callable[[np.random.Generator, tuple], np.ndarray]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a parameter of ``shape``: ``(in, out)`` for a matrix,
    ``(in·k, out·k)`` for a kernel ``(out, in, *k)`` with k = Π kernel sizes, ``(n, n)``
    for a vector of length n."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def glorot_uniform(rng: np.random.Generator, shape) -> np.ndarray:
    """U(−a, a) with a = √(6/(fan_in + fan_out)): variance 2/(fan_in + fan_out)."""
    shape = _shape(shape)
    fi, fo = fans(shape)
    a = np.sqrt(6.0 / (fi + fo))
    return rng.uniform(-a, a, size=shape)


def glorot_normal(rng: np.random.Generator, shape) -> np.ndarray:
    """N(0, 2/(fan_in + fan_out))."""
    shape = _shape(shape)
    fi, fo = fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / (fi + fo)), size=shape)


def he_normal(rng: np.random.Generator, shape) -> np.ndarray:
    """N(0, 2/fan_in) (He et al. 2015, for ReLU networks)."""
    shape = _shape(shape)
    fi, _ = fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / fi), size=shape)


def he_uniform(rng: np.random.Generator, shape) -> np.ndarray:
    """U(−a, a) with a = √(6/fan_in): variance 2/fan_in."""
    shape = _shape(shape)
    fi, _ = fans(shape)
    a = np.sqrt(6.0 / fi)
    return rng.uniform(-a, a, size=shape)


def lecun_normal(rng: np.random.Generator, shape) -> np.ndarray:
    """N(0, 1/fan_in)."""
    shape = _shape(shape)
    fi, _ = fans(shape)
    return rng.normal(0.0, np.sqrt(1.0 / fi), size=shape)


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_normal = he_normal
kaiming_uniform = he_uniform


def orthogonal(rng: np.random.Generator, shape, gain: float = 1.0) -> np.ndarray:
    """A (scaled) orthogonal matrix: the parameter seen as a matrix M of shape
    ``(shape[0], Π shape[1:])`` has orthonormal columns when it is tall (MᵀM = I) and
    orthonormal rows when it is wide (MMᵀ = I), times ``gain``.

    Q comes from the QR decomposition of a standard Gaussian matrix, with the signs of
    R's diagonal moved onto Q, so that Q is Haar-distributed (Mezzadri 2007)."""
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal: needs a parameter of rank ≥ 2, got shape {shape}")
    rows, cols = shape[0], int(np.prod(shape[1:]))
    big, small = max(rows, cols), min(rows, cols)
    a = rng.normal(size=(big, small))
    q, r = np.linalg.qr(a)
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0
    q = q * d
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)


def normal(std: float = 1e-2) -> Initializer:
    """A factory: the initialiser N(0, std²)."""
    std = float(std)
    if std < 0:
        raise ValueError(f"normal: std must be ≥ 0, got {std}")

    def init(rng: np.random.Generator, shape) -> np.ndarray:
        return rng.normal(0.0, std, size=_shape(shape))

    init.__name__ = f"normal({std:g})"
    return init


def zeros(rng: np.random.Generator, shape) -> np.ndarray:
    """All zeros (biases)."""
    return np.zeros(_shape(shape))


def ones(rng: np.random.Generator, shape) -> np.ndarray:
    """All ones (normalisation gains)."""
    return np.ones(_shape(shape))


INITIALIZERS: dict[str, Initializer] = {
    "glorot": glorot_uniform,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "xavier": glorot_uniform,
    "xavier_uniform": glorot_uniform,
    "xavier_normal": glorot_normal,
    "he": he_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "kaiming": he_normal,
    "kaiming_normal": he_normal,
    "kaiming_uniform": he_uniform,
    "lecun": lecun_normal,
    "lecun_normal": lecun_normal,
    "orthogonal": orthogonal,
    "normal": normal(1e-2),
    "zeros": zeros,
    "ones": ones,
}


def get_initializer(init: str | Initializer) -> Initializer:
    """An initialiser from its name (see ``INITIALIZERS``) or a callable
    ``(rng, shape) -> array`` (returned as is)."""
    return lookup(INITIALIZERS, init, "initialiser", "pass a function (rng, shape) -> array")
