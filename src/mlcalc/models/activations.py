"""Elementwise activation functions, written with differentiable NumPy (every order of
derivative works through the engine).

=============  ==========================================  ===========================
name           definition                                  convention
=============  ==========================================  ===========================
``tanh``       tanh x
``relu``       max(x, 0)                                   derivative ½ at x = 0
``gelu``       x Φ(x) = ½ x (1 + erf(x/√2)) (exact form)   Hendrycks & Gimpel (2016)
``softplus``   log(1 + eˣ) (``mlcalc.stable.softplus``: stable to every order)
``sigmoid``    1/(1 + e⁻ˣ) (``scipy.special.expit``: stable to every order)
``identity``   x
=============  ==========================================  ===========================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..scipy.special import erf
from ..scipy.special import expit as sigmoid
from ..stable import softplus
from ._lookup import lookup

__all__ = [
    "tanh",
    "relu",
    "gelu",
    "softplus",
    "sigmoid",
    "identity",
    "ACTIVATIONS",
    "get_activation",
]

_SQRT1_2 = 1.0 / np.sqrt(2.0)


def tanh(x):
    """tanh x."""
    return np.tanh(x)


def relu(x):
    """max(x, 0); the engine's convention for ``maximum`` at a tie gives derivative ½
    at x = 0 (second derivative 0 everywhere)."""
    return np.maximum(x, 0.0)


def gelu(x):
    """x Φ(x) = ½ x (1 + erf(x/√2)), Φ the standard normal CDF (the exact GELU)."""
    return 0.5 * x * (1.0 + erf(x * _SQRT1_2))


def identity(x):
    """x."""
    return x


ACTIVATIONS: dict[str, Callable] = {
    "tanh": tanh,
    "relu": relu,
    "gelu": gelu,
    "softplus": softplus,
    "sigmoid": sigmoid,
    "identity": identity,
    "linear": identity,
}


def get_activation(activation: str | Callable) -> Callable:
    """An activation from its name (see ``ACTIVATIONS``) or a callable (returned as is)."""
    return lookup(ACTIVATIONS, activation, "activation", "pass a function written with NumPy")
