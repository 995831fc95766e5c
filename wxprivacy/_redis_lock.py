"""A lease lock in Redis with a fencing generation and a lease that is renewed while held.

- Acquire: one script runs ``SET key owner NX PX lease`` and, when that took the lock, bumps the
  lock's generation (``HINCRBY``) and returns it: the holder's :class:`Fence`.
- While held, a watchdog task renews the lease every third of it (only while this owner still
  holds it), so a refresh that takes longer than the lease keeps the lock. The lease itself only
  bounds how long a holder that died (process killed, machine gone, loop frozen) blocks others.
- Release: a compare-and-delete script, so a holder only ever deletes its own lock.

If renewal fails (Redis unreachable, the process was frozen past the lease) another worker may
take the lock while the first still works; the fence then makes the first worker's write fail
(see ``RedisTokenStore``), so what the newer holder wrote is never overwritten.
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
from ._stores import Fence

__all__ = ["LOCK_HELD", "LeaseLock", "acquired_at", "hold", "owner_value"]

logger = logging.getLogger(__name__)
Runner = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]

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
    """One acquisition of the lock ``name`` stored at ``key``; make a new one for every use.

    Args:
        key: the lock's Redis key.
        generations_key: the hash holding each lock's generation (same hash tag as ``key``).
        name: the lock's name (its field in ``generations_key``), e.g. ``"component"``.
        lease: seconds after which Redis drops the lock unless renewed.
        wait: seconds :meth:`acquire` waits at most before raising :class:`LockTimeoutError`.
        run: ``run(what, op)`` awaits ``op()`` and turns Redis failures into TokenStoreError.
        scripts: the registered ``acquire``, ``renew`` and ``release`` scripts, by those names.
        store: the store's class name, for error messages.
        renew: whether a watchdog renews the lease while the lock is held.
    """

    def __init__(
        self,
        key: str,
        generations_key: str,
        name: str,
        *,
        lease: float,
        wait: float,
        run: Runner,
        scripts: dict[str, Any],
        store: str,
        renew: bool = True,
    ) -> None:
        self.key = key
        self.name = name
        self._generations_key = generations_key
        self._lease = lease
        self._lease_ms = max(1, int(lease * 1000))
        self._wait = wait
        self._run = run
        self._scripts = scripts
        self._store = store
        self._renew = renew
        self._nonce = secrets.token_hex(16)
        self._owner = self._nonce
        self._watchdog: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self.held = False

    async def acquire(self) -> Fence:
        """Take the lock, polling with capped exponential backoff for up to ``wait`` seconds.

        Returns:
            The fence: the lock's generation after this acquisition.

        Raises:
            LockTimeoutError: another holder kept it longer than ``wait`` seconds.
            TokenStoreError: Redis failed or timed out.
        """
        deadline = time.monotonic() + self._wait
        delay = _FIRST_POLL
        acquire = self._scripts["acquire"]
        keys = [self.key, self._generations_key]
        args = [self._owner, self._lease_ms, self.name]
        while True:
            # the owner carries the time of this attempt, so a reader can tell the lock's age
            self._owner = args[0] = owner_value(self._nonce, time.time())
            generation = await self._run(
                "acquiring a refresh lock", lambda: acquire(keys=keys, args=args)
            )
            if generation:
                self.held = True
                if self._renew:
                    self._watchdog = asyncio.create_task(self._keep_alive())
                return Fence(self.name, int(generation))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeoutError(
                    f"refresh lock {self.key!r} not acquired within {self._wait:g} s",
                    store=self._store,
                )
            await asyncio.sleep(min(delay * random.uniform(0.5, 1.0), remaining))
            delay = min(delay * 2, _MAX_POLL)

    async def _keep_alive(self) -> None:
        """Renew the lease every third of it while held; stop once released or lost.

        Stopped by an event, never by cancellation alone: a cancellation that lands while a
        Redis command times out can be absorbed (Python 3.11's ``asyncio.timeout``, redis-py),
        and a release waiting for such a task would wait forever.
        """
        renew = self._scripts["renew"]
        while True:
            try:
                await asyncio.wait_for(self._stopped.wait(), self._lease / 3)
                return
            except TimeoutError:
                pass
            try:
                kept = await self._run(
                    "renewing a refresh lock",
                    lambda: renew(keys=[self.key], args=[self._owner, self._lease_ms]),
                )
            except TokenStoreError as exc:
                logger.warning("could not renew refresh lock %s (%s)", self.key, exc)
                continue
            if not kept:
                logger.warning(
                    "refresh lock %s was lost before its holder finished; its writes are "
                    "fenced off",
                    self.key,
                )
                return

    async def release(self) -> bool:
        """Delete the lock if this acquisition still holds it; ``True`` if deleted.

        Raises:
            TokenStoreError: Redis failed or timed out (the lease frees the lock anyway).
        """
        if not self.held:
            return False
        self.held = False
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            # let a renewal in flight finish first (so it cannot land after the delete), but
            # never wait longer than a lease for it
            self._stopped.set()
            await asyncio.wait({watchdog}, timeout=self._lease)
            if not watchdog.done():
                watchdog.cancel()
        release = self._scripts["release"]
        deleted = await self._run(
            "releasing a refresh lock", lambda: release(keys=[self.key], args=[self._owner])
        )
        return bool(deleted)


def owner_value(nonce: str, acquired_at: float) -> str:
    """The value a lock key holds: ``<nonce>@<Unix seconds of the acquisition>``."""
    return f"{nonce}@{acquired_at:.3f}"


def acquired_at(owner: str) -> float | None:
    """The acquisition time (Unix seconds) an owner value carries, or ``None`` (an older
    SDK's plain nonce, or anything else)."""
    _, sep, when = owner.rpartition("@")
    if not sep:
        return None
    try:
        return float(when)
    except ValueError:
        return None


@asynccontextmanager
async def hold(lease: LeaseLock) -> AsyncIterator[Fence]:
    """Acquire ``lease``, mark :data:`LOCK_HELD` for the body, release on the way out.

    A failed release is logged, not raised (the lease frees the lock anyway), so it never hides
    the body's own outcome.

    Raises:
        LockTimeoutError, TokenStoreError: from :meth:`LeaseLock.acquire`.
    """
    fence = await lease.acquire()
    marker = LOCK_HELD.set(True)
    try:
        yield fence
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
