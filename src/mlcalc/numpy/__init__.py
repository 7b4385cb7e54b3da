"""Differentiable NumPy: ``import mlcalc.numpy as mnp``.

Mirrors NumPy's names. Every function here accepts plain arrays (and then is NumPy
itself, bit for bit) and traced values (and then is differentiated by every mlcalc
transform). Plain NumPy code works unmodified too: traced values implement
``__array_ufunc__`` and ``__array_function__``, which route NumPy's own functions here.
A NumPy name with no rule is NumPy's own function, which raises
:class:`mlcalc.NotDifferentiableError` naming itself when it meets a traced value.
"""

from __future__ import annotations

import numpy as _np

from . import (
    _contractions,
    _core,
    _creation,
    _elementwise,
    _meta,
    _reductions,
    _shape,
    linalg,  # noqa: F401
)
from ._contractions import *  # noqa: F403
from ._core import *  # noqa: F403
from ._creation import *  # noqa: F403
from ._elementwise import *  # noqa: F403
from ._meta import *  # noqa: F403
from ._reductions import *  # noqa: F403
from ._shape import *  # noqa: F403

__all__ = sorted(
    set(_core.__all__)
    | set(_elementwise.__all__)
    | set(_creation.__all__)
    | set(_meta.__all__)
    | set(_reductions.__all__)
    | set(_shape.__all__)
    | set(_contractions.__all__)
)


def __getattr__(name):
    # Constants, dtypes and functions without a rule come from NumPy itself.
    try:
        return getattr(_np, name)
    except AttributeError:
        raise AttributeError(f"module 'mlcalc.numpy' has no attribute {name!r}") from None
