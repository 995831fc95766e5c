"""Where a client counts its requests and keeps the quota holds WeChat imposed: the QuotaStore.

A :class:`QuotaStore` answers two questions for one ``component_appid``, in the token store's
style (memory by default, Redis for fleets: ``wxprivacy.redis.RedisQuotaStore``):

- **may one more request start now?** :meth:`QuotaStore.take` counts it within a moving window
  of 61 s (WeChat's minute plus :data:`JITTER`), or says how long until it may (it never
  waits: the client's :class:`RateLimiter` queues its callers fairly on top);
- **is an endpoint held?** :meth:`QuotaStore.hold` records "WeChat refused this until then"
  and :meth:`QuotaStore.held_until` reads it back, for two kinds of hold:

  - ``minute:<endpoint>``: a 45011 (minute quota), held until the next whole minute of the
    client's clock (WeChat's answer names no time); every call to the endpoint waits for it.
    Kept per component and endpoint: whether WeChat counts the minute quota per authorizer is
    not documented (unknown), and holding the endpoint for the whole component costs at most
    the rest of one minute.
  - ``daily:<endpoint>`` (a component-level call) or ``daily:<endpoint>:<authorizer_appid>``
    (a call made with an authorizer's token): a 45009 (daily quota). A call made for an
    authorizer consumes that account's own quota ("第三方帮助公众号调用时，实际上是在消耗公众号
    自身的quota", WeChat: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/
    API_Call_Limits.html, point 3), so the hold is per authorizer there and per component for
    the platform's own calls. When the quota resets is not documented (unknown): the hold
    lasts until the next midnight China Standard Time (:func:`next_daily_reset`, an
    assumption), and :meth:`QuotaStore.release` lifts it earlier (after ``clear_quota``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import Final, Protocol, runtime_checkable

from ._checks import check_int, shown
from ._errors import InvalidArgumentError

__all__ = [
    "JITTER",
    "MAX_PER_MINUTE",
    "WINDOW",
    "MemoryQuotaStore",
    "QuotaStore",
    "check_until",
    "daily_key",
    "minute_key",
    "next_daily_reset",
]

LATEST: Final = 2.0**33
"""The latest Unix time a hold may last until (the year 2242): anything later is a mistake."""
JITTER: Final = 1.0
"""Seconds a request may take from being counted to reaching WeChat (the network, a busy event
loop): a limit is counted over WeChat's minute plus this, so it also holds where WeChat counts
(measured: ``benchmarks/bench_shared_quota.py``; without it a fleet's 60 s windows held 609 of
600 at WeChat)."""
MAX_PER_MINUTE: Final = 1_000_000
"""The largest per-minute limit taken (WeChat's minute quotas are thousands at most)."""
WINDOW: Final = 60.0 + JITTER
"""Seconds over which a per-minute limit is counted (a moving window): 61."""
CHINA: Final = dt.timezone(dt.timedelta(hours=8), "CST")


def minute_key(endpoint: str) -> str:
    """The hold a 45011 on ``endpoint`` puts on the whole component."""
    return f"minute:{endpoint}"


def daily_key(endpoint: str, authorizer_appid: str | None) -> str:
    """The hold a 45009 puts: on the authorizer's calls to ``endpoint`` when the call was made
    for one (its own quota), else on the component's."""
    return f"daily:{endpoint}" + (f":{authorizer_appid}" if authorizer_appid else "")


def check_until(until: float) -> float:
    """Return ``until`` if it is a Unix time in seconds from 0 to :data:`LATEST`.

    Raises:
        InvalidArgumentError: it is not (``nan``, ``inf``, negative, past the year 2242, not a
            number).
    """
    number = isinstance(until, int | float) and not isinstance(until, bool)
    if (
        not number
        or not (isinstance(until, int) or math.isfinite(until))
        or not 0 <= until < LATEST
    ):
        raise InvalidArgumentError(
            f"until must be a Unix time in seconds from 0 to {LATEST:.0f}, got {shown(until)}"
        )
    return float(until)


def next_daily_reset(now: float) -> float:
    """The next midnight, China Standard Time (UTC+8), after Unix time ``now``, in Unix seconds.

    WeChat does not document when a daily quota resets; this is the SDK's assumption.
    """
    local = dt.datetime.fromtimestamp(now, CHINA)
    midnight = (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp()


@runtime_checkable
class QuotaStore(Protocol):
    """Request counts and quota holds, per ``component_appid``; implement it to add a backend.

    Methods raise :class:`TokenStoreError` when the backend fails.
    """

    async def take(self, component_appid: str, endpoint: str, per_minute: int) -> float:
        """Count one request at ``endpoint`` if fewer than ``per_minute`` were counted within
        the last :data:`WINDOW` seconds (61; by every process sharing the store) and return
        ``0.0``; otherwise count nothing and return the seconds until one may be counted
        (> 0)."""
        ...

    async def hold(self, component_appid: str, key: str, until: float) -> None:
        """Hold ``key`` (see :func:`minute_key`, :func:`daily_key`) until Unix time ``until``;
        a later hold extends an earlier one, an earlier one never shortens it."""
        ...

    async def held_until(self, component_appid: str, keys: Sequence[str]) -> float | None:
        """The latest Unix time any of ``keys`` is held until, or ``None`` (none is held now)."""
        ...

    async def release(self, component_appid: str, key: str) -> None:
        """Lift the hold ``key`` at once (e.g. after WeChat's ``clear_quota``)."""
        ...

    async def aclose(self) -> None:
        """Release connections the store owns."""
        ...


class MemoryQuotaStore:
    """A :class:`QuotaStore` in this process's memory: the default (limits and holds are this
    process's own; with several workers, each counts for itself).

    Args:
        clock: returns the current Unix time in seconds.
    """

    def __init__(self, *, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._sent: dict[tuple[str, str], deque[float]] = {}
        self._holds: dict[tuple[str, str], float] = {}

    def __repr__(self) -> str:
        return f"MemoryQuotaStore(holds={len(self._holds)})"

    async def take(self, component_appid: str, endpoint: str, per_minute: int) -> float:
        """Count one request in the moving window, or say how long until one may be.

        Raises:
            InvalidArgumentError: ``per_minute`` is not an int >= 1.
        """
        check_int("per_minute", per_minute, low=1, high=MAX_PER_MINUTE)
        now = self._clock()
        sent = self._sent.setdefault((component_appid, endpoint), deque())
        while sent and now - sent[0] >= WINDOW:
            sent.popleft()
        if len(sent) < per_minute:
            sent.append(now)
            return 0.0
        return max(sent[0] + WINDOW - now, 1e-3)

    async def hold(self, component_appid: str, key: str, until: float) -> None:
        """Hold ``key`` until ``until`` (never shortened).

        Raises:
            InvalidArgumentError: ``until`` is not a finite number of seconds.
        """
        check_until(until)
        entry = (component_appid, key)
        if until > self._holds.get(entry, 0.0):
            self._holds[entry] = until

    async def held_until(self, component_appid: str, keys: Sequence[str]) -> float | None:
        """The latest ``until`` among the holds of ``keys`` still in force."""
        now = self._clock()
        latest: float | None = None
        for key in keys:
            until = self._holds.get((component_appid, key))
            if until is None:
                continue
            if until <= now:
                del self._holds[(component_appid, key)]
            elif latest is None or until > latest:
                latest = until
        return latest

    def held_anything(self) -> bool:
        """Whether any hold is in force (the limiter's shortcut for unlimited endpoints);
        expired holds are forgotten here, so one old 45011 does not slow every later call."""
        if not self._holds:
            return False
        now = self._clock()
        self._holds = {entry: until for entry, until in self._holds.items() if until > now}
        return bool(self._holds)

    async def release(self, component_appid: str, key: str) -> None:
        """Lift the hold ``key``."""
        self._holds.pop((component_appid, key), None)

    async def aclose(self) -> None:
        """Nothing to release."""
