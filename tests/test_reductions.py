"""Reductions and scans: values equal NumPy's, derivatives to second (and third) order
in both modes, batching rules, and the conventions at non-differentiable points."""

from __future__ import annotations

import numpy as np
import pytest

import mlcalc as mc
import mlcalc.numpy as mnp
from mlcalc.testing import check_grads, check_vmap


def _point(shape, seed=0, dtype=np.float64):
    """Random entries of magnitude in [0.5, 2] and random sign (products stay O(1))."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return np.asarray(x, dtype=dtype)


# (id, function called as users call it, input shape). Points are random normals, so no
# ties (max/min) and no constant slices (std).
SMOOTH = [
    ("mean_all", lambda x: np.mean(x), (3, 4)),
    ("mean_axis", lambda x: np.mean(x, axis=1), (3, 4)),
    ("mean_neg_keep", lambda x: np.mean(x, axis=-1, keepdims=True), (2, 3, 4)),
    ("mean_tuple", lambda x: np.mean(x, axis=(0, 2)), (2, 3, 4)),
    ("mean_method", lambda x: x.mean(axis=0), (3, 4)),
    ("mean_0d", lambda x: np.mean(x), ()),
    ("mnp_mean", lambda x: mnp.mean(x, axis=(1,), keepdims=True), (3, 4)),
    ("var", lambda x: np.var(x), (3, 4)),
    ("var_ddof1", lambda x: np.var(x, axis=0, ddof=1), (3, 4)),
    ("var_tuple_keep", lambda x: np.var(x, axis=(0, 2), keepdims=True), (2, 3, 4)),
    ("var_method", lambda x: x.var(axis=-1, ddof=2), (3, 5)),
    ("var_correction", lambda x: np.var(x, axis=1, correction=1), (3, 4)),
    ("std", lambda x: np.std(x), (3, 4)),
    ("std_ddof1", lambda x: np.std(x, axis=1, ddof=1), (3, 4)),
    ("std_tuple_keep", lambda x: np.std(x, axis=(0, -1), keepdims=True), (2, 3, 4)),
    ("std_method", lambda x: x.std(axis=0), (4, 3)),
    ("mnp_std", lambda x: mnp.std(x, axis=0, ddof=1), (4, 3)),
    ("prod", lambda x: np.prod(x), (2, 3)),
    ("prod_axis", lambda x: np.prod(x, axis=0), (3, 4)),
    ("prod_tuple_keep", lambda x: np.prod(x, axis=(0, 2), keepdims=True), (2, 3, 2)),
    ("prod_method", lambda x: x.prod(axis=-1), (3, 4)),
    ("prod_0d", lambda x: np.prod(x), ()),
    ("max", lambda x: np.max(x), (3, 4)),
    ("max_axis", lambda x: np.max(x, axis=1), (3, 4)),
    ("amax_tuple_keep", lambda x: np.amax(x, axis=(0, 2), keepdims=True), (2, 3, 4)),
    ("max_method", lambda x: x.max(axis=0), (3, 4)),
    ("min", lambda x: np.min(x, axis=-1), (3, 4)),
    ("amin_tuple", lambda x: np.amin(x, axis=(1, 2)), (2, 3, 4)),
    ("min_method", lambda x: x.min(), (3, 4)),
    ("ptp", lambda x: np.ptp(x, axis=1), (3, 4)),
    ("ptp_all", lambda x: np.ptp(x), (3, 4)),
    ("cumsum", lambda x: np.cumsum(x), (3, 4)),
    ("cumsum_axis", lambda x: np.cumsum(x, axis=1), (3, 4)),
    ("cumsum_method", lambda x: x.cumsum(axis=-2), (2, 3, 4)),
    ("cumprod", lambda x: np.cumprod(x), (2, 3)),
    ("cumprod_axis", lambda x: np.cumprod(x, axis=0), (5, 2)),
    ("cumprod_method", lambda x: x.cumprod(axis=-1), (2, 6)),
    ("diff", lambda x: np.diff(x), (3, 5)),
    ("diff_n2_axis0", lambda x: np.diff(x, n=2, axis=0), (5, 3)),
    ("diff_prepend_append", lambda x: np.diff(x, axis=1, prepend=0.5, append=x[:, :1]), (3, 4)),
    ("trace", lambda x: np.trace(x), (4, 4)),
    ("trace_offset", lambda x: np.trace(x, offset=1), (3, 4)),
    ("trace_neg_offset_axes", lambda x: np.trace(x, -1, 2, 0), (4, 2, 3)),
    ("trace_method", lambda x: x.trace(axis1=1, axis2=2), (2, 3, 3)),
    ("average", lambda x: np.average(x, axis=1), (3, 4)),
    ("average_weights", lambda x: np.average(x, axis=1, weights=np.arange(1.0, 5.0)), (3, 4)),
    ("average_tuple", lambda x: np.average(x, axis=(2, 0), weights=np.ones((4, 2)) + 0.5),
     (2, 3, 4)),
    ("nansum", lambda x: np.nansum(x, axis=0), (3, 4)),
    ("nanmean", lambda x: np.nanmean(x, axis=1, keepdims=True), (3, 4)),
    ("add_reduce", lambda x: np.add.reduce(x), (3, 4)),
    ("multiply_reduce", lambda x: np.multiply.reduce(x, axis=1), (3, 4)),
    ("maximum_reduce", lambda x: np.maximum.reduce(x), (3, 4)),
    ("minimum_reduce", lambda x: np.minimum.reduce(x, axis=None), (3, 4)),
    ("multiply_accumulate", lambda x: np.multiply.accumulate(x), (3, 4)),
    ("composite", lambda x: np.std(x, axis=0) * np.max(np.cumsum(x, axis=1)), (3, 4)),
]


@pytest.mark.parametrize("name,f,shape", SMOOTH, ids=[c[0] for c in SMOOTH])
def test_grads_second_order(name, f, shape):
    check_grads(f, (_point(shape, seed=len(name)),), order=2)


@pytest.mark.parametrize("name,f,shape", SMOOTH, ids=[c[0] for c in SMOOTH])
def test_values_match_numpy(name, f, shape):
    x = _point(shape, seed=3)
    expected = f(x)
    out, _ = mc.jvp(f, (x,), (np.ones_like(x),))
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))


# mnp spellings on plain inputs are NumPy itself, bit for bit.
PLAIN = [
    ("mean", lambda m, x: m.mean(x, axis=(0, 2), keepdims=True)),
    ("var", lambda m, x: m.var(x, axis=1, ddof=1)),
    ("std", lambda m, x: m.std(x, axis=-1)),
    ("prod", lambda m, x: m.prod(x, axis=0)),
    ("max", lambda m, x: m.max(x, axis=(1, 2))),
    ("amin", lambda m, x: m.amin(x)),
    ("ptp", lambda m, x: m.ptp(x, axis=2)),
    ("cumsum", lambda m, x: m.cumsum(x, axis=1)),
    ("cumprod", lambda m, x: m.cumprod(x)),
    ("diff", lambda m, x: m.diff(x, n=2, axis=0, prepend=1.0)),
    ("trace", lambda m, x: m.trace(x, offset=-1, axis1=2, axis2=1)),
    ("average", lambda m, x: m.average(x, axis=1)),
    ("average_w", lambda m, x: m.average(x, axis=2, weights=np.arange(1.0, 21.0))),
    ("nansum", lambda m, x: m.nansum(x, axis=1)),
    ("nanmean", lambda m, x: m.nanmean(x, axis=(0, 2))),
    ("nanmean_all", lambda m, x: m.nanmean(x)),
    ("argmax", lambda m, x: m.argmax(x, axis=1)),
    ("argmin", lambda m, x: m.argmin(x, keepdims=True)),
    ("any", lambda m, x: m.any(x > 2.0, axis=0)),
    ("all", lambda m, x: m.all(x > -3.0)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,f", PLAIN, ids=[c[0] for c in PLAIN])
def test_mnp_plain_values_bit_identical(name, f, dtype):
    x = _point((3, 5, 20), seed=5, dtype=dtype)
    x[0, 1, 3] = np.nan if name.startswith("nan") else x[0, 1, 3]
    expected = f(np, x)
    actual = f(mnp, x)
    np.testing.assert_array_equal(actual, expected)
    assert np.asarray(actual).dtype == np.asarray(expected).dtype


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.mean(x, axis=0),
        lambda x: np.var(x, axis=1),
        lambda x: np.std(x),
        lambda x: np.prod(x, axis=0),
        lambda x: np.max(x, axis=1),
        lambda x: np.cumprod(x, axis=1),
        lambda x: np.cumsum(x),
        lambda x: np.trace(x),
        lambda x: np.nanmean(x),
        lambda x: np.average(x, axis=0, weights=np.arange(1.0, 5.0, dtype=np.float32)),
    ],
)
def test_float32_kept(f):
    x = _point((4, 4), seed=1, dtype=np.float32)
    out, t = mc.jvp(f, (x,), (np.ones_like(x),))
    assert out.dtype == np.float32 and t.dtype == np.float32
    np.testing.assert_array_equal(out, f(x))
    g = mc.grad(lambda x: np.sum(f(x)))(x)
    assert g.dtype == np.float32


@pytest.mark.parametrize(
    "f,shape",
    [
        (lambda x: np.var(x, axis=0, ddof=1), (4, 3)),
        (lambda x: np.std(x), (5,)),
        (lambda x: np.prod(x, axis=1), (2, 4)),
        (lambda x: np.cumprod(x), (4,)),
    ],
    ids=["var", "std", "prod", "cumprod"],
)
def test_third_order(f, shape):
    check_grads(f, (_point(shape, seed=7),), order=3)


@pytest.mark.parametrize(
    "f", [np.mean, np.var, np.std, np.prod, np.max, np.min, np.cumsum, np.cumprod, np.ptp,
          np.nanmean, np.average],
)
def test_zero_dimensional_input(f):
    x = np.array(1.7)
    out, t = mc.jvp(f, (x,), (np.array(1.0),))
    np.testing.assert_array_equal(out, f(x))
    check_grads(f, (x,), order=2)


# -- closed forms ------------------------------------------------------------------


def _others(x):
    """d/dx_i Π x = Π_{j≠i} x_j, by brute force."""
    return np.array([np.prod(np.delete(x, i)) for i in range(x.size)])


@pytest.mark.parametrize(
    "x",
    [
        [2.0, -1.5, 3.0, 0.5],
        [2.0, 0.0, 3.0, 0.5],
        [0.0, 1.5, 0.0, 3.0],
        [0.0, 0.0, 0.0],
    ],
    ids=["no_zero", "one_zero", "two_zeros", "all_zero"],
)
def test_prod_with_zeros(x):
    x = np.array(x)
    np.testing.assert_allclose(mc.grad(np.prod)(x), _others(x), rtol=1e-14)
    _, t = mc.jvp(np.prod, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(t, np.sum(_others(x)), rtol=1e-14)
    n = x.size
    hess = np.array([
        [0.0 if i == j else np.prod(np.delete(x, [i, j])) for j in range(n)] for i in range(n)
    ])
    np.testing.assert_allclose(mc.hessian(np.prod)(x), hess, rtol=1e-14)
    check_grads(np.prod, (x,), order=2)


@pytest.mark.parametrize(
    "x", [[2.0, 0.0, 3.0, -1.5], [0.0, 2.0, 0.0, 3.0], [1.5, -2.0, 0.5, 3.0]],
    ids=["one_zero", "two_zeros", "no_zero"],
)
def test_cumprod_with_zeros(x):
    x = np.array(x)
    n = x.size
    jac = np.array([
        [np.prod(np.delete(x[: k + 1], i)) if i <= k else 0.0 for i in range(n)]
        for k in range(n)
    ])
    np.testing.assert_allclose(mc.jacfwd(np.cumprod)(x), jac, rtol=1e-14)
    np.testing.assert_allclose(mc.jacrev(np.cumprod)(x), jac, rtol=1e-14)
    check_grads(np.cumprod, (x,), order=2)
    check_grads(lambda x: np.cumprod(x.reshape(2, 2), axis=0), (x,), order=2)


def test_prod_zeros_along_axes():
    x = _point((3, 4), seed=2)
    x[0, 1] = 0.0
    x[2, 0] = x[2, 3] = 0.0
    check_grads(lambda x: np.prod(x, axis=1), (x,), order=2)
    g = mc.grad(lambda x: np.sum(np.prod(x, axis=1)))(x)
    np.testing.assert_allclose(g, np.stack([_others(row) for row in x]), rtol=1e-14)


def test_var_std_closed_form():
    x = _point((6,), seed=4)
    n = x.size
    np.testing.assert_allclose(mc.grad(lambda x: np.var(x, ddof=1))(x),
                               2 * (x - x.mean()) / (n - 1), rtol=1e-13)
    np.testing.assert_allclose(mc.hessian(np.var)(x),
                               2 / n * (np.eye(n) - 1 / n), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(mc.grad(np.std)(x), (x - x.mean()) / (n * np.std(x)),
                               rtol=1e-13)


def test_cumsum_and_mean_closed_form():
    x = _point((4,), seed=6)
    np.testing.assert_array_equal(mc.jacrev(np.cumsum)(x), np.tril(np.ones((4, 4))))
    np.testing.assert_array_equal(mc.jacfwd(np.cumsum)(x), np.tril(np.ones((4, 4))))
    np.testing.assert_allclose(mc.grad(np.mean)(x), np.full(4, 0.25))


def test_average_weights_traced_and_returned():
    a, w = _point((3, 4), seed=8), 1.0 + np.abs(_point((4,), seed=9))

    def f(a, w):
        avg, scl = np.average(a, axis=1, weights=w, returned=True)
        return avg * scl

    check_grads(f, (a, w), order=2)
    check_grads(lambda a, w: np.average(a, weights=w), (a, 1.0 + np.abs(a)), order=2)
    expected = np.average(a, axis=1, weights=w, returned=True)
    actual = mnp.average(a, axis=1, weights=w, returned=True)
    for e, x in zip(expected, actual):
        np.testing.assert_array_equal(x, e)
    gw = mc.grad(lambda w: np.sum(np.average(a, axis=1, weights=w)))(w)
    sw = np.sum(w)
    np.testing.assert_allclose(gw, np.sum((a - np.average(a, axis=1, weights=w)[:, None]) / sw,
                                          axis=0), rtol=1e-12)


# -- conventions at non-differentiable points ----------------------------------------


def test_max_min_ties_split_equally():
    x = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    np.testing.assert_allclose(mc.grad(np.max)(x), [0, 1 / 3, 1 / 3, 0, 1 / 3])
    np.testing.assert_allclose(mc.grad(np.min)(-x), [0, 1 / 3, 1 / 3, 0, 1 / 3])
    _, t = mc.jvp(np.max, (x,), (np.array([0.0, 3.0, 6.0, 5.0, 0.0]),))
    assert t == 3.0
    y = np.array([[2.0, 2.0], [1.0, 4.0]])
    np.testing.assert_allclose(mc.grad(lambda y: np.sum(np.max(y, axis=1)))(y),
                               [[0.5, 0.5], [0.0, 1.0]])
    np.testing.assert_allclose(mc.grad(np.ptp)(np.ones(4)), np.zeros(4))


def test_max_nan_gradient_goes_to_nan_entries():
    x = np.array([1.0, np.nan, 3.0])
    np.testing.assert_allclose(mc.grad(np.max)(x), [0.0, 1.0, 0.0])


def test_std_constant_input_derivatives_are_zero():
    x = np.full(4, 2.5)
    assert np.std(x) == 0.0
    np.testing.assert_array_equal(mc.grad(np.std)(x), np.zeros(4))
    np.testing.assert_array_equal(mc.hessian(np.std)(x), np.zeros((4, 4)))
    _, t = mc.jvp(lambda x: np.std(x, axis=1), (np.ones((2, 3)),), (_point((2, 3)),))
    np.testing.assert_array_equal(t, np.zeros(2))


def test_nan_entries_get_zero_gradient():
    x = np.array([1.0, np.nan, 3.0, 4.0])
    np.testing.assert_array_equal(mc.grad(np.nansum)(x), [1.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(mc.grad(np.nanmean)(x), [1 / 3, 0.0, 1 / 3, 1 / 3])


# -- batching ----------------------------------------------------------------------

VMAP = [
    ("mean", lambda x: np.mean(x, axis=(0, 1), keepdims=True)),
    ("var", lambda x: np.var(x, axis=-1, ddof=1)),
    ("std", lambda x: np.std(x, axis=0)),
    ("prod", lambda x: np.prod(x, axis=1)),
    ("max", lambda x: np.max(x)),
    ("min", lambda x: np.min(x, axis=0, keepdims=True)),
    ("cumsum", lambda x: np.cumsum(x, axis=1)),
    ("cumsum_flat", lambda x: np.cumsum(x)),
    ("cumprod", lambda x: np.cumprod(x, axis=0)),
    ("diff", lambda x: np.diff(x, n=2, axis=1, prepend=1.0)),
    ("trace", lambda x: np.trace(x, offset=1)),
    ("ptp", lambda x: np.ptp(x, axis=1)),
    ("average", lambda x: np.average(x, axis=0, weights=np.arange(1.0, 4.0))),
    ("nanmean", lambda x: np.nanmean(x, axis=1)),
    ("argmax", lambda x: np.argmax(x, axis=1)),
    ("argmax_flat", lambda x: np.argmax(x)),
    ("argmin_flat_keep", lambda x: np.argmin(x, keepdims=True)),
    ("argmin", lambda x: np.argmin(x, axis=0, keepdims=True)),
    ("any", lambda x: np.any(x > 1.0, axis=1)),
    ("all", lambda x: np.all(x > -1.0)),
    ("add_reduce", lambda x: np.add.reduce(x)),
    ("maximum_reduce", lambda x: np.maximum.reduce(x, axis=1)),
]


@pytest.mark.parametrize("in_axis", [0, 1, 2])
@pytest.mark.parametrize("name,f", VMAP, ids=[c[0] for c in VMAP])
def test_vmap(name, f, in_axis):
    shape = [3, 4]
    shape.insert(in_axis, 2)
    x = _point(tuple(shape), seed=in_axis)
    check_vmap(f, (x,), in_axes=in_axis)


def test_vmap_with_unbatched_arguments():
    a, w = _point((5, 3, 4), seed=1), 1.0 + np.abs(_point((4,), seed=2))
    check_vmap(lambda a, w: np.average(a, axis=1, weights=w), (a, w), in_axes=(0, None))
    check_vmap(lambda a, w: np.average(a, axis=1, weights=w), (a, np.abs(a[:, :, 0]) + 1.0),
               in_axes=(None, 0))
    check_vmap(lambda a, p: np.diff(a, axis=0, prepend=p), (a, _point((1, 3))),
               in_axes=(2, None))


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.sum(np.var(x, axis=0)),
        lambda x: np.prod(x),
        lambda x: np.sum(np.cumprod(x, axis=1)),
        lambda x: np.max(x) + np.std(x),
    ],
    ids=["var", "prod", "cumprod", "max_std"],
)
def test_vmap_of_grad(f):
    x = _point((3, 2, 4), seed=11)
    check_vmap(mc.grad(f), (x,), in_axes=1, rtol=1e-12, atol=1e-12)
    check_vmap(mc.grad(f), (x,), in_axes=0, rtol=1e-12, atol=1e-12)


# -- reductions without a derivative -----------------------------------------------


def test_nondiff_reductions_under_grad():
    x = _point((3, 4), seed=12)

    def f(x):
        i = np.argmax(x, axis=1)
        assert x.argmin() == np.argmin(mc.stop_gradient(x))
        assert x.any() and not np.all(x > 10.0)
        return np.sum(x[np.arange(3), i])

    g = mc.grad(f)(x)
    expected = np.zeros_like(x)
    expected[np.arange(3), np.argmax(x, axis=1)] = 1.0
    np.testing.assert_array_equal(g, expected)


def test_ufunc_reduce_routes():
    x = _point((3, 4), seed=13)
    for ufunc in (np.add, np.multiply, np.maximum, np.minimum):
        out, _ = mc.jvp(lambda x, u=ufunc: u.reduce(x), (x,), (x,))
        np.testing.assert_array_equal(out, ufunc.reduce(x))
    out, _ = mc.jvp(lambda x: np.logical_or.reduce(x > 0.0, axis=1), (x,), (x,))
    np.testing.assert_array_equal(out, np.logical_or.reduce(x > 0.0, axis=1))


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.max(x, initial=0.0),
        lambda x: np.min(x, where=x > 0),
        lambda x: np.prod(x, initial=2.0),
        lambda x: np.mean(x, where=x > 0),
        lambda x: np.var(x, mean=np.zeros(1)),
    ],
    ids=["max_initial", "min_where", "prod_initial", "mean_where", "var_mean"],
)
def test_unsupported_arguments_raise(f):
    with pytest.raises(NotImplementedError, match="not supported on traced values"):
        mc.grad(lambda x: np.sum(f(x)))(_point((3,)))
