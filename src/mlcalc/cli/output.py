"""Where the command line writes: results to stdout (rich tables, or JSON with
``--json``), progress bars, notes and warnings to stderr. Colour follows rich's rules:
none when the stream is not a terminal or when the ``NO_COLOR`` environment variable
is set (https://no-color.org). rich is imported when an ``Output`` is made."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["UsageError", "CommandResult", "Output", "to_jsonable", "dumps"]


class UsageError(Exception):
    """The command line was given something it cannot use (exit status 2)."""


@dataclasses.dataclass
class CommandResult:
    """What a subcommand produced: ``result`` (JSON-able dict, the ``result`` member of
    the envelope), ``tables`` (rich renderables for the terminal), ``report`` (a
    :class:`mlcalc.report.Report` or None) and ``arrays`` (saved to data.npz)."""

    result: dict
    tables: list = dataclasses.field(default_factory=list)
    report: Any = None
    arrays: dict = dataclasses.field(default_factory=dict)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types: arrays to lists, NumPy scalars to Python ones, non-finite
    floats to None (JSON has no NaN or infinity), tuples to lists."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def dumps(obj: Any) -> str:
    """Strict JSON (no NaN/Infinity), indented, keys in insertion order."""
    return json.dumps(to_jsonable(obj), indent=2, allow_nan=False, ensure_ascii=False)


class Output:
    """The two streams of one command run.

    ``json_mode``: stdout receives only the JSON document; ``quiet``: no notes or
    progress on stderr (warnings and errors still appear).
    """

    def __init__(self, json_mode: bool = False, quiet: bool = False) -> None:
        from rich.console import Console

        self.json_mode = json_mode
        self.quiet = quiet
        # NO_COLOR (any non-empty value): no ANSI styling at all, not even bold
        plain = {"color_system": None} if os.environ.get("NO_COLOR") else {}
        self.err = Console(stderr=True, highlight=False, soft_wrap=True, **plain)
        self.out = Console(highlight=False, **plain)
        if not self.out.is_terminal and "COLUMNS" not in os.environ:
            self.out.width = 160  # tables piped to a file are not cut at 80 columns
        self.warnings: list[str] = []

    # ------------------------------------------------------------------ stderr
    def note(self, message: str) -> None:
        """A progress note on stderr (suppressed by ``--quiet``)."""
        if not self.quiet:
            self.err.print(f"[dim]{_escape(message)}[/dim]")

    def warn(self, message: str) -> None:
        """A warning on stderr; also kept for the JSON document's ``warnings``."""
        self.warnings.append(message)
        self.err.print(f"[yellow]warning:[/yellow] {_escape(message)}")

    def error(self, prog: str, message: str) -> None:
        """The failure message: its first line is the one-line reason."""
        self.err.print(f"[bold red]{_escape(prog)}: error:[/bold red] {_escape(message)}")

    @contextlib.contextmanager
    def progress(self, description: str, total: int) -> Iterator[Any]:
        """A progress bar on stderr; yields ``advance(n=1)``. Silent when quiet."""
        if self.quiet:
            yield lambda n=1: None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=False,
        ) as bar:
            task = bar.add_task(_escape(description), total=total)
            yield lambda n=1: bar.advance(task, n)

    @contextlib.contextmanager
    def capture_warnings(self) -> Iterator[None]:
        """Route Python warnings raised inside to :meth:`warn` (once per message)."""
        import warnings

        seen: set[str] = set()

        def show(message, category, filename, lineno, file=None, line=None):
            text = f"{category.__name__}: {message}"
            if text not in seen:
                seen.add(text)
                self.warn(text)

        with warnings.catch_warnings():
            warnings.simplefilter("default")
            old = warnings.showwarning
            warnings.showwarning = show
            try:
                yield
            finally:
                warnings.showwarning = old

    # ------------------------------------------------------------------ stdout
    def result(self, document: dict, tables: list) -> None:
        """Print the result: the JSON document, or the tables for people."""
        if self.json_mode:
            sys.stdout.write(dumps(document) + "\n")
            sys.stdout.flush()
            return
        for table in tables:
            if isinstance(table, str):
                self.out.print(table, markup=False)
            else:
                self.out.print(table)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))


def table(title: str, columns: list[str], rows: list[list[Any]], justify: str = "right"):
    """A rich Table with string cells (first column left, the others ``justify``)."""
    from rich.table import Table

    t = Table(title=title, title_justify="left", show_lines=False)
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i == 0 else justify, overflow="fold")
    for row in rows:
        t.add_row(*[_escape(cell) for cell in row])
    return t


def fmt(x: Any, digits: int = 6) -> str:
    """A number for people: significant digits, 'nan', '-', or the vector in brackets."""
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    arr = np.asarray(x)
    if arr.ndim == 0:
        v = float(arr)
        if v == 0:
            return "0"
        return f"{v:.{digits}g}"
    return "[" + ", ".join(fmt(v, digits) for v in arr.ravel()) + "]"
