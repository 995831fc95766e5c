"""Run work for many keys on at most ``concurrency`` workers: as they complete, or all at once.

Keys are pulled from the input lazily, so a batch over 100,000 authorizers holds at most
``concurrency`` of them at once (in flight, or finished and not yet read), and one key's failure
never loses another's result. A worker runs one key after another: no task per key.

A key whose work failed with 45011 (:class:`MinuteQuotaExceededError`, the per-minute quota) is
run again by the same worker before it takes a new key, at most ``max_requeues`` times; the
client's rate limiter holds the endpoint until the next minute meanwhile (see
``_ratelimit.py``), so the key waits instead of failing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Final, TypeVar

from ._checks import check_int
from ._errors import InvalidArgumentError, MinuteQuotaExceededError, WxPrivacyError

__all__ = [
    "DEFAULT_MAX_REQUEUES",
    "as_completed_bounded",
    "check_concurrency",
    "check_keys",
    "gather_bounded",
]

DEFAULT_MAX_REQUEUES: Final = 3
"""Times one key is re-queued after 45011 before its error is yielded."""

R = TypeVar("R")


def check_concurrency(concurrency: int) -> int:
    """Return ``concurrency`` if it is an int >= 1, else raise InvalidArgumentError."""
    return check_int("concurrency", concurrency, low=1, high=1_000_000)


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


class _Keys:
    """The input keys, read lazily: a plain iterable directly, an async one by one worker at a
    time (an async generator refuses a second ``anext`` while one is running)."""

    __slots__ = ("_async", "_lock", "_plain", "exhausted")

    def __init__(self, keys: Iterable[str] | AsyncIterable[str]) -> None:
        self.exhausted = False
        if isinstance(keys, AsyncIterable):
            self._plain: Iterator[str] | None = None
            self._async: AsyncIterator[str] | None = aiter(keys)
            self._lock: asyncio.Lock | None = asyncio.Lock()
        else:
            self._plain, self._async, self._lock = iter(keys), None, None

    async def next(self) -> str | None:
        """The next key, or ``None`` when there is none left."""
        if self.exhausted:
            return None
        if self._plain is not None:
            try:
                return next(self._plain)
            except StopIteration:
                self.exhausted = True
                return None
        assert self._async is not None and self._lock is not None
        async with self._lock:
            if self.exhausted:
                return None
            try:
                return await anext(self._async)
            except StopAsyncIteration:
                self.exhausted = True
                return None


async def _after_failure(
    exc: Exception, key: str, work: Callable[[str], Awaitable[R]], max_requeues: int
) -> R | WxPrivacyError:
    """The result of ``key`` after its first attempt raised ``exc``: after 45011 the key runs
    again (up to ``max_requeues`` times; the client's limiter holds it until the next minute),
    any other error is the key's result."""
    for _ in range(max_requeues):
        if not isinstance(exc, MinuteQuotaExceededError):
            break
        try:
            return await work(key)
        except Exception as again:  # noqa: BLE001 - every failure is a result of its key
            exc = again
    return _as_error(exc)


async def gather_bounded(
    keys: Iterable[str],
    work: Callable[[str], Awaitable[R]],
    concurrency: int,
    *,
    max_requeues: int = DEFAULT_MAX_REQUEUES,
) -> dict[str, R | WxPrivacyError]:
    """Run every key (at most ``concurrency`` at once) and return ``{key: result or error}``
    in input order, a repeated key run once; the rules of :func:`as_completed_bounded`.

    Workers write straight into the result: no per-result hand-over to a consumer.
    """
    check_concurrency(concurrency)
    order = list(dict.fromkeys(keys))
    results: dict[str, R | WxPrivacyError] = {}
    pending = iter(order)

    async def worker() -> None:
        for key in pending:
            try:
                results[key] = await work(key)
            except Exception as exc:  # noqa: BLE001 - every failure is a result of its key
                results[key] = await _after_failure(exc, key, work, max_requeues)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(order)))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return {key: results[key] for key in order}


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
    with :class:`MinuteQuotaExceededError` runs again (before its worker takes a new key), up to
    ``max_requeues`` times; each key is yielded exactly once. Closing the iterator early cancels
    the work still running. An exception raised by ``keys`` itself is raised here.

    Up to ``concurrency`` workers each run one key after another (started one by one as keys
    arrive), so a key costs no task of its own; finished results wait for the consumer, and
    workers pause while ``concurrency`` of them are waiting.
    """
    check_concurrency(concurrency)
    loop = asyncio.get_running_loop()
    source = _Keys(keys)
    ready: deque[tuple[str, R | WxPrivacyError]] = deque()
    workers: set[asyncio.Task[None]] = set()
    consumer: list[asyncio.Future[None]] = []  # at most one: the generator waiting for news
    paused: deque[asyncio.Future[None]] = deque()  # workers waiting for room
    failure: list[BaseException] = []
    busy = 0  # keys being worked on; with the unread results, never more than `concurrency`

    def wake_consumer() -> None:
        if consumer and not consumer[0].done():
            consumer[0].set_result(None)

    def finished(task: asyncio.Task[None]) -> None:
        workers.discard(task)
        if not task.cancelled() and task.exception() is not None:
            failure.append(task.exception())  # type: ignore[arg-type]
        wake_consumer()

    def spawn() -> None:
        task = loop.create_task(worker())
        workers.add(task)
        task.add_done_callback(finished)

    async def worker() -> None:
        nonlocal busy
        while True:
            while busy + len(ready) >= concurrency:  # the consumer is behind: wait for it
                pause = loop.create_future()
                paused.append(pause)
                await pause
            busy += 1
            try:
                key = await source.next()
                if key is None:
                    return
                if len(workers) < concurrency:
                    spawn()  # one more worker once this one had a key: never more than keys
                try:
                    value: R | WxPrivacyError = await work(key)
                except Exception as exc:  # noqa: BLE001 - every failure is a result of its key
                    value = await _after_failure(exc, key, work, max_requeues)
                ready.append((key, value))
            finally:
                busy -= 1
            wake_consumer()

    spawn()
    try:
        while True:
            if failure:
                raise failure[0]
            if ready:
                item = ready.popleft()
                while paused:
                    pause = paused.popleft()
                    if not pause.done():
                        pause.set_result(None)
                        break
                yield item
                continue
            if not workers:
                return
            consumer.append(loop.create_future())
            try:
                await consumer[0]
            finally:
                consumer.clear()
    finally:
        for task in workers:
            task.cancel()
        if workers:
            await asyncio.gather(*workers, return_exceptions=True)
