"""Helpers for the RedisTokenStore tests: the Redis URL, a settable clock, seeding."""

from __future__ import annotations

import os

from clock import FakeClock as Clock
from fakes import TICKET

from wxprivacy import ComponentClient

__all__ = ["REDIS_URL", "Clock", "appid", "seed"]

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def appid(i: int) -> str:
    return f"wxa{i:015d}"


async def seed(client: ComponentClient, appids: int = 1) -> None:
    """Store the ticket and ``refresh-<i>`` for authorizers ``appid(0..appids-1)``."""
    await client.set_component_verify_ticket(TICKET)
    for i in range(appids):
        await client.set_authorizer_refresh_token(appid(i), f"refresh-{i}")
