"""Deadlines: every attempt and every call ends on time, on every transport, leaving the pool whole.

The servers here are real (``asyncio.start_server`` on 127.0.0.1:0): they answer the token
endpoints at once and stall getprivacysetting at a chosen phase — before the headers, inside
them, inside the body (a byte every ``rate`` seconds) — or never accept the connection at all.
Each test runs over the client's own ``"aiohttp"`` and ``"httpx"`` transports and over a
caller-owned ``httpx.AsyncClient`` (``"caller"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any

import httpx
import pytest
from fixture_data import fixture_bytes

from wxprivacy import (
    ComponentClient,
    InvalidArgumentError,
    PrivacySetting,
    RetryPolicy,
    SystemBusyError,
    TransportError,
)
from wxprivacy._http import MAX_CONNECTIONS, WireClient
from wxprivacy._httpx_backend import HttpxBackend, ShardedTransport

C = "wx0000000000000000"
SECRET = "s3cr3t-appsecret-value"
APPID = "wxa000000000000000"
CT = "/cgi-bin/component/api_component_token"
AT = "/cgi-bin/component/api_authorizer_token"
GP = "/cgi-bin/component/getprivacysetting"
KINDS = ["aiohttp", "httpx", "caller"]
ONCE = RetryPolicy(max_attempts=1)
CALLER_POOL = 8
"""Connections of the caller-owned client (small, so that requests queue in its pool)."""

TOKENS = {
    CT: b'{"component_access_token": "ctoken", "expires_in": 7200}',
    AT: b'{"authorizer_access_token": "atoken", "expires_in": 7200, '
    b'"authorizer_refresh_token": "refresh"}',
}


class StallingServer:
    """HTTP/1.1 keep-alive server: token endpoints answer at once, ``stall`` paths stall.

    ``modes`` (used in turn, one per stalled request): ``"before-headers"`` (nothing is sent),
    ``"mid-headers"`` (a status line, then a header value a byte every ``rate`` seconds),
    ``"mid-body"`` (headers with ``Content-Length: 120``, then a body byte every ``rate``
    seconds), ``"answer"`` (the guideline after ``delay`` seconds).
    """

    def __init__(
        self,
        *modes: str,
        rate: float = 0.3,
        delay: float = 0.0,
        stall: tuple[str, ...] = (GP,),
    ) -> None:
        self.modes = itertools.cycle(modes or ("mid-body",))
        self.rate = rate
        self.delay = delay
        self.stall = stall
        self.requests: Counter[str] = Counter()
        self.url = ""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._arrival = asyncio.Condition()

    async def arrived(self, path: str, count: int) -> None:
        """Wait until ``count`` requests to ``path`` have arrived."""
        async with self._arrival:
            await self._arrival.wait_for(lambda: self.requests[path] >= count)

    def answer_everything(self, delay: float = 0.0) -> None:
        """From now on answer every stalled path with the guideline after ``delay`` seconds."""
        self.modes = itertools.cycle(["answer"])
        self.delay = delay

    async def __aenter__(self) -> StallingServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                path = head[0].split(" ")[1].split("?")[0]
                length = 0
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                self.requests[path] += 1
                async with self._arrival:
                    self._arrival.notify_all()
                if path in self.stall:
                    await self._stalled(next(self.modes), reader, writer)
                else:
                    body = TOKENS.get(path, b'{"errcode": 0, "errmsg": "ok"}')
                    writer.write(_head(len(body)) + body)
                    await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # closing the server: end quietly
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _stalled(
        self, mode: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if mode == "answer":
            await asyncio.sleep(self.delay)
            body = fixture_bytes("getprivacysetting_full.json")
            writer.write(_head(len(body)) + body)
            await writer.drain()
            return
        if mode == "before-headers":
            await reader.read(1)  # until the client gives up and closes
            raise OSError("client closed")
        if mode == "mid-headers":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: ")
        else:
            writer.write(_head(120))
        while True:  # never completes: 120 bytes take longer than any deadline here
            writer.write(b"a" if mode == "mid-headers" else b" ")
            await writer.drain()
            await asyncio.sleep(self.rate)


def _head(length: int) -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


@contextlib.contextmanager
def never_accepting() -> Iterator[str]:
    """A URL whose port listens but never accepts: its backlog is full, so connects hang."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(address)
            fillers.append(filler)
        yield f"http://127.0.0.1:{address[1]}"
    finally:
        for sock in [*fillers, listener]:
            sock.close()


@contextlib.asynccontextmanager
async def client_over(kind: str, url: str, **kwargs: Any) -> AsyncIterator[ComponentClient]:
    """A client of ``kind`` for ``url``, with a ticket and the authorizer's refresh token."""
    async with contextlib.AsyncExitStack() as stack:
        if kind == "caller":
            limits = httpx.Limits(max_connections=CALLER_POOL)
            http = await stack.enter_async_context(httpx.AsyncClient(limits=limits))
            client = ComponentClient(C, SECRET, base_url=url, http_client=http, **kwargs)
        else:
            client = ComponentClient(C, SECRET, base_url=url, transport=kind, **kwargs)  # type: ignore[arg-type]
        await stack.enter_async_context(client)
        await client.set_component_verify_ticket("ticket")
        await client.set_authorizer_refresh_token(APPID, "refresh")
        yield client


async def failing(call: Awaitable[object]) -> tuple[float, TransportError]:
    """Await ``call``, which must raise TransportError; return the seconds it took and the error."""
    start = time.monotonic()
    with pytest.raises(TransportError) as info:
        await call
    return time.monotonic() - start, info.value


# -- the case and its variations ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_trickling_answer_ends_at_the_attempt_deadline(kind: str) -> None:
    # 200 with Content-Length: 120, then a byte every 0.3 s: each read is quick, the whole is not
    async with StallingServer("mid-body", rate=0.3) as server:
        async with client_over(kind, server.url, timeout=1.0, retry=ONCE) as client:
            elapsed, error = await failing(client.get_privacy_setting(APPID))
    assert 0.9 < elapsed < 2.5, elapsed
    assert error.maybe_sent is True
    assert error.endpoint == GP
    assert "Timeout: no complete answer within timeout=1 s" in str(error)
    assert server.requests[GP] == 1


@pytest.mark.parametrize("phase", ["before-headers", "mid-headers", "mid-body"])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_stall_at_any_phase_ends_at_the_attempt_deadline(kind: str, phase: str) -> None:
    # the same phase at several trickle rates at once, each over its own server and client
    rates = [0.02, 0.15, 0.45]

    async def one(rate: float) -> tuple[float, TransportError]:
        async with StallingServer(phase, rate=rate) as server:
            async with client_over(kind, server.url, timeout=0.5, retry=ONCE) as client:
                return await failing(client.get_privacy_setting(APPID))

    for rate, (elapsed, error) in zip(rates, await asyncio.gather(*map(one, rates)), strict=True):
        assert 0.45 < elapsed < 1.5, (rate, elapsed)
        assert error.maybe_sent is True, rate
        assert "timeout=0.5 s" in str(error)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_connection_never_accepted_ends_at_the_deadline_unsent(kind: str) -> None:
    with never_accepting() as url:
        async with client_over(kind, url, timeout=0.5, retry=ONCE) as client:
            elapsed, error = await failing(client.get_privacy_setting(APPID))
    assert 0.45 < elapsed < 1.5, elapsed
    assert error.maybe_sent is False  # the request never left: re-sending it is safe
    assert error.endpoint == CT  # the first request of the chain is the one that hangs


@pytest.mark.parametrize("kind", KINDS)
async def test_a_trickling_token_refresh_ends_at_the_deadline(kind: str) -> None:
    # the refresh runs in a task of its own (it outlives its callers) and is bounded all the same
    async with StallingServer("mid-body", rate=0.3, stall=(AT,)) as server:
        async with client_over(kind, server.url, timeout=1.0, retry=ONCE) as client:
            elapsed, error = await failing(client.authorizer_access_token(APPID))
            assert error.endpoint == AT and error.maybe_sent is True
            # nothing was stored, and the next call tries afresh (and ends on time again)
            elapsed_again, _ = await failing(client.get_privacy_setting(APPID))
    assert 0.9 < elapsed < 2.5, elapsed
    assert 0.9 < elapsed_again < 2.5, elapsed_again
    assert server.requests[AT] == 2


# -- the call's deadline -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_the_call_deadline_cuts_a_longer_attempt_short(kind: str) -> None:
    async with StallingServer("mid-body", rate=0.1) as server:
        async with client_over(kind, server.url, timeout=5.0, call_timeout=1.0) as client:
            elapsed, error = await failing(client.get_privacy_setting(APPID))
    assert 0.9 < elapsed < 2.0, elapsed
    assert "call_timeout=1 s passed before the answer was complete" in str(error)
    assert error.maybe_sent is True
    assert server.requests[GP] == 1  # no retry starts once the call's time is up


@pytest.mark.parametrize("kind", KINDS)
async def test_the_call_deadline_spans_retries_and_backoff(kind: str) -> None:
    policy = RetryPolicy(max_attempts=20, initial_backoff=0.05, max_backoff=0.1)
    async with StallingServer("before-headers") as server:
        async with client_over(
            kind, server.url, timeout=0.3, call_timeout=1.2, retry=policy
        ) as client:
            elapsed, error = await failing(client.get_privacy_setting(APPID))
    assert 1.0 < elapsed < 2.0, elapsed
    assert 2 <= server.requests[GP] <= 4  # 0.3 s attempts and short waits: about three fit
    assert error.maybe_sent is True


async def test_a_wait_that_would_pass_the_call_deadline_is_not_started(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    sleeps: list[tuple[float, float]] = []

    async def sleep(seconds: float) -> None:
        sleeps.append((now[0], seconds))
        now[0] += seconds

    async def busy(_request: httpx.Request) -> httpx.Response:
        now[0] += 0.5  # every attempt takes half a second
        return httpx.Response(200, json={"errcode": -1, "errmsg": "system error"})

    policy = RetryPolicy(max_attempts=100, initial_backoff=1.0, max_backoff=4.0)
    async with httpx.AsyncClient(transport=httpx.MockTransport(busy)) as http:
        wire = WireClient(
            HttpxBackend(http, owned=False),
            base_url="https://api.weixin.qq.com",
            retry=policy,
            clock=time.time,
            sleep=sleep,
            timer=lambda: now[0],
            call_timeout=10.0,
        )
        with caplog.at_level(logging.WARNING, logger="wxprivacy"):
            with pytest.raises(SystemBusyError):
                await wire.call("POST", GP, content=b"{}")
    assert 1 <= len(sleeps) < 99  # stopped by the deadline, not by the attempt count
    assert all(start + wait < 10.0 for start, wait in sleeps)  # every wait ended in time
    assert now[0] < 10.5  # the last attempt started before the deadline
    gave_up = [r for r in caplog.records if r.getMessage().startswith("giving up")]
    assert len(gave_up) == 1
    _endpoint, attempt, wait, left = gave_up[0].args  # type: ignore[misc]
    assert attempt == len(sleeps) + 1
    assert wait >= left  # the wait it did not start would have ended past the deadline


async def test_no_attempt_starts_after_the_call_deadline() -> None:
    now = [0.0]

    async def slow(_request: httpx.Request) -> httpx.Response:
        now[0] += 11.0  # one attempt outlasts the call's 10 s (as a fake timer sees it)
        return httpx.Response(503)

    async def sleep(_seconds: float) -> None:
        raise AssertionError("no wait may start once the call's deadline has passed")

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as http:
        wire = WireClient(
            HttpxBackend(http, owned=False),
            base_url="https://api.weixin.qq.com",
            retry=RetryPolicy(max_attempts=5),
            clock=time.time,
            sleep=sleep,
            timer=lambda: now[0],
            call_timeout=10.0,
        )
        with pytest.raises(TransportError, match="HTTP 503"):
            await wire.call("POST", GP, content=b"{}")
    assert now[0] == 11.0  # one attempt


# -- waiting for a connection --------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_waiting_for_a_connection_counts_against_the_call_not_the_attempt(
    kind: str,
) -> None:
    # three times as many calls as connections, each answered in 0.4 s: the last round waits
    # 0.8 s for a connection, and then its 0.4 s exchange would not fit in the 1.0 s an attempt
    # may take if the wait counted against the attempt; it counts against the call instead
    # (0.6 s of slack per exchange, so a loaded 2-core machine does not fail it)
    connections = CALLER_POOL if kind == "caller" else MAX_CONNECTIONS
    async with StallingServer("answer", delay=0.4) as server:
        async with client_over(kind, server.url, timeout=1.0, retry=ONCE) as client:
            await client.authorizer_access_token(APPID)
            start = time.monotonic()
            results = await asyncio.gather(
                *(client.get_privacy_setting(APPID) for _ in range(3 * connections))
            )
            elapsed = time.monotonic() - start
    assert all(isinstance(r, PrivacySetting) for r in results)
    assert 1.1 < elapsed < 5.0, elapsed
    assert server.requests[GP] == 3 * connections


@pytest.mark.parametrize("kind", KINDS)
async def test_a_call_queued_past_its_deadline_was_not_sent(kind: str) -> None:
    # every connection is held by a call that stalls; calls queued behind them with 0.5 s each
    connections = CALLER_POOL if kind == "caller" else MAX_CONNECTIONS
    async with StallingServer("before-headers") as server:
        async with client_over(kind, server.url, retry=ONCE) as client:
            await client.authorizer_access_token(APPID)
            holders = [
                asyncio.create_task(client.get_privacy_setting(APPID)) for _ in range(connections)
            ]
            await server.arrived(GP, connections)
            client._wire.call_timeout = 0.5
            results = await asyncio.gather(
                *(failing(client.get_privacy_setting(APPID)) for _ in range(connections))
            )
            for holder in holders:
                holder.cancel()
            await asyncio.gather(*holders, return_exceptions=True)
            await asyncio.sleep(0.1)  # the queued requests a caller's pool still held are let go
            assert _stranded(client._wire.backend) == 0
    assert all(0.45 < elapsed < 1.5 for elapsed, _ in results), results
    assert all(error.maybe_sent is False for _, error in results)
    assert all("passed waiting for a free connection" in str(error) for _, error in results)
    assert server.requests[GP] == connections  # none of the queued calls reached the server


# -- the pool stays whole ------------------------------------------------------------------------


def _pools(http: httpx.AsyncClient) -> list[Any]:
    """httpcore pools under ``http`` (private attributes; the test looks inside on purpose)."""
    transport: Any = http._transport
    if isinstance(transport, ShardedTransport):
        return [pool._pool for pool in transport._pools]
    if isinstance(transport, httpx.AsyncHTTPTransport):
        return [transport._pool]
    return []


def _stranded(backend: Any) -> int:
    """Connections that are neither idle, closed nor in use by a request: lost for good (for
    the aiohttp backend: connections still acquired once no request is running)."""
    if not isinstance(backend, HttpxBackend):
        session = backend._session
        return 0 if session is None else len(session.connector._acquired)
    count = 0
    for pool in _pools(backend.http):
        in_use = {id(r.connection) for r in pool._requests if r.connection is not None}
        for connection in pool.connections:
            if not (connection.is_idle() or connection.is_closed() or id(connection) in in_use):
                count += 1
    return count


async def expires(
    client: ComponentClient, gate: asyncio.Semaphore, cancel_after: float | None
) -> bool:
    """Make one call once ``gate`` lets it; return whether it ended by a deadline."""
    async with gate:
        try:
            async with asyncio.timeout(cancel_after):
                await client.get_privacy_setting(APPID)
        except (TransportError, TimeoutError):
            return True
        return False


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
async def test_a_thousand_expired_attempts_leave_the_pool_whole(kind: str) -> None:
    # Rounds of 200 calls that all expire, at every step of an exchange (queued, connecting,
    # between connecting and sending, sending, reading). Cancelling httpcore directly at these
    # settings strands connections for good (measured: up to 8 of 8 in the caller's pool, 24 in
    # the sharded one): (attempt timeout, call timeout, calls at once, caller cancels after).
    rounds = [
        (0.01, 60.0, 10, None),
        (0.05, 60.0, 30, None),
        (0.05, 60.0, 100, None),
        (0.02, 0.01, 100, None),  # the call's deadline passes while it is queued
        (5.0, 60.0, 100, 0.01),  # the caller's own cancellation
    ]
    async with StallingServer("before-headers", "mid-headers", "mid-body", rate=0.01) as server:
        async with client_over(kind, server.url, retry=ONCE) as client:
            await client.authorizer_access_token(APPID)
            wire = client._wire
            expired = 0
            for attempt, call, at_once, cancel_after in rounds:
                wire.attempt_timeout, wire.call_timeout = attempt, call
                gate = asyncio.Semaphore(at_once)
                calls = (expires(client, gate, cancel_after) for _ in range(200))
                expired += sum(await asyncio.gather(*calls))
            assert expired == 1000
            await asyncio.sleep(0.1)  # let the stopped exchanges finish their clean-up
            assert _stranded(wire.backend) == 0
            # then as many normal calls as the pool has connections, all at once, succeed promptly
            server.answer_everything(delay=0.05)
            wire.attempt_timeout, wire.call_timeout = 10.0, 60.0
            connections = CALLER_POOL if kind == "caller" else MAX_CONNECTIONS
            start = time.monotonic()
            async with asyncio.timeout(5):
                results = await asyncio.gather(
                    *(client.get_privacy_setting(APPID) for _ in range(connections))
                )
            elapsed = time.monotonic() - start
            assert _stranded(wire.backend) == 0
    assert all(isinstance(r, PrivacySetting) for r in results)
    assert elapsed < 1.0, elapsed


# -- the arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [0, -1, math.nan, math.inf, "10", True, None, 10**400, -(10**400), 1e308],
    ids=["0", "-1", "nan", "inf", "str", "True", "None", "10**400", "-10**400", "1e308"],
)
@pytest.mark.parametrize("name", ["timeout", "call_timeout"])
def test_deadlines_must_be_finite_positive_seconds(name: str, bad: object) -> None:
    """10**400 raised a bare OverflowError (re-check of the issue-12 trial)."""
    with pytest.raises(InvalidArgumentError, match=f"{name}.*number of seconds > 0"):
        ComponentClient(C, SECRET, **{name: bad})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        ComponentClient(C, SECRET, http_client=httpx.AsyncClient(), **{name: bad})  # type: ignore[arg-type]


async def test_timeout_accepts_seconds_or_an_httpx_timeout() -> None:
    cases: list[tuple[Any, float | None]] = [
        (2, 2.0),
        (0.25, 0.25),
        (httpx.Timeout(10.0, connect=5.0), 10.0),  # the old default: its largest part
        (httpx.Timeout(None, read=3.0), 3.0),
        (httpx.Timeout(None), None),  # no part set: only the call's deadline bounds an attempt
    ]
    for timeout, seconds in cases:
        async with ComponentClient(C, SECRET, timeout=timeout) as client:
            assert client._wire.attempt_timeout == seconds
    async with ComponentClient(C, SECRET) as client:
        assert (client._wire.attempt_timeout, client._wire.call_timeout) == (10.0, 60.0)
    with pytest.raises(InvalidArgumentError, match="largest part"):
        ComponentClient(C, SECRET, timeout=httpx.Timeout(0.0))


@pytest.mark.parametrize(
    "bad", [-1, math.nan, math.inf, True, "300", 10**400, 86_401], ids=lambda v: type(v).__name__
)
def test_refresh_margin_must_be_seconds_up_to_a_day(bad: object) -> None:
    """Re-check of the issue-12 trial: refresh_margin was not checked at all (-10**4300 raised
    OverflowError at the first token fetch; nan and inf were taken)."""
    with pytest.raises(InvalidArgumentError, match="refresh_margin"):
        ComponentClient(C, SECRET, refresh_margin=bad)  # type: ignore[arg-type]
