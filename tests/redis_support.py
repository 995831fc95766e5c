"""Reaching the test Redis: REDIS_URL, and a connection that skips (or fails under CI)."""

from __future__ import annotations

import os
from typing import Any

import pytest

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


async def connect_or_skip() -> Any:
    """A ``redis.asyncio.Redis`` on REDIS_URL; skip when unreachable, fail when CI=true."""
    redis_asyncio = pytest.importorskip("redis.asyncio")
    client = redis_asyncio.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        await client.aclose()
        message = f"Redis at {REDIS_URL} is unreachable ({type(exc).__name__}: {exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true requires Redis")
        pytest.skip(message)
    return client
