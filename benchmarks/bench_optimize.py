"""mlcalc.optimize's lbfgs / bfgs / newton_cg / trust_ncg against scipy.optimize's
L-BFGS-B / BFGS / Newton-CG / trust-ncg on the Moré–Garbow–Hillstrom problems
(tests/mgh_problems.py), both sides given the same exact gradient ``mc.grad(f)`` and
Hessian-vector product ``mc.hvp(f, (x,), (p,))`` from mlcalc's engine.

For every problem and method pair the table shows, for each side: the value reached,
success, scipy's counters (nfev, njev, nhev) of the whole run, and the two comparable
measures

  * ``evals→f*``: the number of objective evaluations until f first comes within 1e-6 of
    a minimum the paper documents (f*, relative, or absolute where f* = 0; or one of
    the paper's other local minima, relative), so that the libraries' different
    stopping rules do not enter ("—": never);
  * ``ms→f*``: the wall time until that evaluation (best of ``REPEATS`` runs).

Both sides run with tol = 1e-10 (the gradient-norm tolerance of ours; scipy's gtol,
or xtol for Newton-CG, or ftol and gtol for L-BFGS-B) and maxiter = 5000.

Summary per pair: the fraction of problems (those reached by at least one side; the
trigonometric function, where every method stops at f = 2.79506e-5, is not) where mlcalc
needs no more evaluations than scipy (target ≥ 90%), and the median ratio of the
times to f* over the problems both sides reach (target ≤ 1.2).

Run: python benchmarks/bench_optimize.py [--problems 1,2,...] [--methods lbfgs,bfgs,...]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from _common import pin_threads, print_machine, print_table, ratio_line  # noqa: E402

pin_threads()

import numpy as np  # noqa: E402
import scipy.optimize as so  # noqa: E402

import mlcalc as mc  # noqa: E402
import mlcalc.optimize as mo  # noqa: E402
from mgh_problems import PROBLEMS, reached  # noqa: E402

PAIRS = [("lbfgs", "L-BFGS-B"), ("bfgs", "BFGS"), ("newton_cg", "Newton-CG"),
         ("trust_ncg", "trust-ncg")]
TOL = 1e-10
MAXITER = 5000
REPEATS = 3


class Counted:
    """The objective, counting evaluations and noting the first one within 1e-6 of a
    documented minimum (and the seconds since the run started)."""

    def __init__(self, problem):
        self.problem = problem
        self.n = 0
        self.hit = None
        self.seconds = None
        self.start = time.perf_counter()

    def __call__(self, x):
        v = self.problem.f(x)
        self.n += 1
        if self.hit is None and reached(self.problem, float(v)) is not None:
            self.hit = self.n
            self.seconds = time.perf_counter() - self.start
        return v


def _derivatives(problem):
    g = mc.grad(problem.f)
    return (lambda x: g(x)), (lambda x, p: mc.hvp(problem.f, (x,), (p,)))


def run_ours(problem, method):
    jac, hvp = _derivatives(problem)
    c = Counted(problem)
    res = mo.minimize(c, np.array(problem.x0), method=method, jac=jac, hvp=hvp, tol=TOL,
                      maxiter=MAXITER)
    return c, res


def run_scipy(problem, method):
    jac, hvp = _derivatives(problem)
    kw = {"hessp": hvp} if method in ("Newton-CG", "trust-ncg") else {}
    c = Counted(problem)
    res = so.minimize(c, np.array(problem.x0), method=method, jac=jac, tol=TOL,
                      options={"maxiter": MAXITER}, **kw)
    return c, res


def measure(runner, problem, method):
    """Run ``REPEATS`` times; keep the counters of the last run and the best time."""
    best = None
    for _ in range(REPEATS):
        c, res = runner(problem, method)
        if c.seconds is not None:
            best = c.seconds if best is None else min(best, c.seconds)
    c.seconds = best
    return c, res


def _count(res, name):
    return str(int(res.get(name, 0) or 0))


def _hit(c):
    return "—" if c.hit is None else str(c.hit)


def _ms(c):
    return "—" if c.seconds is None else f"{1e3 * c.seconds:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", default="", help="comma-separated problem numbers")
    parser.add_argument("--methods", default="",
                        help="comma-separated mlcalc methods of the pairs to run "
                        f"(default all: {','.join(ours for ours, _ in PAIRS)})")
    args = parser.parse_args()
    chosen = {int(s) for s in args.problems.split(",") if s}
    problems = [p for p in PROBLEMS if not chosen or p.number in chosen]
    wanted = {s for s in args.methods.split(",") if s}
    unknown = wanted - {ours for ours, _ in PAIRS}
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; known: "
                     f"{', '.join(ours for ours, _ in PAIRS)}")
    pairs = [pair for pair in PAIRS if not wanted or pair[0] in wanted]
    warnings.simplefilter("ignore")
    print_machine({"scipy": so})
    stats = {ours: {"wins": 0, "total": 0, "ratios": [], "losses": []} for ours, _ in pairs}
    for p in problems:
        print(f"\n== {p.number}. {p.name}  (n={p.n}, m={p.m}, f*={p.f_star:.10g})")
        rows = []
        for ours, theirs in pairs:
            a, ra = measure(run_ours, p, ours)
            b, rb = measure(run_scipy, p, theirs)
            for label, c, r in ((f"mlcalc {ours}", a, ra), (f"scipy {theirs}", b, rb)):
                rows.append([label, f"{float(r.fun):.10g}", str(bool(r.success)),
                             _count(r, "nfev"), _count(r, "njev"), _count(r, "nhev"),
                             _hit(c), _ms(c)])
            s = stats[ours]
            if a.hit is None and b.hit is None:
                continue
            s["total"] += 1
            if a.hit is not None and (b.hit is None or a.hit <= b.hit):
                s["wins"] += 1
            else:
                s["losses"].append(f"{p.number} ({_hit(a)} vs {_hit(b)})")
            if a.hit is not None and b.hit is not None:
                s["ratios"].append(a.seconds / b.seconds)
        print_table(["method", "f", "success", "nfev", "njev", "nhev", "evals→f*", "ms→f*"],
                    rows)
    print("\nSummary (targets: no more evaluations to f* on >= 90% of the problems, "
          "median time ratio <= 1.20)")
    for ours, theirs in pairs:
        s = stats[ours]
        frac = s["wins"] / s["total"] if s["total"] else float("nan")
        med = float(np.median(s["ratios"])) if s["ratios"] else float("nan")
        verdict = "PASS" if frac >= 0.9 else "MISS"
        print(f"{ours:>9s} vs {theirs:<9s}: no more evaluations on {s['wins']}/{s['total']} "
              f"({100 * frac:.0f}%, target >= 90%)  {verdict}")
        print("    " + ratio_line(f"median time ratio ({len(s['ratios'])})", med, 1.2))
        if s["losses"]:
            print("    more evaluations (ours vs scipy) on: " + ", ".join(s["losses"]))


if __name__ == "__main__":
    main()
