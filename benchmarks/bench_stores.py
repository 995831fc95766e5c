"""API calls per second with MemoryTokenStore, RedisTokenStore, and RedisTokenStore + local cache.

Run from the repository root, with Redis up (``REDIS_URL``, default ``redis://127.0.0.1:6379/0``)::

    python benchmarks/bench_stores.py [--runs 7] [--calls 2000] [--concurrency 32]

The emulator is served over real HTTP in its own process (see ``_LAUNCHER``; ``--cli`` serves it
with ``python -m wxprivacy.emulator`` instead).
Tokens are warm before timing starts (every authorizer has been called once). Each run times
the three stores in turn (interleaved, so machine noise hits all alike):

* ``getprivacysetting``: ``--calls`` ``ComponentClient.get_privacy_setting`` calls over HTTP,
  ``--concurrency`` at a time;
* ``token lookup``: ``--calls`` ``authorizer_access_token`` calls (the store alone, no HTTP).

It prints the median calls per second of each, and the medians of the per-run ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import emulator_server  # noqa: E402

from wxprivacy import ComponentClient, MemoryTokenStore, PrivacySetting  # noqa: E402
from wxprivacy.redis import RedisTokenStore  # noqa: E402

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
STORES = ("memory", "redis", "redis+local")


# Serves the emulator with ``wxprivacy.emulator.serve`` (uvicorn, httptools when installed), as
# ``python -m wxprivacy.emulator --port 0`` does; ``--cli`` uses the module's own command.
_LAUNCHER = """
import sys
from wxprivacy.emulator import Emulator, serve

emulator = Emulator(authorizers=int(sys.argv[1]))
serve(emulator, port=0, on_ready=lambda url: print(f"listening on {url}", flush=True))
"""


async def start_emulator(authorizers: int, *, cli: bool) -> tuple[asyncio.subprocess.Process, str]:
    """Serve the emulator in a child process; return the process and its base URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if cli:
        argv = ["-m", "wxprivacy.emulator", "--port", "0", "--authorizers", str(authorizers)]
    else:
        argv = ["-c", _LAUNCHER, str(authorizers)]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *argv, stdout=asyncio.subprocess.PIPE, env=env
    )
    assert proc.stdout is not None
    async with asyncio.timeout(15):
        line = (await proc.stdout.readline()).decode()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return proc, line.split()[-1]


def make_store(kind: str, prefix: str) -> Any:
    if kind == "memory":
        return MemoryTokenStore()
    ttl = 5.0 if kind == "redis+local" else 0.0
    return RedisTokenStore.from_url(REDIS_URL, key_prefix=prefix, local_cache_ttl=ttl)


async def timed(calls: int, concurrency: int, call: Callable[[int], Awaitable[Any]]) -> float:
    """Run ``call(i)`` for i in range(calls), ``concurrency`` at a time; return calls/second."""
    per_worker = calls // concurrency

    async def worker(w: int) -> None:
        for i in range(per_worker):
            await call(w * per_worker + i)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return per_worker * concurrency / (time.perf_counter() - started)


async def bench(args: argparse.Namespace) -> None:
    proc, url = await start_emulator(args.authorizers, cli=args.cli)
    prefix = f"wxprivacy-bench-{uuid.uuid4().hex[:8]}"
    http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=args.concurrency))
    clients: dict[str, ComponentClient] = {}
    try:
        state = (await http.get(f"{url}/_emulator/state")).json()
        for kind in STORES:
            client = ComponentClient(
                state["component_appid"],
                state["component_appsecret"],
                token_store=make_store(kind, f"{prefix}-{kind}"),
                http_client=http,
                base_url=url,
            )
            await client.set_component_verify_ticket(state["component_verify_ticket"])
            for entry in state["authorizers"]:
                await client.set_authorizer_refresh_token(
                    entry["authorizer_appid"], entry["refresh_token"]
                )
            clients[kind] = client
        # Warm every token, and keep the authorizers whose guideline reads succeed.
        first = clients["memory"]
        appids = [
            appid
            for appid, result in (
                await first.get_privacy_settings(
                    a["authorizer_appid"] for a in state["authorizers"]
                )
            ).items()
            if isinstance(result, PrivacySetting)
        ]
        for client in clients.values():
            for appid in appids:
                await client.get_privacy_setting(appid)

        api: dict[str, list[float]] = {k: [] for k in STORES}
        lookup: dict[str, list[float]] = {k: [] for k in STORES}
        for _ in range(args.runs):
            for kind, client in clients.items():
                c = client

                async def api_call(i: int, c: ComponentClient = c) -> Any:
                    return await c.get_privacy_setting(appids[i % len(appids)])

                async def token_call(i: int, c: ComponentClient = c) -> Any:
                    return await c.authorizer_access_token(appids[i % len(appids)])

                api[kind].append(await timed(args.calls, args.concurrency, api_call))
                lookup[kind].append(await timed(args.calls * 10, args.concurrency, token_call))
        calls_log = (await http.get(f"{url}/_emulator/calls")).json()["calls"]
    finally:
        for client in clients.values():
            await client.token_store.aclose()
        await http.aclose()
        proc.kill()
        await proc.wait()
        await _cleanup(prefix)

    print(
        f"{args.runs} runs, {len(appids)} authorizers, concurrency {args.concurrency}; "
        f"emulator over HTTP at {url} ({emulator_server()}, separate process); "
        f"Redis at {REDIS_URL}"
    )
    token_fetches = {
        k: v for k, v in calls_log.items() if k.endswith(("_component_token", "_authorizer_token"))
    }
    print(f"token endpoint calls during the whole benchmark (warm-up only): {token_fetches}")
    for title, table, n in (
        ("getprivacysetting over HTTP", api, args.calls),
        ("token lookup only (no HTTP)", lookup, args.calls * 10),
    ):
        print(f"\n{title}: calls/second, median of {args.runs} runs of {n} calls")
        medians = {k: statistics.median(v) for k, v in table.items()}
        for kind in STORES:
            print(f"  {kind:<12} {medians[kind]:>12,.0f}")
        for a, b in (("redis", "memory"), ("redis+local", "memory"), ("redis+local", "redis")):
            ratio = statistics.median(x / y for x, y in zip(table[a], table[b], strict=True))
            print(f"  {a} / {b}: {ratio:.2f}")


async def _cleanup(prefix: str) -> None:
    import redis.asyncio as redis_asyncio

    client = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def main() -> int:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--authorizers", type=int, default=20)
    parser.add_argument(
        "--cli", action="store_true", help="serve with `python -m wxprivacy.emulator` instead"
    )
    asyncio.run(bench(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
