"""The ``wxprivacy`` command line (install the ``cli`` extra): audit, get, emulator, demo.

Configuration comes from flags or the environment: ``WXPRIVACY_COMPONENT_APPID``,
``WXPRIVACY_COMPONENT_APPSECRET``, ``WXPRIVACY_BASE_URL``, ``WXPRIVACY_REDIS_URL``,
``WXPRIVACY_REDIS_PREFIX``, ``WXPRIVACY_COMPONENT_VERIFY_TICKET``. The verify ticket is read from
the token store (the Redis your callback handler writes to), unless given explicitly.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Final

import attrs
import orjson
import typer
from rich.console import Console
from rich.markup import escape

from . import _serde
from ._cli_audit_file import AuditFile, OutputExistsError
from ._cli_report import print_summary
from ._client import ComponentClient
from ._errors import WxPrivacyError
from ._stores import TokenStore
from .audit import AuditSummary, record_for

__all__ = ["app", "main"]

app = typer.Typer(
    name="wxprivacy",
    help="Audit and manage WeChat Mini Program privacy guidelines as a third-party platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # tracebacks must never print the appsecret or tokens
)

EXIT_FAILED_AUTHORIZERS = 1
"""Exit status when the run finished but some authorizers could not be read."""
EXIT_USAGE = 2
"""Exit status of bad usage (as click's), e.g. an existing --out without --force or --resume."""
EXIT_FATAL = 3
"""Exit status when nothing could be done (credentials, ticket, network, files)."""
out_console = Console()
err_console = Console(stderr=True)

AppidOpt = Annotated[
    str | None,
    typer.Option("--component-appid", envvar="WXPRIVACY_COMPONENT_APPID", help="Platform appid."),
]
SecretOpt = Annotated[
    str | None,
    typer.Option(
        "--component-appsecret",
        envvar="WXPRIVACY_COMPONENT_APPSECRET",
        help="Platform appsecret (prefer the environment variable).",
        show_default=False,
    ),
]
BaseUrlOpt = Annotated[
    str,
    typer.Option("--base-url", envvar="WXPRIVACY_BASE_URL", help="API scheme and host."),
]
RedisOpt = Annotated[
    str | None,
    typer.Option(
        "--redis-url",
        envvar="WXPRIVACY_REDIS_URL",
        help="Token store shared with your callback handler (holds the verify ticket).",
    ),
]
PrefixOpt = Annotated[
    str,
    typer.Option("--redis-prefix", envvar="WXPRIVACY_REDIS_PREFIX", help="Redis key prefix."),
]
TicketOpt = Annotated[
    str | None,
    typer.Option(
        "--ticket",
        envvar="WXPRIVACY_COMPONENT_VERIFY_TICKET",
        help="component_verify_ticket to use when the token store holds none.",
        show_default=False,
    ),
]
EmulatorOpt = Annotated[
    int | None,
    typer.Option(
        "--emulator",
        min=0,
        help="Use an in-process WeChat emulator seeded with N authorizers (no credentials).",
    ),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Emulator seed (same seed, same fleet).")]
VerOpt = Annotated[
    int,
    typer.Option("--ver", "--privacy-ver", min=1, max=2, help="2 development version, 1 live."),
]


@attrs.frozen(kw_only=True)
class Settings:
    """Where the CLI gets its client from (flags and environment, already parsed)."""

    component_appid: str | None
    component_appsecret: str | None = attrs.field(repr=False)  # never shown
    base_url: str
    redis_url: str | None
    redis_prefix: str
    ticket: str | None = attrs.field(repr=False)
    emulator: int | None
    seed: int


@asynccontextmanager
async def open_client(settings: Settings) -> AsyncIterator[ComponentClient]:
    """Build the client: over an in-process emulator, or with real credentials.

    Raises:
        typer.BadParameter: credentials are missing.
    """
    if settings.emulator is not None:
        import httpx

        from .emulator import Emulator

        emu = Emulator(authorizers=settings.emulator, seed=settings.seed)
        async with httpx.AsyncClient(transport=emu.transport()) as http:
            async with ComponentClient(
                emu.component_appid, emu.component_appsecret, http_client=http
            ) as client:
                await client.set_component_verify_ticket(emu.component_verify_ticket)
                yield client
        return
    if not settings.component_appid or not settings.component_appsecret:
        raise typer.BadParameter(
            "set --component-appid and WXPRIVACY_COMPONENT_APPSECRET (or use --emulator N)"
        )
    store: TokenStore | None = None
    if settings.redis_url:
        from .redis import RedisTokenStore

        store = RedisTokenStore.from_url(settings.redis_url, key_prefix=settings.redis_prefix)
    try:
        async with ComponentClient(
            settings.component_appid,
            settings.component_appsecret,
            token_store=store,
            base_url=settings.base_url,
        ) as client:
            comp = settings.component_appid
            if settings.ticket and not await client.token_store.get_verify_ticket(comp):
                # Only when the store has none: never replace the newer one a callback stored.
                await client.set_component_verify_ticket(settings.ticket)
            yield client
    finally:
        if store is not None:
            await store.aclose()


_SETTING_NAMES: Final = (
    "component_appid",
    "component_appsecret",
    "base_url",
    "redis_url",
    "redis_prefix",
    "ticket",
    "emulator",
    "seed",
)


def settings_from(options: Mapping[str, Any]) -> Settings:
    """The Settings out of a command's parsed options (pass ``locals()`` first thing)."""
    return Settings(**{name: options[name] for name in _SETTING_NAMES})


async def run_audit(
    client: ComponentClient,
    out: Path,
    *,
    privacy_ver: int = 2,
    concurrency: int = 16,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
) -> AuditSummary:
    """List every authorizer, fetch every guideline concurrently, write JSONL, return the summary.

    Wraps ``api_get_authorizer_list`` (500 per page) and ``getprivacysetting``; the file is
    handled by :class:`AuditFile` (see :func:`audit_into`).

    Raises:
        OutputExistsError: ``out`` is not empty, and neither ``resume`` nor ``force``.
    """
    with AuditFile(out, resume=resume, force=force) as output:
        return await audit_into(
            client, output, privacy_ver=privacy_ver, concurrency=concurrency, progress=progress
        )


async def audit_into(
    client: ComponentClient,
    output: AuditFile,
    *,
    privacy_ver: int = 2,
    concurrency: int = 16,
    progress: bool = True,
) -> AuditSummary:
    """Audit every authorizer into ``output``; return the summary of the file's records.

    When ``output`` resumes a file, authorizers whose last record there is a success are not
    fetched again (failed ones are); the new records are appended and the last record of each
    authorizer wins. The refresh token listed for each authorizer is stored when the token store
    has none or a different one (the list is WeChat's current value: this also recovers from
    61023). Each record is written whole the moment its fetch completes; when the run is
    interrupted (SIGINT, cancellation, even SIGKILL) the file holds every earlier record or a
    newer one, ready for ``resume``.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    done = set(output.done)
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not progress,
        transient=False,
    )
    task = bar.add_task("auditing", total=None, completed=len(done))
    store = client.token_store
    comp = client.component_appid

    async def appids() -> AsyncIterator[str]:
        offset = 0
        while True:
            page = await client.list_authorizers(offset, 500)
            bar.update(task, total=page.total_count)
            for item in page.list:
                appid = item.authorizer_appid
                if appid in done:
                    continue
                listed = item.refresh_token
                if listed.strip() and await store.get_refresh_token(comp, appid) != listed:
                    await store.set_refresh_token(comp, appid, listed)
                done.add(appid)
                yield appid
            offset += len(page.list)
            if not page.list or offset >= page.total_count:
                return

    with bar:
        results = client.iter_privacy_settings(appids(), privacy_ver, concurrency=concurrency)
        async for appid, result in results:
            output.write(record_for(appid, result, privacy_ver=privacy_ver))
            bar.advance(task)
    return output.finish()


def _what_is_left(output: AuditFile) -> str:
    """Say what a run that stopped early left in its file (for the error messages)."""
    path = escape(str(output.path))
    if output.written == 0:
        return f"{path} was not changed"
    if output.appending:
        return (
            f"{path} holds its earlier records and the {output.written} written by this run "
            "(the last record of an authorizer wins); rerun with --resume"
        )
    return f"{path} holds the {output.written} records of this run; rerun with --resume"


@app.command()
def audit(
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON-lines output file.")] = Path(
        "audit.jsonl"
    ),
    privacy_ver: VerOpt = 2,
    concurrency: Annotated[int, typer.Option(min=1, max=512, help="Requests in flight.")] = 16,
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
            "--force", help="Replace a non-empty --out (once the new audit has its first record)."
        ),
    ] = False,
    summary_json: Annotated[
        Path | None, typer.Option("--summary-json", help="Also write the summary as JSON here.")
    ] = None,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="Hide the progress bar.")
    ] = False,
    emulator: EmulatorOpt = None,
    seed: SeedOpt = 0,
    component_appid: AppidOpt = None,
    component_appsecret: SecretOpt = None,
    base_url: BaseUrlOpt = "https://api.weixin.qq.com",
    redis_url: RedisOpt = None,
    redis_prefix: PrefixOpt = "wxprivacy",
    ticket: TicketOpt = None,
) -> None:
    """Audit every authorizer's privacy guideline; write JSONL and print a compliance summary.

    An existing non-empty --out is never overwritten without --force, and never emptied before
    the new audit has written a record; --resume appends to it (the last record of an authorizer
    wins). Exit status: 0 every guideline read; 1 some authorizers could not be read (see the
    summary); 2 bad usage, including a non-empty --out without --resume or --force; 3 nothing
    could be audited (credentials, ticket, network, output file).
    """
    settings = settings_from(locals())
    if resume and force:
        raise typer.BadParameter("--resume continues --out, --force replaces it: pick one")
    try:
        output = AuditFile(out, resume=resume, force=force)
    except OutputExistsError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from None
    except OSError as exc:
        err_console.print(
            f"[red]error:[/red] cannot write {escape(str(out))}: {exc.strerror or exc}"
        )
        raise typer.Exit(EXIT_FATAL) from None

    async def go() -> AuditSummary:
        async with open_client(settings) as client:
            return await audit_into(
                client,
                output,
                privacy_ver=privacy_ver,
                concurrency=concurrency,
                progress=not no_progress,
            )

    with output:
        try:
            summary = asyncio.run(go())
        except WxPrivacyError as exc:
            err_console.print(f"[red]error:[/red] {exc}\n{_what_is_left(output)}")
            raise typer.Exit(EXIT_FATAL) from None
        except OSError as exc:
            err_console.print(
                f"[red]error:[/red] cannot write {escape(str(out))}: {exc.strerror or exc}\n"
                f"{_what_is_left(output)}"
            )
            raise typer.Exit(EXIT_FATAL) from None
        except KeyboardInterrupt:
            err_console.print(f"interrupted: {_what_is_left(output)}")
            raise typer.Exit(130) from None
    print_summary(out_console, summary, out=out)
    if summary_json is not None:
        try:
            summary_json.write_bytes(orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2))
        except OSError as exc:
            err_console.print(f"[red]error:[/red] cannot write {summary_json}: {exc.strerror}")
            raise typer.Exit(EXIT_FATAL) from None
    if summary.failed:
        raise typer.Exit(EXIT_FAILED_AUTHORIZERS)


class NotAnAuthorizerError(WxPrivacyError):
    """The appid is not in the platform's authorizer list."""


async def find_refresh_token(client: ComponentClient, authorizer_appid: str) -> None:
    """Make sure the store has the authorizer's refresh token, looking it up in the list.

    Raises:
        NotAnAuthorizerError: the appid is not in ``api_get_authorizer_list``.
    """
    store, comp = client.token_store, client.component_appid
    if await store.get_refresh_token(comp, authorizer_appid):
        return
    async for item in client.iter_authorizers():
        if item.authorizer_appid == authorizer_appid and item.refresh_token.strip():
            await store.set_refresh_token(comp, authorizer_appid, item.refresh_token)
            return
    raise NotAnAuthorizerError(
        f"{authorizer_appid} is not an authorizer of component {comp} "
        "(not in api_get_authorizer_list)"
    )


@app.command()
def get(
    authorizer_appid: Annotated[str, typer.Argument(help="The Mini Program's appid.")],
    ver: VerOpt = 2,
    emulator: EmulatorOpt = None,
    seed: SeedOpt = 0,
    component_appid: AppidOpt = None,
    component_appsecret: SecretOpt = None,
    base_url: BaseUrlOpt = "https://api.weixin.qq.com",
    redis_url: RedisOpt = None,
    redis_prefix: PrefixOpt = "wxprivacy",
    ticket: TicketOpt = None,
    refresh_token: Annotated[
        str | None,
        typer.Option(
            "--refresh-token",
            envvar="WXPRIVACY_AUTHORIZER_REFRESH_TOKEN",
            help="The authorizer's refresh token, if the token store has none.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print one privacy guideline as JSON (getprivacysetting).

    The authorizer's refresh token comes from --refresh-token, the token store, or else
    api_get_authorizer_list. Exit status 1 when it cannot be read, 3 on a fatal error.
    """
    settings = settings_from(locals())

    async def go() -> dict[str, Any]:
        async with open_client(settings) as client:
            if refresh_token:
                await client.set_authorizer_refresh_token(authorizer_appid, refresh_token)
            else:
                await find_refresh_token(client, authorizer_appid)
            setting = await client.get_privacy_setting(authorizer_appid, ver)
            return _serde.unstructure(setting)

    try:
        data = asyncio.run(go())
    except NotAnAuthorizerError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    except WxPrivacyError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_FAILED_AUTHORIZERS) from None
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


@app.command("emulator")
def emulator_command(
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8080,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    authorizers: Annotated[int, typer.Option(min=0, help="Synthetic authorizers to seed.")] = 100,
    seed: SeedOpt = 0,
    latency: Annotated[float, typer.Option(min=0, help="Seconds added to every answer.")] = 0.0,
) -> None:
    """Serve the WeChat emulator over HTTP for other processes and languages.

    Prints ``listening on http://HOST:PORT`` once it accepts connections. For fault injection
    use ``python -m wxprivacy.emulator --help`` (the --fault-* options).
    """
    from .emulator import Emulator, serve

    emu = Emulator(authorizers=authorizers, seed=seed, latency=latency)
    err_console.print(
        f"emulating component {emu.component_appid} with {authorizers} authorizers; "
        f"GET /_emulator/state for the ticket and refresh tokens"
    )
    serve(emu, host=host, port=port, on_ready=lambda url: err_console.print(f"listening on {url}"))


@app.command()
def demo(
    authorizers: Annotated[int, typer.Option(min=1, help="Emulated authorizers.")] = 500,
    out: Annotated[Path, typer.Option("--out", "-o")] = Path("audit-demo.jsonl"),
    concurrency: Annotated[int, typer.Option(min=1, max=512)] = 16,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty --out.")] = False,
) -> None:
    """Run the audit against an in-process emulator (the same as: audit --emulator N)."""
    audit(
        out=out,
        privacy_ver=2,
        concurrency=concurrency,
        resume=False,
        force=force,
        summary_json=None,
        no_progress=False,
        emulator=authorizers,
        seed=0,
        component_appid=None,
        component_appsecret=None,
        base_url="https://api.weixin.qq.com",
        redis_url=None,
        redis_prefix="wxprivacy",
        ticket=None,
    )


def main() -> None:
    """Entry point of the ``wxprivacy`` script."""
    app()


from . import _cli_manage  # noqa: E402, F401  (registers the set and apply-template commands)
