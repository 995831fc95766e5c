"""Per-component, per-endpoint request rates, and the pause a 45011 (minute quota) imposes.

One :class:`RateLimiter` belongs to each client (one component). Before every HTTP attempt the
client awaits :meth:`RateLimiter.acquire` for the endpoint:

- with a limit of N requests per minute for that endpoint (off unless configured), no more than
  N attempts start within any 60 seconds (a sliding window, so it also holds for WeChat's
  calendar minutes whatever the clock offset between us and WeChat);
- after WeChat answered 45011 for the endpoint, attempts wait until the minute WeChat named
  (:attr:`MinuteQuotaExceededError.retry_at`) has begun: every call in this minute would fail.

Waiters are served first come, first served; each wait is one ``sleep`` of the computed length.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from ._errors import InvalidArgumentError

__all__ = ["WINDOW", "RateLimiter"]

logger = logging.getLogger("wxprivacy")

WINDOW: Final = 60.0
"""Seconds over which a per-minute limit is counted."""


class RateLimiter:
    """Requests-per-minute limits per WeChat endpoint, plus 45011 pauses.

    Args:
        per_minute: ``{endpoint path: requests per minute}``, e.g.
            ``{"/cgi-bin/component/getprivacysetting": 1000}``; endpoints not named are not
            limited. Empty (the default) limits nothing; 45011 pauses still apply.
        clock: returns the current Unix time in seconds.
        sleep: awaitable sleep in seconds (tests inject one that advances their clock).

    Raises:
        InvalidArgumentError: a limit that is not an int >= 1.
    """

    def __init__(
        self,
        per_minute: Mapping[str, int] | None = None,
        *,
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
                    f"/cgi-bin/component/getprivacysetting, got {endpoint!r}"
                )
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise InvalidArgumentError(
                    f"rate limit for {endpoint} must be an int >= 1 per minute, got {limit!r}"
                )
        self.per_minute: Mapping[str, int] = limits
        self._clock = clock
        self._sleep = sleep or asyncio.sleep
        self._paused_until: dict[str, float] = {}
        self._sent: dict[str, deque[float]] = {e: deque() for e in limits}
        self._locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"RateLimiter(per_minute={dict(self.per_minute)!r})"

    def paused_until(self, endpoint: str) -> float | None:
        """Unix seconds until which ``endpoint`` is paused by a 45011, or ``None``."""
        until = self._paused_until.get(endpoint)
        return until if until is not None and until > self._clock() else None

    def pause(self, endpoint: str, until: float) -> None:
        """Hold every attempt at ``endpoint`` until Unix time ``until`` (seconds).

        A later pause extends an earlier one; an earlier one never shortens it.
        """
        if until > self._paused_until.get(endpoint, 0.0):
            self._paused_until[endpoint] = until
            logger.warning(
                "minute quota reached for %s: holding its calls for %.1f s",
                endpoint,
                max(0.0, until - self._clock()),
            )

    async def acquire(self, endpoint: str) -> None:
        """Wait until one more attempt at ``endpoint`` may start, and count it.

        Returns at once when the endpoint is neither limited nor paused (no lock, no await
        beyond this call).
        """
        limit = self.per_minute.get(endpoint)
        if limit is None and endpoint not in self._paused_until:
            return
        lock = self._locks.get(endpoint)
        if lock is None:
            lock = self._locks[endpoint] = asyncio.Lock()
        async with lock:
            # Time advances by the waits themselves (``now = max(clock(), end of wait)``), so a
            # fake clock that does not move cannot make this loop forever. Nothing is taken out
            # of the window before a wait: a caller cancelled while waiting frees no slot.
            now = self._clock()
            while True:
                until = self._paused_until.get(endpoint)
                if until is not None and now < until:
                    await self._sleep(until - now)
                    now = max(self._clock(), until)
                    continue  # a later pause may have been set meanwhile
                if until is not None:
                    del self._paused_until[endpoint]
                if limit is None:
                    return
                sent = self._sent[endpoint]
                while sent and now - sent[0] >= WINDOW:
                    sent.popleft()
                if len(sent) < limit:
                    sent.append(now)
                    return
                free_at = sent[0] + WINDOW
                await self._sleep(free_at - now)
                now = max(self._clock(), free_at)
