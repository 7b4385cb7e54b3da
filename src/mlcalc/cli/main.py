"""The ``mlcalc`` command: argument parsing, dispatch, exit codes.

Exit status: 0 success; 2 usage error (bad option, unreadable number, rejected
expression: the message points at the offending part); 1 failure (the computation
raised), with a one-line reason on stderr. ``MLCALC_DEBUG=1`` prints the traceback too.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Sequence

from .output import CommandResult, Output, UsageError

__all__ = ["main", "build_parser", "COMMANDS"]

COMMANDS = ("inspect", "optimize", "landscape", "field", "integrate")

EXAMPLES = """\
examples:
  mlcalc inspect "x^2 + 3*y^2 - x*y" --at 1,2
  mlcalc inspect "(x^2 + y - 11)^2 + (x + y^2 - 7)^2" --bounds=-5,5,-5,5 --out himmelblau
  mlcalc optimize "100*(y - x^2)^2 + (1 - x)^2" --from=-1.2,1 --methods gd,newton,lbfgs
  mlcalc landscape                      # an MLP on two spirals: spectrum, slices, report
  mlcalc field "-y, x"                  # divergence, curl, potential, stream plot
  mlcalc integrate "x*y" --over box:0,1,0,1
  mlcalc integrate "1" --vars x,y,z --over ball --json
"""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose help starts with the examples."""

    def __init__(self, *args, examples: str = "", **kwargs):
        self.examples = examples
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def format_help(self) -> str:
        text = super().format_help()
        return f"{self.examples}\n{text}" if self.examples else text


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("output")
    g.add_argument("--json", action="store_true",
                   help="print the results as JSON on stdout (schema: docs/cli.md)")
    g.add_argument("--out", metavar="DIR", default=None,
                   help="write a self-contained report: DIR/index.html, data.npz, summary.json")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress or notes on stderr")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (one subparser per command)."""
    from .. import __version__

    parser = _Parser(
        prog="mlcalc",
        description="The multivariable calculus of machine learning, from the command line.",
        examples=EXAMPLES,
        epilog="Values that begin with '-' need '=': --at=-1,2. An expression that begins "
        "with '-' goes last, after '--': mlcalc inspect --at 1 -- \"-x^2\".",
    )
    parser.add_argument("--version", action="version", version=f"mlcalc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    common = _common_options()
    for name in COMMANDS:
        module = importlib.import_module(f".{name}", __package__)
        p = sub.add_parser(name, help=module.HELP, description=module.DESCRIPTION,
                           examples=module.EXAMPLES, parents=[common])
        module.configure(p)
        p.set_defaults(_module=module)
    return parser


def _envelope(command: str, args: argparse.Namespace, res: CommandResult, ui: Output,
              elapsed: float) -> dict:
    from .. import __version__
    from ..report.schema import SCHEMA_VERSION

    return {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "mlcalc_version": __version__,
        "seed": args.seed,
        "elapsed_s": round(elapsed, 3),
        "report": None,
        "warnings": list(ui.warnings),
        "result": res.result,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit
    status instead of exiting."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2)
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    command = args.command
    prog = f"mlcalc {command}"
    try:
        ui = Output(json_mode=args.json, quiet=args.quiet)
    except ImportError:  # pragma: no cover - exercised only without rich
        print(f"{prog}: error: the command line needs rich, SymPy and matplotlib: "
              "pip install 'mlcalc[faces]'", file=sys.stderr)
        return 1
    from ..expr import ExpressionError

    start = time.perf_counter()
    try:
        with ui.capture_warnings():
            res = args._module.run(args, ui)
            document = _envelope(command, args, res, ui, time.perf_counter() - start)
            if args.out and res.report is not None and not getattr(args, "no_report", False):
                from .output import to_jsonable

                index = os.path.join(args.out, "index.html")
                document["report"] = index
                document = to_jsonable(document)
                res.report.write(args.out, summary=document, arrays=res.arrays)
                ui.note(f"report written to {index}")
    except ExpressionError as exc:
        ui.error(prog, f"the expression was rejected: {exc}")
        return 2
    except UsageError as exc:
        ui.error(prog, str(exc))
        return 2
    except KeyboardInterrupt:
        ui.error(prog, "interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - one-line reason, exit status 1
        if os.environ.get("MLCALC_DEBUG"):
            import traceback

            traceback.print_exc()
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        ui.error(prog, f"{type(exc).__name__}: {reason}")
        return 1
    ui.result(document, res.tables)
    return 0
