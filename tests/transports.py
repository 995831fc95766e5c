"""Run the client tests over both backends: httpx (mock transport, httpx's pool) and aiohttp.

A test module opts in with ``pytestmark = pytest.mark.usefixtures("over_each_transport")`` and
builds its clients with ``ComponentClient(..., **fake.wire())``. Then, for the ``httpx`` and
``aiohttp`` parameters, requests go over real loopback sockets to a small HTTP server that answers
with the fake's handler: the same assertions run against the same answers, whatever the backend.

- ``mock``: a caller's ``httpx.AsyncClient`` over ``httpx.MockTransport`` (the httpx backend);
- ``httpx``: a caller's ``httpx.AsyncClient`` over the sharded httpcore pool (the httpx backend);
- ``aiohttp``: the client's own native aiohttp backend, pointed at the server by ``base_url``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from wxprivacy._aiohttp_backend import AiohttpBackend
from wxprivacy._httpx_backend import ShardedTransport

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]
WebHandler = Callable[[Any], Awaitable[Any]]
KINDS = ("mock", "httpx", "aiohttp")

_state: dict[str, Any] = {"kind": "mock", "open": []}


async def serve_on_localhost(handler: WebHandler) -> tuple[Any, str]:
    """Serve an aiohttp ``handler`` (every method and path) on a loopback port: ``(runner,
    url)``; ``await runner.cleanup()`` stops it. The URL names the host ``localhost``: a cookie
    jar keeps cookies from host names only, not from IP addresses."""
    from aiohttp import web

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://localhost:{runner.addresses[0][1]}"


def wire_transport(handler: Handler) -> httpx.AsyncBaseTransport:
    """The transport ``FakeWeChat.client()`` uses under the current ``over_each_transport``."""
    if _state["kind"] == "mock":
        return httpx.MockTransport(handler)
    transport = ServedTransport(handler, _state["kind"])
    _state["open"].append(transport)
    return transport


def wire_kwargs(handler: Handler) -> dict[str, Any]:
    """The ``ComponentClient`` arguments that send to ``handler`` under the current kind."""
    if _state["kind"] == "aiohttp":
        _state["handler"] = handler
        return {"base_url": _state["url"], "transport": "aiohttp"}
    return {"http_client": httpx.AsyncClient(transport=wire_transport(handler))}


def inner_transport(kind: str) -> httpx.AsyncBaseTransport:
    """The httpcore transport a caller's client sends through (any served kind)."""
    return ShardedTransport()


async def _dispatch(request: httpx.Request) -> httpx.Response:
    handler: Handler = _state["handler"]
    return await handler(request)


class _HandlerServer(asyncio.Protocol):
    """HTTP/1.1 keep-alive server answering with an httpx handler (test plumbing only)."""

    def __init__(self, handler: Handler, port: list[int]) -> None:
        self._handler = handler
        self._port = port
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._busy:
            self._parse()

    def _parse(self) -> None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:]]
        length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
        if len(self._buffer) < end + 4 + length:
            return
        body = bytes(self._buffer[end + 4 : end + 4 + length])
        del self._buffer[: end + 4 + length]
        request = httpx.Request(
            method,
            f"https://api.weixin.qq.com{target}",
            headers=[(k, v) for k, v in headers],
            content=body,
        )
        self._busy = True
        asyncio.get_running_loop().create_task(self._answer(request))

    async def _answer(self, request: httpx.Request) -> None:
        try:
            response = await self._handler(request)
            body = await response.aread()
        except Exception:
            if self._transport is not None:
                self._transport.abort()
            return
        finally:
            self._busy = False
        head = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
        head += [
            f"{k}: {v}"
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "transfer-encoding")
        ]
        head.append(f"content-length: {len(body)}")
        if self._transport is not None:
            self._transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            if self._buffer:
                self._parse()


class ServedTransport(httpx.AsyncBaseTransport):
    """Send every request over loopback to a server that answers with ``handler``.

    The server starts on the first request; the request URL's scheme and host are replaced by
    the server's, so a client built for ``https://api.weixin.qq.com`` works unchanged.
    """

    def __init__(self, handler: Handler, kind: str) -> None:
        self._handler = handler
        self._inner = inner_transport(kind)
        self._server: asyncio.Server | None = None
        self._url: httpx.URL | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._server is None:
            loop = asyncio.get_running_loop()
            self._server = await loop.create_server(
                lambda: _HandlerServer(self._handler, []), "127.0.0.1", 0
            )
            port = self._server.sockets[0].getsockname()[1]
            self._url = httpx.URL(f"http://127.0.0.1:{port}")
        assert self._url is not None
        request.url = request.url.copy_with(
            scheme=self._url.scheme, host=self._url.host, port=self._url.port
        )
        request.headers["host"] = f"127.0.0.1:{self._url.port}"
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


@pytest.fixture(params=KINDS)
async def over_each_transport(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """Run the test once per backend; yields ``"mock"``, ``"httpx"`` or ``"aiohttp"``."""
    _state["kind"] = request.param
    _state["open"] = []
    server: asyncio.Server | None = None
    backends: list[AiohttpBackend] = []
    if request.param == "aiohttp":
        server = await asyncio.get_running_loop().create_server(
            lambda: _HandlerServer(_dispatch, []), "127.0.0.1", 0
        )
        _state["url"] = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        opened = AiohttpBackend._open

        def tracked(backend: AiohttpBackend) -> Any:
            backends.append(backend)  # closed below: tests need not close their clients
            return opened(backend)

        monkeypatch.setattr(AiohttpBackend, "_open", tracked)
    try:
        yield request.param
    finally:
        _state["kind"] = "mock"
        for transport in _state["open"]:
            await transport.aclose()
        _state["open"] = []
        for backend in backends:
            await backend.aclose()
        if server is not None:
            server.close()
            await server.wait_closed()
