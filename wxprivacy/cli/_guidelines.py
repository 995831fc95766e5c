"""The ``set`` and ``apply-template`` commands (the logic is in :mod:`wxprivacy.guidelines`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._errors import InvalidArgumentError
from ..guidelines import (
    ApplyResult,
    check_guideline,
    ensure_refresh_token,
    guideline_diff,
    load_guideline,
    load_template,
    read_guideline,
    run_apply_template,
    write_guideline,
)
from ._options import ClientOptions, ConcurrencyOpt, open_client, with_client_options
from ._output import ExitStatus, err_console, fail, out_console, run

__all__ = ["apply_template", "set_guideline"]


def _say(line: str) -> None:
    out_console.print(line, markup=False, soft_wrap=True)


@with_client_options
def set_guideline(
    authorizer_appid: Annotated[str, typer.Argument(help="The Mini Program's appid.")],
    from_: Annotated[
        Path,
        typer.Option("--from", "-f", exists=True, dir_okay=False, help="Guideline TOML file."),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the diff only.")] = False,
    custom_key: Annotated[
        list[str] | None,
        typer.Option(
            "--custom-key",
            help="A key of yours that differs from an official key only in case or separators "
            "(repeatable); any other such key is refused as a misspelling.",
        ),
    ] = None,
    *,
    client: ClientOptions,
) -> None:
    """Write one privacy guideline from a TOML file (setprivacysetting), showing the diff.

    The refresh token comes from the token store, else from api_get_authorizer_list.

    The file holds setprivacysetting's arguments: an optional privacy_ver (2 the development
    version, 1 the live one: [owner_setting] only), an [owner_setting] table (contact_email,
    notice_method, store_expire_timestamp = "30天", ...), one [[setting_list]] table per
    privacy_key with its privacy_text, and optional [[sdk_privacy_info_list]] tables (a full
    example: docs/cli.md, or help(wxprivacy.guidelines)).
    """
    try:
        guideline = load_guideline(from_)
    except InvalidArgumentError as exc:
        fail(f"invalid guideline: {exc}", ExitStatus.USAGE)

    async def go() -> None:
        async with open_client(client) as wechat:
            await ensure_refresh_token(wechat, authorizer_appid)
            current = await read_guideline(wechat, authorizer_appid, guideline.privacy_ver)
            _say(f"{authorizer_appid} (privacy_ver={guideline.privacy_ver}):")
            for line in guideline_diff(current, guideline) or ["  (no change)"]:
                _say(line)
            custom = frozenset(custom_key or ())
            check_guideline(wechat, guideline, custom_keys=custom)  # a dry run flags it too
            if dry_run:
                _say("dry run: nothing was changed")
                return
            await write_guideline(wechat, authorizer_appid, guideline, custom_keys=custom)
            _say("written")

    run(go())


@with_client_options
def apply_template(
    template_path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Template TOML file.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Write the changes.")] = False,
    keep_existing: Annotated[
        bool, typer.Option("--keep-existing", help="Keep purposes already declared.")
    ] = False,
    concurrency: ConcurrencyOpt = 16,
    *,
    client: ClientOptions,
) -> None:
    """Declare every privacy key each authorizer's code uses, with the template's purposes.

    Shows the diff per authorizer and changes nothing unless --yes. The run counts as failed
    while any authorizer could not be read, planned or written, or still uses a key the
    template has no purpose for. File format: see `wxprivacy set --help`.

    ```toml
    [purposes]
    UserInfo = "展示会员头像与昵称"
    Location = "查找附近门店"
    [owner_setting]          # optional: fills only empty fields
    contact_email = "privacy@example.com"
    ```
    """
    try:
        template = load_template(template_path)
    except InvalidArgumentError as exc:
        fail(f"invalid template: {exc}", ExitStatus.USAGE)

    async def go() -> ApplyResult:
        async with open_client(client) as wechat:
            return await run_apply_template(
                wechat,
                template,
                yes=yes,
                keep_existing=keep_existing,
                concurrency=concurrency,
                echo=_say,
            )

    result = run(go())
    for appid, problem in result.errors.items():
        err_console.print(f"{appid}: {problem}", markup=False, soft_wrap=True)
    _say(
        f"{result.total} authorizers: {result.changed} to change, {result.unchanged} unchanged, "
        f"{len(result.errors)} errors; {result.written} written"
    )
    if result.missing_purpose:
        _say(
            f"{len(result.missing_purpose)} authorizers still use keys the template has no "
            "purpose for (listed above): add them to [purposes]"
        )
    if not yes and result.changed:
        _say("dry run: nothing was changed; rerun with --yes to write")
    if result.errors or result.missing_purpose:
        raise typer.Exit(ExitStatus.FAILED)
