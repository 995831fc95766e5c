"""A fleet under one shared quota: 4 worker processes x 50 coroutines, 600/min on getprivacysetting.

Issue 14 §1. The workers are OS processes (``tests/redis/_quota_worker.py``), each with one
``ComponentClient`` over a ``RedisQuotaStore`` (``rate_limits={getprivacysetting: 600}``) and a
``RedisTokenStore`` on ``REDIS_URL``. This process only serves the emulator (uvicorn) and records
the arrival time of every request, so the figures are what WeChat would see:

- the most ``getprivacysetting`` requests in any 60 s window (must be <= 600; a request counted
  at the end of one window may arrive in the next, so the window is also measured 0.1 s
  shorter, the network's jitter);
- the requests in every whole 60 s window of the run (one starting each second): their median,
  as a share of 600/min, is what the fleet sustains (target >= 90 %).

Usage: ``python benchmarks/bench_shared_quota.py [--seconds 150] [--workers 4]
[--coroutines 50] [--per-minute 600]``. Prints a table; exits 3 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import redis.asyncio as redis_asyncio

from wxprivacy.emulator import Emulator
from wxprivacy.emulator._serve import start_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "redis"))

from quota_windows import most_in_any_window, seed_tokens  # noqa: E402 - from tests/redis, put on the path

WORKER = ROOT / "tests" / "redis" / "_quota_worker.py"
GP = "/cgi-bin/component/getprivacysetting"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


async def run(args: argparse.Namespace) -> int:
    emu = Emulator(authorizers=2000, seed=1)
    for appid in emu.authorizer_appids:
        emu.authorize(appid, permission_sets=[18])
    arrivals: list[float] = []
    handle = emu.handle

    async def recording(method: str, path: str, query: Any, body: bytes, headers: Any) -> Any:
        if path == GP:
            arrivals.append(time.time())
        return await handle(method, path, query, body, headers)

    emu.handle = recording  # type: ignore[method-assign]
    prefix = f"bench-quota-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs: list[asyncio.subprocess.Process] = []
    async with await start_server(emu) as server:
        await seed_tokens(emu, REDIS_URL, prefix)
        comp = emu.component_appid
        try:
            for index in range(args.workers):
                config = {
                    "name": f"w{index}",
                    "redis_url": REDIS_URL,
                    "prefix": prefix,
                    "component_appid": comp,
                    "component_appsecret": emu.component_appsecret,
                    "base_url": server.url,
                    "appids": emu.authorizer_appids[index :: args.workers],
                    "per_minute": args.per_minute,
                    "coroutines": args.coroutines,
                    "seconds": args.seconds,
                }
                procs.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        str(WORKER),
                        json.dumps(config),
                        stdin=asyncio.subprocess.PIPE,
                        stdout=asyncio.subprocess.PIPE,
                        env=env,
                    )  # fmt: skip
                )
            for proc in procs:
                assert proc.stdout is not None
                assert (await proc.stdout.readline()).strip() == b"ready"
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write(b"\n")
                await proc.stdin.drain()
            results = []
            for proc in procs:
                assert proc.stdout is not None
                results.append(json.loads(await proc.stdout.readline()))
                await proc.wait()
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            client = redis_asyncio.Redis.from_url(REDIS_URL)
            keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
            if keys:
                await client.delete(*keys)
            await client.aclose()
    arrivals.sort()
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    most = most_in_any_window(arrivals, 60.0)
    most_jitter = most_in_any_window(arrivals, 59.9)
    rate = (len(arrivals) - 1) / span * 60 if span else 0.0
    # the load of every whole 60 s window, one starting each second: what the fleet sustains
    loads = [
        sum(1 for t in arrivals if start <= t < start + 60.0)
        for start in [arrivals[0] + k for k in range(int(span - 60.0) + 1)]
    ]
    typical = statistics.median(loads) if loads else 0.0
    share = typical / args.per_minute
    errors: dict[str, int] = {}
    for result in results:
        for name, count in result["errors"].items():
            errors[name] = errors.get(name, 0) + count
    print(
        f"{args.workers} processes x {args.coroutines} coroutines, shared limit "
        f"{args.per_minute}/min on getprivacysetting, {args.seconds:g} s"
    )
    print("| figure | value |")
    print("|---|---|")
    print(f"| requests WeChat received | {len(arrivals):,} |")
    print(f"| most in any 60 s window | {most} |")
    print(f"| most in any 59.9 s window (0.1 s jitter) | {most_jitter} |")
    print(f"| fleet rate, first to last request | {rate:.1f}/min |")
    print(
        f"| requests per whole 60 s window: median (min) | {typical:.0f} ({min(loads, default=0)}),"
        f" {share:.1%} of the limit |"
    )
    print(f"| per worker | {', '.join(str(r['ok']) for r in results)} |")
    print(f"| errors | {errors or 'none'} |")
    missed = most_jitter > args.per_minute or share < 0.9 or bool(errors)
    return 3 if missed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--coroutines", type=int, default=50)
    parser.add_argument("--per-minute", type=int, default=600)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
