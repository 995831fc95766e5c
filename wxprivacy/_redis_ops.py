"""Redis operations for RedisTokenStore: error mapping, argument checks, scripts, backup I/O.

Every Redis call of the store goes through :func:`run_op`, which bounds it in time and turns any
redis-py or socket failure into :class:`TokenStoreError` naming the store (never a raw redis
exception, never a token in the message).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from ._errors import InvalidArgumentError, TokenStoreError

__all__ = [
    "check_part",
    "check_seconds",
    "export_hash",
    "import_hash",
    "run_op",
    "text",
]

logger = logging.getLogger("wxprivacy.redis")
T = TypeVar("T")
Runner = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]

IMPORT_CHUNK: Final = 500
"""Refresh tokens written per pipeline round trip by :func:`import_hash`."""


async def run_op(
    what: str,
    op: Callable[[], Awaitable[T]],
    *,
    limit: float,
    store: str,
    gate: asyncio.Semaphore | None = None,
) -> T:
    """Await ``op()`` for at most ``limit`` seconds in all, re-running it once on a dead connection.

    A pooled connection that Redis closed (a restart, a failover, the server's idle ``timeout``)
    fails on its first use with ``ConnectionError`` before the command ran; redis-py drops that
    connection, and the one re-run gets a fresh one. Every operation of the store is safe to run
    twice (reads, and Lua scripts written to be idempotent). Timeouts are never re-run: the
    command may have run.

    With ``gate`` (a semaphore as large as the connection pool), an operation waits for a free
    connection in arrival order instead of failing with redis-py's ``MaxConnectionsError``; the
    wait counts against ``limit``.

    Raises:
        TokenStoreError: the operation timed out, or Redis or the socket failed (twice); the
            message says ``what`` was being done and the failure's class, nothing more.
    """
    try:
        async with asyncio.timeout(limit):
            if gate is not None:
                async with gate:
                    return await _once_more_on_a_dead_connection(what, op)
            return await _once_more_on_a_dead_connection(what, op)
    except TimeoutError:
        raise TokenStoreError(f"{what} timed out after {limit:g} s", store=store) from None
    except (RedisError, OSError) as exc:
        raise TokenStoreError(f"{what} failed ({type(exc).__name__})", store=store) from exc


async def _once_more_on_a_dead_connection(what: str, op: Callable[[], Awaitable[T]]) -> T:
    try:
        return await op()
    except (RedisConnectionError, ConnectionError) as first:
        logger.debug("%s: %s on a pooled connection; once more", what, type(first).__name__)
        return await op()


def text(value: Any) -> str:
    """Return a Redis reply as ``str`` (clients with and without ``decode_responses``)."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def check_part(name: str, value: str) -> str:
    """Return ``value`` if it can be part of a key: non-empty, no braces, no whitespace.

    Raises:
        InvalidArgumentError: otherwise (braces would break the Redis Cluster hash tag).
    """
    if not isinstance(value, str) or not value or any(c in value for c in "{}\r\n\t "):
        raise InvalidArgumentError(f"{name} must be a non-empty string without braces or spaces")
    return value


def check_seconds(name: str, value: float, *, low: float, high: float | None = None) -> float:
    """Return ``value`` as float if ``low <= value (<= high)``.

    Raises:
        InvalidArgumentError: not a number, or out of range.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < low
    ):
        raise InvalidArgumentError(
            f"{name} must be a finite number of seconds >= {low:g}, got {value!r}"
        )
    if high is not None and value > high:
        raise InvalidArgumentError(f"{name} must be at most {high:g} seconds, got {value!r}")
    return float(value)


async def export_hash(redis: Any, key: str) -> dict[str, str]:
    """Return every field of the hash ``key``, read with ``HSCAN`` (never blocks Redis long)."""
    found: dict[str, str] = {}
    async for field, value in redis.hscan_iter(key, count=1000):
        found[text(field)] = text(value)
    return found


async def import_hash(
    redis: Any, key: str, mapping: Mapping[str, str], *, overwrite: bool, run: Runner
) -> int:
    """Write ``mapping`` into the hash ``key``, :data:`IMPORT_CHUNK` fields per round trip.

    Entries with an empty field or value are skipped. Without ``overwrite`` existing fields are
    kept (``HSETNX``). Returns how many fields were written.

    Raises:
        TokenStoreError: through ``run``; earlier chunks stay written.
    """
    entries = [
        (field, value)
        for field, value in mapping.items()
        if isinstance(field, str) and field.strip() and isinstance(value, str) and value.strip()
    ]
    if len(entries) < len(mapping):
        logger.warning("skipped %d empty refresh-token entries", len(mapping) - len(entries))
    written = 0
    for start in range(0, len(entries), IMPORT_CHUNK):
        chunk = entries[start : start + IMPORT_CHUNK]

        async def write(chunk: list[tuple[str, str]] = chunk) -> list[Any]:
            async with redis.pipeline(transaction=False) as pipe:
                for field, value in chunk:
                    if overwrite:
                        pipe.hset(key, field, value)
                    else:
                        pipe.hsetnx(key, field, value)
                    # the pipeline queues commands; execute() sends them in one round trip
                result: list[Any] = await pipe.execute()
                return result

        results = await run("importing refresh tokens", write)
        written += len(chunk) if overwrite else sum(1 for r in results if r)
    return written
