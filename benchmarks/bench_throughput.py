"""Throughput of getprivacysetting: hand-written clients against the SDK, side by side.

Run from the repository root (``nox -s bench`` runs it)::

    python benchmarks/bench_throughput.py [--n 5000] [--warmup 200] [--rounds 3]

The emulator runs in a separate process (``python -m wxprivacy.emulator``, the built-in asyncio
server), once with 0 ms and once with 50 ms of added latency. Tokens are fetched before any timing
and shared by every row. Each row gets a fresh client, ``--warmup`` untimed calls, then ``--n``
timed calls; rows are interleaved round by round and the table shows the median req/s.

Rows: raw httpx + json.loads (c=4, c=64); raw httpx over httpx-aiohttp (c=64); raw aiohttp
(c=64, c=256); the SDK's ``get_privacy_settings`` with the default transport (c=4, c=64, c=256),
with each transport named (c=64) and with a caller's plain ``httpx.AsyncClient`` (c=64); plus
hand-written httpx over the SDK's sharded pool layout, which justifies the pool layout of
``transport="httpx"``. The targets (issue 10) compare the SDK with raw aiohttp at the same
concurrency, and the SDK over a caller's httpx client with raw httpx at the same concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from _common import (
    GP,
    MISSED_TARGET,
    bounded,
    emulator_process,
    emulator_server,
    emulator_state,
    median,
    timed,
)

from wxprivacy import ComponentClient, MemoryTokenStore
from wxprivacy._http import ShardedTransport

BODY = b'{"privacy_ver":2}'
HEADERS = {"Content-Type": "application/json; charset=utf-8"}
IDEAL_AT_50MS = 64 / 0.050

Row = Callable[[list[str], list[str], int], Awaitable[float]]


class Fleet:
    """Credentials, the appids to fetch, and their warm access tokens (shared by every row)."""

    def __init__(self, url: str, state: dict[str, Any], appids: list[str]) -> None:
        self.url = url
        self.state = state
        self.appids = appids
        self.tokens: list[str] = []
        self.store = MemoryTokenStore()

    def client(self, **kwargs: Any) -> ComponentClient:
        return ComponentClient(
            self.state["component_appid"],
            self.state["component_appsecret"],
            base_url=self.url,
            token_store=self.store,
            **kwargs,
        )

    async def warm(self) -> None:
        """Store the credentials and fetch every authorizer's access token once."""
        refresh = {a["authorizer_appid"]: a["refresh_token"] for a in self.state["authorizers"]}
        async with self.client() as client:
            await client.set_component_verify_ticket(self.state["component_verify_ticket"])
            for appid in self.appids:
                await client.set_authorizer_refresh_token(appid, refresh[appid])
            tokens: dict[str, str] = {}

            async def one(appid: str) -> None:
                tokens[appid] = await client.authorizer_access_token(appid)

            await bounded(self.appids, 32, one)
        self.tokens = [tokens[a] for a in self.appids]


async def run_raw_httpx(fleet: Fleet, n: int, warmup: int, c: int, **kwargs: Any) -> float:
    async with httpx.AsyncClient(timeout=30, **kwargs) as http:
        base = fleet.url + GP + "?access_token="

        async def one(token: str) -> None:
            response = await http.post(base + token, content=BODY, headers=HEADERS)
            json.loads(response.content)

        await bounded(fleet.tokens[:warmup], c, one)
        return n / await timed(lambda: bounded(fleet.tokens[:n], c, one))


async def run_raw_aiohttp(fleet: Fleet, n: int, warmup: int, c: int) -> float:
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        base = fleet.url + GP + "?access_token="

        async def one(token: str) -> None:
            async with session.post(base + token, data=BODY, headers=HEADERS) as response:
                json.loads(await response.read())

        await bounded(fleet.tokens[:warmup], c, one)
        return n / await timed(lambda: bounded(fleet.tokens[:n], c, one))


async def run_sdk(fleet: Fleet, n: int, warmup: int, c: int, transport: str | None) -> float:
    async with fleet.client(transport=transport) as client:
        await client.get_privacy_settings(fleet.appids[:warmup], concurrency=c)

        async def batch() -> None:
            results = await client.get_privacy_settings(fleet.appids[:n], concurrency=c)
            assert len(results) == n

        return n / await timed(batch)


async def run_sdk_caller_httpx(fleet: Fleet, n: int, warmup: int, c: int) -> float:
    async with httpx.AsyncClient(timeout=30) as http, fleet.client(http_client=http) as client:
        await client.get_privacy_settings(fleet.appids[:warmup], concurrency=c)

        async def batch() -> None:
            results = await client.get_privacy_settings(fleet.appids[:n], concurrency=c)
            assert len(results) == n

        return n / await timed(batch)


def rows(fleet: Fleet, n: int, warmup: int) -> dict[str, Callable[[], Awaitable[float]]]:
    """The table's rows, by label."""

    def aio() -> httpx.AsyncBaseTransport:
        from httpx_aiohttp import AiohttpTransport

        return AiohttpTransport()

    return {
        "raw httpx c=4": lambda: run_raw_httpx(fleet, n, warmup, 4),
        "raw httpx c=64": lambda: run_raw_httpx(fleet, n, warmup, 64),
        "raw httpx sharded 16x4 c=64": lambda: run_raw_httpx(
            fleet, n, warmup, 64, transport=ShardedTransport()
        ),
        "raw httpx-aiohttp c=64": lambda: run_raw_httpx(fleet, n, warmup, 64, transport=aio()),
        "raw aiohttp c=64": lambda: run_raw_aiohttp(fleet, n, warmup, 64),
        "raw aiohttp c=256": lambda: run_raw_aiohttp(fleet, n, warmup, 256),
        "SDK default c=4": lambda: run_sdk(fleet, n, warmup, 4, None),
        "SDK default c=64": lambda: run_sdk(fleet, n, warmup, 64, None),
        "SDK default c=256": lambda: run_sdk(fleet, n, warmup, 256, None),
        "SDK caller httpx c=64": lambda: run_sdk_caller_httpx(fleet, n, warmup, 64),
        "SDK transport=httpx c=64": lambda: run_sdk(fleet, n, warmup, 64, "httpx"),
        "SDK transport=aiohttp c=64": lambda: run_sdk(fleet, n, warmup, 64, "aiohttp"),
    }


def ratio(results: dict[str, list[float]], a: str, b: str) -> float:
    """Median over rounds of the per-round ratio a / b (same round, same conditions)."""
    return median([x / y for x, y in zip(results[a], results[b], strict=True)])


async def setting(latency: float, args: argparse.Namespace, rounds: int) -> bool:
    """Run every row ``rounds`` times against an emulator ``latency`` seconds away."""
    n = args.n
    with emulator_process("--authorizers", str(n * 6 // 5 + 200), "--latency", str(latency)) as url:
        state = await emulator_state(url)
        good = [
            a["authorizer_appid"] for a in state["authorizers"] if a["profile"] != "no_permission"
        ]
        fleet = Fleet(url, state, good[:n])
        await fleet.warm()
        table = rows(fleet, n, args.warmup)
        if args.only:
            keep = {"raw httpx c=4", *(k for k in table if any(o in k for o in args.only))}
            table = {k: v for k, v in table.items() if k in keep}
        results: dict[str, list[float]] = {label: [] for label in table}
        for _ in range(rounds):
            for label, row in table.items():
                results[label].append(await row())
    ms = round(latency * 1000)
    print(f"\n## {ms} ms added latency: n={n}, warm-up {args.warmup}, median of {rounds} round(s)")
    print(
        "(req/s: median of the row's rounds; ratios: median of the per-round ratios, each taken\n"
        " within one round, so they need not equal the quotient of the two medians)"
    )
    print(f"| {'row':<28} | {'req/s':>7} | {'÷ raw httpx c=4':>15} |")
    print(f"|{'-' * 30}|{'-' * 9}|{'-' * 17}|")
    for label, values in results.items():
        vs_raw = ratio(results, label, "raw httpx c=4")
        print(f"| {label:<28} | {median(values):7.0f} | {vs_raw:15.2f} |")
    pairs: list[tuple[str, str, float]] = []  # (row, baseline row, target)
    if latency == 0:
        pairs += [
            ("SDK default c=4", "raw httpx c=4", 0.90),
            ("SDK default c=64", "raw httpx c=4", 0.90),
            ("SDK default c=64", "raw aiohttp c=64", 0.75),
        ]
    else:
        pairs += [
            ("SDK default c=64", "raw aiohttp c=64", 0.90),
            ("SDK default c=256", "raw aiohttp c=256", 0.75),
        ]
    pairs += [
        ("SDK caller httpx c=64", "raw httpx c=64", 0.90),
        ("SDK transport=aiohttp c=64", "raw httpx-aiohttp c=64", 0.90),
    ]
    checks: list[tuple[str, float, float]] = []
    if latency != 0 and "SDK default c=64" in results:
        share = median(results["SDK default c=64"]) / IDEAL_AT_50MS
        checks.append((f"SDK default c=64 ÷ ideal {IDEAL_AT_50MS:.0f} req/s", share, 0.80))
    # with --only, the pairs whose two rows both ran
    checks += [
        (f"{row} ÷ {base}", ratio(results, row, base), target)
        for row, base, target in pairs
        if row in results and base in results
    ]
    ok = True
    for name, value, target in checks:
        verdict = "ok" if value >= target else "MISSED"
        ok = ok and value >= target
        print(f"- {name}: {value:.2f} (target >= {target:.2f}) {verdict}")
    return ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="timed calls per row")
    parser.add_argument("--warmup", type=int, default=200, help="untimed calls per row")
    parser.add_argument("--rounds", type=int, default=3, help="rounds at 0 ms")
    parser.add_argument("--rounds-50ms", type=int, default=1, help="rounds at 50 ms")
    parser.add_argument("--skip-50ms", action="store_true")
    parser.add_argument("--only", action="append", help="rows whose label contains this")
    parser.add_argument("--uvloop", action="store_true", help="run every row on uvloop's loop")
    args = parser.parse_args()
    version = sys.version.split()[0]
    print(f"# getprivacysetting throughput (python {version}, httpx {httpx.__version__})")
    print(f"# emulator served by {emulator_server()} in its own process")
    print(f"# event loop: {type(asyncio.get_running_loop()).__module__}")
    ok = await setting(0.0, args, args.rounds)
    if not args.skip_50ms:
        ok = await setting(0.050, args, args.rounds_50ms) and ok
    return 0 if ok else MISSED_TARGET


if __name__ == "__main__":
    if "--uvloop" in sys.argv:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            raise SystemExit(runner.run(main()))
    raise SystemExit(asyncio.run(main()))
