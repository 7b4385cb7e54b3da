"""The calculus toolkit: derivatives as the math names them, curvature, Taylor models,
critical points, constrained extrema, least squares, derivative checks.

Every function takes a differentiable Python function of NumPy arrays and plain
array points, and returns plain arrays or small frozen dataclasses.
"""

from . import (  # noqa: E402
    checking,
    constrained,
    critical,
    derivatives,
    least_squares,
    second_order,
    taylor_models,
)
from .checking import *  # noqa: F403
from .constrained import *  # noqa: F403
from .critical import *  # noqa: F403
from .derivatives import *  # noqa: F403
from .least_squares import *  # noqa: F403
from .second_order import *  # noqa: F403
from .taylor_models import *  # noqa: F403

__all__ = sorted(
    set(checking.__all__)
    | set(constrained.__all__)
    | set(critical.__all__)
    | set(derivatives.__all__)
    | set(least_squares.__all__)
    | set(second_order.__all__)
    | set(taylor_models.__all__)
)
