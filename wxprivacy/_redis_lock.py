"""A lease lock in Redis: ``SET key token NX PX lease`` takes it, Lua compare-and-delete frees it.

Each acquisition draws a fresh random token, so a holder only ever deletes its own lock: once its
lease has run out and another worker took the lock, the release finds a different token and leaves
it alone. A holder that dies (process killed, machine gone) blocks others for at most the lease.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

from ._errors import LockTimeoutError, TokenStoreError

__all__ = ["LOCK_HELD", "RELEASE_LUA", "LeaseLock", "hold"]

logger = logging.getLogger("wxprivacy.redis")
Runner = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]

RELEASE_LUA: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

LOCK_HELD: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "wxprivacy_redis_lock_held", default=False
)
"""True in a task while it holds a refresh lock through :func:`hold`.

The store then reads from Redis, never from its in-process cache, so the double-checked read
after acquiring sees what another process may have written meanwhile.
"""

_FIRST_POLL: Final = 0.002
_MAX_POLL: Final = 0.05


class LeaseLock:
    """One acquisition of the lock stored at ``key``; make a new one for every acquisition.

    Args:
        redis: a ``redis.asyncio.Redis``.
        key: the lock's Redis key.
        lease: seconds after which Redis drops the lock on its own (a crashed holder's bound).
        wait: seconds :meth:`acquire` waits at most before raising :class:`LockTimeoutError`.
        run: ``run(what, op)`` awaits ``op()`` and turns Redis failures into TokenStoreError.
        release_script: the registered :data:`RELEASE_LUA` script.
        store: the store's class name, for error messages.
    """

    def __init__(
        self,
        redis: Any,
        key: str,
        *,
        lease: float,
        wait: float,
        run: Runner,
        release_script: Any,
        store: str,
    ) -> None:
        self.key = key
        self._redis = redis
        self._lease_ms = max(1, int(lease * 1000))
        self._wait = wait
        self._run = run
        self._release_script = release_script
        self._store = store
        self._token = secrets.token_hex(16)
        self.held = False

    async def acquire(self) -> None:
        """Take the lock, polling with capped exponential backoff for up to ``wait`` seconds.

        Raises:
            LockTimeoutError: another holder kept it longer than ``wait`` seconds.
            TokenStoreError: Redis failed or timed out.
        """
        deadline = time.monotonic() + self._wait
        delay = _FIRST_POLL
        while True:
            taken = await self._run(
                "acquiring a refresh lock",
                lambda: self._redis.set(self.key, self._token, nx=True, px=self._lease_ms),
            )
            if taken:
                self.held = True
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeoutError(
                    f"refresh lock {self.key!r} not acquired within {self._wait:g} s",
                    store=self._store,
                )
            await asyncio.sleep(min(delay * random.uniform(0.5, 1.0), remaining))
            delay = min(delay * 2, _MAX_POLL)

    async def release(self) -> bool:
        """Delete the lock if it still carries this acquisition's token; ``True`` if deleted.

        Raises:
            TokenStoreError: Redis failed or timed out (the lease frees the lock anyway).
        """
        if not self.held:
            return False
        self.held = False
        deleted = await self._run(
            "releasing a refresh lock",
            lambda: self._release_script(keys=[self.key], args=[self._token]),
        )
        return bool(deleted)


@asynccontextmanager
async def hold(lease: LeaseLock) -> AsyncIterator[None]:
    """Acquire ``lease``, mark :data:`LOCK_HELD` for the body, release on the way out.

    A failed release is logged, not raised (the lease frees the lock anyway), so it never hides
    the body's own outcome.

    Raises:
        LockTimeoutError, TokenStoreError: from :meth:`LeaseLock.acquire`.
    """
    await lease.acquire()
    marker = LOCK_HELD.set(True)
    try:
        yield
    finally:
        try:
            LOCK_HELD.reset(marker)
        except ValueError:  # left in another context than it was entered in
            LOCK_HELD.set(False)
        try:
            if not await lease.release():
                logger.warning("refresh lock %s had expired before its release", lease.key)
        except TokenStoreError as exc:
            logger.warning(
                "could not release refresh lock %s (%s); its lease frees it", lease.key, exc
            )
