"""Memory and time of implicit differentiation against unrolled differentiation.

The inner problem is ridge regression, x*(λ) = argminₓ ½‖Ax − b‖² + ½λ‖x‖² (A: 400 × 200,
float64), solved by K steps of gradient descent. The outer loss is ½‖x*(λ) − x_ref‖²
and we take its gradient with respect to λ in two ways:

- **unrolled**: ``mc.grad`` through the K solver steps (the tape grows with K);
- **implicit**: the same K-step solver wrapped in ``mlcalc.implicit.custom_root`` with
  the optimality condition Aᵀ(Ax − b) + λx = 0; the solver runs on plain values and
  the gradient is one CG solve with Hessian-vector products.

For K = 100, 500 and 2000 the script prints the peak memory of one gradient call
(``tracemalloc``, which sees NumPy's allocations) and its time, the ratios, and each
gradient's relative error against the closed form dx*/dλ = −(AᵀA + λI)⁻¹x* (from
np.linalg.solve), so that agreement is part of the output. The problem is well
conditioned, so gradient descent has converged by K = 100 and both gradients are exact
up to the solver's tolerance (the implicit one to CG's relative residual, 1e-10).

Run from the repository root: ``python benchmarks/bench_implicit.py`` (about 20 s).
"""

from __future__ import annotations

from _common import pin_threads

pin_threads()


import numpy as np  # noqa: E402

import mlcalc as mc  # noqa: E402
from _common import peak_mb, print_machine, print_table, time_call  # noqa: E402
from mlcalc.implicit import custom_root  # noqa: E402

M, N = 400, 200
ITERATIONS = (100, 500, 2000)
LAM = 1.0

rng = np.random.default_rng(0)
A = rng.normal(size=(M, N)) / np.sqrt(M)
B = rng.normal(size=M)
X_REF = rng.normal(size=N)
STEP = 1.0 / (np.linalg.norm(A, 2) ** 2 + LAM)


def optimality(x, lam):
    """∇ₓ of the inner objective."""
    return A.T @ (A @ x - B) + lam * x


def gradient_descent(x0, lam, iterations):
    x = x0
    for _ in range(iterations):
        x = x - STEP * optimality(x, lam)
    return x


def outer(x):
    return 0.5 * np.sum((x - X_REF) ** 2)


def unrolled_grad(iterations):
    return mc.grad(lambda lam: outer(gradient_descent(np.zeros(N), lam, iterations)))


def implicit_grad(iterations):
    @custom_root(optimality, symmetric=True, residual_tol=None)
    def solver(x0, lam):
        return gradient_descent(x0, lam, iterations)

    return mc.grad(lambda lam: outer(solver(np.zeros(N), lam)))


def closed_form_grad(lam):
    K = A.T @ A + lam * np.eye(N)
    x = np.linalg.solve(K, A.T @ B)
    return float((x - X_REF) @ -np.linalg.solve(K, x))  # dx*/dλ = −K⁻¹x*


def main() -> None:
    print_machine({})
    exact = closed_form_grad(LAM)
    rows = []
    peaks = {}
    for k in ITERATIONS:
        unrolled, implicit = unrolled_grad(k), implicit_grad(k)
        g_u, g_i = float(unrolled(LAM)), float(implicit(LAM))
        mem_u, mem_i = peak_mb(unrolled, LAM), peak_mb(implicit, LAM)
        t_u = time_call(lambda f=unrolled: f(LAM), repeats=3, warmup=1)
        t_i = time_call(lambda f=implicit: f(LAM), repeats=3, warmup=1)
        peaks[k] = (mem_u, mem_i)
        rows.append([k, mem_u, mem_i, mem_u / mem_i, t_u * 1e3, t_i * 1e3, t_u / t_i,
                     f"{abs(g_u - exact) / abs(exact):.1e}",
                     f"{abs(g_i - exact) / abs(exact):.1e}"])
    print(f"\nd/dλ of ½‖x*(λ) − x_ref‖², x*(λ) = ridge minimiser by K gradient-descent steps "
          f"(A {M}×{N}, float64); rel. error against the closed form")
    print_table(["K", "unrolled MB", "implicit MB", "mem ratio", "unrolled ms",
                 "implicit ms", "time ratio", "unrolled err", "implicit err"], rows)
    lo, hi = ITERATIONS[0], ITERATIONS[-1]
    print(f"\npeak memory growth from K = {lo} to K = {hi}: unrolled "
          f"{peaks[hi][0] / peaks[lo][0]:.1f}x, implicit {peaks[hi][1] / peaks[lo][1]:.2f}x "
          f"(K grew {hi / lo:.0f}x)")


if __name__ == "__main__":
    main()
