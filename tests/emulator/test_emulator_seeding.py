"""Seeded authorizers: deterministic, varied, with ground truth to check an audit against."""

from __future__ import annotations

import re
from collections import Counter

import httpx
import pytest

from wxprivacy.emulator import Emulator

from ._support import BASE_URL, WeChat

CONTACTS = ("contact_phone", "contact_email", "contact_qq", "contact_weixin")


def test_same_seed_same_authorizers_and_settings() -> None:
    a, b = Emulator(authorizers=50, seed=3), Emulator(authorizers=50, seed=3)
    assert a.authorizer_appids == b.authorizer_appids
    for appid in a.authorizer_appids:
        assert a.authorizer(appid).dev.body() == b.authorizer(appid).dev.body()
        assert a.profile(appid) == b.profile(appid)
    assert a.component_verify_ticket == b.component_verify_ticket
    c = Emulator(authorizers=50, seed=4)
    assert c.authorizer_appids != a.authorizer_appids


def test_appids_look_real_and_are_unique() -> None:
    emu = Emulator(authorizers=300, seed=0)
    appids = emu.authorizer_appids
    assert len(set(appids)) == 300
    assert all(re.fullmatch(r"wx[0-9a-f]{16}", a) for a in appids)


def test_profile_mix_matches_the_documented_shares() -> None:
    emu = Emulator(authorizers=1000, seed=0)
    mix = Counter(emu.profile(a) for a in emu.authorizer_appids)
    assert mix == {
        "undeclared": 150,
        "no_code": 80,
        "no_permission": 50,
        "no_contact": 50,
        "configured": 670,
    }
    with_sdk = sum(
        1
        for a in emu.authorizer_appids
        if emu.authorizer(a).dev.setting.get("sdk_privacy_info_list")
    )
    with_live = sum(1 for a in emu.authorizer_appids if emu.authorizer(a).live is not None)
    assert 100 < with_sdk < 350
    assert 400 < with_live < 700


@pytest.mark.parametrize("n", [10, 20])
def test_small_seedings_still_have_every_variety(n: int) -> None:
    emu = Emulator(authorizers=n, seed=11)
    kinds = {emu.profile(a) for a in emu.authorizer_appids}
    assert kinds == {"configured", "undeclared", "no_code", "no_permission", "no_contact"}


def test_ground_truth_matches_each_profile() -> None:
    emu = Emulator(authorizers=200, seed=5)
    for appid in emu.authorizer_appids:
        setting = emu.authorizer(appid).dev.setting
        declared = {item["privacy_key"] for item in setting["setting_list"]}
        undeclared = emu.expected_undeclared(appid)
        assert undeclared == sorted(set(setting["privacy_list"]) - declared)
        has_contact = any(setting["owner_setting"][c] for c in CONTACTS)
        profile = emu.profile(appid)
        assert bool(undeclared) == (profile == "undeclared")
        assert emu.authorizer(appid).permission_18 == (profile != "no_permission")
        if profile == "no_code":
            assert setting["code_exist"] == 0 and setting["privacy_list"] == []
        else:
            assert setting["code_exist"] == 1 and setting["privacy_list"]
        if profile in ("configured", "undeclared", "no_permission"):
            assert has_contact
        if profile == "no_contact":
            assert not has_contact
        for sdk in setting.get("sdk_privacy_info_list") or []:
            assert not {i["privacy_key"] for i in sdk["sdk_list"]} & set(undeclared)


def test_purpose_texts_are_chinese() -> None:
    emu = Emulator(authorizers=30, seed=0)
    texts = [
        item["privacy_text"]
        for a in emu.authorizer_appids
        for item in emu.authorizer(a).dev.setting["setting_list"]
    ]
    assert texts and all(re.search(r"[\u4e00-\u9fff]", t) for t in texts)


async def test_the_wire_agrees_with_the_ground_truth() -> None:
    emu = Emulator(authorizers=60, seed=9)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL) as http:
        wx = WeChat(emu, http)
        ctoken = await wx.component_token()
        for appid in emu.authorizer_appids:
            data = await wx.privacy(await wx.authorizer_token(appid, ctoken))
            if emu.profile(appid) == "no_permission":
                assert data["errcode"] == 61007
                continue
            declared = {item["privacy_key"] for item in data["setting_list"]}
            assert sorted(set(data["privacy_list"]) - declared) == emu.expected_undeclared(appid)


async def test_set_privacy_setting_changes_what_is_served(wx: WeChat, emu: Emulator) -> None:
    appid = next(a for a in emu.authorizer_appids if emu.profile(a) == "configured")
    token = await wx.authorizer_token(appid)
    before = await wx.privacy(token)
    emu.set_privacy_setting(appid, {"privacy_list": ["Camera"], "setting_list": []})
    after = await wx.privacy(token)
    assert after != before
    assert after["privacy_list"] == ["Camera"] and after["setting_list"] == []
    assert after["owner_setting"]["store_region"] == 0  # defaults filled in
    assert emu.expected_undeclared(appid) == ["Camera"]
    emu.set_privacy_setting(appid, {"update_time": 5}, privacy_ver=1)
    assert (await wx.privacy(token, privacy_ver=1))["update_time"] == 5


def test_add_authorizer_rejects_unknown_setting_fields(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="privacy_Desc"):
        emu.add_authorizer("wx7777777777777777", setting={"privacy_Desc": {}})
