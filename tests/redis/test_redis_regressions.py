"""Regressions from the issue-3 trial, each with the input that failed."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

import pytest
from fakes import COMPONENT_APPID, TICKET, FakeWeChat, errcode

from wxprivacy import AccessToken, InvalidArgumentError, RedisTokenStore, TokenInvalidError

C = COMPONENT_APPID
APPID = "wxa000000000000000"
GP = "/cgi-bin/component/getprivacysetting"
AT = "/cgi-bin/component/api_authorizer_token"


async def test_read_in_flight_during_invalidation_is_not_cached(store: RedisTokenStore) -> None:
    await store.set_authorizer_tokens(C, APPID, AccessToken("T1", 2e9), "r")
    store._local.clear()
    # Start a read of T1 from Redis, and invalidate T1 while that read is in flight.
    read = asyncio.ensure_future(store.get_authorizer_token(C, APPID))
    await asyncio.sleep(0)
    assert await store.invalidate_authorizer_token(C, APPID, "T1")
    stale = await read
    assert stale is None or stale.value == "T1"  # whichever the race gave...
    assert await store.get_authorizer_token(C, APPID) is None  # ...T1 is never served again


async def test_token_rejected_after_the_refresh_is_not_reused(
    store: RedisTokenStore, new_client: Any
) -> None:
    fake = FakeWeChat()
    client = new_client(fake, store)
    await client.set_component_verify_ticket(TICKET)
    await client.set_authorizer_refresh_token(APPID, "refresh-0")
    fake.script[GP] = [errcode(40001)] * 4
    for _ in range(2):
        with pytest.raises(TokenInvalidError):
            await client.get_privacy_setting(APPID)
    # Each call: a token, rejected; one refresh; the new token rejected too and forgotten, so
    # the second call never sends a token that already failed.
    sent = [r.url.params["access_token"] for r in fake.requests if r.url.path == GP]
    assert len(sent) == 4 and len(set(sent)) == 4
    assert fake.calls[AT] == 4
    assert await store.get_authorizer_token(C, APPID) is None


@pytest.mark.parametrize("option", ["lock_wait", "lock_lease", "timeout", "local_cache_ttl"])
@pytest.mark.parametrize("value", [math.nan, math.inf])
async def test_non_finite_seconds_are_rejected(new_store: Any, option: str, value: float) -> None:
    with pytest.raises(InvalidArgumentError, match=option):
        new_store(**{option: value})


async def test_import_refuses_appids_the_store_cannot_read_back(store: RedisTokenStore) -> None:
    with pytest.raises(InvalidArgumentError, match="authorizer_appid"):
        await store.import_refresh_tokens(C, {"wx{bad}": "r1", "wx ok": "r2"})
    assert await store.export_refresh_tokens(C) == {}


async def test_rotated_refresh_token_lost_to_a_store_failure_is_logged(
    store: RedisTokenStore, new_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeWeChat(rotate=True)
    client = new_client(fake, store)
    await client.set_component_verify_ticket(TICKET)
    await client.set_authorizer_refresh_token(APPID, "refresh-0")
    from wxprivacy import TokenStoreError

    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise TokenStoreError("simulated outage", store="RedisTokenStore")

    store.set_authorizer_tokens = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="wxprivacy"), pytest.raises(TokenStoreError):
        await client.authorizer_access_token(APPID)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("reload_refresh_tokens()" in m for m in messages)
    assert all(fake.refresh_tokens[APPID] not in m for m in messages)
