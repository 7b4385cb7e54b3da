"""Checks shared by the framework adapter tests: a framework problem and a mlcalc
``Problem`` on plain NumPy with the same model, weights and data must agree."""

from __future__ import annotations

import numpy as np


def np_mse(pred, y):
    """Mean of the squared errors over examples and outputs (PyTorch's ``mse_loss``)."""
    return np.mean((pred - y) ** 2)


def assert_problems_agree(fp, npb, seed: int = 2, atol: float = 1e-10) -> None:
    """``fp`` (an adapter's problem) and ``npb`` (the NumPy problem) agree at a random
    point w near the initial weights in loss, gradient, Hessian-, Gauss–Newton- and
    Fisher-vector products, per-example gradients of the first batch and accuracy,
    to ``atol`` in float64, and the adapter returns float64 NumPy arrays."""
    assert fp.dim == npb.dim
    np.testing.assert_array_equal(fp.flat_params, npb.flat_params)
    rng = np.random.default_rng(seed)
    w = fp.flat_params + 0.3 * rng.normal(size=fp.dim)
    v = rng.normal(size=fp.dim)
    assert abs(fp.loss(w) - npb.loss(w)) < atol
    val, g = fp.value_and_grad(w)
    assert abs(val - npb.loss(w)) < atol
    np.testing.assert_allclose(g, npb.grad(w), rtol=0, atol=atol)
    for product in ("hvp", "ggn_vp", "fisher_vp"):
        np.testing.assert_allclose(getattr(fp, product)(w, v), getattr(npb, product)(w, v),
                                   rtol=0, atol=atol, err_msg=product)
    Xf, yf = next(fp.batches())[:2]
    Xn, yn = next(npb.batches())[:2]
    np.testing.assert_allclose(fp.per_example_grads(w, Xf, yf), npb.per_example_grads(w, Xn, yn),
                               rtol=0, atol=atol)
    assert fp.accuracy(w) == npb.accuracy(w)
    for out in (g, fp.hvp(w, v), fp.flat_params):
        assert isinstance(out, np.ndarray) and out.dtype == np.float64


def assert_filter_normalised(problem, d, filter_axis: int) -> None:
    """Filter normalisation read from the adapter's layout: each filter of a weight
    block of the direction ``d`` (the slices along ``filter_axis`` of the reshaped
    block) has the norm of the same filter of θ; bias blocks are zero."""
    for info in problem.layout:
        block, theta = d[info.slice], problem.flat_params[info.slice]
        if info.kind == "bias":
            assert not block.any()
        else:
            np.testing.assert_allclose(
                np.linalg.norm(block.reshape(info.shape), axis=filter_axis),
                np.linalg.norm(theta.reshape(info.shape), axis=filter_axis), rtol=1e-8)
