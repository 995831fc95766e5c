"""Issue 14 §2: a batch survives a real failover, on a local Cluster and a local Sentinel set.

A batch of guideline reads refreshes every authorizer's token (the emulator rotates refresh
tokens and keeps no grace for the superseded ones, so a lost refresh token is a lost
authorizer). A quarter of the way through, the master serving the component's keys is killed
(SIGKILL) and its replica is promoted (by the Cluster itself, or by the Sentinel). Checked:

- every result is a guideline or a typed error (``TokenStoreError``). With a store ``timeout``
  longer than the failover, the store rides it out: no errors at all. With a shorter one, only
  requests in flight while Redis was away fail: each worker at most once per ``timeout``;
- every refresh token the store acknowledged is still there on the new master;
- a second batch on a fresh store, with every access token gone, refreshes every authorizer
  whose last rotation was acknowledged; the others (rotated by WeChat while the store's write
  failed: requests in flight at the kill) fail only with 61023.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from redis_topologies import LocalCluster, LocalSentinel, SentinelClient, cluster_client

from wxprivacy import (
    AccessToken,
    ComponentClient,
    EventStamp,
    Fence,
    PrivacySetting,
    ReauthorizationRequiredError,
    TokenStoreError,
    WxPrivacyError,
)
from wxprivacy.emulator import Emulator
from wxprivacy.redis import RedisTokenStore

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(600)]

AUTHORIZERS = 240
CONCURRENCY = 8
LATENCY = 0.03
GP = "/cgi-bin/component/getprivacysetting"


class RecordingStore(RedisTokenStore):
    """A RedisTokenStore that remembers each refresh token it acknowledged (wrote: True)."""

    acked: dict[str, str]

    async def set_refresh_token(
        self,
        component_appid: str,
        authorizer_appid: str,
        refresh_token: str,
        *,
        event: EventStamp | None = None,
    ) -> bool:
        written = await super().set_refresh_token(
            component_appid, authorizer_appid, refresh_token, event=event
        )
        if written:
            self.acked[authorizer_appid] = refresh_token
        return written

    async def set_authorizer_tokens(
        self,
        component_appid: str,
        authorizer_appid: str,
        token: AccessToken,
        refresh_token: str,
        *,
        fence: Fence | None = None,
        event: EventStamp | None = None,
    ) -> bool:
        written = await super().set_authorizer_tokens(
            component_appid, authorizer_appid, token, refresh_token, fence=fence, event=event
        )
        if written:
            self.acked[authorizer_appid] = refresh_token
        return written


class Failover:
    """One topology of the test's own: a client factory, the kill and the wait for promotion."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.topology: LocalCluster | LocalSentinel
        if kind == "cluster":
            self.topology = LocalCluster(node_timeout=1500)
        else:
            self.topology = LocalSentinel(down_after=1000)

    async def client(self) -> tuple[Any, Callable[[], Awaitable[None]]]:
        if isinstance(self.topology, LocalCluster):
            client = cluster_client(self.topology)
            return client, client.aclose
        sentinel = SentinelClient(self.topology)
        return sentinel.master, sentinel.aclose

    def kill_master(self, key: str) -> int:
        """SIGKILL the master serving ``key``; return its port."""
        if isinstance(self.topology, LocalCluster):
            port = self.topology.master_port_of(key)
        else:
            port = self.topology.master_port
        self.topology.kill(port)
        return port

    def wait_promoted(self, key: str, old_port: int) -> int:
        if isinstance(self.topology, LocalCluster):
            return self.topology.wait_failover(key, old_port)
        return self.topology.wait_failover()


@pytest.fixture(params=["cluster", "sentinel"])
def failover(request: pytest.FixtureRequest) -> Iterator[Failover]:
    made = Failover(request.param)
    try:
        yield made
    finally:
        made.topology.stop()


@pytest.fixture
def emulator() -> Emulator:
    emu = Emulator(rotate_refresh_tokens=True, grace=0, latency=LATENCY, seed=14)
    for i in range(AUTHORIZERS):
        emu.add_authorizer(f"wx{0xF00D0000 + i:016x}")
    return emu


@pytest.fixture
def progress(emulator: Emulator) -> Progress:
    return Progress(emulator.transport(), at=AUTHORIZERS // 4)


@pytest.fixture
async def http(progress: Progress) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=progress) as client:
        yield client


class Progress(httpx.AsyncBaseTransport):
    """The emulator's transport; ``reached`` is set once ``at`` guidelines were answered."""

    def __init__(self, inner: httpx.AsyncBaseTransport, at: int) -> None:
        self.inner = inner
        self.at = at
        self.answered = 0
        self.reached = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path == GP:
            self.answered += 1
            if self.answered >= self.at:
                self.reached.set()
        return response


@pytest.mark.parametrize(
    "store_timeout", [20.0, 1.0], ids=["timeout-above-failover", "timeout-below-failover"]
)
async def test_a_batch_survives_a_failover(
    failover: Failover,
    emulator: Emulator,
    http: httpx.AsyncClient,
    progress: Progress,
    store_timeout: float,
) -> None:
    emu = emulator
    appids = emu.authorizer_appids
    prefix = f"wxprivacy-failover-{uuid.uuid4().hex[:8]}"
    redis_client, close = await failover.client()
    store = RecordingStore(redis_client, prefix, timeout=store_timeout, lock_lease=10, lock_wait=25)
    store.acked = {}
    client = ComponentClient(
        emu.component_appid, emu.component_appsecret, http_client=http, token_store=store
    )
    refresh_key = store.key(emu.component_appid, "refresh_tokens")
    try:
        # seeded with patience (a cluster just created, a loaded machine): one script with WAIT
        # behind it, which also covers the ticket written before it
        async with RedisTokenStore(redis_client, prefix, timeout=20) as seeding:
            await seeding.set_verify_ticket(emu.component_appid, emu.component_verify_ticket, 0)
            backup = {appid: emu.refresh_token(appid) for appid in appids}
            assert await seeding.import_refresh_tokens(emu.component_appid, backup) == AUTHORIZERS

        batch = asyncio.create_task(client.get_privacy_settings(appids, concurrency=CONCURRENCY))
        async with asyncio.timeout(120):
            await progress.reached.wait()  # a quarter of the batch is done
        killed_port = failover.kill_master(refresh_key)
        served_at_kill = emu.calls[GP]
        killed_at = time.monotonic()
        await asyncio.to_thread(failover.wait_promoted, refresh_key, killed_port)
        promoted_after = time.monotonic() - killed_at
        results = await batch
    finally:
        await client.aclose()
        await store.aclose()
        await close()

    outcomes = Counter(type(result).__name__ for result in results.values())
    label = f"[{failover.kind}, timeout {store_timeout:g} s]"
    print(
        f"\n{label} killed the master at {served_at_kill}/{AUTHORIZERS}, replica promoted "
        f"after {promoted_after:.1f} s; outcomes {dict(outcomes)}"
    )
    failed = {a: r for a, r in results.items() if not isinstance(r, PrivacySetting)}
    assert all(isinstance(error, TokenStoreError) for error in failed.values()), failed
    if store_timeout > promoted_after:
        assert failed == {}
    else:
        # a failed request spent `timeout` waiting for Redis: each worker fails at most once
        # per `timeout` while Redis is away (and the client finds the new master)
        assert len(failed) <= CONCURRENCY * (promoted_after / store_timeout + 3)
    assert emu.calls[GP] - served_at_kill >= AUTHORIZERS // 2  # served after the failover

    # Nothing acknowledged is lost: the new master has every refresh token the store said it
    # wrote (the last one per authorizer; the import's are replaced by the batch's rotations).
    redis_client, close = await failover.client()
    fresh = RedisTokenStore(redis_client, prefix, local_cache_ttl=0)
    client = ComponentClient(
        emu.component_appid, emu.component_appsecret, http_client=http, token_store=fresh
    )
    try:
        stored = await fresh.export_refresh_tokens(emu.component_appid)
        lost = {a for a, token in store.acked.items() if stored.get(a) != token}
        assert lost == set()
        behind = {a for a in appids if stored.get(a) != emu.refresh_token(a)}
        assert behind <= set(failed)  # the request whose write failed failed with it
        assert len(behind) <= CONCURRENCY  # only requests in flight at the kill
        print(f"{label} refresh tokens behind WeChat's (never acknowledged): {len(behind)}")

        # The chain holds: every access token gone, a second batch refreshes them all from the
        # stored refresh tokens (WeChat keeps no grace here: a stale one would answer 61023).
        for appid in appids:
            await redis_client.delete(fresh.key(emu.component_appid, "authorizer", appid, "access"))
        again = await client.get_privacy_settings(appids, concurrency=CONCURRENCY)
    finally:
        await client.aclose()
        await fresh.aclose()
        await close()
    refused = {a for a, r in again.items() if not isinstance(r, PrivacySetting)}
    assert refused == behind
    assert all(isinstance(again[a], ReauthorizationRequiredError) for a in refused)
    assert all(isinstance(r, PrivacySetting | WxPrivacyError) for r in again.values())
