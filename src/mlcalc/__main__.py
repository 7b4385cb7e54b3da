"""``python -m mlcalc ...`` runs the ``mlcalc`` command line (see ``mlcalc --help``)."""

from __future__ import annotations

from mlcalc.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
