"""The ``report`` command: the fleet report, one HTML page from an audit's JSONL (``report``
extra; the writing is shared with ``audit --html``: :mod:`._report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._report import check_output_target, require_report, write_html

__all__ = ["report"]


def report(
    audit: Annotated[
        Path, typer.Argument(help="The audit's JSONL (wxprivacy audit --out).", show_default=False)
    ],
    since: Annotated[
        Path | None,
        typer.Option("--since", help="An older audit's JSONL: adds what changed since."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out.")] = False,
) -> None:
    """Write the fleet report: one self-contained HTML page (opens offline).

    Headline figures, undeclared privacy keys and the fleet by status as charts, what changed
    since an older audit (--since), and a sortable, filterable table of every Mini Program.
    """
    module = require_report()
    check_output_target(out, audit, since, force=force)
    write_html(module, audit, out, since, force=True)
