"""Memory per call in flight, traced with tracemalloc, for the SDK and raw aiohttp side by side.

Run from the repository root (``nox -s bench -- allocations`` runs it)::

    python benchmarks/bench_allocations.py [--calls 64] [--rounds 5]

The emulator runs in its own process; tokens are warm. For each row, ``--calls`` calls start at
once and run to the end while tracemalloc traces the client process: the peak traced memory above
the level before the calls, divided by the calls, is the memory one call in flight holds (its
request, answer, parsed model and bookkeeping), and what is still traced once they finished and a
collection ran is what the calls left behind. Medians of ``--rounds``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tracemalloc
from collections.abc import Awaitable, Callable

from _common import GP, emulator_process, emulator_state, median
from bench_throughput import BODY, HEADERS, Fleet

Row = Callable[[Fleet, int], Awaitable[tuple[float, float]]]


async def traced(run: Callable[[], Awaitable[object]], calls: int) -> tuple[float, float]:
    """(peak bytes per call in flight, bytes left per call) of one awaited ``run()``."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    await run()
    peak = tracemalloc.get_traced_memory()[1]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (peak - before) / calls, (after - before) / calls


async def sdk_row(fleet: Fleet, calls: int) -> tuple[float, float]:
    async with fleet.client() as client:
        appids = fleet.appids[:calls]
        await client.get_privacy_settings(appids[:8])  # the session and its connections exist
        return await traced(lambda: client.get_privacy_settings(appids, concurrency=calls), calls)


async def raw_row(fleet: Fleet, calls: int) -> tuple[float, float]:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        base = fleet.url + GP + "?access_token="

        async def one(token: str) -> None:
            async with session.post(base + token, data=BODY, headers=HEADERS) as response:
                json.loads(await response.read())

        tokens = fleet.tokens[:calls]
        await asyncio.gather(*(one(t) for t in tokens[:8]))
        return await traced(lambda: asyncio.gather(*(one(t) for t in tokens)), calls)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows: dict[str, Row] = {"raw aiohttp + json.loads": raw_row, "SDK default": sdk_row}
    with emulator_process("--authorizers", str(args.calls * 2 + 200)) as url:
        state = await emulator_state(url)
        good = [
            a["authorizer_appid"] for a in state["authorizers"] if a["profile"] != "no_permission"
        ]
        fleet = Fleet(url, state, good[: args.calls])
        await fleet.warm()
        results: dict[str, list[tuple[float, float]]] = {label: [] for label in rows}
        for _ in range(args.rounds):
            for label, row in rows.items():
                results[label].append(await row(fleet, args.calls))
    print(f"# memory per call, {args.calls} calls at once, median of {args.rounds} rounds")
    print(f"| {'row':<26} | {'peak KB/call':>12} | {'left B/call':>11} |")
    print(f"|{'-' * 28}|{'-' * 14}|{'-' * 13}|")
    for label, values in results.items():
        peak = median([v[0] for v in values]) / 1024
        left = median([v[1] for v in values])
        print(f"| {label:<26} | {peak:12.1f} | {left:11.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
