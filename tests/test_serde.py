"""The converter: bytes <-> JSON, JSON <-> models, every wire rule and every rejection."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fixture_data import fixture_bytes, load_fixture

from wxprivacy import ResponseFormatError
from wxprivacy._serde import converter, dumps, loads, structure, unstructure
from wxprivacy.models import (
    OwnerSetting,
    PrivacyDesc,
    PrivacyDescItem,
    PrivacySetting,
    SdkPrivacyInfo,
    SettingItem,
)

FIXTURES = [
    "getprivacysetting_full.json",
    "getprivacysetting_minimal.json",
    "getprivacysetting_mixed_case.json",
    "getprivacysetting_unconfigured_observed_shape.json",
]


def parse(body: bytes) -> PrivacySetting:
    return structure(loads(body), PrivacySetting)


# ------------------------------------------------------------------------------ fixtures


def test_full_fixture() -> None:
    setting = parse(fixture_bytes("getprivacysetting_full.json"))
    assert setting.code_exist is True
    assert setting.privacy_list == ("UserInfo", "Location", "PhoneNumber", "AlbumWriteOnly")
    assert setting.setting_list[0] == SettingItem(
        privacy_key="UserInfo",
        privacy_text="展示会员头像与昵称",
        privacy_label="用户信息（微信昵称、头像）",
    )
    assert setting.setting_list[3].privacy_label == ""
    assert setting.update_time == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    assert setting.owner_setting == OwnerSetting(
        contact_phone="400-000-0000",
        contact_email="privacy@example.com",
        contact_weixin="example_service_wx",
        store_expire_timestamp="30天",
        notice_method="小程序内弹窗通知",
        store_region=0,
    )
    assert setting.privacy_desc is not None
    assert len(setting.privacy_desc.privacy_desc_list) == 22
    assert setting.privacy_desc.privacy_desc_list[21] == PrivacyDescItem(
        privacy_key="MessageFile", privacy_desc="选中的文件"
    )
    assert setting.sdk_privacy_info_list == (
        SdkPrivacyInfo(
            sdk_name="示例地图SDK",
            sdk_biz_name="示例科技有限公司",
            sdk_list=(
                SettingItem(
                    privacy_key="Location",
                    privacy_text="计算用户与门店的距离",
                    privacy_label="位置信息",
                ),
            ),
        ),
    )
    assert setting.undeclared_keys == ()
    assert setting.has_contact
    assert dict(setting.extras) == {}  # errcode/errmsg are dropped, not kept


def test_mixed_case_fixture_equals_the_canonical_one() -> None:
    mixed = parse(fixture_bytes("getprivacysetting_mixed_case.json"))
    assert mixed == parse(fixture_bytes("getprivacysetting_full.json"))
    assert mixed.owner_setting is not None
    assert mixed.owner_setting.contact_weixin == "example_service_wx"
    assert dict(mixed.owner_setting.extras) == {}


def test_minimal_fixture() -> None:
    setting = parse(fixture_bytes("getprivacysetting_minimal.json"))
    assert setting == PrivacySetting()
    assert setting.owner_setting is None and setting.privacy_desc is None
    assert not setting.has_contact


def test_unconfigured_fixture() -> None:
    setting = parse(fixture_bytes("getprivacysetting_unconfigured_observed_shape.json"))
    assert setting.update_time is None
    assert setting.owner_setting == OwnerSetting(store_region=0)
    assert not setting.has_contact
    assert setting.privacy_desc is not None
    assert [item.privacy_key for item in setting.privacy_desc.privacy_desc_list][:3] == [
        "UserInfo",
        "Location",
        "Address",
    ]
    assert setting.sdk_privacy_info_list == ()


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_round_trip(name: str) -> None:
    setting = parse(fixture_bytes(name))
    assert structure(unstructure(setting), PrivacySetting) == setting
    assert parse(dumps(setting)) == setting


def test_canonical_fixture_writes_back_as_read() -> None:
    raw = load_fixture("getprivacysetting_full.json")
    del raw["errcode"], raw["errmsg"]
    assert unstructure(parse(fixture_bytes("getprivacysetting_full.json"))) == raw


# ------------------------------------------------------------------------------ the doc sample

# The valid pieces of the response example on the English doc page (seed-getprivacysetting.txt):
# its odd keys ("contact_qq " with a space, contact_WeChat, privacy_Desc, a privacy_Desc inside
# the items) are kept; its broken JSON (missing commas and quotes) is not.
DOC_SAMPLE = """{
    "errcode": 0, "errmsg": "ok", "code_exist": 1,
    "privacy_list": ["UserInfo"],
    "setting_list": [
        {"privacy_key": "EXIDNumber", "privacy_text": "To register membership information xxx,",
         "privacy_label": ""},
        {"privacy_key": "UserInfo", "privacy_text": "To show your xxxx,", "privacy_label": ""}
    ],
    "update_time": 1641548861,
    "owner_setting": {
        "contact_phone": "", "contact_email": "melody4444@qq.com", "contact_qq " : "11111111",
        "contact_WeChat": "", "store_expire_timestamp": "10000天", "ext_file_media_id": "",
        "Notice_method": "Pop-Up 222", "store_region": 0
    },
    "privacy_Desc": {"privacy_desc_list": [
        {"privacy_key": "UserInfo", "privacy_Desc": "User information (WeChat nickname, avatar)"},
        {"privacy_key": "Clipboard", "privacy_Desc": "Shear Plate"}
    ]},
    "sdk_privacy_info_list": [{"sdk_name": "Testing the sdk", "sdk_biz_name": "wheat company",
        "sdk_list": [{"privacy_key": "自定义", "privacy_text": "To show your beauty",
                      "privacy_label": "Avatar Info"}]}]
}"""


def test_doc_sample_valid_pieces() -> None:
    setting = parse(DOC_SAMPLE.encode())
    owner = setting.owner_setting
    assert owner is not None
    assert owner.contact_qq == "11111111"
    assert owner.contact_email == "melody4444@qq.com"
    assert owner.notice_method == "Pop-Up 222"
    assert owner.store_expire_timestamp == "10000天"
    assert dict(owner.extras) == {}
    assert setting.privacy_desc is not None
    assert setting.privacy_desc.privacy_desc_list[1] == PrivacyDescItem(
        privacy_key="Clipboard", privacy_desc="Shear Plate"
    )
    assert setting.sdk_privacy_info_list[0].sdk_list[0].privacy_key == "自定义"
    assert setting.update_time == dt.datetime.fromtimestamp(1641548861, dt.UTC)


def test_doc_sample_broken_json_is_rejected_with_a_short_snippet() -> None:
    broken = b'{\n  "setting_list": [\n    {"privacy_text": "To register xxx,"\n'
    broken += b'     "privacy_label": ""}' + b" " * 500 + b"]}"
    with pytest.raises(ResponseFormatError) as info:
        loads(broken)
    message = str(info.value)
    assert "not valid JSON" in message and "line 4" in message
    snippet = message.split("): ", 1)[1]
    assert len(snippet) <= 122  # 120 characters and the quotes of repr()


# ------------------------------------------------------------------------------ loads / dumps


def test_loads_accepts_raw_control_characters_in_strings() -> None:
    body = '{"privacy_text": "第一行\n第二行\t制表\x01", "privacy_key": "UserInfo"}'.encode()
    assert loads(body) == {"privacy_text": "第一行\n第二行\t制表\x01", "privacy_key": "UserInfo"}
    item = structure(loads(body), SettingItem)
    assert item.privacy_text == "第一行\n第二行\t制表\x01"


def test_loads_accepts_a_byte_order_mark() -> None:
    assert loads(b'\xef\xbb\xbf{"code_exist": 1}') == {"code_exist": 1}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"<html><body>502 Bad Gateway</body></html>", "not valid JSON"),
        (b'{"a": "\xff\xfe"}', "not valid UTF-8"),
        (b'{"a": NaN}', "not valid JSON"),
        (b'{"a": 1', "not valid JSON"),
    ],
)
def test_loads_rejects(body: bytes, problem: str) -> None:
    with pytest.raises(ResponseFormatError, match=problem):
        loads(body)


def test_loads_never_quotes_the_whole_body() -> None:
    body = b"<html>" + b"x" * 5000 + b"</html>"
    with pytest.raises(ResponseFormatError) as info:
        loads(body)
    assert len(str(info.value)) < 250


def test_dumps_writes_compact_raw_utf8() -> None:
    body = dumps({"store_expire_timestamp": "30天", "privacy_ver": 2})
    assert body == '{"store_expire_timestamp":"30天","privacy_ver":2}'.encode()
    assert b"\\u" not in body


def test_dumps_writes_models_and_extras() -> None:
    owner = OwnerSetting(notice_method="弹窗", extras={"contact_WeChat": "wx"})
    assert json.loads(dumps({"owner_setting": owner})) == {
        "owner_setting": {
            "contact_phone": "",
            "contact_email": "",
            "contact_qq": "",
            "contact_weixin": "",
            "store_expire_timestamp": "",
            "ext_file_media_id": "",
            "notice_method": "弹窗",
            "contact_WeChat": "wx",
        }
    }
    assert json.loads(dumps({"x": owner.extras})) == {"x": {"contact_WeChat": "wx"}}


def test_dumps_handles_huge_integers_and_rejects_objects() -> None:
    assert dumps({"n": 2**70}) == b'{"n":1180591620717411303424}'
    with pytest.raises(TypeError):
        dumps({"n": object()})


# ------------------------------------------------------------------------------ key rules


@pytest.mark.parametrize(
    "key",
    ["contact_qq", "contact_QQ", "contact_qq ", " Contact_Qq\t", "CONTACT_QQ"],
)
def test_keys_fold_case_and_white_space(key: str) -> None:
    assert structure({key: "123"}, OwnerSetting) == OwnerSetting(contact_qq="123")


@pytest.mark.parametrize("key", ["contact_WeChat", "contact_wechat", "Contact_Wechat "])
def test_contact_wechat_means_contact_weixin(key: str) -> None:
    assert structure({key: "wx"}, OwnerSetting) == OwnerSetting(contact_weixin="wx")


def test_odd_case_keys_at_every_level() -> None:
    data = {
        "Code_Exist": "1",
        "privacy_Desc": {"Privacy_desc_List": [{"PRIVACY_KEY": "Email", "privacy_Desc": "邮箱"}]},
        "owner_setting": {"Notice_method": "弹窗"},
    }
    setting = structure(data, PrivacySetting)
    assert setting.code_exist is True
    assert setting.privacy_desc == PrivacyDesc(
        privacy_desc_list=(PrivacyDescItem(privacy_key="Email", privacy_desc="邮箱"),)
    )
    assert setting.owner_setting == OwnerSetting(notice_method="弹窗")


def test_exact_spelling_wins_and_the_other_is_kept() -> None:
    owner = structure({"contact_WeChat": "old", "contact_weixin": "new"}, OwnerSetting)
    assert owner.contact_weixin == "new"
    assert dict(owner.extras) == {"contact_WeChat": "old"}
    owner = structure({"contact_weixin": "new", "contact_WeChat": "old"}, OwnerSetting)
    assert owner.contact_weixin == "new"
    assert dict(owner.extras) == {"contact_WeChat": "old"}
    # Neither is exact: the first one wins.
    owner = structure({"contact_QQ": "1", "contact_qq ": "2"}, OwnerSetting)
    assert owner.contact_qq == "1"
    assert dict(owner.extras) == {"contact_qq ": "2"}
    assert unstructure(owner)["contact_qq "] == "2"


def test_unknown_keys_are_kept_at_every_level() -> None:
    data = {
        "errcode": 0,
        "errmsg": "ok",
        "new_top": {"a": [1, 2]},
        "setting_list": [{"privacy_key": "UserInfo", "privacy_ext": "x"}],
        "owner_setting": {"contact_phone": "1", "store_region_name": "上海"},
        "privacy_desc": {"privacy_desc_list": [], "version": 3},
        "sdk_privacy_info_list": [
            {"sdk_name": "s", "sdk_id": 9, "sdk_list": [{"privacy_key": "k"}]}
        ],
    }
    setting = structure(data, PrivacySetting)
    assert dict(setting.extras) == {"new_top": {"a": [1, 2]}}
    assert dict(setting.setting_list[0].extras) == {"privacy_ext": "x"}
    assert setting.owner_setting is not None
    assert dict(setting.owner_setting.extras) == {"store_region_name": "上海"}
    assert setting.privacy_desc is not None
    assert dict(setting.privacy_desc.extras) == {"version": 3}
    assert dict(setting.sdk_privacy_info_list[0].extras) == {"sdk_id": 9}
    back = unstructure(setting)
    assert back["new_top"] == {"a": [1, 2]}
    assert back["setting_list"][0]["privacy_ext"] == "x"
    assert back["owner_setting"]["store_region_name"] == "上海"
    assert back["sdk_privacy_info_list"][0]["sdk_id"] == 9
    assert "errcode" not in back and "errmsg" not in back
    assert structure(back, PrivacySetting) == setting


def test_envelope_is_dropped_in_any_case_but_kept_below_the_top() -> None:
    setting = structure({"ErrCode": 0, "errMsg": "ok", "Code_exist": 1}, PrivacySetting)
    assert dict(setting.extras) == {}
    assert setting.code_exist is True
    item = structure({"privacy_key": "k", "errcode": 1}, SettingItem)
    assert dict(item.extras) == {"errcode": 1}


def test_the_internal_extras_key_in_input_is_just_data() -> None:
    item = structure({"privacy_key": "k", "\x00extras": {"x": 1}}, SettingItem)
    assert dict(item.extras) == {"\x00extras": {"x": 1}}


def test_any_mapping_is_accepted() -> None:
    from types import MappingProxyType

    assert structure(MappingProxyType({"privacy_key": "k"}), SettingItem) == SettingItem(
        privacy_key="k"
    )


# ------------------------------------------------------------------------------ value rules


def test_privacy_desc_may_be_a_bare_list() -> None:
    data = {"privacy_desc": [{"privacy_key": "Email", "privacy_desc": "邮箱"}]}
    setting = structure(data, PrivacySetting)
    assert setting.privacy_desc == PrivacyDesc(
        privacy_desc_list=(PrivacyDescItem(privacy_key="Email", privacy_desc="邮箱"),)
    )


@pytest.mark.parametrize(
    ("value", "expected"), [(1017, 1017), ("1017", 1017), (" 1040 ", 1040), (1037.0, 1037)]
)
def test_store_region_numbers(value: Any, expected: int) -> None:
    assert structure({"store_region": value}, OwnerSetting).store_region == expected


@pytest.mark.parametrize("value", [None, ""])
def test_store_region_empty(value: Any) -> None:
    assert structure({"store_region": value}, OwnerSetting).store_region is None


def test_numbers_become_strings() -> None:
    owner = structure({"contact_qq": 11111111, "contact_phone": 4000000000}, OwnerSetting)
    assert owner.contact_qq == "11111111"
    assert owner.contact_phone == "4000000000"
    assert structure({"privacy_list": ["UserInfo", 7]}, PrivacySetting).privacy_list == (
        "UserInfo",
        "7",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, False),
        (1, True),
        ("0", False),
        ("1", True),
        (True, True),
        (False, False),
        ("true", True),
        (None, False),
    ],
)
def test_code_exist(value: Any, expected: bool) -> None:
    assert structure({"code_exist": value}, PrivacySetting).code_exist is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1700000000, dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)),
        ("1700000000", dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)),
        (0, None),
        ("0", None),
        (None, None),
    ],
)
def test_update_time(value: Any, expected: dt.datetime | None) -> None:
    setting = structure({"update_time": value}, PrivacySetting)
    assert setting.update_time == expected
    if expected is not None:
        assert setting.update_time is not None
        assert setting.update_time.tzinfo is dt.UTC
    assert unstructure(setting)["update_time"] == (0 if expected is None else 1700000000)


def test_null_means_the_default() -> None:
    data = {
        "code_exist": None,
        "privacy_list": None,
        "setting_list": None,
        "update_time": None,
        "owner_setting": None,
        "privacy_desc": None,
        "sdk_privacy_info_list": None,
    }
    assert structure(data, PrivacySetting) == PrivacySetting()
    owner = structure({"contact_phone": None, "notice_method": "弹窗"}, OwnerSetting)
    assert owner == OwnerSetting(notice_method="弹窗")


def test_unstructure_wire_forms() -> None:
    setting = PrivacySetting(code_exist=True, privacy_list=["UserInfo"])
    assert unstructure(setting) == {
        "code_exist": 1,
        "privacy_list": ["UserInfo"],
        "setting_list": [],
        "update_time": 0,
        "sdk_privacy_info_list": [],
    }
    assert unstructure(PrivacySetting())["code_exist"] == 0
    assert "store_region" not in unstructure(OwnerSetting())
    assert unstructure(OwnerSetting(store_region=1017))["store_region"] == 1017


def test_naive_update_time_is_written_as_utc() -> None:
    naive = PrivacySetting(update_time=dt.datetime(2023, 11, 14, 22, 13, 20))
    assert unstructure(naive)["update_time"] == 1700000000


def test_converter_is_one_object_with_hooks_for_every_model() -> None:
    for cls in (PrivacySetting, OwnerSetting, SettingItem, PrivacyDesc, SdkPrivacyInfo):
        assert converter.get_structure_hook(cls) is converter.get_structure_hook(cls)


# ------------------------------------------------------------------------------ rejections


@pytest.mark.parametrize(
    ("data", "path", "problem"),
    [
        ({"setting_list": "UserInfo"}, "setting_list", "expected an array"),
        ({"setting_list": [{"privacy_key": {}}]}, "setting_list[0].privacy_key", "string"),
        (
            {"setting_list": [{"privacy_key": "a"}, {"privacy_key": "b"}, {"privacy_key": []}]},
            "setting_list[2].privacy_key",
            "got array",
        ),
        ({"setting_list": [{"privacy_text": "x"}]}, "setting_list[0].privacy_key", "missing"),
        ({"setting_list": [{"privacy_key": None}]}, "setting_list[0].privacy_key", "null"),
        ({"setting_list": ["UserInfo"]}, "setting_list[0]", "expected an object"),
        ({"update_time": "yesterday"}, "update_time", "Unix seconds"),
        ({"update_time": -5}, "update_time", "negative"),
        ({"update_time": 10**20}, "update_time", "out of range"),
        ({"update_time": True}, "update_time", "Unix seconds"),
        ({"code_exist": 2}, "code_exist", "0 or 1"),
        ({"code_exist": "yes"}, "code_exist", "0 or 1"),
        ({"privacy_list": "UserInfo"}, "privacy_list", "expected an array"),
        ({"privacy_list": ["a", None]}, "privacy_list[1]", "null"),
        ({"owner_setting": "{}"}, "owner_setting", "expected an object"),
        ({"owner_setting": {"store_region": "上海"}}, "owner_setting.store_region", "integer"),
        ({"owner_setting": {"store_region": 1.5}}, "owner_setting.store_region", "integer"),
        ({"owner_setting": {"contact_qq": 1.5}}, "owner_setting.contact_qq", "string"),
        ({"owner_setting": {"Contact_QQ": True}}, "owner_setting.contact_qq", "boolean"),
        ({"privacy_desc": 3}, "privacy_desc", "expected an object"),
        (
            {"privacy_Desc": {"privacy_desc_list": [{"privacy_key": "a"}, {"privacy_desc": "x"}]}},
            "privacy_desc.privacy_desc_list[1].privacy_key",
            "missing",
        ),
        (
            {"sdk_privacy_info_list": [{"sdk_list": [{"privacy_key": "a", "privacy_text": 1.0}]}]},
            "sdk_privacy_info_list[0].sdk_list[0].privacy_text",
            "string",
        ),
    ],
)
def test_wrong_types_raise_with_the_field_path(data: Any, path: str, problem: str) -> None:
    with pytest.raises(ResponseFormatError, match=problem) as info:
        structure(data, PrivacySetting)
    assert type(info.value) is ResponseFormatError
    assert info.value.field_path == path
    assert str(info.value).startswith(path + ": ")


@pytest.mark.parametrize("data", [[], "ok", 1, None, [{"privacy_key": "x"}]])
def test_a_non_object_top_level_raises(data: Any) -> None:
    with pytest.raises(ResponseFormatError, match="expected an object") as info:
        structure(data, PrivacySetting)
    assert info.value.field_path is None


def test_converter_errors_are_response_format_errors_too() -> None:
    with pytest.raises(ResponseFormatError) as info:
        converter.structure({"setting_list": 1}, PrivacySetting)
    assert info.value.field_path == "setting_list"


def test_the_item_fast_path_falls_back_for_mixed_lists() -> None:
    items = [
        {"privacy_key": "a", "privacy_desc": "A"},
        {"Privacy_Key": "b", "privacy_desc": "B"},
        {"privacy_key": "c", "privacy_desc": 3},
        {"privacy_key": "d", "note": "kept"},
    ]
    desc = structure(items, PrivacyDesc)
    assert desc.privacy_desc_list == (
        PrivacyDescItem(privacy_key="a", privacy_desc="A"),
        PrivacyDescItem(privacy_key="b", privacy_desc="B"),
        PrivacyDescItem(privacy_key="c", privacy_desc="3"),
        PrivacyDescItem(privacy_key="d", extras={"note": "kept"}),
    )


def test_the_item_fast_path_builds_the_same_objects_as_the_constructor() -> None:
    raw = [{"privacy_key": f"Key{i}", "privacy_desc": f"名称{i}"} for i in range(6)]
    built = structure(raw, PrivacyDesc).privacy_desc_list
    made = tuple(PrivacyDescItem(privacy_key=f"Key{i}", privacy_desc=f"名称{i}") for i in range(6))
    assert built == made
    assert [hash(item) for item in built] == [hash(item) for item in made]
    assert [item.__getstate__() for item in built] == [item.__getstate__() for item in made]
    assert not any(hasattr(item, "__dict__") for item in built)  # slotted, like the constructor's
    assert all(type(item) is PrivacyDescItem for item in built)
    assert raw[0] == {"privacy_key": "Key0", "privacy_desc": "名称0"}  # input left alone


def test_the_item_fast_path_folds_a_list_of_one_shape() -> None:
    raw = [{"Privacy_Key": f"K{i}", "privacy_Desc": "d"} for i in range(5)]
    built = structure(raw, PrivacyDesc).privacy_desc_list
    assert built == tuple(PrivacyDescItem(privacy_key=f"K{i}", privacy_desc="d") for i in range(5))


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({"privacy_desc": "x"}, "privacy_desc_list[4].privacy_key"),
        ({"privacy_key": 1.5}, "privacy_desc_list[4].privacy_key"),
        ({"privacy_key": "k", "privacy_desc": {}}, "privacy_desc_list[4].privacy_desc"),
        ("Email", "privacy_desc_list[4]"),
    ],
)
def test_long_lists_report_the_bad_item(bad: Any, path: str) -> None:
    raw: list[Any] = [{"privacy_key": f"K{i}", "privacy_desc": "d"} for i in range(6)]
    raw[4] = bad
    with pytest.raises(ResponseFormatError) as info:
        structure({"privacy_desc": raw}, PrivacySetting)
    assert info.value.field_path == "privacy_desc." + path
