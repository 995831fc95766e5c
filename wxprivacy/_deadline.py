"""Deadlines: one per attempt, one per call, and what an attempt got to before its deadline.

Two limits bound every call the client makes (:class:`~wxprivacy._http.WireClient` applies them):

- the **attempt** deadline (``timeout``, seconds): one whole exchange — connect, send the request,
  receive the headers and the complete body. A server that trickles its answer a byte at a time
  cannot stretch it, unlike httpx's timeouts, which bound each socket read separately;
- the **call** deadline (``call_timeout``, seconds): everything the call does — waiting for a free
  connection, every attempt, the backoff between them. Rate-limit waits (``rate_limits=``, 45011
  pauses) are the client's own pacing and are not counted.

Each exchange reports its progress (:class:`Progress`, fed by httpcore's ``trace`` extension and
the aiohttp backend's connector): whether it holds a connection, and whether its request may have
left (``TransportError.maybe_sent``). Enforcing a deadline cancels the exchange, but httpx's own
pool (httpcore) loses a connection for good when a request is cancelled between being given a
connection and starting to use it. So over httpcore an exchange runs in a task of its own and is
cancelled only where httpcore cleans up after it; elsewhere it is told to stop at its next step.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx

from ._checks import check_seconds as _check_seconds

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "AttemptDeadlines",
    "CallDeadline",
    "Progress",
    "attempt_seconds",
    "check_seconds",
]

DEFAULT_TIMEOUT: Final = 10.0
"""Seconds one attempt may take, whole exchange (connect, send, headers, body)."""
DEFAULT_CALL_TIMEOUT: Final = 60.0
"""Seconds one call may take: waiting for a connection, every attempt and the backoff between."""


def check_seconds(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a number of seconds above zero, at most a year
    (:func:`wxprivacy._checks.check_seconds`).

    Raises:
        InvalidArgumentError: anything else (a bool, a string, NaN, infinity, zero, negative, an
            int too large for a float).
    """
    return _check_seconds(name, value, low=0.0, above_low=True)


def attempt_seconds(timeout: float | httpx.Timeout) -> float | None:
    """The attempt deadline ``timeout`` stands for, in seconds.

    A number is the deadline itself. An ``httpx.Timeout`` (accepted for compatibility) keeps its
    httpx meaning for the client a ComponentClient creates (each connect, read, write and pool
    wait bounded separately), and the attempt deadline is its largest part; ``None`` when it
    sets no part (then only the call deadline bounds an attempt).

    Raises:
        InvalidArgumentError: not a finite number above zero, or an ``httpx.Timeout`` whose
            largest part is not.
    """
    if isinstance(timeout, httpx.Timeout):
        given = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        parts = [p for p in given if p is not None]
        return check_seconds("timeout (its largest part)", max(parts)) if parts else None
    return check_seconds("timeout", timeout)


class CallDeadline:
    """The moment one call must be over by, on a monotonic ``timer`` (seconds).

    Attributes:
        seconds: the call's allowance (``call_timeout``).
        at: the deadline itself (moved later by time that does not count, e.g. rate limits).
        maybe_sent: whether an attempt of this call may have reached WeChat so far.
    """

    __slots__ = ("_timer", "at", "maybe_sent", "seconds")

    def __init__(self, seconds: float, timer: Callable[[], float]) -> None:
        self.seconds = seconds
        self._timer = timer
        self.at = timer() + seconds
        self.maybe_sent = False

    def remaining(self) -> float:
        """Seconds left (zero or less once the deadline has passed)."""
        return self.at - self._timer()


class Stopped(Exception):
    """Raised inside an exchange, at httpcore's next step, after its deadline passed."""


_COMPACT_AT: Final = 64
"""Queue length past which finished attempts are swept out when they are most of it."""

_CONNECTING: Final = frozenset(
    {
        "connection.connect_tcp.started",
        "connection.connect_unix_socket.started",
        "connection.start_tls.started",
    }
)


class Progress:
    """How far one exchange got, as its transport reports it.

    httpcore reports through the ``trace`` request extension (:meth:`httpcore_trace`), the
    aiohttp backend through its connector (``_aiohttp_backend.py``); other transports report
    nothing.

    Attributes:
        httpcore: httpcore has reported this exchange at least once.
        held: a connection is held for it (the wait for a pooled connection is over).
        sent: request bytes may have left (the connection was ready to write).
        safe: cancelling now leaves httpcore's pool whole (inside a connect, or once the request
            is on its connection until its response is closed); ``False`` before that, in the
            gap between the two, and from the response's close on.
        stop: set when the deadline passed at an unsafe moment: the exchange raises
            :class:`Stopped` at its next step, where httpcore cleans up.
        on_held: called once when ``held`` becomes true (starts the attempt's clock).
    """

    __slots__ = ("at", "expired", "held", "httpcore", "on_held", "safe", "sent", "stop", "task")

    def __init__(self) -> None:
        self.httpcore = False
        self.held = False
        self.sent = False
        self.safe = False
        self.stop = False
        self.on_held: Callable[[], None] | None = None
        # set while :class:`AttemptDeadlines` watches the exchange
        self.task: asyncio.Task[Any] | None = None
        self.at = 0.0
        self.expired = False

    def _hold(self) -> None:
        if not self.held:
            self.held = True
            on_held, self.on_held = self.on_held, None
            if on_held is not None:
                on_held()

    async def httpcore_trace(self, event: str, _info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: follow the exchange; stop it here once told to."""
        if self.stop and event.endswith(".started") and "response_closed" not in event:
            self.stop = False  # raise once; httpcore's clean-up may report further steps
            raise Stopped(event)
        self.httpcore = True
        self._hold()
        if event in _CONNECTING:
            self.safe = True  # a cancelled connect marks the connection failed: it is dropped
        elif event.startswith("connection.") and event.endswith(".complete"):
            self.safe = False  # connected, not yet on the connection: a cancel here strands it
        elif event.endswith(".send_request_headers.started"):
            self.safe = self.sent = True  # from here httpcore closes the connection on cancel
        elif event.endswith(".response_closed.started"):
            # httpcore's own clean-up, which first waits for the connection's lock: a cancel
            # there skips it, leaving the connection ACTIVE and its request in the pool for
            # good; a stop now lets the exchange end (no step raises here)
            self.safe = False


class AttemptDeadlines:
    """The attempt deadlines of one client's exchanges in flight, kept by one timer.

    ``asyncio.timeout`` per exchange costs a timeout object and a timer handle, pushed on and
    later popped off the event loop's heap. Every attempt of a client gets the same
    ``timeout``, so exchanges that start later end later: they wait here in a queue in start
    order, and one timer, armed for the oldest, expires them in turn. Expiring one cancels its
    task as ``asyncio.timeout`` does; :meth:`WireClient._exchange_direct
    <wxprivacy._http.WireClient._exchange_direct>` turns that cancellation into the attempt's
    timeout error with the same bookkeeping (``Task.cancelling``/``uncancel``), so that a
    cancellation of the caller's own still propagates as one.

    A finished exchange leaves the queue once every exchange older than it has finished too, or
    when finished ones are most of a long queue (one stalled exchange never pins the thousands
    that finished after it); the timer is cancelled when nothing is watched.
    """

    __slots__ = ("_live", "_queue", "_timer")

    def __init__(self) -> None:
        self._queue: deque[Progress] = deque()
        self._timer: asyncio.TimerHandle | None = None  # armed for the oldest, or earlier
        self._live = 0  # exchanges in the queue still watched

    def watch(
        self,
        progress: Progress,
        task: asyncio.Task[Any],
        at: float,
        loop: asyncio.AbstractEventLoop,
    ) -> bool:
        """Cancel ``task`` at loop time ``at`` unless :meth:`release` comes first; ``False``
        (nothing watched) when an exchange already watched ends later (then the caller uses
        ``asyncio.timeout``)."""
        queue = self._queue
        if queue and queue[-1].at > at:
            return False
        progress.task, progress.at = task, at
        queue.append(progress)
        self._live += 1
        timer = self._timer
        if timer is None or timer.when() > at:  # none, or armed for a later one that has ended
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(at, self._expire)
        return True

    def release(self, progress: Progress) -> None:
        """The exchange of ``progress`` ended (any way): stop watching it."""
        if progress.task is None:
            return  # expired: _expire let it go already
        progress.task = None
        self._live -= 1
        queue = self._queue
        while queue and queue[0].task is None:
            queue.popleft()
        if not queue:
            self.close()
        elif len(queue) > _COMPACT_AT and len(queue) > 4 * self._live:
            self._queue = deque(p for p in queue if p.task is not None)

    def close(self) -> None:
        """Cancel the timer (the client is closing, or nothing is watched)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        """Cancel the exchanges whose deadline passed (oldest first), then re-arm the timer."""
        self._timer = None
        queue = self._queue
        loop = asyncio.get_running_loop()
        now = loop.time()
        while queue and (queue[0].task is None or queue[0].at <= now):
            progress = queue.popleft()
            task = progress.task
            if task is not None:
                progress.task, progress.expired = None, True
                self._live -= 1
                task.cancel()
        if queue:
            self._timer = loop.call_at(queue[0].at, self._expire)
