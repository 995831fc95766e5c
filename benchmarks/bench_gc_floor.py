"""The floor under a burst's loop lag: Python's garbage collector walking tasks that wait.

Run from the repository root::

    python benchmarks/bench_gc_floor.py [--tasks 100000] [--repeat 5]

For ``--tasks`` tasks in each shape below, prints the objects the garbage collector tracks per
task and the time of one full collection (the median of ``--repeat``): while it runs, the event
loop stands still, whatever the tasks wait for. The shapes, from the least a task can hold:

- ``done``: finished tasks kept by their caller, as ``asyncio.gather`` keeps them (a task, its
  context, its weak reference in asyncio's registry, its finished coroutine);
- ``future``: tasks whose coroutine awaits a future of its own (plus the future, the iterator
  ``await`` makes of it, the task's wake-up callback): the least any waiting task holds;
- ``two coroutines``: the same, one coroutine deeper (what this benchmark measured before);
- ``queued SDK calls``: ``get_privacy_setting`` calls waiting in a ``ComponentClient``'s
  admission line (every slot held, so nothing is sent), each wrapped as ``bench_burst.py``
  wraps it.

Then, with the queued SDK calls still waiting, a busy process's allocations (each living
briefly, 20,000 at a time) run until the collector starts a full collection on its own, which is
timed too.
``benchmarks/bench_burst.py`` compares its own loop lag with this.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

from _common import ROOT  # noqa: F401 - puts the repository first on sys.path

from wxprivacy import ComponentClient, WxPrivacyError

Shape = Callable[[asyncio.AbstractEventLoop, list[asyncio.Future[None]]], Coroutine[Any, Any, None]]


async def done(loop: asyncio.AbstractEventLoop, futures: list[asyncio.Future[None]]) -> None:
    return None


async def future(loop: asyncio.AbstractEventLoop, futures: list[asyncio.Future[None]]) -> None:
    waiter = loop.create_future()
    futures.append(waiter)
    await waiter


async def two_coroutines(
    loop: asyncio.AbstractEventLoop, futures: list[asyncio.Future[None]]
) -> None:
    await future(loop, futures)


def full_collection(repeat: int) -> float:
    """Median milliseconds of ``repeat`` full collections."""
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        gc.collect()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000


def row(name: str, tasks: int, base: int, repeat: int) -> None:
    tracked = len(gc.get_objects()) - base
    print(f"| {name} | {tracked / tasks:.2f} | {full_collection(repeat):.0f} ms |")


async def shapes(tasks: int, repeat: int) -> None:
    loop = asyncio.get_running_loop()
    gc.collect()
    base = len(gc.get_objects())
    for name, shape in (("done", done), ("future", future), ("two coroutines", two_coroutines)):
        futures: list[asyncio.Future[None]] = []
        waiting = [asyncio.ensure_future(shape(loop, futures)) for _ in range(tasks)]
        await asyncio.sleep(0.1)
        row(name, tasks, base, repeat)
        for waiter in futures:
            waiter.set_result(None)
        await asyncio.gather(*waiting)
        del waiting, futures
        gc.collect()


async def queued_sdk_calls(tasks: int, repeat: int) -> None:
    gc.collect()
    base = len(gc.get_objects())
    client = ComponentClient("wx" + "0" * 16, "secret", base_url="http://127.0.0.1:9")
    held = 0
    while client._admission.try_take():  # every slot busy: the calls below wait in line
        held += 1

    async def one(appid: str) -> None:  # as bench_burst.py wraps each call
        try:
            await client.get_privacy_setting(appid)
        except WxPrivacyError:
            pass

    waiting = [asyncio.ensure_future(one(f"wx{i % 2000:016x}")) for i in range(tasks)]
    await asyncio.sleep(0.1)
    row("queued SDK calls", tasks, base, repeat)
    pause = [0.0]
    started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif info["generation"] == 2:
            pause[0] = time.perf_counter() - started[0]

    gc.callbacks.append(on_gc)
    recent: list[dict[str, list[int]]] = []
    while not pause[0]:  # a busy process: objects that live a while, 20,000 at most at a time
        recent.extend({"a": [i]} for i in range(10_000))  # young, then promoted while alive
        recent.clear()
    gc.callbacks.remove(on_gc)
    print(f"automatic full collection with the queued SDK calls waiting: {pause[0] * 1000:.0f} ms")
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="full collections timed per shape")
    args = parser.parse_args()
    print(f"# {args.tasks:,} tasks, Python {sys.version.split()[0]}: one full collection")
    print("| tasks | tracked objects per task | one full collection (median) |")
    print("|---|---|---|")
    asyncio.run(shapes(args.tasks, args.repeat))
    asyncio.run(queued_sdk_calls(args.tasks, args.repeat))
