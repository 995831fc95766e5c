"""The options shared by commands, written once, and the client they describe.

:class:`ClientOptions` is the one definition of the options every command that calls WeChat
has (``--component-appid``, ``--redis-url``, ...): each field carries its typer option, and
:func:`with_client_options` adds them all to a command, which receives them as one
``client: ClientOptions`` argument. :func:`graft` is the mechanism, also used for option groups
built from data (the emulator's ``--fault-*`` flags).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, ParamSpec, TypeVar

import attrs
import typer

from .._base import DEFAULT_BASE_URL
from .._client import ComponentClient
from .._errors import InvalidArgumentError
from .._stores import TokenStore
from ..emulator._seed import MAX_EMULATED

__all__ = [
    "ClientOptions",
    "MAX_EMULATED",
    "ConcurrencyOpt",
    "SeedOpt",
    "VerOpt",
    "graft",
    "open_client",
    "with_client_options",
]

P = ParamSpec("P")
R = TypeVar("R")


def at_most_emulated(value: int | None) -> int | None:
    """An option callback: refuse more emulated authorizers than :data:`MAX_EMULATED` (a range
    in the option itself would widen every command's help until flags are cut off).

    Raises:
        typer.BadParameter: ``value`` is above :data:`MAX_EMULATED`.
    """
    if value is not None and value > MAX_EMULATED:
        raise typer.BadParameter(f"at most {MAX_EMULATED:,} authorizers (about 6 KB each)")
    return value


SeedOpt = Annotated[int, typer.Option("--seed", help="Emulator seed (same seed, same fleet).")]
VerOpt = Annotated[
    int,
    typer.Option("--ver", "--privacy-ver", min=1, max=2, help="2 development version, 1 live."),
]
ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", min=1, max=512, help="Requests in flight.")
]


@attrs.frozen(kw_only=True)
class ClientOptions:
    """Where a command gets its client: flags and environment, already parsed.

    Each field is one option of every command that calls WeChat, defined here only.
    """

    emulator: Annotated[
        int | None,
        typer.Option(
            "--emulator",
            min=0,
            callback=at_most_emulated,
            help="Use an in-process WeChat emulator seeded with N authorizers (no credentials).",
        ),
    ] = None
    seed: SeedOpt = 0
    component_appid: Annotated[
        str | None,
        typer.Option(
            "--component-appid", envvar="WXPRIVACY_COMPONENT_APPID", help="Platform appid."
        ),
    ] = None
    component_appsecret: Annotated[
        str | None,
        typer.Option(
            "--component-appsecret",
            envvar="WXPRIVACY_COMPONENT_APPSECRET",
            help="Platform appsecret (prefer the environment variable).",
            show_default=False,
        ),
    ] = attrs.field(default=None, repr=False)  # never shown
    base_url: Annotated[
        str,
        typer.Option("--base-url", envvar="WXPRIVACY_BASE_URL", help="API scheme and host."),
    ] = DEFAULT_BASE_URL
    redis_url: Annotated[
        str | None,
        typer.Option(
            "--redis-url",
            envvar="WXPRIVACY_REDIS_URL",
            help="Token store shared with your callback handler (holds the verify ticket).",
        ),
    ] = None
    redis_prefix: Annotated[
        str,
        typer.Option("--redis-prefix", envvar="WXPRIVACY_REDIS_PREFIX", help="Redis key prefix."),
    ] = "wxprivacy"
    ticket: Annotated[
        str | None,
        typer.Option(
            "--ticket",
            envvar="WXPRIVACY_COMPONENT_VERIFY_TICKET",
            help="component_verify_ticket to use when the token store holds none.",
            show_default=False,
        ),
    ] = attrs.field(default=None, repr=False)


def graft(
    into: str, parameters: Sequence[inspect.Parameter], build: Callable[[dict[str, Any]], Any]
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Give a command the options ``parameters``, handed to it as one argument ``into``.

    The command's signature, as typer reads it, is its own parameters (without ``into``)
    followed by ``parameters``; when it runs, their values go through ``build`` into ``into``.
    Called directly with ``into=...``, the command takes that value instead.
    """
    names = [p.name for p in parameters]

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        hints = typing.get_type_hints(func, include_extras=True)
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[p.name])
            for p in inspect.signature(func).parameters.values()
            if p.name != into
        ]
        clash = set(names) & {p.name for p in own}
        if clash:
            raise TypeError(f"{func.__name__} already has the options {sorted(clash)}")
        every = own + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters]

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            if into not in kwargs:
                kwargs[into] = build({name: kwargs.pop(name) for name in names})
            return func(*args, **kwargs)

        command.__signature__ = inspect.Signature(every, return_annotation=None)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in every} | {"return": None}
        return typing.cast(Callable[P, R], command)

    return decorate


def _field_parameters(cls: type[Any]) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(cls, include_extras=True)
    return [
        inspect.Parameter(
            field.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=field.default,
            annotation=hints[field.name],
        )
        for field in attrs.fields(cls)
    ]


def with_client_options(func: Callable[P, R]) -> Callable[P, R]:
    """Give a command every :class:`ClientOptions` option, as its ``client`` argument."""
    return graft("client", _field_parameters(ClientOptions), _client_options)(func)


def _client_options(values: Mapping[str, Any]) -> ClientOptions:
    return ClientOptions(**values)


@asynccontextmanager
async def open_client(options: ClientOptions) -> AsyncIterator[ComponentClient]:
    """Build the client: over an in-process emulator, or with real credentials.

    A ``--ticket`` is stored only when the token store holds none: it never replaces the newer
    one a callback handler stored.

    Raises:
        typer.BadParameter: credentials are missing.
    """
    if options.emulator is not None:
        import httpx

        from ..emulator import Emulator

        emu = Emulator(authorizers=options.emulator, seed=options.seed)
        async with httpx.AsyncClient(transport=emu.transport()) as http:
            async with ComponentClient(
                emu.component_appid, emu.component_appsecret, http_client=http
            ) as client:
                await client.set_component_verify_ticket(emu.component_verify_ticket)
                yield client
        return
    if not options.component_appid or not options.component_appsecret:
        raise typer.BadParameter(
            "set --component-appid and WXPRIVACY_COMPONENT_APPSECRET (or use --emulator N)"
        )
    store: TokenStore | None = None
    if options.redis_url:
        try:
            from ..redis import RedisTokenStore
        except ModuleNotFoundError as exc:  # one line, not a traceback: what to install
            raise InvalidArgumentError(f"--redis-url: {exc}") from None

        try:
            store = RedisTokenStore.from_url(options.redis_url, key_prefix=options.redis_prefix)
        except InvalidArgumentError:
            raise
        except ValueError as exc:  # redis-py cannot read the URL (the URL may hold a password)
            raise InvalidArgumentError(
                f"--redis-url is not a URL redis-py can read ({type(exc).__name__}): use "
                "redis://[:password@]host:port/db, rediss://... or unix://path"
            ) from None
    try:
        async with ComponentClient(
            options.component_appid,
            options.component_appsecret,
            token_store=store,
            base_url=options.base_url,
        ) as client:
            comp = options.component_appid
            if options.ticket and not await client.token_store.get_verify_ticket(comp):
                await client.set_component_verify_ticket(options.ticket)
            yield client
    finally:
        if store is not None:
            await store.aclose()
