"""Serve an :class:`Emulator` over real HTTP/1.1.

Two servers, chosen by ``server=``:

- ``"asyncio"`` (the default): a small HTTP/1.1 keep-alive server written on ``asyncio.Protocol``
  in this module. No dependencies, no timers per connection (idle connections cost nothing), and
  on two cores it answers getprivacysetting as fast as uvicorn with httptools (1.01x, about 6,400
  req/s to raw aiohttp at c=64: ``benchmarks/bench_server.py``), while it also runs inside a test's
  own event loop (:func:`start_server`).
- ``"uvicorn"``: the :class:`~wxprivacy.emulator._asgi.EmulatorASGIApp` under uvicorn (the ``cli``
  extra), for users who want a conventional ASGI server.

:func:`start_server` runs the asyncio server inside a running event loop (tests use it to talk to
the emulator over real sockets without a subprocess).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from ._emulator import Emulator
    from ._payloads import EmulatorResponse

__all__ = ["EmulatorServer", "ServerKind", "serve", "start_server"]

ServerKind = Literal["asyncio", "uvicorn"]

_MAX_HEAD: Final = 64 * 1024
_REASONS: Final = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    411: "Length Required",
    413: "Payload Too Large",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_MAX_BODY: Final = 16 * 1024 * 1024


class _Connection(asyncio.Protocol):
    """One client connection: parse a request, answer it, then the next (no pipelining overlap)."""

    def __init__(self, emulator: Emulator, connections: set[_Connection]) -> None:
        self._emulator = emulator
        self._connections = connections
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._connections.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self._transport = None
        if self._task is not None:
            self._task.cancel()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._task is None:
            self._next_request()

    def close(self) -> None:
        """Close the connection (pending response tasks are cancelled)."""
        if self._transport is not None:
            self._transport.close()

    def _next_request(self) -> None:
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > _MAX_HEAD:
                self._reject(413)
            return
        try:
            lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ", 2)
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
        except ValueError:
            self._reject(400)
            return
        if "transfer-encoding" in headers:
            self._reject(411)
            return
        if length < 0 or length > _MAX_BODY:
            self._reject(413)
            return
        total = end + 4 + length
        if len(buffer) < total:
            return
        body = bytes(buffer[end + 4 : total])
        del buffer[:total]
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        path, _, raw_query = target.partition("?")
        query: dict[str, str] = {}
        if raw_query:
            for key, value in parse_qsl(raw_query, keep_blank_values=True):
                query.setdefault(key, value)
        self._task = asyncio.get_running_loop().create_task(
            self._answer(method, path, query, body, headers, keep_alive)
        )

    async def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: bytes,
        headers: dict[str, str],
        keep_alive: bool,
    ) -> None:
        response = await self._emulator.handle(method, path, query, body, headers)
        if response.fault == "timeout":
            faults = self._emulator.faults
            await asyncio.sleep(faults.timeout_delay if faults is not None else 30.0)
        transport = self._transport
        self._task = None
        if transport is None:
            return
        if response.fault == "reset":
            # The full Content-Length is announced, half the body sent, then the connection ends.
            transport.write(
                _head(response, keep_alive=True) + response.body[: len(response.body) // 2]
            )
            transport.close()
            return
        transport.write(_head(response, keep_alive=keep_alive) + response.body)
        if not keep_alive:
            transport.close()
        elif self._buffer:
            self._next_request()

    def _reject(self, status: int) -> None:
        if self._transport is not None:
            reason = _REASONS.get(status, "Error").encode()
            self._transport.write(
                b"HTTP/1.1 %d %s\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                % (status, reason)
            )
            self._transport.close()


def _head(response: EmulatorResponse, *, keep_alive: bool) -> bytes:
    status = response.status
    parts = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"]
    for name, value in response.headers.items():
        parts.append(f"{name}: {value}\r\n")
    parts.append(f"content-length: {len(response.body)}\r\n")
    if not keep_alive:
        parts.append("connection: close\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("latin-1")


class EmulatorServer:
    """A running asyncio HTTP server for an emulator (returned by :func:`start_server`).

    Attributes:
        url: the base URL, e.g. ``"http://127.0.0.1:43817"``.
    """

    def __init__(self, server: asyncio.Server, connections: set[_Connection], url: str) -> None:
        self._server = server
        self._connections = connections
        self.url = url

    async def aclose(self) -> None:
        """Stop listening, close every open connection and wait until the server is closed."""
        self._server.close()
        for connection in list(self._connections):
            connection.close()
        await self._server.wait_closed()

    async def __aenter__(self) -> EmulatorServer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def start_server(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    sock: socket.socket | None = None,
) -> EmulatorServer:
    """Serve ``emulator`` with the built-in asyncio HTTP/1.1 server in the running loop.

    Args:
        emulator: what to serve.
        host: the interface to bind (ignored with ``sock``).
        port: the TCP port; 0 picks a free one (ignored with ``sock``).
        sock: an already bound, listening socket to serve on.

    Returns:
        The running server; ``async with`` it, or call :meth:`EmulatorServer.aclose`.

    Raises:
        OSError: the address cannot be bound.
    """
    loop = asyncio.get_running_loop()
    connections: set[_Connection] = set()

    def factory() -> _Connection:
        return _Connection(emulator, connections)

    if sock is not None:
        server = await loop.create_server(factory, sock=sock, backlog=2048)
    else:
        server = await loop.create_server(factory, host, port, backlog=2048)
    address = server.sockets[0].getsockname()
    shown = f"[{address[0]}]" if ":" in address[0] else address[0]
    return EmulatorServer(server, connections, f"http://{shown}:{address[1]}")


class _DropIntentionalResets(logging.Filter):
    """Hide uvicorn's complaint about responses a ``reset`` fault aborted on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


def serve(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    log_level: str = "warning",
    on_ready: Callable[[str], None] | None = None,
    server: ServerKind = "asyncio",
) -> None:
    """Serve ``emulator`` on ``http://host:port`` until SIGINT/SIGTERM (blocking).

    The socket is bound and listening before ``on_ready`` is called, so a client may connect as
    soon as it learns the URL.

    Args:
        emulator: what to serve.
        host: the interface to bind.
        port: the TCP port; 0 picks a free one.
        log_level: uvicorn's log level (``server="uvicorn"`` only).
        on_ready: called once with the base URL, e.g. ``"http://127.0.0.1:43817"``.
        server: ``"asyncio"`` (built in, no dependencies) or ``"uvicorn"`` (needs uvicorn).

    Raises:
        ModuleNotFoundError: ``server="uvicorn"`` and uvicorn is not installed.
        OSError: the address cannot be bound.
        ValueError: an unknown ``server``.
    """
    if server not in ("asyncio", "uvicorn"):
        raise ValueError(f"server must be 'asyncio' or 'uvicorn', got {server!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so (else ~40 ms
    # stalls per keep-alive response).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        bound_port = sock.getsockname()[1]
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        url = f"http://{shown}:{bound_port}"
        if server == "uvicorn":
            _serve_uvicorn(emulator, sock, log_level, lambda: on_ready and on_ready(url))
        else:
            asyncio.run(_serve_asyncio(emulator, sock, lambda: on_ready and on_ready(url)))
    finally:
        sock.close()


async def _serve_asyncio(
    emulator: Emulator, sock: socket.socket, ready: Callable[[], object]
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with await start_server(emulator, sock=sock):
            ready()
            await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _serve_uvicorn(
    emulator: Emulator, sock: socket.socket, log_level: str, ready: Callable[[], object]
) -> None:
    import uvicorn

    config = uvicorn.Config(
        emulator.asgi_app,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    logging.getLogger("uvicorn.error").addFilter(_DropIntentionalResets())
    uvicorn_server = uvicorn.Server(config)
    ready()
    uvicorn_server.run(sockets=[sock])
