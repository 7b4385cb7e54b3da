"""``mlcalc optimize EXPR --from X0``: several methods of ``mlcalc.optimize.minimize`` on
one function, side by side: iterations, evaluations, final value, gradient norm,
observed convergence rate; contours with every path, convergence curves."""

from __future__ import annotations

import argparse
import inspect as _inspect

import numpy as np

from .common import auto_bounds, load_expression, parse_bounds, parse_point, sympy_str
from .output import CommandResult, Output, UsageError, fmt, table

HELP = "compare optimizers on a typed function: table, paths on contours, convergence"
DESCRIPTION = (
    "Runs each method of --methods from the same start with mlcalc.optimize.minimize "
    "(derivatives by automatic differentiation) and reports iterations, function "
    "evaluations, the final f and ‖∇f‖, the gap to the minimum f* and the observed rate "
    "of convergence. The minimum is the best final point, refined by Newton's method "
    "and checked by the second-derivative test. --lr sets the learning rate of the "
    "fixed-step methods (momentum, nesterov, adam, rmsprop, adagrad, ...); gd uses an "
    "Armijo line search."
)
EXAMPLES = """\
examples:
  mlcalc optimize "100*(y - x^2)^2 + (1 - x)^2" --from=-1.2,1 --out rosenbrock
  mlcalc optimize "x^2 + 10*y^2" --from 3,1 --methods gd,momentum,newton --lr 0.05 --json
"""

DEFAULT_METHODS = "gd,momentum,adam,newton,lbfgs"


def configure(p: argparse.ArgumentParser) -> None:
    """The options of ``mlcalc optimize``."""
    p.add_argument("expression", metavar="EXPR", help="the function to minimise")
    p.add_argument("--from", dest="start", required=True, metavar="X,Y,...",
                   help="the starting point")
    p.add_argument("--methods", default=DEFAULT_METHODS,
                   help=f"comma-separated methods (default {DEFAULT_METHODS}); any "
                   "method of mlcalc.optimize.minimize without constraints")
    p.add_argument("--vars", default=None, metavar="NAMES", help="variable order, e.g. x,y")
    p.add_argument("--maxiter", type=int, default=1000, help="iterations per method (1000)")
    p.add_argument("--tol", type=float, default=1e-6, help="gradient-norm tolerance (1e-6)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate of the fixed-step methods (default: each method's)")
    p.add_argument("--bounds", default=None, metavar="LO,HI,...",
                   help="box of the contour plot (default: around the paths)")


# methods of minimize that need constraints, a proximal operator, a projection or a
# Fisher model, which a typed function alone does not give
NOT_FROM_THE_COMMAND_LINE = ("auglag", "augmented_lagrangian", "ista", "fista",
                             "natural_gradient", "projected_gradient")


def _methods(text: str) -> list[str]:
    from ..optimize import METHODS

    names = [m.strip().lower() for m in text.split(",") if m.strip()]
    if not names:
        raise UsageError("--methods: give at least one method, e.g. --methods gd,lbfgs")
    usable = sorted(m for m in METHODS if m not in NOT_FROM_THE_COMMAND_LINE)
    unknown = [m for m in names if m not in usable]
    if unknown:
        why = ("unknown" if all(m not in METHODS for m in unknown)
               else "not usable without constraints or options")
        raise UsageError(f"--methods: {why} method(s) {', '.join(unknown)}; use: "
                         f"{', '.join(usable)}")
    if len(set(names)) != len(names):
        raise UsageError(f"--methods: a method is listed twice in {text!r}")
    return names


def run(args: argparse.Namespace, ui: Output) -> CommandResult:
    """Run ``mlcalc optimize``: the result document, tables, report and arrays."""
    import mlcalc as mc
    from mlcalc.optimize import METHODS, minimize

    e = load_expression(args.expression, args.vars)
    n = len(e.variables)
    x0 = parse_point(args.start, n, e.variables, "--from")
    methods = _methods(args.methods)
    if args.maxiter < 1:
        raise UsageError(f"--maxiter must be at least 1, got {args.maxiter}")
    if not args.tol > 0:
        raise UsageError(f"--tol must be positive, got {args.tol}")
    if args.lr is not None and not args.lr > 0:
        raise UsageError(f"--lr must be positive, got {args.lr}")
    f = e.function
    runs = {}
    for m in methods:
        opts = {}
        if args.lr is not None and m != "gd" and "lr" in _inspect.signature(METHODS[m]).parameters:
            opts["lr"] = args.lr
        ui.note(f"running {m} ...")
        with np.errstate(all="ignore"):
            runs[m] = minimize(f, x0.copy(), method=m, tol=args.tol, maxiter=args.maxiter,
                               options=opts, record=True)
    # the reference minimum: the best final point, refined by Newton
    finite = [r for r in runs.values() if np.isfinite(r.fun) and np.all(np.isfinite(r.x))]
    if not finite:
        raise RuntimeError("every method diverged (non-finite f); try a smaller --lr")
    best = min(finite, key=lambda r: r.fun)
    with np.errstate(all="ignore"):
        polish = minimize(f, np.asarray(best.x, float), method="newton", tol=1e-12, maxiter=100)
    if np.isfinite(polish.fun) and polish.fun <= best.fun:
        x_star, source = np.asarray(polish.x, float), "best final point refined by Newton"
    else:
        x_star, source = np.asarray(best.x, float), f"best final point ({_best_name(runs, best)})"
    f_star = float(f(x_star))
    kind = mc.classify(f, x_star).kind
    rows_json = []
    for m, r in runs.items():
        rate = r.rate
        rows_json.append({
            "method": m,
            "iterations": int(r.nit),
            "evaluations": int(r.nfev),
            "gradient_evaluations": int(getattr(r, "njev", 0) or 0),
            "hessian_evaluations": int(getattr(r, "nhev", 0) or 0),
            "final_f": float(r.fun),
            "f_gap": float(r.fun - f_star),
            "grad_norm": float(r.trajectory.grad_norm[-1]),
            "x": np.asarray(r.x, float),
            "success": bool(r.success),
            "status": int(r.status),
            "message": str(r.message),
            "rate": {"order": rate.order, "factor": float(rate.factor), "q": float(rate.q),
                     "text": str(rate)},
        })
    result = {
        "expression": args.expression,
        "sympy": sympy_str(e.sympy),
        "variables": list(e.variables),
        "start": x0,
        "tol": args.tol,
        "maxiter": args.maxiter,
        "methods": rows_json,
        "minimum": {"x": x_star, "f": f_star, "kind": kind, "source": source},
    }
    cols = ["method", "iterations", "evaluations", "final f", "f − f*", "‖∇f‖", "rate",
            "status"]
    rows = [[r["method"], str(r["iterations"]), str(r["evaluations"]), fmt(r["final_f"], 8),
             fmt(r["f_gap"], 3), fmt(r["grad_norm"], 3), r["rate"]["text"],
             _status(r)] for r in rows_json]
    title = (f"{args.expression} from {fmt(x0)}; minimum f* = {fmt(f_star, 10)} at "
             f"{fmt(x_star, 8)} ({kind})")
    tables = [table(title, cols, rows)]
    from .. import plot
    from ..report import Report

    rep = Report(f"mlcalc optimize: {args.expression}",
                 subtitle=f"from {fmt(x0)}, methods {', '.join(methods)}")
    rep.section("Results").table(cols, rows, caption=title)
    rep.text(f"The minimum f* = {f_star:.12g} at {fmt(x_star, 10)} ({kind}): {source}.")
    arrays = {"start": x0, "minimum": x_star}
    for m, r in runs.items():
        arrays[f"{m}_x"] = r.trajectory.x
        arrays[f"{m}_f"] = r.trajectory.f
        arrays[f"{m}_grad_norm"] = r.trajectory.grad_norm
    ui.note("plotting ...")
    rep.section("Figures")
    if n == 2:
        bounds = (parse_bounds(args.bounds, 2) if args.bounds
                  else _plot_box(x0, x_star, runs))
        result["bounds"] = bounds
        rep.figure(plot.contour(e, bounds, paths=runs, minimum=x_star,
                                labels=tuple(e.variables),
                                title="paths on the contours of f (arrows: −∇f)"),
                   "Optimizer paths", caption="circle: start; square: end; star: minimum",
                   id="paths")
    else:
        result["bounds"] = None
    rep.figure(plot.convergence(runs, f_star=f_star), "Convergence",
               caption="f(x_k) − f* and ‖∇f(x_k)‖ against the iteration k (log scale)",
               id="convergence")
    if n == 2:
        rep.figure(plot.surface(e, result["bounds"], points=np.stack([x0, x_star]),
                                labels=tuple(e.variables)), "Surface", id="surface")
    return CommandResult(result, tables, rep, arrays)


def _status(row: dict) -> str:
    """A short status: converged, max iterations, diverged (where), stopped."""
    labels = {0: "converged", 1: "max iterations", 3: "stopped by callback"}
    if row["status"] in labels and (row["status"] != 0 or row["success"]):
        return labels[row["status"]]
    return row["message"].split(";")[0]


def _best_name(runs: dict, best) -> str:
    return next(m for m, r in runs.items() if r is best)


def _plot_box(x0, x_star, runs) -> np.ndarray:
    """A box around the start, the minimum and the ends of the runs that did not
    diverge, grown to hold their paths unless these wander more than three widths away
    (a diverged path is drawn clipped to the box)."""
    kept = [r for r in runs.values() if int(r.status) != 2 and np.all(np.isfinite(r.x))]
    core = [x0, x_star] + [np.asarray(r.x, float) for r in kept]
    base = auto_bounds(np.stack(core), margin=0.2)
    width = base[:, 1] - base[:, 0]
    lo, hi = base[:, 0] - 3 * width, base[:, 1] + 3 * width
    pts = np.concatenate([r.trajectory.x for r in kept] or [np.stack(core)])
    pts = pts[np.all(np.isfinite(pts) & (pts >= lo) & (pts <= hi), axis=1)]
    return auto_bounds(np.concatenate([np.stack(core), pts]), margin=0.1)
