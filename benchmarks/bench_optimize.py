"""mlcalc's lbfgs / bfgs / newton_cg / trust_ncg against scipy.optimize's L-BFGS-B /
BFGS / Newton-CG / trust-ncg on the Moré–Garbow–Hillstrom problems, both sides with
exact gradients and Hessian-vector products from mlcalc's engine.

Evaluations are counted the same way for both sides: the number of objective
evaluations until f first comes within 1e-6 (relative, or absolute where f* = 0) of the
minimum the paper documents, so that the two libraries' different stopping rules do not
enter; the time is likewise the wall time until that evaluation. Prints a table per
method pair, the fraction of problems where mlcalc needs no
more evaluations (target ≥ 90%) and the median wall-time ratio (target ≤ 1.2).

Run: python benchmarks/bench_optimize.py
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from _common import pin_threads  # noqa: E402

pin_threads()

import numpy as np  # noqa: E402
import scipy.optimize as so  # noqa: E402

import mlcalc as mc  # noqa: E402
import mlcalc.optimize as mo  # noqa: E402
from mgh_problems import PROBLEMS  # noqa: E402

PAIRS = [("lbfgs", "L-BFGS-B"), ("bfgs", "BFGS"), ("newton_cg", "Newton-CG"),
         ("trust_ncg", "trust-ncg")]


class Counter:
    """Counts objective evaluations and remembers when f first reached the target."""

    def __init__(self, f, target):
        self.f, self.target, self.n, self.hit = f, target, 0, None
        self.start = time.perf_counter()
        self.seconds = None

    def __call__(self, x):
        self.n += 1
        v = float(self.f(x))
        if self.hit is None and v <= self.target:
            self.hit = self.n
            self.seconds = time.perf_counter() - self.start
        return v


def target_of(p) -> float:
    if p.f_star == 0:
        return 1e-6
    # a start that leads to a documented local minimum is scored against it
    return min([p.f_star, *p.local]) * (1 + 1e-6) if p.local else p.f_star * (1 + 1e-6)


def run_ours(p, method, target):
    g = mc.grad(p.f)
    c = Counter(p.f, target)
    mo.minimize(lambda x: c(x), np.array(p.x0), method=method, jac=lambda x: g(x),
                hvp=lambda x, v: mc.hvp(p.f, (x,), (v,)), maxiter=5000, tol=1e-10)
    return c


def run_scipy(p, method, target):
    g = mc.grad(p.f)
    kw = {}
    if method in ("Newton-CG", "trust-ncg"):
        kw["hessp"] = lambda x, v: mc.hvp(p.f, (x,), (v,))
    c = Counter(p.f, target)
    so.minimize(c, np.array(p.x0), method=method, jac=lambda x: g(x), tol=1e-12,
                options={"maxiter": 5000}, **kw)
    return c


def _fmt(h) -> str:
    return "—" if h is None else str(h)


def _ms(seconds) -> str:
    return "—" if seconds is None else f"{1e3 * seconds:.1f}"


def main() -> None:
    warnings.simplefilter("ignore")
    summary = []
    for ours, theirs in PAIRS:
        print(f"\n== mlcalc {ours} vs scipy {theirs}: evaluations to reach f* (— = never)")
        print(f"{'problem':36s} {'mlcalc':>8s} {'scipy':>8s} {'ms ours':>9s} {'ms scipy':>9s}")
        wins = total = 0
        ratios = []
        for p in PROBLEMS:
            target = target_of(p)
            a = run_ours(p, ours, target)
            b = run_scipy(p, theirs, target)
            if a.hit is None and b.hit is None:
                continue
            total += 1
            if a.hit is not None and (b.hit is None or a.hit <= b.hit):
                wins += 1
            if a.hit is not None and b.hit is not None:
                ratios.append(a.seconds / b.seconds)
            print(f"{p.number:>2d} {p.name[:33]:33s} {_fmt(a.hit):>8s} {_fmt(b.hit):>8s} "
                  f"{_ms(a.seconds):>9s} {_ms(b.seconds):>9s}")
        frac = wins / total if total else float("nan")
        med = float(np.median(ratios)) if ratios else float("nan")
        summary.append((ours, theirs, wins, total, frac, med))
    print("\nSummary (target: no more evaluations on >= 90% of problems, median time <= 1.2)")
    for ours, theirs, wins, total, frac, med in summary:
        ok = "PASS" if frac >= 0.9 and med <= 1.2 else "MISS"
        print(f"{ours:10s} vs {theirs:10s}: fewer-or-equal evaluations on {wins}/{total} "
              f"({100 * frac:.0f}%), median time ratio {med:.2f}  {ok}")


if __name__ == "__main__":
    main()
