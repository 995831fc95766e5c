"""What every command prints and how it exits: the consoles, the exit statuses, one error path.

The exit statuses are the same for every command. They are documented once, in the table of
``docs/cli.md`` ("Exit statuses"); a test checks that table against :class:`ExitStatus`.
"""

from __future__ import annotations

import asyncio
import enum
import importlib
import os
from collections.abc import Callable, Coroutine
from typing import Any, Final, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from .._base import endpoints
from .._errors import (
    ComponentCredentialError,
    InvalidArgumentError,
    MissingVerifyTicketError,
    ResponseFormatError,
    TokenStoreError,
    TransportError,
    WeChatAPIError,
    WxPrivacyError,
)

__all__ = ["ExitStatus", "err_console", "fail", "out_console", "run", "status_for"]

T = TypeVar("T")

out_console = Console()
err_console = Console(stderr=True)


class ExitStatus(enum.IntEnum):
    """The exit status of every ``wxprivacy`` command; ``docs/cli.md`` says when each is used."""

    OK = 0
    FAILED = 1
    USAGE = 2
    FATAL = 3
    INTERRUPTED = 130


_PLATFORM_ENDPOINTS: Final = frozenset({endpoints.COMPONENT_TOKEN, endpoints.AUTHORIZER_LIST})
"""Endpoints whose failure says nothing about one Mini Program: the platform's own calls."""


def status_for(error: BaseException) -> ExitStatus:
    """The exit status for an error that stopped a command.

    - :data:`ExitStatus.FATAL` when the error is the platform's, not a Mini Program's: no verify
      ticket, wrong credentials, the network, the token store, a file, or any error answered by
      ``api_component_token`` or ``api_get_authorizer_list``;
    - :data:`ExitStatus.USAGE` for input refused before anything was sent;
    - :data:`ExitStatus.FAILED` for the rest: WeChat refused the Mini Program (61007, 61023,
      86074, ...), or it is not an authorizer of the platform.
    """
    if isinstance(error, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED
    fatal = (
        MissingVerifyTicketError,
        ComponentCredentialError,
        TransportError,
        TokenStoreError,
        OSError,
    )
    if isinstance(error, fatal):
        return ExitStatus.FATAL
    if isinstance(error, WeChatAPIError | ResponseFormatError):
        if error.endpoint in _PLATFORM_ENDPOINTS:
            return ExitStatus.FATAL
    if isinstance(error, InvalidArgumentError):
        return ExitStatus.USAGE
    return ExitStatus.FAILED


def fail(message: str, status: ExitStatus, *, note: str = "") -> NoReturn:
    """Print ``error: message`` (and ``note`` on the next line) to stderr; exit with ``status``.

    An interruption prints ``interrupted: note`` instead (``message`` is not used).
    """
    if status is ExitStatus.INTERRUPTED:
        text = "interrupted" + (f": {escape(note)}" if note else "")
    else:
        text = f"[red]error:[/red] {escape(message)}" + (f"\n{escape(note)}" if note else "")
    err_console.print(text, soft_wrap=True)
    raise typer.Exit(status)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when uvloop is installed (``pip install 'wxprivacy[uvloop]'``) and
    ``WXPRIVACY_UVLOOP`` is not ``0``; else ``None`` (asyncio's default loop)."""
    if os.environ.get("WXPRIVACY_UVLOOP", "1") == "0":
        return None
    try:
        uvloop = importlib.import_module("uvloop")
    except ModuleNotFoundError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def _cli_message(exc: WxPrivacyError) -> str:
    """What the command line says for ``exc``: its own advice where the SDK's would name a
    method (a missing ticket is given with ``--ticket`` here, not with a method call)."""
    if isinstance(exc, MissingVerifyTicketError):
        return (
            "no component_verify_ticket: pass --ticket TICKET, set "
            "WXPRIVACY_COMPONENT_VERIFY_TICKET, or give --redis-url (WXPRIVACY_REDIS_URL) the "
            "Redis your callback handler stores the ticket in"
        )
    return str(exc)


def run(main: Coroutine[Any, Any, T], *, note: Callable[[], str] | None = None) -> T:
    """Run a command's coroutine; a failure exits with its :func:`status_for` status.

    The loop is uvloop's when it is installed (see :func:`loop_factory`).

    Args:
        main: the command's work.
        note: says what the failure left behind (e.g. in an output file); printed after it.
    """
    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            return runner.run(main)
    except KeyboardInterrupt:
        fail("", ExitStatus.INTERRUPTED, note=note() if note else "")
    except WxPrivacyError as exc:
        fail(_cli_message(exc), status_for(exc), note=note() if note else "")
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}", ExitStatus.FATAL, note=note() if note else "")
