"""Issue 9 §4: a token of only spaces in WeChat's answer means absent, everywhere a token arrives.

Cases: ``api_query_auth`` (refresh token blank, access token kept), ``api_get_authorizer_list``
(one blank entry in the middle of a page: the rest of the page is stored), and
``api_authorizer_token`` (a blank rotated refresh token keeps the stored one). The blank values
vary (hypothesis); a server answer never raises InvalidArgumentError.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from client_factory import APPID as SURFACE_APPID
from client_factory import make as surface_make
from fakes import COMPONENT_APPID, FakeWeChat
from hypothesis import given, settings
from hypothesis import strategies as st

from wxprivacy import (
    ComponentClient,
    ResponseFormatError,
    paths,
)

C = "wx0000000000000000"
APPID = "wx1234567890abcdef"
QA = "/cgi-bin/component/api_query_auth"
LIST = "/cgi-bin/component/api_get_authorizer_list"
AT = "/cgi-bin/component/api_authorizer_token"

blanks = st.text(alphabet=" \t\r\n\u3000\u00a0", min_size=0, max_size=4)


def _wechat(answers: dict[str, dict[str, Any]]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/api_component_token"):
            return httpx.Response(200, json={"component_access_token": "ctok", "expires_in": 7200})
        return httpx.Response(200, json=answers[path])

    return httpx.MockTransport(handle)


async def _client(answers: dict[str, dict[str, Any]]) -> ComponentClient:
    client = ComponentClient(C, "secret", http_client=httpx.AsyncClient(transport=_wechat(answers)))
    await client.set_component_verify_ticket("ticket@@@x")
    return client


async def _close(client: ComponentClient) -> None:
    await client.aclose()
    await client._wire.backend.http.aclose()


@settings(max_examples=30, deadline=None)
@given(blank=blanks, stored_before=st.booleans())
async def test_query_auth_with_a_blank_refresh_token(blank: str, stored_before: bool) -> None:
    info = {
        "authorizer_appid": APPID,
        "authorizer_access_token": "access-new",
        "expires_in": 7200,
        "authorizer_refresh_token": blank,
        "func_info": [{"funcscope_category": {"id": 18}}],
    }
    client = await _client({QA: {"authorization_info": info}})
    try:
        if stored_before:
            await client.set_authorizer_refresh_token(APPID, "refresh-before")
        result = await client.query_auth("queryauthcode@@@x")  # never InvalidArgumentError
        assert result.authorizer_appid == APPID
        store = client.token_store
        stored = await store.get_refresh_token(C, APPID)
        access = await store.get_authorizer_token(C, APPID)
        if stored_before:
            # the earlier refresh token stays, and the new access token is kept beside it
            assert stored == "refresh-before"
            assert access is not None and access.value == "access-new"
        else:
            assert stored is None and access is None
    finally:
        await _close(client)


async def test_query_auth_with_a_refresh_token_of_spaces_exact_case() -> None:
    """The reported input: ``"authorizer_refresh_token": "   "``."""
    info = {
        "authorizer_appid": APPID,
        "authorizer_access_token": "access-new",
        "authorizer_refresh_token": "   ",
    }
    client = await _client({QA: {"authorization_info": info}})
    try:
        await client.set_authorizer_refresh_token(APPID, "refresh-before")
        await client.query_auth("queryauthcode@@@x")
        assert await client.token_store.get_refresh_token(C, APPID) == "refresh-before"
        assert await client.authorizer_access_token(APPID) == "access-new"
    finally:
        await _close(client)


@settings(max_examples=30, deadline=None)
@given(
    blank=blanks,
    where=st.integers(min_value=0, max_value=4),
    key_missing=st.booleans(),
)
async def test_reload_stores_the_rest_of_a_page_around_a_blank_entry(
    blank: str, where: int, key_missing: bool
) -> None:
    entries: list[dict[str, Any]] = [
        {"authorizer_appid": f"wx{i:016d}", "refresh_token": f"refresh-{i}", "auth_time": 1}
        for i in range(5)
    ]
    if key_missing:
        del entries[where]["refresh_token"]
    else:
        entries[where]["refresh_token"] = blank
    client = await _client({LIST: {"total_count": 5, "list": entries}})
    try:
        blank_appid = f"wx{where:016d}"
        await client.set_authorizer_refresh_token(blank_appid, "kept")
        assert await client.reload_refresh_tokens() == 4
        stored = await client.token_store.export_refresh_tokens(C)
        assert stored == {
            f"wx{i:016d}": ("kept" if i == where else f"refresh-{i}") for i in range(5)
        }
    finally:
        await _close(client)


@settings(max_examples=20, deadline=None)
@given(blank=blanks)
async def test_a_blank_rotated_refresh_token_keeps_the_stored_one(blank: str) -> None:
    answer = {
        "authorizer_access_token": "access-1",
        "expires_in": 7200,
        "authorizer_refresh_token": blank,
    }
    client = await _client({AT: answer})
    try:
        await client.set_authorizer_refresh_token(APPID, "refresh-0")
        assert await client.authorizer_access_token(APPID) == "access-1"
        assert await client.token_store.get_refresh_token(C, APPID) == "refresh-0"
    finally:
        await _close(client)


def test_blank_check_is_one_helper() -> None:
    from wxprivacy._token_endpoints import present

    assert present("  ") is None and present("") is None and present(None) is None
    assert present(3) is None and present(" r ") == " r "


@pytest.mark.parametrize("blank", [" ", "\t", "\u3000", "\xa0"])
async def test_a_blank_pre_auth_code_is_absent(blank: str) -> None:
    """Found by the issue 9 trial: authorization_url() built a URL with pre_auth_code=+."""
    pre = "/cgi-bin/component/api_create_preauthcode"
    client = await _client({pre: {"pre_auth_code": blank, "expires_in": 600}})
    try:
        with pytest.raises(ResponseFormatError, match="pre_auth_code"):
            await client.authorization_url("https://platform.example/authorized")
    finally:
        await _close(client)


# -- regressions from a new-user trial (each with the exact failing input) ------------------------


async def test_blank_rotated_refresh_token_keeps_the_old_one() -> None:
    fake = FakeWeChat()
    client = await surface_make(fake)
    answer = {
        "authorizer_access_token": "tok",
        "expires_in": 7200,
        "authorizer_refresh_token": "   ",
    }
    fake.script[paths.AUTHORIZER_TOKEN] = [lambda _r: httpx.Response(200, json=answer)]
    assert await client.authorizer_access_token(SURFACE_APPID) == "tok"
    assert await client.authorizer_access_token(SURFACE_APPID) == "tok"
    assert fake.calls[paths.AUTHORIZER_TOKEN] == 1
    assert await client.token_store.get_refresh_token(COMPONENT_APPID, SURFACE_APPID) == "refresh-0"
