"""Redis operations for RedisTokenStore: error mapping, argument checks, scripts, backup I/O.

Every Redis call of the store goes through :func:`run_op`, which bounds it in time and turns any
redis-py or socket failure into :class:`TokenStoreError` naming the store (never a raw redis
exception, never a token in the message).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    ClusterDownError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from ._checks import check_seconds, shown
from ._errors import InvalidArgumentError, TokenStoreError
from ._redact import redact

__all__ = [
    "FIRST_BACKOFF",
    "MAX_BACKOFF",
    "TRANSIENT_ERRORS",
    "check_part",
    "check_seconds",
    "export_hash",
    "glob_escape",
    "per_node",
    "import_hash",
    "is_transient",
    "run_op",
    "text",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")
Runner = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]

IMPORT_CHUNK: Final = 500
"""Refresh tokens written per script (one round trip) by :func:`import_hash`."""
FIRST_BACKOFF: Final = 0.025
"""Seconds before the second re-run of an operation Redis did not answer (the first is at once)."""
MAX_BACKOFF: Final = 0.5
"""Seconds at most between two re-runs of an operation while Redis is away."""

TRANSIENT_ERRORS: Final = (
    RedisConnectionError,  # refused, reset, closed; also BusyLoadingError (loading its data)
    ConnectionError,  # the socket's own errors, when redis-py lets one through
    ClusterDownError,  # CLUSTERDOWN, MASTERDOWN: a failover in progress
    TryAgainError,  # TRYAGAIN: a slot being moved
    ReadOnlyError,  # a demoted master (or a replica) refused a write
    RedisClusterException,  # no node reachable, a slot no node serves (yet)
)
"""Failures that mean "Redis is away for now": :func:`run_op` runs the operation again."""
_PERMANENT_ERRORS: Final = (AuthenticationError, AuthorizationError)


async def run_op(
    what: str,
    op: Callable[[], Awaitable[T]],
    *,
    limit: float,
    store: str,
    gate: asyncio.Semaphore | None = None,
    where: str = "",
) -> T:
    """Await ``op()`` for at most ``limit`` seconds in all, re-running it while Redis is away.

    A pooled connection that Redis closed (a restart, the server's idle ``timeout``) fails on
    its first use before the command ran; the first re-run, at once, gets a fresh connection.
    While Redis stays away (a failover: the old master is gone and no replica has taken over
    yet; a Cluster answering ``CLUSTERDOWN``; a demoted master refusing writes), the operation
    is re-run with a capped backoff (:data:`FIRST_BACKOFF` doubling up to :data:`MAX_BACKOFF`)
    until it answers or ``limit`` runs out, so a failover shorter than ``limit`` costs latency
    and no error. Every operation of the store is safe to run twice (reads, and Lua scripts
    written to be idempotent), also when the first run's reply was lost with its connection.

    With ``gate`` (a semaphore as large as the connection pool), an operation waits for a free
    connection in arrival order instead of failing with redis-py's ``MaxConnectionsError``; the
    wait counts against ``limit``.

    Raises:
        TokenStoreError: the operation timed out, Redis stayed away for ``limit`` seconds, or
            Redis or the socket failed otherwise; the message says ``what`` was being done,
            ``where`` (the server: host, port and database, never a password) and the failure
            (its class and redacted text, e.g. "DB index is out of range").
    """
    on = f" on {where}" if where else ""
    attempts = _Attempts()
    try:
        async with asyncio.timeout(limit):
            if gate is not None:
                async with gate:
                    return await _until_redis_answers(what, op, attempts)
            return await _until_redis_answers(what, op, attempts)
    except TimeoutError:
        if attempts.last is not None:
            raise TokenStoreError(
                f"{what}{on} failed ({_reason(attempts.last)}) and Redis was still away "
                f"after {limit:g} s",
                store=store,
            ) from attempts.last
        raise TokenStoreError(f"{what}{on} timed out after {limit:g} s", store=store) from None
    except (RedisError, RedisClusterException, OSError) as exc:
        raise TokenStoreError(f"{what}{on} failed ({_reason(exc)})", store=store) from exc


def _reason(exc: BaseException) -> str:
    """The failure's class and its text, redacted and cut (redis-py's messages name the host
    and the reason, e.g. "DB index is out of range"; never the password)."""
    text = redact(str(exc)).strip()
    if len(text) > 200:
        text = text[:200] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def describe_server(client: Any) -> str:
    """Where ``client`` sends: ``redis 127.0.0.1:6379 db 0``, a socket path, a Cluster's first
    node, or ``Redis`` when nothing can be read (a password is never part of it)."""
    pool = getattr(client, "connection_pool", None)
    kwargs: Mapping[str, Any] = getattr(pool, "connection_kwargs", None) or {}
    db = kwargs.get("db", 0)
    if kwargs.get("path"):
        return f"redis unix:{kwargs['path']} db {db}"
    if kwargs.get("host"):
        return f"redis {kwargs['host']}:{kwargs.get('port', 6379)} db {db}"
    service = getattr(pool, "service_name", None)
    if service:
        return f"redis sentinel service {service!r}"
    nodes = getattr(client, "startup_nodes", None)
    if nodes:
        first = nodes[0]
        return f"redis cluster {getattr(first, 'host', '?')}:{getattr(first, 'port', '?')}"
    return "Redis"


class _Attempts:
    """The last transient failure of an operation (for the message when time runs out)."""

    last: BaseException | None = None


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` says Redis is (for now) away, so the same operation may succeed soon."""
    return isinstance(exc, TRANSIENT_ERRORS) and not isinstance(exc, _PERMANENT_ERRORS)


async def _until_redis_answers(what: str, op: Callable[[], Awaitable[T]], attempts: _Attempts) -> T:
    delay = 0.0  # the first re-run at once: a pooled connection the server closed
    while True:
        try:
            return await op()
        except Exception as exc:
            if not is_transient(exc):
                raise
            logger.debug("%s: %s; running it again", what, type(exc).__name__)
            attempts.last = exc
        if delay:
            await asyncio.sleep(random.uniform(delay / 2, delay))
        delay = min(max(2 * delay, FIRST_BACKOFF), MAX_BACKOFF)


def text(value: Any) -> str:
    """Return a Redis reply as ``str`` (clients with and without ``decode_responses``)."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def check_part(name: str, value: str) -> str:
    """Return ``value`` if it can be part of a key: non-empty, no braces, no white space or
    other unprintable character.

    Raises:
        InvalidArgumentError: otherwise (braces would break the Redis Cluster hash tag).
    """
    # isprintable() is False for every white space character but the ASCII space
    if (
        not isinstance(value, str)
        or not value
        or not value.isprintable()
        or any(c in value for c in "{} ")
    ):
        raise InvalidArgumentError(
            f"{name} must be a non-empty string without braces or spaces, got {shown(value)}"
        )
    return value


def per_node(info: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The sections of an ``INFO`` answer, one per node: a plain client's answer is one node's;
    a Cluster's is ``{node name: that node's answer}`` (the masters only, by default)."""
    if info and all(isinstance(value, Mapping) for value in info.values()):
        return list(info.values())
    return [info]


def glob_escape(value: str) -> str:
    """``value`` with the characters Redis's ``MATCH`` patterns read as wildcards escaped."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in value)


async def export_hash(redis: Any, key: str) -> dict[str, str]:
    """Return every field of the hash ``key``, read with ``HSCAN`` (never blocks Redis long)."""
    found: dict[str, str] = {}
    async for field, value in redis.hscan_iter(key, count=1000):
        found[text(field)] = text(value)
    return found


async def import_hash(
    mapping: Mapping[str, str],
    *,
    write: Callable[[list[str]], Awaitable[int]],
    run: Runner,
) -> int:
    """Write ``mapping`` with ``write``, :data:`IMPORT_CHUNK` entries per call.

    Entries with an empty field or value are skipped. ``write`` gets one chunk as a flat list
    ``[field, value, field, value, ...]`` and returns how many it wrote. Returns how many fields
    were written in all.

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
        flat = [item for entry in entries[start : start + IMPORT_CHUNK] for item in entry]

        async def chunk(flat: list[str] = flat) -> int:
            return await write(flat)

        written += await run("importing refresh tokens", chunk)
    return written
