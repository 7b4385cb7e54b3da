"""The Moré–Garbow–Hillstrom (1981) problems (tests/mgh_problems.py): first the problem
definitions against facts independent of any optimizer (hand-computed values at the
standard starting points, the value at the minimisers the paper gives, the paper's
printed digits of f*), then bfgs, lbfgs, newton and trust_ncg from the standard start:
each reaches f* to 1e-6 (relative, or absolute where f* = 0) and reports success
(converged, or stationary to the rounding of f: Meyer's ∂f/∂x₁ = Σ 2rᵢ exp(x₂/(tᵢ + x₃))
has factors exp(...) up to ≈ 6e6 at x* ≈ (0.0056, 6181, 345), so it changes by about
1e-3 between neighbouring float64 points there, far above tol = 1e-10).

Exceptions, each named with its reason (no blanket xfail):
  * a run that ends at another local minimum documented in the paper counts as having
    reached it: problem 2 (Freudenstein–Roth, 48.9842...) and problem 18 (Biggs EXP6 with
    m = 13, 5.65565...e-3);
  * problem 26 (trigonometric, n = 10): the paper gives only f* = 0; from the standard
    start every method here — and MINPACK's Levenberg–Marquardt (scipy.optimize.least_
    squares(method="lm")) — stops at a stationary point with f = 2.79506e-5 that the
    paper does not document; the test checks that point (xfail with the reason when the
    method lands there, failure anywhere else);
"""

from __future__ import annotations

import sys
import warnings
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import mlcalc.optimize as mo
import mlcalc.optimize.quasi_newton  # noqa: F401  (registers bfgs, lbfgs)
import mlcalc.optimize.second_order  # noqa: F401  (registers newton, trust_ncg)

sys.path.insert(0, str(Path(__file__).parent))
from mgh_problems import BY_NUMBER, PROBLEMS, reached  # noqa: E402

_ids = {"ids": lambda p: f"{p.number}-{p.name.split(' (')[0].replace(' ', '_')}"}

# f(x0) at the standard starting points, computed by hand from the definitions (the paper
# does not print them), e.g. Rosenbrock 100·0.44² + 2.2² = 24.2; linear rank 1:
# Σᵢ (55 i − 1)² = 3025·2870 − 110·210 + 20; variably dimensioned: Σ j²/100 + 38.5² + 38.5⁴.
HAND_F0 = {
    1: 24.2, 2: 400.5, 4: (1 - 1e6) ** 2 + (1 - 2e-6) ** 2 + 1.0, 5: 14.203125, 7: 2500.0,
    13: 215.0, 14: 19192.0, 20: 30.0, 21: 121.0, 22: 645.0, 23: 1e-5 * 285 + 384.75 ** 2,
    25: 3.85 + 38.5 ** 2 + 38.5 ** 4, 30: 21.0, 31: 360.0, 32: 50.0, 33: 8658670.0,
    34: 4067996.0,
}

# the stationary point of problem 26 (n = 10) reached from the standard start; not in the
# paper (value from scipy.optimize.least_squares(method="lm"), gtol = ftol = xtol = 1e-15)
TRIG_STATIONARY = 2.795056121879e-5


METHODS = ["bfgs", "lbfgs", "newton", "trust_ncg"]


def _agrees_with_print(value: float, printed: str) -> bool:
    """``value`` matches the paper's printed digits: within one unit of the last printed
    digit (the paper truncates, "8.21487...", but rounds a few values, e.g. 5.65565e-3);
    a closed form "p/q" to rounding."""
    if "/" in printed:
        return value == pytest.approx(float(Fraction(printed)), rel=1e-15)
    d = Decimal(printed)
    ulp = Decimal(1).scaleb(d.as_tuple().exponent)
    return abs(Decimal(repr(value)) - d) < ulp


@pytest.mark.parametrize("problem", PROBLEMS, **_ids)
def test_dimensions_and_starting_value(problem):
    x0 = np.array(problem.x0)
    assert problem.residuals(x0).shape == (problem.m,)
    f0 = float(problem.f(x0))
    assert np.isfinite(f0) and f0 > problem.f_star
    if problem.number in HAND_F0:
        np.testing.assert_allclose(f0, HAND_F0[problem.number], rtol=1e-12)


def test_all_35_problems_present():
    assert sorted(BY_NUMBER) == list(range(1, 36))


@pytest.mark.parametrize("problem", PROBLEMS, **_ids)
def test_minimum_values_match_the_paper(problem):
    assert _agrees_with_print(problem.f_star, problem.f_paper)
    for value, printed in problem.local:
        assert _agrees_with_print(value, printed)


@pytest.mark.parametrize("problem", [p for p in PROBLEMS if p.x_star is not None], **_ids)
def test_value_at_the_papers_minimiser(problem):
    fx = float(problem.f(np.array(problem.x_star)))
    np.testing.assert_allclose(fx, problem.f_star, rtol=1e-12, atol=1e-20)


def test_brown_almost_linear_local_minimum():
    p = BY_NUMBER[27]  # the paper: f = 1 at (0, ..., 0, n + 1)
    assert float(p.f(np.array([0.0] * 9 + [11.0]))) == 1.0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("problem", PROBLEMS, **_ids)
def test_methods_reach_the_minimum(problem, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in trial steps
        res = mo.minimize(problem.f, np.array(problem.x0), method=method, maxiter=3000,
                          tol=1e-10)
    verdict = reached(problem, res.fun)
    if verdict is None and problem.number == 26:
        assert res.fun == pytest.approx(TRIG_STATIONARY, rel=1e-6), res.message
        pytest.xfail("trigonometric (n=10): stops at the stationary point f = 2.79506e-5, "
                     "which the paper does not document (MINPACK's LM stops there too)")
    assert verdict is not None, f"{method} stopped at f = {res.fun!r} ({res.message})"
    # a run at the minimum says so: converged, or stationary to the rounding of f (see the
    # module docstring on Meyer's gradient)
    assert res.success, res.message
    if verdict == "local":  # only the paper's documented local minima are in `local`
        assert problem.number in (2, 18), problem.local
