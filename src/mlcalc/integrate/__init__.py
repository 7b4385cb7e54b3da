"""Integration: boxes in any dimension (Gauss–Legendre, adaptive Genz–Malik /
Gauss–Kronrod cubature, Monte Carlo, randomised QMC; infinite limits), regions beyond
boxes by a change of variables, and expectations under distributions.

Convention: integrands take points (n, d) and return values (n,) or (n, k). Results are
small frozen dataclasses carrying the value, an error estimate, the number of
evaluations, the method used and whether the tolerance was met.
"""

from . import box as _box
from . import expectation as _expectation
from . import genz as _genz
from . import regions as _regions
from .box import *  # noqa: F403
from .expectation import *  # noqa: F403
from .genz import *  # noqa: F403
from .regions import *  # noqa: F403

__all__ = sorted(
    set(_box.__all__) | set(_expectation.__all__) | set(_genz.__all__) | set(_regions.__all__)
)
