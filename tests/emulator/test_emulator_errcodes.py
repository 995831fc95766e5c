"""Every errcode the emulator promises, each produced by the situation that causes it on WeChat."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from wxprivacy.emulator import Emulator

from ._support import FakeClock, WeChat

AUTHORIZER_TOKEN = "/cgi-bin/component/api_authorizer_token"


# -- api_component_token -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "errcode"),
    [
        ({"component_appsecret": "wrong"}, 40001),
        ({"component_appsecret": None}, 41004),
        ({"component_appid": "wx9999999999999999"}, 61011),
        ({"component_appid": None}, 41018),
        ({"component_verify_ticket": "ticket@@@made-up"}, 61006),
        ({"component_verify_ticket": None}, 61006),
    ],
)
async def test_component_token_errors(
    wx: WeChat, overrides: dict[str, object], errcode: int
) -> None:
    data = await wx.component_token_response(**overrides)
    assert data["errcode"] == errcode
    assert "component_access_token" not in data


async def test_component_token_bad_json_is_47001(wx: WeChat) -> None:
    data = await wx.post("/cgi-bin/component/api_component_token", raw=b"{not json")
    assert data["errcode"] == 47001 and data["errmsg"].startswith("data format error")


async def test_ticket_older_than_12_hours_is_61005(
    wx: WeChat, emu: Emulator, clock: FakeClock
) -> None:
    old = emu.component_verify_ticket
    clock.advance(11 * 3600)
    new = emu.issue_ticket()
    assert new != old and emu.component_verify_ticket == new
    assert "component_access_token" in await wx.component_token_response(
        component_verify_ticket=old
    )
    clock.advance(3600 + 1)
    assert (await wx.component_token_response(component_verify_ticket=old))["errcode"] == 61005
    assert "component_access_token" in await wx.component_token_response()


# -- api_authorizer_token ------------------------------------------------------------------------


async def test_authorizer_token_accepts_both_query_spellings(wx: WeChat, emu: Emulator) -> None:
    ctoken = await wx.component_token()
    appid = emu.authorizer_appids[0]
    data = await wx.authorizer_token_response(appid, ctoken, param="access_token")
    assert data["authorizer_access_token"]


async def test_authorizer_token_with_bad_component_token_is_40001(
    wx: WeChat, emu: Emulator
) -> None:
    data = await wx.authorizer_token_response(emu.authorizer_appids[0], "80_bogus")
    assert data["errcode"] == 40001


async def test_authorizer_token_without_component_token_is_41001(wx: WeChat, emu: Emulator) -> None:
    appid = emu.authorizer_appids[0]
    body = {"component_appid": emu.component_appid, "authorizer_appid": appid}
    assert (await wx.post(AUTHORIZER_TOKEN, body))["errcode"] == 41001


async def test_authorizer_token_with_expired_component_token_is_42001(
    wx: WeChat, emu: Emulator, clock: FakeClock
) -> None:
    ctoken = await wx.component_token()
    clock.advance(7200)
    data = await wx.authorizer_token_response(emu.authorizer_appids[0], ctoken)
    assert data["errcode"] == 42001 and data["errmsg"].startswith("access_token expired")


async def test_authorizer_token_with_an_authorizer_token_is_61014(
    wx: WeChat, emu: Emulator
) -> None:
    appid = emu.authorizer_appids[0]
    atoken = await wx.authorizer_token(appid)
    assert (await wx.authorizer_token_response(appid, atoken))["errcode"] == 61014


@pytest.mark.parametrize("refresh", ["", "refreshtoken@@@wrong"])
async def test_wrong_or_empty_refresh_token_is_61023(
    wx: WeChat, emu: Emulator, refresh: str
) -> None:
    ctoken = await wx.component_token()
    data = await wx.authorizer_token_response(emu.authorizer_appids[0], ctoken, refresh=refresh)
    assert data["errcode"] == 61023 and data["errmsg"].startswith("refresh_token is invalid")


async def test_missing_component_appid_on_authorizer_token_is_41018(
    wx: WeChat, emu: Emulator
) -> None:
    ctoken = await wx.component_token()
    appid = emu.authorizer_appids[0]
    body = {"authorizer_appid": appid, "authorizer_refresh_token": emu.refresh_token(appid)}
    data = await wx.post(AUTHORIZER_TOKEN, body, component_access_token=ctoken)
    assert data["errcode"] == 41018


async def test_revoked_authorizer_is_61003_and_its_token_dies(wx: WeChat, emu: Emulator) -> None:
    appid = emu.authorizer_appids[0]
    ctoken = await wx.component_token()
    atoken = await wx.authorizer_token(appid, ctoken)
    refresh = emu.refresh_token(appid)
    emu.revoke_authorization(appid)
    data = await wx.authorizer_token_response(appid, ctoken, refresh=refresh)
    assert data["errcode"] == 61003
    assert (await wx.privacy(atoken))["errcode"] == 40001


async def test_unknown_authorizer_is_61003(wx: WeChat, emu: Emulator) -> None:
    ctoken = await wx.component_token()
    emu.add_authorizer("wx2222222222222222")
    refresh = emu.refresh_token("wx2222222222222222")
    body = {
        "component_appid": emu.component_appid,
        "authorizer_appid": "wx3333333333333333",
        "authorizer_refresh_token": refresh,
    }
    assert (await wx.post(AUTHORIZER_TOKEN, body, component_access_token=ctoken))[
        "errcode"
    ] == 61003


# -- getprivacysetting ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"{oops", b"[1, 2]", b'{"privacy_ver": "2"}'])
async def test_privacy_bad_body_is_47001(
    wx: WeChat, emu: Emulator, raw: bytes, pick: Callable[[str], str]
) -> None:
    token = await wx.authorizer_token(pick("configured"))
    assert (await wx.privacy(token, raw=raw))["errcode"] == 47001


@pytest.mark.parametrize("ver", [0, 3, -1])
async def test_privacy_bad_version_is_86071(
    wx: WeChat, pick: Callable[[str], str], ver: int
) -> None:
    data = await wx.privacy(await wx.authorizer_token(pick("configured")), privacy_ver=ver)
    assert data["errcode"] == 86071 and data["errmsg"].startswith("privacy_ver参数无效")


async def test_privacy_ver_defaults_to_2(wx: WeChat, pick: Callable[[str], str]) -> None:
    token = await wx.authorizer_token(pick("configured"))
    assert await wx.privacy(token, privacy_ver=None) == await wx.privacy(token, privacy_ver=2)


async def test_privacy_ver_1_without_live_version_is_86074(wx: WeChat, emu: Emulator) -> None:
    appid = next(
        a
        for a in emu.authorizer_appids
        if emu.authorizer(a).live is None and emu.profile(a) != "no_permission"
    )
    data = await wx.privacy(await wx.authorizer_token(appid), privacy_ver=1)
    assert data["errcode"] == 86074 and data["errmsg"].startswith("现网隐私协议不存在")


async def test_privacy_ver_1_with_live_version_answers_it(wx: WeChat, emu: Emulator) -> None:
    appid = next(
        a
        for a in emu.authorizer_appids
        if emu.authorizer(a).live is not None and emu.profile(a) != "no_permission"
    )
    token = await wx.authorizer_token(appid)
    live = await wx.privacy(token, privacy_ver=1)
    dev = await wx.privacy(token, privacy_ver=2)
    assert live["errcode"] == 0 and live["update_time"] < dev["update_time"]


async def test_privacy_with_component_token_is_48001(wx: WeChat) -> None:
    data = await wx.privacy(await wx.component_token())
    assert data["errcode"] == 48001 and data["errmsg"].startswith("api unauthorized")


async def test_privacy_without_token_is_41001(wx: WeChat) -> None:
    data = await wx.post("/cgi-bin/component/getprivacysetting", {"privacy_ver": 2})
    assert data["errcode"] == 41001


async def test_privacy_with_unknown_token_is_40001(wx: WeChat) -> None:
    assert (await wx.privacy("80_never-issued"))["errcode"] == 40001


async def test_privacy_with_expired_token_is_42001(
    wx: WeChat, clock: FakeClock, pick: Callable[[str], str]
) -> None:
    token = await wx.authorizer_token(pick("configured"))
    clock.advance(7199)
    assert (await wx.privacy(token))["errcode"] == 0
    clock.advance(1)
    assert (await wx.privacy(token))["errcode"] == 42001


async def test_privacy_without_permission_set_18_is_61007(
    wx: WeChat, pick: Callable[[str], str]
) -> None:
    data = await wx.privacy(await wx.authorizer_token(pick("no_permission")))
    assert data["errcode"] == 61007 and data["errmsg"].startswith(
        "api is unauthorized to component"
    )


async def test_add_authorizer_without_permission_is_61007(wx: WeChat, emu: Emulator) -> None:
    emu.add_authorizer("wx4444444444444444", permission_18=False)
    assert (await wx.privacy(await wx.authorizer_token("wx4444444444444444")))["errcode"] == 61007
