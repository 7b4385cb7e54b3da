"""mlcalc: the multivariable calculus of machine learning.

Derivatives of unmodified NumPy code, of any order, in forward and reverse mode::

    import numpy as np
    import mlcalc as mc

    f = lambda x: np.sum(np.sin(x) ** 2)
    mc.grad(f)(np.ones(3))
    mc.hessian(f)(np.ones(3))
"""

from __future__ import annotations

from . import numpy, scipy, tree  # noqa: F401  (fill the engine's dispatch tables)
from .autodiff.api import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    stop_gradient,
    value_and_grad,
    vjp,
)
from .autodiff.core import NotDifferentiableError, TracerConversionError, TracerConversionWarning
from .autodiff.custom import checkpoint, custom_jvp, custom_vjp
from .autodiff.vmap import vmap

__version__ = "0.1.0"

__all__ = [
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "linearize",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "hvp",
    "stop_gradient",
    "vmap",
    "custom_jvp",
    "custom_vjp",
    "checkpoint",
    "tree",
    "NotDifferentiableError",
    "TracerConversionError",
    "TracerConversionWarning",
]
