"""A fair gate of N slots (connections) whose uncontended take costs no await.

``asyncio.Semaphore`` would do, but every ``acquire()`` is a coroutine even when a slot is free,
and on the hot path of every call that costs as much as the rest of the bookkeeping. Here
:meth:`Slots.try_take` takes a free slot synchronously; only a caller that must wait awaits
:meth:`Slots.wait`, and waiters are served first come, first served.
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

    __slots__ = ("_free", "_waiters", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def in_use(self) -> int:
        """Slots taken now."""
        return self.size - self._free

    def try_take(self) -> bool:
        """Take a slot if one is free and nobody waits for one (no await)."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def wait(self) -> None:
        """Wait for a slot, first come first served, and take it.

        A waiter cancelled (or timed out) after its slot was handed over passes it on.
        """
        if self.try_take():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over as we were cancelled: give it to the next one
            else:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass  # release() dropped it already
            raise

    def release(self) -> None:
        """Give a slot back: to the longest waiter, or to the free pool."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to it
                return
        self._free += 1
