"""What a long batch leaves behind in memory: nothing per authorizer once it is forgotten."""

from __future__ import annotations

import asyncio

import httpx

from wxprivacy import ComponentClient, MemoryTokenStore
from wxprivacy.emulator import Emulator


async def test_memory_store_forgets_idle_locks_and_still_excludes() -> None:
    store = MemoryTokenStore()
    inside: list[int] = []
    peak = [0]

    async def hold() -> None:
        async with store.lock("wxc", "authorizer:a"):
            inside.append(1)
            peak[0] = max(peak[0], len(inside))
            await asyncio.sleep(0.001)
            inside.pop()

    await asyncio.gather(*(hold() for _ in range(20)))
    assert peak[0] == 1  # mutual exclusion held throughout
    assert store._locks == {}  # and nothing is left behind


async def test_streamed_and_forgotten_authorizers_leave_no_state() -> None:
    emu = Emulator(authorizers=300, seed=3)
    store = MemoryTokenStore()
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(
            emu.component_appid, emu.component_appsecret, http_client=http, token_store=store
        )
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        for appid in emu.authorizer_appids:
            await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
        async for appid, _ in client.iter_privacy_settings(emu.authorizer_appids, concurrency=32):
            await client.remove_authorizer(appid)
    assert store._locks == {}
    assert await store.export_refresh_tokens(emu.component_appid) == {}
    assert client._tokens._flights == {}
