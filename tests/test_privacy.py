"""getprivacysetting through the client: exact requests, typed models, batches."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from client_factory import APPID as SURFACE_APPID
from client_factory import make as surface_make
from fakes import APPSECRET, COMPONENT_APPID, TICKET, FakeWeChat, errcode, no_sleep, raw
from fixture_data import fixture_bytes
from transports import over_each_transport  # noqa: F401 - the fixture below

from wxprivacy import (
    ComponentClient,
    InvalidArgumentError,
    MissingRefreshTokenError,
    PermissionDeniedError,
    PrivacyConfigError,
    PrivacySetting,
    ResponseFormatError,
    TokenInvalidError,
    WxPrivacyError,
)
from wxprivacy.emulator import Emulator

pytestmark = pytest.mark.usefixtures("over_each_transport")

GP = "/cgi-bin/component/getprivacysetting"
AT = "/cgi-bin/component/api_authorizer_token"
APPID = "wxa000000000000000"


async def make(fake: FakeWeChat) -> ComponentClient:
    client = ComponentClient(COMPONENT_APPID, APPSECRET, **fake.wire(), sleep=no_sleep)
    await client.set_component_verify_ticket(TICKET)
    await client.set_authorizer_refresh_token(APPID, "refresh-0")
    return client


@pytest.mark.parametrize("ver", [1, 2])
async def test_request_is_exactly_right(ver: int) -> None:
    fake = FakeWeChat()
    client = await make(fake)
    await client.get_privacy_setting(APPID, privacy_ver=ver)
    request = fake.requests[-1]
    assert request.method == "POST"
    assert request.url.path == GP
    assert dict(request.url.params) == {"access_token": fake.authorizer_tokens[APPID][0]}
    assert request.content == f'{{"privacy_ver":{ver}}}'.encode()
    assert request.headers["content-type"].startswith("application/json")


async def test_default_privacy_ver_is_two() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    await client.get_privacy_setting(APPID)
    assert json.loads(fake.requests[-1].content) == {"privacy_ver": 2}


@pytest.mark.parametrize("bad", [0, 3, "2", True, None, 2.0])
async def test_bad_privacy_ver_is_rejected_before_any_request(bad: object) -> None:
    fake = FakeWeChat()
    client = await make(fake)
    with pytest.raises(InvalidArgumentError, match="privacy_ver"):
        await client.get_privacy_setting(APPID, privacy_ver=bad)  # type: ignore[arg-type]
    assert fake.calls == {}


async def test_full_response_becomes_typed_model() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    setting = await client.get_privacy_setting(APPID)
    assert isinstance(setting, PrivacySetting)
    assert setting.code_exist is True
    assert setting.update_time == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    assert setting.setting_list[0].privacy_key == "UserInfo"
    assert setting.setting_list[0].privacy_text == "展示会员头像与昵称"
    assert setting.owner_setting is not None
    assert setting.owner_setting.contact_weixin == "example_service_wx"
    assert setting.owner_setting.store_region == 0
    assert setting.privacy_desc is not None and len(setting.privacy_desc.privacy_desc_list) >= 22


async def test_mixed_case_response_equals_canonical() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    canonical = await client.get_privacy_setting(APPID)
    fake.privacy_body = fixture_bytes("getprivacysetting_mixed_case.json")
    assert await client.get_privacy_setting(APPID) == canonical


async def test_wrong_type_names_the_field_path_and_endpoint() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    body = json.loads(fixture_bytes("getprivacysetting_full.json"))
    body["setting_list"][2]["privacy_key"] = {"oops": 1}
    fake.privacy_body = json.dumps(body, ensure_ascii=False).encode()
    with pytest.raises(ResponseFormatError) as info:
        await client.get_privacy_setting(APPID)
    assert info.value.field_path == "setting_list[2].privacy_key"
    assert GP in str(info.value)


async def test_seed_doc_sample_with_broken_json_is_a_format_error() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    fake.privacy_body = b'{"errcode": 0, "owner_setting: {"contact_qq " : "1"}'
    with pytest.raises(ResponseFormatError, match="not valid JSON"):
        await client.get_privacy_setting(APPID)


async def test_rejected_token_is_refreshed_once_then_raises() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    fake.script[GP] = [errcode(40001, "invalid credential")]
    await client.get_privacy_setting(APPID)
    assert fake.calls[GP] == 2 and fake.calls[AT] == 2
    fake.script[GP] = [errcode(40014), errcode(42001)]
    with pytest.raises(TokenInvalidError):
        await client.get_privacy_setting(APPID)
    assert fake.calls[GP] == 4 and fake.calls[AT] == 3


async def test_86074_is_a_privacy_config_error() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    fake.script[GP] = [lambda _r: httpx.Response(200, content=fixture_bytes("error_86074.json"))]
    with pytest.raises(PrivacyConfigError) as info:
        await client.get_privacy_setting(APPID, privacy_ver=1)
    assert info.value.errcode == 86074
    assert info.value.errmsg == "现网隐私协议不存在"
    assert info.value.rid == "6553f290-7e8d9cab-a1b2c3d4"


async def test_batch_returns_every_result_in_input_order() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    appids = [f"wxb{i:015d}" for i in range(30)]
    for appid in appids[:-1]:  # the last one has no refresh token
        await client.set_authorizer_refresh_token(appid, "r-" + appid)
    fake.script[GP] = [errcode(61007, "api is unauthorized to component"), raw(200, b"<html>")]
    results = await client.get_privacy_settings(reversed(appids), concurrency=4)
    assert list(results) == list(reversed(appids))
    errors = {k: v for k, v in results.items() if isinstance(v, WxPrivacyError)}
    assert len(errors) == 3
    assert isinstance(results[appids[-1]], MissingRefreshTokenError)
    assert sum(isinstance(e, PermissionDeniedError) for e in errors.values()) == 1
    assert sum(isinstance(e, ResponseFormatError) for e in errors.values()) == 1
    assert sum(isinstance(v, PrivacySetting) for v in results.values()) == 27


async def test_batch_runs_at_most_concurrency_requests() -> None:
    in_flight = 0
    peak = 0
    fake = FakeWeChat()
    original = fake.handle

    async def counting(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        if request.url.path != GP:
            return await original(request)
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return await original(request)

    client = ComponentClient(
        COMPONENT_APPID,
        APPSECRET,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(counting)),
    )
    await client.set_component_verify_ticket(TICKET)
    appids = [f"wxc{i:015d}" for i in range(40)]
    for appid in appids:
        await client.set_authorizer_refresh_token(appid, "r")
    results = await client.get_privacy_settings(appids, concurrency=5)
    assert peak == 5
    assert all(isinstance(v, PrivacySetting) for v in results.values())
    assert fake.calls["/cgi-bin/component/api_component_token"] == 1  # one shared token cache


async def test_iterator_pulls_appids_lazily_and_stops_cleanly() -> None:
    emu = Emulator(authorizers=50, seed=3)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(emu.component_appid, emu.component_appsecret, http_client=http)
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        async for item in client.iter_authorizers(store_refresh_tokens=True):
            assert item.refresh_token
        pulled: list[str] = []

        def source():  # type: ignore[no-untyped-def]
            for appid in emu.authorizer_appids:
                pulled.append(appid)
                yield appid

        seen = 0
        stream = client.iter_privacy_settings(source(), concurrency=4)
        async for _appid, _result in stream:
            seen += 1
            assert len(pulled) <= seen + 4  # never more than `concurrency` ahead
            if seen == 10:
                break
        await stream.aclose()
        assert seen == 10


async def test_batch_against_emulator_matches_ground_truth() -> None:
    emu = Emulator(authorizers=200, seed=7)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(emu.component_appid, emu.component_appsecret, http_client=http)
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        appids = [
            item.authorizer_appid
            async for item in client.iter_authorizers(store_refresh_tokens=True)
        ]
        results = await client.get_privacy_settings(appids, concurrency=16)
    assert len(results) == 200
    for appid, result in results.items():
        if isinstance(result, PrivacySetting):
            assert sorted(result.undeclared_keys) == sorted(emu.expected_undeclared(appid))
        else:
            assert isinstance(result, PermissionDeniedError) and result.errcode == 61007
    assert emu.calls[AT] == 200
    assert emu.calls["/cgi-bin/component/api_component_token"] == 1


# -- regressions from a new-user trial (each with the exact failing input) ------------------------


async def test_a_single_string_is_not_a_list_of_appids() -> None:
    fake = FakeWeChat()
    client = await surface_make(fake)
    with pytest.raises(InvalidArgumentError, match="not a single string"):
        await client.get_privacy_settings("wxabc")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        client.iter_privacy_settings("wxabc")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="privacy_ver"):
        client.iter_privacy_settings([SURFACE_APPID], privacy_ver=3)  # raised at once, not at anext
    assert fake.calls == {}


async def test_get_privacy_settings_refuses_an_async_iterable() -> None:
    async def appids() -> AsyncIterator[str]:
        yield SURFACE_APPID

    client = ComponentClient(COMPONENT_APPID, "secret")
    with pytest.raises(InvalidArgumentError, match="iter_privacy_settings"):
        await client.get_privacy_settings(appids())  # type: ignore[arg-type]
    await client.aclose()
