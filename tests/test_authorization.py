"""Pre-auth code, authorization URL, query_auth (tokens stored atomically), authorizer info."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from client_factory import APPID, emulated
from fakes import APPSECRET, COMPONENT_APPID, TICKET, FakeWeChat, errcode

import wxprivacy
import wxprivacy.models
from wxprivacy import (
    AuthorizationInfo,
    AuthorizerListItem,
    AuthorizerPage,
    ComponentClient,
    InvalidArgumentError,
    MemoryTokenStore,
    PermissionDeniedError,
    ReauthorizationRequiredError,
    ResponseFormatError,
    WeChatAPIError,
)
from wxprivacy.emulator import Emulator

PRE = "/cgi-bin/component/api_create_preauthcode"
QA = "/cgi-bin/component/api_query_auth"
INFO = "/cgi-bin/component/api_get_authorizer_info"
AT = "/cgi-bin/component/api_authorizer_token"
GP = "/cgi-bin/component/getprivacysetting"
CODE = "queryauthcode@@@s3cr3t-auth-code"


def answer(data: dict[str, Any]) -> Any:
    body = json.dumps({"errcode": 0, "errmsg": "ok", **data}, ensure_ascii=False).encode()
    return lambda _req: httpx.Response(200, content=body)


def query_auth_answer(func_ids: list[int], *, tokens: bool = True) -> Any:
    info: dict[str, Any] = {
        "authorizer_appid": APPID,
        "func_info": [{"funcscope_category": {"id": n}} for n in func_ids],
    }
    if tokens:
        info.update(
            authorizer_access_token="s3cr3t-access",
            expires_in=7200,
            authorizer_refresh_token="refreshtoken@@@s3cr3t-refresh",
        )
    return answer({"authorization_info": info})


async def fresh(fake: FakeWeChat, **kwargs: Any) -> ComponentClient:
    client = ComponentClient(COMPONENT_APPID, APPSECRET, http_client=fake.client(), **kwargs)
    await client.set_component_verify_ticket(TICKET)
    return client


async def test_create_preauth_code() -> None:
    fake = FakeWeChat()
    fake.script[PRE] = [answer({"pre_auth_code": "preauthcode@@@s3cr3t", "expires_in": 600})]
    client = await fresh(fake)
    code = await client.create_preauth_code()
    assert code.pre_auth_code == "preauthcode@@@s3cr3t" and code.expires_in == 600
    assert "s3cr3t" not in repr(code)
    request = fake.requests[-1]
    assert request.url.path == PRE
    assert dict(request.url.params) == {"component_access_token": fake.component_tokens[0]}
    assert json.loads(request.content) == {"component_appid": COMPONENT_APPID}


async def test_authorization_url_desktop_and_mobile() -> None:
    fake = FakeWeChat()
    fake.script[PRE] = [
        answer({"pre_auth_code": "pre-1", "expires_in": 1800}),
        answer({"pre_auth_code": "pre-2", "expires_in": 1800}),
    ]
    client = await fresh(fake)
    redirect = "https://example.com/wechat/authorized?from=a&b=中文"
    url = await client.authorization_url(redirect)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://mp.weixin.qq.com/cgi-bin/componentloginpage"
    )
    assert parse_qs(parts.query) == {
        "component_appid": [COMPONENT_APPID],
        "pre_auth_code": ["pre-1"],
        "redirect_uri": [redirect],
        "auth_type": ["3"],
    }
    url = await client.authorization_url(redirect, mobile=True, auth_type=2, biz_appid=APPID)
    parts = urlsplit(url)
    assert url.startswith("https://open.weixin.qq.com/wxaopen/safe/bindcomponent?")
    assert parts.fragment == "wechat_redirect"
    query = parse_qs(parts.query)
    assert query["action"] == ["bindcomponent"] and query["no_scan"] == ["1"]
    assert query["pre_auth_code"] == ["pre-2"] and query["auth_type"] == ["2"]
    assert query["biz_appid"] == [APPID] and query["redirect_uri"] == [redirect]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"redirect_uri": "/relative"},
        {"redirect_uri": "ftp://example.com/x"},
        {"redirect_uri": "https:///nohost"},
        {"redirect_uri": "https://e.com", "auth_type": 4},
        {"redirect_uri": "https://e.com", "auth_type": True},
        {"redirect_uri": "https://e.com", "biz_appid": ""},
    ],
)
async def test_authorization_url_rejects_bad_input(kwargs: dict[str, Any]) -> None:
    fake = FakeWeChat()
    client = await fresh(fake)
    with pytest.raises(InvalidArgumentError):
        await client.authorization_url(**kwargs)
    assert fake.calls == {}


async def test_query_auth_stores_both_tokens_in_one_step(caplog: Any) -> None:
    store = MemoryTokenStore()
    calls: list[tuple[str, str]] = []
    original = store.set_authorizer_tokens

    async def spy(comp: str, appid: str, token: Any, refresh: str, **kwargs: Any) -> bool:
        calls.append((appid, refresh))
        return await original(comp, appid, token, refresh, **kwargs)

    store.set_authorizer_tokens = spy  # type: ignore[method-assign]
    fake = FakeWeChat()
    fake.script[QA] = [query_auth_answer([17, 18, 19])]
    client = await fresh(fake, token_store=store)
    with caplog.at_level(logging.DEBUG):
        info = await client.query_auth(CODE)
    assert isinstance(info, AuthorizationInfo)
    assert info.authorizer_appid == APPID and info.func_ids == {17, 18, 19}
    assert info.has_privacy_permission
    assert calls == [(APPID, "refreshtoken@@@s3cr3t-refresh")]
    request = fake.requests[-1]
    assert json.loads(request.content) == {
        "component_appid": COMPONENT_APPID,
        "authorization_code": CODE,
    }
    # The stored access token is used as is: no api_authorizer_token call.
    await client.get_privacy_setting(APPID)
    assert fake.calls[AT] == 0
    assert dict(fake.requests[-1].url.params) == {"access_token": "s3cr3t-access"}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    for text in (repr(info), *(r.getMessage() for r in caplog.records)):
        assert "s3cr3t" not in text


async def test_query_auth_warns_when_set_18_is_missing(caplog: Any) -> None:
    fake = FakeWeChat()
    fake.script[QA] = [query_auth_answer([17, 19])]
    client = await fresh(fake)
    with caplog.at_level(logging.WARNING):
        info = await client.query_auth(CODE)
    assert not info.has_privacy_permission
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("permission set 18" in w and APPID in w for w in warnings)


async def test_query_auth_without_access_token_stores_the_refresh_token() -> None:
    fake = FakeWeChat()
    body = {
        "authorization_info": {
            "authorizer_appid": APPID,
            "authorizer_refresh_token": "refresh-only",
            "func_info": [{"funcscope_category": {"id": 18}}],
        }
    }
    fake.script[QA] = [answer(body)]
    client = await fresh(fake)
    await client.query_auth(CODE)
    assert await client.token_store.get_refresh_token(COMPONENT_APPID, APPID) == "refresh-only"


@pytest.mark.parametrize("bad", ["", "  ", None])
async def test_query_auth_rejects_an_empty_code(bad: Any) -> None:
    fake = FakeWeChat()
    client = await fresh(fake)
    with pytest.raises(InvalidArgumentError):
        await client.query_auth(bad)
    assert fake.calls == {}


async def test_query_auth_error_does_not_leak_the_code() -> None:
    fake = FakeWeChat()
    fake.script[QA] = [errcode(61010, "code is expired or invalid")]
    client = await fresh(fake)
    with pytest.raises(WeChatAPIError) as info:
        await client.query_auth(CODE)
    assert "s3cr3t" not in str(info.value)
    assert await client.token_store.get_refresh_token(COMPONENT_APPID, APPID) is None


async def test_get_authorizer_info() -> None:
    fake = FakeWeChat()
    fake.script[INFO] = [
        answer(
            {
                "authorizer_info": {
                    "nick_name": "示例小程序",
                    "service_type_info": {"id": "0"},
                    "verify_type_info": {"id": -1},
                    "user_name": "gh_abc",
                    "MiniProgramInfo": {"network": {}, "categories": [], "visit_status": 0},
                },
                "authorization_info": {
                    "authorizer_appid": APPID,
                    "authorizer_refresh_token": "s3cr3t-refresh",
                    "func_info": [{"funcscope_category": {"id": 18}}],
                },
            }
        )
    ]
    client = await fresh(fake)
    details = await client.get_authorizer_info(APPID)
    assert json.loads(fake.requests[-1].content) == {
        "component_appid": COMPONENT_APPID,
        "authorizer_appid": APPID,
    }
    assert details.authorizer_info is not None and details.authorization_info is not None
    assert details.authorizer_info.nick_name == "示例小程序"
    assert details.authorizer_info.is_mini_program
    assert details.authorizer_info.service_type_info is not None
    assert details.authorizer_info.service_type_info.id == 0
    assert details.authorization_info.has_privacy_permission
    assert "s3cr3t" not in repr(details)
    assert await client.token_store.get_refresh_token(COMPONENT_APPID, APPID) is None
    with pytest.raises(InvalidArgumentError):
        await client.get_authorizer_info("")


# -- the whole flow against the emulator ---------------------------------------------------------


async def test_authorization_flow_on_the_emulator() -> None:
    emu = Emulator()
    async with emulated(emu, load=False) as client:
        url = await client.authorization_url("https://example.com/done")
        assert "preauthcode%40%40%40" in url
        code = emu.authorize(APPID)
        info = await client.query_auth(code)
        assert info.authorizer_appid == APPID and info.has_privacy_permission
        assert info.authorizer_refresh_token == emu.refresh_token(APPID)
        setting = await client.get_privacy_setting(APPID)
        assert setting.owner_setting is not None
        assert emu.calls[AT] == 0
        with pytest.raises(WeChatAPIError) as err:
            await client.query_auth(code)  # single use
        assert err.value.errcode == 61010
        details = await client.get_authorizer_info(APPID)
        assert details.authorizer_info is not None and details.authorizer_info.is_mini_program
        assert details.authorization_info is not None
        assert details.authorization_info.func_ids == set(emu.granted_permission_sets(APPID))
        # Re-authorizing without set 18: the privacy endpoints answer 61007.
        info = await client.query_auth(emu.authorize(APPID, permission_sets=[17, 19]))
        assert not info.has_privacy_permission
        with pytest.raises(PermissionDeniedError):
            await client.get_privacy_setting(APPID)
        emu.revoke_authorization(APPID)
        with pytest.raises(ReauthorizationRequiredError):
            await client.get_authorizer_info(APPID)


async def test_iter_authorizers_loads_refresh_tokens_on_the_emulator() -> None:
    emu = Emulator(authorizers=1201, seed=2)
    async with emulated(emu, load=False) as client:
        seen = [item.authorizer_appid async for item in client.iter_authorizers()]
        assert seen == emu.authorizer_appids
        assert await client.token_store.export_refresh_tokens(COMPONENT_APPID) == {}
        async for _ in client.iter_authorizers(store_refresh_tokens=True):
            pass
        stored = await client.token_store.export_refresh_tokens(COMPONENT_APPID)
        assert stored == {a: emu.refresh_token(a) for a in emu.authorizer_appids}
        assert emu.calls["/cgi-bin/component/api_get_authorizer_list"] == 6


# ----------------------------------------------------------------------------- answers, converted

LIST = "/cgi-bin/component/api_get_authorizer_list"


async def test_authorizer_list_goes_through_the_converter() -> None:
    fake = FakeWeChat()
    entries = [
        {"authorizer_appid": "wx1", "refresh_token": "refresh-1", "auth_time": "1700000000"},
        {"Authorizer_AppId": "wx2", "refresh_token": " \t", "auth_time": "yesterday"},
        {"authorizer_appid": "wx3", "auth_time": None, "new_key": [1]},
    ]
    fake.script[LIST] = [answer({"Total_Count": "3", "list": entries})]
    client = await fresh(fake)
    page = await client.list_authorizers()
    assert page == AuthorizerPage(
        3,
        (
            AuthorizerListItem("wx1", "refresh-1", dt.datetime.fromtimestamp(1700000000, dt.UTC)),
            AuthorizerListItem("wx2"),
            AuthorizerListItem("wx3", extras={"new_key": [1]}),
        ),
    )
    assert "refresh-1" not in repr(page)
    assert wxprivacy.AuthorizerListItem is wxprivacy.models.AuthorizerListItem
    assert wxprivacy.AuthorizerPage is wxprivacy.models.AuthorizerPage


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"list": []}, "total_count"),
        ({"total_count": -1, "list": []}, "total_count"),
        ({"total_count": True, "list": []}, "total_count"),
        ({"total_count": 1, "list": {}}, "list"),
        ({"total_count": 1, "list": ["wx1"]}, "list[0]"),
        ({"total_count": 2, "list": [{"authorizer_appid": "wx1"}, {}]}, "list[1].authorizer_appid"),
        ({"total_count": 1, "list": [{"authorizer_appid": ""}]}, "list[0].authorizer_appid"),
    ],
)
async def test_a_malformed_authorizer_list_names_the_field(data: dict[str, Any], path: str) -> None:
    fake = FakeWeChat()
    fake.script[LIST] = [answer(data)]
    client = await fresh(fake)
    with pytest.raises(ResponseFormatError) as info:
        await client.list_authorizers()
    assert info.value.field_path == path
    assert info.value.endpoint == LIST


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"authorization_info": "x"}, "authorization_info"),
        ({"authorization_info": {"func_info": 3}}, "authorization_info.func_info"),
        ({"authorization_info": {"authorizer_appid": ""}}, "authorization_info.authorizer_appid"),
    ],
)
async def test_query_auth_errors_name_the_full_path(data: dict[str, Any], path: str) -> None:
    fake = FakeWeChat()
    fake.script[QA] = [answer(data)]
    client = await fresh(fake)
    with pytest.raises(ResponseFormatError) as info:
        await client.query_auth(CODE)
    assert info.value.field_path == path


async def test_an_empty_pre_auth_code_is_a_format_error() -> None:
    fake = FakeWeChat()
    fake.script[PRE] = [answer({"pre_auth_code": "", "expires_in": 600})]
    client = await fresh(fake)
    with pytest.raises(ResponseFormatError) as info:
        await client.create_preauth_code()
    assert info.value.field_path == "pre_auth_code"


# -- regressions from the issue-4 trial (each with the exact input that failed) -------------------


async def test_float_auth_type_is_rejected() -> None:
    emu = Emulator(authorizers=1, seed=0)
    async with emulated(emu) as client:
        with pytest.raises(InvalidArgumentError, match="auth_type"):
            await client.authorization_url("https://example.com/cb", auth_type=3.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("digits", [19, 20, 4300, 4301, 5000])
async def test_an_unreadable_auth_time_number_loses_only_that_field(digits: int) -> None:
    """Regression (trial of issue 12): a 4,301-digit JSON number as ``auth_time`` failed the
    whole page (the good authorizer beside it was lost)."""
    fake = FakeWeChat()
    body = (
        b'{"errcode":0,"total_count":2,"list":[{"authorizer_appid":"wx1111111111111111",'
        b'"refresh_token":"r1","auth_time":%s},{"authorizer_appid":"wx2222222222222222",'
        b'"refresh_token":"r2","auth_time":1700000000}]}'
    ) % (b"9" * digits)
    fake.script[LIST] = [lambda _req: httpx.Response(200, content=body)]
    client = await fresh(fake)
    page = await client.list_authorizers()
    assert [item.authorizer_appid for item in page.list] == [
        "wx1111111111111111",
        "wx2222222222222222",
    ]
    assert page.list[0].auth_time is None  # far past any date a datetime holds
    assert page.list[1].auth_time == dt.datetime.fromtimestamp(1700000000, dt.UTC)
