"""One worker process of the shared-quota tests and benchmark (a script, not collected).

Usage: ``python _quota_worker.py CONFIG_JSON``. Builds one ComponentClient over a
``RedisQuotaStore`` and a ``RedisTokenStore`` (both under ``prefix``), sends every request with
the header ``x-worker: <name>``, prints ``ready``, waits for a line on stdin, then runs
``coroutines`` coroutines that each call ``getprivacysetting`` for the authorizers in turn
until ``seconds`` have passed, and prints one JSON line:
``{"ok": n, "errors": {type name: count}}``.

Config keys: ``name``, ``redis_url``, ``prefix``, ``component_appid``,
``component_appsecret``, ``base_url``, ``appids``, ``per_minute``, ``window`` (seconds),
``coroutines``, ``seconds``, ``clock_offset`` (seconds added to the client's clock; the line on
stdin may set it instead, as ``{"clock_offset": x}``).
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import time
from typing import Any

import httpx

from wxprivacy import ComponentClient, WxPrivacyError
from wxprivacy.redis import RedisQuotaStore, RedisTokenStore

GP = "/cgi-bin/component/getprivacysetting"


async def main(config: dict[str, Any]) -> None:
    offset = [float(config.get("clock_offset", 0.0))]

    def clock() -> float:
        return time.time() + offset[0]

    tokens = RedisTokenStore.from_url(config["redis_url"], key_prefix=config["prefix"])
    quotas = RedisQuotaStore.from_url(
        config["redis_url"],
        key_prefix=config["prefix"],
        window=config.get("window", 60),
        clock=clock,
    )
    http = httpx.AsyncClient(timeout=30, headers={"x-worker": config["name"]})
    client = ComponentClient(
        config["component_appid"],
        config["component_appsecret"],
        token_store=tokens,
        quota_store=quotas,
        base_url=config["base_url"],
        http_client=http,
        rate_limits={GP: config["per_minute"]} if config.get("per_minute") else None,
        clock=clock,
    )
    appids: list[str] = config["appids"]
    ok = 0
    errors: collections.Counter[str] = collections.Counter()
    print("ready", flush=True)
    go = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if go.strip():  # the test may set the clock offset only now
        offset[0] = float(json.loads(go)["clock_offset"])
    end = time.monotonic() + config["seconds"]

    async def work(index: int) -> None:
        nonlocal ok
        k = index
        while time.monotonic() < end:
            try:
                await client.get_privacy_setting(appids[k % len(appids)])
                ok += 1
            except WxPrivacyError as exc:
                errors[type(exc).__name__] += 1
            k += config["coroutines"]

    try:
        await asyncio.gather(*(work(i) for i in range(config["coroutines"])))
    finally:
        await client.aclose()
        await http.aclose()
        await quotas.aclose()
        await tokens.aclose()
    print(json.dumps({"ok": ok, "errors": dict(errors)}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
