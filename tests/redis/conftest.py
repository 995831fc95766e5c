"""Fixtures for the RedisTokenStore tests: stores on the per-test key prefix, and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from _proxy import TcpProxy
from fakes import APPSECRET, COMPONENT_APPID, FakeWeChat, no_sleep
from redis_topologies import LocalReplicated
from rhelpers import REDIS_URL

from wxprivacy import ComponentClient
from wxprivacy.redis import RedisTokenStore

StoreFactory = Callable[..., RedisTokenStore]


@pytest.fixture
async def new_store(redis_prefix: str) -> AsyncIterator[StoreFactory]:
    """``new_store(**options)``: a RedisTokenStore with its own connection, on the test prefix."""
    made: list[RedisTokenStore] = []

    def make(**options: Any) -> RedisTokenStore:
        url = options.pop("url", REDIS_URL)
        options.setdefault("key_prefix", redis_prefix)
        store = RedisTokenStore.from_url(url, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


@pytest.fixture
async def store(new_store: StoreFactory) -> RedisTokenStore:
    """A RedisTokenStore on the test prefix (local cache on, default settings)."""
    return new_store()


ClientFactory = Callable[..., ComponentClient]


@pytest.fixture
async def new_client() -> AsyncIterator[ClientFactory]:
    """``new_client(fake, store, **kw)``: a ComponentClient on a FakeWeChat; closed afterwards."""
    made: list[ComponentClient] = []

    def make(fake: FakeWeChat, store: RedisTokenStore, **kw: Any) -> ComponentClient:
        kw.setdefault("sleep", no_sleep)
        client = ComponentClient(
            COMPONENT_APPID, APPSECRET, token_store=store, http_client=fake.client(), **kw
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
        await client._wire.backend.http.aclose()


async def _start_proxy(redis_client: Any, *, blackhole: bool = False) -> TcpProxy:
    kwargs = redis_client.connection_pool.connection_kwargs
    proxy = TcpProxy(kwargs.get("host", "127.0.0.1"), kwargs.get("port", 6379), blackhole=blackhole)
    await proxy.start()
    return proxy


@pytest.fixture
async def proxy(redis_client: Any) -> AsyncIterator[TcpProxy]:
    """A TcpProxy in front of the test Redis (``proxy.url``; ``down()`` / ``up()``)."""
    started = await _start_proxy(redis_client)
    yield started
    await started.close()


@pytest.fixture
async def blackhole(redis_client: Any) -> AsyncIterator[TcpProxy]:
    """A TCP endpoint that accepts Redis connections and never answers."""
    started = await _start_proxy(redis_client, blackhole=True)
    yield started
    await started.close()


@pytest.fixture
def replicated() -> Iterator[Callable[..., LocalReplicated]]:
    """``replicated(replicas=1)``: a master of the test's own with that many replicas (real
    redis-server processes, killed by PID afterwards). Skips without redis-server."""
    made: list[LocalReplicated] = []

    def make(replicas: int = 1) -> LocalReplicated:
        topology = LocalReplicated(replicas=replicas)
        made.append(topology)
        return topology

    yield make
    for topology in made:
        topology.stop()
