"""One call to WeChat, with deadlines and retries, over a backend that moves the bytes.

The exchange itself is sans-I/O (``_exchange.py``): a request is built as plain data, a backend
sends it and returns status and body, and decoding plus the errcode mapping are pure
(``_wire.py``). Backends (:func:`create_backend` picks one):

- ``"aiohttp"`` (the default for a client the SDK creates itself): aiohttp's ``ClientSession``
  used directly (``_aiohttp_backend.py``);
- ``"httpx"``: httpx's own pool laid out as small pools of 4 connections (``_httpx_backend.py``),
  the same backend that sends through a caller's ``httpx.AsyncClient``.

Every call has two deadlines (``_deadline.py``): one per attempt, one for the whole call; a
self-created client also queues calls for a free connection here, so that the wait counts against
the call and not the attempt.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Final, Literal, get_args

import httpx

from . import _log_redaction  # noqa: F401 - installs the filter on httpx's loggers
from ._aiohttp_backend import AiohttpBackend
from ._deadline import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_TIMEOUT,
    AttemptDeadlines,
    CallDeadline,
    Progress,
    Stopped,
    attempt_seconds,
    check_seconds,
)
from ._errors import (
    InvalidArgumentError,
    MinuteQuotaExceededError,
    QuotaExceededError,
    ResponseFormatError,
    TransportError,
    WxPrivacyError,
)
from ._exchange import Answer, Backend, ExchangeError, Request, build_request
from ._httpx_backend import MAX_CONNECTIONS, HttpxBackend, ShardedTransport, sharded_http_client
from ._loops import running_loop
from ._ratelimit import RateLimiter
from ._redact import carries_credentials
from ._retry import RetryPolicy, is_retryable
from ._slots import Slots
from ._wire import decode_response

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TRANSPORT",
    "MAX_CONNECTIONS",
    "ShardedTransport",
    "Transport",
    "WireClient",
    "create_backend",
    "late_error",
]

Transport = Literal["aiohttp", "httpx"]
"""The HTTP machinery of the client a ComponentClient creates for itself."""
DEFAULT_TRANSPORT: Final[Transport] = "aiohttp"


def create_backend(
    transport: Transport = DEFAULT_TRANSPORT,
    *,
    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> Backend:
    """Build the backend a client owns when the caller passes no ``http_client``.

    Args:
        transport: ``"aiohttp"`` (aiohttp's session used directly, the default) or ``"httpx"``
            (httpx's own pool split into pools of 4 connections); see the module docstring.
        timeout: seconds, or an ``httpx.Timeout`` whose parts bound each connect and read (the
            whole attempt is bounded by :class:`WireClient`).
        max_connections: connections the backend keeps open at most.

    Raises:
        InvalidArgumentError: an unknown ``transport``, or a ``timeout`` that is not a finite
            number of seconds above zero.
    """
    attempt_seconds(timeout)
    if transport == "aiohttp":
        return AiohttpBackend(timeout, max_connections)
    if transport == "httpx":
        return HttpxBackend(sharded_http_client(timeout, max_connections), owned=True)
    raise InvalidArgumentError(
        f"transport must be one of {', '.join(map(repr, get_args(Transport)))}, got {transport!r}"
    )


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
        backend: what moves the bytes (``_exchange.Backend``; closed here only if it owns
            what it sends with).
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
        backend: Backend,
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
        self.backend = backend
        self.limiter = limiter
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.attempt_timeout = attempt_seconds(timeout)
        self.call_timeout = check_seconds("call_timeout", call_timeout)
        if max_connections is not None and max_connections < 1:
            raise InvalidArgumentError(f"max_connections must be >= 1, got {max_connections!r}")
        self._gate = Slots(max_connections) if max_connections else None
        self._clock = clock
        self._sleep = sleep
        self.timer = timer
        self._stopping: set[asyncio.Task[Answer]] = set()
        self._isolated: dict[asyncio.Task[Answer], Progress] = {}  # exchanges in tasks of their own
        self._attempts = AttemptDeadlines()

    def call(
        self,
        method: str,
        endpoint: str,
        *,
        token: tuple[str, str] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        idempotent: bool = True,
        waited: float = 0.0,
        authorizer_appid: str | None = None,
    ) -> Coroutine[Any, Any, dict[str, Any]]:
        """Send one request (retrying transient failures) and return the JSON object.

        Args:
            method: ``"POST"`` or ``"GET"``.
            endpoint: the WeChat path, e.g. ``/cgi-bin/component/getprivacysetting``.
            token: ``(query_name, value)`` such as ``("access_token", "...")``.
            content: a UTF-8 JSON body (sent with ``Content-Type: application/json``).
            files: multipart files, for uploads.
            idempotent: ``False`` when a re-send could create a duplicate.
            waited: seconds the call already waited in line (they count against
                ``call_timeout``).
            authorizer_appid: the authorizer the call is made for (its token), whose own daily
                quota a 45009 names; ``None`` for the component's calls.

        Raises:
            TransportError: network failure or HTTP 5xx/429 after all attempts; a deadline
                passed (``timeout`` for the last attempt, or ``call_timeout``).
            ResponseFormatError: the answer is not a well-formed WeChat response.
            WeChatAPIError: WeChat answered with a non-zero errcode.
        """
        name, value = (None, "") if token is None else token
        return self.call_with(
            value, name, method, endpoint, content, files, idempotent, waited, authorizer_appid
        )

    def call_with(
        self,
        token: str,
        token_name: str | None,
        method: str,
        endpoint: str,
        content: bytes | None,
        files: Mapping[str, Any] | None,
        idempotent: bool,
        waited: float,
        authorizer_appid: str | None,
    ) -> Coroutine[Any, Any, dict[str, Any]]:
        """:meth:`call`, the token's value first and every argument positional: what the
        token manager calls with the token it holds (no closure per call). ``token_name``
        ``None`` sends no token."""
        request = build_request(
            method,
            self.base_url + endpoint,
            token=None if token_name is None else (token_name, token),
            content=content,
            files=files,
        )
        deadline = CallDeadline(self.call_timeout, self.timer)
        if waited:
            deadline.at -= waited
        return self._once(request, endpoint, deadline, authorizer_appid, idempotent, True)

    async def _once(
        self,
        request: Request,
        endpoint: str,
        deadline: CallDeadline,
        authorizer_appid: str | None = None,
        idempotent: bool = True,
        first: bool = False,
    ) -> dict[str, Any]:
        """One attempt: the rate limit, a connection slot, the exchange, the decoded answer.

        The ``first`` attempt runs outside tenacity (building its controller costs more than a
        parse), and each coroutine a call awaits through costs about a microsecond on every
        resumption, so the usual case (a free slot, a backend safe to cancel) runs the exchange
        from here; a retryable failure of the first attempt is then replayed as tenacity's
        first attempt (:meth:`_retried`), so waits, log lines and the attempt count are exactly
        the policy's.
        """
        try:
            limiter = self.limiter
            if limiter is not None and not limiter.idle(endpoint):
                started = self.timer()
                await limiter.acquire(endpoint, authorizer_appid)
                deadline.at += self.timer() - started  # the client's own pacing does not count
            left = self._take_free_slot(endpoint, deadline)
            if left is None or self.backend.isolate:
                answer = await self._answer(request, endpoint, deadline, left)
            else:
                try:
                    answer = await self._exchange_direct(request, endpoint, deadline, left)
                except ExchangeError as exc:
                    raise self._failed(exc, endpoint, deadline) from None
                deadline.maybe_sent = True
            try:
                return decode_response(
                    answer.status, answer.body, endpoint=endpoint, now=self._clock()
                )
            except MinuteQuotaExceededError as exc:
                if limiter is not None:
                    await limiter.pause(endpoint, exc.retry_at)
                raise
            except QuotaExceededError:
                if limiter is not None:
                    await limiter.block_for_the_day(endpoint, authorizer_appid)
                raise
        except WxPrivacyError as exc:
            if not first or self.retry.max_attempts == 1:
                raise
            if not is_retryable(exc, idempotent=idempotent):
                raise
            failed = exc
        return await self._retried(
            failed, request, endpoint, deadline, authorizer_appid, idempotent
        )

    async def _retried(
        self,
        failed: WxPrivacyError,
        request: Request,
        endpoint: str,
        deadline: CallDeadline,
        authorizer_appid: str | None,
        idempotent: bool,
    ) -> dict[str, Any]:
        """The attempts after a first one that ``failed`` retryably, by the retry policy."""
        first: WxPrivacyError | None = failed
        retrying = self.retry.retrying(
            endpoint=endpoint, idempotent=idempotent, sleep=self._sleep, left=deadline.remaining
        )
        async for attempt in retrying:
            with attempt:
                if first is not None:
                    replayed, first = first, None
                    raise replayed
                return await self._once(request, endpoint, deadline, authorizer_appid)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def probe(self, path: str = "/") -> tuple[Answer, float, float]:
        """Send one ``GET {base_url}{path}`` (no token, no retry) and return the raw answer.

        What ``wxprivacy doctor`` measures the round trip and the clock offset with (the answer's
        ``Date`` header); any status counts as an answer.

        Returns:
            ``(answer, sent_at, received_at)``, the two times in Unix seconds (the client's
            clock).

        Raises:
            TransportError: no answer within ``timeout`` / ``call_timeout``.
            ResponseFormatError: the answer could not be read.
        """
        request = build_request("GET", self.base_url + path)
        deadline = CallDeadline(self.call_timeout, self.timer)
        sent_at = self._clock()
        answer = await self._answer(request, path, deadline, self._take_free_slot(path, deadline))
        return answer, sent_at, self._clock()

    async def _answer(
        self, request: Request, endpoint: str, deadline: CallDeadline, left: float | None
    ) -> Answer:
        """One exchange within the attempt's and the call's deadline, its failures mapped to the
        SDK's errors (not decoded): for :meth:`probe`, and for :meth:`_once` when the call must
        wait for a connection slot (``left`` is ``None``; else the slot is taken and ``left``
        seconds remain) or the backend is not safe to cancel at any point: over httpcore the
        exchange runs in a task of its own, so that a deadline can stop it without cancelling
        httpcore where that would strand a connection (:meth:`_stop`).
        """
        if left is None:
            left = await self._wait_for_slot(endpoint, deadline)
        try:
            if self.backend.isolate:
                answer = await self._exchange_isolated(request, endpoint, deadline, left)
            else:
                answer = await self._exchange_direct(request, endpoint, deadline, left)
        except ExchangeError as exc:
            raise self._failed(exc, endpoint, deadline) from None
        deadline.maybe_sent = True
        return answer

    @staticmethod
    def _failed(exc: ExchangeError, endpoint: str, deadline: CallDeadline) -> WxPrivacyError:
        """The SDK's error for an exchange that failed (raise it ``from None``)."""
        if carries_credentials(endpoint) and exc.maybe_sent:
            # an HTTP library may quote what it received: from here that holds credentials
            exc.detail = f"{exc.kind} (not shown: answers from this endpoint may carry credentials)"
        if exc.unreadable:
            deadline.maybe_sent = True
            return ResponseFormatError(
                f"could not read the response from {endpoint}: {exc.detail}", endpoint=endpoint
            )
        if not exc.maybe_sent:
            return TransportError(
                f"could not connect for {endpoint}: {exc.detail}",
                endpoint=endpoint,
                maybe_sent=False,
            )
        deadline.maybe_sent = True
        return TransportError(f"request to {endpoint} failed: {exc.detail}", endpoint=endpoint)

    async def _exchange_isolated(
        self, request: Request, endpoint: str, deadline: CallDeadline, left: float
    ) -> Answer:
        """The exchange of :meth:`_once` over httpcore: in its own task, stopped with care.

        The slot taken by :meth:`_once` is released when the task ends.
        """
        gate = self._gate
        progress = Progress()
        send = self.backend.send(request, progress)
        try:
            task = asyncio.get_running_loop().create_task(send)
        except BaseException:
            send.close()
            if gate is not None:
                gate.release()
            raise
        if gate is not None:
            task.add_done_callback(lambda _task: gate.release())
        self._isolated[task] = progress
        task.add_done_callback(self._isolated.pop)
        attempt = self.attempt_timeout
        by_call = attempt is None or left <= attempt
        # A caller's httpcore pool may queue the request: the attempt's clock starts once the
        # request holds a connection; until then only the call's deadline runs.
        later = not by_call and gate is None
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
                return await asyncio.shield(task)
        except TimeoutError:
            if not scope.expired():
                raise  # the exchange's own error, not the deadline
            if task.done() and not task.cancelled():
                return task.result()  # finished as the deadline passed
            self._stop(task, progress)
            raise self._expired(endpoint, deadline, progress, by_call) from None
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and current is not None and not current.cancelling():
                raise _stopped_error(endpoint) from None  # aclose() stopped it, not the caller
            self._stop(task, progress)  # the caller was cancelled: the exchange ends too
            raise
        except Stopped:
            raise _stopped_error(endpoint) from None
        finally:
            progress.on_held = None

    async def _exchange_direct(
        self, request: Request, endpoint: str, deadline: CallDeadline, left: float
    ) -> Answer:
        """The exchange of :meth:`_once` for a backend that is safe to cancel at any point (the
        hot path).

        The attempt's deadline is kept with every other attempt's by one timer
        (:class:`AttemptDeadlines`, which cancels the task when it passes); that cancellation,
        and only that one, becomes the attempt's timeout error, as ``asyncio.timeout`` decides
        it. A call's own deadline closer than the attempt's is kept by ``asyncio.timeout``
        (:meth:`_exchange_scoped`). The slot taken by :meth:`_once` is released here.
        """
        attempt = self.attempt_timeout
        progress = Progress()
        if attempt is not None and left > attempt:
            loop = running_loop()
            task = asyncio.current_task(loop)
            assert task is not None
            if self._attempts.watch(progress, task, loop.time() + attempt, loop):
                cancelling = task.cancelling()
                try:
                    return await self.backend.send(request, progress)
                except asyncio.CancelledError:
                    if progress.expired:
                        progress.expired = False
                        if task.uncancel() <= cancelling:
                            raise self._expired(endpoint, deadline, progress, False) from None
                    raise
                finally:
                    if progress.expired:  # expired as it ended otherwise: take the cancel back
                        task.uncancel()
                    self._attempts.release(progress)
                    self._after_exchange(progress)
        return await self._exchange_scoped(request, endpoint, deadline, left, progress)

    async def _exchange_scoped(
        self,
        request: Request,
        endpoint: str,
        deadline: CallDeadline,
        left: float,
        progress: Progress,
    ) -> Answer:
        """:meth:`_exchange_direct` within ``asyncio.timeout``: for the call's deadline, or an
        attempt deadline earlier than one :class:`AttemptDeadlines` keeps already."""
        attempt = self.attempt_timeout
        by_call = attempt is None or left <= attempt
        scope = asyncio.timeout(left if by_call else attempt)
        try:
            async with scope:
                return await self.backend.send(request, progress)
        except TimeoutError:
            if not scope.expired():
                raise  # the exchange's own error, not the deadline
            raise self._expired(endpoint, deadline, progress, by_call) from None
        finally:
            self._after_exchange(progress)

    def _after_exchange(self, progress: Progress) -> None:
        """Release the connection slot taken by :meth:`_once`; switch to the isolated path
        when a caller's transport turned out to be httpcore."""
        if self._gate is not None:
            self._gate.release()
        if progress.httpcore:
            self.backend.isolate = self.backend.reports = True

    def _take_free_slot(self, endpoint: str, deadline: CallDeadline) -> float | None:
        """Take a free connection slot without waiting; return the seconds left, or ``None``
        when the call must wait for a slot (:meth:`_wait_for_slot`)."""
        left = deadline.remaining()
        if left <= 0:
            what = f"call_timeout={deadline.seconds:g} s passed"
            raise late_error(endpoint, what, maybe_sent=deadline.maybe_sent)
        gate = self._gate
        if gate is None or gate.try_take():
            return left
        return None

    async def _wait_for_slot(self, endpoint: str, deadline: CallDeadline) -> float:
        """Wait for a connection slot, first come first served; return the seconds left.

        The wait counts against the call's deadline only.
        """
        gate = self._gate
        assert gate is not None
        waited = f"call_timeout={deadline.seconds:g} s passed waiting for a free connection"
        waiter = gate.waiter()
        try:
            async with asyncio.timeout(deadline.remaining()):
                await waiter
        except BaseException as exc:
            gate.abandon(waiter)
            if not isinstance(exc, TimeoutError):
                raise
            raise late_error(endpoint, waited, maybe_sent=deadline.maybe_sent) from None
        left = deadline.remaining()
        if left <= 0:  # the slot came as the deadline passed: no attempt starts
            gate.release()
            raise late_error(endpoint, waited, maybe_sent=deadline.maybe_sent)
        return left

    def _expired(
        self, endpoint: str, deadline: CallDeadline, progress: Progress, by_call: bool
    ) -> TransportError:
        """The error for an exchange whose deadline passed: which deadline, and how far it got."""
        reports = self.backend.reports or progress.httpcore
        sent = progress.sent if reports else True  # a transport that reports nothing: maybe
        deadline.maybe_sent |= sent
        if by_call and reports and not progress.held:
            what = f"call_timeout={deadline.seconds:g} s passed waiting for a free connection"
        elif by_call:
            what = f"call_timeout={deadline.seconds:g} s passed before the answer was complete"
        else:
            what = f"no complete answer within timeout={self.attempt_timeout:g} s (one attempt)"
        return late_error(endpoint, what, maybe_sent=sent)

    async def aclose(self, *, settle: float = 1.0) -> None:
        """Stop the exchanges running in tasks of their own (httpcore), let them reach their
        end (up to ``settle`` seconds), then close the backend: an httpcore exchange still
        running when the pool closed would leave its connection open for good."""
        for task, progress in list(self._isolated.items()):
            self._stop(task, progress)  # where httpcore cleans up after it
        if self._stopping:
            await asyncio.wait(set(self._stopping), timeout=settle)
        self._attempts.close()  # no timer of a closed client left on the loop
        await self.backend.aclose()

    def _stop(self, task: asyncio.Task[Answer], progress: Progress) -> None:
        """End an exchange whose deadline passed, leaving the connection pool whole.

        httpcore strands a connection when a request is cancelled between being given it and
        starting to use it; at such a moment the exchange is told to stop at its next step
        instead (it raises there, inside httpcore's clean-up). Otherwise it is cancelled.
        """
        if task.done():
            return
        if (self.backend.isolate or progress.httpcore) and not progress.safe:
            progress.stop = True
        else:
            task.cancel()
        self._stopping.add(task)
        task.add_done_callback(self._stopped)

    def _stopped(self, task: asyncio.Task[Answer]) -> None:
        self._stopping.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: nobody awaits a stopped exchange


def _stopped_error(endpoint: str) -> TransportError:
    """The error of a call whose exchange aclose() stopped (the client turns it into
    ClientClosedError)."""
    return TransportError(
        f"request to {endpoint} failed: the exchange was stopped (the client is closing)",
        endpoint=endpoint,
    )


def late_error(endpoint: str, what: str, *, maybe_sent: bool) -> TransportError:
    """The error for a deadline that passed: ``what`` says which, and when."""
    return TransportError(
        f"request to {endpoint} failed: Timeout: {what}", endpoint=endpoint, maybe_sent=maybe_sent
    )
