"""A small scripted WeChat for unit tests: counts requests and lets a test decide each answer."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from fixture_data import fixture_bytes
from transports import wire_kwargs, wire_transport

COMPONENT_APPID = "wx0000000000000000"
APPSECRET = "s3cr3t-appsecret-value"
TICKET = "ticket@@@s3cr3t-ticket"

Responder = Callable[[httpx.Request], httpx.Response | None]


class FakeWeChat:
    """Answers the token endpoints and getprivacysetting like WeChat does, with counters.

    ``script[path]`` may hold a list of callables; each request to ``path`` pops the first one
    and uses its response when it returns one (``None`` falls through to the default answer).
    """

    def __init__(self, *, delay: float = 0.0, rotate: bool = False) -> None:
        self.calls: Counter[str] = Counter()
        self.requests: list[httpx.Request] = []
        self.script: dict[str, list[Responder]] = {}
        self.delay = delay
        self.rotate = rotate
        self._seq = itertools.count(1)
        self.component_tokens: list[str] = []
        self.authorizer_tokens: dict[str, list[str]] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.privacy_body = fixture_bytes("getprivacysetting_full.json")

    def transport(self) -> httpx.AsyncBaseTransport:
        # in-process by default; over real sockets under the ``over_each_transport`` fixture
        return wire_transport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport())

    def wire(self) -> dict[str, Any]:
        """``ComponentClient`` arguments that send here, over the current backend (see
        ``transports.py``)."""
        return wire_kwargs(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls[path] += 1
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        queue = self.script.get(path)
        if queue:
            answer = queue.pop(0)(request)
            if answer is not None:
                return answer
        body = json.loads(request.content) if request.content else {}
        if path.endswith("/api_component_token"):
            token = f"ctoken-{next(self._seq)}"
            self.component_tokens.append(token)
            return _json({"component_access_token": token, "expires_in": 7200})
        if path.endswith("/api_authorizer_token"):
            appid = body["authorizer_appid"]
            token = f"atoken-{appid}-{next(self._seq)}"
            self.authorizer_tokens.setdefault(appid, []).append(token)
            refresh = body["authorizer_refresh_token"]
            if self.rotate:
                refresh = f"refresh-{appid}-{next(self._seq)}"
            self.refresh_tokens[appid] = refresh
            return _json(
                {
                    "authorizer_access_token": token,
                    "expires_in": 7200,
                    "authorizer_refresh_token": refresh,
                }
            )
        if path.endswith("/getprivacysetting"):
            return httpx.Response(200, content=self.privacy_body)
        if path.endswith("/api_get_authorizer_list"):
            return _json({"total_count": 0, "list": []})
        return httpx.Response(404, text="not found")


def _json(data: Any) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(data, ensure_ascii=False).encode())


def errcode(code: int, msg: str = "err", *, status: int = 200) -> Responder:
    """A responder that answers ``{"errcode": code, "errmsg": msg + rid}`` once."""
    return lambda _req: httpx.Response(
        status,
        content=json.dumps(
            {"errcode": code, "errmsg": f"{msg} rid: 6553f100-1a2b3c4d-5e6f7081"}
        ).encode(),
    )


def raw(status: int, body: bytes) -> Responder:
    """A responder that answers with the given status and body once."""
    return lambda _req: httpx.Response(status, content=body)


def raises(exc: Exception) -> Responder:
    """A responder that raises ``exc`` (an httpx transport error) once."""

    def respond(_req: httpx.Request) -> httpx.Response:
        raise exc

    return respond


async def no_sleep(_seconds: float) -> None:
    """Retry sleep that returns at once."""
