"""A framework-free ASGI 3 application serving an :class:`Emulator`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from ._payloads import Core

__all__ = ["EmulatorASGIApp"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class EmulatorASGIApp:
    """ASGI 3 callable: ``uvicorn.run(EmulatorASGIApp(emu))``.

    Handles ``http`` and ``lifespan`` scopes. A ``timeout`` fault holds the answer back its
    ``delay`` (``Faults.timeout_delay``) seconds, or until the client disconnects; a ``reset``
    fault announces the full Content-Length, sends half the body and stops, so the server closes
    the connection mid-response.
    """

    def __init__(self, emulator: Core) -> None:
        self._emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw_query = scope.get("query_string", b"").decode("latin-1")
        query: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query.setdefault(key, value)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        response = await self._emulator.handle(
            scope["method"], scope["path"], query, b"".join(chunks), headers
        )
        if response.fault == "timeout":
            if await _disconnected_within(receive, response.delay):
                return  # the client gave up first (its read timeout): nothing left to send
        raw_headers = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
        ]
        raw_headers.append((b"content-length", str(len(response.body)).encode("ascii")))
        await send(
            {"type": "http.response.start", "status": response.status, "headers": raw_headers}
        )
        if response.fault == "reset":
            half = response.body[: len(response.body) // 2]
            await send({"type": "http.response.body", "body": half, "more_body": True})
            return  # the server sees an incomplete response and drops the connection
        await send({"type": "http.response.body", "body": response.body})

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _disconnected_within(receive: Receive, seconds: float) -> bool:
    """Wait up to ``seconds`` for ``http.disconnect``; whether the client disconnected."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                if (await receive())["type"] == "http.disconnect":
                    return True
                # a server whose receive() answers at once again: poll, do not spin
                await asyncio.sleep(0.01)
    except TimeoutError:
        return False
