"""Across processes and machines, one refresh per token, counted at the emulator over real HTTP.

The emulator runs in its own process (``python -m wxprivacy.emulator --port 0``); worker
processes and clients talk to it over HTTP and to the test Redis. Every child is killed in a
``finally`` and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from rhelpers import REDIS_URL

from wxprivacy import ComponentClient
from wxprivacy.redis import RedisTokenStore

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("_mp_worker.py")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
CT = "/cgi-bin/component/api_component_token"
AT = "/cgi-bin/component/api_authorizer_token"
AUTHORIZERS = 5


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


@asynccontextmanager
async def emulator(*args: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Serve the emulator in a child process; yield its base URL and ``/_emulator/state``."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wxprivacy.emulator", "--port", "0", *args,
        stdout=asyncio.subprocess.PIPE, env=ENV,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(15):
            line = (await proc.stdout.readline()).decode()
        assert line.startswith("listening on "), line
        url = line.split()[-1]
        async with httpx.AsyncClient(base_url=url) as http:
            state = (await http.get("/_emulator/state")).json()
        yield url, state
    finally:
        await _kill(proc)


async def emulator_calls(url: str) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=url) as http:
        calls: dict[str, int] = (await http.get("/_emulator/calls")).json()["calls"]
        return calls


async def seed_store(prefix: str, state: dict[str, Any]) -> None:
    """Cold cache: only the ticket and the refresh tokens are stored."""
    async with RedisTokenStore.from_url(REDIS_URL, key_prefix=prefix) as store:
        comp = state["component_appid"]
        await store.set_verify_ticket(comp, state["component_verify_ticket"], 43200)
        await store.import_refresh_tokens(
            comp, {a["authorizer_appid"]: a["refresh_token"] for a in state["authorizers"]}
        )


async def test_four_processes_fifty_clients_each_one_refresh_per_token(
    redis_prefix: str,
) -> None:
    async with emulator(
        "--authorizers", str(AUTHORIZERS), "--latency", "0.05", "--rotate-refresh-tokens"
    ) as (url, state):
        await seed_store(redis_prefix, state)
        appids = [a["authorizer_appid"] for a in state["authorizers"]]
        config = {
            "redis_url": REDIS_URL,
            "prefix": redis_prefix,
            "base_url": url,
            "component_appid": state["component_appid"],
            "component_appsecret": state["component_appsecret"],
            "coroutines": 50,
            "appids": appids,
        }
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(WORKER),
                json.dumps(config),
                env=ENV,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            for _ in range(4)
        ]
        try:
            async with asyncio.timeout(60):
                for proc in workers:
                    assert proc.stdout is not None
                    assert (await proc.stdout.readline()).strip() == b"ready"
                for proc in workers:  # all 200 clients start together, on a cold cache
                    assert proc.stdin is not None
                    proc.stdin.write(b"go\n")
                    await proc.stdin.drain()
                outputs = [await proc.communicate() for proc in workers]
        finally:
            for proc in workers:
                await _kill(proc)
        results = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
        calls = await emulator_calls(url)
        async with httpx.AsyncClient(base_url=url) as http:
            after = (await http.get("/_emulator/state")).json()

    print(f"multi-process: 4 x 50 clients, {AUTHORIZERS} authorizers -> emulator calls {calls}")
    assert [r["errors"] for r in results] == [[]] * 4
    assert calls[CT] == 1
    assert calls[AT] == AUTHORIZERS
    for key in ["component", *appids]:  # every client of every process got the same token
        assert len({t for r in results for t in r["tokens"][key]}) == 1, key
    # the rotated refresh tokens were stored, none lost
    async with RedisTokenStore.from_url(REDIS_URL, key_prefix=redis_prefix) as store:
        stored = await store.export_refresh_tokens(state["component_appid"])
    assert stored == {a["authorizer_appid"]: a["refresh_token"] for a in after["authorizers"]}
    assert stored != {a["authorizer_appid"]: a["refresh_token"] for a in state["authorizers"]}


async def test_two_machines_in_one_process(redis_prefix: str) -> None:
    """Two client instances with their own store and connection, 50 coroutines each."""
    async with emulator("--authorizers", str(AUTHORIZERS), "--latency", "0.05") as (url, state):
        await seed_store(redis_prefix, state)
        appids = [a["authorizer_appid"] for a in state["authorizers"]]
        machines = []
        for _ in range(2):
            store = RedisTokenStore.from_url(REDIS_URL, key_prefix=redis_prefix)
            client = ComponentClient(
                state["component_appid"],
                state["component_appsecret"],
                token_store=store,
                base_url=url,
            )
            machines.append((store, client))

        async def work(client: ComponentClient, i: int) -> list[str]:
            return [
                await client.authorizer_access_token(appids[(i + k) % len(appids)])
                for k in range(len(appids))
            ]

        try:
            async with asyncio.timeout(30):
                results = await asyncio.gather(
                    *(work(client, i) for _, client in machines for i in range(50))
                )
        finally:
            for store, client in machines:
                await client.aclose()
                await store.aclose()
        calls = await emulator_calls(url)
    print(f"two machines: 2 x 50 coroutines -> emulator calls {calls}")
    assert calls[CT] == 1 and calls[AT] == AUTHORIZERS
    assert len({tuple(sorted(r)) for r in results}) == 1
