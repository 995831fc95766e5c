"""The models on their own: construction, immutability, defaults and the derived properties."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from typing import Any

import attrs
import pytest
from fixture_data import fixture_bytes

from wxprivacy._serde import loads, structure
from wxprivacy.models import (
    AuthorizationInfo,
    AuthorizerDetails,
    AuthorizerListItem,
    AuthorizerPage,
    FuncInfo,
    FuncscopeCategory,
    OwnerSetting,
    PreAuthCode,
    PrivacyDesc,
    PrivacyDescItem,
    PrivacyInterface,
    PrivacyInterfaceList,
    PrivacySetting,
    SdkPrivacyInfo,
    SettingItem,
)


def test_defaults_are_empty() -> None:
    setting = PrivacySetting()
    assert setting.code_exist is False
    assert setting.privacy_list == ()
    assert setting.setting_list == ()
    assert setting.update_time is None
    assert setting.owner_setting is None
    assert setting.privacy_desc is None
    assert setting.sdk_privacy_info_list == ()
    assert dict(setting.extras) == {}
    assert OwnerSetting().store_region is None
    assert SettingItem(privacy_key="UserInfo").privacy_text == ""


def test_lists_become_tuples() -> None:
    setting = PrivacySetting(
        privacy_list=["UserInfo"],
        setting_list=[SettingItem(privacy_key="UserInfo")],
        sdk_privacy_info_list=[SdkPrivacyInfo(sdk_list=[SettingItem(privacy_key="Location")])],
    )
    assert setting.privacy_list == ("UserInfo",)
    assert isinstance(setting.setting_list, tuple)
    assert isinstance(setting.sdk_privacy_info_list[0].sdk_list, tuple)
    desc = PrivacyDesc(privacy_desc_list=(PrivacyDescItem(privacy_key="Email") for _ in range(2)))
    assert len(desc.privacy_desc_list) == 2


def test_a_string_is_not_a_list_of_keys() -> None:
    with pytest.raises(TypeError):
        PrivacySetting(privacy_list="UserInfo")  # type: ignore[arg-type]


def test_models_are_frozen_keyword_only_and_hashable() -> None:
    item = SettingItem(privacy_key="UserInfo", privacy_text="展示头像")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        item.privacy_text = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        SettingItem("UserInfo")  # type: ignore[misc]
    assert hash(item) == hash(SettingItem(privacy_key="UserInfo", privacy_text="展示头像"))
    assert hash(PrivacySetting(setting_list=[item], extras={"x": [1]})) is not None


def test_extras_take_part_in_equality_but_not_repr() -> None:
    plain = SettingItem(privacy_key="UserInfo")
    extra = SettingItem(privacy_key="UserInfo", extras={"privacy_ext": 1})
    assert plain != extra
    assert extra == SettingItem(privacy_key="UserInfo", extras={"privacy_ext": 1})
    assert "extras" not in repr(extra)


@pytest.mark.parametrize(
    ("contacts", "expected"),
    [
        ({}, False),
        ({"contact_phone": "   "}, False),
        ({"contact_phone": "400-000-0000"}, True),
        ({"contact_email": "a@example.com"}, True),
        ({"contact_qq": "11111111"}, True),
        ({"contact_weixin": "wx"}, True),
        ({"notice_method": "弹窗", "store_expire_timestamp": "30天"}, False),
    ],
)
def test_owner_has_contact(contacts: dict[str, str], expected: bool) -> None:
    assert OwnerSetting(**contacts).has_contact is expected
    assert PrivacySetting(owner_setting=OwnerSetting(**contacts)).has_contact is expected


def test_setting_without_owner_has_no_contact() -> None:
    assert PrivacySetting().has_contact is False


def test_declared_and_undeclared_keys() -> None:
    setting = PrivacySetting(
        privacy_list=["UserInfo", "Location", "Clipboard", "Location", "自定义", "UserInfo"],
        setting_list=[
            SettingItem(privacy_key="UserInfo"),
            SettingItem(privacy_key="PhoneNumber"),
        ],
    )
    assert setting.declared_keys == frozenset({"UserInfo", "PhoneNumber"})
    assert setting.undeclared_keys == ("Location", "Clipboard", "自定义")
    assert PrivacySetting().undeclared_keys == ()


def test_update_time_is_kept_as_given() -> None:
    when = dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    assert PrivacySetting(update_time=when).update_time == when


# ----------------------------------------------------------------------------- pickle, copy, repr

SECRETS = ("preauthcode@@@s3cr3t", "access@@@s3cr3t", "refreshtoken@@@s3cr3t")


def _samples() -> list[object]:
    setting = structure(loads(fixture_bytes("getprivacysetting_mixed_case.json")), PrivacySetting)
    odd = structure(
        {"setting_list": [{"privacy_key": "k", "privacy_ext": {"a": [1]}}], "new": 1},
        PrivacySetting,
    )
    info = AuthorizationInfo(
        authorizer_appid="wx1",
        authorizer_access_token=SECRETS[1],
        authorizer_refresh_token=SECRETS[2],
        func_info=[FuncInfo(funcscope_category=FuncscopeCategory(id=18))],
    )
    page = AuthorizerPage(1, [AuthorizerListItem("wx1", SECRETS[2], 5, extras={"x": 1})])
    return [
        setting,
        odd,
        PreAuthCode(pre_auth_code=SECRETS[0], expires_in=600),
        info,
        AuthorizerDetails(authorization_info=info),
        page,
        PrivacyInterfaceList(interface_list=[PrivacyInterface(api_name="wx.getLocation")]),
    ]


@pytest.mark.parametrize(
    "copy_of",
    [
        lambda obj: pickle.loads(pickle.dumps(obj)),
        copy.copy,
        copy.deepcopy,
    ],
    ids=["pickle", "copy", "deepcopy"],
)
def test_models_survive_pickle_and_copy_with_secrets_still_hidden(copy_of: Any) -> None:
    for model in _samples():
        back = copy_of(model)
        assert back == model and type(back) is type(model)
        assert all(secret not in repr(back) for secret in SECRETS), repr(back)
        for field in attrs.fields(type(model)):
            assert getattr(back, field.name) == getattr(model, field.name)
    odd = copy_of(_samples()[1])
    assert dict(odd.extras) == {"new": 1}
    assert dict(odd.setting_list[0].extras) == {"privacy_ext": {"a": [1]}}


def test_extras_from_the_wire_are_read_only() -> None:
    item = structure({"privacy_key": "k", "more": 1}, SettingItem)
    with pytest.raises(TypeError):
        item.extras["more"] = 2  # type: ignore[index]
    assert item.extras == {"more": 1} and {"more": 1} == item.extras
    assert item == SettingItem(privacy_key="k", extras={"more": 1})


def test_models_are_slotted() -> None:
    assert not hasattr(PrivacySetting(), "__dict__")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        AuthorizerListItem("wx1").refresh_token = "x"  # type: ignore[misc]
