"""The emulator's authorization endpoints by hand (``_authorization.py``): pre-auth codes,
``api_query_auth`` with expired and fresh codes, re-authorization superseding a refresh token."""

from __future__ import annotations

from typing import Any

from wxprivacy.emulator import Emulator

from ._support import WeChat


async def test_preauth_and_query_auth_by_hand(wx: WeChat, emu: Emulator, clock: Any) -> None:
    ctoken = await wx.component_token()
    comp = {"component_appid": emu.component_appid}
    pre = await wx.post(
        "/cgi-bin/component/api_create_preauthcode", comp, component_access_token=ctoken
    )
    assert pre["pre_auth_code"].startswith("preauthcode@@@") and pre["expires_in"] == 1800
    code = emu.authorize("wx1234567890abcdef")
    clock.advance(3601)
    qa = "/cgi-bin/component/api_query_auth"
    late = await wx.post(qa, {**comp, "authorization_code": code}, component_access_token=ctoken)
    assert late["errcode"] == 61010
    code = emu.authorize("wx1234567890abcdef")
    ctoken = await wx.component_token()
    ok = await wx.post(qa, {**comp, "authorization_code": code}, component_access_token=ctoken)
    info = ok["authorization_info"]
    assert info["authorizer_appid"] == "wx1234567890abcdef"
    assert {f["funcscope_category"]["id"] for f in info["func_info"]} >= {18}
    old = info["authorizer_refresh_token"]
    emu.authorize("wx1234567890abcdef")  # re-authorization supersedes the refresh token
    refused = await wx.authorizer_token_response("wx1234567890abcdef", ctoken, refresh=old)
    assert refused["errcode"] == 61023
