"""Instruments of the loss landscape: curvature operators (Hessian, Gauss–Newton,
Fisher) seen through products, their extreme eigenpairs (Lanczos, power iteration),
traces (Hutchinson, Hutch++), spectral densities and matrix-function traces (stochastic
Lanczos quadrature), scalar measures, and the classification of critical points;
filter-normalised directions, 1-D/2-D slices, interpolation and mode connectivity
between solutions, the PCA of a trajectory, all on resumable grid scans (``.npz``).

Every instrument takes an operator (or anything ``as_operator`` accepts: a problem, a
dense symmetric array, a scipy ``LinearOperator``, a pair ``(matvec, n)``), takes a
``seed`` so that its result is reproducible, and returns a small frozen dataclass that
carries its diagnostics (residuals, standard errors, product counts).
"""

from . import critical as _critical
from . import density as _density
from . import directions as _directions
from . import lanczos as _lanczos
from . import measures as _measures
from . import operators as _operators
from . import paths as _paths
from . import pca as _pca
from . import scan as _scan
from . import slices as _slices
from . import trace as _trace
from .critical import *  # noqa: F403
from .density import *  # noqa: F403
from .directions import *  # noqa: F403
from .lanczos import *  # noqa: F403
from .measures import *  # noqa: F403
from .operators import *  # noqa: F403
from .paths import *  # noqa: F403
from .pca import *  # noqa: F403
from .scan import *  # noqa: F403
from .slices import *  # noqa: F403
from .trace import *  # noqa: F403

__all__ = sorted(
    set(_critical.__all__)
    | set(_density.__all__)
    | set(_directions.__all__)
    | set(_lanczos.__all__)
    | set(_measures.__all__)
    | set(_operators.__all__)
    | set(_paths.__all__)
    | set(_pca.__all__)
    | set(_scan.__all__)
    | set(_slices.__all__)
    | set(_trace.__all__)
)
