"""Which HTTP server should serve the emulator: the built-in asyncio one or uvicorn (httptools).

Run from the repository root (``nox -s bench`` runs it)::

    python benchmarks/bench_server.py [--n 5000] [--rounds 3]

Each round starts the emulator once per server (``python -m wxprivacy.emulator --server ...``)
and drives getprivacysetting with raw aiohttp at 64 requests in flight (the fastest client
measured, so the server is what limits), and prints the median req/s and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util

import aiohttp
import httpx
from _common import GP, bounded, emulator_process, emulator_state, median, timed

SERVERS = ("asyncio", "uvicorn")


async def tokens(url: str, n: int) -> list[str]:
    """Fetch ``n`` authorizer access tokens by hand."""
    state = await emulator_state(url)
    ok = [a for a in state["authorizers"] if a["profile"] != "no_permission"][:n]
    creds = {k: state[k] for k in ("component_appid", "component_appsecret")}
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        body = {**creds, "component_verify_ticket": state["component_verify_ticket"]}
        answer = await http.post("/cgi-bin/component/api_component_token", json=body)
        ctoken = answer.json()["component_access_token"]
        out: list[str] = []

        async def one(a: dict[str, str]) -> None:
            answer = await http.post(
                "/cgi-bin/component/api_authorizer_token",
                params={"component_access_token": ctoken},
                json={
                    "component_appid": creds["component_appid"],
                    "authorizer_appid": a["authorizer_appid"],
                    "authorizer_refresh_token": a["refresh_token"],
                },
            )
            out.append(answer.json()["authorizer_access_token"])

        await bounded(ok, 16, one)
    return out


async def throughput(url: str, toks: list[str], warmup: int) -> float:
    async with aiohttp.ClientSession() as session:

        async def one(token: str) -> None:
            async with session.post(
                f"{url}{GP}?access_token={token}", data=b'{"privacy_ver":2}'
            ) as response:
                await response.read()

        await bounded(toks[:warmup], 64, one)
        return len(toks) / await timed(lambda: bounded(toks, 64, one))


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    results: dict[str, list[float]] = {s: [] for s in SERVERS}
    for _ in range(args.rounds):
        for server in SERVERS:
            with emulator_process(
                "--authorizers", str(args.n * 6 // 5 + 100), "--server", server
            ) as url:
                toks = await tokens(url, args.n)
                results[server].append(await throughput(url, toks, args.warmup))
    print(f"# emulator server, raw aiohttp c=64, n={args.n}, median of {args.rounds} rounds")
    print(f"| {'server':<24} | {'req/s':>7} | {'÷ uvicorn':>9} |")
    print(f"|{'-' * 26}|{'-' * 9}|{'-' * 11}|")
    labels = {"asyncio": "asyncio (built in)", "uvicorn": f"uvicorn ({http})"}
    ratios = [a / u for a, u in zip(results["asyncio"], results["uvicorn"], strict=True)]
    for server in SERVERS:
        vs = median(ratios) if server == "asyncio" else 1.0
        print(f"| {labels[server]:<24} | {median(results[server]):7.0f} | {vs:9.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
