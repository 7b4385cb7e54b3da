"""The calculus toolkit: derivatives as the math names them, curvature, Taylor models,
critical points, constrained extrema, least squares, derivative checks.

Every function takes a differentiable Python function of NumPy arrays and plain
array points, and returns plain arrays or small frozen dataclasses.
"""

from .checking import *  # noqa: F403
from .constrained import *  # noqa: F403
from .critical import *  # noqa: F403
from .derivatives import *  # noqa: F403
from .least_squares import *  # noqa: F403
from .second_order import *  # noqa: F403
from .taylor_models import *  # noqa: F403
