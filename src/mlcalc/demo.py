"""A short demonstration of the engine (``make run`` / ``python -m mlcalc.demo``).

Differentiates plain NumPy code: the Rosenbrock function's gradient and Hessian at the
classic starting point (-1.2, 1), checked against their closed forms; a third
derivative; forward and reverse mode on a vector function; per-example gradients by
vmap.
"""

from __future__ import annotations

import numpy as np

import mlcalc as mc


def rosenbrock(x):
    """f(x) = Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)²."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_grad_exact(x):
    a, b = x
    return np.array([-400.0 * a * (b - a * a) - 2.0 * (1.0 - a), 200.0 * (b - a * a)])


def rosenbrock_hess_exact(x):
    a, b = x
    return np.array([[1200.0 * a * a - 400.0 * b + 2.0, -400.0 * a], [-400.0 * a, 200.0]])


def main() -> None:
    np.set_printoptions(precision=6, suppress=True)
    x0 = np.array([-1.2, 1.0])
    print("mlcalc", mc.__version__, "- derivatives of unmodified NumPy code\n")
    print("Rosenbrock f(x) = Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)² at x0 =", x0)
    value, g = mc.value_and_grad(rosenbrock)(x0)
    H = mc.hessian(rosenbrock)(x0)
    print(f"  f(x0)        = {value:.6f}")
    print("  ∇f(x0)       =", g, "  (closed form:", rosenbrock_grad_exact(x0), ")")
    print("  ∇²f(x0)      =\n", H)
    print("  closed form  =\n", rosenbrock_hess_exact(x0))
    eig = np.linalg.eigvalsh(H)
    print("  eigenvalues of ∇²f(x0):", eig, "-> condition number", f"{eig[-1] / eig[0]:.1f}")
    v = np.array([1.0, 0.0])
    print("  ∇²f(x0)·v (forward-over-reverse, no Hessian formed):", mc.hvp(rosenbrock, (x0,), (v,)))

    d3 = mc.grad(mc.grad(mc.grad(lambda t: np.sin(t) * t**3)))(0.5)
    print("\nThird derivative of sin(t)·t³ at t = 0.5:", f"{d3:.12f}")

    def field(x):
        return np.stack([x[0] * x[1], np.sin(x[0]) + x[1] ** 2, np.exp(x[1])])

    print("\nJacobian of F(x, y) = (xy, sin x + y², e^y) at (1, 2):")
    print("  forward mode:\n", mc.jacfwd(field)(np.array([1.0, 2.0])))
    print("  reverse mode:\n", mc.jacrev(field)(np.array([1.0, 2.0])))

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5).astype(float)
    w = np.zeros(3)

    def logistic_loss(w, x, t):
        z = np.sum(x * w)
        return np.log(1.0 + np.exp(-z)) + (1.0 - t) * z

    per_example = mc.vmap(mc.grad(logistic_loss), in_axes=(None, 0, 0))(w, X, y)
    print("\nPer-example gradients of a logistic loss (vmap of grad), 5 examples:\n", per_example)


if __name__ == "__main__":
    main()
