"""The one fake clock of the test suite: a settable Unix time, and a sleep that moves it.

``clock = FakeClock()``; pass ``clock`` (or ``clock.clock``) where a ``clock=`` is taken and
``clock.sleep`` where a ``sleep=`` is; ``clock.advance(s)`` or ``clock.now += s`` moves it.
"""

from __future__ import annotations

import asyncio

__all__ = ["START", "FakeClock"]

START = 1_700_000_000.0
"""Where a FakeClock starts unless told: 2023-11-14 22:13:20 UTC."""


class FakeClock:
    """A settable Unix clock (seconds); its :meth:`sleep` advances it instead of waiting.

    Attributes:
        now: the current time, Unix seconds.
        sleeps: every duration :meth:`sleep` was asked for, in order.
    """

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def clock(self) -> float:
        """The current time (for ``clock=fake.clock``)."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward."""
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """Record ``seconds``, advance by them (never backwards) and yield to the loop once."""
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)
