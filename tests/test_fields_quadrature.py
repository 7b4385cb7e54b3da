"""The adaptive tensor Gauss–Legendre rule behind mlcalc.fields, against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from mlcalc.fields import gauss_legendre


@pytest.mark.parametrize("k", [1, 2, 3])
def test_smooth_integrals_in_one_to_three_dimensions(k):
    # ∫_[0,1]^k exp(x₁ + … + x_k) = (e − 1)^k and ∫ cos(4x₁)·…: both analytic, one cell
    res = gauss_legendre(lambda x: np.exp(x.sum(axis=1)), [(0, 1)] * k, rtol=1e-12)
    assert res.success and res.n_cells == 1
    assert abs(res.value - (np.e - 1) ** k) <= res.error <= 1e-12 * (np.e - 1) ** k
    osc = gauss_legendre(lambda x: np.prod(np.cos(4 * x), axis=1), [(0, 1)] * k, rtol=1e-12)
    exact = (np.sin(4.0) / 4) ** k
    assert osc.success and abs(osc.value - exact) <= osc.error


def test_a_kink_is_refined_and_the_error_estimate_covers_it():
    res = gauss_legendre(lambda x: np.abs(x[:, 0] - 0.3), [(0, 1)], rtol=1e-12)
    assert res.success and res.n_cells > 1
    assert abs(res.value - 0.29) <= res.error < 1e-12
    peak = gauss_legendre(lambda x: 1 / (1e-4 + np.sum((x - 0.4) ** 2, axis=1)),
                          [(0, 1), (0, 1)], rtol=1e-8)
    assert peak.success and peak.n_cells > 4  # a sharp peak: cells concentrate around it


def test_vector_integrands_reversed_intervals_and_the_budget():
    res = gauss_legendre(lambda x: np.stack([x[:, 0], x[:, 1] ** 2], axis=1), [(0, 1), (1, 0)])
    np.testing.assert_allclose(res.value, [-0.5, -1 / 3], rtol=1e-14)
    short = gauss_legendre(lambda x: np.sqrt(np.abs(x[:, 0] - 1 / 3)), [(0, 1)], rtol=1e-14,
                           max_evals=500)
    assert not short.success and short.nfev <= 500
    with pytest.raises(ValueError, match="below one cell"):
        gauss_legendre(lambda x: x[:, 0], [(0, 1)] * 3, max_evals=100)
    with pytest.raises(ValueError, match=r"one pair per axis; got shape \(3,\)"):
        gauss_legendre(lambda x: x[:, 0], (0, 1, 2))
