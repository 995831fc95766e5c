"""Client CPU per call with the SDK's layers peeled one at a time, against raw aiohttp.

Run from the repository root (``nox -s bench -- layers`` runs it)::

    python benchmarks/bench_layers.py [--n 3000] [--concurrency 64] [--rounds 5]

The emulator runs in its own process (0 ms added latency, warm tokens), so the CPU time of this
process (``time.process_time``) is the client's alone: it does not depend on the server. Rows,
each ``--n`` calls after 200 untimed, interleaved round by round, medians:

- ``raw aiohttp``: the throughput benchmark's baseline (``json.loads``, results dropped);
- ``backend``: the SDK's aiohttp backend sending the SDK's requests (``json.loads``);
- ``wire``: ``WireClient.call`` (deadlines, rate-limit check, decoding, errcode check), the
  decoded dict dropped;
- ``SDK, no models``: ``get_privacy_settings`` with structuring replaced by a constant (token
  lookup, admission, the batch, ...);
- ``SDK``: ``get_privacy_settings`` as shipped, its results kept, as a batch keeps them.

The garbage collector's time is measured apart (``gc.callbacks``): typed results kept by a batch
make it run (raw ``json.loads`` results are dropped at once). Not a timed test: it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _common import GP, bounded, emulator_process, emulator_server, emulator_state, median
from bench_throughput import BODY, HEADERS, Fleet

from wxprivacy._deadline import Progress
from wxprivacy._exchange import build_request

GC_SECONDS = [0.0, 0.0]  # [total, start of the collection running]


def _on_gc(phase: str, _info: dict[str, Any]) -> None:
    if phase == "start":
        GC_SECONDS[1] = time.perf_counter()
    else:
        GC_SECONDS[0] += time.perf_counter() - GC_SECONDS[1]


async def measured(run: Callable[[], Awaitable[object]], n: int) -> tuple[float, float, float]:
    """(client CPU us per call, GC us per call, calls per second) of one awaited ``run()``."""
    GC_SECONDS[0] = 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    await run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / n * 1e6, GC_SECONDS[0] / n * 1e6, n / wall


async def raw_row(fleet: Fleet, n: int, c: int) -> tuple[float, float, float]:
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        base = fleet.url + GP + "?access_token="

        async def one(token: str) -> None:
            async with session.post(base + token, data=BODY, headers=HEADERS) as response:
                json.loads(await response.read())

        await bounded(fleet.tokens[:200], c, one)
        return await measured(lambda: bounded(fleet.tokens[:n], c, one), n)


async def backend_row(fleet: Fleet, n: int, c: int) -> tuple[float, float, float]:
    async with fleet.client() as client:
        backend, url = client._wire.backend, fleet.url + GP

        async def one(token: str) -> None:
            request = build_request("POST", url, token=("access_token", token), content=BODY)
            json.loads((await backend.send(request, Progress())).body)

        await bounded(fleet.tokens[:200], c, one)
        return await measured(lambda: bounded(fleet.tokens[:n], c, one), n)


async def wire_row(fleet: Fleet, n: int, c: int) -> tuple[float, float, float]:
    async with fleet.client() as client:
        wire = client._wire

        async def one(token: str) -> None:
            await wire.call("POST", GP, token=("access_token", token), content=BODY)

        await bounded(fleet.tokens[:200], c, one)
        return await measured(lambda: bounded(fleet.tokens[:n], c, one), n)


class _NoModel:
    privacy_desc = None


async def sdk_row(fleet: Fleet, n: int, c: int, models: bool) -> tuple[float, float, float]:
    import wxprivacy._privacy as privacy

    structure = privacy._serde.structure_response
    if not models:
        privacy._serde.structure_response = lambda *_a, **_k: _NoModel()  # type: ignore[assignment]
    try:
        async with fleet.client() as client:
            await client.get_privacy_settings(fleet.appids[:200], concurrency=c)
            return await measured(
                lambda: client.get_privacy_settings(fleet.appids[:n], concurrency=c), n
            )
    finally:
        privacy._serde.structure_response = structure  # type: ignore[assignment]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n, c = args.n, args.concurrency
    rows: dict[str, Callable[[Fleet], Awaitable[tuple[float, float, float]]]] = {
        "raw aiohttp": lambda f: raw_row(f, n, c),
        "backend": lambda f: backend_row(f, n, c),
        "wire": lambda f: wire_row(f, n, c),
        "SDK, no models": lambda f: sdk_row(f, n, c, models=False),
        "SDK": lambda f: sdk_row(f, n, c, models=True),
    }
    results: dict[str, list[tuple[float, float, float]]] = {label: [] for label in rows}
    gc.callbacks.append(_on_gc)
    with emulator_process("--authorizers", str(n * 6 // 5 + 200)) as url:
        state = await emulator_state(url)
        good = [
            a["authorizer_appid"] for a in state["authorizers"] if a["profile"] != "no_permission"
        ]
        fleet = Fleet(url, state, good[:n])
        await fleet.warm()
        for _ in range(args.rounds):
            for label, row in rows.items():
                results[label].append(await row(fleet))
    gc.callbacks.remove(_on_gc)
    print(
        f"# client CPU per call, layers peeled: n={n}, c={c}, median of {args.rounds} rounds; "
        f"emulator: {emulator_server()}"
    )
    raw_cpu = median([r[0] for r in results["raw aiohttp"]])
    print(f"| {'row':<16} | {'CPU us/call':>11} | {'of it GC':>8} | {'vs raw':>7} | {'req/s':>6} |")
    print(f"|{'-' * 18}|{'-' * 13}|{'-' * 10}|{'-' * 9}|{'-' * 8}|")
    for label, values in results.items():
        cpu = median([v[0] for v in values])
        print(
            f"| {label:<16} | {cpu:11.1f} | {median([v[1] for v in values]):8.1f} | "
            f"{cpu - raw_cpu:+7.1f} | {median([v[2] for v in values]):6.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
