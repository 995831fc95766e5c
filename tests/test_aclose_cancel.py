"""Issue 11 §3: a cancellation that lands inside aclose() still closes what the client owns.

Before: 50 of 50 such cancellations (memory store) left the HTTP client open, with "Unclosed
client session" ResourceWarnings. The cancellation lands at varied points: before, during and
after the drain of refreshes in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import warnings

import pytest

from wxprivacy import (
    ComponentClient,
)
from wxprivacy.emulator import Emulator, start_server


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_a_cancelled_aclose_still_closes_the_http_client(transport: str) -> None:
    emu = Emulator(authorizers=4, seed=3, latency=0.05)
    rng = random.Random(7)
    async with await start_server(emu) as server:
        for _ in range(25):
            client = ComponentClient(
                emu.component_appid,
                emu.component_appsecret,
                base_url=server.url,
                transport=transport,  # type: ignore[arg-type]
            )
            await client.set_component_verify_ticket(emu.component_verify_ticket)
            appid = emu.authorizer_appids[0]
            await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
            # a refresh in flight, so aclose() has something to drain
            caller = asyncio.create_task(client.authorizer_access_token(appid))
            await asyncio.sleep(rng.uniform(0, 0.03))
            closing = asyncio.create_task(client.aclose())
            await asyncio.sleep(rng.uniform(0, 0.12))  # before, during or after the drain
            closing.cancel()
            with pytest.raises(asyncio.CancelledError):
                await closing
                raise asyncio.CancelledError  # it finished before the cancel: same outcome
            await asyncio.gather(caller, return_exceptions=True)
            assert client._wire.backend.is_closed
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        gc.collect()


# -- regressions from the issue-6 trial (each with the exact input that failed) -------------------


async def test_aclose_lets_a_refresh_in_flight_finish(caplog: pytest.LogCaptureFixture) -> None:
    from fakes import APPSECRET, COMPONENT_APPID, TICKET, FakeWeChat

    APPID = "wxa000000000000000"  # noqa: N806 - the suite's usual authorizer
    fake = FakeWeChat(delay=0.05, rotate=True)
    client = ComponentClient(COMPONENT_APPID, APPSECRET, http_client=fake.client())
    await client.set_component_verify_ticket(TICKET)
    await client.set_authorizer_refresh_token(APPID, "refresh-0")
    caller = asyncio.ensure_future(client.authorizer_access_token(APPID))
    await asyncio.sleep(0.02)
    caller.cancel()  # Ctrl-C while the refresh is in flight
    with contextlib.suppress(asyncio.CancelledError):
        await caller
    await client.aclose()
    store = client.token_store
    assert await store.get_authorizer_token(COMPONENT_APPID, APPID) is not None
    assert await store.get_refresh_token(COMPONENT_APPID, APPID) == fake.refresh_tokens[APPID]
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]
