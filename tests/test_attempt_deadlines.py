"""AttemptDeadlines: one timer keeps every attempt deadline of a client (issue 10), with what
``asyncio.timeout`` guarantees: each exchange is cancelled at its own deadline, not before, and
only the cancellation it caused becomes a timeout."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fakes import APPSECRET, COMPONENT_APPID

from wxprivacy import ComponentClient, TransportError
from wxprivacy._deadline import AttemptDeadlines, Progress
from wxprivacy._exchange import Answer, Request


async def _sleeper(deadlines: AttemptDeadlines, delay: float, work: float) -> tuple[str, float]:
    """Watch the running task for ``delay`` seconds while it works ``work`` seconds."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    progress = Progress()
    start = loop.time()
    if not deadlines.watch(progress, task, start + delay, loop):
        return "refused", 0.0
    try:
        await asyncio.sleep(work)
        return "done", loop.time() - start
    except asyncio.CancelledError:
        assert progress.expired
        task.uncancel()
        return "expired", loop.time() - start
    finally:
        deadlines.release(progress)


async def test_each_exchange_expires_at_its_own_deadline_and_not_before() -> None:
    deadlines = AttemptDeadlines()
    runs = []
    for index in range(20):  # started in turn, so their deadlines come in turn
        runs.append(asyncio.ensure_future(_sleeper(deadlines, 0.05, 0.02 if index % 2 else 1.0)))
        await asyncio.sleep(0.002)
    results = await asyncio.gather(*runs)
    for index, (how, took) in enumerate(results):
        if index % 2:
            assert how == "done" and took < 0.05
        else:
            assert how == "expired" and 0.05 <= took < 0.5


async def test_a_shorter_deadline_after_a_longer_one_that_ended_is_kept() -> None:
    # the timer armed for a long deadline must not hold back a shorter one started later
    deadlines = AttemptDeadlines()
    assert await _sleeper(deadlines, 30.0, 0.0) == ("done", pytest.approx(0.0, abs=0.05))
    how, took = await asyncio.wait_for(_sleeper(deadlines, 0.05, 5.0), timeout=2.0)
    assert how == "expired" and took < 1.0


async def test_a_deadline_before_one_already_watched_is_refused() -> None:
    deadlines = AttemptDeadlines()
    long = asyncio.ensure_future(_sleeper(deadlines, 5.0, 0.05))
    await asyncio.sleep(0)
    assert await _sleeper(deadlines, 0.01, 0.0) == ("refused", 0.0)
    assert (await long)[0] == "done"


class _Stalling:
    """A backend whose exchange never ends by itself (cancel-safe, as aiohttp's is)."""

    isolate = False
    reports = True
    owned = True
    is_closed = False

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def send(self, request: Request, progress: Progress) -> Answer:
        progress.held = progress.sent = True
        self.started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        pass


def _client(timeout: float) -> tuple[ComponentClient, _Stalling]:
    client = ComponentClient(COMPONENT_APPID, APPSECRET, timeout=timeout)
    backend = _Stalling()
    client._wire.backend = backend
    return client, backend


async def test_the_attempt_deadline_is_a_transport_error_and_cancelling_stays_cancelling() -> None:
    client, _ = _client(0.05)
    wire: Any = client._wire
    with pytest.raises(TransportError, match=r"no complete answer within timeout=0.05 s"):
        await wire.call("POST", "/x", content=b"{}")
    current = asyncio.current_task()
    assert current is not None and current.cancelling() == 0  # the deadline's cancel was taken back
    # the caller's own cancellation, before the deadline, stays a cancellation
    client, backend = _client(5.0)
    wire = client._wire
    call = asyncio.ensure_future(wire.call("POST", "/x", content=b"{}"))
    await backend.started.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert not wire._attempts._queue  # nothing left watched


async def test_a_cancellation_racing_the_deadline_is_the_callers() -> None:
    # the caller cancels in the same loop turn as the deadline: a cancellation, as with
    # asyncio.timeout (the task was cancelled twice, the deadline took one back)
    client, backend = _client(0.05)
    wire = client._wire
    call = asyncio.ensure_future(wire.call("POST", "/x", content=b"{}"))
    await backend.started.wait()
    loop = asyncio.get_running_loop()
    loop.call_at(wire._attempts._queue[0].at, call.cancel)
    with pytest.raises(asyncio.CancelledError):
        await call


async def test_no_timer_is_left_when_nothing_is_watched() -> None:
    """Regression (trial of issue 10): a closed client's AttemptDeadlines timer stayed on the
    loop for up to ``timeout`` seconds."""
    deadlines = AttemptDeadlines()
    assert await _sleeper(deadlines, 30.0, 0.001) == ("done", pytest.approx(0.001, abs=0.5))
    assert deadlines._timer is None and not deadlines._queue
    await asyncio.gather(*(_sleeper(deadlines, 30.0, 0.001 * i) for i in range(5)))
    assert deadlines._timer is None and not deadlines._queue


async def test_a_stalled_exchange_does_not_pin_the_finished_ones() -> None:
    """Regression (trial of issue 10): one stalled exchange kept every exchange that finished
    after it in the queue (20,000 finished calls: 20,001 entries, ~3.7 MB)."""
    deadlines = AttemptDeadlines()
    stalled = asyncio.create_task(_sleeper(deadlines, 30.0, 10.0))
    await asyncio.sleep(0)
    for batch in range(20):
        await asyncio.gather(*(_sleeper(deadlines, 30.0, 0) for _ in range(50)))
        assert len(deadlines._queue) <= 4 * 1 + 64 + 50, batch  # swept, not growing
    assert deadlines._timer is not None  # the stalled one is still watched
    stalled.cancel()
    await asyncio.gather(stalled, return_exceptions=True)
