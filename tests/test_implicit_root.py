"""custom_root against closed forms: ridge regression, roots of polynomials; the
solver is never traced; vmap; errors."""

import warnings

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.calculus import check_grad
from mlcalc.implicit import ImplicitSolveError, ImplicitSolveWarning, custom_root
from mlcalc.testing import check_grads

RNG = np.random.default_rng(3)
A = RNG.normal(size=(10, 4))
B = RNG.normal(size=10)


def ridge_closed_form(lam):
    return np.linalg.solve(A.T @ A + lam * np.eye(4), A.T @ B)


def ridge_optimality(x, lam):
    # ∇ₓ(‖Ax − b‖² + λ‖x‖²) / 2
    return A.T @ (A @ x - B) + lam * x


SOLVER_CALLS = []


@custom_root(ridge_optimality, symmetric=True)
def ridge(init, lam):
    SOLVER_CALLS.append(type(lam))
    x = init.copy()  # gradient descent to convergence: many iterations, plain values
    step = 1.0 / (np.linalg.norm(A, 2) ** 2 + lam)
    for _ in range(10_000):
        g = ridge_optimality(x, lam)
        if np.max(np.abs(g)) < 1e-13:
            break
        x = x - step * g
    return x


X0 = np.zeros(4)


@pytest.mark.parametrize("transform", [mc.jacfwd, mc.jacrev])
def test_ridge_derivative_is_the_closed_form(transform):
    lam = 0.7
    x = ridge_closed_form(lam)
    K = A.T @ A + lam * np.eye(4)
    # dx*/dλ = −(AᵀA + λI)⁻¹ x*
    np.testing.assert_allclose(transform(lambda l: ridge(X0, l))(lam),
                               -np.linalg.solve(K, x), rtol=1e-9, atol=1e-12)


def test_ridge_second_derivative_is_the_closed_form():
    lam = 0.7
    K = A.T @ A + lam * np.eye(4)
    x = ridge_closed_form(lam)
    # d²x*/dλ² = 2 K⁻² x*
    expected = 2 * np.linalg.solve(K, np.linalg.solve(K, x))
    np.testing.assert_allclose(mc.jacfwd(mc.jacrev(lambda l: ridge(X0, l)))(lam), expected,
                               rtol=1e-8)
    np.testing.assert_allclose(mc.jacfwd(mc.jacfwd(lambda l: ridge(X0, l)))(lam), expected,
                               rtol=1e-8)


def test_hessian_of_an_outer_loss():
    def outer(lam):
        return np.sum(np.sin(ridge(X0, lam[0] * lam[1])))

    def outer_closed(lam):
        return np.sum(np.sin(np.linalg.solve(A.T @ A + lam[0] * lam[1] * np.eye(4),
                                             A.T @ B)))

    lam = np.array([0.5, 1.3])
    np.testing.assert_allclose(mc.hessian(outer)(lam), mc.hessian(outer_closed)(lam),
                               rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(mc.grad(outer)(lam), mc.grad(outer_closed)(lam), rtol=1e-9)
    assert check_grad(outer, lam, order=2).ok


def test_the_solver_only_ever_sees_plain_values():
    SOLVER_CALLS.clear()
    mc.grad(lambda l: np.sum(ridge(X0, l) ** 2))(0.3)
    mc.jvp(lambda l: ridge(X0, l), (0.3,), (1.0,))
    mc.hessian(lambda l: np.sum(ridge(X0, l) ** 2))(0.3)
    assert SOLVER_CALLS and all(t in (float, np.float64) for t in SOLVER_CALLS)


def polynomial(x, c):
    # p(x; c) = Σₖ cₖ xᵏ
    return np.sum(c * x ** np.arange(c.shape[0]))


@custom_root(polynomial)
def newton_root(x0, c):
    x = float(x0)
    dc = np.arange(1, c.size) * c[1:]
    for _ in range(100):
        step = np.polyval(c[::-1], x) / np.polyval(dc[::-1], x)
        x -= step
        if abs(step) < 1e-15 * max(1.0, abs(x)):
            break
    return np.asarray(x)


def test_polynomial_root_derivative_is_minus_dp_dc_over_dp_dx():
    c = np.array([-6.0, 11.0, -6.0, 1.0])  # (x − 1)(x − 2)(x − 3)
    for x0, root in [(0.5, 1.0), (2.2, 2.0), (3.6, 3.0)]:
        x = newton_root(np.asarray(x0), c)
        assert float(x) == pytest.approx(root, abs=1e-12)
        dp_dx = 11.0 - 12.0 * root + 3.0 * root ** 2
        expected = -(root ** np.arange(4)) / dp_dx  # ∂p/∂cₖ = xᵏ
        def root_of(c, x0=x0):
            return newton_root(np.asarray(x0), c)

        np.testing.assert_allclose(mc.grad(root_of)(c), expected, rtol=1e-10)
        np.testing.assert_allclose(mc.jacfwd(root_of)(c), expected, rtol=1e-10)


def test_polynomial_root_higher_orders_against_finite_differences():
    c = np.array([-6.0, 11.0, -6.0, 1.0])
    check_grads(lambda c: newton_root(np.asarray(2.2), c), (c,), order=2, rtol=1e-5,
                atol=1e-6)
    # steps small enough that the perturbed cubic keeps its three real roots
    assert check_grad(lambda c: newton_root(np.asarray(2.2), c), c, order=2,
                      base_step=0.02).ok


def test_vmap_runs_the_solver_per_example():
    lams = np.array([0.1, 1.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xs = mc.vmap(lambda l: ridge(X0, l))(lams)
        gs = mc.vmap(mc.grad(lambda l: np.sum(ridge(X0, l) ** 2)))(lams)
        gs2 = mc.grad(lambda ls: np.sum(mc.vmap(lambda l: ridge(X0, l))(ls) ** 2))(lams)
    np.testing.assert_allclose(xs, np.stack([ridge_closed_form(l) for l in lams]),
                               rtol=1e-10)
    expected = [-2 * ridge_closed_form(l) @ np.linalg.solve(A.T @ A + l * np.eye(4),
                                                            ridge_closed_form(l))
                for l in lams]
    np.testing.assert_allclose(gs, expected, rtol=1e-9)
    np.testing.assert_allclose(gs2, expected, rtol=1e-9)


def test_pytree_solution_and_arguments():
    def F(z, p):
        return {"u": p["a"] * z["u"] - 1.0, "v": z["v"] ** 3 - p["b"]}

    @custom_root(F)
    def solve(init, p):
        return {"u": 1.0 / p["a"], "v": np.cbrt(p["b"])}

    p = {"a": np.array([2.0, 4.0]), "b": np.array(8.0)}
    g = mc.grad(lambda p: np.sum(solve(None, p)["u"]) + solve(None, p)["v"])(p)
    np.testing.assert_allclose(g["a"], -1.0 / p["a"] ** 2)  # d(1/a)/da
    assert g["b"] == pytest.approx(1.0 / (3.0 * 8.0 ** (2 / 3)))  # d(b^(1/3))/db


def test_an_inaccurate_solver_is_reported():
    @custom_root(ridge_optimality)
    def sloppy(init, lam):
        return ridge_closed_form(lam) + 1e-3

    with pytest.warns(ImplicitSolveWarning, match="unreliable"):
        sloppy(X0, 0.5)


def test_a_singular_jacobian_raises_instead_of_a_wrong_derivative():
    @custom_root(lambda x, t: (x - t) ** 2)  # a double root: ∂F/∂x = 0 there
    def double(init, t):
        return t

    with pytest.raises(ImplicitSolveError, match="did not solve"):
        mc.grad(lambda t: np.sum(double(None, t)))(np.array([1.0, 2.0]))


def test_non_square_optimality_function_is_refused():
    @custom_root(lambda x, t: np.concatenate([x, x]) - t)
    def bad(init, t):
        return np.zeros(2)

    with pytest.raises(ValueError, match="structure and shapes of x"):
        bad(None, np.zeros(4))


def test_memory_does_not_grow_with_solver_iterations():
    import tracemalloc

    A2 = RNG.normal(size=(40, 20)) / np.sqrt(40)
    b2 = RNG.normal(size=40)
    step = 1.0 / (np.linalg.norm(A2, 2) ** 2 + 1.0)

    def F(x, lam):
        return A2.T @ (A2 @ x - b2) + lam * x

    def descent(x, lam, k):
        for _ in range(k):
            x = x - step * F(x, lam)
        return x

    def peak(fn):
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            fn(1.0)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    def implicit(k):
        solver = custom_root(F, symmetric=True)(lambda x0, lam: descent(x0, lam, k))
        return mc.grad(lambda lam: np.sum(solver(np.zeros(20), lam) ** 2))

    def unrolled(k):
        return mc.grad(lambda lam: np.sum(descent(np.zeros(20), lam, k) ** 2))

    assert peak(unrolled(400)) > 4 * peak(unrolled(50))  # the measurement sees the tape
    assert peak(implicit(400)) < 1.5 * peak(implicit(50))


@custom_root(lambda x, c, power, flag: x ** power - c)
def nth_root(init, c, power, flag):
    return c ** (1.0 / power)


def test_integer_and_boolean_settings_among_the_arguments_are_held_fixed():
    c = np.array([8.0, 27.0])
    # d/dc c^(1/3) = c^(−2/3)/3,  d²/dc² = −(2/9) c^(−5/3)
    np.testing.assert_allclose(mc.grad(lambda c: np.sum(nth_root(None, c, 3, True)))(c),
                               c ** (-2 / 3) / 3, rtol=1e-9)
    np.testing.assert_allclose(mc.jacfwd(lambda c: nth_root(None, c, 3, True))(c),
                               np.diag(c ** (-2 / 3) / 3), rtol=1e-9)
    np.testing.assert_allclose(mc.hessian(lambda c: np.sum(nth_root(None, c, 3, True)))(c),
                               np.diag(-2 / 9 * c ** (-5 / 3)), rtol=1e-8)


def test_linearize_and_jacobian_reuse_the_recorded_solution():
    c = np.array([8.0, 27.0])
    out, push = mc.linearize(lambda c: nth_root(None, c, 3, False), c)
    np.testing.assert_allclose(out, [2.0, 3.0])
    np.testing.assert_allclose(push(np.array([1.0, 2.0])), [1 / 12, 2 / 27], rtol=1e-9)
    np.testing.assert_allclose(mc.jacobian(lambda c: nth_root(None, c, 3, False)[:1])(c),
                               [[1 / 12, 0.0]], rtol=1e-9, atol=1e-15)


def test_closing_over_a_traced_value_is_a_clear_error():
    def loss(lam):
        @custom_root(lambda x, _: A.T @ (A @ x - B) + lam * x)  # lam closed over
        def solve(init, unused):
            return ridge_closed_form(0.5)

        return np.sum(solve(X0, 0.0))

    with pytest.raises(TypeError, match="closes over a value"):
        mc.grad(loss)(0.5)
