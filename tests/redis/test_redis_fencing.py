"""Issue 9 §1: a refresh that outlives its lock never overwrites newer tokens.

Two workers (separate RedisTokenStores, as separate processes would have) share one Redis and
one emulator that rotates refresh tokens. The first worker's ``api_authorizer_token`` answer (or
``api_component_token`` answer) arrives late, past its 0.2 s lease; the second worker refreshes
meanwhile. Whatever the timing, the store ends with the newest tokens: never the late answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from late_answers import LateAnswers, first_late

from wxprivacy import ComponentClient
from wxprivacy.emulator import Emulator

AT = "/cgi-bin/component/api_authorizer_token"
CT = "/cgi-bin/component/api_component_token"


async def _two_workers(
    new_store: Any, emu: Emulator, plan: Any, *, renew: bool
) -> tuple[ComponentClient, ComponentClient, Any, Any]:
    stores = [new_store(lock_lease=0.2, lock_wait=10), new_store(lock_lease=0.2, lock_wait=10)]
    stores[0]._renew_leases = renew  # False: act out a worker frozen past its lease
    a = ComponentClient(
        emu.component_appid,
        emu.component_appsecret,
        token_store=stores[0],
        http_client=httpx.AsyncClient(transport=LateAnswers(emu.transport(), plan)),
    )
    b = ComponentClient(
        emu.component_appid,
        emu.component_appsecret,
        token_store=stores[1],
        http_client=httpx.AsyncClient(transport=emu.transport()),
    )
    return a, b, stores[0], stores[1]


async def _close(*clients: ComponentClient) -> None:
    for client in clients:
        await client.aclose()
        await client._wire.backend.http.aclose()


@pytest.mark.parametrize("renew", [True, False], ids=["lease-renewed", "holder-frozen"])
@pytest.mark.parametrize(("late", "b_starts"), [(0.6, 0.3), (0.35, 0.25), (1.0, 0.5), (0.6, 0.05)])
async def test_a_late_authorizer_token_answer_never_overwrites_newer_tokens(
    new_store: Any, late: float, b_starts: float, renew: bool
) -> None:
    """The issue's case is late=0.6, b_starts=0.3; the others vary the timing around it."""
    emu = Emulator(authorizers=1, seed=9, rotate_refresh_tokens=True)
    appid = emu.authorizer_appids[0]
    a, b, store_a, store_b = await _two_workers(new_store, emu, first_late(AT, late), renew=renew)
    try:
        await a.set_component_verify_ticket(emu.component_verify_ticket)
        await a.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
        await a.component_access_token()  # warm: only the authorizer token is in play
        first = asyncio.create_task(a.authorizer_access_token(appid))
        await asyncio.sleep(b_starts)
        second = await b.authorizer_access_token(appid)
        await first
        store_a._local.clear()
        stored_refresh = await store_b.get_refresh_token(emu.component_appid, appid)
        stored_access = await store_a.get_authorizer_token(emu.component_appid, appid)
        assert stored_access is not None
        # the stored tokens are WeChat's newest: the refresh token is the current one, and the
        # access token is the last one issued (the late answer did not overwrite it)
        assert stored_refresh == emu.refresh_token(appid)
        assert stored_access.value == emu.current_authorizer_access_token(appid)
        if renew:
            # the lease was renewed: the second worker waited and used the first one's token
            assert emu.calls[AT] == 1 and second == stored_access.value
        elif emu.calls[AT] == 1:
            # a loaded machine started the second worker after the late answer was stored (the
            # closest case leaves 0.1 s): it found that token and used it, no refresh of its own
            assert second == stored_access.value
        else:
            # the second worker's refresh, and one more by the refused worker so that the store
            # holds WeChat's current token whichever order WeChat saw the two requests in
            assert emu.calls[AT] == 3
        # and the chain goes on: the next refresh is accepted, no 61023
        emu.expire_tokens()
        await b.authorizer_access_token(appid)
    finally:
        await _close(a, b)


@pytest.mark.parametrize("renew", [True, False], ids=["lease-renewed", "holder-frozen"])
@pytest.mark.parametrize("late", [0.35, 0.6, 1.0])
async def test_a_late_component_token_answer_never_overwrites_a_newer_one(
    new_store: Any, late: float, renew: bool
) -> None:
    emu = Emulator(authorizers=1, seed=10)
    a, b, store_a, _ = await _two_workers(new_store, emu, first_late(CT, late), renew=renew)
    try:
        await a.set_component_verify_ticket(emu.component_verify_ticket)
        first = asyncio.create_task(a.component_access_token())
        await asyncio.sleep(0.3)
        await b.component_access_token()
        await first
        store_a._local.clear()
        stored = await store_a.get_component_token(emu.component_appid)
        assert stored is not None and stored.value == emu.current_component_access_token()
        assert emu.calls[CT] == (1 if renew else 2)
    finally:
        await _close(a, b)


@pytest.mark.parametrize("overwrite", [True, False])
async def test_a_restored_backup_fences_off_a_refresh_in_flight(
    new_store: Any, overwrite: bool
) -> None:
    """``import_refresh_tokens`` writes from outside a refresh, like an authorization: a
    refresher that took its fence before the import cannot overwrite what was restored."""
    import time

    from wxprivacy import AccessToken

    store = new_store()
    c, a, b = "wx0000000000000000", "wxa000000000000000", "wxb000000000000000"
    await store.set_refresh_token(c, a, "r-before")
    async with (
        store.lock(c, f"authorizer:{a}") as fence_a,
        store.lock(c, f"authorizer:{b}") as fence_b,
    ):
        written = await store.import_refresh_tokens(
            c, {a: "r-restored", b: "rb-restored"}, overwrite=overwrite
        )
        assert written == (2 if overwrite else 1)  # without overwrite, a's token is kept
        token = AccessToken("late", time.time() + 7200)
        # b was written by the import: its refresh in flight is fenced off; so is a's when the
        # import overwrote it, and a's refresh proceeds when the import left a alone
        assert not await store.set_authorizer_tokens(c, b, token, "rb-late", fence=fence_b)
        assert await store.set_authorizer_tokens(c, a, token, "r-late", fence=fence_a) is (
            not overwrite
        )
    assert await store.get_refresh_token(c, b) == "rb-restored"
    assert await store.get_refresh_token(c, a) == ("r-restored" if overwrite else "r-late")


class _LateRequest(httpx.AsyncBaseTransport):
    """Holds back the *request* (a slow connect or send): WeChat acts on it late."""

    def __init__(self, inner: httpx.AsyncBaseTransport, path: str, delay: float) -> None:
        self._inner, self._path, self._delay = inner, path, delay
        self._first = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._first and request.url.path == self._path:
            self._first = False
            await asyncio.sleep(self._delay)
        return await self._inner.handle_async_request(request)


@pytest.mark.parametrize("late", [0.35, 0.6, 0.9])
async def test_a_late_request_past_the_lease_still_leaves_wechats_current_token(
    new_store: Any, late: float
) -> None:
    """Found by the trial: the frozen holder's request reaches WeChat after the newer holder's,
    so WeChat's current refresh token is the one in the refused write, and the stored one is
    superseded. The refused refresher refreshes once more from the stored token: the store ends
    with WeChat's current token, and the chain goes on after the grace period."""
    emu = Emulator(authorizers=1, seed=11, rotate_refresh_tokens=True, grace=1.0)
    appid = emu.authorizer_appids[0]
    stores = [new_store(lock_lease=0.2, lock_wait=10, local_cache_ttl=0) for _ in range(2)]
    stores[0]._renew_leases = False
    a = ComponentClient(
        emu.component_appid,
        emu.component_appsecret,
        token_store=stores[0],
        http_client=httpx.AsyncClient(transport=_LateRequest(emu.transport(), AT, late)),
    )
    b = ComponentClient(
        emu.component_appid,
        emu.component_appsecret,
        token_store=stores[1],
        http_client=httpx.AsyncClient(transport=emu.transport()),
    )
    try:
        await a.set_component_verify_ticket(emu.component_verify_ticket)
        await a.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
        await a.component_access_token()
        await b.component_access_token()
        first = asyncio.create_task(a.authorizer_access_token(appid))
        await asyncio.sleep(0.25)
        await b.authorizer_access_token(appid)
        await first
        assert await stores[1].get_refresh_token(emu.component_appid, appid) == (
            emu.refresh_token(appid)
        )
        await asyncio.sleep(1.2)  # the grace period of superseded tokens passes
        await stores[1]._redis.delete(
            stores[1].key(emu.component_appid, "authorizer", appid, "access")
        )
        assert await b.authorizer_access_token(appid)  # no 61023
    finally:
        await _close(a, b)
