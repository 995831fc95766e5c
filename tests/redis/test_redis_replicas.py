"""Issue 14 §2: a refresh-token write waits for a replica's acknowledgement (``WAIT``).

Real servers of the test's own (a master with or without a replica, ``redis-server`` processes
killed by PID afterwards); what the store sent is read from the master's ``INFO commandstats``.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis_topologies import LocalReplicated, admin
from rhelpers import appid

from wxprivacy import AccessToken, InvalidArgumentError, TokenStoreError
from wxprivacy.redis import RedisTokenStore, ReplicaAckError

C = "wx0000000000000000"
Make = Callable[..., LocalReplicated]


def calls(port: int, command: str) -> int:
    """How many times the server on ``port`` ran ``command`` (0 if never)."""
    stats = admin(port).info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


@pytest.fixture
async def stores() -> AsyncIterator[Callable[..., RedisTokenStore]]:
    made: list[RedisTokenStore] = []

    def make(topology: LocalReplicated, **options: Any) -> RedisTokenStore:
        options.setdefault("local_cache_ttl", 0)
        # generous: a replica on a loaded machine may take a while to acknowledge
        options.setdefault("replica_timeout", 3.0)
        store = RedisTokenStore.from_url(topology.url, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


def tok(value: str) -> AccessToken:
    return AccessToken(value, time.time() + 7200)


async def write_everything(store: RedisTokenStore) -> None:
    """One write of each kind: 4 hold refresh tokens (the import is 3 chunks), 2 do not."""
    await store.set_verify_ticket(C, "ticket", 600)
    async with store.lock(C, "component") as fence:
        await store.set_component_token(C, tok("component"), fence=fence)
    await store.set_refresh_token(C, appid(0), "refresh-0")
    async with store.lock(C, f"authorizer:{appid(1)}") as fence:
        await store.set_authorizer_tokens(C, appid(1), tok("a1"), "refresh-1", fence=fence)
    await store.delete_authorizer(C, appid(0))
    backup = {appid(i): f"restored-{i}" for i in range(10, 1210)}
    assert await store.import_refresh_tokens(C, backup) == 1200


async def test_with_a_replica_every_refresh_token_write_waits_for_it(
    replicated: Make, stores: Any
) -> None:
    topology = replicated(replicas=1)
    store = stores(topology)
    infos = calls(topology.master_port, "info")
    await write_everything(store)
    assert calls(topology.master_port, "wait") == 6  # 3 writes + 3 import chunks
    replica = admin(topology.replica_port)
    # acknowledged means on the replica already: no polling
    assert replica.hget(store.key(C, "refresh_tokens"), appid(1)) == "refresh-1"
    assert replica.hlen(store.key(C, "refresh_tokens")) == 1201
    await store.set_refresh_token(C, appid(2), "refresh-2")
    assert replica.hget(store.key(C, "refresh_tokens"), appid(2)) == "refresh-2"
    # "auto" asked INFO replication once (the other two are this test's own INFO commandstats)
    assert calls(topology.master_port, "info") - infos == 3


@pytest.mark.parametrize("acks", ["auto", 0])
async def test_no_wait_without_replicas_in_auto_nor_with_zero(
    replicated: Make, stores: Any, acks: Any
) -> None:
    topology = replicated(replicas=0 if acks == "auto" else 1)
    store = stores(topology, replica_acks=acks)
    await write_everything(store)
    assert calls(topology.master_port, "wait") == 0
    assert await store.get_refresh_token(C, appid(1)) == "refresh-1"


@pytest.mark.parametrize("acks", ["auto", 1])
async def test_a_replica_that_does_not_acknowledge_is_a_typed_error(
    replicated: Make, stores: Any, acks: Any
) -> None:
    topology = replicated(replicas=1)
    store = stores(topology, replica_acks=acks)
    impatient = stores(topology, replica_acks=acks, replica_timeout=0.3)
    await store.set_refresh_token(C, appid(0), "refresh-0")
    await impatient.set_refresh_token(C, appid(0), "refresh-0")  # "auto" has seen the replica
    topology.pause(topology.replica_port)  # connected, answers nothing
    try:
        started = time.monotonic()
        with pytest.raises(ReplicaAckError) as info:
            await impatient.set_refresh_token(C, appid(0), "s3cr3t-refresh")
        assert 0.25 <= time.monotonic() - started < 4
    finally:
        topology.resume(topology.replica_port)
    error = info.value
    assert isinstance(error, TokenStoreError) and error.retryable
    assert (error.acked, error.needed, error.store) == (0, 1, "RedisTokenStore")
    assert "s3cr3t" not in str(error) and "0 of 1 replica(s)" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.acked, copy.needed, str(copy)) == (
        ReplicaAckError,
        0,
        1,
        str(error),
    )
    # the master has it (the error says so); once the replica is back, writes go through
    assert admin(topology.master_port).hget(store.key(C, "refresh_tokens"), appid(0)) == (
        "s3cr3t-refresh"
    )
    await store.set_refresh_token(C, appid(1), "refresh-1")
    assert admin(topology.replica_port).hget(store.key(C, "refresh_tokens"), appid(1)) == (
        "refresh-1"
    )


async def test_auto_stops_waiting_once_the_last_replica_is_gone(
    replicated: Make, stores: Any, caplog: pytest.LogCaptureFixture
) -> None:
    topology = replicated(replicas=1)
    store = stores(topology, replica_timeout=1.5)
    await store.set_refresh_token(C, appid(0), "refresh-0")
    topology.kill(topology.replica_port)
    topology.wait_replicas(topology.master_port, 0)
    with caplog.at_level(logging.WARNING, logger="wxprivacy"):
        # the cached answer still says one replica: WAIT comes back short, the store asks
        # again, finds none, and keeps the write
        assert await store.set_refresh_token(C, appid(1), "refresh-1") is True
    assert "no online replica" in caplog.text
    waits = calls(topology.master_port, "wait")
    assert await store.set_refresh_token(C, appid(2), "refresh-2") is True
    assert calls(topology.master_port, "wait") == waits == 2  # none after the short one
    assert await store.get_refresh_token(C, appid(1)) == "refresh-1"


async def test_explicit_acks_without_enough_replicas_fail(replicated: Make, stores: Any) -> None:
    topology = replicated(replicas=1)
    store = stores(topology, replica_acks=2, replica_timeout=0.2)
    with pytest.raises(ReplicaAckError) as info:
        await store.set_refresh_token(C, appid(0), "refresh-0")
    assert info.value.acked <= 1 and info.value.needed == 2
    assert await store.get_refresh_token(C, appid(0)) == "refresh-0"


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"replica_acks": -1}, "replica_acks"),
        ({"replica_acks": "always"}, "replica_acks"),
        ({"replica_acks": True}, "replica_acks"),
        ({"replica_acks": 1.0}, "replica_acks"),
        ({"replica_timeout": 0}, "replica_timeout"),
        ({"replica_timeout": 5.0}, "must be below timeout"),
        ({"replica_timeout": 2.0, "timeout": 1.0}, "must be below timeout"),
    ],
)
def test_replica_options_are_checked(options: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        RedisTokenStore.from_url("redis://127.0.0.1:1/0", **options)


@pytest.mark.parametrize(("limit", "wait"), [(5.0, 1.0), (0.3, 0.15)])
async def test_the_default_replica_timeout_fits_a_short_timeout(limit: float, wait: float) -> None:
    async with RedisTokenStore.from_url("redis://127.0.0.1:1/0", timeout=limit) as store:
        assert store._replicas.wait == wait
