"""Figures for notebooks and reports (matplotlib; ``pip install 'mlcalc[faces]'``).

Every function returns a ``matplotlib.figure.Figure`` made without pyplot, on an Agg
canvas (no window opens; in Jupyter the figure displays as the cell's value), and
does one job:

===================  ==================================================================
``contour``          filled contours of f(x, y), the direction of −∇f, optimizer paths
``surface``          the 3-D surface z = f(x, y)
``critical_points``  contours with the critical points marked by kind
``vector_field``     quiver and/or stream plot of a 2-D field (3-D: a slice)
``graph``            a function of one variable, with a Taylor model
``decision_regions`` the classes a classifier predicts over 2-D inputs, and the data
``convergence``      f − f* and ‖∇f‖ on log scales against iterations, per method
``training_curve``   training loss against steps
``spectrum``         the Hessian's top eigenvalues
``spectral_density`` the Hessian's spectral density
``slice_1d``         the loss along a direction through the solution
``slice_2d``         the loss on a plane through the solution
``interpolation``    the loss from initialisation to the solution, with its barrier
===================  ==================================================================

Functions of points take one point (a parsed ``mlcalc.expr`` expression or a NumPy
function of a (d,) array, vectorised with ``mlcalc.vmap``). Result objects of
``mlcalc.optimize`` and ``mlcalc.landscape`` are accepted where arrays are.
"""

from __future__ import annotations

from .curves import convergence, training_curve
from .functions import contour, critical_points, decision_regions, graph, surface, vector_field
from .landscape import interpolation, slice_1d, slice_2d, spectral_density, spectrum

__all__ = [
    "contour",
    "surface",
    "critical_points",
    "vector_field",
    "graph",
    "decision_regions",
    "convergence",
    "training_curve",
    "spectrum",
    "spectral_density",
    "slice_1d",
    "slice_2d",
    "interpolation",
]
