"""The Moré–Garbow–Hillstrom (1981) problems: bfgs, lbfgs, newton and trust_ncg reach
the paper's minimum value from its standard starting point (1e-6 relative, or absolute
where f* = 0). From the standard start, problems 2 (Freudenstein–Roth) and 26
(trigonometric, n = 10) lead to the local minima the paper itself documents, 48.9842 and
2.79506e-5; those count as reached."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import mlcalc.optimize as mo

sys.path.insert(0, str(Path(__file__).parent))
from mgh_problems import PROBLEMS, reached  # noqa: E402

# f(x0) at the standard starting points: the paper's values, computed exactly (the paper
# prints 0.999998e12 for problem 4).
PAPER_F0 = {1: 24.2, 2: 400.5, 4: 999998000003.0, 5: 14.203125, 7: 2500.0, 13: 215.0,
            14: 19192.0, 21: 121.0, 22: 645.0, 30: 21.0, 31: 360.0, 32: 50.0}

DOCUMENTED_LOCAL = {2, 26}


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: f"{p.number}-{p.name}")
def test_starting_values_match_the_paper(problem):
    if problem.number in PAPER_F0:
        np.testing.assert_allclose(problem.f(np.array(problem.x0)), PAPER_F0[problem.number],
                                   rtol=1e-12)


@pytest.mark.parametrize("method", ["bfgs", "lbfgs", "newton", "trust_ncg"])
@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: f"{p.number}-{p.name}")
def test_methods_reach_the_minimum(problem, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in trial steps
        res = mo.minimize(problem.f, np.array(problem.x0), method=method, maxiter=3000,
                          tol=1e-10)
    verdict = reached(problem, res.fun)
    assert verdict is not None, f"{method} stopped at f = {res.fun!r} ({res.message})"
    if verdict == "local":
        assert problem.number in DOCUMENTED_LOCAL
