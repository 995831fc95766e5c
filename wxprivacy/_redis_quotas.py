"""RedisQuotaStore: request counts and quota holds shared by every worker through Redis.

Key layout (``P`` is ``key_prefix``, ``C`` the component appid; the braces keep a component's
keys in one Redis Cluster slot)::

    P:{C}:hold:<hold key>                  string  Unix seconds the hold lasts until; PX TTL to then
    P:limits/LIMITER/{C}/<endpoint>/...   zset    the moving window of ``limits`` (maintained by it)

The per-minute counting is the moving window of the ``limits`` library
(:class:`limits.aio.strategies.MovingWindowRateLimiter` over its async Redis storage, the
redis-py implementation): one Lua script per request answers "may I" and counts it. It uses the
Redis client's connection pool this store was given, so it needs no connection of its own. Its
timestamps come from each worker's clock (``time.time()``): keep the fleet's clocks in sync
(``wxprivacy doctor`` checks the offset against WeChat's).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, TypeVar

import redis.asyncio as redis_asyncio

try:
    from limits import RateLimitItemPerSecond
    from limits.aio.storage import RedisStorage
    from limits.aio.strategies import MovingWindowRateLimiter
except ModuleNotFoundError as exc:  # pragma: no cover - exercised only without the extra
    raise ModuleNotFoundError(
        "RedisQuotaStore needs the limits package: pip install 'wxprivacy[redis]'", name=exc.name
    ) from exc

from ._appid import check_appid
from ._checks import check_int
from ._closing import AsyncClosing
from ._errors import InvalidArgumentError
from ._quotas import JITTER, MAX_PER_MINUTE, check_until
from ._redis_ops import check_part, check_seconds, describe_server, run_op, text

__all__ = ["RedisQuotaStore"]

T = TypeVar("T")
_STORE: Final = "RedisQuotaStore"
_HOLD_LUA: Final = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local until_s = tonumber(ARGV[1])
if until_s > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""


class RedisQuotaStore(AsyncClosing):
    """A :class:`QuotaStore` in Redis: every worker that shares it shares the limits and holds.

    Pass it to every client of the fleet (``ComponentClient(..., quota_store=store)``) with the
    same ``rate_limits``: together they start at most that many requests per minute per
    endpoint, and a 45011 or 45009 any of them sees holds the others from their next attempt on.
    Each attempt costs one Redis round trip for the holds, and one more for a limited endpoint.

    Args:
        redis: a ``redis.asyncio.Redis`` (a Sentinel ``master_for()`` client too) owned by the
            caller, not closed by :meth:`aclose`. It may be the one a ``RedisTokenStore`` uses.
        key_prefix: first part of every key; no braces or spaces.
        timeout: seconds any single Redis operation may take (re-runs while Redis is away
            included) before :class:`TokenStoreError`.
        window: whole seconds of WeChat's window a ``rate_limits`` entry holds for: 60 (per
            minute, as ``rate_limits`` says; counted over one second more, see
            ``_quotas.JITTER``); tests shorten it so a shared limit shows in seconds.
        clock: returns the current Unix time in seconds.

    Raises:
        InvalidArgumentError: a bad prefix, timeout or window.
    """

    def __init__(
        self,
        redis: redis_asyncio.Redis,
        key_prefix: str = "wxprivacy",
        *,
        timeout: float = 5.0,
        window: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_int("window", window, low=1, high=86_400, unit="(seconds)")
        self.window = window
        if not isinstance(redis, redis_asyncio.Redis):
            raise InvalidArgumentError(
                "RedisQuotaStore needs a redis.asyncio.Redis client (a Sentinel master_for() "
                f"client too), got {type(redis).__module__}.{type(redis).__name__}: Redis "
                "Cluster is not supported by it yet, and a synchronous client cannot be awaited"
            )
        self.key_prefix = check_part("key_prefix", key_prefix)
        self.timeout = check_seconds("timeout", timeout, low=0.001)
        self._redis = redis
        self._where = describe_server(redis)
        self._clock = clock
        self._owns_redis = False
        self._hold_script = redis.register_script(_HOLD_LUA)
        # limits types its options as scalars, but hands ``connection_pool`` to redis-py
        shared: dict[str, Any] = {"connection_pool": redis.connection_pool}
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=f"{key_prefix}:limits",
            **shared,
        )
        self._window = MovingWindowRateLimiter(storage)
        self._items: dict[int, Any] = {}

    @classmethod
    def from_url(
        cls,
        url: str,
        key_prefix: str = "wxprivacy",
        *,
        timeout: float = 5.0,
        window: int = 60,
        clock: Callable[[], float] = time.time,
        **redis_options: Any,
    ) -> RedisQuotaStore:
        """Connect to ``url`` (``redis://host:6379/0``) with a client :meth:`aclose` closes.

        Raises:
            InvalidArgumentError: a bad prefix, timeout or window.
        """
        redis_options.setdefault("socket_timeout", timeout)
        redis_options.setdefault("socket_connect_timeout", timeout)
        store = cls(
            redis_asyncio.Redis.from_url(url, **redis_options),
            key_prefix,
            timeout=timeout,
            window=window,
            clock=clock,
        )
        store._owns_redis = True
        return store

    def __repr__(self) -> str:
        return f"RedisQuotaStore(key_prefix={self.key_prefix!r})"

    async def aclose(self) -> None:
        """Close the Redis client if :meth:`from_url` created it."""
        if self._owns_redis:
            await self._redis.aclose()

    def _hold_key(self, component_appid: str, key: str) -> str:
        check_appid("component_appid", component_appid)
        return f"{self.key_prefix}:{{{component_appid}}}:hold:{key}"

    async def _run(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        return await run_op(what, op, limit=self.timeout, store=_STORE, where=self._where)

    async def take(self, component_appid: str, endpoint: str, per_minute: int) -> float:
        """Count one request at ``endpoint`` in the fleet's moving window (``window`` seconds,
        60 by default) if fewer than ``per_minute`` were counted there, and return ``0.0``;
        else return the seconds until the oldest one leaves the window.

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        check_appid("component_appid", component_appid)
        check_int("per_minute", per_minute, low=1, high=MAX_PER_MINUTE)
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = RateLimitItemPerSecond(
                per_minute, self.window + int(JITTER)
            )
        ids = ("{" + component_appid + "}", endpoint)
        if await self._run("counting a request", lambda: self._window.hit(item, *ids)):
            return 0.0
        stats = await self._run(
            "reading the request window", lambda: self._window.get_window_stats(item, *ids)
        )
        return max(float(stats.reset_time) - self._clock(), 1e-3)

    async def hold(self, component_appid: str, key: str, until: float) -> None:
        """Hold ``key`` until Unix time ``until``, for every worker (never shortened).

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        name = self._hold_key(component_appid, key)
        until = check_until(until)
        ttl_ms = max(1, int((until - self._clock()) * 1000))
        await self._run(
            "storing a quota hold",
            lambda: self._hold_script(keys=[name], args=[repr(until), ttl_ms]),
        )

    async def held_until(self, component_appid: str, keys: Sequence[str]) -> float | None:
        """The latest Unix time any of ``keys`` is held until, or ``None`` (one ``MGET``).

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        names = [self._hold_key(component_appid, key) for key in keys]
        values = await self._run("reading quota holds", lambda: self._redis.mget(names))
        now = self._clock()
        held = [float(text(value)) for value in values if value is not None]
        latest = max(held, default=None)
        return latest if latest is not None and latest > now else None

    async def release(self, component_appid: str, key: str) -> None:
        """Lift the hold ``key`` for every worker.

        Raises:
            TokenStoreError: Redis failed or timed out.
        """
        name = self._hold_key(component_appid, key)
        await self._run("lifting a quota hold", lambda: self._redis.delete(name))
