"""Run one coroutine per key with bounded concurrency, yielding results as they complete.

Keys are pulled from the input lazily, so a batch over 100,000 authorizers holds at most
``concurrency`` of them in flight at once, and one key's failure never loses another's result.

A key whose work failed with 45011 (:class:`MinuteQuotaExceededError`, the per-minute quota) is
put back at the head of the queue, at most ``max_requeues`` times; the client's rate limiter
holds the endpoint until the next minute meanwhile (see ``_ratelimit.py``), so the re-queued key
waits instead of failing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Final, TypeVar

from ._errors import InvalidArgumentError, MinuteQuotaExceededError, WxPrivacyError

__all__ = ["DEFAULT_MAX_REQUEUES", "as_completed_bounded", "check_concurrency", "check_keys"]

DEFAULT_MAX_REQUEUES: Final = 3
"""Times one key is re-queued after 45011 before its error is yielded."""

R = TypeVar("R")


def check_concurrency(concurrency: int) -> int:
    """Return ``concurrency`` if it is an int >= 1, else raise InvalidArgumentError."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidArgumentError(f"concurrency must be an int >= 1, got {concurrency!r}")
    return concurrency


def check_keys(keys: object, name: str) -> None:
    """Reject a single ``str``/``bytes`` where an iterable of appids is expected."""
    if isinstance(keys, str | bytes):
        raise InvalidArgumentError(
            f"{name} must be an iterable of appids, not a single string ({keys!r:.40})"
        )


def _as_error(exc: BaseException) -> WxPrivacyError:
    if isinstance(exc, WxPrivacyError):
        return exc
    wrapped = WxPrivacyError(f"unexpected {type(exc).__name__}: {exc}")
    wrapped.__cause__ = exc
    return wrapped


async def _aiter(keys: Iterable[str] | AsyncIterable[str]) -> AsyncIterator[str]:
    if isinstance(keys, AsyncIterable):
        async for key in keys:
            yield key
    else:
        for key in keys:
            yield key


async def as_completed_bounded(
    keys: Iterable[str] | AsyncIterable[str],
    work: Callable[[str], Awaitable[R]],
    concurrency: int,
    *,
    max_requeues: int = DEFAULT_MAX_REQUEUES,
) -> AsyncIterator[tuple[str, R | WxPrivacyError]]:
    """Yield ``(key, result or error)`` for every key, at most ``concurrency`` running at once.

    Exceptions other than cancellation are returned as :class:`WxPrivacyError` values (a
    non-wxprivacy exception is wrapped, with the original as ``__cause__``). A key that failed
    with :class:`MinuteQuotaExceededError` runs again (before any new key), up to
    ``max_requeues`` times; each key is yielded exactly once. Closing the iterator early cancels
    the work still running.
    """
    check_concurrency(concurrency)
    source = _aiter(keys)
    loop = asyncio.get_running_loop()
    running: dict[asyncio.Future[R], str] = {}
    finished: deque[asyncio.Future[R]] = deque()
    wakeup: list[asyncio.Future[None]] = []  # at most one: set when a task finishes
    requeued: deque[str] = deque()
    requeues: dict[str, int] = {}
    exhausted = False

    # Completion is pushed by a done-callback instead of polled with asyncio.wait(), which
    # registers and removes a callback on every running task each time: O(concurrency) per
    # result, where this is O(1).
    def on_done(task: asyncio.Future[R]) -> None:
        finished.append(task)
        if wakeup and not wakeup[0].done():
            wakeup[0].set_result(None)

    try:
        while True:
            while len(running) < concurrency:
                if requeued:
                    key = requeued.popleft()
                elif exhausted:
                    break
                else:
                    try:
                        key = await anext(source)
                    except StopAsyncIteration:
                        exhausted = True
                        break
                started: asyncio.Future[R] = asyncio.ensure_future(work(key), loop=loop)
                running[started] = key
                started.add_done_callback(on_done)
            if not running:
                return
            if not finished:
                wakeup.append(loop.create_future())
                try:
                    await wakeup[0]
                finally:
                    wakeup.clear()
            while finished:
                done = finished.popleft()
                key = running.pop(done)
                exc = done.exception()
                if isinstance(exc, MinuteQuotaExceededError):
                    count = requeues.get(key, 0)
                    if count < max_requeues:
                        requeues[key] = count + 1
                        requeued.append(key)
                        continue
                requeues.pop(key, None)
                yield key, (done.result() if exc is None else _as_error(exc))
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
