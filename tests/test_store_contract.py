"""One contract for every TokenStore: memory, Redis, and the SQLite example from the docs.

Redis runs it three ways: the test Redis (REDIS_URL), a local Cluster (3 masters, a replica each)
and a local Sentinel set (master, replica, sentinel); the last two are marked ``cluster`` (run
with ``pytest -m cluster``) and start their servers once per session.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from clock import FakeClock as Clock
from redis_support import connect_or_skip
from redis_topologies import SentinelClient, cluster_client
from store_helpers import put_component_token

from wxprivacy import (
    AccessToken,
    ComponentClient,
    EventStamp,
    Fence,
    InvalidArgumentError,
    MemoryTokenStore,
    TokenStore,
)
from wxprivacy.emulator import Emulator

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "sqlite_store.py"
C, D = "wx0000000000000000", "wx1111111111111111"


def _sqlite_module() -> Any:
    spec = importlib.util.spec_from_file_location("sqlite_store_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


STORES = [
    "memory",
    "sqlite",
    "redis",
    pytest.param("redis-cluster", marks=pytest.mark.cluster),
    pytest.param("redis-sentinel", marks=pytest.mark.cluster),
]


async def _redis_client(request: pytest.FixtureRequest) -> tuple[Any, Callable[[], Any]]:
    """The client the Redis store of this parameter runs on, and how to close it."""
    if request.param == "redis-cluster":
        client = cluster_client(request.getfixturevalue("local_cluster"))
        return client, client.aclose
    if request.param == "redis-sentinel":
        sentinel = SentinelClient(request.getfixturevalue("local_sentinel"))
        return sentinel.master, sentinel.aclose
    client = await connect_or_skip()
    return client, client.aclose


@pytest.fixture(params=STORES)
async def made(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Any, Clock]]:
    """(store, clock); the clock drives expiry where the store lets it."""
    clock = Clock()
    store: Any
    if request.param == "memory":
        store = MemoryTokenStore(clock=clock)
    elif request.param == "sqlite":
        store = _sqlite_module().SQLiteTokenStore(str(tmp_path / "tokens.db"), clock=clock)
    else:
        from wxprivacy import RedisTokenStore

        redis_client, close = await _redis_client(request)
        prefix = f"wxprivacy-contract-{uuid.uuid4().hex[:12]}"
        store = RedisTokenStore(redis_client, key_prefix=prefix, clock=clock)
    try:
        yield store, clock
    finally:
        await store.aclose()
        if request.param.startswith("redis"):
            keys = [k async for k in redis_client.scan_iter(match=f"{prefix}*")]
            for key in keys:
                await redis_client.delete(key)
            await close()


def tok(value: str, expires_at: float = 1_700_007_200.0) -> AccessToken:
    return AccessToken(value, expires_at)


async def test_satisfies_the_protocol(made: tuple[Any, Clock]) -> None:
    store, _ = made
    assert isinstance(store, TokenStore)


async def test_ticket_round_trip_and_empty_rejected(made: tuple[Any, Clock]) -> None:
    store, _ = made
    assert await store.get_verify_ticket(C) is None
    await store.set_verify_ticket(C, "ticket@@@one", 600)
    assert await store.get_verify_ticket(C) == "ticket@@@one"
    assert await store.get_verify_ticket(D) is None
    with pytest.raises(InvalidArgumentError):
        await store.set_verify_ticket(C, "  ", 600)


async def test_ticket_lives_at_least_twelve_hours(made: tuple[Any, Clock]) -> None:
    store, clock = made
    await store.set_verify_ticket(C, "ticket@@@one", 60)
    if type(store).__name__ == "RedisTokenStore":
        # Redis expires keys on its own clock: read the TTL it was given instead.
        ttl = await store._redis.ttl(store.key(C, "ticket"))
        assert ttl >= 12 * 3600 - 5
    clock.now += 12 * 3600 - 5
    assert await store.get_verify_ticket(C) == "ticket@@@one"


async def test_compare_and_delete_keeps_a_newer_token(made: tuple[Any, Clock]) -> None:
    store, _ = made
    await put_component_token(store, C, tok("new"))
    assert await store.invalidate_component_token(C, "old") is False
    assert (await store.get_component_token(C)).value == "new"
    assert await store.invalidate_component_token(C, "new") is True
    assert await store.get_component_token(C) is None
    await store.set_authorizer_tokens(C, "wxa", tok("a1"), "r1")
    assert await store.invalidate_authorizer_token(C, "wxa", "a0") is False
    assert await store.invalidate_authorizer_token(C, "wxa", "a1") is True
    assert await store.get_refresh_token(C, "wxa") == "r1"  # the refresh token survives


async def test_refresh_tokens_durable_and_never_empty(made: tuple[Any, Clock]) -> None:
    store, _ = made
    await store.set_refresh_token(C, "wxa", "r1")
    for bad in ("", "   "):
        with pytest.raises(InvalidArgumentError):
            await store.set_refresh_token(C, "wxa", bad)
        with pytest.raises(InvalidArgumentError):
            await store.set_authorizer_tokens(C, "wxa", tok("a"), bad)
    assert await store.get_refresh_token(C, "wxa") == "r1"
    await store.set_authorizer_tokens(C, "wxb", tok("b"), "r2")
    assert await store.export_refresh_tokens(C) == {"wxa": "r1", "wxb": "r2"}
    assert await store.export_refresh_tokens(D) == {}
    await store.delete_authorizer(C, "wxa")
    assert await store.get_refresh_token(C, "wxa") is None
    assert await store.get_authorizer_token(C, "wxa") is None
    assert await store.export_refresh_tokens(C) == {"wxb": "r2"}


async def test_lock_excludes(made: tuple[Any, Clock]) -> None:
    store, _ = made
    inside = 0
    peak = 0

    async def hold() -> None:
        nonlocal inside, peak
        async with store.lock(C, "component"):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(hold() for _ in range(5)))
    assert peak == 1
    async with store.lock(C, "component"), store.lock(D, "component"):
        pass  # two components never share a lock


async def test_client_makes_one_request_per_token_endpoint(made: tuple[Any, Clock]) -> None:
    store, _ = made
    emu = Emulator(authorizers=3, seed=2)
    appid = next(a for a in emu.authorizer_appids if emu.profile(a) != "no_permission")
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(
            emu.component_appid, emu.component_appsecret, http_client=http, token_store=store
        )
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
        make_call: Callable[[], Any] = lambda: client.get_privacy_setting(appid)  # noqa: E731
        await asyncio.gather(*(make_call() for _ in range(40)))
    assert emu.calls["/cgi-bin/component/api_component_token"] == 1
    assert emu.calls["/cgi-bin/component/api_authorizer_token"] == 1
    assert emu.calls["/cgi-bin/component/getprivacysetting"] == 40


# -- protocol version 2: fenced writes and authorization-event stamps ----------------------------


async def test_a_fence_holds_until_the_next_acquisition(made: tuple[Any, Clock]) -> None:
    store, _ = made
    async with store.lock(C, "component") as first:
        assert isinstance(first, Fence) and first.name == "component"
        assert await store.set_component_token(C, tok("c1"), fence=first) is True
    async with store.lock(C, "component") as second:
        assert second.generation > first.generation
        # the first holder's fence no longer holds: its late write changes nothing
        assert await store.set_component_token(C, tok("late"), fence=first) is False
        assert await store.set_component_token(C, tok("c2"), fence=second) is True
    assert (await store.get_component_token(C)).value == "c2"
    name = "authorizer:wxa"
    async with store.lock(C, name) as old:
        pass
    async with store.lock(C, name) as new:
        assert await store.set_authorizer_tokens(C, "wxa", tok("a2"), "r2", fence=new)
        assert not await store.set_authorizer_tokens(C, "wxa", tok("a1"), "r1", fence=old)
        # a fence of another lock never admits a write
        assert not await store.set_authorizer_tokens(C, "wxb", tok("b"), "rb", fence=new)
    assert await store.get_refresh_token(C, "wxa") == "r2"
    assert (await store.get_authorizer_token(C, "wxa")).value == "a2"
    assert await store.get_refresh_token(C, "wxb") is None


@pytest.mark.parametrize("outside", ["set_refresh_token", "set_authorizer_tokens", "delete"])
async def test_an_authorization_or_revocation_fences_off_a_refresh_in_flight(
    made: tuple[Any, Clock], outside: str
) -> None:
    """A refresher got its fence, then the owner re-authorized (or revoked): its write fails."""
    store, _ = made
    await store.set_refresh_token(C, "wxa", "r0")
    async with store.lock(C, "authorizer:wxa") as fence:
        if outside == "set_refresh_token":
            assert await store.set_refresh_token(C, "wxa", "r-new") is True
        elif outside == "set_authorizer_tokens":
            assert await store.set_authorizer_tokens(C, "wxa", tok("a-new"), "r-new") is True
        else:
            assert await store.delete_authorizer(C, "wxa") is True
        written = await store.set_authorizer_tokens(
            C, "wxa", tok("a-old"), "r-rotated", fence=fence
        )
    assert written is False
    expected = None if outside == "delete" else "r-new"
    assert await store.get_refresh_token(C, "wxa") == expected


async def test_event_stamps_order_and_dedupe(made: tuple[Any, Clock]) -> None:
    store, _ = made
    t = 1_700_000_000
    authorized = EventStamp(t - 10, f"authorized:wxa:{t - 10}:c0de")
    unauthorized = EventStamp(t - 30, f"unauthorized:wxa:{t - 30}:none")
    assert await store.event_seen(C, "wxa", authorized) is False
    assert await store.set_authorizer_tokens(C, "wxa", tok("a1"), "r1", event=authorized)
    assert await store.event_seen(C, "wxa", authorized) is True
    assert await store.event_seen(C, "wxa", unauthorized) is True  # older than the watermark
    # the older revocation, delivered late, is ignored
    assert await store.delete_authorizer(C, "wxa", event=unauthorized) is False
    assert await store.get_refresh_token(C, "wxa") == "r1"
    # the same push again is not applied twice
    assert not await store.set_refresh_token(C, "wxa", "r-again", event=authorized)
    assert await store.get_refresh_token(C, "wxa") == "r1"
    # an event of the same second is applied in arrival order
    same_second = EventStamp(t - 10, f"unauthorized:wxa:{t - 10}:none")
    assert await store.delete_authorizer(C, "wxa", event=same_second) is True
    assert await store.get_refresh_token(C, "wxa") is None
    # watermarks are per authorizer and per component
    assert await store.set_refresh_token(C, "wxb", "rb", event=unauthorized)
    assert await store.set_refresh_token(D, "wxa", "rd", event=unauthorized)
    assert await store.event_seen(D, "wxa", authorized) is False


async def test_a_lapsed_lease_never_lets_the_late_holder_overwrite(
    made: tuple[Any, Clock],
) -> None:
    """Stores with a lease: A's lease lapses mid-refresh, B takes the lock and writes; A's late
    write is refused (the memory store has no lease: its lock is held until released)."""
    store, clock = made
    kind = type(store).__name__
    if kind == "MemoryTokenStore":
        pytest.skip("MemoryTokenStore's lock has no lease")
    if kind == "RedisTokenStore":
        store.lock_lease = 0.2
        store._renew_leases = False  # act out a frozen holder
    else:
        store._lease = 0.2
    a = store.lock(C, "authorizer:wxa")
    fence_a = await a.__aenter__()
    try:
        if kind == "RedisTokenStore":
            await asyncio.sleep(0.3)
        else:
            clock.now += 0.3
        async with store.lock(C, "authorizer:wxa") as fence_b:
            assert await store.set_authorizer_tokens(C, "wxa", tok("A2"), "R2", fence=fence_b)
        assert not await store.set_authorizer_tokens(C, "wxa", tok("A1"), "R1", fence=fence_a)
    finally:
        await a.__aexit__(None, None, None)
    assert await store.get_refresh_token(C, "wxa") == "R2"
    assert (await store.get_authorizer_token(C, "wxa")).value == "A2"
