"""The in-process cache in front of Redis: no round trip when hot, never stale past its bounds."""

from __future__ import annotations

import json
from typing import Any

from _proxy import TcpProxy
from fakes import COMPONENT_APPID, FakeWeChat, errcode
from rhelpers import REDIS_URL, Clock, appid, seed
from store_helpers import put_component_token

from wxprivacy import AccessToken
from wxprivacy._local_cache import LocalTokenCache

C = COMPONENT_APPID
CT = "/cgi-bin/component/api_component_token"
AT = "/cgi-bin/component/api_authorizer_token"
PRIV = "/cgi-bin/component/getprivacysetting"


def test_local_cache_bounds() -> None:
    clock = Clock(1000.0)
    cache = LocalTokenCache(5.0, clock, max_entries=3)
    cache.put("a", AccessToken("A", 1010.0))
    assert cache.get("a") == AccessToken("A", 1010.0)
    clock.now = 1004.9
    assert cache.get("a") is not None
    clock.now = 1005.0  # its 5 s are over
    assert cache.get("a") is None and len(cache) == 0

    cache.put("b", AccessToken("B", 1007.0))
    clock.now = 1007.0  # the token itself expired, although the entry is young
    assert cache.get("b") is None

    cache.put("c", AccessToken("C", 2000.0))
    clock.now = 900.0  # the clock went backwards: do not trust the entry
    assert cache.get("c") is None

    clock.now = 1000.0
    for key in "wxyz":
        cache.put(key, AccessToken(key, 2000.0))
    assert len(cache) == 3 and cache.get("w") is None and cache.get("z") is not None

    off = LocalTokenCache(0.0, clock)
    off.put("a", AccessToken("A", 2000.0))
    assert not off.enabled and off.get("a") is None


async def test_hot_path_costs_no_redis_round_trip(
    proxy: TcpProxy, new_store: Any, new_client: Any
) -> None:
    fake = FakeWeChat()
    store = new_store(url=proxy.url)
    client = new_client(fake, store)
    await seed(client, appids=2)
    await client.get_privacy_setting(appid(0))
    await client.get_privacy_setting(appid(1))
    before = proxy.bytes_up
    for _ in range(100):
        await client.get_privacy_setting(appid(0))
        await client.get_privacy_setting(appid(1))
        await client.component_access_token()
    assert proxy.bytes_up == before
    assert fake.calls == {CT: 1, AT: 2, PRIV: 202}


async def test_without_local_cache_every_call_reads_redis(
    proxy: TcpProxy, new_store: Any, new_client: Any
) -> None:
    fake = FakeWeChat()
    client = new_client(fake, new_store(url=proxy.url, local_cache_ttl=0))
    await seed(client)
    await client.get_privacy_setting(appid(0))
    before = proxy.bytes_up
    await client.get_privacy_setting(appid(0))
    assert proxy.bytes_up > before


async def test_local_copy_is_served_at_most_local_cache_ttl(new_store: Any) -> None:
    clock = Clock()
    a = new_store(clock=clock, local_cache_ttl=5)
    b = new_store(clock=clock, local_cache_ttl=0)
    await a.set_authorizer_tokens(C, appid(1), AccessToken("one", clock.now + 7200), "r")
    await b.set_authorizer_tokens(C, appid(1), AccessToken("two", clock.now + 7200), "r")
    assert (await a.get_authorizer_token(C, appid(1))).value == "one"  # type: ignore[union-attr]
    clock.now += 5
    assert (await a.get_authorizer_token(C, appid(1))).value == "two"  # type: ignore[union-attr]


async def test_never_served_past_expiry(new_store: Any) -> None:
    clock = Clock()
    store = new_store(clock=clock, local_cache_ttl=60)
    await put_component_token(store, C, AccessToken("short", clock.now + 3))
    assert await store.get_component_token(C) is not None
    clock.now += 3  # expired by the clock; the Redis key may outlive it by clock drift
    assert await store.get_component_token(C) is None


async def test_invalidate_drops_the_local_copy_even_when_redis_moved_on(
    new_store: Any,
) -> None:
    a = new_store(local_cache_ttl=60)
    b = new_store(local_cache_ttl=0)
    await put_component_token(a, C, AccessToken("failed", 4e9))
    await put_component_token(b, C, AccessToken("fresh", 4e9))  # another process refreshed
    assert (await a.get_component_token(C)).value == "failed"  # type: ignore[union-attr]
    assert await a.invalidate_component_token(C, "failed") is False  # Redis keeps "fresh"
    assert (await a.get_component_token(C)).value == "fresh"  # type: ignore[union-attr]


async def test_a_rejected_token_is_not_served_again(new_store: Any, new_client: Any) -> None:
    fake = FakeWeChat()
    client = new_client(fake, new_store(local_cache_ttl=60))
    await seed(client)
    await client.get_privacy_setting(appid(0))
    fake.script[PRIV] = [errcode(40001, "invalid credential, access_token is invalid")]
    await client.get_privacy_setting(appid(0))
    await client.get_privacy_setting(appid(0))
    used = [r.url.params["access_token"] for r in fake.requests if r.url.path == PRIV]
    first, rejected, retried, later = used
    assert first == rejected and retried != rejected and later == retried
    assert fake.calls[AT] == 2
    assert json.loads(fake.requests[-1].content) == {"privacy_ver": 2}


def test_proxy_url_differs_from_redis_url(proxy: TcpProxy) -> None:
    assert proxy.url != REDIS_URL
