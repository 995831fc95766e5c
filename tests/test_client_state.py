"""Issue 13 §2 (part): errors that say what to do: a closed client, another event loop, and
appids with white space, each a typed error naming the value."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest
from fakes import APPSECRET, COMPONENT_APPID
from hypothesis import given, settings
from hypothesis import strategies as st

from wxprivacy import (
    ClientClosedError,
    ComponentClient,
    InvalidArgumentError,
    WrongEventLoopError,
    WxPrivacyError,
)
from wxprivacy.emulator import Emulator


async def _client(emu: Emulator, *, own_http: bool) -> ComponentClient:
    kwargs: dict[str, Any] = {}
    if not own_http:
        kwargs["http_client"] = httpx.AsyncClient(transport=emu.transport())
    client = ComponentClient(emu.component_appid, emu.component_appsecret, **kwargs)
    await client.set_component_verify_ticket(emu.component_verify_ticket)
    appid = emu.authorizer_appids[0]
    await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
    return client


@pytest.mark.parametrize("own_http", [True, False], ids=["own-http-client", "caller-http-client"])
@pytest.mark.parametrize(
    "call",
    ["get_privacy_setting", "authorizer_access_token", "component_access_token"],
)
async def test_a_closed_client_raises_one_typed_error(own_http: bool, call: str) -> None:
    """Before: RuntimeError with its own HTTP client, and a working call with a caller's one."""
    emu = Emulator(authorizers=2, seed=4)
    client = await _client(emu, own_http=own_http)
    await client.aclose()
    method = getattr(client, call)
    args = () if call == "component_access_token" else (emu.authorizer_appids[0],)
    with pytest.raises(ClientClosedError, match="closed") as info:
        await method(*args)
    assert isinstance(info.value, WxPrivacyError)  # the README's `except WxPrivacyError` catches it
    if not own_http:
        await client._wire.backend.http.aclose()


async def test_a_client_belongs_to_one_event_loop() -> None:
    emu = Emulator(authorizers=2, seed=4)
    client = await _client(emu, own_http=False)
    await client.component_access_token()  # bound to this loop now
    outcome: list[BaseException | str] = []

    def elsewhere() -> None:
        async def use() -> None:
            await client.component_access_token()

        try:
            asyncio.run(use())
            outcome.append("no error")
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert isinstance(outcome[0], WrongEventLoopError), outcome
    assert await client.component_access_token()  # still fine on its own loop
    await client.aclose()
    await client._wire.backend.http.aclose()


PADDED = [" wx0123456789abcdef", "wx0123456789abcdef ", "wx0123\t456789abcdef", "wx\u3000abc", ""]


@pytest.mark.parametrize("appid", PADDED)
async def test_a_padded_appid_is_refused_everywhere_it_enters(appid: str) -> None:
    emu = Emulator(authorizers=1, seed=4)
    client = await _client(emu, own_http=False)
    try:
        for call in (
            lambda: client.set_authorizer_refresh_token(appid, "refresh"),
            lambda: client.authorizer_access_token(appid),
            lambda: client.get_privacy_setting(appid),
            lambda: client.remove_authorizer(appid),
        ):
            with pytest.raises(InvalidArgumentError) as info:
                await call()
            assert repr(appid) in str(info.value)  # the space is visible
        with pytest.raises(InvalidArgumentError):
            ComponentClient(appid, "secret")
        assert await client.token_store.export_refresh_tokens(emu.component_appid) == {
            emu.authorizer_appids[0]: emu.refresh_token(emu.authorizer_appids[0])
        }
    finally:
        await client.aclose()
        await client._wire.backend.http.aclose()


@settings(max_examples=200, deadline=None)
@given(core=st.from_regex(r"wx[0-9a-f]{16}", fullmatch=True), pad=st.sampled_from(" \t\n\r\x0b"))
def test_any_white_space_is_refused(core: str, pad: str) -> None:
    from wxprivacy._base import check_appid

    assert check_appid("authorizer_appid", core) == core
    for bad in (pad + core, core + pad, core[:5] + pad + core[5:]):
        with pytest.raises(InvalidArgumentError, match="authorizer_appid"):
            check_appid("authorizer_appid", bad)


# -- regressions from a new-user trial (each with the exact failing input) ------------------------


@pytest.mark.parametrize(
    "base_url",
    # the last three from a later trial: yarl refuses two (the call failed, not the
    # constructor), and an IDNA label idna refuses raised idna's own InvalidCodepoint
    ["http://[::1", "ftp://example.com", "api.weixin.qq.com", "", "http://[", "http://ａ@&%'"]
    + ["http://xn--a"],
)
def test_bad_base_url_is_rejected_at_construction(base_url: str) -> None:
    with pytest.raises(InvalidArgumentError, match="base_url"):
        ComponentClient(COMPONENT_APPID, APPSECRET, base_url=base_url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:99999", "http://127.0.0.1:0", "http://h#frag", "http://h/?a=1"]
)
def test_a_base_url_that_cannot_work_is_refused(url: str) -> None:
    with pytest.raises(InvalidArgumentError, match="base_url"):
        ComponentClient(COMPONENT_APPID, "secret", base_url=url)
