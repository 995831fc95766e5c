"""RedisTokenStore: one token cache shared by many processes and machines.

Key layout (``P`` is ``key_prefix``, ``C`` the component appid; the braces are literal, a Redis
Cluster hash tag that keeps every key of one component in one slot)::

    P:{C}:ticket                         string  component_verify_ticket, TTL >= 12 h
    P:{C}:component_token                hash    value, expires_at, refresh_at; TTL = to expiry
    P:{C}:authorizer:<appid>:access      hash    value, expires_at, refresh_at; TTL = to expiry
    P:{C}:refresh_tokens                 hash    <authorizer appid> -> authorizer_refresh_token,
                                                 no TTL, never written empty
    P:{C}:lock:component                 string  refresh lock (random owner, PX lease, renewed
                                                 while held)
    P:{C}:lock:authorizer:<appid>        string  refresh lock of one authorizer token
    P:{C}:generations                    hash    <lock name> -> generation (fencing counter),
                                                 no TTL
    P:{C}:event_marks                    hash    <authorizer appid> -> CreateTime of the newest
                                                 authorization event applied, no TTL
    P:{C}:event:<event id>               string  an applied event's id, TTL 7 days

Every token write is one Lua script that checks the writer's fence (the lock generation it got)
or the event's place in WeChat's order before it writes, so a refresher whose lease ran out can
never overwrite a newer token. Deleting every ``*:access`` and ``*:component_token`` key loses
nothing: they are re-fetched from
the ticket and the refresh tokens. Only ``refresh_tokens`` (and, for 12 h, the ticket) cannot be
re-created by the SDK alone; back it up with :meth:`RedisTokenStore.export_refresh_tokens`.

This module (with ``_redis_quotas.py``, whose :class:`RedisQuotaStore` it exports) is the only one
that imports ``redis`` (``pip install wxprivacy[redis]``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

import attrs

try:
    import redis.asyncio as redis_asyncio
    from redis.asyncio.cluster import RedisCluster
except ModuleNotFoundError as exc:  # pragma: no cover - exercised only without the extra
    raise ModuleNotFoundError(
        "RedisTokenStore needs the redis package: pip install 'wxprivacy[redis]'", name=exc.name
    ) from exc

from ._checks import check_int
from ._closing import AsyncClosing
from ._errors import InvalidArgumentError, TokenStoreError
from ._local_cache import LocalTokenCache
from ._redis_lock import LOCK_HELD, LeaseLock, acquired_at, hold
from ._redis_ops import (
    check_part,
    check_seconds,
    describe_server,
    export_hash,
    glob_escape,
    import_hash,
    per_node,
    run_op,
    text,
)
from ._redis_replicas import ReplicaAckError, ReplicaAcks, ReplicaWaiter

if TYPE_CHECKING:
    from ._redis_quotas import RedisQuotaStore
from ._redis_scripts import (
    ACQUIRE_LUA,
    IMPORT_LUA,
    INVALIDATE_LUA,
    RELEASE_LUA,
    RENEW_LUA,
    WRITE_AUTHORIZER_LUA,
    WRITE_COMPONENT_LUA,
)
from ._store_diagnostics import HeldLock, StoreDiagnostics
from ._stores import (
    EVENT_MEMORY,
    TICKET_TTL,
    AccessToken,
    EventStamp,
    Fence,
    check_secret,
    event_is_new,
)

__all__ = ["RedisQuotaStore", "RedisTokenStore", "ReplicaAckError"]


def __getattr__(name: str) -> Any:
    # RedisQuotaStore also needs ``limits``: imported on first use, so a RedisTokenStore user
    # whose environment predates that dependency is not broken by it
    if name == "RedisQuotaStore":
        from ._redis_quotas import RedisQuotaStore

        return RedisQuotaStore
    raise AttributeError(f"module 'wxprivacy.redis' has no attribute {name!r}")


logger = logging.getLogger(__name__)
T = TypeVar("T")

_STORE: Final = "RedisTokenStore"
DEFAULT_MAX_CONNECTIONS: Final = 100
"""Connections the pool of a store made by :meth:`RedisTokenStore.from_url` holds at most."""
_MAX_LOCAL_CACHE_TTL: Final = 60.0
_REPLICA_TIMEOUT: Final = 1.0


class RedisTokenStore(AsyncClosing):
    """A :class:`TokenStore` in Redis, shared by every process and machine of an application.

    Refreshes are serialized across processes by a lease lock per token (``SET NX PX``, renewed
    while held, released with a Lua compare-and-delete, so a holder only frees its own lock);
    each acquisition bumps the lock's generation, and a refresher's write is a Lua script that
    writes only while that generation is still its own (fencing). Invalidation is a Lua
    compare-and-delete. A rotated refresh token is written with its access token in that one
    script, and when the master has a replica the write counts as done only once the replica
    acknowledged it (``WAIT``; see ``replica_acks``), so a failover cannot take it back. Works
    on a plain client, a Sentinel ``master_for()`` client and Redis Cluster (every key of a
    component shares one slot). Access tokens read from Redis are also kept
    ``local_cache_ttl`` seconds in this process, so the hot path costs no Redis round trip.

    Args:
        redis: a client owned by the caller (not closed by :meth:`aclose`): a
            ``redis.asyncio.Redis``, the ``master_for()`` client of a
            ``redis.asyncio.sentinel.Sentinel``, or a ``redis.asyncio.cluster.RedisCluster``.
        key_prefix: first part of every key; must not contain braces.
        lock_lease: seconds a refresh lock lives unless renewed; the holder renews it every
            third of that while it works, so it bounds only how long a crashed holder blocks
            others.
        lock_wait: seconds to wait for a refresh lock before :class:`LockTimeoutError`.
        local_cache_ttl: seconds an access token is served from this process's memory before
            Redis is asked again; ``0`` disables the local cache. At most 60 (WeChat keeps a
            superseded token valid for 5 minutes).
        timeout: seconds any single Redis operation may take before :class:`TokenStoreError`,
            re-runs while Redis is away (a restart, a failover) included.
        replica_acks: replicas that must acknowledge every write of a refresh token before it
            counts as stored (``WAIT``): ``"auto"`` waits for one when the master reports an
            online replica (checked at most once a minute) and for none otherwise; ``0`` never
            waits; ``n`` always waits for ``n``.
        replica_timeout: seconds to wait for those acknowledgements before
            :class:`ReplicaAckError`; below ``timeout``. Default: 1, or half of ``timeout``
            when that is shorter.
        clock: returns the current Unix time in seconds.

    Raises:
        InvalidArgumentError: a bad prefix, a negative or out-of-range number of seconds, or a
            bad ``replica_acks``.
    """

    def __init__(
        self,
        redis: redis_asyncio.Redis | RedisCluster,
        key_prefix: str = "wxprivacy",
        *,
        lock_lease: float = 30.0,
        lock_wait: float = 35.0,
        local_cache_ttl: float = 5.0,
        timeout: float = 5.0,
        replica_acks: ReplicaAcks = "auto",
        replica_timeout: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key_prefix = check_part("key_prefix", key_prefix)
        self.lock_lease = check_seconds("lock_lease", lock_lease, low=0.001)
        self.lock_wait = check_seconds("lock_wait", lock_wait, low=0.0)
        self.timeout = check_seconds("timeout", timeout, low=0.001)
        ttl = check_seconds("local_cache_ttl", local_cache_ttl, low=0, high=_MAX_LOCAL_CACHE_TTL)
        if replica_timeout is None:
            replica_timeout = min(_REPLICA_TIMEOUT, self.timeout / 2)
        replica_timeout = check_seconds("replica_timeout", replica_timeout, low=0.001)
        if replica_timeout >= self.timeout:
            raise InvalidArgumentError(
                f"replica_timeout ({replica_timeout:g} s) must be below timeout "
                f"({self.timeout:g} s)"
            )
        self._redis = redis
        self._where = describe_server(redis)
        self._owns_redis = False
        self._replicas = ReplicaWaiter(redis, replica_acks, replica_timeout, store=_STORE)
        if isinstance(redis, RedisCluster):  # one pool per node; a component uses one node
            pool_size = redis.get_connection_kwargs().get("max_connections")
        else:
            pool_size = getattr(redis.connection_pool, "max_connections", None)
        self._gate = asyncio.Semaphore(
            pool_size if isinstance(pool_size, int) and 0 < pool_size < 2**20 else 1024
        )
        self._clock = clock
        self._local = LocalTokenCache(ttl, clock)
        self._invalidate_script = redis.register_script(INVALIDATE_LUA)
        self._release_script = redis.register_script(RELEASE_LUA)
        self._lock_scripts = {
            "acquire": redis.register_script(ACQUIRE_LUA),
            "renew": redis.register_script(RENEW_LUA),
            "release": self._release_script,
        }
        self._write_component = redis.register_script(WRITE_COMPONENT_LUA)
        self._write_authorizer = redis.register_script(WRITE_AUTHORIZER_LUA)
        self._import = redis.register_script(IMPORT_LUA)
        self._renew_leases = True  # tests switch it off to act out a frozen holder

    @classmethod
    def from_url(
        cls,
        url: str,
        key_prefix: str = "wxprivacy",
        *,
        lock_lease: float = 30.0,
        lock_wait: float = 35.0,
        local_cache_ttl: float = 5.0,
        timeout: float = 5.0,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        replica_acks: ReplicaAcks = "auto",
        replica_timeout: float | None = None,
        clock: Callable[[], float] = time.time,
        **redis_options: Any,
    ) -> Self:
        """Connect to ``url`` (``redis://host:6379/0``, ``rediss://...``) with a client it owns.

        The client's pool holds at most ``max_connections`` connections (default 100); an
        operation that finds them all busy **waits** for one, in arrival order, rather than
        failing, within the operation's ``timeout``. Whatever redis-py's own retry settings
        (they differ between 5.x and 8.x, and 8.x's default does not cover a pooled connection the
        server closed), the store re-runs an operation at once on a fresh connection when a
        pooled one turns out dead (after a Redis restart, a failover, or the server's idle
        ``timeout``), and keeps re-running it with a capped backoff while Redis stays away,
        within ``timeout``: a failover shorter than ``timeout`` costs latency, not errors.

        ``redis_options`` go to ``redis.asyncio.Redis.from_url``; socket timeouts default to
        ``timeout``. :meth:`aclose` closes the client. Other arguments as for the constructor.

        Raises:
            InvalidArgumentError: ``max_connections`` below 1, or a bad argument as for the
                constructor.
        """
        check_int("max_connections", max_connections, low=1, high=65_535)
        redis_options.setdefault("socket_timeout", timeout)
        redis_options.setdefault("socket_connect_timeout", timeout)
        redis_options.setdefault("max_connections", max_connections)
        client = redis_asyncio.Redis.from_url(url, **redis_options)
        store = cls(
            client,
            key_prefix,
            lock_lease=lock_lease,
            lock_wait=lock_wait,
            local_cache_ttl=local_cache_ttl,
            timeout=timeout,
            replica_acks=replica_acks,
            replica_timeout=replica_timeout,
            clock=clock,
        )
        store._owns_redis = True
        return store

    def __repr__(self) -> str:
        return (
            f"RedisTokenStore(key_prefix={self.key_prefix!r}, lock_lease={self.lock_lease:g}, "
            f"lock_wait={self.lock_wait:g}, local_cache_ttl={self._local.ttl:g})"
        )

    async def aclose(self) -> None:
        """Close the Redis client if :meth:`from_url` created it; always clear the local cache."""
        self._local.clear()
        if self._owns_redis:
            await self._redis.aclose()

    # -- keys ------------------------------------------------------------------------------------

    def key(self, component_appid: str, *parts: str) -> str:
        """Return the Redis key ``<prefix>:{<component_appid>}:<parts...>``."""
        check_part("component_appid", component_appid)
        return ":".join((self.key_prefix, "{" + component_appid + "}", *parts))

    def _access_key(self, component_appid: str, authorizer_appid: str) -> str:
        check_part("authorizer_appid", authorizer_appid)
        return self.key(component_appid, "authorizer", authorizer_appid, "access")

    # -- plumbing --------------------------------------------------------------------------------

    async def _run(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        return await run_op(
            what, op, limit=self.timeout, store=_STORE, gate=self._gate, where=self._where
        )

    def _ttl_ms(self, token: AccessToken) -> int:
        return max(1, int((token.expires_at - self._clock()) * 1000))

    async def _read_token(self, key: str, what: str) -> AccessToken | None:
        if not LOCK_HELD.get():
            cached = self._local.get(key)
            if cached is not None:
                return cached
        epoch = self._local.epoch
        value, expires_at, refresh_at = await self._run(
            f"reading the {what}",
            lambda: self._redis.hmget(key, ["value", "expires_at", "refresh_at"]),
        )
        if value is None or expires_at is None:
            self._local.discard(key, failed=False)
            return None
        try:
            token = AccessToken(
                text(value),
                float(text(expires_at)),
                refresh_at=None if refresh_at is None else float(text(refresh_at)),
            )
        except ValueError:
            raise TokenStoreError(f"the stored {what} is malformed", store=_STORE) from None
        if token.expires_at <= self._clock():
            return None  # expired by our clock before Redis dropped the key
        self._local.put(key, token, epoch=epoch)
        return token

    def _token_args(self, token: AccessToken) -> list[str | int]:
        refresh_at = "" if token.refresh_at is None else repr(token.refresh_at)
        return [token.value, repr(token.expires_at), refresh_at, self._ttl_ms(token)]

    async def _invalidate(self, key: str, value: str, what: str) -> bool:
        self._local.discard(key)
        deleted = await self._run(
            f"invalidating the {what}",
            lambda: self._invalidate_script(keys=[key], args=[value]),
        )
        return bool(deleted)

    # -- ticket ----------------------------------------------------------------------------------

    async def get_verify_ticket(self, component_appid: str) -> str | None:
        """Return the stored ``component_verify_ticket``, or ``None``.

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        key = self.key(component_appid, "ticket")
        value = await self._run("reading the verify ticket", lambda: self._redis.get(key))
        return None if value is None else text(value)

    async def set_verify_ticket(self, component_appid: str, ticket: str, ttl: float) -> None:
        """Store the ticket for ``ttl`` seconds, never less than 12 h.

        Raises:
            InvalidArgumentError: the ticket is empty. TokenStoreError: Redis failed.
        """
        check_secret("component_verify_ticket", ticket)
        key = self.key(component_appid, "ticket")
        seconds = max(int(ttl), int(TICKET_TTL))
        await self._run(
            "storing the verify ticket", lambda: self._redis.set(key, ticket, ex=seconds)
        )

    # -- component token -------------------------------------------------------------------------

    async def get_component_token(self, component_appid: str) -> AccessToken | None:
        """Return the cached ``component_access_token`` (local cache first), or ``None``.

        Raises:
            TokenStoreError: Redis failed, timed out, or holds a malformed entry.
        """
        return await self._read_token(
            self.key(component_appid, "component_token"), "component token"
        )

    async def set_component_token(
        self, component_appid: str, token: AccessToken, *, fence: Fence
    ) -> bool:
        """Cache the component token until its ``expires_at`` if ``fence`` still holds.

        One Lua script: written only while the ``"component"`` lock's generation is
        ``fence.generation``. Returns whether it was written.

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        key = self.key(component_appid, "component_token")
        if fence.name != "component":
            return False
        keys = [self.key(component_appid, "generations"), key]
        args = [fence.name, fence.generation, *self._token_args(token)]
        written = await self._run(
            "storing the component token", lambda: self._write_component(keys=keys, args=args)
        )
        if written:
            self._local.put(key, token)
        else:
            self._local.discard(key)
        return bool(written)

    async def invalidate_component_token(self, component_appid: str, value: str) -> bool:
        """Delete the component token only if it still has ``value`` (Lua compare-and-delete).

        The local copy is dropped in any case. Returns ``True`` when Redis deleted it.

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        key = self.key(component_appid, "component_token")
        return await self._invalidate(key, value, "component token")

    # -- authorizer tokens -----------------------------------------------------------------------

    async def get_authorizer_token(
        self, component_appid: str, authorizer_appid: str
    ) -> AccessToken | None:
        """Return the cached ``authorizer_access_token`` (local cache first), or ``None``.

        Raises:
            TokenStoreError: Redis failed, timed out, or holds a malformed entry.
        """
        key = self._access_key(component_appid, authorizer_appid)
        return await self._read_token(key, "authorizer token")

    async def invalidate_authorizer_token(
        self, component_appid: str, authorizer_appid: str, value: str
    ) -> bool:
        """Delete the authorizer's token only if it still has ``value`` (see the component one).

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        key = self._access_key(component_appid, authorizer_appid)
        return await self._invalidate(key, value, "authorizer token")

    async def get_refresh_token(self, component_appid: str, authorizer_appid: str) -> str | None:
        """Return the ``authorizer_refresh_token`` (always read from Redis), or ``None``.

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        check_part("authorizer_appid", authorizer_appid)
        key = self.key(component_appid, "refresh_tokens")
        value = await self._run(
            "reading a refresh token", lambda: self._redis.hget(key, authorizer_appid)
        )
        return None if value is None else text(value)

    async def set_refresh_token(
        self,
        component_appid: str,
        authorizer_appid: str,
        refresh_token: str,
        *,
        event: EventStamp | None = None,
    ) -> bool:
        """Store the refresh token durably (no TTL) and bump the authorizer's generation.

        With ``event``, only if that event is new and not older than the watermark. Returns
        whether it was written.

        Raises:
            InvalidArgumentError: an empty refresh token. TokenStoreError: Redis failed.
        """
        check_secret("authorizer_refresh_token", refresh_token)
        return await self._write(
            "refresh", component_appid, authorizer_appid, refresh_token, None, None, event
        )

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
        """Store the access token and its (possibly rotated) refresh token in one Lua script.

        With ``fence``, only while the authorizer lock's generation is still its own; without,
        the generation is bumped. With ``event``, only if the event is new and not older than
        the watermark. Returns whether it was written.

        Raises:
            InvalidArgumentError: an empty refresh token (nothing is written).
            TokenStoreError: Redis failed or timed out (then neither is written).
        """
        check_secret("authorizer_refresh_token", refresh_token)
        return await self._write(
            "tokens", component_appid, authorizer_appid, refresh_token, token, fence, event
        )

    async def delete_authorizer(
        self, component_appid: str, authorizer_appid: str, *, event: EventStamp | None = None
    ) -> bool:
        """Forget the authorizer's access and refresh tokens; bump its generation.

        With ``event``, only if the event is new and not older than the watermark. Returns
        whether it was applied.

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        return await self._write("delete", component_appid, authorizer_appid, "", None, None, event)

    async def event_seen(
        self, component_appid: str, authorizer_appid: str, event: EventStamp
    ) -> bool:
        """Whether ``event`` was applied (in the last 7 days) or is older than the watermark.

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        check_part("authorizer_appid", authorizer_appid)
        key = self.key(component_appid, "event", check_part("event_id", event.event_id))
        marks = self.key(component_appid, "event_marks")

        async def read() -> Any:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.exists(key)
                pipe.hget(marks, authorizer_appid)
                return await pipe.execute()

        applied, mark = await self._run("reading an event's state", read)
        watermark = None if mark is None else int(text(mark))
        return not event_is_new(event, watermark, bool(applied))

    async def _write(
        self,
        op: str,
        component_appid: str,
        authorizer_appid: str,
        refresh_token: str,
        token: AccessToken | None,
        fence: Fence | None,
        event: EventStamp | None,
    ) -> bool:
        access_key = self._access_key(component_appid, authorizer_appid)
        name = f"authorizer:{authorizer_appid}"
        if fence is not None and fence.name != name:
            return False
        event_key = self.key(
            component_appid, "event", check_part("event_id", event.event_id) if event else "-"
        )
        keys = [
            self.key(component_appid, "generations"),
            access_key,
            self.key(component_appid, "refresh_tokens"),
            self.key(component_appid, "event_marks"),
            event_key,
        ]
        token_args = self._token_args(token) if token is not None else ["", "", "", 0]
        args = [
            op,
            name,
            "" if fence is None else fence.generation,
            authorizer_appid,
            refresh_token,
            *token_args,
            "" if event is None else int(event.create_time),
            int(EVENT_MEMORY),
            secrets.token_hex(8),
        ]
        self._local.discard(access_key)
        written = await self._run(
            f"writing authorizer tokens ({op})",
            lambda: self._replicas.run(self._write_authorizer, keys, args),
        )
        if written and token is not None:
            self._local.put(access_key, token)
        return bool(written)

    # -- backup ----------------------------------------------------------------------------------

    async def export_refresh_tokens(self, component_appid: str) -> dict[str, str]:
        """Return every stored refresh token as ``{authorizer_appid: authorizer_refresh_token}``.

        Reads with ``HSCAN``, so a large hash never blocks Redis; keep the result secret.

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        key = self.key(component_appid, "refresh_tokens")
        return await self._run("exporting refresh tokens", lambda: export_hash(self._redis, key))

    async def import_refresh_tokens(
        self, component_appid: str, mapping: Mapping[str, str], *, overwrite: bool = False
    ) -> int:
        """Store refresh tokens from a backup; return how many were written.

        Entries with an empty appid or an empty token are skipped (never written). Without
        ``overwrite``, a token already stored for an appid is kept (``HSETNX``). Each chunk of
        500 is one Lua script that also bumps the generation of every authorizer it wrote (a
        refresh in flight cannot overwrite a restored token), followed by the replicas' ``WAIT``
        as for any refresh-token write.

        Raises:
            InvalidArgumentError: an appid the store refuses everywhere else (braces, spaces):
                nothing is written.
            TokenStoreError: Redis failed or timed out (earlier chunks of 500 stay written);
                :class:`ReplicaAckError` when too few replicas acknowledged a chunk.
        """
        for authorizer_appid in mapping:
            if isinstance(authorizer_appid, str) and authorizer_appid:
                check_part("authorizer_appid", authorizer_appid)
        keys = [
            self.key(component_appid, "refresh_tokens"),
            self.key(component_appid, "generations"),
        ]
        flag = "1" if overwrite else "0"

        async def write(entries: list[str]) -> int:
            written: int = await self._replicas.run(self._import, keys, [flag, *entries])
            return written

        return await import_hash(mapping, write=write, run=self._run)

    # -- doctor ----------------------------------------------------------------------------------

    async def diagnostics(self, component_appid: str) -> StoreDiagnostics:
        """What ``wxprivacy doctor`` reports: where the store is, the verify ticket's time left
        (``PTTL``), the count of refresh tokens (``HLEN``) and the refresh locks held now
        (``SCAN`` of the component's lock keys, their values and ``PTTL``).

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        ticket_key = self.key(component_appid, "ticket")
        tokens_key = self.key(component_appid, "refresh_tokens")
        lock_prefix = self.key(component_appid, "lock") + ":"
        redis = self._redis

        async def read() -> StoreDiagnostics:
            ticket_ms = await redis.pttl(ticket_key)
            count = await redis.hlen(tokens_key)
            now = self._clock()
            locks: list[HeldLock] = []
            async for key in redis.scan_iter(match=glob_escape(lock_prefix) + "*", count=1000):
                name = text(key)[len(lock_prefix) :]
                owner, lease_ms = await redis.get(key), await redis.pttl(key)
                if owner is None:
                    continue  # released between the scan and the read
                since = acquired_at(text(owner))
                locks.append(
                    HeldLock(
                        name=name,
                        held_for=None if since is None else max(0.0, now - since),
                        lease_left=lease_ms / 1000 if lease_ms >= 0 else None,
                    )
                )
            return StoreDiagnostics(
                backend=self._where,
                shared=True,
                key_prefix=self.key_prefix,
                ticket_expires_in=ticket_ms / 1000 if ticket_ms >= 0 else None,
                refresh_tokens=int(count),
                locks=tuple(sorted(locks, key=lambda lock: lock.name)),
            )

        reading = await self._run("reading the store's state", read)
        persistent, replicas = await self._run("reading the server's persistence", self._durability)
        return attrs.evolve(reading, persistent=persistent, replicas=replicas)

    async def _durability(self) -> tuple[bool | None, int | None]:
        """Whether AOF is on (on every node of a Cluster) and how many replicas are connected
        (``INFO persistence``, ``INFO replication``); ``None`` where the server does not say."""
        try:
            persistence = await self._redis.info("persistence")
            replication = await self._redis.info("replication")
        except redis_asyncio.ResponseError:  # INFO renamed or refused (some managed services)
            return None, None
        aof = [int(node.get("aof_enabled", -1)) for node in per_node(persistence)]
        slaves = [int(node.get("connected_slaves", -1)) for node in per_node(replication)]
        persistent = None if not aof or -1 in aof else all(aof)
        replicas = None if not slaves or -1 in slaves else min(slaves)
        return persistent, replicas

    # -- lock ------------------------------------------------------------------------------------

    def lock(self, component_appid: str, name: str) -> AbstractAsyncContextManager[Fence]:
        """Hold the refresh lock ``name`` of the component across every process and machine.

        ``name`` is ``"component"`` or ``"authorizer:<appid>"``. Yields the :class:`Fence` of
        this acquisition (the lock's generation, bumped by it). While it is held, a watchdog
        renews the lease every ``lock_lease / 3`` seconds, and reads by this task skip the local
        cache (the double-checked read must see Redis).

        Raises:
            LockTimeoutError: not acquired within ``lock_wait`` seconds.
            TokenStoreError: Redis failed or timed out.
        """
        lease = LeaseLock(
            self.key(component_appid, "lock", name),
            self.key(component_appid, "generations"),
            name,
            lease=self.lock_lease,
            wait=self.lock_wait,
            run=self._run,
            scripts=self._lock_scripts,
            store=_STORE,
            renew=self._renew_leases,
        )
        return hold(lease)
