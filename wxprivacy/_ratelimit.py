"""Per-component, per-endpoint request rates, and the holds 45011 and 45009 impose.

One :class:`RateLimiter` belongs to each client (one component). Before every HTTP attempt the
client awaits :meth:`RateLimiter.acquire` for the endpoint. The counts and holds live in a
:class:`~wxprivacy._quotas.QuotaStore`: this process's memory by default, or Redis
(``wxprivacy.redis.RedisQuotaStore``) so that every worker of a fleet shares them:

- with a limit of N requests per minute for an endpoint (off unless configured), no more than
  N attempts start within any 61 seconds (WeChat's minute plus 1 s for the time a request takes
  to reach WeChat), counted by every process that shares the store (a moving window, so it also
  holds for WeChat's calendar minutes whatever the clock offset);
- after WeChat answered 45011 for the endpoint, attempts wait until the next whole minute of the
  client's clock (:attr:`MinuteQuotaExceededError.retry_at`; WeChat's answer names no time):
  every call in this minute would fail;
- after WeChat answered 45009 (daily quota), calls that count against the same quota fail at
  once with :class:`QuotaExceededError`, unsent, until the hold ends (see ``_quotas.py`` for
  what counts against what, and when it ends).

The store answers "may I" and never waits; the waiting is here: callers of one endpoint are
served first come, first served, each wait one ``sleep`` of the computed length.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from collections.abc import Awaitable, Callable, Mapping

from ._checks import check_int, shown
from ._errors import InvalidArgumentError, QuotaExceededError
from ._quotas import (
    MAX_PER_MINUTE,
    WINDOW,
    MemoryQuotaStore,
    QuotaStore,
    daily_key,
    minute_key,
    next_daily_reset,
)

__all__ = ["MAX_PER_MINUTE", "WINDOW", "RateLimiter"]

logger = logging.getLogger(__name__)


class RateLimiter:
    """Requests-per-minute limits per WeChat endpoint, plus 45011 and 45009 holds.

    Args:
        per_minute: ``{endpoint path: requests per minute}``, e.g.
            ``{"/cgi-bin/component/getprivacysetting": 1000}``; endpoints not named are not
            limited. Empty (the default) limits nothing; 45011 and 45009 holds still apply.
        component_appid: the component whose quotas these are.
        store: where counts and holds live; a :class:`MemoryQuotaStore` (this process only)
            by default.
        clock: returns the current Unix time in seconds.
        sleep: awaitable sleep in seconds (tests inject one that advances their clock).

    Raises:
        InvalidArgumentError: a limit that is not an int >= 1.
    """

    def __init__(
        self,
        per_minute: Mapping[str, int] | None = None,
        *,
        component_appid: str = "",
        store: QuotaStore | None = None,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if per_minute is not None and not isinstance(per_minute, Mapping):
            raise InvalidArgumentError(
                "rate_limits must map endpoint paths to requests per minute, e.g. "
                '{"/cgi-bin/component/getprivacysetting": 1000}'
            )
        limits = dict(per_minute or {})
        for endpoint, limit in limits.items():
            if (
                not isinstance(endpoint, str)
                or not endpoint.startswith("/")
                or any(c in endpoint for c in "?# ")
            ):
                raise InvalidArgumentError(
                    f"rate limit keys are endpoint paths such as "
                    f"/cgi-bin/component/getprivacysetting, got {shown(endpoint)}"
                )
            check_int(
                f"rate limit for {endpoint}", limit, low=1, high=MAX_PER_MINUTE, unit="per minute"
            )
        if store is not None and not isinstance(store, QuotaStore):
            raise InvalidArgumentError(
                f"quota_store must implement QuotaStore, got {type(store).__name__}"
            )
        self.per_minute: Mapping[str, int] = limits
        self.component_appid = component_appid
        self._clock = clock
        self._sleep = sleep or asyncio.sleep
        self.store: QuotaStore = store if store is not None else MemoryQuotaStore(clock=clock)
        # the memory store answers "nothing held" without an await: unlimited endpoints of a
        # client without holds then cost nothing here
        self._memory = self.store if type(self.store) is MemoryQuotaStore else None
        self._locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"RateLimiter(per_minute={dict(self.per_minute)!r}, store={self.store!r})"

    async def paused_until(self, endpoint: str) -> float | None:
        """Unix seconds until which ``endpoint`` is held by a 45011, or ``None``."""
        return await self.store.held_until(self.component_appid, [minute_key(endpoint)])

    async def pause(self, endpoint: str, until: float) -> None:
        """Hold every attempt at ``endpoint`` until Unix time ``until`` (seconds): a 45011.

        A later pause extends an earlier one; an earlier one never shortens it.
        """
        await self.store.hold(self.component_appid, minute_key(endpoint), until)
        logger.warning(
            "minute quota reached for %s: holding its calls for %.1f s",
            endpoint,
            max(0.0, until - self._clock()),
        )

    async def block_for_the_day(self, endpoint: str, authorizer_appid: str | None) -> float:
        """Hold the calls that count against the quota a 45009 named (see ``_quotas.py``) until
        the assumed reset (:func:`next_daily_reset`); return that Unix time."""
        until = next_daily_reset(self._clock())
        await self.store.hold(self.component_appid, daily_key(endpoint, authorizer_appid), until)
        logger.warning(
            "daily quota reached for %s%s: its calls fail unsent until %s",
            endpoint,
            f" (authorizer {authorizer_appid})" if authorizer_appid else "",
            _dt.datetime.fromtimestamp(until, _dt.UTC).isoformat(timespec="seconds"),
        )
        return until

    def idle(self, endpoint: str) -> bool:
        """Whether :meth:`acquire` would return at once for ``endpoint`` without counting
        anything: the endpoint is not limited and a memory store holds nothing (no await)."""
        memory = self._memory
        return endpoint not in self.per_minute and memory is not None and not memory.held_anything()

    async def acquire(self, endpoint: str, authorizer_appid: str | None = None) -> None:
        """Wait until one more attempt at ``endpoint`` may start, and count it.

        Returns at once when the endpoint is not limited and nothing is held in a memory store
        (no lock, no await beyond this call); a shared store is asked once per attempt.

        Raises:
            QuotaExceededError: a 45009 holds the quota this call counts against (nothing sent).
            TokenStoreError: a shared store failed.
        """
        if self.idle(endpoint):
            return
        limit = self.per_minute.get(endpoint)
        comp = self.component_appid
        daily = [daily_key(endpoint, None)]
        if authorizer_appid:
            daily.append(daily_key(endpoint, authorizer_appid))
        keys = [minute_key(endpoint), *daily]
        lock = self._locks.get(endpoint)
        if lock is None:
            lock = self._locks[endpoint] = asyncio.Lock()
        async with lock:
            # Time advances by the waits themselves (``now = max(clock(), end of wait)``), so a
            # fake clock that does not move cannot make this loop forever.
            now = self._clock()
            while True:
                held = await self.store.held_until(comp, keys)
                if held is not None:
                    day = await self.store.held_until(comp, daily)
                    if day is not None:
                        raise _held_for_the_day(endpoint, authorizer_appid, day)
                    if now < held:
                        await self._sleep(held - now)
                        now = max(self._clock(), held)
                        continue  # a later hold may have been set meanwhile
                if limit is None:
                    return
                wait = await self.store.take(comp, endpoint, limit)
                if wait <= 0:
                    return
                await self._sleep(wait)
                now = max(self._clock(), now + wait)


def _held_for_the_day(endpoint: str, authorizer_appid: str | None, until: float) -> Exception:
    when = _dt.datetime.fromtimestamp(until, _dt.UTC).isoformat(timespec="seconds")
    whose = f" for authorizer {authorizer_appid}" if authorizer_appid else ""
    return QuotaExceededError(
        45009,
        f"not sent: WeChat answered 45009 (daily quota) for {endpoint}{whose} earlier; calls "
        f"are held until {when} (the assumed reset: midnight UTC+8)",
        endpoint=endpoint,
    )
