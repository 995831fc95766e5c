"""Issue 13 §2: a key that is an official ``privacy_key`` spelled differently (``"Userinfo"``) is
refused unless the caller says it is custom, in the SDK, in ``wxprivacy set`` and its dry run.

Before: ``"Userinfo"`` was written and the dry run showed it as fine, so the real ``UserInfo``
stayed undeclared. Custom keys stay legal; the official keys are the catalogue of the last
guideline read, else a snapshot.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wxprivacy import ComponentClient, InvalidArgumentError, OwnerSetting, SettingItem
from wxprivacy._privacy_keys import OFFICIAL_PRIVACY_KEYS, lookalike
from wxprivacy._privacy_validate import set_privacy_body
from wxprivacy.cli import app
from wxprivacy.emulator import Emulator

OWNER = OwnerSetting(contact_email="privacy@example.com", notice_method="弹窗提示")
SP = "/cgi-bin/component/setprivacysetting"


def body(
    *keys: str, custom: tuple[str, ...] = (), official: frozenset[str] = OFFICIAL_PRIVACY_KEYS
) -> None:
    set_privacy_body(
        owner_setting=OWNER,
        setting_list=[SettingItem(privacy_key=k, privacy_text="用途") for k in keys],
        sdk_privacy_info_list=(),
        privacy_ver=2,
        official_keys=OFFICIAL_PRIVACY_KEYS,
        custom_keys=custom,
    )


@st.composite
def misspelled(draw: st.DrawFn) -> tuple[str, str]:
    """An official key with its case changed and separators put in, and the key itself."""
    key = draw(st.sampled_from(sorted(OFFICIAL_PRIVACY_KEYS)))
    chars = []
    for char in key:
        chars.append(char.swapcase() if draw(st.booleans()) else char)
        if draw(st.integers(0, 6)) == 0:
            chars.append(draw(st.sampled_from(["_", "-", " ", "."])))
    spelled = "".join(chars).strip()
    if spelled == key:
        spelled = key.lower() if key.lower() != key else key.upper()
    return spelled, key


@settings(max_examples=300, deadline=None)
@given(pair=misspelled())
def test_an_official_key_spelled_differently_is_refused_unless_custom(
    pair: tuple[str, str],
) -> None:
    spelled, official = pair
    assert lookalike(spelled, OFFICIAL_PRIVACY_KEYS) == official
    with pytest.raises(InvalidArgumentError) as info:
        body(spelled)
    assert "setting_list[0].privacy_key" in str(info.value) and repr(official) in str(info.value)
    body(spelled, custom=(spelled,))  # said to be custom: written


@pytest.mark.parametrize("key", [*sorted(OFFICIAL_PRIVACY_KEYS), "MyShopMemberLevel", "XUserInfo2"])
def test_official_and_unrelated_custom_keys_pass(key: str) -> None:
    body(key)


async def test_the_catalogue_of_the_last_read_guideline_is_used() -> None:
    emu = Emulator(authorizers=4, seed=2)
    appid = next(a for a in emu.authorizer_appids if emu.authorizer(a).permission_18)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(emu.component_appid, emu.component_appsecret, http_client=http)
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
        assert client.official_privacy_keys == OFFICIAL_PRIVACY_KEYS  # the snapshot, before
        setting = await client.get_privacy_setting(appid)
        assert setting.privacy_desc is not None
        read = {item.privacy_key for item in setting.privacy_desc.privacy_desc_list}
        assert client.official_privacy_keys == read
        with pytest.raises(InvalidArgumentError, match="UserInfo"):
            await client.set_privacy_setting(
                appid,
                owner_setting=OWNER,
                setting_list=[SettingItem(privacy_key="user_info", privacy_text="用途")],
            )
        assert emu.calls[SP] == 0  # refused before anything was sent
        await client.set_privacy_setting(
            appid,
            owner_setting=OWNER,
            setting_list=[SettingItem(privacy_key="user_info", privacy_text="用途")],
            custom_keys=["user_info"],
        )
        assert emu.calls[SP] == 1


GUIDELINE = """
[owner_setting]
contact_email = "privacy@example.com"
notice_method = "弹窗提示"
[[setting_list]]
privacy_key = "Userinfo"
privacy_text = "展示会员头像与昵称"
"""


@pytest.mark.parametrize("dry_run", [True, False])
def test_wxprivacy_set_flags_a_misspelled_key(tmp_path: Path, dry_run: bool) -> None:
    path = tmp_path / "g.toml"
    path.write_text(GUIDELINE, encoding="utf-8")
    appid = next(
        a for a in Emulator(authorizers=3, seed=0).authorizer_appids
        if Emulator(authorizers=3, seed=0).authorizer(a).permission_18
    )  # fmt: skip
    args = ["set", appid, "--from", str(path), "--emulator", "3"] + (
        ["--dry-run"] if dry_run else []
    )
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code != 0
    assert "UserInfo" in refused.output and "--custom-key" in " ".join(refused.output.split())
    accepted = CliRunner().invoke(app, [*args, "--custom-key", "Userinfo"])
    assert accepted.exit_code == 0, accepted.output


@pytest.mark.parametrize(
    "key",
    [
        "ＵｓｅｒＩｎｆｏ",  # full-width (a Chinese keyboard)
        "User\u200bInfo",  # zero-width space
        "Us\u0435rinfo",  # Cyrillic e
        "User\u2160nfo",  # Roman numeral one
        "\u1d1cserInfo",  # small capital u
        "USER\u0130NFO",  # Turkish dotted capital I
    ],
)
def test_look_alikes_from_other_scripts_are_refused(key: str) -> None:
    """Found by the trial: these were written, leaving the real UserInfo undeclared."""
    with pytest.raises(InvalidArgumentError, match="UserInfo"):
        body(key)


def test_a_misspelled_key_in_an_sdks_list_is_refused_too() -> None:
    from wxprivacy import SdkPrivacyInfo

    sdk = SdkPrivacyInfo(
        sdk_name="地图SDK",
        sdk_biz_name="某某科技有限公司",
        sdk_list=(SettingItem(privacy_key="location", privacy_text="显示附近门店"),),
    )
    with pytest.raises(InvalidArgumentError, match=r"sdk_privacy_info_list\[0\].sdk_list\[0\]"):
        set_privacy_body(
            owner_setting=OWNER,
            setting_list=(),
            sdk_privacy_info_list=[sdk],
            privacy_ver=2,
            official_keys=OFFICIAL_PRIVACY_KEYS,
        )


@pytest.mark.parametrize("custom", [None, b"Userinfo", "Userinfo", 5])
def test_custom_keys_must_be_a_collection_of_keys(custom: object) -> None:
    with pytest.raises(InvalidArgumentError, match="custom_keys"):
        set_privacy_body(
            owner_setting=OWNER,
            setting_list=(),
            sdk_privacy_info_list=(),
            privacy_ver=2,
            custom_keys=custom,  # type: ignore[arg-type]
        )
