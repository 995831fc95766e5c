"""An httpx transport that delivers chosen answers late: WeChat has already acted on the request
(rotated a refresh token, say), but the caller hears of it only after a delay."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import httpx

Plan = Callable[[str, int], float]
"""``plan(path, n)``: seconds to hold back the answer to the ``n``-th request (from 1) to path."""


class LateAnswers(httpx.AsyncBaseTransport):
    """Wrap ``inner``; hold back each answer for ``plan(path, n)`` seconds after it is made."""

    def __init__(self, inner: httpx.AsyncBaseTransport, plan: Plan) -> None:
        self._inner = inner
        self._plan = plan
        self.seen: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.seen[path] += 1
        delay = self._plan(path, self.seen[path])
        response = await self._inner.handle_async_request(request)
        if delay > 0:
            await response.aread()
            await asyncio.sleep(delay)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def first_late(path: str, delay: float) -> Plan:
    """A plan that holds back only the first answer to ``path``."""
    return lambda p, n: delay if (p == path and n == 1) else 0.0
