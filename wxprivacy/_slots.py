"""A fair gate of N slots whose uncontended take costs no await and whose waiters cost little.

``asyncio.Semaphore`` would do, but every ``acquire()`` is a coroutine even when a slot is free,
and a waiter bounded by ``asyncio.timeout`` holds a coroutine, a timeout object and a timer each.
Here :meth:`Slots.try_take` takes a free slot synchronously; a caller that must wait awaits the
future :meth:`Slots.waiter` returns, with its deadline: waiters are served first come, first
served, and since they arrive in deadline order too (one ``call_timeout`` per client), one timer,
armed for the oldest waiter, expires them all in turn.
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Slots"]


class Slots:
    """``size`` slots, handed out first come, first served.

    Args:
        size: how many slots (>= 1; the caller checks).
    """

    __slots__ = ("_deadlines", "_free", "_timer", "_waiters", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        # two parallel deques: a tuple per waiter would be one more object for the GC to walk
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._deadlines: deque[float] = deque()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def in_use(self) -> int:
        """Slots taken now."""
        return self.size - self._free

    @property
    def waiting(self) -> int:
        """Waiters in line (some may have given up already)."""
        return len(self._waiters)

    def try_take(self) -> bool:
        """Take a slot if one is free and nobody waits for one (no await)."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    def waiter(self, at: float | None = None) -> asyncio.Future[None]:
        """A future that completes when a slot is handed to it (it then holds the slot), or
        fails with ``TimeoutError`` once the loop's clock passes ``at`` (``None``: never; bound
        the wait yourself).

        Await it; if that raises (a timeout, the caller's cancellation), call :meth:`abandon`.
        """
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        if self._free > 0 and not self._waiters:
            self._free -= 1
            waiter.set_result(None)
            return waiter
        self._waiters.append(waiter)
        self._deadlines.append(float("inf") if at is None else at)
        if self._timer is None and at is not None:
            self._timer = loop.call_at(at, self._expire)
        return waiter

    def abandon(self, waiter: asyncio.Future[None]) -> None:
        """The owner of ``waiter`` gave up: pass on a slot handed to it meanwhile."""
        if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
            self.release()
        elif not waiter.done():
            waiter.cancel()  # skipped when its turn comes

    def release(self) -> None:
        """Give a slot back: to the longest waiter still waiting, or to the free pool."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            self._deadlines.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to it
                return
        self._free += 1

    def _expire(self) -> None:
        """Fail the waiters whose deadline passed (from the oldest), then re-arm the timer."""
        self._timer = None
        waiters, deadlines = self._waiters, self._deadlines
        loop = asyncio.get_running_loop()
        now = loop.time()
        while waiters and (waiters[0].done() or deadlines[0] <= now):
            waiter = waiters.popleft()
            deadlines.popleft()
            if not waiter.done():
                waiter.set_exception(TimeoutError())
        if waiters and deadlines[0] != float("inf"):
            self._timer = loop.call_at(deadlines[0], self._expire)
