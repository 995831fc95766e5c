"""Redis down, hanging or restarting: typed errors naming the store, recovery, no lost results."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest
from _proxy import TcpProxy
from fakes import COMPONENT_APPID, FakeWeChat
from redis.exceptions import RedisError
from rhelpers import appid, seed

from wxprivacy import PrivacySetting, TokenStoreError

C = COMPONENT_APPID
CT = "/cgi-bin/component/api_component_token"
AT = "/cgi-bin/component/api_authorizer_token"
PRIV = "/cgi-bin/component/getprivacysetting"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check(error: TokenStoreError) -> None:
    assert type(error) is TokenStoreError and error.store == "RedisTokenStore"
    assert str(error).startswith("RedisTokenStore: ")
    assert not isinstance(error, RedisError)


async def test_unreachable_redis_is_a_typed_error(new_store: Any) -> None:
    store = new_store(url=f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    operations = [
        lambda: store.get_verify_ticket(C),
        lambda: store.set_verify_ticket(C, "t", 60),
        lambda: store.get_component_token(C),
        lambda: store.set_refresh_token(C, appid(1), "r"),
        lambda: store.invalidate_component_token(C, "x"),
        lambda: store.export_refresh_tokens(C),
        lambda: store.lock(C, "component").__aenter__(),
    ]
    for op in operations:
        started = time.monotonic()
        with pytest.raises(TokenStoreError) as info:
            await op()
        check(info.value)
        assert time.monotonic() - started < 2


async def test_hanging_redis_times_out(blackhole: TcpProxy, new_store: Any) -> None:
    store = new_store(url=blackhole.url, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TokenStoreError) as info:
        await store.get_refresh_token(C, appid(1))
    check(info.value)
    assert "timed out after 0.3 s" in str(info.value)
    assert time.monotonic() - started < 2


async def test_client_surfaces_the_error_and_recovers(
    proxy: TcpProxy, new_store: Any, new_client: Any
) -> None:
    fake = FakeWeChat()
    client = new_client(fake, new_store(url=proxy.url, timeout=0.5, local_cache_ttl=0))
    await seed(client, appids=2)
    assert await client.get_privacy_setting(appid(0))
    proxy.down()
    with pytest.raises(TokenStoreError) as info:
        await client.get_privacy_setting(appid(1))
    check(info.value)
    proxy.up()
    async with asyncio.timeout(5):
        assert isinstance(await client.get_privacy_setting(appid(1)), PrivacySetting)
    assert fake.calls == {CT: 1, AT: 2, PRIV: 2}


async def test_outage_mid_batch_keeps_the_results_already_fetched(
    proxy: TcpProxy, new_store: Any, new_client: Any
) -> None:
    fake = FakeWeChat()
    client = new_client(fake, new_store(url=proxy.url, timeout=0.5))
    await seed(client, appids=10)
    appids = [appid(i) for i in range(10)]

    def cut_after_fourth(_request: Any) -> None:
        proxy.down()  # "Redis restarts" while the 4th guideline is on its way back

    fake.script[PRIV] = [lambda _r: None] * 3 + [cut_after_fourth]
    async with asyncio.timeout(20):
        results = await client.get_privacy_settings(appids, concurrency=1)
    fetched = [a for a, r in results.items() if isinstance(r, PrivacySetting)]
    failed = [a for a, r in results.items() if isinstance(r, TokenStoreError)]
    assert fetched == appids[:4] and failed == appids[4:]
    for error in results.values():
        if isinstance(error, TokenStoreError):
            check(error)

    proxy.up()  # Redis is back (it kept its data: refresh tokens are persisted)
    async with asyncio.timeout(20):
        retried = await client.get_privacy_settings(failed, concurrency=4)
    assert all(isinstance(r, PrivacySetting) for r in retried.values())
    assert fake.calls == {CT: 1, AT: 10, PRIV: 10}


@pytest.mark.parametrize("away", [0.2, 0.8])
async def test_redis_away_for_less_than_the_timeout_costs_latency_not_errors(
    proxy: TcpProxy, new_store: Any, away: float
) -> None:
    """A failover or restart shorter than ``timeout``: every operation waits it out."""
    store = new_store(url=proxy.url, timeout=3.0, local_cache_ttl=0)
    await store.set_refresh_token(C, appid(0), "refresh-0")
    proxy.down()
    loop = asyncio.get_running_loop()
    loop.call_later(away, proxy.up)
    started = time.monotonic()
    results = await asyncio.gather(
        *(store.get_refresh_token(C, appid(0)) for _ in range(16)),
        store.set_refresh_token(C, appid(1), "refresh-1"),
    )
    assert results == ["refresh-0"] * 16 + [True]
    assert away * 0.9 <= time.monotonic() - started < 3.0
    assert await store.get_refresh_token(C, appid(1)) == "refresh-1"


async def test_redis_away_for_longer_than_the_timeout_is_a_typed_error(
    proxy: TcpProxy, new_store: Any
) -> None:
    store = new_store(url=proxy.url, timeout=0.4, local_cache_ttl=0)
    await store.get_refresh_token(C, appid(0))
    proxy.down()
    started = time.monotonic()
    with pytest.raises(TokenStoreError) as info:
        await store.get_refresh_token(C, appid(0))
    check(info.value)
    assert "Redis was still away after 0.4 s" in str(info.value)
    assert 0.35 <= time.monotonic() - started < 2
