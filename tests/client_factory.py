"""One client factory for the tests: a valid owner_setting, clients over fakes and emulators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fakes import APPSECRET, COMPONENT_APPID, TICKET, FakeWeChat, no_sleep

from wxprivacy import ComponentClient, OwnerSetting
from wxprivacy.emulator import Emulator

APPID = "wxa000000000000000"
OWNER = OwnerSetting(
    contact_email="privacy@example.com", notice_method="弹窗提示", store_expire_timestamp="30天"
)


async def make(fake: FakeWeChat, **options: Any) -> ComponentClient:
    """A client over ``fake`` with a ticket and a refresh token for APPID stored; ``options`` go
    to ``ComponentClient`` (``retry=``, ``clock=``...)."""
    options.setdefault("sleep", no_sleep)
    client = ComponentClient(COMPONENT_APPID, APPSECRET, http_client=fake.client(), **options)
    await client.set_component_verify_ticket(TICKET)
    await client.set_authorizer_refresh_token(APPID, "refresh-0")
    return client


@asynccontextmanager
async def emulated(
    emu: Emulator,
    *,
    load: bool = True,
    ticket: bool = True,
    secret: str | None = None,
    **options: Any,
) -> AsyncIterator[ComponentClient]:
    """The suite's one client factory over an emulator: a client over ``emu`` with (``ticket``)
    the verify ticket stored and (``load``) every refresh token loaded. ``secret`` replaces the
    appsecret (a wrong one); ``options`` go to ``ComponentClient`` (``token_store=``,
    ``clock=``, ``quota_store=``...)."""
    options.setdefault("sleep", no_sleep)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        async with ComponentClient(
            emu.component_appid, secret or emu.component_appsecret, http_client=http, **options
        ) as client:
            if ticket:
                await client.set_component_verify_ticket(emu.component_verify_ticket)
            if load:
                async for _ in client.iter_authorizers(store_refresh_tokens=True):
                    pass
            yield client


async def started(emu: Emulator, http: httpx.AsyncClient, **kwargs: Any) -> ComponentClient:
    """A client over ``emu`` through the caller's ``http`` (the caller closes both), with the
    verify ticket stored; ``kwargs`` go to ``ComponentClient``."""
    client = ComponentClient(
        emu.component_appid, emu.component_appsecret, http_client=http, **kwargs
    )
    await client.set_component_verify_ticket(emu.component_verify_ticket)
    return client
