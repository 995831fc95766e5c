"""Store helpers for tests: write a component token the way a refresher does (with a fence)."""

from __future__ import annotations

from typing import Any

from wxprivacy import AccessToken


async def put_component_token(store: Any, component_appid: str, token: AccessToken) -> bool:
    """Take the component lock and write ``token`` with its fence; return what the store said."""
    async with store.lock(component_appid, "component") as fence:
        written: bool = await store.set_component_token(component_appid, token, fence=fence)
    return written
