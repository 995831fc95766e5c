"""Regressions from the issue-6 trial, each with the input that failed."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from clock import FakeClock

from wxprivacy import (
    AccessToken,
    ComponentClient,
    InvalidArgumentError,
    MemoryTokenStore,
    RetryPolicy,
    TransportError,
)
from wxprivacy._ratelimit import WINDOW, RateLimiter

GP = "/cgi-bin/component/getprivacysetting"
C = "wx0000000000000000"
APPID = "wxa000000000000000"
SECRET_TOKEN = "AT-must-never-leak-0123456789"


class StillClock(FakeClock):
    """The fake clock with a sleep that never ends (only cancellation ends it)."""

    def __init__(self) -> None:
        super().__init__(1_700_000_010.0)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(3600)  # "forever": only cancellation ends it


async def _duplicate_content_length(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    with contextlib.suppress(Exception):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
    writer.close()


async def test_aiohttp_protocol_error_is_typed_and_redacted() -> None:
    server = await asyncio.start_server(_duplicate_content_length, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = MemoryTokenStore()
    await store.set_authorizer_tokens(C, APPID, AccessToken(SECRET_TOKEN, 4e9), "refresh")

    async def no_sleep(_s: float) -> None:
        return None

    try:
        async with ComponentClient(
            C,
            "secret",
            token_store=store,
            base_url=f"http://127.0.0.1:{port}",
            transport="aiohttp",
            retry=RetryPolicy(max_attempts=2),
            sleep=no_sleep,
        ) as client:
            with pytest.raises(TransportError) as info:
                await client.get_privacy_setting(APPID)
    finally:
        server.close()
        await server.wait_closed()
    assert SECRET_TOKEN not in str(info.value)


async def test_cancelled_waiter_frees_no_slot() -> None:
    time = StillClock()
    limiter = RateLimiter({GP: 2}, clock=time.clock, sleep=time.sleep)
    await limiter.acquire(GP)
    await limiter.acquire(GP)
    waiter = asyncio.ensure_future(limiter.acquire(GP))
    await asyncio.sleep(0)
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiter
    third = asyncio.ensure_future(limiter.acquire(GP))
    await asyncio.sleep(0.01)
    assert not third.done()  # still two in the window: the cancelled waiter freed nothing
    third.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await third


async def test_pause_set_during_a_window_wait_is_honoured() -> None:
    now = [1_700_000_010.0]
    starts: list[float] = []

    async def sleep(seconds: float) -> None:
        now[0] += seconds
        if not starts:
            return
        await asyncio.sleep(0)

    limiter = RateLimiter({GP: 1}, clock=lambda: now[0], sleep=sleep)
    await limiter.acquire(GP)
    starts.append(now[0])
    first = now[0]

    async def pause_meanwhile(seconds: float) -> None:
        await limiter.pause(GP, first + 2 * WINDOW)  # a 45011 arrives while we wait for the window
        now[0] += seconds

    limiter._sleep = pause_meanwhile
    await limiter.acquire(GP)
    assert now[0] >= first + 2 * WINDOW


@pytest.mark.parametrize(
    "bad",
    [
        {"getprivacysetting": 10},
        {"https://api.weixin.qq.com" + GP: 10},
        {GP + "?x=1": 10},
        {1: 10},
        "abc",
    ],
)
def test_rate_limit_keys_must_be_endpoint_paths(bad: object) -> None:
    with pytest.raises(InvalidArgumentError):
        RateLimiter(bad, clock=lambda: 0.0)  # type: ignore[arg-type]


async def test_aclose_lets_a_refresh_in_flight_finish(caplog: pytest.LogCaptureFixture) -> None:
    from fakes import APPSECRET, COMPONENT_APPID, TICKET, FakeWeChat

    fake = FakeWeChat(delay=0.05, rotate=True)
    client = ComponentClient(COMPONENT_APPID, APPSECRET, http_client=fake.client())
    await client.set_component_verify_ticket(TICKET)
    await client.set_authorizer_refresh_token(APPID, "refresh-0")
    caller = asyncio.ensure_future(client.authorizer_access_token(APPID))
    await asyncio.sleep(0.02)
    caller.cancel()  # Ctrl-C while the refresh is in flight
    with contextlib.suppress(asyncio.CancelledError):
        await caller
    await client.aclose()
    store = client.token_store
    assert await store.get_authorizer_token(COMPONENT_APPID, APPID) is not None
    assert await store.get_refresh_token(COMPONENT_APPID, APPID) == fake.refresh_tokens[APPID]
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]
