"""setprivacysetting: local validation, the exact body, errcodes, retries and the emulator."""

from __future__ import annotations

import json
from typing import Any

import attrs
import httpx
import pytest
from client_factory import APPID, OWNER, emulated, make
from fakes import FakeWeChat, errcode, raises

from wxprivacy import (
    InvalidArgumentError,
    OwnerSetting,
    PrivacyConfigError,
    SdkPrivacyInfo,
    SettingItem,
)
from wxprivacy.emulator import Emulator

SP = "/cgi-bin/component/setprivacysetting"
ITEMS = (
    SettingItem(
        privacy_key="UserInfo", privacy_text="展示会员头像与昵称", privacy_label="用户信息"
    ),
    SettingItem(privacy_key="Location", privacy_text="查找附近门店"),
)


def ok(_req: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b'{"errcode":0,"errmsg":"ok"}')


async def test_body_is_raw_utf8_without_labels_or_nulls() -> None:
    fake = FakeWeChat()
    fake.script[SP] = [ok]
    client = await make(fake)
    sdk = SdkPrivacyInfo(
        sdk_name="地图SDK",
        sdk_biz_name="某某科技有限公司",
        sdk_list=[SettingItem(privacy_key="Location", privacy_text="显示地图", privacy_label="x")],
    )
    await client.set_privacy_setting(
        APPID, owner_setting=OWNER, setting_list=ITEMS, sdk_privacy_info_list=[sdk]
    )
    request = fake.requests[-1]
    assert request.method == "POST" and request.url.path == SP
    assert dict(request.url.params) == {"access_token": fake.authorizer_tokens[APPID][0]}
    assert "30天".encode() in request.content and b"\\u" not in request.content
    assert b"privacy_label" not in request.content and b"null" not in request.content
    assert json.loads(request.content) == {
        "privacy_ver": 2,
        "owner_setting": {
            "contact_phone": "",
            "contact_email": "privacy@example.com",
            "contact_qq": "",
            "contact_weixin": "",
            "notice_method": "弹窗提示",
            "store_expire_timestamp": "30天",
        },
        "setting_list": [
            {"privacy_key": "UserInfo", "privacy_text": "展示会员头像与昵称"},
            {"privacy_key": "Location", "privacy_text": "查找附近门店"},
        ],
        "sdk_privacy_info_list": [
            {
                "sdk_name": "地图SDK",
                "sdk_biz_name": "某某科技有限公司",
                "sdk_list": [{"privacy_key": "Location", "privacy_text": "显示地图"}],
            }
        ],
    }


async def test_extras_are_not_sent_and_region_and_media_id_only_when_set() -> None:
    fake = FakeWeChat()
    fake.script[SP] = [ok, ok]
    client = await make(fake)
    owner = attrs.evolve(OWNER, store_region=0, extras={"future_field": 1})
    await client.set_privacy_setting(APPID, owner_setting=owner)
    sent = json.loads(fake.requests[-1].content)
    assert sent["setting_list"] == []
    assert "store_region" not in sent["owner_setting"]
    assert "ext_file_media_id" not in sent["owner_setting"]
    assert "future_field" not in sent["owner_setting"]
    assert "sdk_privacy_info_list" not in sent
    owner = attrs.evolve(OWNER, store_region=1017, ext_file_media_id="2112311471891169280")
    await client.set_privacy_setting(APPID, owner_setting=owner)
    sent = json.loads(fake.requests[-1].content)["owner_setting"]
    assert sent["store_region"] == 1017
    assert sent["ext_file_media_id"] == "2112311471891169280"


async def test_live_version_sends_owner_setting_only() -> None:
    fake = FakeWeChat()
    fake.script[SP] = [ok]
    client = await make(fake)
    await client.set_privacy_setting(APPID, owner_setting=OWNER, privacy_ver=1)
    sent = json.loads(fake.requests[-1].content)
    assert set(sent) == {"privacy_ver", "owner_setting"} and sent["privacy_ver"] == 1


def item(key: Any = "UserInfo", text: Any = "展示头像") -> SettingItem:
    return SettingItem(privacy_key=key, privacy_text=text)


BAD: list[tuple[str, dict[str, Any]]] = [
    ("owner_setting", {"owner_setting": OwnerSetting(notice_method="弹窗")}),
    ("owner_setting", {"owner_setting": OwnerSetting(contact_qq="  ", notice_method="弹窗")}),
    ("owner_setting", {"owner_setting": {"contact_qq": "1"}}),
    ("owner_setting.notice_method", {"owner_setting": attrs.evolve(OWNER, notice_method="")}),
    ("owner_setting.notice_method", {"owner_setting": attrs.evolve(OWNER, notice_method=" ")}),
    (
        "owner_setting.store_expire_timestamp",
        {"owner_setting": attrs.evolve(OWNER, store_expire_timestamp="30")},
    ),
    (
        "owner_setting.store_expire_timestamp",
        {"owner_setting": attrs.evolve(OWNER, store_expire_timestamp="1700000000")},
    ),
    (
        "owner_setting.store_expire_timestamp",
        {"owner_setting": attrs.evolve(OWNER, store_expire_timestamp="30\\u5929")},
    ),
    (
        "owner_setting.store_expire_timestamp",
        {"owner_setting": attrs.evolve(OWNER, store_expire_timestamp="三十天")},
    ),
    ("owner_setting.contact_qq", {"owner_setting": attrs.evolve(OWNER, contact_qq=123)}),
    ("owner_setting.store_region", {"owner_setting": attrs.evolve(OWNER, store_region=-1)}),
    ("setting_list", {"setting_list": [item()], "privacy_ver": 1}),
    (
        "sdk_privacy_info_list",
        {
            "sdk_privacy_info_list": [SdkPrivacyInfo(sdk_name="a", sdk_biz_name="b")],
            "privacy_ver": 1,
        },
    ),
    (
        "owner_setting.ext_file_media_id",
        {"owner_setting": attrs.evolve(OWNER, ext_file_media_id="1"), "privacy_ver": 1},
    ),
    ("setting_list[1].privacy_key", {"setting_list": [item(), item("")]}),
    ("setting_list[0].privacy_key", {"setting_list": [item("  ")]}),
    ("setting_list[0].privacy_key", {"setting_list": [item(" Location")]}),
    ("setting_list[1].privacy_key", {"setting_list": [item(), item()]}),
    ("setting_list[0].privacy_text", {"setting_list": [item(text="")]}),
    ("setting_list[0]", {"setting_list": [{"privacy_key": "UserInfo"}]}),
    ("setting_list", {"setting_list": "UserInfo"}),
    ("sdk_privacy_info_list[0].sdk_name", {"sdk_privacy_info_list": [SdkPrivacyInfo()]}),
    (
        "sdk_privacy_info_list[0].sdk_biz_name",
        {"sdk_privacy_info_list": [SdkPrivacyInfo(sdk_name="a")]},
    ),
    (
        "sdk_privacy_info_list[0].sdk_list[0].privacy_key",
        {
            "sdk_privacy_info_list": [
                SdkPrivacyInfo(sdk_name="a", sdk_biz_name="b", sdk_list=[item("")])
            ]
        },
    ),
    ("privacy_ver", {"privacy_ver": 3}),
]


@pytest.mark.parametrize(("path", "kwargs"), BAD)
async def test_bad_input_is_rejected_before_any_request(path: str, kwargs: dict[str, Any]) -> None:
    fake = FakeWeChat()
    client = await make(fake)
    args: dict[str, Any] = {"owner_setting": OWNER, **kwargs}
    with pytest.raises(InvalidArgumentError) as info:
        await client.set_privacy_setting(APPID, **args)
    assert str(info.value).startswith(path)
    assert fake.calls == {}


async def test_empty_appid_is_rejected() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    with pytest.raises(InvalidArgumentError, match="authorizer_appid"):
        await client.set_privacy_setting("", owner_setting=OWNER)
    assert fake.calls == {}


@pytest.mark.parametrize("code", [86069, 86070, 86071, 86072, 86073, 86074, 86075, 87072])
async def test_errcodes_map_to_privacy_config_error(code: int) -> None:
    fake = FakeWeChat()
    fake.script[SP] = [errcode(code)]
    client = await make(fake)
    with pytest.raises(PrivacyConfigError) as info:
        await client.set_privacy_setting(APPID, owner_setting=OWNER)
    assert info.value.errcode == code
    assert fake.calls[SP] == 1


async def test_set_is_retried_after_a_timeout() -> None:
    fake = FakeWeChat()
    fake.script[SP] = [raises(httpx.ReadTimeout("slow")), ok]
    client = await make(fake)
    await client.set_privacy_setting(APPID, owner_setting=OWNER, setting_list=ITEMS)
    assert fake.calls[SP] == 2


# -- against the emulator: read, edit, write, read -----------------------------------------------


async def test_read_edit_write_round_trip_on_the_emulator() -> None:
    emu = Emulator(authorizers=20, seed=3)
    appid = next(a for a in emu.authorizer_appids if emu.profile(a) == "undeclared")
    async with emulated(emu) as client:
        before = await client.get_privacy_setting(appid)
        assert before.undeclared_keys and before.owner_setting is not None
        added = [
            SettingItem(privacy_key=key, privacy_text="完善服务") for key in before.undeclared_keys
        ]
        await client.set_privacy_setting(
            appid,
            owner_setting=attrs.evolve(before.owner_setting, contact_email="dpo@example.com"),
            setting_list=[*before.setting_list, *added],
            sdk_privacy_info_list=before.sdk_privacy_info_list,
        )
        after = await client.get_privacy_setting(appid)
        assert after.undeclared_keys == ()
        assert after.owner_setting is not None
        assert after.owner_setting.contact_email == "dpo@example.com"
        assert after.setting_list[-1].privacy_text == "完善服务"
        assert after.sdk_privacy_info_list == before.sdk_privacy_info_list
        assert after.update_time is not None


async def test_live_version_missing_is_86074_on_the_emulator() -> None:
    emu = Emulator()
    emu.add_authorizer(APPID)
    async with emulated(emu) as client:
        with pytest.raises(PrivacyConfigError) as info:
            await client.set_privacy_setting(APPID, owner_setting=OWNER, privacy_ver=1)
        assert info.value.errcode == 86074
        emu.set_privacy_setting(APPID, {}, privacy_ver=1)
        await client.set_privacy_setting(APPID, owner_setting=OWNER, privacy_ver=1)
        live = await client.get_privacy_setting(APPID, 1)
        dev = await client.get_privacy_setting(APPID, 2)
        assert live.owner_setting is not None and live.owner_setting.notice_method == "弹窗提示"
        assert dev.owner_setting is not None and dev.owner_setting.notice_method == ""


# -- regressions from the issue-4 trial (each with the exact input that failed) -------------------


async def test_lone_surrogate_in_a_request_is_a_typed_error_naming_the_field() -> None:
    emu = Emulator(authorizers=3, seed=0)
    appid = emu.authorizer_appids[0]
    async with emulated(emu) as client:
        emu.reset_calls()
        with pytest.raises(InvalidArgumentError, match=r"setting_list\[0\]\.privacy_text"):
            await client.set_privacy_setting(
                appid,
                owner_setting=OWNER,
                setting_list=[SettingItem(privacy_key="UserInfo", privacy_text="a\ud800")],
            )
    assert emu.calls["/cgi-bin/component/setprivacysetting"] == 0
