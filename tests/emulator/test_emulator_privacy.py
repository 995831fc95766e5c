"""The emulator's privacy-guideline endpoints by hand (``_privacy.py``): setprivacysetting's
errcodes and live-version rules, uploadprivacyextfile's errcodes, permission and token kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from wxprivacy.emulator import Emulator

from ._support import WeChat

SP = "/cgi-bin/component/setprivacysetting"
UP = "/cgi-bin/component/uploadprivacyextfile"
OWNER = {"contact_qq": "10001", "notice_method": "弹窗"}


def body(owner: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"privacy_ver": 2, "owner_setting": owner or OWNER, "setting_list": []}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (body(owner={"notice_method": "弹窗", "contact_qq": ""}), 86069),
        ({"privacy_ver": 2, "setting_list": []}, 86069),
        (body(owner={"contact_qq": "1"}), 86070),
        (body(owner={**OWNER, "store_expire_timestamp": "30"}), 86072),
        (body(owner={**OWNER, "ext_file_media_id": "999"}), 86073),
        (body(privacy_ver=3), 86071),
        (body(privacy_ver="2"), 47001),
        (body(owner="{}"), 47001),
        (body(setting_list=None), 47001),
        (body(setting_list=[{"privacy_text": "x"}]), 47001),
        (body(owner={**OWNER, "contact_qq": 10001}), 47001),
    ],
)
async def test_setprivacysetting_errcodes(
    wx: WeChat, pick: Callable[[str], str], data: dict[str, Any], code: int
) -> None:
    token = await wx.authorizer_token(pick("configured"))
    assert (await wx.post(SP, data, access_token=token))["errcode"] == code


async def test_escaped_chinese_is_kept_literally_like_wechat(
    wx: WeChat, pick: Callable[[str], str]
) -> None:
    appid = pick("configured")
    token = await wx.authorizer_token(appid)
    escaped = b'{"owner_setting":{"contact_qq":"1","notice_method":"x",'
    escaped += b'"store_expire_timestamp":"30\\u5929"},"setting_list":[]}'
    assert (await wx.post(SP, raw=escaped, access_token=token))["errcode"] == 86072
    raw = '{"owner_setting":{"contact_qq":"1","notice_method":"x","store_expire_timestamp":"30天"},'
    raw += '"setting_list":[{"privacy_key":"Album","privacy_text":"\\u4e0a\\u4f20"}]}'
    assert (await wx.post(SP, raw=raw.encode(), access_token=token))["errcode"] == 0
    got = await wx.privacy(token)
    assert got["setting_list"] == [
        {
            "privacy_key": "Album",
            "privacy_text": "\\u4e0a\\u4f20",
            "privacy_label": "选中的照片或视频信息",
        }
    ]
    assert got["owner_setting"]["store_expire_timestamp"] == "30天"


async def test_live_version_rules(wx: WeChat, emu: Emulator, pick: Callable[[str], str]) -> None:
    appid = pick("configured")
    token = await wx.authorizer_token(appid)
    emu.set_privacy_setting(appid, {"owner_setting": {"ext_file_media_id": "111"}}, privacy_ver=1)
    live = body(privacy_ver=1, setting_list=None)
    assert (await wx.post(SP, {**live, "setting_list": []}, access_token=token))["errcode"] == 47001
    changed = {**live, "owner_setting": {**OWNER, "ext_file_media_id": "222"}}
    assert (await wx.post(SP, changed, access_token=token))["errcode"] == 86075
    assert (await wx.post(SP, live, access_token=token))["errcode"] == 0
    got = await wx.privacy(token, 1)
    assert got["owner_setting"]["contact_qq"] == "10001"
    assert got["owner_setting"]["ext_file_media_id"] == "111"


async def test_no_permission_and_component_token(wx: WeChat, pick: Callable[[str], str]) -> None:
    token = await wx.authorizer_token(pick("no_permission"))
    assert (await wx.post(SP, body(), access_token=token))["errcode"] == 61007
    ctoken = await wx.component_token()
    assert (await wx.post(SP, body(), access_token=ctoken))["errcode"] == 48001


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"file": ("a.txt", b"x" * 102_401, "text/plain")}, 40126),
        ({"file": ("a.txt", b"", "text/plain")}, 40126),
        ({"file": ("a.pdf", b"x", "application/pdf")}, 40006),
        ({"other": ("a.txt", b"x", "text/plain")}, 41005),
        (None, 41005),
    ],
)
async def test_upload_errcodes(
    wx: WeChat, pick: Callable[[str], str], files: dict[str, Any] | None, code: int
) -> None:
    token = await wx.authorizer_token(pick("configured"))
    if files is None:  # silenceper's bug: the file as JSON
        response = await wx.http.post(UP, params={"access_token": token}, json={"file": "abc"})
    else:
        response = await wx.http.post(UP, params={"access_token": token}, files=files)
    assert orjson.loads(response.content)["errcode"] == code
