"""The token chain and getprivacysetting, driven by hand over the in-process transport."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from wxprivacy.emulator import Emulator

from ._support import BASE_URL, START, FakeClock, WeChat

FIXTURE = Path(__file__).parent.parent / "fixtures" / "getprivacysetting_full.json"
RID = re.compile(r" rid: ([0-9a-f]{8})-[0-9a-f]{8}-[0-9a-f]{8}$")


async def test_full_chain_by_hand(wx: WeChat, emu: Emulator, pick: Callable[[str], str]) -> None:
    token = await wx.component_token_response()
    assert token["expires_in"] == 7200 and token["component_access_token"]
    appid = pick("configured")
    auth = await wx.authorizer_token_response(appid, token["component_access_token"])
    assert auth["expires_in"] == 7200
    assert auth["authorizer_refresh_token"] == emu.refresh_token(appid)
    data = await wx.privacy(auth["authorizer_access_token"])
    assert data["errcode"] == 0 and data["errmsg"] == "ok"
    assert data["privacy_list"] and data["code_exist"] == 1
    assert emu.calls == {
        "/cgi-bin/component/api_component_token": 1,
        "/cgi-bin/component/api_authorizer_token": 1,
        "/cgi-bin/component/getprivacysetting": 1,
    }


async def test_privacy_body_has_the_real_shape_and_raw_utf8(wx: WeChat, emu: Emulator) -> None:
    full = json.loads(FIXTURE.read_text(encoding="utf-8"))
    emu.add_authorizer("wx1111111111111111", setting=full)
    token = await wx.authorizer_token("wx1111111111111111")
    response = await wx.http.post(
        "/cgi-bin/component/getprivacysetting",
        params={"access_token": token},
        content=b'{"privacy_ver":2}',
    )
    assert response.headers["content-type"].startswith("application/json")
    assert "展示会员头像与昵称".encode() in response.content  # raw UTF-8, not \\u escapes
    assert b"\\u" not in response.content
    assert response.json() == full


async def test_seeded_body_keys_match_the_fixture(wx: WeChat, emu: Emulator) -> None:
    full = json.loads(FIXTURE.read_text(encoding="utf-8"))
    with_sdk = next(
        a
        for a in emu.authorizer_appids
        if emu.authorizer(a).dev.setting.get("sdk_privacy_info_list")
        and emu.profile(a) != "no_permission"
    )
    data = await wx.privacy(await wx.authorizer_token(with_sdk))
    assert data.keys() == full.keys()
    assert data["owner_setting"].keys() == full["owner_setting"].keys()
    assert isinstance(data["owner_setting"]["store_region"], int)
    assert [d["privacy_key"] for d in data["privacy_desc"]["privacy_desc_list"]] == [
        d["privacy_key"] for d in full["privacy_desc"]["privacy_desc_list"]
    ]
    item = data["setting_list"][0]
    assert item.keys() == {"privacy_key", "privacy_text", "privacy_label"}
    assert data["sdk_privacy_info_list"][0].keys() == {"sdk_name", "sdk_biz_name", "sdk_list"}


async def test_error_bodies_carry_a_rid_whose_first_group_is_the_time(
    wx: WeChat, clock: FakeClock
) -> None:
    data = await wx.privacy("not-a-token")
    assert data["errcode"] == 40001
    match = RID.search(data["errmsg"])
    assert match is not None and int(match.group(1), 16) == int(START)
    assert data["errmsg"].startswith("invalid credential, access_token is invalid or not latest")


async def test_unknown_path_is_404_and_counted(wx: WeChat, emu: Emulator) -> None:
    response = await wx.http.post("/cgi-bin/component/nope", content=b"{}")
    assert response.status_code == 404
    assert emu.calls["/cgi-bin/component/nope"] == 1


async def test_latency_is_added_to_every_response() -> None:
    emu = Emulator(latency=0.05)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL) as http:
        import time

        started = time.perf_counter()
        await http.post("/cgi-bin/component/api_component_token", content=b"{}")
        assert time.perf_counter() - started >= 0.05


async def test_control_endpoints(wx: WeChat, emu: Emulator) -> None:
    await wx.component_token()
    calls: Any = (await wx.http.get("/_emulator/calls")).json()
    assert calls["calls"] == {"/cgi-bin/component/api_component_token": 1}
    state = (await wx.http.get("/_emulator/state")).json()
    assert state["component_verify_ticket"] == emu.component_verify_ticket
    assert [a["authorizer_appid"] for a in state["authorizers"]] == emu.authorizer_appids
    assert state["authorizers"][0]["refresh_token"] == emu.refresh_token(emu.authorizer_appids[0])
    assert (await wx.http.post("/_emulator/reset_calls")).json() == {"ok": True}
    assert emu.calls == {}
    assert (await wx.http.get("/_emulator/nope")).status_code == 404
