"""``async with`` for whatever closes with ``aclose()``: the client, the Redis store, the server.

One definition of ``__aenter__``/``__aexit__`` instead of a copy per class.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncClosing"]


class AsyncClosing:
    """Mixin: ``async with obj:`` gives ``obj`` and awaits ``obj.aclose()`` on the way out,
    whether the block ended normally or raised (the exception is never swallowed)."""

    __slots__ = ()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release what the object owns (each class says what)."""
        raise NotImplementedError
