"""``mlcalc inspect EXPR``: exact derivatives beside automatic differentiation, the
second-derivative test and the Taylor model at a point; or every critical point in a
box, classified."""

from __future__ import annotations

import argparse

import numpy as np

from .common import load_expression, parse_bounds, parse_point, sympy_str
from .output import CommandResult, Output, fmt, table

HELP = "derivatives, curvature and Taylor model at a point, or all critical points in a box"
DESCRIPTION = (
    "With --at: the exact gradient and Hessian (SymPy) beside mlcalc's automatic "
    "differentiation, the Hessian's eigenvalues, the classification of the point "
    "(minimum, maximum, saddle of index k, degenerate) and the Taylor model of order 2 "
    "with its error at three step sizes. Without --at: the critical points in the box "
    "--bounds, found by damped Newton from Sobol starts and classified."
)
EXAMPLES = """\
examples:
  mlcalc inspect "x^2 + 3*y^2 - x*y" --at 1,2
  mlcalc inspect "x^3 - 3*x*y^2" --at 0,0 --json
  mlcalc inspect "(x^2 + y - 11)^2 + (x + y^2 - 7)^2" --bounds=-5,5 --out himmelblau
"""

TAYLOR_STEPS = (0.1, 0.05, 0.025)


def configure(p: argparse.ArgumentParser) -> None:
    """The options of ``mlcalc inspect``."""
    p.add_argument("expression", metavar="EXPR", help='a typed expression, e.g. "x^2 + y^2"')
    p.add_argument("--vars", default=None, metavar="NAMES",
                   help="variable order, e.g. x,y (default: names used, alphabetically)")
    p.add_argument("--at", default=None, metavar="X,Y,...", help="the point to inspect")
    p.add_argument("--bounds", default=None, metavar="LO,HI,...",
                   help="box for the critical-point search and the plots (lo,hi per "
                   "variable, or one pair for all; default -5,5, or the point ± 2)")
    p.add_argument("--starts", type=int, default=256,
                   help="Newton starts for the critical-point search (default 256)")


def run(args: argparse.Namespace, ui: Output) -> CommandResult:
    """Run ``mlcalc inspect``: the result document, tables, report and arrays."""
    from .output import UsageError

    e = load_expression(args.expression, args.vars)
    n = len(e.variables)
    if args.starts < 1:
        raise UsageError(f"--starts must be at least 1, got {args.starts}")
    result: dict = {
        "expression": args.expression,
        "sympy": sympy_str(e.sympy),
        "variables": list(e.variables),
        "point": None,
        "critical_points": None,
    }
    tables: list = []
    from ..report import Report

    rep = Report(f"mlcalc inspect: {args.expression}", subtitle=f"variables {e.variables}")
    rep.section("Expression").code(f"f({', '.join(e.variables)}) = {sympy_str(e.sympy)}")
    arrays: dict = {}
    if args.at is not None:
        x = parse_point(args.at, n, e.variables)
        bounds = (parse_bounds(args.bounds, n) if args.bounds
                  else np.stack([x - 2.0, x + 2.0], axis=1))
        _at_point(e, x, bounds, result, tables, rep, arrays, ui)
    else:
        bounds = parse_bounds(args.bounds or "-5,5", n)
        _critical(e, bounds, args.starts, args.seed, result, tables, rep, arrays, ui)
    return CommandResult(result, tables, rep, arrays)


def _at_point(e, x, bounds, result, tables, rep, arrays, ui) -> None:
    import mlcalc as mc
    from mlcalc import expr

    ui.note("exact derivatives (SymPy) ...")
    sd = expr.symbolic_derivatives(e, order=2, at=tuple(x))
    ui.note("automatic differentiation ...")
    f = e.function
    g_ad = np.asarray(mc.grad(f)(x), dtype=float)
    H_ad = np.asarray(mc.hessian(f)(x), dtype=float).reshape(x.size, x.size)
    cls = mc.classify(f, x)
    tm = mc.taylor(f, x, order=2)
    n = x.size
    u = np.ones(n) / np.sqrt(n)
    checks = []
    for s in TAYLOR_STEPS:
        y = x + s * u
        fy, ty = float(f(y)), float(tm(y))
        checks.append({"h": s, "f": fy, "model": ty, "error": abs(fy - ty)})
    names = list(e.variables)
    point = {
        "x": x,
        "value": float(f(x)),
        "gradient": {
            "symbolic": [sympy_str(gi) for gi in sd.gradient],
            "exact": sd.gradient_value,
            "ad": g_ad,
            "max_abs_diff": float(np.max(np.abs(g_ad - sd.gradient_value))),
        },
        "hessian": {
            "symbolic": [[sympy_str(h) for h in row] for row in sd.hessian.tolist()],
            "exact": sd.hessian_value,
            "ad": H_ad,
            "max_abs_diff": float(np.max(np.abs(H_ad - sd.hessian_value))),
        },
        "eigenvalues": cls.eigenvalues,
        "classification": {
            "kind": cls.kind,
            "index": int(cls.index),
            "is_critical": bool(cls.is_critical),
            "degenerate": bool(cls.degenerate),
            "grad_norm": float(cls.grad_norm),
            "message": cls.message,
        },
        "taylor": {"order": 2, "polynomial": sympy_str(sd.taylor), "check": checks},
    }
    result["point"] = point
    arrays.update(point=x, gradient_ad=g_ad, gradient_exact=sd.gradient_value, hessian_ad=H_ad,
                  hessian_exact=sd.hessian_value, eigenvalues=cls.eigenvalues)

    at = ", ".join(f"{v}={fmt(c)}" for v, c in zip(names, x))
    grad_rows = [[f"∂f/∂{v}", sympy_str(sd.gradient[i]), fmt(sd.gradient_value[i], 12),
                  fmt(g_ad[i], 12), fmt(abs(g_ad[i] - sd.gradient_value[i]), 2)]
                 for i, v in enumerate(names)]
    hess_rows = []
    for i, vi in enumerate(names):
        for j, vj in enumerate(names):
            if j < i:
                continue
            hess_rows.append([f"∂²f/∂{vi}∂{vj}", sympy_str(sd.hessian[i, j]),
                              fmt(sd.hessian_value[i, j], 12), fmt(H_ad[i, j], 12),
                              fmt(abs(H_ad[i, j] - sd.hessian_value[i, j]), 2)])
    cols = ["", "symbolic", "exact value", "AD value", "|diff|"]
    curv_rows = [["f", fmt(point["value"], 12)],
                 ["eigenvalues of ∇²f", fmt(cls.eigenvalues)],
                 ["‖∇f‖", fmt(cls.grad_norm)],
                 ["classification", cls.message]]
    taylor_rows = [[fmt(c["h"]), fmt(c["f"], 10), fmt(c["model"], 10), fmt(c["error"], 3)]
                   for c in checks]
    tables += [
        table(f"Gradient at ({at})", cols, grad_rows),
        table("Hessian (upper triangle)", cols, hess_rows),
        table("Curvature", ["", "value"], curv_rows, justify="left"),
        f"Taylor model of order 2 about ({at}):\n  T2 = {sympy_str(sd.taylor)}",
        table("Taylor check along (1,…,1)/√n: error O(h³)", ["h", "f(x+h·u)", "T2(x+h·u)",
                                                              "error"], taylor_rows),
    ]
    rep.section(f"Derivatives at ({at})")
    rep.table(cols, grad_rows, caption="gradient: SymPy (exact) against automatic differentiation")
    rep.table(cols, hess_rows, caption="Hessian, upper triangle")
    rep.section("Curvature and classification").table(["", "value"], curv_rows)
    rep.section("Taylor model of order 2").code(f"T2 = {sympy_str(sd.taylor)}")
    rep.table(["h", "f(x+h·u)", "T2(x+h·u)", "error"], taylor_rows,
              caption="u = (1, …, 1)/√n; the error falls by about 8 when h halves (O(h³))")
    _plots_at(e, x, bounds, cls, tm, rep, ui)


def _plots_at(e, x, bounds, cls, tm, rep, ui) -> None:
    from .. import plot

    names = tuple(e.variables)
    if x.size == 1:
        ui.note("plotting ...")
        rep.section("Figures")
        rep.figure(plot.graph(e, bounds[0], points=x, taylor=tm, label=names[0]),
                   "f and its Taylor model", id="graph")
    elif x.size == 2:
        ui.note("plotting ...")
        rep.section("Figures")
        rep.figure(plot.critical_points(e, bounds, [(x, cls.kind)], labels=names,
                                        title=f"f near the point ({cls.kind})"),
                   "Contours of f and the point", id="contour")
        rep.figure(plot.contour(tm, bounds, labels=names, title="Taylor model T2",
                                quiver=False),
                   "Contours of the Taylor model of order 2", id="taylor")
        rep.figure(plot.surface(e, bounds, points=x[None], labels=names), "Surface",
                   id="surface")


def _critical(e, bounds, n_starts, seed, result, tables, rep, arrays, ui) -> None:
    import mlcalc as mc

    ui.note(f"searching critical points in {bounds.tolist()} from {n_starts} starts ...")
    cp = mc.critical_points(e.function, [tuple(b) for b in bounds], n_starts=n_starts,
                            seed=seed)
    points = []
    for p, hits in zip(cp.points, cp.hits):
        points.append({"x": p.x, "value": p.value, "kind": p.kind, "index": int(p.index),
                       "eigenvalues": p.eigenvalues, "grad_norm": p.grad_norm,
                       "hits": int(hits)})
    result["critical_points"] = {
        "bounds": bounds,
        "n_starts": int(cp.n_starts),
        "n_converged": int(cp.n_converged),
        "counts": {k: int(v) for k, v in cp.counts.items()},
        "points": points,
    }
    arrays.update(bounds=bounds, critical_x=cp.x, critical_values=cp.values,
                  critical_index=np.array([p.index for p in cp.points], dtype=int))
    names = list(e.variables)
    rows = [[str(i + 1), fmt(p.x), fmt(p.value, 10), p.kind if p.kind != "saddle"
             else f"saddle (index {p.index})", fmt(p.eigenvalues, 4), str(h)]
            for i, (p, h) in enumerate(zip(cp.points, cp.hits))]
    plural = {"minimum": "minima", "maximum": "maxima", "saddle": "saddles",
              "degenerate": "degenerate"}
    counts = ", ".join(f"{v} {k if v == 1 else plural[k]}" for k, v in cp.counts.items() if v)
    cols = ["#", f"({', '.join(names)})", "f", "kind", "eigenvalues of ∇²f", "starts"]
    caption = (f"{len(cp.points)} critical points in {bounds.tolist()}: {counts or 'none'} "
               f"({cp.n_converged} of {cp.n_starts} starts converged)")
    tables.append(table(caption, cols, rows))
    rep.section("Critical points").table(cols, rows, caption=caption)
    from .. import plot

    if len(names) == 2:
        ui.note("plotting ...")
        rep.section("Figures")
        rep.figure(plot.critical_points(e, bounds, cp, labels=tuple(names)),
                   "Critical points and their classification", id="critical-points")
        rep.figure(plot.surface(e, bounds, points=cp.x if len(cp.points) else None,
                                labels=tuple(names)), "Surface", id="surface")
    elif len(names) == 1:
        rep.section("Figures")
        rep.figure(plot.graph(e, bounds[0], points=cp.x[:, 0] if len(cp.points) else None,
                              label=names[0]), "f and its critical points", id="graph")
