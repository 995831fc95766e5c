"""The ``doctor`` command: the checklist of :func:`wxprivacy.doctor.diagnose`, printed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

import orjson
import typer
from rich.markup import escape

from ..doctor import DEFAULT_AUDIT_FILE, Check, CheckStatus, Diagnosis, diagnose, without_client
from ._options import ClientOptions, ConcurrencyOpt, open_client, with_client_options
from ._output import ExitStatus, out_console, run

__all__ = ["doctor"]

_MARKS: Final = {
    CheckStatus.PASS: "[green]✓[/green]",
    CheckStatus.WARN: "[yellow]![/yellow]",
    CheckStatus.FAIL: "[red]✗[/red]",
    CheckStatus.SKIP: "[dim]-[/dim]",
}


@with_client_options
def doctor(
    audit_file: Annotated[
        Path,
        typer.Option(
            "--audit-file",
            help="The last audit's JSONL: authorizers that failed with 61007 lack permission 18.",
        ),
    ] = Path(DEFAULT_AUDIT_FILE),
    check_permissions: Annotated[
        bool,
        typer.Option(
            "--check-permissions",
            help="Ask WeChat for each authorizer's permission sets instead (one "
            "api_get_authorizer_info request per authorizer).",
        ),
    ] = False,
    concurrency: ConcurrencyOpt = 16,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checklist as JSON.")] = False,
    *,
    client: ClientOptions,
) -> None:
    """Check credentials, ticket, token store, locks, clock, refresh tokens and permissions.

    Prints one line per check with what to do about it. Sends one api_component_token request
    when no token is cached, one GET of the base URL (the clock) and one api_get_authorizer_list
    request per 500 authorizers. Exits 0 when no check failed, 1 otherwise.
    """
    missing = _missing_credentials(client)
    if missing:
        diagnosis = without_client(missing)
    else:

        async def go() -> Diagnosis:
            async with open_client(client) as wechat:
                return await diagnose(
                    wechat,
                    audit_file=audit_file,
                    check_permissions=check_permissions,
                    concurrency=concurrency,
                )

        diagnosis = run(go())
    if as_json:
        out_console.file.write(
            orjson.dumps(diagnosis.as_dict(), option=orjson.OPT_INDENT_2).decode()
        )
        out_console.file.write("\n")
    else:
        _print(diagnosis)
    if not diagnosis.ok:
        raise typer.Exit(ExitStatus.FAILED)


def _missing_credentials(options: ClientOptions) -> list[str]:
    if options.emulator is not None:
        return []
    missing = []
    if not options.component_appid:
        missing.append("--component-appid (WXPRIVACY_COMPONENT_APPID)")
    if not options.component_appsecret:
        missing.append("WXPRIVACY_COMPONENT_APPSECRET")
    return missing


def _print(diagnosis: Diagnosis) -> None:
    width = max(len(check.name) for check in diagnosis.checks)
    for check in diagnosis.checks:
        _print_line(check, width)
    counts = {status: 0 for status in CheckStatus}
    for check in diagnosis.checks:
        counts[check.status] += 1
    out_console.print(
        f"{len(diagnosis.checks)} checks: {counts[CheckStatus.PASS]} passed, "
        f"{counts[CheckStatus.WARN]} warned, {counts[CheckStatus.FAIL]} failed, "
        f"{counts[CheckStatus.SKIP]} skipped",
        soft_wrap=True,
    )


def _print_line(check: Check, width: int) -> None:
    out_console.print(
        f"{_MARKS[check.status]} {check.name:<{width}}  {escape(check.summary)}", soft_wrap=True
    )
    if check.fix and check.status is not CheckStatus.PASS:
        out_console.print(f"  {'':<{width}}  fix: {escape(check.fix)}", soft_wrap=True)
