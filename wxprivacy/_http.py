"""One HTTP exchange with WeChat, with retries: the only module that touches httpx's API.

Also builds the ``httpx.AsyncClient`` a :class:`~wxprivacy.ComponentClient` owns, over one of two
transports (``benchmarks/bench_throughput.py`` has the figures behind the choice):

- ``"aiohttp"`` (the default): httpx's API over aiohttp's connection pool (``httpx-aiohttp``).
  aiohttp hands a free connection to a waiting request in constant time, so many requests in
  flight cost no more per request than a few.
- ``"httpx"``: httpx's own pool (httpcore), laid out as 16 small pools of 4 connections with each
  request sent to the least busy one. httpcore rescans every connection of a pool for every queued
  request (encode/httpx#3215), so one pool of 64 connections collapses at 64 requests in flight;
  16 pools of 4 keep each scan short.

Every call has two deadlines (``_deadline.py``): one per attempt, one for the whole call; a
self-created client also queues calls for a free connection here, so that the wait counts against
the call and not the attempt.

Also installs a logging filter on the ``httpx`` logger: httpx logs every request URL at INFO,
and WeChat puts access tokens in the query string.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Final, Literal, get_args
from urllib.parse import quote

import httpx

from ._deadline import (
    CURRENT,
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_TIMEOUT,
    CallDeadline,
    Progress,
    aiohttp_trace_config,
    attempt_seconds,
    check_seconds,
)
from ._errors import (
    InvalidArgumentError,
    MinuteQuotaExceededError,
    ResponseFormatError,
    TransportError,
    WxPrivacyError,
)
from ._ratelimit import RateLimiter
from ._redact import redact
from ._retry import RetryPolicy, is_retryable
from ._wire import decode_response

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TRANSPORT",
    "JSON_HEADERS",
    "ShardedTransport",
    "Transport",
    "WireClient",
    "create_http_client",
    "uses_httpcore",
]

JSON_HEADERS: Final = {"Content-Type": "application/json; charset=utf-8"}

Transport = Literal["aiohttp", "httpx"]
"""The HTTP machinery under the ``httpx.AsyncClient`` a client creates for itself."""
DEFAULT_TRANSPORT: Final[Transport] = "aiohttp"
MAX_CONNECTIONS: Final = 64
"""Connections a self-created client keeps open at most (both transports)."""
KEEPALIVE_EXPIRY: Final = 30.0
"""Seconds an idle connection stays open (WeChat's gateways keep idle connections ~60 s)."""
SHARDS: Final = 16
"""Pools of the ``"httpx"`` layout (each holds ``MAX_CONNECTIONS // SHARDS`` connections)."""


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
        connections_per_shard: int = MAX_CONNECTIONS // SHARDS,
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


def create_http_client(
    transport: Transport = DEFAULT_TRANSPORT, *, timeout: float | httpx.Timeout = DEFAULT_TIMEOUT
) -> httpx.AsyncClient:
    """Build the ``httpx.AsyncClient`` a client owns when the caller passes none.

    Args:
        transport: ``"aiohttp"`` (httpx-aiohttp, the default) or ``"httpx"`` (httpx's own pool
            split into :data:`SHARDS` small pools); see the module docstring.
        timeout: seconds, the bound httpx puts on each connect, read, write and pool wait (the
            whole attempt is bounded by :class:`WireClient`); or an ``httpx.Timeout``.

    Raises:
        InvalidArgumentError: an unknown ``transport``, a ``timeout`` that is not a finite
            number of seconds above zero, or ``"aiohttp"`` without httpx-aiohttp installed
            (``pip install wxprivacy[aiohttp]``).
    """
    attempt_seconds(timeout)
    if transport == "aiohttp":
        try:
            from httpx_aiohttp import AiohttpTransport
        except ModuleNotFoundError:
            raise InvalidArgumentError(
                "transport='aiohttp' needs httpx-aiohttp: pip install 'wxprivacy[aiohttp]', "
                "or pass transport='httpx'"
            ) from None
        aiohttp_transport = AiohttpTransport()
        aiohttp_transport.client = _AiohttpSession(aiohttp_transport.ssl_context)
        return httpx.AsyncClient(transport=aiohttp_transport, timeout=timeout)
    if transport == "httpx":
        return httpx.AsyncClient(transport=ShardedTransport(), timeout=timeout)
    raise InvalidArgumentError(
        f"transport must be one of {', '.join(map(repr, get_args(Transport)))}, got {transport!r}"
    )


class _AiohttpSession:
    """Builds the aiohttp session under a self-created ``"aiohttp"`` client (on first use).

    What httpx-aiohttp would build from ``httpx.Limits(MAX_CONNECTIONS, keepalive_expiry=...)``
    and the transport's SSL context, plus the trace hooks that report each exchange's progress
    (see ``_deadline.py``).
    """

    def __init__(self, ssl_context: Any) -> None:
        self._ssl_context = ssl_context

    def __call__(self) -> Any:
        import aiohttp

        connector = aiohttp.TCPConnector(
            limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_EXPIRY, ssl=self._ssl_context
        )
        return aiohttp.ClientSession(connector=connector, trace_configs=[aiohttp_trace_config()])


def _reports_via_aiohttp(http: httpx.AsyncClient) -> bool:
    """Whether ``http`` is a self-created ``"aiohttp"`` client, not used yet (it reports)."""
    return isinstance(getattr(getattr(http, "_transport", None), "client", None), _AiohttpSession)


def uses_httpcore(http: httpx.AsyncClient) -> bool:
    """Whether ``http`` sends through httpx's own pool (httpcore), as far as can be seen.

    Reads httpx's private ``_transport`` and ``_mounts`` defensively; a transport that wraps
    httpcore out of sight is recognised by the first progress it reports.
    """
    transports = [getattr(http, "_transport", None), *getattr(http, "_mounts", {}).values()]
    return any(isinstance(t, httpx.AsyncHTTPTransport | ShardedTransport) for t in transports)


def _is_aiohttp_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of aiohttp's client errors (without importing aiohttp here)."""
    return any(
        klass.__module__.startswith("aiohttp") and klass.__name__ == "ClientError"
        for klass in type(exc).__mro__
    )


def _proves_not_sent(exc: httpx.TransportError) -> bool:
    """Whether a transport error proves the request never reached the server.

    httpx-aiohttp maps every aiohttp connection error (a server disconnect after the request was
    written included) to ``httpx.ConnectTimeout``; only aiohttp's connect failures prove it.
    """
    if not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return False
    cause = exc.__cause__
    if cause is None or not type(cause).__module__.startswith("aiohttp"):
        return True
    names = {klass.__name__ for klass in type(cause).__mro__}
    return bool(names & {"ClientConnectorError", "ConnectionTimeoutError"})


class _RedactingFilter(logging.Filter):
    """Scrub token-carrying query parameters from records of the loggers it is attached to."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Redact the formatted message, not the format string: a token may be in the arguments,
        # and redacting "access_token=%s" would eat the placeholder.
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's to report, not ours
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER: Final = _RedactingFilter()


_REDACTED_LOGGERS: Final = (
    "httpx",
    "httpcore",
    # a logger's filters do not apply to its children's records: httpcore logs on these
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def install_log_redaction() -> None:
    """Attach the redacting filter to httpx's and httpcore's loggers, the child loggers httpcore
    actually logs on included (idempotent)."""
    names = set(_REDACTED_LOGGERS) | {
        name for name in logging.root.manager.loggerDict if name.startswith("httpcore.")
    }
    for name in sorted(names):
        log = logging.getLogger(name)
        if _FILTER not in log.filters:
            log.addFilter(_FILTER)


install_log_redaction()


class WireClient:
    """Sends requests to WeChat and returns decoded JSON objects, retrying per the RetryPolicy.

    Every call has two deadlines (see ``_deadline.py``): ``timeout`` seconds for each attempt
    (the whole exchange: connect, send, headers, body) and ``call_timeout`` seconds for the call
    (waiting for a connection, every attempt and the backoff between them; rate-limit waits are
    not counted). A deadline that passes ends the call with :class:`TransportError`.

    With ``max_connections`` (the client's own pool), calls queue here for one of that many
    slots, first come first served, and an attempt's clock starts once it holds a slot; the pool
    itself then never queues. Without it (a caller's client, whose pool may serve others too),
    the attempt's clock starts when the transport reports a connection for the request (httpx's
    own transport does), or when the request is handed over (transports that report nothing).

    Args:
        http_client: the ``httpx.AsyncClient`` to send with (not closed here).
        base_url: scheme and host, e.g. ``https://api.weixin.qq.com``.
        retry: the retry policy.
        clock: returns the current Unix time in seconds.
        sleep: awaitable sleep in seconds used between retries (tests pass a fake).
        limiter: awaited before every attempt (rate limits, 45011 pauses); told of every 45011.
        timeout: seconds per attempt, or an ``httpx.Timeout`` whose largest part is taken.
        call_timeout: seconds per call.
        max_connections: slots to queue for (the pool size of a self-created client), or
            ``None`` to hand every request to ``http_client`` at once.
        timer: monotonic seconds the deadlines are measured on (tests pass a fake).

    Raises:
        InvalidArgumentError: a ``timeout`` or ``call_timeout`` that is not a finite number of
            seconds above zero, or ``max_connections`` below 1.
    """

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        *,
        base_url: str,
        retry: RetryPolicy,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] | None = None,
        limiter: RateLimiter | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        max_connections: int | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http_client
        self.limiter = limiter
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.attempt_timeout = attempt_seconds(timeout)
        self.call_timeout = check_seconds("call_timeout", call_timeout)
        if max_connections is not None and max_connections < 1:
            raise InvalidArgumentError(f"max_connections must be >= 1, got {max_connections!r}")
        self._gate = asyncio.Semaphore(max_connections) if max_connections else None
        self._httpcore = uses_httpcore(http_client)
        self._reports = self._httpcore or _reports_via_aiohttp(http_client)
        self._clock = clock
        self._sleep = sleep
        self._timer = timer
        self._stopping: set[asyncio.Task[httpx.Response]] = set()

    async def call(
        self,
        method: str,
        endpoint: str,
        *,
        token: tuple[str, str] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Send one request (retrying transient failures) and return the JSON object.

        Args:
            method: ``"POST"`` or ``"GET"``.
            endpoint: the WeChat path, e.g. ``/cgi-bin/component/getprivacysetting``.
            token: ``(query_name, value)`` such as ``("access_token", "...")``.
            content: a UTF-8 JSON body (sent with ``Content-Type: application/json``).
            files: multipart files, for uploads.
            idempotent: ``False`` when a re-send could create a duplicate.

        Raises:
            TransportError: network failure or HTTP 5xx/429 after all attempts; a deadline
                passed (``timeout`` for the last attempt, or ``call_timeout``).
            ResponseFormatError: the answer is not a well-formed WeChat response.
            WeChatAPIError: WeChat answered with a non-zero errcode.
        """
        url = self.base_url + endpoint
        if token is not None:
            url = f"{url}?{token[0]}={quote(token[1], safe='')}"
        deadline = CallDeadline(self.call_timeout, self._timer)
        if self.retry.max_attempts == 1:
            return await self._once(method, url, endpoint, content, files, deadline)
        # The first attempt runs outside tenacity (building its controller costs more than a
        # parse); a retryable failure is then replayed as tenacity's first attempt, so waits,
        # log lines and the attempt count are exactly the policy's.
        try:
            return await self._once(method, url, endpoint, content, files, deadline)
        except WxPrivacyError as exc:
            if not is_retryable(exc, idempotent=idempotent):
                raise
            first: WxPrivacyError | None = exc
        retrying = self.retry.retrying(
            endpoint=endpoint, idempotent=idempotent, sleep=self._sleep, left=deadline.remaining
        )
        async for attempt in retrying:
            with attempt:
                if first is not None:
                    failed, first = first, None
                    raise failed
                return await self._once(method, url, endpoint, content, files, deadline)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _once(
        self,
        method: str,
        url: str,
        endpoint: str,
        content: bytes | None,
        files: Mapping[str, Any] | None,
        deadline: CallDeadline,
    ) -> dict[str, Any]:
        limiter = self.limiter
        if limiter is not None:
            started = self._timer()
            await limiter.acquire(endpoint)
            deadline.at += self._timer() - started  # the client's own pacing does not count
        try:
            response = await self._exchange(method, url, endpoint, content, files, deadline)
        except httpx.TransportError as exc:
            if _proves_not_sent(exc):
                raise TransportError(
                    f"could not connect for {endpoint}: {type(exc).__name__}: {redact(str(exc))}",
                    endpoint=endpoint,
                    maybe_sent=False,
                ) from None
            deadline.maybe_sent = True
            raise TransportError(
                f"request to {endpoint} failed: {type(exc).__name__}: {redact(str(exc))}",
                endpoint=endpoint,
            ) from None
        except httpx.HTTPError as exc:
            # DecodingError (a body that contradicts its Content-Encoding), TooManyRedirects, ...
            raise ResponseFormatError(
                f"could not read the response from {endpoint}: {type(exc).__name__}: "
                f"{redact(str(exc))}",
                endpoint=endpoint,
            ) from None
        except Exception as exc:
            if not _is_aiohttp_error(exc):
                raise
            # httpx-aiohttp lets some aiohttp errors through unmapped (a malformed status line,
            # duplicate Content-Length): the same typed, redacted error as httpx's protocol errors.
            deadline.maybe_sent = True
            raise TransportError(
                f"request to {endpoint} failed: {type(exc).__name__}: {redact(str(exc))}",
                endpoint=endpoint,
            ) from None
        deadline.maybe_sent = True
        try:
            return decode_response(
                response.status_code, response.content, endpoint=endpoint, now=self._clock()
            )
        except MinuteQuotaExceededError as exc:
            if limiter is not None:
                limiter.pause(endpoint, exc.retry_at.timestamp())
            raise

    async def _exchange(
        self,
        method: str,
        url: str,
        endpoint: str,
        content: bytes | None,
        files: Mapping[str, Any] | None,
        deadline: CallDeadline,
    ) -> httpx.Response:
        """Run one exchange within the attempt's and the call's deadline.

        Over httpcore the exchange runs in a task of its own, so that a deadline can stop it
        without cancelling httpcore where that would strand a connection (:meth:`_stop`).
        """
        left = await self._take_slot(endpoint, deadline)
        gate = self._gate
        progress = Progress()
        send = self._send(method, url, content, files, progress)
        task: asyncio.Task[httpx.Response] | None = None
        waiting: Awaitable[httpx.Response] = send
        if self._httpcore:
            # httpcore is not safe to cancel at every step: its own task, stopped with care.
            try:
                task = asyncio.get_running_loop().create_task(send)
            except BaseException:
                send.close()
                if gate is not None:
                    gate.release()
                raise
            if gate is not None:
                task.add_done_callback(lambda _task: gate.release())
            waiting = asyncio.shield(task)
        attempt = self.attempt_timeout
        by_call = attempt is None or left <= attempt
        # A caller's httpcore pool may queue the request: the attempt's clock starts once the
        # request holds a connection; until then only the call's deadline runs.
        later = not by_call and gate is None and task is not None
        by_call = by_call or later
        scope = asyncio.timeout(left if by_call else attempt)

        def start_clock() -> None:
            nonlocal by_call
            if attempt is not None and not scope.expired():
                call_left = deadline.remaining()
                by_call = call_left <= attempt
                scope.reschedule(asyncio.get_running_loop().time() + min(call_left, attempt))

        if later:
            progress.on_held = start_clock
        try:
            async with scope:
                return await waiting
        except TimeoutError:
            if not scope.expired():
                raise  # the exchange's own error, not the deadline
            if task is not None:
                if task.done() and not task.cancelled():
                    return task.result()  # finished as the deadline passed
                self._stop(task, progress)
            raise self._expired(endpoint, deadline, progress, by_call) from None
        except asyncio.CancelledError:
            if task is not None:
                self._stop(task, progress)  # the caller was cancelled: the exchange ends too
            raise
        finally:
            progress.on_held = None
            if task is None and gate is not None:
                gate.release()
            if progress.httpcore:
                self._httpcore = self._reports = True

    async def _take_slot(self, endpoint: str, deadline: CallDeadline) -> float:
        """Take a connection slot, if this client queues for them; return the seconds left.

        The wait counts against the call's deadline only.
        """
        left = deadline.remaining()
        if left <= 0:
            what = f"call_timeout={deadline.seconds:g} s passed"
            raise _late(endpoint, what, deadline.maybe_sent)
        gate = self._gate
        if gate is None:
            return left
        if not gate.locked():
            await gate.acquire()  # free: returns without suspending
            return left
        waited = f"call_timeout={deadline.seconds:g} s passed waiting for a free connection"
        try:
            async with asyncio.timeout(left):
                await gate.acquire()
        except TimeoutError:
            raise _late(endpoint, waited, deadline.maybe_sent) from None
        left = deadline.remaining()
        if left <= 0:  # the slot came as the deadline passed: no attempt starts
            gate.release()
            raise _late(endpoint, waited, deadline.maybe_sent)
        return left

    def _expired(
        self, endpoint: str, deadline: CallDeadline, progress: Progress, by_call: bool
    ) -> TransportError:
        """The error for an exchange whose deadline passed: which deadline, and how far it got."""
        reports = self._reports or progress.httpcore
        sent = progress.sent if reports else True  # a transport that reports nothing: maybe
        deadline.maybe_sent |= sent
        if by_call and reports and not progress.held:
            what = f"call_timeout={deadline.seconds:g} s passed waiting for a free connection"
        elif by_call:
            what = f"call_timeout={deadline.seconds:g} s passed before the answer was complete"
        else:
            what = f"no complete answer within timeout={self.attempt_timeout:g} s (one attempt)"
        return _late(endpoint, what, sent)

    async def _send(
        self,
        method: str,
        url: str,
        content: bytes | None,
        files: Mapping[str, Any] | None,
        progress: Progress,
    ) -> httpx.Response:
        current = CURRENT.set(progress)  # read by aiohttp's trace hooks
        extensions = {"trace": progress.httpcore_trace}
        try:
            if files is not None:
                return await self.http.request(method, url, files=files, extensions=extensions)
            if content is not None:
                return await self.http.request(
                    method, url, content=content, headers=JSON_HEADERS, extensions=extensions
                )
            return await self.http.request(method, url, extensions=extensions)
        finally:
            CURRENT.reset(current)

    def _stop(self, task: asyncio.Task[httpx.Response], progress: Progress) -> None:
        """End an exchange whose deadline passed, leaving the connection pool whole.

        httpcore strands a connection when a request is cancelled between being given it and
        starting to use it; at such a moment the exchange is told to stop at its next step
        instead (it raises there, inside httpcore's clean-up). Otherwise it is cancelled.
        """
        if task.done():
            return
        if (self._httpcore or progress.httpcore) and not progress.safe:
            progress.stop = True
        else:
            task.cancel()
        self._stopping.add(task)
        task.add_done_callback(self._stopped)

    def _stopped(self, task: asyncio.Task[httpx.Response]) -> None:
        self._stopping.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: nobody awaits a stopped exchange


def _late(endpoint: str, what: str, maybe_sent: bool) -> TransportError:
    """The error for a deadline that passed: ``what`` says which, and when."""
    return TransportError(
        f"request to {endpoint} failed: Timeout: {what}", endpoint=endpoint, maybe_sent=maybe_sent
    )
