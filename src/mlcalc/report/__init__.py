"""Self-contained HTML reports (``index.html`` with inline SVG figures, ``data.npz``,
``summary.json``) and the documented JSON schema of the command line's results."""

from __future__ import annotations

from .html import Report, figure_to_svg, write_report
from .schema import SCHEMA_VERSION, SCHEMAS, schema_for, validate

__all__ = [
    "Report",
    "figure_to_svg",
    "write_report",
    "SCHEMAS",
    "SCHEMA_VERSION",
    "schema_for",
    "validate",
]
