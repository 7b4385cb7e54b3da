"""``mlcalc landscape``: train a model, then measure its loss landscape at the solution:
the Hessian's extreme eigenvalues, trace and spectral density, the second-derivative
test, 1-D and 2-D filter-normalised slices, and the loss along the straight line from
the initialisation; everything goes into the report (default directory
``mlcalc-landscape``)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os

import numpy as np

from .output import CommandResult, Output, UsageError, fmt, table

HELP = "train a model and measure its loss landscape (spectrum, slices, interpolation)"
DESCRIPTION = (
    "Trains --model on --data (default: an MLP 2 → 24 → 24 → 2 on 300 two-spiral points, "
    "weight decay 1e-3, Adam, 1500 steps, then trust-region Newton-CG until the gradient "
    "vanishes), then at the trained parameters: the top eigenvalues of the "
    "Hessian (or Gauss-Newton / Fisher, --curvature) and its smallest ones by Lanczos, "
    "its trace by Hutch++, its spectral density by stochastic Lanczos quadrature, the "
    "classification of the point (minimum, saddle of index k, ...), the loss along a "
    "random filter-normalised direction and on a plane of two, and the loss along the "
    "straight line from the initialisation with its barrier. Writes the report to --out "
    "(default mlcalc-landscape/). A PyTorch model: --torch FILE.py:FACTORY, where "
    "FACTORY() returns (module, loss_fn, (X, y)) or a problem object."
)
EXAMPLES = """\
examples:
  mlcalc landscape                                  # the default run, about a minute
  mlcalc landscape --data moons --hidden 16 --steps 800 --out moons
  mlcalc landscape --model logistic --data blobs --curvature ggn --json
  mlcalc landscape --data mydata.npz                # X (n, d) and y (n,) arrays
  mlcalc landscape --torch net.py:build             # build() -> (module, loss_fn, (X, y))
"""

DEFAULT_OUT = "mlcalc-landscape"

# where each instrument lives (the package first, then its module)
NEEDED = {
    "make_problem": ("mlcalc.models", "mlcalc.models.training"),
    "train": ("mlcalc.models", "mlcalc.models.training"),
    "HessianOperator": ("mlcalc.landscape", "mlcalc.landscape.operators"),
    "eigenvalues": ("mlcalc.landscape", "mlcalc.landscape.lanczos"),
    "trace": ("mlcalc.landscape", "mlcalc.landscape.trace"),
    "spectral_density": ("mlcalc.landscape", "mlcalc.landscape.density"),
    "classify_critical_point": ("mlcalc.landscape", "mlcalc.landscape.critical"),
    "slice_1d": ("mlcalc.landscape", "mlcalc.landscape.slices"),
    "slice_2d": ("mlcalc.landscape", "mlcalc.landscape.slices"),
    "interpolate": ("mlcalc.landscape", "mlcalc.landscape.paths"),
}


def configure(p: argparse.ArgumentParser) -> None:
    """The options of ``mlcalc landscape``."""
    p.set_defaults(out=None)
    p.add_argument("--no-report", action="store_true",
                   help=f"write no report (default: --out {DEFAULT_OUT})")
    g = p.add_argument_group("problem")
    g.add_argument("--model", default="mlp", choices=("mlp", "logistic"),
                   help="model (default mlp)")
    g.add_argument("--data", default="spirals", metavar="NAME|FILE.npz",
                   help="spirals, moons, blobs, teacher, or an .npz with X and y "
                   "(default spirals)")
    g.add_argument("--hidden", default="24,24", metavar="W1,W2,...",
                   help="hidden widths of the MLP (default 24,24)")
    g.add_argument("--n", type=int, default=None, help="examples of a built-in data set")
    g.add_argument("--activation", default="tanh", choices=("tanh", "relu", "gelu", "softplus"),
                   help="MLP activation (default tanh)")
    g.add_argument("--weight-decay", type=float, default=1e-3,
                   help="adds (λ/2)‖w‖² to the loss (default 1e-3: with it the loss has "
                        "true minima; cross-entropy on separable data alone has none)")
    g.add_argument("--torch", default=None, metavar="FILE.py:FACTORY",
                   help="a PyTorch model: FACTORY() returns (module, loss_fn, (X, y)) or a "
                   "problem")
    g = p.add_argument_group("training")
    g.add_argument("--method", default="adam", help="training method (default adam)")
    g.add_argument("--steps", type=int, default=1500, help="training steps (default 1500)")
    g.add_argument("--polish", default="trust_ncg", metavar="METHOD|none",
                   help="a full-batch second-order method run after training until the "
                        "gradient vanishes, so the instruments look at a critical point "
                        "(default trust_ncg; 'none' to skip)")
    g.add_argument("--polish-steps", type=int, default=200,
                   help="iterations of --polish at most (default 200)")
    g.add_argument("--lr", type=float, default=None, help="learning rate (method default)")
    g.add_argument("--batch-size", type=int, default=None,
                   help="mini-batch size (default: full batch)")
    g = p.add_argument_group("instruments")
    g.add_argument("--curvature", default="hessian", choices=("hessian", "ggn", "fisher"),
                   help="curvature matrix (default hessian)")
    g.add_argument("--top", type=int, default=6, help="top eigenvalues to compute (6)")
    g.add_argument("--trace-samples", type=int, default=60,
                   help="Hutch++ products for the trace (60)")
    g.add_argument("--density-runs", type=int, default=8, help="SLQ runs (8)")
    g.add_argument("--density-steps", type=int, default=60, help="Lanczos steps per run (60)")
    g.add_argument("--span", type=float, default=1.0, help="slices cover [-SPAN, SPAN] (1)")
    g.add_argument("--resolution", type=int, default=51, help="points of the 1-D slice (51)")
    g.add_argument("--resolution-2d", type=int, default=31,
                   help="points per axis of the 2-D slice (31)")
    g.add_argument("--interp-points", type=int, default=51,
                   help="points on the line from initialisation (51)")


def _resolve() -> tuple[dict, list[str]]:
    found, missing = {}, []
    for name, modules in NEEDED.items():
        for mod in modules:
            try:
                m = importlib.import_module(mod)
            except ImportError:
                continue
            if hasattr(m, name):
                found[name] = getattr(m, name)
                break
        else:
            missing.append(name)
    return found, missing


def _positive(args, *names: str) -> None:
    for n in names:
        v = getattr(args, n)
        if v is not None and v < 1:
            raise UsageError(f"--{n.replace('_', '-')} must be at least 1, got {v}")


def _hidden(text: str) -> list[int]:
    try:
        widths = [int(w) for w in text.replace(" ", "").split(",") if w]
    except ValueError:
        raise UsageError(f"--hidden: expected widths like 24,24, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise UsageError(f"--hidden: widths must be positive integers, got {text!r}")
    return widths


def _torch_problem(spec: str):
    """Load FILE.py, call FACTORY(); a problem object is used as it is, a tuple
    (module, loss_fn, data[, kwargs]) goes to mlcalc.adapters.TorchProblem."""
    path, sep, factory = spec.rpartition(":")
    if not sep or not path or not factory:
        raise UsageError(f"--torch: expected FILE.py:FACTORY, got {spec!r}")
    if not os.path.isfile(path):
        raise UsageError(f"--torch: no such file {path!r}")
    module_spec = importlib.util.spec_from_file_location("mlcalc_user_model", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    fn = getattr(module, factory, None)
    if not callable(fn):
        raise UsageError(f"--torch: {path} has no callable {factory!r}")
    made = fn()
    if hasattr(made, "hvp") and hasattr(made, "flat_params"):
        return made
    if isinstance(made, tuple) and len(made) in (3, 4):
        from ..adapters import TorchProblem

        kwargs = made[3] if len(made) == 4 else {}
        return TorchProblem(made[0], made[1], made[2], **kwargs)
    raise UsageError(f"--torch: {factory}() must return (module, loss_fn, (X, y)) or a problem "
                     f"object, got {type(made).__name__}")


def run(args: argparse.Namespace, ui: Output) -> CommandResult:
    """Run ``mlcalc landscape``: the result document, tables, report and arrays."""
    _positive(args, "steps", "polish_steps", "top", "n", "batch_size", "resolution",
              "resolution_2d", "interp_points", "density_runs", "density_steps")
    if args.trace_samples < 6:
        raise UsageError(f"--trace-samples must be at least 6 (Hutch++), got {args.trace_samples}")
    if not args.weight_decay >= 0:
        raise UsageError(f"--weight-decay must be ≥ 0, got {args.weight_decay}")
    if not args.span > 0:
        raise UsageError(f"--span must be positive, got {args.span}")
    if args.no_report:
        if args.out is not None:
            raise UsageError("--no-report and --out exclude each other")
    elif args.out is None:
        args.out = DEFAULT_OUT
    fns, missing = _resolve()
    for name in missing:
        ui.warn(f"{name} is not available in this installation; its part is skipped")
    core = [n for n in ("make_problem", "train", "HessianOperator") if n in missing]
    if core:
        raise RuntimeError(f"the landscape needs {', '.join(core)} (mlcalc.models, "
                           "mlcalc.landscape), which this installation lacks")
    if args.data.endswith(".npz") and not os.path.isfile(args.data):
        raise UsageError(f"--data: no such file {args.data!r}")

    # ---------------------------------------------------------------- problem
    if args.torch:
        problem = _torch_problem(args.torch)
        model_name, data_name = "torch", args.torch
    else:
        problem = fns["make_problem"](
            model=args.model, data=args.data, hidden=_hidden(args.hidden), n=args.n,
            seed=args.seed, activation=args.activation, weight_decay=args.weight_decay)
        model_name, data_name = args.model, args.data
    w_init = np.array(problem.flat_params, dtype=float, copy=True)
    initial_loss = float(problem.loss(w_init))
    ui.note(f"{getattr(problem, 'name', model_name)}: {problem.dim} parameters, "
            f"{problem.n_examples} examples; initial loss {initial_loss:.4g}")

    # ---------------------------------------------------------------- training
    with ui.progress(f"training ({args.method})", args.steps) as advance:
        tr = fns["train"](problem, method=args.method, steps=args.steps,
                          learning_rate=args.lr, batch_size=args.batch_size, seed=args.seed,
                          callback=lambda step, w, loss: advance(1))
    trained = tr.problem
    polish = None
    if args.polish.lower() != "none":
        ui.note(f"polishing ({args.polish}) until the gradient vanishes ...")
        polish = fns["train"](trained, method=args.polish, steps=args.polish_steps,
                              seed=args.seed, options={"tol": 1e-8})
        trained = polish.problem
    final = polish or tr
    w_star = np.asarray(final.flat_params, dtype=float)
    acc = final.accuracy
    ui.note(f"trained: loss {final.final_loss:.4g}"
            + ("" if acc is None else f", accuracy {acc:.3f}"))
    result: dict = {
        "problem": {"model": model_name, "data": data_name,
                    "name": str(getattr(problem, "name", model_name)),
                    "n_parameters": int(problem.dim), "n_examples": int(problem.n_examples)},
        "training": {"method": tr.method, "steps": int(tr.steps),
                     "learning_rate": args.lr, "initial_loss": initial_loss,
                     "final_loss": float(final.final_loss),
                     "accuracy": None if acc is None else float(acc),
                     "polish": None if polish is None else {
                         "method": polish.method, "steps": int(polish.steps),
                         "final_loss": float(polish.final_loss),
                         "message": str(polish.message)}},
        "spectrum": {"top": [], "bottom": [], "kind": args.curvature, "trace": None},
        "density": None,
        "critical_point": None,
        "slices": {"slice_1d": None, "slice_2d": None},
        "interpolation": None,
        "missing": missing,
    }
    arrays: dict = {"losses": tr.losses, "w_init": w_init, "w_final": w_star,
                    "trajectory": tr.trajectory, "record_steps": tr.record_steps}
    rows: list[list[str]] = [
        ["parameters", str(problem.dim)], ["examples", str(problem.n_examples)],
        ["training", f"{tr.method}, {tr.steps} steps: loss {initial_loss:.4g} → "
                     f"{tr.final_loss:.4g}"
                     + ("" if polish is not None or acc is None else f", accuracy {acc:.3f}")],
    ]
    if polish is not None:
        rows.append(["polish", f"{polish.method}, {polish.steps} iterations: loss "
                               f"{polish.final_loss:.4g}"
                               + ("" if acc is None else f", accuracy {acc:.3f}")
                               + f" ({polish.message})"])

    # ---------------------------------------------------------------- spectrum
    bars = bool(ui.err.is_terminal and not ui.quiet)  # the instruments' own progress bars
    op = fns["HessianOperator"](trained, kind=args.curvature)
    curv = {"hessian": "Hessian", "ggn": "Gauss–Newton", "fisher": "Fisher"}[args.curvature]
    top = bottom = None
    if "eigenvalues" in fns:
        ui.note(f"top {args.top} eigenvalues of the {curv} (Lanczos) ...")
        top = fns["eigenvalues"](op, k=args.top, which="largest", seed=args.seed)
        bottom = fns["eigenvalues"](op, k=2, which="smallest", seed=args.seed)
        result["spectrum"]["top"] = np.asarray(top.values, float)
        result["spectrum"]["bottom"] = np.asarray(bottom.values, float)
        arrays.update(top_eigenvalues=top.values, bottom_eigenvalues=bottom.values)
        rows += [[f"top eigenvalues ({curv})", fmt(top.values, 5)],
                 ["smallest eigenvalues", fmt(bottom.values, 4)]]
    if "trace" in fns:
        ui.note("trace (Hutch++) ...")
        t = fns["trace"](op, method="hutch++", n_samples=args.trace_samples, seed=args.seed)
        result["spectrum"]["trace"] = {"estimate": float(t.estimate), "stderr": float(t.stderr),
                                       "method": str(t.method)}
        rows.append(["trace", f"{t.estimate:.5g} ± {t.stderr:.2g}"])
    density = None
    if "spectral_density" in fns:
        ui.note("spectral density (stochastic Lanczos quadrature) ...")
        density = fns["spectral_density"](op, n_runs=args.density_runs,
                                          n_steps=min(args.density_steps, problem.dim),
                                          seed=args.seed, progress=bars)
        grid, dens = np.asarray(density.grid), np.asarray(density.density)
        # the share of the spectrum below −σ (the density's resolution), from the
        # quadrature rules themselves rather than the broadened curve
        nodes, weights = np.asarray(density.nodes), np.asarray(density.weights)
        neg = float(np.mean(np.sum(weights * (nodes < -density.sigma), axis=1)))
        result["density"] = {"n_points": int(grid.size), "lambda_min": float(grid.min()),
                             "lambda_max": float(grid.max()), "negative_mass": neg}
        arrays.update(density_grid=grid, density=dens)
        rows.append(["spectral mass below −σ", f"{neg:.3g} (σ = {density.sigma:.3g}, the "
                     "density's resolution)"])
    if "classify_critical_point" in fns:
        ui.note("second-derivative test at the solution ...")
        cp = fns["classify_critical_point"](trained, seed=args.seed)
        result["critical_point"] = {"verdict": cp.verdict, "grad_norm": float(cp.grad_norm),
                                    "index": int(cp.index), "is_critical": bool(cp.is_critical),
                                    "message": str(cp.message)}
        said = str(cp.message)
        rows.append(["the solution", said if said.startswith(str(cp.verdict))
                     else f"{cp.verdict}: {said}"])

    # ---------------------------------------------------------------- slices and path
    s1 = s2 = interp = None
    if "slice_1d" in fns:
        ui.note(f"1-D slice ({args.resolution} points) ...")
        s1 = fns["slice_1d"](trained, span=args.span, resolution=args.resolution,
                             seed=args.seed)
        result["slices"]["slice_1d"] = {"n": int(len(s1.alphas)), "min": float(np.min(s1.losses)),
                                        "max": float(np.max(s1.losses))}
        arrays.update(slice1d_alphas=s1.alphas, slice1d_losses=s1.losses)
    if "slice_2d" in fns:
        n2 = args.resolution_2d
        ui.note(f"2-D slice ({n2} × {n2} points) ...")
        s2 = fns["slice_2d"](trained, span=args.span, resolution=n2, seed=args.seed + 1,
                             progress=bars)
        result["slices"]["slice_2d"] = {"shape": list(np.shape(s2.losses)),
                                        "min": float(np.min(s2.losses)),
                                        "max": float(np.max(s2.losses))}
        arrays.update(slice2d_alphas=s2.alphas, slice2d_betas=s2.betas,
                      slice2d_losses=s2.losses)
    if "interpolate" in fns:
        ui.note("interpolation from the initialisation ...")
        interp = fns["interpolate"](trained, w_init, w_star, n=args.interp_points)
        result["interpolation"] = {"barrier": float(interp.barrier),
                                   "loss_init": float(interp.loss_a),
                                   "loss_final": float(interp.loss_b),
                                   "n": int(len(interp.ts))}
        arrays.update(interp_ts=interp.ts, interp_losses=interp.losses)
        rows.append(["barrier from initialisation", f"{interp.barrier:.4g} (loss "
                     f"{interp.loss_a:.4g} → {interp.loss_b:.4g})"])

    title = f"Loss landscape of {result['problem']['name']}"
    tables = [table(title, ["", "value"], rows, justify="left")]
    from .. import plot
    from ..report import Report

    ui.note("plotting ...")
    rep = Report(title, subtitle=f"{problem.dim} parameters, {problem.n_examples} examples, "
                 f"seed {args.seed}")
    rep.section("Summary").table(["", "value"], rows)
    if missing:
        rep.text("Not available in this installation (skipped): " + ", ".join(missing) + ".")
    rep.section("Training")
    rep.figure(plot.training_curve(tr.losses, title=f"training loss ({tr.method})"),
               "Training loss", id="training")
    Xd, yd = getattr(trained, "X", None), getattr(trained, "y", None)
    if (hasattr(trained, "model") and Xd is not None and np.ndim(Xd) == 2
            and np.shape(Xd)[1] == 2 and np.issubdtype(np.asarray(yd).dtype, np.integer)):
        params = trained.params
        rep.figure(plot.decision_regions(lambda P: trained.model(params, P), Xd, yd),
                   "Decision regions", caption="the trained model's predicted class, and "
                   "the training data", id="decision-regions")
    rep.section(f"Curvature: the {curv} at the solution")
    if top is not None:
        both = np.concatenate([np.asarray(top.values), np.asarray(bottom.values)])
        rep.figure(plot.spectrum(np.unique(both), title=f"{curv} eigenvalues (Lanczos)"),
                   "Extreme eigenvalues", caption="the largest and the two smallest",
                   id="spectrum")
    if density is not None:
        rep.figure(plot.spectral_density(density, eigenvalues=None if top is None else top.values,
                                         title=f"{curv} spectral density (SLQ)"),
                   "Spectral density",
                   caption="stochastic Lanczos quadrature; red: the computed top eigenvalues",
                   id="density")
    rep.section("Slices and paths")
    if s1 is not None:
        rep.figure(plot.slice_1d(s1), "1-D slice", caption="a random filter-normalised "
                   "direction (biases held fixed)", id="slice-1d")
    if s2 is not None:
        rep.figure(plot.slice_2d(s2.alphas, s2.betas, np.asarray(s2.losses).T), "2-D slice",
                   caption="two random filter-normalised directions", id="slice-2d")
    if interp is not None:
        rep.figure(plot.interpolation(interp), "Interpolation from initialisation",
                   id="interpolation")
    return CommandResult(result, tables, rep, arrays)
