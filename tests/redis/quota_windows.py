"""Shared by the shared-quota tests and benchmark: how many request times fall in a window, and
a token store seeded the way a platform's is (the ticket and every refresh token)."""

from __future__ import annotations

from wxprivacy.emulator import Emulator
from wxprivacy.redis import RedisTokenStore


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of ``times`` (sorted) within any half-open interval of ``window``."""
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


async def seed_tokens(emu: Emulator, redis_url: str, prefix: str) -> None:
    """Store ``emu``'s verify ticket and every authorizer's refresh token under ``prefix``."""
    async with RedisTokenStore.from_url(redis_url, key_prefix=prefix) as store:
        comp = emu.component_appid
        await store.set_verify_ticket(comp, emu.component_verify_ticket, 43200)
        await store.import_refresh_tokens(
            comp, {a: emu.refresh_token(a) for a in emu.authorizer_appids}
        )
