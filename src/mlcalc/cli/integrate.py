"""``mlcalc integrate EXPR --over REGION``: the integral, its error estimate and the
method used."""

from __future__ import annotations

import argparse

import numpy as np

from .common import load_expression, parse_numbers, sympy_str
from .output import CommandResult, Output, UsageError, fmt, table

HELP = "integrate a typed function over a box, disk, annulus, ball, triangle or simplex"
DESCRIPTION = (
    "Integrates with mlcalc.integrate: boxes by adaptive cubature (Gauss-Kronrod or "
    "Genz-Malik), Gauss-Legendre, Monte Carlo or randomised QMC; other regions by a change "
    "of variables to a box. Prints the value, the error estimate (a bound estimate for the "
    "deterministic rules, one standard error for mc/qmc), the method used and the number "
    "of evaluations. Regions (the numbers after ':' are optional where shown in []):\n"
    "  box:LO1,HI1,LO2,HI2,...   limits may be inf/-inf\n"
    "  disk[:CX,CY,R]            default: the unit disk\n"
    "  annulus:CX,CY,R_IN,R_OUT\n"
    "  ball[:C1,...,Cd,R]        default: the unit ball in as many dimensions as variables\n"
    "  triangle:X0,Y0,X1,Y1,X2,Y2\n"
    "  simplex                   the standard simplex {x ≥ 0, Σx ≤ 1}"
)
EXAMPLES = """\
examples:
  mlcalc integrate "x*y" --over box:0,1,0,1
  mlcalc integrate "exp(-x^2 - y^2)" --over box:-inf,inf,-inf,inf
  mlcalc integrate "x^2 + y^2" --over disk:0,0,2
  mlcalc integrate "1" --vars x,y,z --over ball --json
"""


def configure(p: argparse.ArgumentParser) -> None:
    """The options of ``mlcalc integrate``."""
    p.add_argument("expression", metavar="EXPR", help="the integrand")
    p.add_argument("--over", required=True, metavar="REGION",
                   help="box:LO,HI,... | disk[:CX,CY,R] | annulus:CX,CY,RIN,ROUT | "
                   "ball[:C...,R] | triangle:X0,Y0,X1,Y1,X2,Y2 | simplex")
    p.add_argument("--vars", default=None, metavar="NAMES",
                   help="variable order (and dimension), e.g. x,y,z")
    p.add_argument("--method", default="auto",
                   choices=("auto", "gauss", "adaptive", "mc", "qmc"),
                   help="integration rule (default auto)")
    p.add_argument("--rtol", type=float, default=1e-8, help="relative tolerance (1e-8)")
    p.add_argument("--atol", type=float, default=0.0, help="absolute tolerance (0)")
    p.add_argument("--max-evals", type=int, default=None, help="cap on integrand evaluations")


def parse_region(spec: str, d: int):
    """(kind, description dict, region object or (lower, upper) for a box)."""
    from .. import integrate as mi

    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    nums = parse_numbers(rest, f"--over {kind}") if rest.strip() else None

    def need(count: int, what: str):
        if nums is None or nums.size != count:
            got = 0 if nums is None else nums.size
            raise UsageError(f"--over {kind}: expected {count} numbers ({what}), got {got}")
        return nums

    def dim(k: int):
        if d != k:
            raise UsageError(f"--over {kind} is {k}-dimensional but the integrand has {d} "
                             "variable(s); use --vars to name them")

    if kind == "box":
        v = need(2 * d, f"lo,hi for each of the {d} variables")
        lo, hi = v[0::2], v[1::2]
        if np.any(np.isnan(v)) or np.any(lo >= hi):
            raise UsageError(f"--over box: each lower limit must be below its upper limit, got "
                             f"{np.stack([lo, hi], 1).tolist()}")
        return kind, {"lower": lo, "upper": hi}, (lo, hi)
    if kind == "disk":
        dim(2)
        c, r = (np.zeros(2), 1.0) if nums is None else (need(3, "CX,CY,R")[:2], nums[2])
        _positive(r, "R")
        return kind, {"center": c, "radius": r}, mi.Disk(center=c, radius=r)
    if kind == "annulus":
        dim(2)
        v = need(4, "CX,CY,R_IN,R_OUT")
        if not 0 <= v[2] < v[3]:
            raise UsageError(f"--over annulus: need 0 ≤ R_IN < R_OUT, got {v[2]}, {v[3]}")
        return (kind, {"center": v[:2], "r_in": v[2], "r_out": v[3]},
                mi.Annulus(center=v[:2], r_in=v[2], r_out=v[3]))
    if kind == "ball":
        if d < 2:
            raise UsageError("--over ball needs at least 2 variables; use --vars x,y,z")
        c, r = (np.zeros(d), 1.0) if nums is None else (need(d + 1, "the centre, then R")[:d],
                                                       nums[d])
        _positive(r, "R")
        return kind, {"center": c, "radius": r}, mi.Ball(center=c, radius=r)
    if kind == "triangle":
        dim(2)
        v = need(6, "X0,Y0,X1,Y1,X2,Y2").reshape(3, 2)
        return kind, {"vertices": v}, mi.Triangle(*v)
    if kind == "simplex":
        if nums is not None:
            raise UsageError("--over simplex takes no numbers (the standard simplex)")
        v = np.vstack([np.zeros(d), np.eye(d)])
        return kind, {"vertices": v}, mi.Simplex(v)
    raise UsageError(f"--over: unknown region {kind!r}; use box, disk, annulus, ball, "
                     "triangle or simplex (see mlcalc integrate --help)")


def _positive(r: float, what: str) -> None:
    if not (np.isfinite(r) and r > 0):
        raise UsageError(f"--over: the radius {what} must be positive and finite, got {r}")


def run(args: argparse.Namespace, ui: Output) -> CommandResult:
    """Run ``mlcalc integrate``: the result document, tables, report and arrays."""
    from .. import integrate as mi

    e = load_expression(args.expression, args.vars)
    d = len(e.variables)
    if not (args.rtol >= 0 and args.atol >= 0) or (args.rtol == 0 and args.atol == 0):
        raise UsageError(f"--rtol and --atol must be ≥ 0 and not both 0, got {args.rtol}, "
                         f"{args.atol}")
    if args.max_evals is not None and args.max_evals < 1:
        raise UsageError(f"--max-evals must be at least 1, got {args.max_evals}")
    kind, desc, region = parse_region(args.over, d)
    kw = dict(method=args.method, rtol=args.rtol, atol=args.atol, max_evals=args.max_evals,
              seed=args.seed)
    ui.note(f"integrating over {args.over} ...")

    def f(points):
        return e.evaluate(points)

    with np.errstate(all="ignore"):
        if kind == "box":
            res = mi.integrate(f, *region, **kw)
        else:
            res = mi.integrate_region(f, region, **kw)
    value, error = float(np.asarray(res.value)), float(np.asarray(res.error))
    if not res.success:
        ui.warn(f"the tolerance was not met: {res.message}")
    result = {
        "expression": args.expression,
        "sympy": sympy_str(e.sympy),
        "variables": list(e.variables),
        "region": {"kind": kind, "spec": args.over, **desc},
        "value": value,
        "error": error,
        "method": str(res.method),
        "nfev": int(res.nfev),
        "success": bool(res.success),
        "message": str(res.message),
        "rtol": args.rtol,
        "atol": args.atol,
    }
    rows = [["value", fmt(value, 15)], ["error estimate", fmt(error, 3)],
            ["method", str(res.method)], ["evaluations", str(res.nfev)],
            ["tolerance met", "yes" if res.success else "no"], ["message", str(res.message)]]
    title = f"∫ {args.expression} d{'d'.join(e.variables)} over {args.over}"
    tables = [table(title, ["", "value"], rows, justify="left")]
    from ..report import Report

    rep = Report(f"mlcalc integrate: {args.expression}", subtitle=f"over {args.over}")
    rep.section("Result").table(["", "value"], rows, caption=title)
    if d == 2:
        from .. import plot

        box = _box2d(kind, desc)
        if box is not None:
            rep.section("Figures")
            with np.errstate(all="ignore"):
                fig = plot.contour(e, box, quiver=False, labels=tuple(e.variables),
                                   title="the integrand over the region's bounding box")
            _outline(fig.axes[0], kind, desc)
            rep.figure(fig, "Integrand", id="integrand")
    return CommandResult(result, tables, rep, {"value": np.array(value), "error": np.array(error)})


def _box2d(kind: str, desc: dict):
    if kind == "box":
        lo, hi = desc["lower"], desc["upper"]
        return None if not np.all(np.isfinite(lo) & np.isfinite(hi)) else np.stack([lo, hi], 1)
    if kind in ("disk", "annulus"):
        r = desc.get("radius", desc.get("r_out"))
        c = desc["center"]
        return np.stack([c - 1.1 * r, c + 1.1 * r], 1)
    if kind == "ball":
        c, r = desc["center"], desc["radius"]
        return np.stack([c - 1.1 * r, c + 1.1 * r], 1)
    v = desc["vertices"]
    lo, hi = v.min(0), v.max(0)
    pad = 0.1 * (hi - lo)
    return np.stack([lo - pad, hi + pad], 1)


def _outline(ax, kind: str, desc: dict) -> None:
    t = np.linspace(0, 2 * np.pi, 200)
    if kind in ("disk", "ball", "annulus"):
        c = desc["center"]
        for r in [desc.get("radius", desc.get("r_out")), desc.get("r_in")]:
            if r:
                ax.plot(c[0] + r * np.cos(t), c[1] + r * np.sin(t), "r-", lw=1.5)
    elif kind in ("triangle", "simplex"):
        v = desc["vertices"]
        ax.plot(np.append(v[:, 0], v[0, 0]), np.append(v[:, 1], v[0, 1]), "r-", lw=1.5)
