"""The ``mlcalc`` command line: ``inspect``, ``optimize``, ``field``, ``integrate`` and
``landscape``. ``main(argv)`` returns the exit status (0 success, 2 usage error, 1
failure); results go to stdout (a table, or JSON with ``--json``), progress and warnings
to stderr, and ``--out DIR`` writes a self-contained HTML report. See docs/cli.md."""

from __future__ import annotations

from .main import build_parser, main

__all__ = ["main", "build_parser"]
