"""numpy.linalg: values equal NumPy's, derivatives to second order, closed forms, vmap."""

import numpy as np
import pytest

import mlcalc as mc
import mlcalc.numpy as mnp
from mlcalc.testing import check_grads, check_vmap

rng = np.random.default_rng(1)


def rand(*shape):
    return rng.standard_normal(shape)


def wellcond(*shape):
    """Random matrices near 3·I: well conditioned."""
    n = shape[-1]
    return 3.0 * np.eye(n) + 0.5 * rand(*shape)


def sym(a):
    return (a + np.swapaxes(a, -1, -2)) / 2


def spd(a):
    n = a.shape[-1]
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _eigh_w(a):
    return np.linalg.eigh(sym(a))[0]


def _eigh_v(a):
    v = np.linalg.eigh(sym(a))[1]
    return v * np.sign(v[..., :1, :])  # a sign convention makes the vectors a function


def _svd_uv(a):
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    sign = np.sign(u[..., :1, :])
    return u * sign, s, vt * np.swapaxes(sign, -1, -2)


def _qr(a):
    q, r = np.linalg.qr(a)
    return q, r


CASES = [
    ("inv", np.linalg.inv, [(3, 3)]),
    ("inv_batch", np.linalg.inv, [(2, 3, 3)]),
    ("solve_vec", np.linalg.solve, [(3, 3), "b3"]),
    ("solve_mat", np.linalg.solve, [(3, 3), "b32"]),
    ("solve_batch_vec", np.linalg.solve, [(2, 3, 3), "b3"]),
    ("solve_batch_bcast", np.linalg.solve, [(2, 3, 3), "b32"]),
    ("solve_b_batched", np.linalg.solve, [(3, 3), "b232"]),
    ("det", np.linalg.det, [(3, 3)]),
    ("det_batch", np.linalg.det, [(2, 3, 3)]),
    ("slogdet", lambda a: np.linalg.slogdet(a)[1], [(3, 3)]),
    ("slogdet_batch", lambda a: np.linalg.slogdet(a).logabsdet, [(2, 3, 3)]),
    ("cholesky", lambda a: np.linalg.cholesky(spd(a)), [(3, 3)]),
    ("cholesky_upper", lambda a: np.linalg.cholesky(spd(a), upper=True), [(2, 3, 3)]),
    ("eigh_w", _eigh_w, [(3, 3)]),
    ("eigh_v", _eigh_v, [(2, 3, 3)]),
    ("eigvalsh", lambda a: np.linalg.eigvalsh(sym(a)), [(3, 3)]),
    ("svd_tall", _svd_uv, ["r43"]),
    ("svd_wide", _svd_uv, ["r34"]),
    ("svd_square", _svd_uv, ["r33"]),
    ("svdvals", lambda a: np.linalg.svd(a, compute_uv=False), ["r43"]),
    ("svdvals_fn", np.linalg.svdvals, ["r234"]),
    ("qr", _qr, ["r43"]),
    ("qr_square_batch", _qr, ["r233"]),
    ("qr_r", lambda a: np.linalg.qr(a, mode="r"), ["r43"]),
    ("pinv_tall", np.linalg.pinv, ["r43"]),
    ("pinv_wide", np.linalg.pinv, ["r24"]),
    ("matrix_power3", lambda a: np.linalg.matrix_power(a, 3), [(3, 3)]),
    ("matrix_power5", lambda a: np.linalg.matrix_power(a, 5), [(2, 2)]),
    ("matrix_power_neg", lambda a: np.linalg.matrix_power(a, -2), [(3, 3)]),
    ("multi_dot3", lambda a, b, c: np.linalg.multi_dot([a, b, c]), ["r23", "r34", "r42"]),
    ("multi_dot4", lambda a, b, c, d: np.linalg.multi_dot([a, b, c, d]),
     ["r3", "r34", "r45", "r5"]),
    ("multi_dot5", lambda *m: np.linalg.multi_dot(m), ["r23", "r35", "r54", "r42", "r26"]),
]


def make(spec):
    if isinstance(spec, tuple):
        return wellcond(*spec)
    return rand(*(int(c) for c in spec[1:]))


@pytest.mark.parametrize("name,fn,specs", CASES, ids=[c[0] for c in CASES])
def test_grads(name, fn, specs):
    args = [make(s) for s in specs]
    check_grads(fn, args, order=2, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name,fn,specs", CASES, ids=[c[0] for c in CASES])
def test_vmap(name, fn, specs):
    args = [make(s) for s in specs]
    stacked0 = [np.stack([a, a + 0.1 * rand(*a.shape)]) for a in args]
    check_vmap(fn, stacked0, rtol=1e-9, atol=1e-9)
    first1 = np.stack([args[0], args[0] + 0.1 * rand(*args[0].shape)], axis=1)
    check_vmap(fn, [first1] + args[1:], in_axes=(1,) + (None,) * (len(args) - 1),
               rtol=1e-9, atol=1e-9)


VALUE_FNS = [
    ("inv", lambda m: mnp.linalg.inv(m), lambda m: np.linalg.inv(m)),
    ("solve", lambda m: mnp.linalg.solve(m, m[0]), lambda m: np.linalg.solve(m, m[0])),
    ("det", lambda m: mnp.linalg.det(m), lambda m: np.linalg.det(m)),
    ("slogdet", lambda m: tuple(mnp.linalg.slogdet(m)), lambda m: tuple(np.linalg.slogdet(m))),
    ("cholesky", lambda m: mnp.linalg.cholesky(spd(m)), lambda m: np.linalg.cholesky(spd(m))),
    ("eigh", lambda m: tuple(mnp.linalg.eigh(sym(m))), lambda m: tuple(np.linalg.eigh(sym(m)))),
    ("eigvalsh", lambda m: mnp.linalg.eigvalsh(sym(m)), lambda m: np.linalg.eigvalsh(sym(m))),
    ("svd", lambda m: tuple(mnp.linalg.svd(m)), lambda m: tuple(np.linalg.svd(m))),
    ("svdvals", lambda m: mnp.linalg.svd(m, compute_uv=False),
     lambda m: np.linalg.svd(m, compute_uv=False)),
    ("qr", lambda m: tuple(mnp.linalg.qr(m)), lambda m: tuple(np.linalg.qr(m))),
    ("qr_r", lambda m: mnp.linalg.qr(m, mode="r"), lambda m: np.linalg.qr(m, mode="r")),
    ("pinv", lambda m: mnp.linalg.pinv(m), lambda m: np.linalg.pinv(m)),
    ("matrix_power", lambda m: mnp.linalg.matrix_power(m, 7),
     lambda m: np.linalg.matrix_power(m, 7)),
    ("matrix_power0", lambda m: mnp.linalg.matrix_power(m, 0),
     lambda m: np.linalg.matrix_power(m, 0)),
    ("multi_dot", lambda m: mnp.linalg.multi_dot([m[0], m, m.T, m, m[:, 0]]),
     lambda m: np.linalg.multi_dot([m[0], m, m.T, m, m[:, 0]])),
    ("norm", lambda m: mnp.linalg.norm(m, "nuc"), lambda m: np.linalg.norm(m, "nuc")),
]


@pytest.mark.parametrize("name,ours,theirs", VALUE_FNS, ids=[v[0] for v in VALUE_FNS])
def test_values_equal_numpy(name, ours, theirs):
    m = wellcond(4, 4)
    for x, y in zip(np.atleast_1d(ours(m)) if not isinstance(ours(m), tuple) else ours(m),
                    np.atleast_1d(theirs(m)) if not isinstance(theirs(m), tuple) else theirs(m)):
        np.testing.assert_array_equal(x, y)


def test_slogdet_unpacks():
    m = wellcond(3, 3)
    sign, logdet = mnp.linalg.slogdet(m)
    res = mnp.linalg.slogdet(m)
    assert res.sign == sign and res.logabsdet == logdet


# -- closed forms ----------------------------------------------------------------


def test_logdet_gradient_is_inverse_transpose():
    a = wellcond(4, 4)
    g = mc.grad(lambda a: np.linalg.slogdet(a)[1])(a)
    np.testing.assert_allclose(g, np.linalg.inv(a).T, rtol=1e-12)


def test_logdet_hessian():
    a = wellcond(3, 3)
    h = mc.hessian(lambda a: np.linalg.slogdet(a)[1])(a)
    ainv = np.linalg.inv(a)
    # d²/dA_ij dA_kl log|det A| = −(A⁻¹)_jk (A⁻¹)_li
    expected = -np.einsum("jk,li->ijkl", ainv, ainv)
    np.testing.assert_allclose(h, expected, rtol=1e-10, atol=1e-12)


def test_trace_inverse_gradient():
    a, b = wellcond(4, 4), rand(4, 4)
    g = mc.grad(lambda a: np.sum(np.linalg.inv(a) * b.T))(a)  # tr(A⁻¹B)
    ainv = np.linalg.inv(a)
    np.testing.assert_allclose(g, -(ainv @ b @ ainv).T, rtol=1e-10)


def test_det_gradient_regular_and_singular():
    a = wellcond(3, 3)
    np.testing.assert_allclose(mc.grad(np.linalg.det)(a), np.linalg.det(a) * np.linalg.inv(a).T)
    s = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # rank 2
    cof = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(s, i, 0), j, 1))
                     for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(mc.grad(np.linalg.det)(s), cof, atol=1e-12)
    t = rand(3, 3)
    np.testing.assert_allclose(mc.jvp(np.linalg.det, (s,), (t,))[1], np.sum(cof * t), atol=1e-12)
    z = np.zeros((3, 3))
    np.testing.assert_allclose(mc.grad(np.linalg.det)(z), np.zeros((3, 3)), atol=1e-15)


def test_eigvalsh_second_derivative():
    a = sym(rand(3, 3))
    w, v = np.linalg.eigh(a)
    e = rand(3, 3)
    e = sym(e)
    # d²λ_i along E: 2 Σ_{j≠i} (v_iᵀ E v_j)² / (λ_i − λ_j)
    m = v.T @ e @ v
    expected = np.array([2 * sum(m[i, j] ** 2 / (w[i] - w[j]) for j in range(3) if j != i)
                         for i in range(3)])

    def along(t):
        return np.linalg.eigvalsh(a + t * e)

    d2 = mc.jacfwd(mc.jacfwd(along))(0.0)
    np.testing.assert_allclose(d2, expected, rtol=1e-8)
    check_grads(lambda a: np.linalg.eigvalsh(sym(a)), (a,), order=3, rtol=1e-4, atol=1e-4)


def test_svdvals_gradient_is_uv():
    a = rand(4, 3)
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(mc.grad(lambda a: np.sum(np.linalg.svd(a, compute_uv=False)))(a),
                               u @ vt, rtol=1e-10)


def test_pinv_equals_inv_derivative_on_square():
    a = wellcond(3, 3)
    t = rand(3, 3)
    np.testing.assert_allclose(mc.jvp(np.linalg.pinv, (a,), (t,))[1],
                               mc.jvp(np.linalg.inv, (a,), (t,))[1], rtol=1e-8, atol=1e-10)


def test_inv_third_order():
    check_grads(np.linalg.inv, (wellcond(3, 3),), order=3, rtol=1e-4, atol=1e-4)


def test_cholesky_symmetric_cotangent():
    a = spd(rand(3, 3))
    g = mc.grad(lambda a: np.sum(np.linalg.cholesky(a)))(a)
    np.testing.assert_allclose(g, g.T)
    # log det A = 2 Σ log L_ii: its gradient is A⁻¹
    def logdet(a):
        return 2 * np.sum(np.log(np.linalg.cholesky(a) * np.eye(3) + (1 - np.eye(3))))

    g2 = mc.grad(logdet)(a)
    np.testing.assert_allclose(g2, np.linalg.inv(a), rtol=1e-10)


def test_full_matrices_svd_not_differentiable():
    with pytest.raises(mc.NotDifferentiableError):
        mc.grad(lambda a: np.sum(np.linalg.svd(a)[0]))(rand(4, 3))


def test_vmap_of_grad_logdet():
    a = wellcond(4, 3, 3)
    f = mc.vmap(mc.grad(lambda a: np.linalg.slogdet(a)[1]))
    np.testing.assert_allclose(f(a), np.swapaxes(np.linalg.inv(a), -1, -2), rtol=1e-12)


# -- norm ------------------------------------------------------------------------

NORMS = [
    ("vec_default", (5,), {}),
    ("vec_2", (5,), {"ord": 2}),
    ("vec_1", (5,), {"ord": 1}),
    ("vec_inf", (5,), {"ord": np.inf}),
    ("vec_-inf", (5,), {"ord": -np.inf}),
    ("vec_p3", (5,), {"ord": 3}),
    ("vec_p0.5", (5,), {"ord": 0.5}),
    ("vec_axis", (3, 4), {"axis": 1}),
    ("vec_axis_keep", (3, 4), {"axis": 0, "keepdims": True, "ord": 1}),
    ("flat_default", (2, 3, 4), {}),
    ("flat_keep", (2, 3), {"keepdims": True}),
    ("fro", (3, 4), {"ord": "fro"}),
    ("nuc", (3, 4), {"ord": "nuc"}),
    ("spec2", (3, 4), {"ord": 2}),
    ("spec-2", (4, 3), {"ord": -2}),
    ("mat1", (3, 4), {"ord": 1}),
    ("mat-1", (3, 4), {"ord": -1}),
    ("matinf", (3, 4), {"ord": np.inf}),
    ("mat-inf", (3, 4), {"ord": -np.inf}),
    ("mat_axes", (3, 2, 4), {"ord": "nuc", "axis": (2, 0), "keepdims": True}),
    ("mat_axes_inf", (3, 2, 4), {"ord": np.inf, "axis": (0, 2)}),
    ("mat_axes_fro", (3, 2, 4), {"axis": (0, 2)}),
]


@pytest.mark.parametrize("name,shape,kw", NORMS, ids=[n[0] for n in NORMS])
def test_norm(name, shape, kw):
    x = rand(*shape)

    def f(x):
        return np.linalg.norm(x, **kw)

    check_grads(f, (x,), order=2, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mc.jvp(f, (x,), (x,))[0], np.linalg.norm(x, **kw), rtol=1e-13)
    check_vmap(f, (np.stack([x, 2 * x, -x]),), rtol=1e-10, atol=1e-10)
    check_vmap(f, (np.stack([x, 2 * x], axis=-1),), in_axes=-1, rtol=1e-10, atol=1e-10)


def test_norm_values_traced_equal_numpy():
    x = rand(7)
    value, _ = mc.vjp(np.linalg.norm, x)
    np.testing.assert_array_equal(value, np.linalg.norm(x))
    m = rand(3, 4)
    value, _ = mc.vjp(lambda m: np.linalg.norm(m, axis=0), m)
    np.testing.assert_array_equal(value, np.linalg.norm(m, axis=0))


def test_norm_zero_vector_convention():
    z = np.zeros(4)
    np.testing.assert_array_equal(mc.grad(np.linalg.norm)(z), np.zeros(4))
    np.testing.assert_array_equal(mc.grad(lambda x: np.linalg.norm(x, 1))(z), np.zeros(4))
    np.testing.assert_array_equal(mc.jvp(np.linalg.norm, (z,), (np.ones(4),))[1], 0.0)


def test_norm_closed_form():
    x = rand(5)
    np.testing.assert_allclose(mc.grad(np.linalg.norm)(x), x / np.linalg.norm(x))
    np.testing.assert_allclose(mc.grad(lambda x: np.linalg.norm(x, 1))(x), np.sign(x))
    tie = np.array([1.0, -3.0, 3.0])
    np.testing.assert_allclose(mc.grad(lambda x: np.linalg.norm(x, np.inf))(tie),
                               [0.0, -0.5, 0.5])


def test_matrix_power_zero_is_identity():
    a = rand(2, 3, 3)
    np.testing.assert_array_equal(mnp.linalg.matrix_power(a, 0), np.linalg.matrix_power(a, 0))
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(np.linalg.matrix_power(a, 0)))(a),
                                  np.zeros_like(a))
