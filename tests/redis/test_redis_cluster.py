"""Issue 14 §2: RedisTokenStore on a ``RedisCluster`` and on a Sentinel ``master_for()`` client.

The contract suite runs on both too (``tests/test_store_contract.py``, ``-m cluster``); these
check what is particular to them: one slot per component, the pool bound, the master.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio.cluster import RedisCluster
from redis_topologies import LocalCluster, LocalSentinel, SentinelClient, admin, cluster_client
from rhelpers import appid

from wxprivacy import AccessToken, EventStamp
from wxprivacy.redis import RedisTokenStore

C, D = "wx0000000000000000", "wx1111111111111111"


def test_a_cluster_client_is_accepted_and_its_pool_bounds_the_waiting() -> None:
    """``RedisCluster`` has no ``connection_pool``: the store used to fail on it at once."""
    client = RedisCluster(host="127.0.0.1", port=1, max_connections=7)
    store = RedisTokenStore(client)
    assert store._gate._value == 7


def calls(port: int, command: str) -> int:
    """How many times the server on ``port`` ran ``command``."""
    stats = admin(port).info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def replica_of(port: int) -> int:
    """The port of the (first) online replica of the master on ``port``."""
    info = admin(port).info("replication")
    return int(info["slave0"]["port"])


async def write_everything(store: RedisTokenStore, component: str) -> None:
    """Put one key of every kind of the layout under ``component``: 5 writes hold refresh
    tokens (one with its access token, one with an event, the import's 3 chunks)."""
    token = AccessToken("value", time.time() + 7200)
    await store.set_verify_ticket(component, "ticket", 600)
    async with store.lock(component, "component") as fence:
        await store.set_component_token(component, token, fence=fence)
        async with store.lock(component, f"authorizer:{appid(0)}") as mine:
            await store.set_authorizer_tokens(component, appid(0), token, "r0", fence=mine)
    event = EventStamp(1_700_000_000, f"authorized:{appid(1)}:1700000000:c0de")
    await store.set_refresh_token(component, appid(1), "r1", event=event)
    await store.import_refresh_tokens(component, {appid(i): f"r{i}" for i in range(2, 1200)})


@pytest.fixture
async def on_cluster(local_cluster: LocalCluster) -> AsyncIterator[tuple[Any, RedisTokenStore]]:
    client = cluster_client(local_cluster)
    store = RedisTokenStore(client, f"wxprivacy-slot-{uuid.uuid4().hex[:8]}")
    yield client, store
    await store.aclose()
    await client.aclose()


@pytest.mark.cluster
async def test_every_key_of_a_component_is_in_one_slot_of_the_cluster(
    on_cluster: tuple[Any, RedisTokenStore], local_cluster: LocalCluster
) -> None:
    client, store = on_cluster
    port = local_cluster.master_port_of(store.key(C, "refresh_tokens"))
    waits = calls(port, "wait")
    await write_everything(store, C)
    # the writes that hold refresh tokens waited for the slot master's replica, on its node
    assert calls(port, "wait") - waits == 5
    pipe = admin(replica_of(port)).pipeline(transaction=False)
    pipe.execute_command("READONLY")  # a cluster replica answers reads only after READONLY
    pipe.hlen(store.key(C, "refresh_tokens"))
    assert pipe.execute()[1] == 1200
    await write_everything(store, D)
    slots: dict[str, set[int]] = {C: set(), D: set()}
    async for raw in client.scan_iter(match=f"{store.key_prefix}:*", count=1000):
        key = raw.decode()
        slots[C if C in key else D].add(client.keyslot(key))
    assert len(slots[C]) == len(slots[D]) == 1
    # they all sit on the master of that slot
    assert admin(port).hlen(store.key(C, "refresh_tokens")) == 1200
    assert await store.export_refresh_tokens(C) == {appid(i): f"r{i}" for i in range(1200)}


@pytest.mark.cluster
async def test_a_sentinel_master_for_client_writes_to_the_master_and_waits_for_the_replica(
    local_sentinel: LocalSentinel,
) -> None:
    sentinel = SentinelClient(local_sentinel)
    store = RedisTokenStore(sentinel.master, f"wxprivacy-sentinel-{uuid.uuid4().hex[:8]}")
    try:
        waits = calls(local_sentinel.master_port, "wait")
        await write_everything(store, C)
        assert calls(local_sentinel.master_port, "wait") - waits == 5
        assert await store.get_refresh_token(C, appid(0)) == "r0"
        for port in (local_sentinel.master_port, local_sentinel.replica_port):
            assert admin(port).hlen(store.key(C, "refresh_tokens")) == 1200
    finally:
        await store.aclose()
        await sentinel.aclose()


@pytest.mark.cluster
async def test_the_doctors_reading_of_a_cluster_store(
    on_cluster: tuple[Any, RedisTokenStore],
) -> None:
    """Issue 13 §4 on a Cluster: the lock keys are found on whichever node holds the slot."""
    _, store = on_cluster
    await store.set_verify_ticket(C, "ticket", 12 * 3600)
    await store.set_refresh_token(C, D, "r")
    async with store.lock(C, f"authorizer:{D}"):
        reading = await store.diagnostics(C)
    assert reading.backend.startswith("redis cluster")
    assert reading.refresh_tokens == 1
    assert reading.replicas == 1  # every master of the local cluster has one
    assert reading.persistent is True  # the fixture runs every node with appendonly yes
    assert reading.ticket_expires_in is not None and reading.ticket_expires_in > 12 * 3600 - 60
    (held,) = reading.locks
    assert held.name == f"authorizer:{D}" and held.held_for is not None
    assert (await store.diagnostics(C)).locks == ()
