"""The TokenStore protocol, and MemoryTokenStore (one process).

A token store keeps, per ``component_appid``:

- the ``component_verify_ticket`` (12 h validity),
- the ``component_access_token`` (an :class:`AccessToken`),
- per authorizer, the ``authorizer_access_token`` and the long-lived ``authorizer_refresh_token``,

and offers a named refresh lock so that one refresh runs at a time per token. Access tokens can be
re-fetched; refresh tokens cannot (losing one means the Mini Program's owner must re-authorize),
so a store must never drop or blank a refresh token on its own.

Write your own store (PostgreSQL, DynamoDB, ...) by implementing every method of
:class:`TokenStore`; no subclassing is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final, Protocol, runtime_checkable

from ._errors import InvalidArgumentError
from ._tokens import AccessToken

__all__ = ["TICKET_TTL", "MemoryTokenStore", "TokenStore", "check_secret"]

TICKET_TTL: Final = 12 * 3600.0
"""Seconds a ``component_verify_ticket`` stays valid (WeChat: 12 hours)."""


@runtime_checkable
class TokenStore(Protocol):
    """Where a :class:`ComponentClient` keeps tickets and tokens; implement it to add a backend.

    Every method takes the ``component_appid`` first, so one store can serve several components
    without their keys or locks ever meeting. Methods raise :class:`TokenStoreError` when the
    backend fails, and :class:`InvalidArgumentError` for an empty ticket or refresh token.
    """

    async def get_verify_ticket(self, component_appid: str) -> str | None:
        """Return the stored ``component_verify_ticket``, or ``None``."""
        ...

    async def set_verify_ticket(self, component_appid: str, ticket: str, ttl: float) -> None:
        """Store the ticket for ``ttl`` seconds (at least 12 h)."""
        ...

    async def get_component_token(self, component_appid: str) -> AccessToken | None:
        """Return the cached ``component_access_token``, or ``None``."""
        ...

    async def set_component_token(self, component_appid: str, token: AccessToken) -> None:
        """Cache the ``component_access_token`` until its ``expires_at``."""
        ...

    async def invalidate_component_token(self, component_appid: str, value: str) -> bool:
        """Delete the cached component token only if it still has ``value``; ``True`` if deleted.

        Compare-and-delete in one atomic step: a token another worker just fetched survives.
        """
        ...

    async def get_authorizer_token(
        self, component_appid: str, authorizer_appid: str
    ) -> AccessToken | None:
        """Return the cached ``authorizer_access_token``, or ``None``."""
        ...

    async def invalidate_authorizer_token(
        self, component_appid: str, authorizer_appid: str, value: str
    ) -> bool:
        """Compare-and-delete the authorizer's access token (see invalidate_component_token)."""
        ...

    async def get_refresh_token(self, component_appid: str, authorizer_appid: str) -> str | None:
        """Return the ``authorizer_refresh_token``, or ``None`` when none is stored."""
        ...

    async def set_refresh_token(
        self, component_appid: str, authorizer_appid: str, refresh_token: str
    ) -> None:
        """Store the refresh token durably (no expiry). Rejects an empty value."""
        ...

    async def set_authorizer_tokens(
        self,
        component_appid: str,
        authorizer_appid: str,
        token: AccessToken,
        refresh_token: str,
    ) -> None:
        """Store a new access token and its (possibly rotated) refresh token in one atomic step.

        Rejects an empty ``refresh_token``: callers keep the previous one instead.
        """
        ...

    async def delete_authorizer(self, component_appid: str, authorizer_appid: str) -> None:
        """Forget the authorizer's access and refresh tokens (after an ``unauthorized`` event)."""
        ...

    async def export_refresh_tokens(self, component_appid: str) -> dict[str, str]:
        """Return every stored refresh token as ``{authorizer_appid: authorizer_refresh_token}``."""
        ...

    def lock(self, component_appid: str, name: str) -> AbstractAsyncContextManager[None]:
        """A mutual-exclusion lock for refreshing the token called ``name``.

        ``name`` is ``"component"`` or ``"authorizer:<authorizer_appid>"``. A distributed store
        holds it across processes with a lease; it raises :class:`LockTimeoutError` when it cannot
        be acquired in time.
        """
        ...

    async def aclose(self) -> None:
        """Release connections the store owns."""
        ...


def check_secret(kind: str, value: str) -> None:
    """Reject an empty or blank ticket or refresh token (the value is never echoed).

    Every store calls it before writing, so none ever blanks a credential.

    Raises:
        InvalidArgumentError: ``value`` is not a non-blank string.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{kind} must be a non-empty string")


class MemoryTokenStore:
    """A :class:`TokenStore` in this process's memory: the default, for one process.

    Tokens vanish when the process exits (refresh tokens too: persist them elsewhere, or use
    :class:`RedisTokenStore`). Safe for any number of tasks on one event loop.

    Args:
        clock: returns the current Unix time in seconds (injectable for tests).
    """

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        import time

        self._clock = clock or time.time
        self._tickets: dict[str, tuple[str, float]] = {}
        self._component: dict[str, AccessToken] = {}
        self._authorizer: dict[tuple[str, str], AccessToken] = {}
        self._refresh: dict[tuple[str, str], str] = {}
        # (lock, holders + waiters): dropped when nobody holds or waits, so 100,000 authorizers
        # leave no 100,000 idle locks behind.
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, list[int]]] = {}

    def __repr__(self) -> str:
        return f"MemoryTokenStore(components={len({*self._tickets, *self._component})})"

    async def get_verify_ticket(self, component_appid: str) -> str | None:
        """Return the ticket unless its 12 h validity has passed."""
        entry = self._tickets.get(component_appid)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    async def set_verify_ticket(self, component_appid: str, ticket: str, ttl: float) -> None:
        """Keep the ticket for ``ttl`` seconds (never less than 12 h)."""
        check_secret("component_verify_ticket", ticket)
        self._tickets[component_appid] = (ticket, self._clock() + max(ttl, TICKET_TTL))

    async def get_component_token(self, component_appid: str) -> AccessToken | None:
        """Return the cached component token (expired ones included: the caller decides)."""
        return self._component.get(component_appid)

    async def set_component_token(self, component_appid: str, token: AccessToken) -> None:
        """Cache the component token."""
        self._component[component_appid] = token

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
        self, component_appid: str, authorizer_appid: str, refresh_token: str
    ) -> None:
        """Store the refresh token (rejects empty values)."""
        check_secret("authorizer_refresh_token", refresh_token)
        self._refresh[(component_appid, authorizer_appid)] = refresh_token

    async def set_authorizer_tokens(
        self,
        component_appid: str,
        authorizer_appid: str,
        token: AccessToken,
        refresh_token: str,
    ) -> None:
        """Store access and refresh token together (no await in between: atomic on the loop)."""
        check_secret("authorizer_refresh_token", refresh_token)
        key = (component_appid, authorizer_appid)
        self._refresh[key] = refresh_token
        self._authorizer[key] = token

    async def delete_authorizer(self, component_appid: str, authorizer_appid: str) -> None:
        """Forget the authorizer's tokens."""
        key = (component_appid, authorizer_appid)
        self._authorizer.pop(key, None)
        self._refresh.pop(key, None)

    async def export_refresh_tokens(self, component_appid: str) -> dict[str, str]:
        """Return ``{authorizer_appid: refresh_token}`` for the component."""
        return {
            appid: token
            for (comp, appid), token in self._refresh.items()
            if comp == component_appid
        }

    def lock(self, component_appid: str, name: str) -> AbstractAsyncContextManager[None]:
        """An ``asyncio.Lock`` per (component, name), forgotten once nobody holds or awaits it."""
        return self._hold((component_appid, name))

    @asynccontextmanager
    async def _hold(self, key: tuple[str, str]) -> AsyncIterator[None]:
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0 and self._locks.get(key) is entry:
                del self._locks[key]

    async def aclose(self) -> None:
        """Nothing to release."""
