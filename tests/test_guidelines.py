"""wxprivacy.guidelines and the commands that use it (set, apply-template): TOML parsing, diffs,
--yes, and the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from client_factory import emulated
from typer.testing import CliRunner

from wxprivacy import InvalidArgumentError
from wxprivacy.cli import app
from wxprivacy.emulator import Emulator
from wxprivacy.guidelines import load_guideline, load_template, run_apply_template

runner = CliRunner()
SP = "/cgi-bin/component/setprivacysetting"
GUIDELINE = """
[owner_setting]
contact_email = "privacy@example.com"
contact_qq = 10001
notice_method = "弹窗提示"
store_expire_timestamp = "30天"

[[setting_list]]
privacy_key = "UserInfo"
privacy_text = "展示会员头像与昵称"

[[sdk_privacy_info_list]]
sdk_name = "地图SDK"
sdk_biz_name = "某某科技有限公司"
[[sdk_privacy_info_list.sdk_list]]
privacy_key = "Location"
privacy_text = "显示附近门店"
"""
PURPOSES = {
    "UserInfo": "展示会员头像与昵称",
    "Location": "查找附近门店",
    "Address": "填写收货地址",
    "Invoice": "开具电子发票",
    "RunData": "统计步数",
    "Record": "录制语音留言",
    "Album": "上传评价图片",
    "Camera": "扫描商品条码",
    "PhoneNumber": "登录并绑定会员账号",
    "Contact": "保存客服电话",
    "DeviceInfo": "保障账号安全",
    "EXIDNumber": "完成实名认证",
    "EXOrderInfo": "查询历史订单",
    "EXUserPublishContent": "展示用户发布的内容",
    "EXUserFollowAcct": "展示已关注的店铺",
    "EXUserOpLog": "排查故障",
    "AlbumWriteOnly": "保存海报到相册",
    "LicensePlate": "登记停车车辆",
    "BlueTooth": "连接智能设备",
    "CalendarWriteOnly": "添加日程提醒",
    "Email": "发送电子账单",
    "MessageFile": "上传聊天文件",
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def template_text(purposes: dict[str, str], owner: str = "") -> str:
    lines = ["[purposes]", *(f'{k} = "{v}"' for k, v in purposes.items())]
    return "\n".join(lines) + ("\n[owner_setting]\n" + owner if owner else "") + "\n"


def test_load_guideline(tmp_path: Path) -> None:
    guideline = load_guideline(write(tmp_path, "g.toml", GUIDELINE))
    assert guideline.privacy_ver == 2
    assert guideline.owner_setting.contact_qq == "10001"
    assert guideline.setting_list[0].privacy_text == "展示会员头像与昵称"
    assert guideline.sdk_privacy_info_list[0].sdk_list[0].privacy_key == "Location"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GUIDELINE.replace("contact_email", "contact_mail"), "owner_setting: unknown key"),
        (GUIDELINE.replace('privacy_text = "显示', 'privacy_txt = "显示'), "sdk_list[0]"),
        (GUIDELINE.replace("30天", "30"), "owner_setting.store_expire_timestamp"),
        ("privacy_ver = 2\n", "[owner_setting] is required"),
        (GUIDELINE + "\nextra = 1\n", "unknown key"),
        ("privacy_ver = 1\n" + GUIDELINE, "setting_list"),
        ("[owner_setting\n", "not valid TOML"),
        (GUIDELINE.replace('"UserInfo"', "[1]"), "setting_list[0]"),
    ],
)
def test_bad_guidelines_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        load_guideline(write(tmp_path, "g.toml", text))
    assert message in str(info.value)


def test_bad_templates(tmp_path: Path) -> None:
    for text, message in [
        ("[purposes]\n", "[purposes]"),
        ('[purposes]\nUserInfo = ""\n', "purposes.UserInfo"),
        ('[purpose]\nUserInfo = "x"\n', "unknown key"),
        ('[purposes]\nA = "x"\n[owner_setting]\nfoo = "x"\n', "owner_setting"),
    ]:
        with pytest.raises(InvalidArgumentError, match=message.replace("[", r"\[")):
            load_template(write(tmp_path, "t.toml", text))


def test_set_command_on_the_emulator(tmp_path: Path) -> None:
    appid = Emulator(authorizers=3, seed=0).authorizer_appids[0]
    path = write(tmp_path, "g.toml", GUIDELINE)
    args = ["set", appid, "--from", str(path), "--emulator", "3"]
    result = runner.invoke(app, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "owner_setting.contact_email" in result.output and "dry run" in result.output
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "written" in result.output


def test_set_command_rejects_a_bad_file_before_connecting(tmp_path: Path) -> None:
    path = write(tmp_path, "g.toml", GUIDELINE.replace("弹窗提示", ""))
    result = runner.invoke(app, ["set", "wx1", "--from", str(path), "--emulator", "1"])
    assert result.exit_code == 2
    assert "owner_setting.notice_method" in result.output


def test_set_live_version_without_live_is_an_error(tmp_path: Path) -> None:
    emu = Emulator(authorizers=20, seed=0)
    appid = next(a for a in emu.authorizer_appids if emu.authorizer(a).live is None)
    text = "privacy_ver = 1\n" + GUIDELINE.split("[[setting_list]]")[0]
    path = write(tmp_path, "g.toml", text)
    result = runner.invoke(app, ["set", appid, "--from", str(path), "--emulator", "20"])
    assert result.exit_code == 1
    assert "86074" in result.output


async def test_apply_template_dry_run_then_yes(tmp_path: Path) -> None:
    emu = Emulator(authorizers=30, seed=5)
    template = load_template(
        write(
            tmp_path,
            "t.toml",
            template_text(
                PURPOSES, 'contact_email = "dpo@example.com"\nnotice_method = "弹窗提示"\n'
            ),
        )
    )
    flawed = [a for a in emu.authorizer_appids if emu.expected_undeclared(a)]
    assert flawed
    async with emulated(emu, load=False) as client:
        dry = await run_apply_template(client, template)
        assert emu.calls[SP] == 0 and dry.written == 0
        assert dry.total == 30 and dry.changed >= len(flawed)
        no_permission = {a for a in emu.authorizer_appids if emu.profile(a) == "no_permission"}
        assert set(dry.errors) == no_permission
        done = await run_apply_template(client, template, yes=True)
        assert done.written == dry.changed and emu.calls[SP] == dry.changed
        for appid in emu.authorizer_appids:
            if appid in no_permission:
                continue
            assert emu.expected_undeclared(appid) == []
            setting = await client.get_privacy_setting(appid)
            texts = {i.privacy_key: i.privacy_text for i in setting.setting_list}
            for key in setting.privacy_list:
                assert texts[key] == PURPOSES[key]
            assert setting.has_contact
        again = await run_apply_template(client, template)
        assert again.changed == 0 and again.unchanged == 30 - len(no_permission)


async def test_apply_template_keep_existing_and_missing_purpose(tmp_path: Path) -> None:
    emu = Emulator()
    emu.add_authorizer(
        "wxa000000000000001",
        setting={
            "privacy_list": ["UserInfo", "Location", "Clipboard"],
            "setting_list": [{"privacy_key": "UserInfo", "privacy_text": "旧的用途"}],
            "owner_setting": {"contact_qq": "1", "notice_method": "公告"},
        },
    )
    template = load_template(write(tmp_path, "t.toml", template_text(PURPOSES)))
    async with emulated(emu, load=False) as client:
        await run_apply_template(client, template, yes=True, keep_existing=True)
        setting = await client.get_privacy_setting("wxa000000000000001")
        texts = {i.privacy_key: i.privacy_text for i in setting.setting_list}
        assert texts == {"UserInfo": "旧的用途", "Location": "查找附近门店"}
        assert setting.undeclared_keys == ("Clipboard",)


def test_apply_template_command_changes_nothing_without_yes(tmp_path: Path) -> None:
    path = write(tmp_path, "t.toml", template_text(PURPOSES))
    result = runner.invoke(app, ["apply-template", str(path), "--emulator", "20"])
    assert "dry run: nothing was changed" in result.output
    assert "+ " in result.output or "~ " in result.output
    assert result.exit_code == 1  # the seeded fleet has authorizers without permission set 18
    result = runner.invoke(app, ["apply-template", str(path), "--emulator", "20", "--yes"])
    assert "written" in result.output and "dry run" not in result.output


def test_set_diff_shows_sdk_changes(tmp_path: Path) -> None:
    emu = Emulator(authorizers=20, seed=0)
    appid = next(
        a
        for a in emu.authorizer_appids
        if emu.profile(a) != "no_permission"
        and emu.authorizer(a).dev.setting.get("sdk_privacy_info_list")
    )
    current = [s["sdk_name"] for s in emu.authorizer(appid).dev.setting["sdk_privacy_info_list"]]
    path = write(tmp_path, "g.toml", GUIDELINE.split("[[sdk_privacy_info_list]]")[0])
    result = runner.invoke(
        app, ["set", appid, "--from", str(path), "--emulator", "20", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    for name in current:  # the guideline drops them: the diff must say so
        assert f"- sdk {name}" in result.output


def test_set_live_diff_does_not_claim_to_clear_the_ext_file(tmp_path: Path) -> None:
    emu = Emulator(authorizers=20, seed=0)
    appid = next(
        a
        for a in emu.authorizer_appids
        if emu.authorizer(a).live is not None and emu.profile(a) != "no_permission"
    )
    text = "privacy_ver = 1\n" + GUIDELINE.split("[[setting_list]]")[0]
    path = write(tmp_path, "g.toml", text)
    result = runner.invoke(
        app, ["set", appid, "--from", str(path), "--emulator", "20", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "ext_file_media_id" not in result.output


@pytest.mark.parametrize("value", ["3", '"2"', "true"])
def test_guideline_privacy_ver_is_checked_when_loaded(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, "g.toml", f"privacy_ver = {value}\n" + GUIDELINE)
    with pytest.raises(InvalidArgumentError, match="privacy_ver must be 1 or 2"):
        load_guideline(path)


def test_the_file_formats_on_the_cli_page_load(tmp_path: Path) -> None:
    import re

    page = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text("utf-8")
    blocks = dict(re.findall(r'```toml title="([^"]+)"\n(.*?)```', page, re.S))
    guideline = load_guideline(write(tmp_path, "g.toml", blocks["guideline.toml"]))
    assert guideline.setting_list[0].privacy_key == "UserInfo"
    template = load_template(write(tmp_path, "t.toml", blocks["template.toml"]))
    assert template.purposes["Location"] == "查找附近门店"


def test_set_finds_the_refresh_token_without_a_prior_listing(tmp_path: Path) -> None:
    emu = Emulator(authorizers=5, seed=0)
    appid = next(a for a in emu.authorizer_appids if emu.profile(a) != "no_permission")
    path = write(tmp_path, "g.toml", GUIDELINE)
    result = runner.invoke(app, ["set", appid, "--from", str(path), "--emulator", "5", "--dry-run"])
    assert result.exit_code == 0, result.output


def test_apply_template_fails_while_keys_stay_undeclared(tmp_path: Path) -> None:
    path = write(tmp_path, "t.toml", template_text({"UserInfo": "展示头像"}))
    result = runner.invoke(app, ["apply-template", str(path), "--emulator", "20"])
    assert result.exit_code == 1
    assert "still use keys the template has no purpose for" in result.output
