"""MemoryTokenStore: the TokenStore of one process, and the protocol's reference implementation."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import attrs

from ._appid import check_appid
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

__all__ = ["MemoryTokenStore"]


def _appids(component_appid: str, authorizer_appid: str) -> tuple[str, str]:
    """The key of an authorizer's entries, once both appids are checked (writes only: a read
    under a padded appid finds nothing, a write would store what nobody looks up)."""
    return check_appid("component_appid", component_appid), check_appid(
        "authorizer_appid", authorizer_appid
    )


@attrs.define
class _LockEntry:
    """One refresh lock: the asyncio lock, how many hold or wait, and its generation."""

    lock: asyncio.Lock = attrs.field(factory=asyncio.Lock)
    users: int = 0
    generation: int = 0
    acquired_at: float = 0.0  # the store's clock, at the current holder's acquisition


class MemoryTokenStore:
    """A :class:`TokenStore` in this process's memory: the default, for one process.

    Tokens vanish when the process exits (refresh tokens too: persist them elsewhere, or use
    :class:`RedisTokenStore`). Safe for any number of tasks on one event loop. Its locks have no
    lease (a holder keeps one until it leaves), and generations come from one counter per store,
    so a :class:`Fence` stays valid exactly until the next acquisition, authorization or
    revocation of that token.

    Args:
        clock: returns the current Unix time in seconds (injectable for tests).
    """

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.time
        self._tickets: dict[str, tuple[str, float]] = {}
        self._component: dict[str, AccessToken] = {}
        self._authorizer: dict[tuple[str, str], AccessToken] = {}
        self._refresh: dict[tuple[str, str], str] = {}
        # Locks are dropped when nobody holds or waits (100,000 authorizers leave no 100,000 idle
        # locks behind); a fence is only ever checked while its lock is held, and generations
        # come from one store-wide counter, so a dropped entry never lets an old fence match.
        self._locks: dict[tuple[str, str], _LockEntry] = {}
        self._counter = itertools.count(1)
        self._watermarks: dict[tuple[str, str], int] = {}
        self._events: dict[tuple[str, str], float] = {}

    def __repr__(self) -> str:
        return f"MemoryTokenStore(components={len({*self._tickets, *self._component})})"

    async def get_verify_ticket(self, component_appid: str) -> str | None:
        """Return the ticket unless its 12 h validity has passed."""
        entry = self._tickets.get(component_appid)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    async def set_verify_ticket(self, component_appid: str, ticket: str, ttl: float) -> None:
        """Keep the ticket for ``ttl`` seconds (never less than 12 h).

        Raises:
            InvalidArgumentError: an empty ticket, or a ``component_appid`` that is not one.
        """
        check_secret("component_verify_ticket", ticket)
        check_appid("component_appid", component_appid)
        self._tickets[component_appid] = (ticket, self._clock() + max(ttl, TICKET_TTL))

    async def get_component_token(self, component_appid: str) -> AccessToken | None:
        """Return the cached component token (expired ones included: the caller decides)."""
        return self._component.get(component_appid)

    async def set_component_token(
        self, component_appid: str, token: AccessToken, *, fence: Fence
    ) -> bool:
        """Cache the component token if ``fence`` is still the lock's generation.

        Raises:
            InvalidArgumentError: a ``component_appid`` that is not one.
        """
        check_appid("component_appid", component_appid)
        if fence.name != "component" or not self._fence_holds(component_appid, fence):
            return False
        self._component[component_appid] = token
        return True

    async def invalidate_component_token(self, component_appid: str, value: str) -> bool:
        """Delete the component token if it still has ``value``."""
        current = self._component.get(component_appid)
        if current is not None and current.value == value:
            del self._component[component_appid]
            return True
        return False

    async def get_authorizer_token(
        self, component_appid: str, authorizer_appid: str
    ) -> AccessToken | None:
        """Return the cached authorizer token."""
        return self._authorizer.get((component_appid, authorizer_appid))

    def _peek_authorizer_token(
        self, component_appid: str, authorizer_appid: str
    ) -> AccessToken | None:
        """:meth:`get_authorizer_token` without an await: the token manager's fast path for a
        warm token (not part of the :class:`TokenStore` protocol)."""
        return self._authorizer.get((component_appid, authorizer_appid))

    def _peek_component_token(self, component_appid: str) -> AccessToken | None:
        """:meth:`get_component_token` without an await: the token manager's fast path for a
        warm token (not part of the :class:`TokenStore` protocol)."""
        return self._component.get(component_appid)

    async def invalidate_authorizer_token(
        self, component_appid: str, authorizer_appid: str, value: str
    ) -> bool:
        """Delete the authorizer token if it still has ``value``."""
        key = (component_appid, authorizer_appid)
        current = self._authorizer.get(key)
        if current is not None and current.value == value:
            del self._authorizer[key]
            return True
        return False

    async def get_refresh_token(self, component_appid: str, authorizer_appid: str) -> str | None:
        """Return the authorizer's refresh token."""
        return self._refresh.get((component_appid, authorizer_appid))

    async def set_refresh_token(
        self,
        component_appid: str,
        authorizer_appid: str,
        refresh_token: str,
        *,
        event: EventStamp | None = None,
    ) -> bool:
        """Store the refresh token (rejects empty values and padded appids) and bump the
        generation.

        Raises:
            InvalidArgumentError: an empty refresh token, or an appid that is not one.
        """
        check_secret("authorizer_refresh_token", refresh_token)
        key = _appids(component_appid, authorizer_appid)
        if not self._admit(key, event):
            return False
        self._bump(component_appid, authorizer_appid)
        self._refresh[key] = refresh_token
        return True

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
        """Store access and refresh token together (no await in between: atomic on the loop).

        Raises:
            InvalidArgumentError: an empty refresh token, or an appid that is not one.
        """
        check_secret("authorizer_refresh_token", refresh_token)
        key = _appids(component_appid, authorizer_appid)
        if fence is not None and (
            fence.name != f"authorizer:{authorizer_appid}"
            or not self._fence_holds(component_appid, fence)
        ):
            return False
        if not self._admit(key, event):
            return False
        if fence is None:
            self._bump(component_appid, authorizer_appid)
        self._refresh[key] = refresh_token
        self._authorizer[key] = token
        return True

    async def delete_authorizer(
        self, component_appid: str, authorizer_appid: str, *, event: EventStamp | None = None
    ) -> bool:
        """Forget the authorizer's tokens and bump the generation (unless ``event`` is stale)."""
        key = (component_appid, authorizer_appid)
        if not self._admit(key, event):
            return False
        self._bump(component_appid, authorizer_appid)
        self._authorizer.pop(key, None)
        self._refresh.pop(key, None)
        return True

    async def event_seen(
        self, component_appid: str, authorizer_appid: str, event: EventStamp
    ) -> bool:
        """Whether ``event`` was applied already or is older than the authorizer's watermark."""
        until = self._events.get((component_appid, event.event_id))
        applied = until is not None and until > self._clock()
        watermark = self._watermarks.get((component_appid, authorizer_appid))
        return not event_is_new(event, watermark, applied)

    async def export_refresh_tokens(self, component_appid: str) -> dict[str, str]:
        """Return ``{authorizer_appid: refresh_token}`` for the component."""
        return {
            appid: token
            for (comp, appid), token in self._refresh.items()
            if comp == component_appid
        }

    def lock(self, component_appid: str, name: str) -> AbstractAsyncContextManager[Fence]:
        """An ``asyncio.Lock`` per (component, name), forgotten once nobody holds or awaits it."""
        return self._hold((component_appid, name))

    async def aclose(self) -> None:
        """Nothing to release."""

    async def diagnostics(self, component_appid: str) -> StoreDiagnostics:
        """What ``wxprivacy doctor`` reports: the ticket's time left, the count of refresh
        tokens and the locks held now (this process only; no lease)."""
        now = self._clock()
        entry = self._tickets.get(component_appid)
        held = tuple(
            HeldLock(name=name, held_for=max(0.0, now - lock.acquired_at), lease_left=None)
            for (comp, name), lock in self._locks.items()
            if comp == component_appid and lock.lock.locked()
        )
        return StoreDiagnostics(
            backend="memory",
            shared=False,
            key_prefix=None,
            ticket_expires_in=None if entry is None or entry[1] <= now else entry[1] - now,
            refresh_tokens=sum(1 for comp, _ in self._refresh if comp == component_appid),
            locks=held,
            persistent=False,
        )

    # -- plumbing --------------------------------------------------------------------------------

    def _fence_holds(self, component_appid: str, fence: Fence) -> bool:
        entry = self._locks.get((component_appid, fence.name))
        return entry is not None and entry.generation == fence.generation

    def _bump(self, component_appid: str, authorizer_appid: str) -> None:
        entry = self._locks.get((component_appid, f"authorizer:{authorizer_appid}"))
        if entry is not None:
            entry.generation = next(self._counter)

    def _admit(self, key: tuple[str, str], event: EventStamp | None) -> bool:
        """Check ``event`` against the watermark and the applied ids; record it if admitted."""
        if event is None:
            return True
        component_appid = key[0]
        now = self._clock()
        applied = self._events.get((component_appid, event.event_id), 0.0) > now
        if not event_is_new(event, self._watermarks.get(key), applied):
            return False
        self._watermarks[key] = max(event.create_time, self._watermarks.get(key, 0))
        self._events[(component_appid, event.event_id)] = now + EVENT_MEMORY
        if len(self._events) > 1024:
            self._events = {k: v for k, v in self._events.items() if v > now}
        return True

    @asynccontextmanager
    async def _hold(self, key: tuple[str, str]) -> AsyncIterator[Fence]:
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = _LockEntry()
        entry.users += 1
        try:
            async with entry.lock:
                entry.generation = next(self._counter)
                entry.acquired_at = self._clock()
                yield Fence(key[1], entry.generation)
        finally:
            entry.users -= 1
            if entry.users == 0 and self._locks.get(key) is entry:
                del self._locks[key]
