"""The refresh lock in Redis: exclusion, lease, own-lock release, bounded wait, double check."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fakes import COMPONENT_APPID, FakeWeChat
from rhelpers import REDIS_URL, Clock, appid, seed

from wxprivacy import LockTimeoutError, TokenStoreError, WxPrivacyError
from wxprivacy.redis import RedisTokenStore

C = COMPONENT_APPID
CT = "/cgi-bin/component/api_component_token"
AT = "/cgi-bin/component/api_authorizer_token"
ROOT = Path(__file__).resolve().parents[2]


async def test_one_holder_at_a_time_across_connections(new_store: Any) -> None:
    stores = [new_store() for _ in range(6)]
    inside = 0
    most = 0
    entered = 0

    async def work(store: RedisTokenStore) -> None:
        nonlocal inside, most, entered
        for _ in range(5):
            async with store.lock(C, "component"):
                inside += 1
                entered += 1
                most = max(most, inside)
                await asyncio.sleep(0.002)
                inside -= 1

    async with asyncio.timeout(20):
        await asyncio.gather(*(work(s) for s in stores))
    assert most == 1 and entered == 30


async def test_release_deletes_only_its_own_lock(new_store: Any, redis_client: Any) -> None:
    a = new_store(lock_lease=0.2)
    a._renew_leases = False  # act out a holder frozen past its lease
    b = new_store(lock_lease=10)
    key = a.key(C, "lock", "component")
    async with asyncio.timeout(5):
        async with a.lock(C, "component"):
            mine = await redis_client.get(key)
            await asyncio.sleep(0.35)  # a's lease runs out while it still "refreshes"
            assert await redis_client.get(key) is None
            async with b.lock(C, "component"):
                theirs = await redis_client.get(key)
                assert theirs != mine
                await a._release_script(keys=[key], args=[mine])  # what a's release runs
                assert await redis_client.get(key) == theirs
            assert await redis_client.get(key) is None
        # a leaves its block after b: its release finds nothing of its own and deletes nothing
        assert await redis_client.get(key) is None


async def test_release_after_expiry_leaves_the_new_holder_alone(
    new_store: Any, redis_client: Any
) -> None:
    a = new_store(lock_lease=0.2)
    a._renew_leases = False  # act out a holder frozen past its lease
    b = new_store(lock_lease=10, lock_wait=5)
    key = a.key(C, "lock", "component")
    b_inside = asyncio.Event()
    b_may_leave = asyncio.Event()

    async def second() -> None:
        async with b.lock(C, "component"):
            b_inside.set()
            await b_may_leave.wait()

    async with asyncio.timeout(5):
        async with a.lock(C, "component"):
            task = asyncio.create_task(second())
            await b_inside.wait()  # only possible once a's lease ran out
        holder = await redis_client.get(key)
        assert holder is not None  # a's exit did not delete b's lock
        b_may_leave.set()
        await task
    assert await redis_client.get(key) is None


async def test_lease_bounds_a_holder_that_never_releases(new_store: Any) -> None:
    crashed = new_store(lock_lease=0.4)
    crashed._renew_leases = False  # a dead process renews nothing
    other = new_store(lock_wait=5)
    lease = crashed.lock(C, "component")
    await lease.__aenter__()  # taken, never released (as if the process had died)
    started = time.monotonic()
    async with asyncio.timeout(5):
        async with other.lock(C, "component"):
            waited = time.monotonic() - started
    assert 0.2 <= waited <= 1.5
    await lease.__aexit__(None, None, None)  # not left for the garbage collector to close


async def test_cancelled_holder_releases_at_once(new_store: Any, redis_client: Any) -> None:
    store = new_store(lock_lease=30)
    key = store.key(C, "lock", "component")
    held = asyncio.Event()

    async def holder() -> None:
        async with store.lock(C, "component"):
            held.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(holder())
    await held.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await redis_client.get(key) is None
    async with asyncio.timeout(0.5):
        async with new_store().lock(C, "component"):
            pass


_CRASHER = """
import asyncio, os, sys
from wxprivacy.redis import RedisTokenStore

async def main() -> None:
    store = RedisTokenStore.from_url(sys.argv[1], key_prefix=sys.argv[2], lock_lease=1.0)
    await store.lock(sys.argv[3], "component").__aenter__()
    print("held", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_a_killed_holder_process_blocks_others_only_for_the_lease(
    new_store: Any, new_client: Any, redis_prefix: str
) -> None:
    """A worker process dies mid-refresh holding the lock; another refreshes after the lease."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CRASHER,
        REDIS_URL,
        redis_prefix,
        C,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        async with asyncio.timeout(20):
            assert proc.stdout is not None
            assert (await proc.stdout.readline()).strip() == b"held"
            proc.kill()
            await proc.wait()
            killed_at = time.monotonic()
            fake = FakeWeChat()
            client = new_client(fake, new_store(lock_wait=10))
            await seed(client)
            assert await client.authorizer_access_token(appid(0))
            waited = time.monotonic() - killed_at
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert waited <= 3.0
    assert fake.calls == {CT: 1, AT: 1}


async def test_lock_wait_beyond_its_bound_raises(new_store: Any, new_client: Any) -> None:
    holder = new_store(lock_lease=10)
    waiter = new_store(lock_wait=0.3)
    async with holder.lock(C, "component"):
        started = time.monotonic()
        with pytest.raises(LockTimeoutError) as info:
            async with waiter.lock(C, "component"):
                pass
        assert 0.25 <= time.monotonic() - started <= 2
        assert isinstance(info.value, TokenStoreError) and info.value.store == "RedisTokenStore"

        # through the client: a typed error, not a hang
        fake = FakeWeChat()
        client = new_client(fake, waiter)
        await seed(client)
        with pytest.raises(LockTimeoutError):
            async with asyncio.timeout(5):
                await client.component_access_token()
        assert fake.calls == {}


async def test_double_checked_read_after_the_lock(new_store: Any, new_client: Any) -> None:
    """Worker B waits for A's lock, then finds A's fresh token in Redis instead of fetching."""
    fake = FakeWeChat(delay=0.2)
    a = new_client(fake, new_store())
    b = new_client(fake, new_store())
    await seed(a)
    async with asyncio.timeout(10):
        first = asyncio.create_task(a.component_access_token())
        await asyncio.sleep(0.05)  # a is inside api_component_token, holding the lock
        token_b = await b.component_access_token()
        assert await first == token_b
    assert fake.calls == {CT: 1}


async def test_stale_local_copy_does_not_cause_a_second_refresh(
    new_store: Any, new_client: Any
) -> None:
    """B's local cache still holds the token A just replaced; B's locked re-read sees Redis."""
    clock = Clock()
    fake = FakeWeChat()
    a = new_client(fake, new_store(clock=clock), clock=clock)
    b = new_client(fake, new_store(clock=clock), clock=clock)
    await seed(a)
    old = await a.component_access_token()
    clock.now += 7200 - 200  # inside the refresh margin, still valid
    cached = await b.token_store.get_component_token(C)  # b keeps the old token locally
    assert cached is not None and cached.value == old
    new = await a.component_access_token()  # a refreshes
    assert new != old
    assert await b.component_access_token() == new  # b: local stale -> lock -> Redis -> new
    assert fake.calls == {CT: 2}


async def test_many_clients_one_refresh_each(new_store: Any, new_client: Any) -> None:
    """Two "machines" x 25 clients each, cold cache, five authorizers: one fetch per token."""
    fake = FakeWeChat(delay=0.02)
    clients = [new_client(fake, new_store()) for _ in range(50)]
    await seed(clients[0], appids=5)

    async def work(client: Any, i: int) -> list[str]:
        return [await client.authorizer_access_token(appid((i + k) % 5)) for k in range(5)]

    async with asyncio.timeout(30):
        results = await asyncio.gather(*(work(c, i) for i, c in enumerate(clients)))
    assert fake.calls == {CT: 1, AT: 5}
    for k in range(5):
        assert len({tokens[(k - i) % 5] for i, tokens in enumerate(results)}) == 1


def test_errors_are_wxprivacy_errors() -> None:
    assert issubclass(LockTimeoutError, WxPrivacyError)


@pytest.mark.parametrize("hold_for", [0.0, 0.05, 0.11, 0.13, 0.2, 0.26, 0.4])
async def test_release_never_waits_for_a_watchdog_that_absorbs_cancellation(
    new_store: Any, redis_client: Any, hold_for: float
) -> None:
    """Found by the randomized schedules: a renewal in flight swallowed the watchdog's
    cancellation (a command timing out as the cancel lands), and the release waited for it
    forever. Whatever the moment of release, it ends within about one lease."""
    store = new_store(lock_lease=0.3, timeout=5)
    real = store._lock_scripts["renew"]

    async def absorbing_renew(**kwargs: Any) -> Any:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return await real(**kwargs)  # swallowed, as a timing-out command can
        return None

    store._lock_scripts["renew"] = absorbing_renew
    key = store.key(C, "lock", "component")
    started = time.monotonic()
    async with asyncio.timeout(5):
        async with store.lock(C, "component"):
            await asyncio.sleep(hold_for)
    assert time.monotonic() - started <= hold_for + 0.3 + 0.25
    assert await redis_client.get(key) is None
    await asyncio.sleep(0.2)  # the abandoned watchdog's last renewal lands before the store closes
