"""A small in-process cache of access tokens, kept in front of a shared store.

It saves the round trip to the shared store (Redis) on the hot path. Each entry is served for at
most ``ttl`` seconds after it was read from (or written to) the shared store, and never once the
token's own ``expires_at`` has passed; the owner removes an entry as soon as the token failed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Final

from ._stores import AccessToken

__all__ = ["LocalTokenCache"]

DEFAULT_MAX_ENTRIES: Final = 10_000


class LocalTokenCache:
    """A bounded map ``key -> AccessToken`` whose entries live ``ttl`` seconds.

    Not thread-safe; meant for the tasks of one event loop (no ``await`` inside).

    Args:
        ttl: seconds an entry may be served after it was stored; ``0`` disables the cache.
        clock: returns the current Unix time in seconds.
        max_entries: entries kept at most; the oldest is dropped first.
    """

    def __init__(
        self, ttl: float, clock: Callable[[], float], *, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._entries: dict[Hashable, tuple[AccessToken, float]] = {}
        self.epoch = 0
        """Bumped by every discard/clear: a read that began before it must not be cached."""

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def enabled(self) -> bool:
        """False when ``ttl`` is 0: nothing is stored or served."""
        return self.ttl > 0

    def get(self, key: Hashable) -> AccessToken | None:
        """Return the token stored under ``key`` unless its entry or the token itself expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        token, stored_at = entry
        now = self._clock()
        if now - stored_at >= self.ttl or now >= token.expires_at or now < stored_at:
            del self._entries[key]
            return None
        return token

    def put(self, key: Hashable, token: AccessToken, *, epoch: int | None = None) -> None:
        """Remember ``token`` under ``key`` for ``ttl`` seconds (no-op when disabled).

        Args:
            epoch: the :attr:`epoch` seen when the read of ``token`` began; if a token was
                discarded since, the read may have returned the very token that just failed,
                so it is not cached.
        """
        if not self.enabled or (epoch is not None and epoch != self.epoch):
            return
        self._entries.pop(key, None)
        self._entries[key] = (token, self._clock())
        while len(self._entries) > self._max:
            del self._entries[next(iter(self._entries))]

    def discard(self, key: Hashable, *, failed: bool = True) -> None:
        """Forget ``key``, if present.

        Args:
            failed: the token was rejected or invalidated (not merely absent): reads already
                in flight must not put it back (see :attr:`epoch`).
        """
        if failed:
            self.epoch += 1
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self.epoch += 1
        self._entries.clear()
