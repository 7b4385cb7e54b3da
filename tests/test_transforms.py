"""The transforms: grad, value_and_grad, vjp, jvp, linearize, jacobians, hessian, hvp,
stop_gradient; argnums, has_aux, pytrees; nesting to any order; dtypes; errors."""

from __future__ import annotations

import dataclasses
import functools
from collections import namedtuple

import numpy as np
import pytest

import mlcalc as mc
import mlcalc.numpy as mnp
from mlcalc.testing import check_grads

rng = np.random.default_rng(0)


def f_scalar(x):
    return np.sum(np.sin(x) ** 2 * x + np.exp(-x * x))


def df_scalar(x):
    return 2 * np.sin(x) * np.cos(x) * x + np.sin(x) ** 2 - 2 * x * np.exp(-x * x)


def d2f_diag(x):
    return (
        2 * np.cos(2 * x) * x
        + 2 * np.sin(2 * x)
        + (4 * x * x - 2) * np.exp(-x * x)
    )


# -- first and second order against closed forms ------------------------------------


def test_grad_closed_form():
    x = rng.standard_normal(5)
    np.testing.assert_allclose(mc.grad(f_scalar)(x), df_scalar(x), rtol=1e-13)


def test_value_and_grad():
    x = rng.standard_normal(4)
    v, g = mc.value_and_grad(f_scalar)(x)
    assert v == f_scalar(x)
    np.testing.assert_allclose(g, df_scalar(x), rtol=1e-13)


@pytest.mark.parametrize(
    "hess",
    [mc.hessian, lambda f: mc.jacfwd(mc.jacrev(f)), lambda f: mc.jacrev(mc.jacfwd(f)),
     lambda f: mc.jacfwd(mc.jacfwd(f)), lambda f: mc.jacrev(mc.jacrev(f)),
     lambda f: mc.jacobian(mc.grad(f))],
)
def test_hessian_every_composition(hess):
    x = rng.standard_normal(4)
    np.testing.assert_allclose(hess(f_scalar)(x), np.diag(d2f_diag(x)), rtol=1e-12, atol=1e-14)


def test_rosenbrock_gradient_and_hessian():
    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    x = np.array([-1.2, 1.0])
    g = mc.grad(rosen)(x)
    np.testing.assert_allclose(g, [-215.6, -88.0], rtol=1e-14)
    h = mc.hessian(rosen)(x)
    np.testing.assert_allclose(h, [[1330.0, 480.0], [480.0, 200.0]], rtol=1e-14)


def test_third_and_fourth_derivatives_closed_form():
    x = 0.7
    d3 = mc.grad(mc.grad(mc.grad(np.sin)))(x)
    d4 = mc.grad(mc.grad(mc.grad(mc.grad(np.sin))))(x)
    np.testing.assert_allclose(d3, -np.cos(x), rtol=1e-14)
    np.testing.assert_allclose(d4, np.sin(x), rtol=1e-14)
    # d^3/dx^3 x^5 = 60 x^2, via every mix of modes
    p5 = lambda x: x**5  # noqa: E731
    for t in (
        mc.grad(mc.grad(mc.grad(p5))),
        mc.jacfwd(mc.jacfwd(mc.jacfwd(p5))),
        mc.jacfwd(mc.grad(mc.jacfwd(p5))),
        mc.grad(mc.jacfwd(mc.grad(p5))),
    ):
        np.testing.assert_allclose(t(1.3), 60 * 1.3**2, rtol=1e-13)


def test_third_derivative_tensor_of_multivariate():
    # f(x, y) = x^2 y^3: d3f/dx dy dy = 12 x y
    f = lambda v: v[0] ** 2 * v[1] ** 3  # noqa: E731
    t = mc.jacfwd(mc.hessian(f))(np.array([1.5, -0.5]))
    assert t.shape == (2, 2, 2)
    np.testing.assert_allclose(t[0, 1, 1], 12 * 1.5 * -0.5, rtol=1e-13)
    np.testing.assert_allclose(t[0, 0, 0], 0.0, atol=1e-14)
    np.testing.assert_allclose(t[1, 1, 1], 6 * 1.5**2, rtol=1e-13)


def test_siskind_pearlmutter_no_perturbation_confusion():
    # d/dx [x * d/dy (x + y)]_{y=1} at x=1 is 1 (a confused system answers 2).
    D = mc.grad
    assert D(lambda x: x * D(lambda y: x + y)(1.0))(1.0) == 1.0
    # forward-mode version
    def Df(f):
        return lambda x: mc.jvp(f, (x,), (1.0,))[1]

    assert Df(lambda x: x * Df(lambda y: x + y)(1.0))(1.0) == 1.0
    # mixed
    assert D(lambda x: x * Df(lambda y: x * y)(2.0))(3.0) == 6.0


def test_grad_of_function_calling_grad():
    # g(x) = x * f'(x) with f = sin: g' = sin'(x) + x sin''(x) = cos x - x sin x
    g = lambda x: x * mc.grad(np.sin)(x)  # noqa: E731
    x = 0.4
    np.testing.assert_allclose(mc.grad(g)(x), np.cos(x) - x * np.sin(x), rtol=1e-14)


def test_closure_over_outer_tracer():
    def outer(a):
        inner = lambda x: np.sum(a * x**2)  # noqa: E731
        return np.sum(mc.grad(inner)(np.array([1.0, 2.0])))  # = 2a(1+2) = 6a

    np.testing.assert_allclose(mc.grad(outer)(1.5), 6.0)


# -- vjp, jvp, linearize --------------------------------------------------------------


def test_vjp_and_jvp_dot_product_identity():
    def f(x, y):
        return np.tanh(x * y) + x**2

    x, y = rng.standard_normal(3), rng.standard_normal(3)
    u, v1, v2 = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
    out, pull = mc.vjp(f, x, y)
    np.testing.assert_array_equal(out, f(x, y))
    cx, cy = pull(u)
    _, jv = mc.jvp(f, (x, y), (v1, v2))
    np.testing.assert_allclose(u @ jv, cx @ v1 + cy @ v2, rtol=1e-13)
    # vjp_fn may be called repeatedly
    cx2, _ = pull(u)
    np.testing.assert_array_equal(cx, cx2)


def test_linearize_matches_jvp_without_rerunning():
    calls = []

    def f(x):
        calls.append(1)
        return np.sin(x) * np.exp(x)

    x = rng.standard_normal(4)
    out, f_jvp = mc.linearize(f, x)
    assert len(calls) == 1
    for _ in range(3):
        v = rng.standard_normal(4)
        np.testing.assert_allclose(f_jvp(v), mc.jvp(f, (x,), (v,))[1], rtol=1e-14)
    assert len(calls) == 4  # 1 (linearize) + 3 (the jvp references)


def test_hvp_equals_hessian_times_vector():
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    np.testing.assert_allclose(mc.hvp(f_scalar, (x,), (v,)), mc.hessian(f_scalar)(x) @ v,
                               rtol=1e-12)


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
@pytest.mark.parametrize("n,m", [(2, 5), (5, 2), (3, 3)])
def test_jacobian_modes_agree(mode, n, m):
    A = rng.standard_normal((m, n))

    def f(x):
        return np.tanh(A @ x)

    x = rng.standard_normal(n)
    J = mc.jacobian(f, mode=mode)(x)
    expected = (1 - np.tanh(A @ x) ** 2)[:, None] * A
    np.testing.assert_allclose(J, expected, rtol=1e-12)


# -- argnums, has_aux, pytrees --------------------------------------------------------


def test_argnums_tuple_and_negative():
    f = lambda x, y, z: x * y**2 + z  # noqa: E731
    gx, gy = mc.grad(f, argnums=(0, 1))(2.0, 3.0, 1.0)
    assert (gx, gy) == (9.0, 12.0)
    assert mc.grad(f, argnums=-1)(2.0, 3.0, 1.0) == 1.0
    with pytest.raises(ValueError, match="argnums"):
        mc.grad(f, argnums=3)(2.0, 3.0, 1.0)


def test_has_aux():
    def f(x):
        return np.sum(x**2), {"norm": np.sqrt(np.sum(x**2))}

    x = np.array([3.0, 4.0])
    g, aux = mc.grad(f, has_aux=True)(x)
    np.testing.assert_array_equal(g, 2 * x)
    assert float(aux["norm"]) == 5.0
    (v, aux2), g2 = mc.value_and_grad(f, has_aux=True)(x)
    assert v == 25.0 and float(aux2["norm"]) == 5.0


Point = namedtuple("Point", ["x", "y"])


@dataclasses.dataclass
class Params:
    w: np.ndarray
    b: float


class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b


mc.tree.register(Pair, lambda p: ((p.a, p.b), None), lambda aux, ch: Pair(*ch))


@pytest.mark.parametrize(
    "params",
    [
        (np.array([1.0, 2.0]), 3.0),
        [np.array([1.0, 2.0]), 3.0],
        {"w": np.array([1.0, 2.0]), "b": 3.0},
        Point(np.array([1.0, 2.0]), 3.0),
        Params(np.array([1.0, 2.0]), 3.0),
        Pair(np.array([1.0, 2.0]), 3.0),
    ],
    ids=["tuple", "list", "dict", "namedtuple", "dataclass", "registered"],
)
def test_pytree_arguments(params):
    def split(p):
        ls = mc.tree.leaves(p)
        return [x for x in ls if np.ndim(x) == 1][0], [x for x in ls if np.ndim(x) == 0][0]

    def loss(p):
        w, b = split(p)
        return np.sum(w**2) * b

    g = mc.grad(loss)(params)
    assert type(g) is type(params)
    gw, gb = split(g)
    w, b = split(params)
    np.testing.assert_allclose(gw, 2 * w * b)
    np.testing.assert_allclose(gb, np.sum(w**2))


@pytest.mark.parametrize(
    "params",
    [
        {"w": np.arange(6.0).reshape(2, 3), "b": 7.0, "c": [np.array([8, 9])]},
        Point(np.array([1.0, 2.0]), 3.0),
        Pair(np.array([[1.0], [2.0]]), np.float32(3.0)),
        np.array(4.0),
        (),
    ],
    ids=["nested", "namedtuple", "registered", "leaf", "empty"],
)
def test_tree_ravel_round_trip(params):
    flat, unravel = mc.tree.ravel(params)
    leaves = mc.tree.leaves(params)
    assert flat.dtype == np.float64 and flat.shape == (sum(np.size(x) for x in leaves),)
    np.testing.assert_array_equal(flat, np.concatenate([np.ravel(x) for x in leaves] + [[]]))
    back = unravel(flat)
    assert mc.tree.structure(back) == mc.tree.structure(params)
    for a, b in zip(mc.tree.leaves(back), leaves):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    # unravel is differentiable: the gradient of Σ leaves² through it is 2·flat
    def squares(v):
        return sum(np.sum(x**2) for x in mc.tree.leaves(unravel(v))) + 0.0 * np.sum(v)

    np.testing.assert_array_equal(mc.grad(squares)(flat), 2 * flat)
    with pytest.raises(ValueError, match=rf"shape \({flat.size + 1},\)"):
        unravel(np.zeros(flat.size + 1))
    # dtype=None keeps the leaves' common dtype (float64 for an empty tree)
    flat32, unravel32 = mc.tree.ravel(mc.tree.map(np.float32, params), dtype=None)
    assert flat32.dtype == (np.float32 if leaves else np.float64)
    np.testing.assert_array_equal(flat32, flat.astype(np.float32))
    assert mc.tree.structure(unravel32(flat32)) == mc.tree.structure(params)


def test_pytree_outputs_for_jacobians_and_vjp():
    def f(p):
        return {"s": p["a"] * p["b"], "t": (np.sin(p["a"]),)}

    p = {"a": np.array([0.5, 1.0]), "b": np.array([2.0, 3.0])}
    J = mc.jacrev(f)(p)
    Jf = mc.jacfwd(f)(p)
    np.testing.assert_allclose(J["s"]["a"], np.diag(p["b"]))
    np.testing.assert_allclose(J["t"][0]["a"], np.diag(np.cos(p["a"])))
    np.testing.assert_allclose(Jf["s"]["b"], np.diag(p["a"]))
    out, pull = mc.vjp(f, p)
    (ct,) = pull({"s": np.ones(2), "t": (np.ones(2),)})
    np.testing.assert_allclose(ct["a"], p["b"] + np.cos(p["a"]))


def test_check_grads_on_pytree_function():
    def f(x, p):
        return np.tanh(x * p["w"]) + p["b"] ** 2

    check_grads(f, (rng.standard_normal(3), {"w": rng.standard_normal(3), "b": 0.3}), order=2)


# -- dtypes and special values -----------------------------------------------------


def test_float32_stays_float32():
    x = np.array([0.5, 1.5], dtype=np.float32)
    g = mc.grad(lambda x: np.sum(np.sin(x) * 2.0))(x)
    assert g.dtype == np.float32
    h = mc.hessian(lambda x: np.sum(np.exp(x)))(x)
    assert h.dtype == np.float32
    _, t = mc.jvp(np.tanh, (x,), (np.ones(2, np.float32),))
    assert t.dtype == np.float32


@pytest.mark.parametrize("bad", [3, np.array([1, 2]), True, np.array([True])])
def test_integer_argument_is_a_type_error(bad):
    with pytest.raises(TypeError, match="integer|boolean") as info:
        mc.grad(lambda x: np.sum(x * 2.0))(bad)
    assert "argument 0" in str(info.value)
    assert "float" in str(info.value)


def test_integer_argument_not_differentiated_is_fine():
    f = lambda x, n: np.sum(x**n)  # noqa: E731
    assert mc.grad(f)(2.0, 3) == 12.0


def test_complex_is_not_implemented():
    with pytest.raises(NotImplementedError, match="complex"):
        mc.grad(lambda z: np.sum(z))(np.array([1 + 1j]))


def test_nonscalar_output_error():
    with pytest.raises(TypeError, match=r"scalar.*\(3,\).*jacrev"):
        mc.grad(lambda x: x * 2)(np.ones(3))


def test_jvp_shape_mismatch_shows_both_shapes():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        mc.jvp(np.sin, (np.ones(3),), (np.ones(2),))


def test_nan_and_inf_propagate():
    with np.errstate(all="ignore"):
        g = mc.grad(lambda x: np.sum(np.log(x)))(np.array([0.0, -1.0, np.nan, 2.0]))
    assert np.isinf(g[0]) and g[1] == -1.0 and np.isnan(g[2]) and g[3] == 0.5


def test_unsupported_function_names_itself():
    with pytest.raises(mc.NotDifferentiableError, match="numpy.fft.fft"):
        mc.grad(lambda x: np.sum(np.fft.fft(x).real))(np.ones(4))
    with pytest.raises(mc.NotDifferentiableError, match="frexp"):
        mc.grad(lambda x: np.sum(np.frexp(x)[0]))(np.ones(4))


def test_conversion_to_plain_array_explains_fix():
    def f(x):
        a = np.zeros(3)
        a[1:] = x
        return np.sum(a)

    with pytest.raises(mc.TracerConversionError, match="zeros_like"):
        mc.grad(f)(np.ones(2))

    def f0(x):
        a = np.zeros(2)
        a[0] = x[0]  # NumPy swallows the error of a 0-d value; mlcalc warns first
        return np.sum(a)

    with pytest.warns(mc.TracerConversionWarning, match="zeros_like"):
        with pytest.raises(ValueError):
            mc.grad(f0)(np.ones(2))
    with pytest.raises(mc.TracerConversionError, match="stop_gradient"):
        with pytest.warns(mc.TracerConversionWarning):
            mc.grad(lambda x: float(x))(1.0)
    with pytest.raises(mc.TracerConversionError, match="asarray"):
        mc.grad(lambda x: np.sum(np.asarray(x)))(np.ones(2))


def test_mnp_asarray_passes_traced_values_through():
    g = mc.grad(lambda x: np.sum(mnp.asarray(x) ** 2))(np.ones(2))
    np.testing.assert_array_equal(g, [2.0, 2.0])
    g = mc.grad(lambda x: np.sum(mnp.array([x[0], 2 * x[1]]) ** 2))(np.ones(2))
    np.testing.assert_array_equal(g, [2.0, 8.0])


# -- semantics ----------------------------------------------------------------------


def test_value_dependent_control_flow():
    def f(x):
        y = x
        while np.sum(y**2) < 100.0:
            y = y * 2.0
        if y[0] > 0:
            return np.sum(y)
        return -np.sum(y)

    np.testing.assert_array_equal(mc.grad(f)(np.array([1.0, 1.0])), [8.0, 8.0])


def test_item_assignment_and_inplace_operators():
    def f(x):
        y = np.zeros_like(x)
        y[0] = x[1] ** 2
        y[1:] += 3.0 * x[:-1]
        y *= 2.0
        return np.sum(y**2)

    x = np.array([1.0, 2.0, 3.0])
    # y = 2*[x1^2, 3x0, 3x1] ; f = 4 x1^4 + 36 x0^2 + 36 x1^2
    np.testing.assert_allclose(mc.grad(f)(x), [72.0, 16 * 8 + 72 * 2, 0.0])
    check_grads(f, (x,), order=2)


def test_stop_gradient():
    f = lambda x: x * mc.stop_gradient(x)  # noqa: E731
    assert mc.grad(f)(3.0) == 3.0
    assert mc.jvp(f, (3.0,), (1.0,))[1] == 3.0
    assert mc.grad(mc.grad(lambda x: mc.stop_gradient(x**2) * x))(2.0) == 0.0


def test_comparisons_return_plain_booleans():
    seen = []

    def f(x):
        seen.append(type(x > 0))
        return np.sum(np.where(x > 0, x, 0.0))

    mc.grad(f)(np.array([-1.0, 2.0]))
    assert seen[0] is np.ndarray


def test_residuals_released_after_backward():
    nodes = []

    def f(x):
        y = np.exp(x) * x
        nodes.append(y.node)
        return np.sum(y)

    mc.grad(f)(np.ones(3))
    assert nodes[0].args is None  # released once its VJP ran

    out, pull = mc.vjp(lambda x: np.exp(x) * x, np.ones(3))
    pull(np.ones(3))
    np.testing.assert_array_equal(pull(np.ones(3))[0], 2 * np.e * np.ones(3))  # kept for vjp


# -- custom rules and checkpoint -------------------------------------------------------


def test_custom_jvp_forward_reverse_and_second_order():
    @mc.custom_jvp
    def softplus(x):
        return np.log1p(np.exp(x)) if hasattr(mnp, "log1p") else np.log(1.0 + np.exp(x))

    calls = []

    @softplus.defjvp
    def softplus_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        calls.append(1)
        s = 1.0 / (1.0 + np.exp(-x))
        return softplus(x), s * t

    x = np.array([-1.0, 0.5, 30.0])
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(mc.grad(lambda x: np.sum(softplus(x)))(x), sig, rtol=1e-14)
    assert calls
    np.testing.assert_allclose(mc.jvp(softplus, (x,), (np.ones(3),))[1], sig, rtol=1e-14)
    np.testing.assert_allclose(
        mc.hessian(lambda x: np.sum(softplus(x)))(x), np.diag(sig * (1 - sig)), rtol=1e-12,
        atol=1e-15,
    )
    check_grads(lambda x: softplus(x), (x[:2],), order=2)


def test_custom_vjp_used_in_reverse_and_forward_differentiates_function():
    @mc.custom_vjp
    def clip_gradient(x):
        return x

    def fwd(x):
        return x, None

    def bwd(res, g):
        return (np.clip(g, -1.0, 1.0) if hasattr(mnp, "clip") else g * 0 + 0.5,)

    clip_gradient.defvjp(fwd, bwd)
    f = lambda x: np.sum(clip_gradient(x) * 10.0)  # noqa: E731
    g = mc.grad(f)(np.array([1.0, 2.0]))
    assert np.all(np.abs(g) <= 1.0)  # the custom rule was used
    # forward mode differentiates the function itself (identity)
    assert mc.jvp(lambda x: clip_gradient(x) * 10.0, (1.0,), (1.0,))[1] == 10.0


def test_custom_vjp_pytree_arguments():
    @mc.custom_vjp
    def f(p):
        return p["a"] * p["b"]

    f.defvjp(lambda p: (f(p), p), lambda p, g: ({"a": g * p["b"], "b": g * p["a"]},))
    p = {"a": 2.0, "b": 5.0}
    g = mc.grad(f)(p)
    assert g == {"a": 5.0, "b": 2.0}


def test_checkpoint_matches_and_recomputes():
    calls = []

    def block(x):
        calls.append(1)
        return np.tanh(np.sin(x) * 2.0)

    ck = mc.checkpoint(block)

    def f(x):
        for _ in range(3):
            x = ck(x)
        return np.sum(x)

    def f_plain(x):
        for _ in range(3):
            x = block(x)
        return np.sum(x)

    x = rng.standard_normal(4)
    calls.clear()
    g = mc.grad(f)(x)
    assert len(calls) == 6  # 3 forward + 3 recomputations
    np.testing.assert_allclose(g, mc.grad(f_plain)(x), rtol=1e-14)
    np.testing.assert_allclose(mc.hessian(f)(x), mc.hessian(f_plain)(x), rtol=1e-12, atol=1e-15)


# -- vmap basics (full coverage lives with each primitive family) ------------------------


def test_vmap_composes_with_grad_and_hessian():
    X = rng.standard_normal((6, 3))
    per_ex = mc.vmap(mc.grad(f_scalar))(X)
    np.testing.assert_allclose(per_ex, df_scalar(X), rtol=1e-13)
    H = mc.vmap(mc.hessian(f_scalar))(X)
    for i in range(6):
        np.testing.assert_allclose(H[i], np.diag(d2f_diag(X[i])), rtol=1e-12, atol=1e-14)
    g = mc.grad(lambda X: np.sum(mc.vmap(f_scalar)(X)))(X)
    np.testing.assert_allclose(g, df_scalar(X), rtol=1e-13)


def test_vmap_in_axes_out_axes_and_errors():
    X = rng.standard_normal((3, 4))
    out = mc.vmap(lambda x, w: x * w, in_axes=(1, None), out_axes=1)(X, np.arange(3.0))
    np.testing.assert_array_equal(out, X * np.arange(3.0)[:, None])
    with pytest.raises(ValueError, match="batch size"):
        mc.vmap(lambda a, b: a + b)(np.ones((3, 2)), np.ones((4, 2)))
    nested = mc.vmap(mc.vmap(lambda a: np.sin(a) * 2))(X)
    np.testing.assert_array_equal(nested, np.sin(X) * 2)
    d = mc.vmap(lambda p: p["a"] * p["b"], in_axes=({"a": 0, "b": None},))(
        {"a": X, "b": np.ones(4)}
    )
    np.testing.assert_array_equal(d, X)


def test_custom_rules_batch_under_vmap_without_looping():
    import warnings

    @mc.custom_jvp
    def softplus(x):
        return np.log(1.0 + np.exp(x))

    @softplus.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1.0 + np.exp(-x))

    @mc.custom_vjp
    def mul(x, y):
        return x * y

    mul.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (g * r[1], g * r[0]))
    ck = mc.checkpoint(lambda x: np.tanh(x) * x)
    X = rng.standard_normal((4, 3))
    y = rng.standard_normal(3)

    def f(x):
        return np.sum(softplus(x) ** 2 + mul(x, y) * ck(x))

    def f_plain(x):
        return np.sum(np.log(1.0 + np.exp(x)) ** 2 + x * y * np.tanh(x) * x)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no loop fallback
        H = mc.vmap(mc.hessian(f))(X)
        G = mc.vmap(mc.grad(mul, argnums=1), in_axes=(0, None))(X[:, 0], 2.0)
    for i in range(4):
        np.testing.assert_allclose(H[i], mc.hessian(f_plain)(X[i]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(G, X[:, 0])


def test_value_queries_under_vmap():
    x = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(mc.vmap(np.count_nonzero)(x), [2, 1])
    with pytest.raises(NotImplementedError, match="nonzero"):
        mc.vmap(np.nonzero)(x)
    assert mc.vmap(lambda r: np.shape(r)[0] + 0.0 * r)(x).shape == (2, 3)


def test_function_updating_its_own_input_in_place():
    def f(x):
        x[0] = 0.0
        x += 1.0
        return np.sum(x * x)

    x = np.array([1.0, 2.0, 3.0])
    expected = [0.0, 6.0, 8.0]  # f = 1 + (x1+1)^2 + (x2+1)^2
    np.testing.assert_allclose(mc.grad(f)(x.copy()), expected)
    np.testing.assert_allclose(mc.jacrev(f)(x.copy()), expected)
    np.testing.assert_allclose(mc.jacfwd(f)(x.copy()), expected)
    np.testing.assert_allclose(mc.hessian(f)(x.copy()), np.diag([0.0, 2.0, 2.0]))
    np.testing.assert_allclose(mc.vjp(f, x.copy())[1](1.0)[0], expected)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])  # the caller's array is untouched


@pytest.mark.parametrize("chunk_size", [None, 1, 3, 7, 20, 50])
def test_chunked_jacobians_equal_unchunked(chunk_size):
    W = rng.standard_normal((20, 20))

    def f(x):
        return np.tanh(W @ x) + x

    x = rng.standard_normal(20)
    J = (1 - np.tanh(W @ x) ** 2)[:, None] * W + np.eye(20)
    np.testing.assert_allclose(mc.jacrev(f, chunk_size=chunk_size)(x), J, rtol=1e-12)
    np.testing.assert_allclose(mc.jacfwd(f, chunk_size=chunk_size)(x), J, rtol=1e-12)
    loss = lambda x: np.sum(f(x) ** 2)  # noqa: E731
    np.testing.assert_allclose(mc.hessian(loss, chunk_size=chunk_size)(x), mc.hessian(loss)(x),
                               rtol=1e-12, atol=1e-12)
    # a chunked Jacobian inside another transform (traced chunks are concatenated)
    np.testing.assert_allclose(
        mc.jacfwd(mc.jacrev(f, chunk_size=chunk_size))(x[:20]),
        mc.jacfwd(mc.jacrev(f))(x[:20]),
        rtol=1e-12, atol=1e-12,
    )


def test_linearize_and_auto_jacobian_through_custom_functions():
    # forward sweeps over a recorded tape use the custom_jvp rule, and differentiate the
    # function of a custom_vjp / checkpoint, exactly as jvp does
    x = np.array([0.3, 0.7, -1.1])
    v = np.array([1.0, -2.0, 0.5])

    @mc.custom_jvp
    def double_slope_exp(x):
        return np.exp(x)

    @double_slope_exp.defjvp
    def _(primals, tangents):  # deliberately not exp's derivative: the rule must be used
        return np.exp(primals[0]), 2.0 * np.exp(primals[0]) * tangents[0]

    @mc.custom_vjp
    def cube(x):
        return x**3

    cube.defvjp(lambda x: (x**3, x), lambda r, g: (3 * r**2 * g,))
    blocks = [double_slope_exp, cube, mc.checkpoint(lambda x: np.sin(x) * x)]
    for block in blocks:
        def f(x, block=block):
            return block(x) * np.sum(x)

        expected = mc.jvp(f, (x,), (v,))[1]
        np.testing.assert_allclose(mc.linearize(f, x)[1](v), expected, rtol=1e-14)
        np.testing.assert_allclose(mc.jacobian(f, mode="auto")(x) @ v, expected, rtol=1e-14)
    np.testing.assert_allclose(mc.linearize(double_slope_exp, x)[1](v), 2 * np.exp(x) * v)


def test_custom_functions_with_vmap_loop_run_once_per_example():
    # a Newton iteration with data-dependent control flow (float(), a Python while loop)
    # cannot run on a batch; vmap="loop" calls it once per example, and the rule (here
    # d√a/da = 1/(2√a)) still serves vmap(grad) and grad(vmap)
    calls = []

    def newton_sqrt(a):
        a_val = float(a)
        calls.append(a_val)
        x = max(a_val, 1.0)
        while abs(x * x - a_val) > 1e-14 * a_val:
            x = 0.5 * (x + a_val / x)
        return np.asarray(x)

    @functools.partial(mc.custom_jvp, vmap="loop")
    def root(a):
        return newton_sqrt(mc.stop_gradient(a))

    @root.defjvp
    def _(primals, tangents):
        y = root(primals[0])
        return y, tangents[0] / (2.0 * y)

    a = np.array([2.0, 9.0, 0.25])
    np.testing.assert_allclose(mc.vmap(root)(a), np.sqrt(a), rtol=1e-14)
    assert len(calls) == 3
    np.testing.assert_allclose(mc.vmap(mc.grad(root))(a), 0.5 / np.sqrt(a), rtol=1e-13)
    np.testing.assert_allclose(mc.grad(lambda a: np.sum(mc.vmap(root)(a)))(a),
                               0.5 / np.sqrt(a), rtol=1e-13)

    @functools.partial(mc.custom_vjp, vmap="loop")
    def root_v(a):
        return newton_sqrt(a)

    root_v.defvjp(lambda a: (root_v(a), root_v(a)), lambda y, g: (g / (2.0 * y),))
    np.testing.assert_allclose(mc.grad(lambda a: np.sum(mc.vmap(root_v)(a)))(a),
                               0.5 / np.sqrt(a), rtol=1e-13)
    with pytest.raises(ValueError, match="'batched' or 'loop'"):
        mc.custom_jvp(np.sin, vmap="sequential")
