"""An in-process httpx transport that sends every request to an :class:`Emulator`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from ._payloads import Core

__all__ = ["EmulatorTransport"]


class EmulatorTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="https://api.weixin.qq.com")``.

    The host is ignored. ``timeout`` faults raise :class:`httpx.ReadTimeout` and ``reset`` faults
    raise :class:`httpx.RemoteProtocolError` at once (no waiting).
    """

    def __init__(self, emulator: Core) -> None:
        self._emulator = emulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` from the emulator.

        Raises:
            httpx.ReadTimeout: a ``timeout`` fault was injected.
            httpx.RemoteProtocolError: a ``reset`` fault was injected.
        """
        body = await request.aread()
        query = {key: value for key, value in request.url.params.items()}
        response = await self._emulator.handle(
            request.method, request.url.path, query, body, request.headers
        )
        if response.fault == "timeout":
            raise httpx.ReadTimeout("emulated read timeout", request=request)
        if response.fault == "reset":
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            response.status, headers=response.headers, content=response.body, request=request
        )
