"""``mlcalc field "F1, F2[, F3]"``: divergence, curl, whether the field is conservative,
its potential when it has one, and a quiver/stream plot."""

from __future__ import annotations

import argparse

import numpy as np

from .common import parse_bounds, parse_point, sympy_str
from .output import CommandResult, Output, UsageError, fmt, table

HELP = "divergence, curl, conservative test and potential of a 2-D or 3-D vector field"
DESCRIPTION = (
    "The field's components are typed expressions separated by commas, in the "
    "variables x, y (2-D) or x, y, z (3-D) unless --vars says otherwise. Prints the exact "
    "divergence and curl (SymPy), tests whether the field is conservative (the Jacobian's "
    "symmetry, sampled in --bounds by automatic differentiation, beside the exact curl), "
    "and gives the potential φ with ∇φ = F when there is one: exact by integration, "
    "checked against mlcalc.fields.potential's line integrals. --at adds the values at a "
    "point, by automatic differentiation and exactly."
)
EXAMPLES = """\
examples:
  mlcalc field "-y, x"
  mlcalc field "2*x*y, x^2 + 1" --at 1,2 --json
  mlcalc field "y*z, x*z, x*y" --bounds=-1,1 --out field3d
"""


def configure(p: argparse.ArgumentParser) -> None:
    """The options of ``mlcalc field``."""
    p.add_argument("field", metavar="F", help='components separated by commas: "F1, F2[, F3]"')
    p.add_argument("--vars", default=None, metavar="NAMES",
                   help="variable names, one per component (default x,y or x,y,z)")
    p.add_argument("--at", default=None, metavar="X,Y[,Z]", help="a point for the values")
    p.add_argument("--bounds", default="-2,2", metavar="LO,HI,...",
                   help="box for the conservative test and the plot (default -2,2 on each axis)")
    p.add_argument("--kind", choices=("quiver", "stream", "both"), default="both",
                   help="plot kind (default both)")
    p.add_argument("--plane", type=float, default=None,
                   help="3-D fields: the plot shows the slice z = PLANE (default: box centre)")


def split_components(text: str) -> list[tuple[str, int]]:
    """The comma-separated components (outside brackets) with their offsets in ``text``."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append((text[start:i], start))
            start = i + 1
    parts.append((text[start:], start))
    return parts


def parse_field(text: str, variables: str | None):
    """Parse each component with the same variables; a rejected component raises an
    ExpressionError whose caret points into the whole text."""
    from ..expr import ExpressionError, parse

    parts = split_components(text)
    d = len(parts)
    if d not in (2, 3):
        raise UsageError(f"a field needs 2 or 3 components separated by commas, got {d} in "
                         f"{text!r}")
    names = ("x", "y", "z")[:d] if variables is None else variables
    comps = []
    for part, offset in parts:
        if not part.strip():
            raise ExpressionError("empty component", text, offset)
        try:
            comps.append(parse(part, variables=names))
        except ExpressionError as exc:
            raise ExpressionError(exc.reason, text,
                                  None if exc.offset is None else exc.offset + offset) from None
    if len(comps[0].variables) != d:
        raise UsageError(f"--vars: a {d}-component field needs {d} variables, got "
                         f"{comps[0].variables}")
    used = set().union(*(c.sympy.free_symbols for c in comps))
    extra = sorted(str(s) for s in used - set(comps[0].symbols))
    if extra:  # pragma: no cover - parse(variables=...) already rejects unknown names
        raise UsageError(f"unknown variable(s) {extra}; the variables are {comps[0].variables}")
    return comps


def run(args: argparse.Namespace, ui: Output) -> CommandResult:
    """Run ``mlcalc field``: the result document, tables, report and arrays."""
    import sympy as sp

    from .. import fields

    comps = parse_field(args.field, args.vars)
    d = len(comps)
    names = comps[0].variables
    syms = comps[0].symbols
    bounds = parse_bounds(args.bounds, d)

    def F(v):
        return np.stack([c.function(v) for c in comps])

    Fs = [c.sympy for c in comps]
    div = sp.simplify(sum(sp.diff(Fs[i], syms[i]) for i in range(d)))
    if d == 2:
        curl = sp.simplify(sp.diff(Fs[1], syms[0]) - sp.diff(Fs[0], syms[1]))
        curl_parts = [curl]
    else:
        curl_parts = [sp.simplify(sp.diff(Fs[2], syms[1]) - sp.diff(Fs[1], syms[2])),
                      sp.simplify(sp.diff(Fs[0], syms[2]) - sp.diff(Fs[2], syms[0])),
                      sp.simplify(sp.diff(Fs[1], syms[0]) - sp.diff(Fs[0], syms[1]))]
    curl_zero = all(c == 0 for c in curl_parts)
    ui.note(f"testing the Jacobian's symmetry in {bounds.tolist()} ...")
    with np.errstate(all="ignore"):
        test = fields.is_conservative(F, bounds, seed=args.seed)
    result: dict = {
        "components": [p.strip() for p, _ in split_components(args.field)],
        "sympy": [sympy_str(f) for f in Fs],
        "variables": list(names),
        "dim": d,
        "divergence": sympy_str(div),
        "curl": sympy_str(curl_parts[0]) if d == 2 else [sympy_str(c) for c in curl_parts],
        "conservative": bool(test.conservative),
        "symbolic_curl_zero": bool(curl_zero),
        "test": {"bounds": bounds, "n_samples": int(test.n_samples),
                 "max_asymmetry": float(test.max_asymmetry),
                 "max_relative": float(test.max_relative), "worst_point": test.worst_point},
        "potential": None,
        "at": None,
    }
    if test.conservative != curl_zero:
        ui.warn("the sampled test and the exact curl disagree: "
                f"sampled {'conservative' if test.conservative else 'not conservative'}, "
                f"exact curl {'zero' if curl_zero else 'nonzero'}")
    rows = [["F", "(" + ", ".join(sympy_str(f) for f in Fs) + ")"],
            ["div F", sympy_str(div)],
            ["curl F", result["curl"] if d == 2 else "(" + ", ".join(result["curl"]) + ")"],
            ["conservative", f"{'yes' if test.conservative else 'no'} (largest |J − Jᵀ|/√2 = "
             f"{fmt(test.max_asymmetry, 3)} over {test.n_samples} points in the box)"]]
    arrays: dict = {"bounds": bounds}
    if test.conservative:
        center = bounds.mean(axis=1)
        ui.note("potential: exact integration and line integrals ...")
        phi = _symbolic_potential(sp, Fs, syms)
        with np.errstate(all="ignore"):
            pot = fields.potential(F, center, bounds=bounds, seed=args.seed)
        pot_json = {"symbolic": None if phi is None else sympy_str(phi), "base_point": center,
                    "max_abs_diff": None}
        if phi is not None:
            rng = np.random.default_rng(args.seed)
            pts = bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * rng.random((16, d))
            exact_fn = sp.lambdify(syms, phi, "numpy")
            base = float(exact_fn(*center))
            with np.errstate(all="ignore"):
                exact = np.array([float(exact_fn(*p)) - base for p in pts])
                numeric = np.asarray(pot(pts), dtype=float)
            pot_json["max_abs_diff"] = float(np.max(np.abs(exact - numeric)))
            arrays.update(potential_points=pts, potential_exact=exact,
                          potential_numeric=numeric)
            rows.append(["potential φ", f"{sympy_str(phi)} + C  (line integrals from "
                         f"{fmt(center)} agree to {fmt(pot_json['max_abs_diff'], 2)})"])
        else:
            rows.append(["potential φ", "exists (line integrals from the box centre); no "
                         "closed form found"])
        result["potential"] = pot_json
    else:
        rows.append(["potential φ", "none: the field is not conservative"])
    if args.at is not None:
        x = parse_point(args.at, d, names)
        subs = dict(zip(syms, x.tolist()))
        with np.errstate(all="ignore"):
            Fx = np.asarray(F(x), dtype=float)
            dv = float(fields.divergence(F, x))
            cv = np.asarray(fields.curl(F, x), dtype=float)
        dv_exact = float(sp.N(div.subs(subs)))
        cv_exact = np.array([float(sp.N(c.subs(subs))) for c in curl_parts])
        result["at"] = {"x": x, "F": Fx, "divergence": dv, "divergence_exact": dv_exact,
                        "curl": float(cv) if d == 2 else cv,
                        "curl_exact": float(cv_exact[0]) if d == 2 else cv_exact}
        at = ", ".join(f"{v}={fmt(c)}" for v, c in zip(names, x))
        rows += [[f"F({at})", fmt(Fx)],
                 [f"div F({at})", f"{fmt(dv, 12)} (exact {fmt(dv_exact, 12)})"],
                 [f"curl F({at})",
                  f"{fmt(cv, 12)} (exact {fmt(cv_exact if d == 3 else cv_exact[0], 12)})"]]
    title = f"Vector field in ({', '.join(names)})"
    tables = [table(title, ["", "value"], rows, justify="left")]
    from .. import plot
    from ..report import Report

    rep = Report(f"mlcalc field: {args.field}", subtitle=f"variables {names}")
    rep.section("Results").table(["", "value"], rows)
    plane = None
    if d == 3:
        plane = float(bounds[2].mean()) if args.plane is None else args.plane
    ui.note("plotting ...")
    rep.section("Figures")
    with np.errstate(all="ignore"):
        fig = plot.vector_field(F, bounds[:2], kind=args.kind, plane=plane,
                                labels=(names[0], names[1]),
                                title="F" if d == 2 else f"(F1, F2) on {names[2]} = {plane:g}")
    rep.figure(fig, "Vector field", id="field")
    return CommandResult(result, tables, rep, arrays)


def _symbolic_potential(sp, Fs, syms):
    """φ with ∇φ = F by successive integration (∫F₁ dx, then the y-dependent rest of F₂,
    ...), verified by differentiation; None when SymPy finds no closed form."""
    phi = sp.Integer(0)
    try:
        for i, s in enumerate(syms):
            rest = sp.simplify(Fs[i] - sp.diff(phi, s))
            if rest != 0:
                part = sp.integrate(rest, s)
                if part.has(sp.Integral):
                    return None
                phi = phi + part
        phi = sp.simplify(phi)
        if all(sp.simplify(sp.diff(phi, s) - f) == 0 for s, f in zip(syms, Fs)):
            return phi
    except Exception:  # noqa: BLE001 - SymPy could not integrate: no closed form
        return None
    return None
