"""Serve an :class:`Emulator` over real HTTP/1.1 with uvicorn (httptools when installed).

The emulator's :class:`~wxprivacy.emulator._asgi.EmulatorASGIApp` runs under uvicorn, the
``emulator`` extra (``pip install 'wxprivacy[emulator]'``: uvicorn, httptools, python-multipart).
:func:`serve` blocks until SIGINT/SIGTERM; :func:`start_server` runs ``uvicorn.Server.serve()`` as
a task in the running event loop (a test's own loop), on a socket bound before it starts, so the
URL is known at once, and :meth:`EmulatorServer.aclose` stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, Literal

from .._closing import AsyncClosing

if TYPE_CHECKING:
    import uvicorn

    from ._emulator import Emulator

__all__ = ["EmulatorServer", "ServerKind", "serve", "start_server"]

ServerKind = Literal["uvicorn", "asyncio"]
"""``"uvicorn"``; ``"asyncio"`` (the former built-in server) is kept as another name for it."""

_BACKLOG: Final = 2048
_KEEP_ALIVE: Final = 75
"""Seconds an idle keep-alive connection stays open: longer than clients' own pool timeouts
(httpx 5 s, aiohttp 15 s), so a client never reuses a connection the server is closing."""


class _DropIntentionalResets(logging.Filter):
    """Hide uvicorn's complaint about responses a ``reset`` fault aborted on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


_RESET_FILTER: Final = _DropIntentionalResets()


def http_implementation() -> Literal["httptools", "h11"]:
    """The HTTP/1.1 parser uvicorn uses here: httptools when installed, else h11."""
    return "httptools" if importlib.util.find_spec("httptools") else "h11"


def _config(emulator: Emulator, **overrides: Any) -> uvicorn.Config:
    import uvicorn

    # added once: addFilter skips a filter it already has
    logging.getLogger("uvicorn.error").addFilter(_RESET_FILTER)
    options: dict[str, Any] = {
        "http": http_implementation(),
        "ws": "none",
        "lifespan": "on",
        "access_log": False,
        "date_header": False,  # the emulator sends its own, from its clock
        "timeout_keep_alive": _KEEP_ALIVE,
        "timeout_graceful_shutdown": 1,
        "backlog": _BACKLOG,
    }
    options.update(overrides)
    return uvicorn.Config(emulator.asgi_app, **options)


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on accepted sockets whose listener
    # says so (else ~40 ms stalls per keep-alive response, Nagle against delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(_BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if sock.family == socket.AF_INET6 else host
    return f"http://{shown}:{port}"


class EmulatorServer(AsyncClosing):
    """An emulator served by uvicorn in the running event loop (from :func:`start_server`).

    Attributes:
        url: the base URL, e.g. ``"http://127.0.0.1:43817"``.
        port: the bound TCP port.
    """

    def __init__(
        self, server: uvicorn.Server, task: asyncio.Task[None], sock: socket.socket
    ) -> None:
        self._server = server
        self._task = task
        self._sock = sock
        self.url = _url(sock)
        self.port: int = sock.getsockname()[1]

    async def aclose(self) -> None:
        """Stop listening, close idle connections, finish (or after 1 s cancel) open requests."""
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._sock.close()


async def start_server(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    sock: socket.socket | None = None,
) -> EmulatorServer:
    """Serve ``emulator`` with uvicorn as a task of the running event loop.

    The socket is bound and listening before this returns, so clients may connect at once. The
    server installs no signal handlers (the loop's owner keeps them).

    Args:
        emulator: what to serve.
        host: the interface to bind (ignored with ``sock``).
        port: the TCP port; 0 picks a free one (ignored with ``sock``).
        sock: an already bound, listening socket to serve on (closed by ``aclose``).

    Returns:
        The running server; ``async with`` it, or call :meth:`EmulatorServer.aclose`.

    Raises:
        ModuleNotFoundError: uvicorn is not installed (the ``emulator`` extra).
        OSError: the address cannot be bound.
    """
    import uvicorn

    class _InLoopServer(uvicorn.Server):
        """Installs no signal handlers, and tells when its sockets accept connections."""

        def __init__(self, config: uvicorn.Config) -> None:
            super().__init__(config)
            self.ready = asyncio.Event()

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # the event loop's owner handles signals; stop with EmulatorServer.aclose()

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            try:
                await super().startup(sockets=sockets)
            finally:
                self.ready.set()

    listening = sock if sock is not None else _listening_socket(host, port)
    server = _InLoopServer(_config(emulator, log_config=None))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[listening]))
    ready = asyncio.ensure_future(server.ready.wait())
    await asyncio.wait((task, ready), return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    if not server.started:  # it could not start: raise why
        listening.close()
        await task
        raise RuntimeError("uvicorn stopped while starting")
    return EmulatorServer(server, task, listening)


def serve(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    log_level: str = "warning",
    on_ready: Callable[[str], None] | None = None,
    server: ServerKind = "uvicorn",
) -> None:
    """Serve ``emulator`` on ``http://host:port`` with uvicorn until SIGINT/SIGTERM (blocking).

    The socket is bound and listening before ``on_ready`` is called, so a client may connect as
    soon as it learns the URL. Open requests get one second to finish on shutdown.

    Args:
        emulator: what to serve.
        host: the interface to bind.
        port: the TCP port; 0 picks a free one.
        log_level: uvicorn's log level.
        on_ready: called once with the base URL, e.g. ``"http://127.0.0.1:43817"``.
        server: ``"uvicorn"``; ``"asyncio"`` is accepted as another name for it (the built-in
            server it named was replaced by uvicorn).

    Raises:
        ModuleNotFoundError: uvicorn is not installed (the ``emulator`` extra).
        OSError: the address cannot be bound.
        ValueError: an unknown ``server``.
    """
    if server not in ("uvicorn", "asyncio"):
        raise ValueError(f"server must be 'uvicorn' (or 'asyncio'), got {server!r}")
    import uvicorn

    sock = _listening_socket(host, port)
    try:
        config = _config(emulator, log_level=log_level)
        if on_ready is not None:
            on_ready(_url(sock))
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
