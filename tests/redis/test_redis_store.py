"""RedisTokenStore on a real Redis: key layout, TTLs, compare-and-delete, durability, backup."""

from __future__ import annotations

import asyncio
import logging
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis_asyncio
from fakes import COMPONENT_APPID, TICKET, FakeWeChat, errcode
from rhelpers import (
    REDIS_URL,
    appid,
    seed,
)
from store_helpers import put_component_token

import wxprivacy
from wxprivacy import (
    AccessToken,
    InvalidArgumentError,
    ReauthorizationRequiredError,
    TokenInvalidError,
    TokenStore,
    TokenStoreError,
)
from wxprivacy.redis import RedisTokenStore

C = COMPONENT_APPID
CT = "/cgi-bin/component/api_component_token"
AT = "/cgi-bin/component/api_authorizer_token"
LIST = "/cgi-bin/component/api_get_authorizer_list"
PRIV = "/cgi-bin/component/getprivacysetting"


def tok(value: str, lifetime: float = 7200.0) -> AccessToken:
    import time

    return AccessToken(value, time.time() + lifetime)


async def test_is_a_token_store_and_is_exported_lazily(store: RedisTokenStore) -> None:
    assert isinstance(store, TokenStore)
    assert wxprivacy.RedisTokenStore is RedisTokenStore
    assert "RedisTokenStore" in wxprivacy.__all__


async def test_key_layout(store: RedisTokenStore, redis_client: Any, redis_prefix: str) -> None:
    await store.set_verify_ticket(C, TICKET, 60)
    await put_component_token(store, C, tok("ctok"))
    await store.set_authorizer_tokens(C, appid(1), tok("atok"), "refresh-1")
    async with store.lock(C, "authorizer:" + appid(1)):
        keys = sorted([k.decode() async for k in redis_client.scan_iter(match=f"{redis_prefix}*")])
    base = f"{redis_prefix}:{{{C}}}"
    assert keys == sorted(
        [
            f"{base}:ticket",
            f"{base}:component_token",
            f"{base}:authorizer:{appid(1)}:access",
            f"{base}:refresh_tokens",
            f"{base}:lock:authorizer:{appid(1)}",
            f"{base}:generations",
        ]
    )
    assert await redis_client.hgetall(f"{base}:refresh_tokens") == {appid(1).encode(): b"refresh-1"}
    access = await redis_client.hgetall(f"{base}:authorizer:{appid(1)}:access")
    assert access[b"value"] == b"atok" and float(access[b"expires_at"]) > 0


async def test_two_components_never_share_a_key_or_a_lock(
    new_store: Any, redis_client: Any, redis_prefix: str
) -> None:
    a, b = new_store(), new_store()
    await a.set_verify_ticket("wxcomponent_a", "ticket-a", 60)
    await a.set_refresh_token("wxcomponent_a", appid(1), "refresh-a")
    assert await b.get_verify_ticket("wxcomponent_b") is None
    assert await b.get_refresh_token("wxcomponent_b", appid(1)) is None
    async with a.lock("wxcomponent_a", "component"):
        async with asyncio.timeout(1):
            async with b.lock("wxcomponent_b", "component"):
                pass


async def test_ticket_is_kept_at_least_twelve_hours(
    store: RedisTokenStore, redis_client: Any, redis_prefix: str
) -> None:
    await store.set_verify_ticket(C, TICKET, 60)
    assert await store.get_verify_ticket(C) == TICKET
    ttl = await redis_client.ttl(store.key(C, "ticket"))
    assert 12 * 3600 - 5 <= ttl <= 12 * 3600
    await store.set_verify_ticket(C, "ticket-2", 13 * 3600)
    assert await redis_client.ttl(store.key(C, "ticket")) > 12 * 3600


async def test_access_tokens_expire_with_the_token_refresh_tokens_never(
    store: RedisTokenStore, redis_client: Any
) -> None:
    await put_component_token(store, C, tok("ctok", 100))
    await store.set_authorizer_tokens(C, appid(1), tok("atok", 50), "refresh-1")
    assert 95_000 <= await redis_client.pttl(store.key(C, "component_token")) <= 100_000
    access_key = store.key(C, "authorizer", appid(1), "access")
    assert 45_000 <= await redis_client.pttl(access_key) <= 50_000
    assert await redis_client.ttl(store.key(C, "refresh_tokens")) == -1


async def test_empty_refresh_tokens_are_never_written(store: RedisTokenStore) -> None:
    await store.set_refresh_token(C, appid(1), "refresh-1")
    for empty in ("", "  "):
        with pytest.raises(InvalidArgumentError):
            await store.set_refresh_token(C, appid(1), empty)
        with pytest.raises(InvalidArgumentError):
            await store.set_authorizer_tokens(C, appid(1), tok("atok"), empty)
        with pytest.raises(InvalidArgumentError):
            await store.set_verify_ticket(C, empty, 60)
    assert await store.get_refresh_token(C, appid(1)) == "refresh-1"
    assert await store.get_authorizer_token(C, appid(1)) is None


async def test_answer_without_refresh_token_keeps_the_stored_one(
    new_store: Any, new_client: Any
) -> None:
    fake = FakeWeChat()
    store = new_store()
    client = new_client(fake, store)
    await seed(client)
    no_refresh = b'{"authorizer_access_token": "atok-x", "expires_in": 7200}'
    empty_refresh = (
        b'{"authorizer_access_token": "atok-y", "expires_in": 7200, "authorizer_refresh_token": ""}'
    )
    from fakes import raw

    fake.script[AT] = [raw(200, no_refresh)]
    assert await client.authorizer_access_token(appid(0)) == "atok-x"
    await store.invalidate_authorizer_token(C, appid(0), "atok-x")
    fake.script[AT] = [raw(200, empty_refresh)]
    assert await client.authorizer_access_token(appid(0)) == "atok-y"
    assert await store.get_refresh_token(C, appid(0)) == "refresh-0"


async def test_compare_and_delete(new_store: Any) -> None:
    a, b = new_store(local_cache_ttl=0), new_store(local_cache_ttl=0)
    await put_component_token(a, C, tok("old"))
    await put_component_token(b, C, tok("new"))  # another worker just fetched "new"
    assert await a.invalidate_component_token(C, "old") is False
    assert (await a.get_component_token(C)) == (await b.get_component_token(C))
    assert (await b.get_component_token(C)).value == "new"  # type: ignore[union-attr]
    assert await a.invalidate_component_token(C, "new") is True
    assert await b.get_component_token(C) is None

    await a.set_authorizer_tokens(C, appid(1), tok("a-new"), "r")
    assert await b.invalidate_authorizer_token(C, appid(1), "a-old") is False
    assert (await b.get_authorizer_token(C, appid(1))).value == "a-new"  # type: ignore[union-attr]
    assert await b.invalidate_authorizer_token(C, appid(1), "a-new") is True
    assert await a.get_authorizer_token(C, appid(1)) is None


async def test_compare_and_delete_races_with_writers(new_store: Any) -> None:
    """Invalidators of a stale value and a writer of a new one, all at once: the new one stays."""
    stores = [new_store(local_cache_ttl=0) for _ in range(8)]
    for round_ in range(20):
        await put_component_token(stores[0], C, tok(f"stale-{round_}"))
        fresh = tok(f"fresh-{round_}")
        invalidators = [s.invalidate_component_token(C, f"stale-{round_}") for s in stores[1:]]
        await asyncio.gather(*invalidators, put_component_token(stores[0], C, fresh))
        current = await stores[0].get_component_token(C)
        assert current is not None and current.value == fresh.value


async def test_invalidation_uses_a_lua_script(store: RedisTokenStore, redis_client: Any) -> None:
    await put_component_token(store, C, tok("ctok"))
    seen = await _monitor(
        redis_client, store.key_prefix, lambda: store.invalidate_component_token(C, "ctok")
    )
    # One script call (EVALSHA, after a SCRIPT LOAD on a fresh server); no client-side GET + DEL.
    assert {cmd.split()[0] for cmd in seen} <= {"EVALSHA", "EVAL"}, seen


async def test_rotated_refresh_token_is_written_with_its_access_token_in_one_script(
    store: RedisTokenStore, redis_client: Any
) -> None:
    async def fenced_write() -> None:
        async with store.lock(C, "authorizer:" + appid(1)) as fence:
            written = await store.set_authorizer_tokens(
                C, appid(1), tok("atok"), "rotated-refresh", fence=fence
            )
            assert written

    seen = await _monitor(redis_client, store.key_prefix, fenced_write)
    # acquire, write, release: three script calls, each atomic; the write carries both tokens
    # (besides: replica_acks="auto" asks INFO replication once, and with a replica the write is
    # followed by WAIT; see test_redis_replicas.py)
    seen = [cmd for cmd in seen if cmd.split()[0] not in ("INFO", "WAIT")]
    assert len(seen) == 3 and all(cmd.startswith("EVAL") for cmd in seen), seen
    assert "rotated-refresh" in seen[1] and "atok" in seen[1]
    assert await store.get_refresh_token(C, appid(1)) == "rotated-refresh"


async def _monitor(redis_client: Any, prefix: str, op: Any) -> list[str]:
    """Run ``op`` and return the commands its connection sent, as MONITOR printed them."""
    watcher = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        async with watcher.monitor() as monitor:
            await op()
            # Mark the end with a command of our own, then read up to it.
            marker = "wxprivacy-monitor-end"
            await redis_client.echo(marker)
            entries = []
            async with asyncio.timeout(5):
                while True:
                    entry = await monitor.next_command()
                    if marker in entry["command"]:
                        break
                    entries.append(entry)
    finally:
        await watcher.aclose()
    # Only the store's own connection: other clients (other tests, other sessions using the same
    # component appid) may share this Redis, so match this test's unique key prefix.
    mine = [e for e in entries if prefix + ":{" + C + "}" in e["command"]]
    assert mine, entries
    port = mine[0]["client_port"]
    setup = ("HELLO", "CLIENT", "SELECT", "SCRIPT")
    return [
        e["command"]
        for e in entries
        if e["client_port"] == port and not e["command"].startswith(setup)
    ]


async def test_deleting_access_token_keys_loses_nothing(
    new_store: Any, new_client: Any, redis_client: Any, redis_prefix: str
) -> None:
    fake = FakeWeChat(rotate=True)
    store = new_store(local_cache_ttl=0)
    client = new_client(fake, store)
    await seed(client, appids=3)
    first = [await client.authorizer_access_token(appid(i)) for i in range(3)]
    # "FLUSHDB of access tokens": every access-token key goes, refresh tokens and ticket stay.
    doomed = [
        k
        async for k in redis_client.scan_iter(match=f"{redis_prefix}:*")
        if k.endswith((b":access", b":component_token"))
    ]
    assert len(doomed) == 4
    await redis_client.delete(*doomed)
    again = [await client.authorizer_access_token(appid(i)) for i in range(3)]
    assert all(a != b for a, b in zip(first, again, strict=True))
    assert fake.calls == {CT: 2, AT: 6}
    assert await store.export_refresh_tokens(C) == {
        appid(i): fake.refresh_tokens[appid(i)] for i in range(3)
    }


async def test_export_and_import(
    new_store: Any, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = new_store(key_prefix=redis_prefix + "-src"), new_store()
    if True:
        for i in range(1200):  # more than one import chunk
            await a.set_refresh_token(C, appid(i), f"refresh-{i}")
        backup = await a.export_refresh_tokens(C)
        assert len(backup) == 1200 and backup[appid(7)] == "refresh-7"
        assert await a.export_refresh_tokens("wxother") == {}

        await b.set_refresh_token(C, appid(0), "newer-0")
        with caplog.at_level(logging.WARNING):
            written = await b.import_refresh_tokens(C, {**backup, appid(5000): "", "": "x"})
        assert written == 1199  # appid(0) kept its newer token; empties skipped
        assert "skipped 2 empty" in caplog.text and "refresh-7" not in caplog.text
        assert await b.get_refresh_token(C, appid(0)) == "newer-0"
        assert await b.get_refresh_token(C, appid(5000)) is None
        assert await b.import_refresh_tokens(C, backup, overwrite=True) == 1200
        assert await b.export_refresh_tokens(C) == backup


async def test_delete_authorizer(store: RedisTokenStore) -> None:
    await store.set_authorizer_tokens(C, appid(1), tok("atok"), "refresh-1")
    await store.delete_authorizer(C, appid(1))
    assert await store.get_authorizer_token(C, appid(1)) is None
    assert await store.get_refresh_token(C, appid(1)) is None


async def test_reload_refresh_tokens_from_the_authorizer_list(
    new_store: Any, new_client: Any
) -> None:
    """61023 recovery: the stored refresh token is stale; reload them all, then it works."""
    fake = FakeWeChat()
    store = new_store()
    client = new_client(fake, store)
    await seed(client, appids=1)
    listing = [
        {"authorizer_appid": appid(i), "refresh_token": f"current-{i}", "auth_time": 1}
        for i in range(5)
    ] + [{"authorizer_appid": appid(99), "refresh_token": "", "auth_time": 1}]

    def page(request: Any) -> Any:
        import json

        import httpx

        body = json.loads(request.content)
        chunk = listing[body["offset"] : body["offset"] + body["count"]]
        data = {"total_count": len(listing), "list": chunk}
        return httpx.Response(200, content=json.dumps(data).encode())

    fake.script[AT] = [errcode(61023, "refresh_token is invalid")]
    with pytest.raises(ReauthorizationRequiredError):
        await client.authorizer_access_token(appid(0))
    fake.script[LIST] = [page] * 3

    def info(request: Any) -> Any:
        # the stored token differs from the listed one: it is read again, under the lock
        import json

        import httpx

        appid_asked = json.loads(request.content)["authorizer_appid"]
        current = next(e["refresh_token"] for e in listing if e["authorizer_appid"] == appid_asked)
        data = {
            "authorization_info": {
                "authorizer_appid": appid_asked,
                "authorizer_refresh_token": current,
            }
        }
        return httpx.Response(200, content=json.dumps(data).encode())

    fake.script["/cgi-bin/component/api_get_authorizer_info"] = [info]
    assert await client.reload_refresh_tokens(page_size=2) == 5
    assert fake.calls[LIST] == 3
    assert await store.get_refresh_token(C, appid(0)) == "current-0"
    assert await store.get_refresh_token(C, appid(99)) is None
    assert (await client.authorizer_access_token(appid(0))).startswith("atoken-")
    sent = [r for r in fake.requests if r.url.path == AT][-1]
    assert b"current-0" in sent.content


async def test_repr_and_errors_hide_secrets(new_store: Any) -> None:
    store = new_store(url="redis://:hunter2-password@127.0.0.1:1/0", timeout=0.3)
    assert "hunter2" not in repr(store)
    with pytest.raises(wxprivacy.TokenStoreError) as info:
        await store.set_refresh_token(C, appid(1), "refresh-secret-value")
    text = str(info.value) + repr(info.value)
    assert "hunter2" not in text and "refresh-secret-value" not in text


def test_bad_arguments() -> None:
    client: Any = object()
    for kwargs in (
        {"key_prefix": "a{b}"},
        {"key_prefix": ""},
        {"lock_lease": 0},
        {"lock_wait": -1},
        {"local_cache_ttl": 61},
        {"local_cache_ttl": -1},
        {"timeout": 0},
    ):
        with pytest.raises(InvalidArgumentError):
            RedisTokenStore(client, **kwargs)


def test_import_wxprivacy_works_without_redis() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import wxprivacy\n"
        "assert wxprivacy.MemoryTokenStore\n"
        "try:\n"
        "    wxprivacy.RedisTokenStore.from_url('redis://127.0.0.1:6379/0')\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    assert "pip install 'wxprivacy[redis]'" in done.stdout


# ------------------------------------------------------------ regressions of the issue-3 trial

RAPPID = "wxa000000000000000"


async def test_read_in_flight_during_invalidation_is_not_cached(store: RedisTokenStore) -> None:
    await store.set_authorizer_tokens(C, RAPPID, AccessToken("T1", 2e9), "r")
    store._local.clear()
    # Start a read of T1 from Redis, and invalidate T1 while that read is in flight.
    read = asyncio.ensure_future(store.get_authorizer_token(C, RAPPID))
    await asyncio.sleep(0)
    assert await store.invalidate_authorizer_token(C, RAPPID, "T1")
    stale = await read
    assert stale is None or stale.value == "T1"  # whichever the race gave...
    assert await store.get_authorizer_token(C, RAPPID) is None  # ...T1 is never served again


async def test_token_rejected_after_the_refresh_is_not_reused(
    store: RedisTokenStore, new_client: Any
) -> None:
    fake = FakeWeChat()
    client = new_client(fake, store)
    await client.set_component_verify_ticket(TICKET)
    await client.set_authorizer_refresh_token(RAPPID, "refresh-0")
    fake.script[PRIV] = [errcode(40001)] * 4
    for _ in range(2):
        with pytest.raises(TokenInvalidError):
            await client.get_privacy_setting(RAPPID)
    # Each call: a token, rejected; one refresh; the new token rejected too and forgotten, so
    # the second call never sends a token that already failed.
    sent = [r.url.params["access_token"] for r in fake.requests if r.url.path == PRIV]
    assert len(sent) == 4 and len(set(sent)) == 4
    assert fake.calls[AT] == 4
    assert await store.get_authorizer_token(C, RAPPID) is None


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
    await client.set_authorizer_refresh_token(RAPPID, "refresh-0")

    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise TokenStoreError("simulated outage", store="RedisTokenStore")

    store.set_authorizer_tokens = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="wxprivacy"), pytest.raises(TokenStoreError):
        await client.authorizer_access_token(RAPPID)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("reload_refresh_tokens()" in m for m in messages)
    assert all(fake.refresh_tokens[RAPPID] not in m for m in messages)
