"""The ``audit`` and ``demo`` commands (the audit itself is :func:`wxprivacy.audit.audit_into`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn

from ..audit import AuditFile, AuditSummary, OutputExistsError, audit_into
from ._options import (
    ClientOptions,
    ConcurrencyOpt,
    VerOpt,
    at_most_emulated,
    open_client,
    with_client_options,
)
from ._output import ExitStatus, err_console, fail, out_console, run
from ._report import check_output_target, print_summary, require_report, write_html

__all__ = ["audit", "demo"]

OutOpt = Annotated[Path, typer.Option("--out", "-o", help="JSON-lines output file.")]


class _Bar:
    """An :class:`~wxprivacy.audit.AuditProgress` drawn with rich on stderr."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID = progress.add_task("auditing", total=None)

    def set_total(self, total: int) -> None:
        self._progress.update(self._task, total=total)

    def advance(self, records: int = 1) -> None:
        self._progress.advance(self._task, records)


class _OutputError(Exception):
    """The audit's output file could not be written (exit status 3, with what is left)."""


def _what_is_left(output: AuditFile) -> str:
    """Say what a run that stopped early left in its file (for the error messages)."""
    path = str(output.path)
    if output.written == 0:
        return f"{path} was not changed"
    if output.appending:
        return (
            f"{path} holds its earlier records and the {output.written} written by this run "
            "(the last record of an authorizer wins); rerun with --resume"
        )
    return f"{path} holds the {output.written} records of this run; rerun with --resume"


@with_client_options
def audit(
    out: OutOpt = Path("audit.jsonl"),
    privacy_ver: VerOpt = 2,
    concurrency: ConcurrencyOpt = 16,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue --out: fetch only the authorizers without a successful record there.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace a non-empty --out (once the new audit has its first record), and an "
            "existing --html or --summary-json.",
        ),
    ] = False,
    summary_json: Annotated[
        Path | None, typer.Option("--summary-json", help="Also write the summary as JSON here.")
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the fleet report here (the report extra)."),
    ] = None,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="Hide the progress bar.")
    ] = False,
    *,
    client: ClientOptions,
) -> None:
    """Audit every authorizer's privacy guideline; write JSONL and print a compliance summary.

    An existing non-empty --out is never overwritten without --force, and never emptied before
    the new audit has written a record; --resume appends to it (the last record of an authorizer
    wins).
    """
    if resume and force:
        raise typer.BadParameter("--resume continues --out, --force replaces it: pick one")
    reporting = None
    if html is not None:  # before a long audit, not after it
        reporting = require_report()
        check_output_target(html, out, summary_json, force=force)
    if summary_json is not None:
        check_output_target(summary_json, out, html, force=force)
    try:
        output = AuditFile(out, resume=resume, force=force)
    except OutputExistsError as exc:
        fail(str(exc), ExitStatus.USAGE)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}", ExitStatus.FATAL)

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=no_progress,
        transient=False,
    )

    async def go() -> AuditSummary:
        async with open_client(client) as wechat:
            try:
                with bar:
                    return await audit_into(
                        wechat,
                        output,
                        privacy_ver=privacy_ver,
                        concurrency=concurrency,
                        progress=_Bar(bar),
                    )
            except OSError as exc:  # the output file, not the network
                raise _OutputError(f"cannot write {out}: {exc.strerror or exc}") from exc

    with output:
        try:
            summary = run(go(), note=lambda: _what_is_left(output))
        except _OutputError as exc:
            fail(str(exc), ExitStatus.FATAL, note=_what_is_left(output))
    print_summary(out_console, summary, out=out)
    if summary_json is not None:
        try:
            summary_json.write_bytes(orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2))
        except OSError as exc:
            fail(f"cannot write {summary_json}: {exc.strerror or exc}", ExitStatus.FATAL)
    if reporting is not None and html is not None:
        write_html(reporting, out, html, None, force=True)
    if summary.failed:
        raise typer.Exit(ExitStatus.FAILED)


DEMO_OUT: Final = Path("audit-demo.jsonl")
"""Where ``wxprivacy demo`` writes unless told otherwise (replaced by each run)."""


def demo(
    authorizers: Annotated[
        int, typer.Option(min=1, callback=at_most_emulated, help="Emulated authorizers.")
    ] = 500,
    out: OutOpt = DEMO_OUT,
    concurrency: ConcurrencyOpt = 16,
    force: Annotated[
        bool | None,
        typer.Option(
            "--force/--no-force",
            help="Replace a non-empty --out. Default: yes for the demo's own file "
            "(audit-demo.jsonl, so the demo runs again), no for a file you name.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the audit against an in-process emulator (the same as: audit --emulator N)."""
    if force is None:  # the demo's own file is replaced; a file you name never silently
        force = out == DEMO_OUT
    audit(
        out=out,
        concurrency=concurrency,
        force=force,
        client=ClientOptions(emulator=authorizers),
    )
