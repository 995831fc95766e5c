"""Per-endpoint rate limits, 45011 pauses, and batches that re-queue what the quota refused."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest
from clock import FakeClock

from wxprivacy import (
    ComponentClient,
    InvalidArgumentError,
    MinuteQuotaExceededError,
    PermissionDeniedError,
    PrivacySetting,
)
from wxprivacy._batch import DEFAULT_MAX_REQUEUES, as_completed_bounded
from wxprivacy._errors import WxPrivacyError
from wxprivacy._quotas import MemoryQuotaStore
from wxprivacy._ratelimit import WINDOW, RateLimiter
from wxprivacy.emulator import Emulator, Faults

GP = "/cgi-bin/component/getprivacysetting"
START = 1_699_999_990.0  # ten seconds into a minute


def at_most_per_window(starts: list[float], limit: int) -> bool:
    starts = sorted(starts)
    return all(
        sum(1 for t in starts[i:] if t < start + WINDOW) <= limit for i, start in enumerate(starts)
    )


async def test_sliding_window_never_exceeds_the_limit() -> None:
    time = FakeClock(START)
    limiter = RateLimiter({GP: 3}, clock=time.clock, sleep=time.sleep)
    starts: list[float] = []

    async def one() -> None:
        await limiter.acquire(GP)
        starts.append(time.now)

    await asyncio.gather(*(one() for _ in range(10)))
    assert len(starts) == 10
    assert at_most_per_window(starts, 3)
    assert starts[:3] == [START] * 3 and max(starts) == START + 3 * WINDOW
    assert time.sleeps == [WINDOW, WINDOW, WINDOW]


async def test_unlimited_endpoints_never_wait() -> None:
    time = FakeClock(START)
    limiter = RateLimiter({GP: 1}, clock=time.clock, sleep=time.sleep)
    for _ in range(100):
        await limiter.acquire("/cgi-bin/component/api_get_authorizer_list")
    assert time.sleeps == []


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "10"])
def test_bad_limits_are_rejected(bad: object) -> None:
    with pytest.raises(InvalidArgumentError, match="rate limit for"):
        RateLimiter({GP: bad}, clock=FakeClock(START).clock)  # type: ignore[dict-item]


async def test_pause_holds_the_endpoint_and_is_never_shortened() -> None:
    time = FakeClock(START)
    limiter = RateLimiter(clock=time.clock, sleep=time.sleep)
    await limiter.pause(GP, START + 50)
    await limiter.pause(GP, START + 20)  # earlier: ignored
    assert await limiter.paused_until(GP) == START + 50
    assert await limiter.paused_until("/other") is None
    await limiter.acquire("/other")
    assert time.sleeps == []
    await limiter.acquire(GP)
    assert time.sleeps == [50.0] and time.now == START + 50
    assert await limiter.paused_until(GP) is None
    await limiter.acquire(GP)
    assert time.sleeps == [50.0]


async def client_over(emu: Emulator, time: FakeClock, **kwargs: object) -> ComponentClient:
    http = httpx.AsyncClient(transport=emu.transport())
    client = ComponentClient(
        emu.component_appid,
        emu.component_appsecret,
        http_client=http,
        clock=time.clock,
        sleep=time.sleep,
        **kwargs,  # type: ignore[arg-type]
    )
    await client.set_component_verify_ticket(emu.component_verify_ticket)
    for appid in emu.authorizer_appids:
        await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
    return client


async def test_client_rate_limit_spaces_a_batch() -> None:
    emu, time = Emulator(authorizers=12, seed=2), FakeClock(START)
    client = await client_over(emu, time, rate_limits={GP: 5})
    starts: list[float] = []
    original = client.rate_limiter.acquire

    async def recording(endpoint: str, authorizer_appid: str | None = None) -> None:
        await original(endpoint, authorizer_appid)
        if endpoint == GP:
            starts.append(time.now)

    client.rate_limiter.acquire = recording  # type: ignore[method-assign]
    results = await client.get_privacy_settings(emu.authorizer_appids, concurrency=8)
    assert len(results) == 12 and emu.calls[GP] == 12
    assert at_most_per_window(starts, 5)
    assert time.now - START == pytest.approx(2 * WINDOW)


def check_every_authorizer_once(
    emu: Emulator, seen: list[tuple[str, PrivacySetting | WxPrivacyError]]
) -> None:
    appids = [appid for appid, _ in seen]
    assert sorted(appids) == sorted(emu.authorizer_appids)  # none lost, none duplicated
    for appid, result in seen:
        if emu.profile(appid) == "no_permission":
            assert isinstance(result, PermissionDeniedError)
        else:
            assert isinstance(result, PrivacySetting), result
            assert sorted(result.undeclared_keys) == emu.expected_undeclared(appid)


async def test_batch_pauses_on_45011_and_requeues_the_refused() -> None:
    emu, time = Emulator(authorizers=120, seed=5), FakeClock(START)
    client = await client_over(emu, time)
    emu.faults = Faults(minute_quota=0.1, paths=[GP])
    seen = [item async for item in client.iter_privacy_settings(emu.authorizer_appids)]
    check_every_authorizer_once(emu, seen)
    refused = emu.faults_injected["minute_quota"]
    assert refused > 5
    # every refusal was sent again exactly once; nothing else was
    assert emu.calls[GP] == 120 + refused
    # the endpoint was held until the next minute began (START is 10 s into a minute)
    assert time.sleeps[0] == pytest.approx(50.0)
    assert all(s <= WINDOW for s in time.sleeps)


async def test_requeues_are_bounded() -> None:
    emu, time = Emulator(authorizers=4, seed=5), FakeClock(START)
    client = await client_over(emu, time)
    emu.faults = Faults(minute_quota=1.0, paths=[GP])
    results = await client.get_privacy_settings(emu.authorizer_appids, concurrency=2)
    assert all(isinstance(r, MinuteQuotaExceededError) for r in results.values())
    assert emu.calls[GP] == 4 * (1 + DEFAULT_MAX_REQUEUES)


async def test_generic_batch_requeues_only_minute_quota() -> None:
    attempts: dict[str, int] = {}

    async def work(key: str) -> str:
        attempts[key] = attempts.get(key, 0) + 1
        if key == "quota" and attempts[key] < 3:
            raise MinuteQuotaExceededError(45011, "minute quota", now=START)
        if key == "other":
            raise ValueError("boom")
        return key.upper()

    seen = dict([item async for item in as_completed_bounded(["a", "quota", "other"], work, 2)])
    assert seen["a"] == "A" and seen["quota"] == "QUOTA"
    assert isinstance(seen["other"], WxPrivacyError)
    assert attempts == {"a": 1, "quota": 3, "other": 1}


# -- regressions from the issue-6 trial (each with the exact input that failed) -------------------


class StillClock(FakeClock):
    """The fake clock with a sleep that never ends (only cancellation ends it)."""

    def __init__(self) -> None:
        super().__init__(1_700_000_010.0)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(3600)  # "forever": only cancellation ends it


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


@pytest.mark.parametrize("kind", ["minute", "daily"])
async def test_an_expired_hold_no_longer_slows_every_call(kind: str) -> None:
    """Review: a hold recorded once (an old 45011, yesterday's 45009) kept ``held_anything``
    true for good, so every later call to any endpoint took the locked path."""
    clock = FakeClock(START)
    limiter = RateLimiter(component_appid="wx0000000000000000", clock=clock, sleep=clock.sleep)
    if kind == "minute":
        await limiter.pause(GP, START + 50)
    else:
        await limiter.block_for_the_day(GP, "wxa000000000000000")
    store = limiter.store
    assert isinstance(store, MemoryQuotaStore) and store.held_anything()
    clock.advance(2 * 24 * 3600)
    assert not store.held_anything()
    await limiter.acquire("/cgi-bin/component/api_get_authorizer_list")
    assert limiter._locks == {}  # the unlimited endpoint took the lock-free shortcut


async def test_a_quota_store_subclass_is_asked_like_any_store() -> None:
    """Regression (trial of issue 10): the limiter's synchronous path took any
    MemoryQuotaStore subclass for the plain one, so an overriding ``held_until`` (a 30 s hold)
    was asked 0 times and nothing waited; the token store's fast path already took the plain
    class only."""
    time = FakeClock(START)

    class Held(MemoryQuotaStore):
        asked = 0

        async def held_until(self, component_appid: str, keys: Any) -> float | None:
            Held.asked += 1
            minute = any(key.startswith("minute:") for key in keys)
            return time.clock() + 30 if minute and time.clock() < START + 30 else None

    limiter = RateLimiter(store=Held(clock=time.clock), clock=time.clock, sleep=time.sleep)
    await limiter.acquire(GP)
    assert Held.asked >= 1
    assert time.clock() >= START + 30  # it waited for the hold
