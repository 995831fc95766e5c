"""Fixtures for the RedisTokenStore tests: stores on the shared test prefix, clients, a clock.

Test modules import the fixtures they use from here, with `# noqa: F401` (a second conftest.py
would shadow the top-level one, which tests/fakes.py imports by name).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from conftest import REDIS_URL
from fakes import APPSECRET, COMPONENT_APPID, TICKET, FakeWeChat, no_sleep

from wxprivacy import ComponentClient
from wxprivacy.redis import RedisTokenStore


class Clock:
    """A settable Unix clock, seconds."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def appid(i: int) -> str:
    return f"wxa{i:015d}"


StoreFactory = Callable[..., RedisTokenStore]


@pytest.fixture(name="new_store")
async def new_store_fixture(redis_prefix: str) -> AsyncIterator[StoreFactory]:
    """``new_store(**options)``: a RedisTokenStore with its own connection, on the test prefix."""
    made: list[RedisTokenStore] = []

    def make(**options: Any) -> RedisTokenStore:
        url = options.pop("url", REDIS_URL)
        options.setdefault("key_prefix", redis_prefix)
        store = RedisTokenStore.from_url(url, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


@pytest.fixture(name="store")
async def store_fixture(new_store: StoreFactory) -> RedisTokenStore:
    """A RedisTokenStore on the test prefix (local cache on, default settings)."""
    return new_store()


ClientFactory = Callable[..., ComponentClient]


@pytest.fixture(name="new_client")
async def new_client_fixture() -> AsyncIterator[ClientFactory]:
    """``new_client(fake, store, **kw)``: a ComponentClient on a FakeWeChat; closed afterwards."""
    made: list[ComponentClient] = []

    def make(fake: FakeWeChat, store: RedisTokenStore, **kw: Any) -> ComponentClient:
        kw.setdefault("sleep", no_sleep)
        client = ComponentClient(
            COMPONENT_APPID, APPSECRET, token_store=store, http_client=fake.client(), **kw
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
        await client._wire.http.aclose()


async def seed(client: ComponentClient, appids: int = 1) -> None:
    """Store the ticket and ``refresh-<i>`` for authorizers ``appid(0..appids-1)``."""
    await client.set_component_verify_ticket(TICKET)
    for i in range(appids):
        await client.set_authorizer_refresh_token(appid(i), f"refresh-{i}")
