"""The floor under a burst's loop lag: Python's garbage collector walking queued tasks.

Run from the repository root::

    python benchmarks/bench_gc_floor.py [--tasks 100000]

No SDK: ``--tasks`` bare tasks, each two coroutines deep and waiting on a future (less than any
call waiting in line holds), then allocations that trigger the collector as a busy process does.
Prints the time of one full collection and the longest automatic collection of the oldest
generation: the event loop stands still that long, whatever the tasks wait for.
``benchmarks/bench_burst.py`` compares its own loop lag with this.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time


async def main(tasks: int) -> None:
    pause = [0.0]
    started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif info["generation"] == 2:
            pause[0] = max(pause[0], time.perf_counter() - started[0])

    gc.callbacks.append(on_gc)
    futures: list[asyncio.Future[None]] = []

    async def inner() -> None:
        future = asyncio.get_running_loop().create_future()
        futures.append(future)
        await future

    async def one() -> None:
        await inner()

    waiting = [asyncio.ensure_future(one()) for _ in range(tasks)]
    await asyncio.sleep(0.1)
    begin = time.perf_counter()
    gc.collect()
    full = time.perf_counter() - begin
    churn = [{"a": [i]} for i in range(300_000)]  # a busy process allocating
    del churn
    print(f"# {tasks:,} bare waiting tasks: one full collection {full * 1000:.0f} ms, longest "
          f"automatic oldest-generation collection {pause[0] * 1000:.0f} ms")  # fmt: skip
    for future in futures:
        future.set_result(None)
    await asyncio.gather(*waiting)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().tasks))
