"""One rule for the refresh tokens api_get_authorizer_list lists: store_listed_refresh_tokens.

A listed token is written where the store holds none or a different one, never again when the
store holds it already (a write bumps the authorizer's fencing generation, and so refuses the
write of a refresh in flight). Every path that stores listed tokens goes through it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from client_factory import emulated, started

from wxprivacy import AccessToken, ComponentClient
from wxprivacy.audit import run_audit
from wxprivacy.emulator import Emulator


def count_writes(client: ComponentClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    written: list[str] = []
    store = client.token_store
    real = store.set_refresh_token

    async def counting(component_appid: str, authorizer_appid: str, *a: Any, **k: Any) -> bool:
        written.append(authorizer_appid)
        return await real(component_appid, authorizer_appid, *a, **k)

    monkeypatch.setattr(store, "set_refresh_token", counting)
    return written


async def test_a_token_the_store_holds_is_not_written_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu = Emulator(authorizers=30, seed=4)
    async with emulated(emu, load=False) as client:
        written = count_writes(client, monkeypatch)
        assert await client.reload_refresh_tokens() == 30
        assert sorted(written) == sorted(emu.authorizer_appids)
        written.clear()
        assert await client.reload_refresh_tokens() == 30  # the store holds them all
        async for _ in client.iter_authorizers(store_refresh_tokens=True):
            pass
        assert written == []


async def test_a_missing_or_different_stored_token_is_replaced_by_the_listed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu = Emulator(authorizers=12, seed=4)
    stale, lost, *_ = emu.authorizer_appids
    async with emulated(emu) as client:
        store, comp = client.token_store, client.component_appid
        await store.set_refresh_token(comp, stale, "refresh-that-61023-refused")
        await store.delete_authorizer(comp, lost)
        written = count_writes(client, monkeypatch)
        assert await client.reload_refresh_tokens() == 12
        assert sorted(written) == sorted([stale, lost])
        for appid in (stale, lost):
            assert await store.get_refresh_token(comp, appid) == emu.refresh_token(appid)


@pytest.mark.parametrize("stored", ["the listed one", "another one"])
async def test_listing_never_fences_off_a_refresh_in_flight(stored: str) -> None:
    """An equal listed token is not written; a different one is read again with
    api_get_authorizer_info under the authorizer's lock, so the listing waits for the refresh
    in flight instead of superseding it (and a stale listing cannot overwrite a rotated token)."""
    emu = Emulator(authorizers=3, seed=4)
    appid = emu.authorizer_appids[0]
    async with emulated(emu) as client:
        store, comp = client.token_store, client.component_appid
        if stored == "another one":
            await store.set_refresh_token(comp, appid, "an-older-refresh-token")

        async def listing() -> None:
            async for _ in client.iter_authorizers(store_refresh_tokens=True):
                pass

        async with store.lock(comp, f"authorizer:{appid}") as fence:  # a refresh in flight
            task = asyncio.create_task(listing())
            await asyncio.sleep(0.05)
            token = AccessToken("access-from-the-refresh", time.time() + 7200)
            wrote = await store.set_authorizer_tokens(
                comp, appid, token, emu.refresh_token(appid), fence=fence
            )
        await task
        assert wrote is True
        assert await store.get_refresh_token(comp, appid) == emu.refresh_token(appid)


async def test_pages_carry_the_total_and_are_stored_before_they_are_yielded() -> None:
    emu = Emulator(authorizers=1201, seed=2)
    async with emulated(emu, load=False) as client:
        store, comp = client.token_store, client.component_appid
        seen: list[str] = []
        async for page in client.iter_authorizer_pages(store_refresh_tokens=True):
            assert page.total_count == 1201
            for item in page.list:
                assert await store.get_refresh_token(comp, item.authorizer_appid) == (
                    item.refresh_token
                )
            seen += [item.authorizer_appid for item in page.list]
        assert seen == emu.authorizer_appids
        assert emu.calls["/cgi-bin/component/api_get_authorizer_list"] == 3
        plain = [p async for p in client.iter_authorizer_pages(page_size=500)]
        assert [len(p.list) for p in plain] == [500, 500, 201]


async def test_a_late_query_auth_answer_never_replaces_a_rotated_token() -> None:
    """Found by the issue 9 trial: a redirect's query_auth answer arriving after a refresh
    rotated the token it carries used to write the superseded token back."""
    import httpx
    from late_answers import LateAnswers

    from wxprivacy import ComponentClient

    emu = Emulator(authorizers=1, seed=6, rotate_refresh_tokens=True)
    appid = emu.authorizer_appids[0]
    qa = "/cgi-bin/component/api_query_auth"
    http = httpx.AsyncClient(
        transport=LateAnswers(emu.transport(), lambda p, n: 0.3 if p == qa else 0.0)
    )
    client = ComponentClient(emu.component_appid, emu.component_appsecret, http_client=http)
    try:
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        code = emu.authorize(appid)  # the owner re-authorizes: WeChat's token is Rn
        late = asyncio.create_task(client.query_auth(code))  # its answer (Rn) arrives late
        await asyncio.sleep(0.05)
        await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))  # the push
        await client.authorizer_access_token(appid)  # a refresh rotates Rn -> Rn+1
        await late
        stored = await client.token_store.get_refresh_token(emu.component_appid, appid)
        assert stored == emu.refresh_token(appid)
    finally:
        await client.aclose()
        await http.aclose()


# -- regressions from the issue-13 trial (a fresh clone, the README, then breaking it) -----------


@pytest.mark.parametrize("bad", [" wx1", "wx1111111111111111 ", "wx\u3000x", "x" * 100])
async def test_a_malformed_appid_in_wechats_list_fails_alone(bad: str, tmp_path: Path) -> None:
    """Was: ``error: authorizer_appid must be ...`` and an audit that wrote nothing (exit 2)."""
    emu = Emulator(authorizers=5, seed=1)
    emu.add_authorizer(bad)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = await started(emu, http)
        summary = await run_audit(client, tmp_path / "a.jsonl")
        await client.aclose()
    assert (summary.total, summary.failed) == (6, 1)
    failed = [r for r in map(orjson.loads, (tmp_path / "a.jsonl").read_bytes().splitlines())]
    assert [r["authorizer_appid"] for r in failed if not r["ok"]] == [bad]
