"""The httpx backend: exchanges over an ``httpx.AsyncClient``, the caller's or the sharded pool.

Used for a caller-owned ``http_client`` (so ``httpx.MockTransport``, respx and any transport of
the caller's keep working) and for ``transport="httpx"``, httpx's own pool (httpcore) laid out as
small pools of 4 connections (25 for the default 100) with each request sent to the least busy
one: httpcore rescans
every connection of a pool for every queued request (encode/httpx#3215), so one pool of 64
connections collapses at 64 requests in flight; pools of 4 keep each scan short
(``benchmarks/bench_throughput.py`` has the figures).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Final

import httpx

from ._deadline import Progress
from ._errors import InvalidArgumentError
from ._exchange import (
    MAX_ANSWER_BYTES,
    Answer,
    ExchangeError,
    Request,
    answer_too_large,
    connect_detail,
    plain_and_small,
)
from ._redact import redact

__all__ = [
    "KEEPALIVE_EXPIRY",
    "MAX_CONNECTIONS",
    "PER_SHARD",
    "SHARDS",
    "HttpxBackend",
    "ShardedTransport",
    "sharded_http_client",
    "uses_httpcore",
]

MAX_CONNECTIONS: Final = 100
"""Connections a self-created client keeps open at most by default (both transports; aiohttp's
own default too)."""
KEEPALIVE_EXPIRY: Final = 30.0
"""Seconds an idle connection stays open (WeChat's gateways keep idle connections ~60 s)."""
PER_SHARD: Final = 4
"""Connections per pool of the ``"httpx"`` layout."""
SHARDS: Final = 16
"""Pools of a :class:`ShardedTransport` built without arguments."""


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that calls ``release`` once when closed (counts requests per shard)."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class ShardedTransport(httpx.AsyncBaseTransport):
    """httpx's own transport split into several small connection pools.

    Each request goes to the pool with the fewest requests in flight (body not yet closed), so
    with ``shards * connections_per_shard`` requests in flight no pool queues, and when more are
    in flight the queues stay short.

    Args:
        shards: how many pools (>= 1).
        connections_per_shard: connections each pool keeps open at most (>= 1).
        keepalive_expiry: seconds an idle connection stays open.
        **kwargs: passed to every ``httpx.AsyncHTTPTransport`` (``verify``, ``http2``, ...);
            one SSL context is built from ``verify``/``cert``/``trust_env`` and shared.

    Raises:
        InvalidArgumentError: ``shards`` or ``connections_per_shard`` below 1.
    """

    def __init__(
        self,
        shards: int = SHARDS,
        connections_per_shard: int = PER_SHARD,
        *,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
        **kwargs: Any,
    ) -> None:
        if shards < 1 or connections_per_shard < 1:
            raise InvalidArgumentError("shards and connections_per_shard must be >= 1")
        limits = httpx.Limits(
            max_connections=connections_per_shard,
            max_keepalive_connections=connections_per_shard,
            keepalive_expiry=keepalive_expiry,
        )
        ssl_context = httpx.create_ssl_context(
            verify=kwargs.pop("verify", True),
            cert=kwargs.pop("cert", None),
            trust_env=kwargs.pop("trust_env", True),
        )
        self._pools = [
            httpx.AsyncHTTPTransport(limits=limits, verify=ssl_context, **kwargs)
            for _ in range(shards)
        ]
        self._in_flight = [0] * shards

    @property
    def in_flight(self) -> list[int]:
        """Requests in flight per pool (sent, body not yet closed)."""
        return list(self._in_flight)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the least busy pool."""
        in_flight = self._in_flight
        index = in_flight.index(min(in_flight))
        in_flight[index] += 1

        def release() -> None:
            in_flight[index] -= 1

        try:
            response = await self._pools[index].handle_async_request(request)
        except BaseException:
            release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, release),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        """Close every pool."""
        for pool in self._pools:
            await pool.aclose()


def sharded_http_client(
    timeout: float | httpx.Timeout, max_connections: int = MAX_CONNECTIONS
) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` of ``transport="httpx"``: :class:`ShardedTransport` underneath,
    ``ceil(max_connections / 4)`` pools of at most 4 connections.

    Args:
        timeout: seconds, the bound httpx puts on each connect, read, write and pool wait (the
            whole attempt is bounded by the wire client), or an ``httpx.Timeout``.
        max_connections: connections in all (>= 1).

    WeChat's APIs take no cookies: the client keeps none (a jar whose policy allows no
    domain), so none set in one authorizer's answer is sent with another's request, as with
    the aiohttp backend.
    """
    per_shard = min(PER_SHARD, max_connections)
    shards = -(-max_connections // per_shard)
    return httpx.AsyncClient(
        transport=ShardedTransport(shards, per_shard),
        timeout=timeout,
        cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
    )


def uses_httpcore(http: httpx.AsyncClient) -> bool:
    """Whether ``http`` sends through httpx's own pool (httpcore), as far as can be seen.

    Reads httpx's private ``_transport`` and ``_mounts`` defensively; a transport that wraps
    httpcore out of sight is recognised by the first progress it reports.
    """
    transports = [getattr(http, "_transport", None), *getattr(http, "_mounts", {}).values()]
    return any(isinstance(t, httpx.AsyncHTTPTransport | ShardedTransport) for t in transports)


def _is_aiohttp_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of aiohttp's client errors (a caller's httpx-aiohttp transport)."""
    return any(
        klass.__module__.startswith("aiohttp") and klass.__name__ == "ClientError"
        for klass in type(exc).__mro__
    )


def _proves_not_sent(exc: httpx.TransportError) -> bool:
    """Whether a transport error proves the request never reached the server.

    httpx-aiohttp (a caller may use it) maps every aiohttp connection error, a server disconnect
    after the request was written included, to ``httpx.ConnectTimeout``; only aiohttp's connect
    failures prove it.
    """
    if not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return False
    cause = exc.__cause__
    if cause is None or not type(cause).__module__.startswith("aiohttp"):
        return True
    names = {klass.__name__ for klass in type(cause).__mro__}
    return bool(names & {"ClientConnectorError", "ConnectionTimeoutError"})


async def _read_bounded(response: httpx.Response) -> bytes:
    """The whole body, at most :data:`MAX_ANSWER_BYTES` after decompression.

    Raises:
        ExchangeError: the answer is larger (unreadable: not retried).
    """
    length = response.headers.get("Content-Length")
    known = int(length) if length is not None and length.isdigit() else None
    if plain_and_small(response.headers, known):
        return await response.aread()
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise answer_too_large()
    return bytes(body)


def _detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {redact(str(exc))}"


class HttpxBackend:
    """Exchanges over an ``httpx.AsyncClient`` (see the module docstring).

    Args:
        http: the client to send with.
        owned: whether this backend closes ``http`` in :meth:`aclose` (the client created it).
    """

    __slots__ = ("http", "isolate", "owned", "reports")

    def __init__(self, http: httpx.AsyncClient, *, owned: bool) -> None:
        self.http = http
        self.owned = owned
        self.isolate = uses_httpcore(http)
        self.reports = self.isolate

    @property
    def is_closed(self) -> bool:
        """Whether the httpx client is closed."""
        return self.http.is_closed

    async def aclose(self) -> None:
        """Close the httpx client if this backend owns it."""
        if self.owned:
            await self.http.aclose()

    async def send(self, request: Request, progress: Progress) -> Answer:
        """Send ``request`` with httpx and read the whole answer.

        Raises:
            ExchangeError: httpx's transport and protocol errors (and aiohttp's, from a caller's
                httpx-aiohttp transport), with whether the request may have been sent.
        """
        try:
            built = self.http.build_request(
                request.method,
                request.url,
                content=request.body,
                headers=request.headers,
                extensions={"trace": progress.httpcore_trace},
            )
            response = await self.http.send(built, stream=True)
            try:
                body = await _read_bounded(response)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            if _proves_not_sent(exc):
                detail = connect_detail(exc, request.url)
                raise ExchangeError(detail, maybe_sent=False) from None
            raise ExchangeError(_detail(exc), maybe_sent=True) from None
        except httpx.HTTPError as exc:
            # DecodingError (a body that contradicts its Content-Encoding), TooManyRedirects, ...
            raise ExchangeError(_detail(exc), maybe_sent=True, unreadable=True) from None
        except Exception as exc:
            if not _is_aiohttp_error(exc):
                raise
            # httpx-aiohttp lets some aiohttp errors through unmapped (a malformed status line,
            # duplicate Content-Length).
            raise ExchangeError(_detail(exc), maybe_sent=True) from None
        return Answer(response.status_code, body, response.headers)
