"""mlcalc.adapters.jax: a JAX function with parameters as a problem.

The same small MLP is written twice, as a mlcalc ``Problem`` on plain NumPy
(differentiated by mlcalc's engine) and as a JAX function with the same parameters
(differentiated and compiled by JAX); the two must agree in float64. Dense Hessians
are checked against ``jax.hessian``.
"""

from __future__ import annotations

import functools
import sys

import numpy as np
import pytest

from adapter_fixtures import assert_filter_normalised, assert_problems_agree, np_mse
from mlcalc.adapters import JaxProblem
from mlcalc.models import Problem, cross_entropy

NEEDS = "JAX is an optional extra (pip install jax jaxlib); CI does not install it"


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax", reason=NEEDS)
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)  # float64, to compare with NumPy at 1e-10
    yield jax
    jax.config.update("jax_enable_x64", before)


D, H, C, N = 3, 5, 3, 24  # batches of 12: one shape, so JAX compiles each function once


def mlp(params, X):
    """tanh MLP, weights (in, out): works on NumPy (mlcalc) and on jax.numpy alike."""
    W0, b0, W1, b1 = params
    return np.tanh(X @ W0 + b0) @ W1 + b1


@functools.cache  # one set of functions: JAX compiles them once
def jax_fns(jax):
    jnp = jax.numpy

    def apply(params, X):
        W0, b0, W1, b1 = params
        return jnp.tanh(X @ W0 + b0) @ W1 + b1

    def ce(logits, y):
        logp = jax.nn.log_softmax(logits, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def mse(pred, y):
        return jnp.mean((pred - y) ** 2)

    return apply, ce, mse


def setup(jax, loss="ce", batch_size=None):
    rng = np.random.default_rng(1)
    params = [rng.normal(size=(D, H)), 0.1 * rng.normal(size=H),
              rng.normal(size=(H, C)), 0.1 * rng.normal(size=C)]
    X = rng.normal(size=(N, D))
    y = rng.integers(0, C, N) if loss == "ce" else rng.normal(size=(N, C))
    apply, ce, mse = jax_fns(jax)
    j_loss, n_loss = (ce, cross_entropy) if loss == "ce" else (mse, np_mse)
    jp = JaxProblem(apply, params, j_loss, (X, y), batch_size=batch_size)
    npb = Problem(mlp, n_loss, (X, y), params, batch_size=batch_size)
    return jp, npb


def test_matches_numpy_problem(jax):
    jp, npb = setup(jax, "ce", batch_size=12)
    assert jp.dim == D * H + H + H * C + C
    assert_problems_agree(jp, npb)


def test_matches_numpy_problem_squared_error(jax):
    """Another loss Hessian H_l (constant, 2/(n C) I) in the curvature products."""
    jp, npb = setup(jax, "mse", batch_size=12)
    rng = np.random.default_rng(3)
    w = jp.flat_params + 0.3 * rng.normal(size=jp.dim)
    v = rng.normal(size=jp.dim)
    np.testing.assert_allclose(jp.hvp(w, v), npb.hvp(w, v), rtol=0, atol=1e-10)
    np.testing.assert_allclose(jp.ggn_vp(w, v), npb.ggn_vp(w, v), rtol=0, atol=1e-10)


def test_dense_hessian_matches_jax_hessian(jax):
    jnp = jax.numpy
    jp, _ = setup(jax, "ce")
    apply, ce, _ = jax_fns(jax)
    w = jp.flat_params + 0.3 * np.random.default_rng(3).normal(size=jp.dim)
    H_adapter = np.stack([jp.hvp(w, e) for e in np.eye(jp.dim)], axis=1)
    X, y = jp.X, jp.y

    def f(flat):
        W0 = flat[:15].reshape(D, H)
        b0 = flat[15:20]
        W1 = flat[20:35].reshape(H, C)
        return ce(apply([W0, b0, W1, flat[35:]], X), y)

    H_ref = np.asarray(jax.jit(jax.hessian(f))(jnp.asarray(w)))
    np.testing.assert_allclose(H_adapter, H_ref, rtol=0, atol=1e-12)
    G = np.stack([jp.ggn_vp(w, e) for e in np.eye(jp.dim)], axis=1)
    assert np.linalg.eigvalsh((G + G.T) / 2).min() > -1e-12  # Gauss-Newton is PSD
    assert np.linalg.eigvalsh(H_adapter).min() < -1e-6  # the Hessian is not, here


def test_batches_list_and_batch_size_give_the_full_data_loss(jax):
    jp, _ = setup(jax, "mse")
    small, _ = setup(jax, "mse", batch_size=12)
    X, y = np.asarray(jp.X), np.asarray(jp.y)
    lst = JaxProblem(jp.apply_fn, jp.params, jp.loss_fn, [(X[:12], y[:12]), (X[12:], y[12:])])
    assert lst.n_examples == small.n_examples == N
    assert [wt for *_, wt in small.batches()] == [0.5, 0.5]
    w = jp.flat_params * 0.9
    v = np.random.default_rng(4).normal(size=jp.dim)
    for p in (small, lst):
        assert abs(p.loss(w) - jp.loss(w)) < 1e-12
        np.testing.assert_allclose(p.hvp(w, v), jp.hvp(w, v), rtol=0, atol=1e-12)


def test_layout_of_flax_style_params(jax):
    jnp = jax.numpy
    rng = np.random.default_rng(5)
    params = {"params": {
        "Conv_0": {"kernel": rng.normal(size=(3, 3, 1, 2)), "bias": np.zeros(2)},
        "LayerNorm_0": {"scale": np.ones(8), "bias": np.zeros(8)},
        "Dense_0": {"kernel": rng.normal(size=(8, C)), "bias": np.zeros(C)},
    }}

    def apply(variables, X):
        p = variables["params"]
        h = jax.lax.conv_general_dilated(
            X, p["Conv_0"]["kernel"], (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
        ) + p["Conv_0"]["bias"]
        h = jnp.tanh(h).reshape(X.shape[0], -1)
        h = (h - h.mean(-1, keepdims=True)) / jnp.sqrt(h.var(-1, keepdims=True) + 1e-5)
        h = h * p["LayerNorm_0"]["scale"] + p["LayerNorm_0"]["bias"]
        return h @ p["Dense_0"]["kernel"] + p["Dense_0"]["bias"]

    X = rng.normal(size=(4, 4, 4, 1))
    y = rng.integers(0, C, 4)
    jp = JaxProblem(apply, params, jax_fns(jax)[1], (X, y))  # built without evaluating
    info = {p.name: (p.kind, p.filter_axis, p.shape) for p in jp.layout}
    assert info == {
        "params.Conv_0.bias": ("bias", None, (2,)),
        "params.Conv_0.kernel": ("weight", 3, (3, 3, 1, 2)),
        "params.Dense_0.bias": ("bias", None, (C,)),
        "params.Dense_0.kernel": ("weight", 1, (8, C)),
        "params.LayerNorm_0.bias": ("norm", None, (8,)),
        "params.LayerNorm_0.scale": ("norm", None, (8,)),
    }
    assert sum(p.size for p in jp.layout) == jp.dim == 18 + 2 + 16 + 24 + 3
    # the flat vector follows the layout: each slice is that leaf, raveled
    leaf = jp.flat_params[next(p for p in jp.layout if p.name.endswith("Conv_0.kernel")).slice]
    np.testing.assert_array_equal(leaf, params["params"]["Conv_0"]["kernel"].ravel())


def test_with_params_unravel_and_jit_off(jax):
    jp, _ = setup(jax, "ce")
    w = jp.flat_params * 0.5
    moved = jp.with_params(w)
    assert moved.loss() == jp.loss(w) and jp.loss() != jp.loss(w)
    tree = jp.unravel(w)
    assert isinstance(tree, list) and tree[0].shape == (D, H)
    assert isinstance(tree[0], jax.Array)
    np.testing.assert_array_equal(jp.with_params(tree).flat_params, w)
    eager = JaxProblem(jp.apply_fn, jp.params, jp.loss_fn, (jp.X, jp.y), jit=False)
    assert abs(eager.loss(w) - jp.loss(w)) < 1e-12


def test_float32_without_x64(jax):
    jp64, _ = setup(jax, "ce")
    v = np.random.default_rng(6).normal(size=jp64.dim)
    h64 = jp64.hvp(None, v)
    jax.config.update("jax_enable_x64", False)
    try:
        rng = np.random.default_rng(1)
        params = [rng.normal(size=(D, H)), 0.1 * rng.normal(size=H),
                  rng.normal(size=(H, C)), 0.1 * rng.normal(size=C)]
        jp32 = JaxProblem(jp64.apply_fn, params, jp64.loss_fn,
                          (np.asarray(jp64.X), np.asarray(jp64.y)))
        assert jp32.dtype == np.float32
        h32 = jp32.hvp(None, v)
    finally:
        jax.config.update("jax_enable_x64", True)
    assert h32.dtype == np.float64
    err = np.abs(h32 - h64).max() / np.abs(h64).max()
    assert 1e-10 < err < 1e-4  # float32 rounding, not float64 and not garbage


def test_errors_say_what_happened(jax):
    jp, _ = setup(jax, "ce")
    with pytest.raises(ValueError, match=r"shape \(38,\), got shape \(4,\)"):
        jp.grad(np.zeros(4))
    with pytest.raises(ValueError, match="must be a floating array"):
        JaxProblem(jp.apply_fn, {"W": np.zeros((2, 2)), "step": np.int32(3)}, jp.loss_fn,
                   (jp.X, jp.y))
    with pytest.raises(ValueError, match="pytree shaped like params"):
        jp.with_params({"a": np.zeros(3)})
    with pytest.raises(ValueError, match="y has 2"):
        JaxProblem(jp.apply_fn, jp.params, jp.loss_fn, (np.zeros((3, D)), np.zeros(2)))


def test_missing_jax_gives_install_hint(monkeypatch):
    """Runs without JAX too: the error names the packages to install."""
    monkeypatch.setitem(sys.modules, "jax", None)
    with pytest.raises(ImportError, match=r"pip install jax jaxlib"):
        JaxProblem(mlp, [], np_mse, (np.zeros((2, 1)), np.zeros(2)))


def test_landscape_instruments_run_on_the_adapter(jax):
    from mlcalc import landscape
    from mlcalc.landscape.directions import random_direction

    jp, npb = setup(jax, "ce", batch_size=12)
    dense = np.linalg.eigvalsh(landscape.HessianOperator(npb).to_dense())
    ours = landscape.eigenvalues(landscape.HessianOperator(jp), k=4, which="both")
    ref = landscape.eigenvalues(landscape.HessianOperator(npb), k=4, which="both")
    np.testing.assert_allclose(np.sort(ours.values), np.sort(ref.values), rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.sort(ours.values)[[0, -1]], dense[[0, -1]], rtol=0, atol=1e-9)
    # filter normalisation reads the layout: the filters of an (in, out) kernel are its
    # columns, each scaled to the norm of that column of θ
    assert_filter_normalised(jp, random_direction(jp, seed=1), filter_axis=0)
