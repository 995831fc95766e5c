"""One worker process of the multi-process test (run as a script, not collected by pytest).

Usage: ``python _mp_worker.py CONFIG_JSON``. Builds ``coroutines`` independent (RedisTokenStore,
ComponentClient) pairs, prints ``ready``, waits for a line on stdin, then every coroutine asks
for the component token and every authorizer's token (each in its own order) and the process
prints one JSON line: ``{"tokens": {appid: [distinct tokens seen]}, "errors": [...]}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import httpx

from wxprivacy import ComponentClient
from wxprivacy.redis import RedisTokenStore


async def main(config: dict[str, Any]) -> None:
    # One HTTP connection pool per process (building 50 TLS contexts would only cost time);
    # each coroutine still has its own ComponentClient, RedisTokenStore and Redis connection.
    http = httpx.AsyncClient(timeout=30)
    pairs = []
    for _ in range(config["coroutines"]):
        store = RedisTokenStore.from_url(config["redis_url"], key_prefix=config["prefix"])
        client = ComponentClient(
            config["component_appid"],
            config["component_appsecret"],
            token_store=store,
            base_url=config["base_url"],
            http_client=http,
        )
        pairs.append((store, client))
    appids: list[str] = config["appids"]
    seen: dict[str, set[str]] = {a: set() for a in ["component", *appids]}
    errors: list[str] = []

    async def work(index: int, client: ComponentClient) -> None:
        try:
            seen["component"].add(await client.component_access_token())
            for k in range(len(appids)):
                target = appids[(index + k) % len(appids)]
                seen[target].add(await client.authorizer_access_token(target))
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(f"{type(exc).__name__}: {exc}")

    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    try:
        await asyncio.gather(*(work(i, client) for i, (_, client) in enumerate(pairs)))
    finally:
        for store, client in pairs:
            await client.aclose()
            await store.aclose()
        await http.aclose()
    result = {"tokens": {k: sorted(v) for k, v in seen.items()}, "errors": errors}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
