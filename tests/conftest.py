"""Shared fixtures: paths to the copied WeChat fixtures, and a Redis URL for integration tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from redis_support import REDIS_URL, connect_or_skip
from redis_topologies import LocalCluster, LocalSentinel

__all__ = ["REDIS_URL"]


@pytest.fixture
async def redis_client() -> AsyncIterator[Any]:
    """A ``redis.asyncio.Redis`` on REDIS_URL; skips when unreachable (fails when CI=true)."""
    client = await connect_or_skip()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def redis_prefix(redis_client: Any) -> AsyncIterator[str]:
    """A unique key prefix for one test; every key under it is deleted afterwards."""
    prefix = f"wxprivacy-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await redis_client.delete(*keys)


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[LocalCluster]:
    """A local Redis Cluster (3 masters, a replica each) shared by the session; its servers are
    killed by PID afterwards. Skips without redis-server (fails when CI=true)."""
    topology = LocalCluster()
    try:
        yield topology
    finally:
        topology.stop()


@pytest.fixture(scope="session")
def local_sentinel() -> Iterator[LocalSentinel]:
    """A local master, replica and sentinel shared by the session (killed by PID afterwards)."""
    topology = LocalSentinel()
    try:
        yield topology
    finally:
        topology.stop()
