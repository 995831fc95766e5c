"""Reports of an audit: its summary with rich (tables a person can scan), and the writing of the
HTML fleet report (``wxprivacy report``, ``wxprivacy audit --html``)."""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path
from types import ModuleType

from rich.console import Console
from rich.table import Table

from .._audit_file import same_file
from .._errors import ERRCODES, InvalidArgumentError
from ..audit import NON_API_ERRCODE, AuditSummary
from ._output import ExitStatus, err_console, fail

__all__ = ["check_output_target", "print_summary", "require_report", "write_html"]

SHOW: int = 15
"""Rows shown per table before "... and N more"."""


def _more(table: Table, remaining: int, columns: int) -> None:
    if remaining > 0:
        table.add_row(f"[dim]… and {remaining} more (see the JSONL)[/dim]", *[""] * (columns - 1))


def print_summary(console: Console, summary: AuditSummary, *, out: Path) -> None:
    """Print the compliance summary of an audit to ``console``."""
    console.print()
    console.print(
        f"[bold]Audited {summary.total} authorizers[/bold]: {summary.ok} read, "
        f"{summary.failed} failed. Records: {out}"
    )
    overview = Table(title="Compliance", show_header=True, header_style="bold")
    overview.add_column("finding")
    overview.add_column("Mini Programs", justify="right")
    overview.add_row("use privacy keys not declared in setting_list", str(len(summary.undeclared)))
    overview.add_row("have no contact method in owner_setting", str(len(summary.no_contact)))
    overview.add_row("have no code uploaded (code_exist 0)", str(len(summary.no_code)))
    overview.add_row("could not be read", str(summary.failed))
    console.print(overview)

    if summary.undeclared:
        table = Table(title="Undeclared privacy keys", header_style="bold")
        table.add_column("authorizer_appid")
        table.add_column("undeclared privacy_key")
        rows = sorted(summary.undeclared.items())
        for appid, keys in rows[:SHOW]:
            table.add_row(appid, ", ".join(keys))
        _more(table, len(rows) - SHOW, 2)
        console.print(table)
        keys_table = Table(title="Undeclared keys by frequency", header_style="bold")
        keys_table.add_column("privacy_key")
        keys_table.add_column("Mini Programs", justify="right")
        for key, count in summary.undeclared_key_counts.most_common():
            keys_table.add_row(key, str(count))
        console.print(keys_table)

    for title, appids in (
        ("No contact method", summary.no_contact),
        ("No code uploaded", summary.no_code),
    ):
        if appids:
            shown = ", ".join(sorted(appids)[:SHOW])
            extra = f" … and {len(appids) - SHOW} more" if len(appids) > SHOW else ""
            console.print(f"[bold]{title}[/bold] ({len(appids)}): {shown}{extra}")

    if summary.errors_by_errcode:
        errors = Table(title="Errors by errcode", header_style="bold")
        errors.add_column("errcode", justify="right")
        errors.add_column("count", justify="right")
        errors.add_column("meaning")
        errors.add_column("what to do")
        for code, count in summary.errors_by_errcode.most_common():
            info = ERRCODES.get(code) if isinstance(code, int) else None
            meaning = (
                info.meaning
                if info
                else ("no errcode (network/format)" if code == NON_API_ERRCODE else "")
            )
            action = info.action if info else ""
            errors.add_row(str(code), str(count), meaning, action)
        console.print(errors)


def require_report() -> ModuleType:
    """:mod:`wxprivacy.report`, or exit 2 saying which extra to install."""
    try:
        return importlib.import_module("wxprivacy.report")
    except ModuleNotFoundError:
        fail(
            "the fleet report needs the report extra: pip install 'wxprivacy[report]'",
            ExitStatus.USAGE,
        )


def check_output_target(out: Path, *others: Path | None, force: bool) -> None:
    """Before any work: exit 2 when ``out`` is one of ``others`` (an input, or another output)
    or exists without ``force``, and 3 when its directory cannot be written (an audit must not
    learn that at its end)."""
    for given in others:
        if given is not None and same_file(out, given):
            fail(f"{out} is also {given}: write it to another file", ExitStatus.USAGE)
    if out.exists() and not force:
        fail(f"{out} exists: pass --force to replace it", ExitStatus.USAGE)
    folder = out.resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        fail(f"cannot write {out}: {folder} is not a writable directory", ExitStatus.FATAL)


def write_html(
    module: ModuleType, audit: Path, out: Path, since: Path | None, *, force: bool = False
) -> None:
    """Write the report of ``audit`` (and ``since``) to ``out``; say where, its size and time."""
    started = time.perf_counter()
    try:
        size = module.write_report(audit, out, since=since, force=force)
    except InvalidArgumentError as exc:
        fail(str(exc), ExitStatus.USAGE)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}", ExitStatus.FATAL)
    seconds = time.perf_counter() - started
    err_console.print(f"report: {out} ({size / 1024:,.0f} KB, {seconds:.1f} s)", soft_wrap=True)
