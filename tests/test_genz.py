"""Genz's six test families on [0, 1]^d (d = 2…6) against their closed-form integrals:
each method's reported error must cover its true error (deterministic rules: the
estimate itself; mc/qmc: 4 standard errors, over several seeds)."""

import numpy as np
import pytest
from scipy import integrate as sint

from mlcalc.integrate import GENZ_FAMILIES, genz, genz_parameters, integrate

SMOOTH = ("oscillatory", "product_peak", "corner_peak", "gaussian")


def problem(family, d, seed=1984):
    rng = np.random.default_rng([seed, d, GENZ_FAMILIES.index(family)])
    return genz(family, *genz_parameters(family, d, rng))


@pytest.mark.parametrize("family", GENZ_FAMILIES)
@pytest.mark.parametrize("d", [1, 2, 3])
def test_closed_forms_match_scipy_quadrature(family, d):
    # the derived closed forms against an independent quadrature (scipy.nquad)
    p = problem(family, d)
    opts = {"limit": 200, "epsabs": 1e-13, "epsrel": 1e-11}
    if family in ("continuous", "discontinuous"):
        opts["points"] = [p.u[0]]
    val, _ = sint.nquad(lambda *x: p.f(np.array([x]))[0], [[0, 1]] * d,
                        opts=[dict(opts, points=[p.u[i]]) if "points" in opts else opts
                              for i in range(d)])
    assert val == pytest.approx(p.exact, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("family", GENZ_FAMILIES[:5])
@pytest.mark.parametrize("d", [2, 3, 4, 5, 6])
def test_adaptive_error_covers_true_error(family, d):
    p = problem(family, d)
    rtol = 1e-6 if family != "continuous" else 1e-3
    res = integrate(p.f, np.zeros(d), np.ones(d), method="adaptive", rtol=rtol,
                    max_evals=400_000 if d < 5 else 3_000_000)
    true = abs(res.value - p.exact)
    assert true <= res.error
    if res.success:
        assert res.error <= rtol * abs(res.value)
    else:
        assert "max_evals" in res.message


@pytest.mark.parametrize("family", SMOOTH)
@pytest.mark.parametrize("d", [2, 3, 4])
def test_adaptive_reaches_tight_tolerance_on_smooth_families(family, d):
    p = problem(family, d)
    res = integrate(p.f, np.zeros(d), np.ones(d), method="adaptive", rtol=1e-8,
                    max_evals=2_000_000)
    assert res.success and res.method == "adaptive"
    assert abs(res.value - p.exact) <= res.error <= 1e-8 * abs(res.value)


@pytest.mark.parametrize("family", SMOOTH)
@pytest.mark.parametrize("d", [2, 3, 4])
def test_gauss_error_covers_true_error(family, d):
    p = problem(family, d)
    res = integrate(p.f, np.zeros(d), np.ones(d), method="gauss", order=12)
    assert res.nfev == 12**d + 6**d
    assert abs(res.value - p.exact) <= res.error


@pytest.mark.parametrize("method", ["qmc", "mc"])
@pytest.mark.parametrize("family", GENZ_FAMILIES)
@pytest.mark.parametrize("d", [2, 4, 6])
def test_sampling_error_covers_true_error_over_seeds(method, family, d):
    p = problem(family, d)
    z = []
    for seed in range(5):
        res = integrate(p.f, np.zeros(d), np.ones(d), method=method, seed=seed,
                        max_evals=2**13, rtol=0.0)
        assert res.method == method and res.nfev == 2**13 and res.error > 0
        z.append(abs(res.value - p.exact) / res.error)
    assert max(z) <= 4.0


def test_qmc_beats_mc_on_a_smooth_family():
    p = problem("gaussian", 3)
    errs = {m: integrate(p.f, np.zeros(3), np.ones(3), method=m, seed=0, rtol=0.0,
                         max_evals=2**14).error for m in ("mc", "qmc")}
    assert errs["qmc"] < errs["mc"] / 10


def test_discontinuous_family_closed_form_by_volume():
    # a = tiny: exp(a·x) ≈ 1, so the integral tends to the volume u1·u2 of the corner box
    p = genz("discontinuous", np.full(3, 1e-9), np.array([0.3, 0.7, 0.5]))
    assert p.exact == pytest.approx(0.21, rel=1e-8)
