"""wxprivacy._serde's remembered values: the privacy_desc_list reused only for an equal list,
never stale after mutation; equal string records (setting_list items) shared, bounded."""

from __future__ import annotations

import json
from typing import Any, cast

import attrs
import pytest
from fixture_data import fixture_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wxprivacy import ResponseFormatError, _converter
from wxprivacy._converter import build_converter
from wxprivacy._serde import converter, loads, structure
from wxprivacy.models import PrivacySetting, SettingItem


def descs(setting: PrivacySetting) -> list[tuple[str, str]]:
    assert setting.privacy_desc is not None
    return [(i.privacy_key, i.privacy_desc) for i in setting.privacy_desc.privacy_desc_list]


def test_equal_catalogue_is_reused_and_a_changed_one_is_rebuilt() -> None:
    body = fixture_bytes("getprivacysetting_full.json")
    first = structure(loads(body), PrivacySetting)
    again = structure(loads(body), PrivacySetting)
    assert again.privacy_desc == first.privacy_desc
    data = json.loads(body)
    data["privacy_desc"]["privacy_desc_list"][0]["privacy_desc"] = "changed"
    changed = structure(data, PrivacySetting)
    assert descs(changed)[0][1] == "changed"
    assert descs(changed)[1:] == descs(first)[1:]


def test_mutating_the_decoded_input_afterwards_never_leaks_into_later_results() -> None:
    body = fixture_bytes("getprivacysetting_full.json")
    data = loads(body)
    original = descs(structure(data, PrivacySetting))
    data["privacy_desc"]["privacy_desc_list"][0]["privacy_desc"] = "mutated later"
    # the remembered copy is the list as it was structured, so an equal body still matches it
    assert descs(structure(loads(body), PrivacySetting)) == original
    assert descs(structure(data, PrivacySetting))[0][1] == "mutated later"


def test_mixed_case_catalogue_equals_the_canonical_one() -> None:
    canonical = structure(loads(fixture_bytes("getprivacysetting_full.json")), PrivacySetting)
    for _ in range(2):  # built, then remembered
        mixed = structure(loads(fixture_bytes("getprivacysetting_mixed_case.json")), PrivacySetting)
        assert descs(mixed) == descs(canonical)


def test_a_list_is_remembered_the_second_time_in_a_row_it_is_seen() -> None:
    body = fixture_bytes("getprivacysetting_full.json")
    other = json.loads(body)
    other["privacy_desc"]["privacy_desc_list"][0]["privacy_key"] = "Other"
    for _ in range(2):  # whatever was remembered before, now it is this other catalogue
        structure(other, PrivacySetting)
    first, second, third, fourth = (structure(loads(body), PrivacySetting) for _ in range(4))
    descs_ = [s.privacy_desc for s in (first, second, third, fourth)]
    assert all(d is not None and d == descs_[0] for d in descs_)
    # remembered as a list at the second sighting: from then on the list is not built item by
    # item, and the privacy_desc holding it (nothing else in it) is shared too
    assert third.privacy_desc is not None and fourth.privacy_desc is not None
    assert fourth.privacy_desc.privacy_desc_list is third.privacy_desc.privacy_desc_list
    assert fourth.privacy_desc is third.privacy_desc


def test_a_privacy_desc_with_more_than_the_catalogue_is_its_own() -> None:
    body = fixture_bytes("getprivacysetting_full.json")
    for _ in range(3):
        plain = structure(loads(body), PrivacySetting)
    data = json.loads(body)
    data["privacy_desc"]["note"] = "an unknown key"
    extra = structure(data, PrivacySetting)
    assert extra.privacy_desc is not None and plain.privacy_desc is not None
    assert extra.privacy_desc is not plain.privacy_desc
    assert extra.privacy_desc.extras == {"note": "an unknown key"}
    assert extra.privacy_desc.privacy_desc_list is plain.privacy_desc.privacy_desc_list
    assert structure(loads(body), PrivacySetting).privacy_desc == plain.privacy_desc


def test_lists_that_differ_each_time_build_right_and_are_never_shared() -> None:
    body = fixture_bytes("getprivacysetting_full.json")
    results = []
    for index in range(6):
        data = json.loads(body)
        data["privacy_desc"]["privacy_desc_list"][0]["privacy_desc"] = f"text {index % 2}"
        results.append(descs(structure(data, PrivacySetting))[0][1])
    assert results == ["text 0", "text 1"] * 3


def _with_spellings(first: str, second: str, n: int = 6) -> dict[str, object]:
    items = [
        {first: f"{first}{i}", second: f"{second}{i}", "privacy_desc": f"d{i}"} for i in range(n)
    ]
    return {"errcode": 0, "privacy_desc": {"privacy_desc_list": items}}


def test_two_spellings_of_one_key_give_the_same_result_whatever_came_before() -> None:
    """Regression (trial of issue 10): list equality ignores key order but folding two
    spellings of privacy_key keeps the first, so a reordered list got the earlier list's
    instances: the result depended on the answers before it."""
    alone = structure(_with_spellings("PRIVACY_KEY", "Privacy_Key"), PrivacySetting)
    for _ in range(3):  # remembered if it ever could be
        structure(_with_spellings("Privacy_Key", "PRIVACY_KEY"), PrivacySetting)
    after = structure(_with_spellings("PRIVACY_KEY", "Privacy_Key"), PrivacySetting)
    assert after == alone
    assert descs(after) == descs(alone)


# ------------------------------------------------------------------ shared string records

_KEYS = ("privacy_key", "privacy_text", "privacy_label", "Privacy_Text", "note")
_TEXTS = st.sampled_from(["", "Location", "查找附近门店", "手机号"])
_VALUES = st.one_of(_TEXTS, st.none(), st.sampled_from([1, True, 1.0]))  # 1 == True == 1.0
_RECORDS = st.lists(
    st.dictionaries(st.sampled_from(_KEYS), _VALUES, min_size=1, max_size=4), max_size=12
)
_REFERENCE = build_converter(fast=False)


def _built(converter: Any, record: dict[str, Any]) -> SettingItem | str:
    try:
        return cast(SettingItem, converter.structure(record, SettingItem))
    except ResponseFormatError:
        return "error"  # with several faults, the one named may differ (see the changelog)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(history=_RECORDS, records=_RECORDS)
def test_setting_items_equal_the_reference_whatever_came_before(
    history: list[dict[str, Any]], records: list[dict[str, Any]]
) -> None:
    """Records drawn from a few values, so they repeat: a shared instance is only ever given
    for a record equal to the one it was built from (nulls, absent keys, other spellings,
    unknown keys and non-strings included), and the result never depends on earlier ones."""
    for record in history:
        _built(converter, record)
    for record in records:
        assert _built(converter, record) == _built(_REFERENCE, record)


def test_equal_records_share_one_instance_and_others_do_not() -> None:
    record = {
        "privacy_key": "Location",
        "privacy_text": "查找附近门店",
        "privacy_label": "位置信息",
    }
    first = structure(dict(record), SettingItem)
    assert structure(dict(record), SettingItem) is first
    # null means the default: an equal instance (built, not looked up: only strings are)
    absent = structure({"privacy_key": "X"}, SettingItem)
    assert structure({"privacy_key": "X"}, SettingItem) is absent
    assert structure({"privacy_key": "X", "privacy_text": None}, SettingItem) == absent
    unknown = structure({**record, "note": "kept"}, SettingItem)
    assert unknown.extras == {"note": "kept"} and unknown is not first
    assert structure({**record, "note": "kept"}, SettingItem) is not unknown  # never shared
    spelled = structure({"Privacy_Key": "Location", "privacy_text": "附近门店"}, SettingItem)
    assert spelled.privacy_key == "Location" and spelled.privacy_label == ""
    # another spelling of each key is the same record once folded: shared too
    canonical = structure({"privacy_key": "Location", "privacy_text": "附近门店"}, SettingItem)
    assert spelled is canonical
    twice = {"privacy_key": "Location", "Privacy_Key": "Other"}  # one field spelled twice
    assert structure(twice, SettingItem).extras == {"Privacy_Key": "Other"}
    # inside an answer too: the items of two answers are the same objects
    body = fixture_bytes("getprivacysetting_full.json")
    one, two = (structure(loads(body), PrivacySetting) for _ in range(2))
    assert all(a is b for a, b in zip(one.setting_list, two.setting_list, strict=True))


def test_the_shared_records_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most _INTERNED_MAX records per model: the table starts over when full, so a fleet
    of distinct texts never grows it without end."""
    monkeypatch.setattr(_converter, "_INTERNED_MAX", 3)
    first = structure({"privacy_key": "bounded-0"}, SettingItem)
    for index in range(1, 3):
        structure({"privacy_key": f"bounded-{index}"}, SettingItem)
    assert structure({"privacy_key": "bounded-0"}, SettingItem) is first  # 3 remembered
    structure({"privacy_key": "bounded-3"}, SettingItem)  # the fourth: the table starts over
    again = structure({"privacy_key": "bounded-0"}, SettingItem)
    assert again == first and again is not first


@pytest.mark.parametrize("first", [1, True, 1.0, None, "1"])
@pytest.mark.parametrize("then", [1, True, 1.0, None, "1"])
def test_values_equal_across_types_never_share_a_record(first: Any, then: Any) -> None:
    """1 == True == 1.0 (and hash alike), but only 1 becomes "1": a record is shared only when
    it was built from strings, so what one answer held never decides another's result."""
    for value in (first, then):
        record = {"privacy_key": "types", "privacy_text": value}
        assert _built(converter, record) == _built(_REFERENCE, record)


def _answer(items: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    return {"errcode": 0, "privacy_list": keys, "setting_list": items}


def test_equal_tuples_are_shared_and_tuples_of_new_items_are_their_own() -> None:
    def keys() -> list[str]:  # new string objects each time, as a parser gives
        return ["".join(["Loca", "tion"]), "".join(["Cam", "era"])]

    items = [{"privacy_key": "Location", "privacy_text": "门店"}, {"privacy_key": "Camera"}]
    one = structure(_answer(items, keys()), PrivacySetting)
    two = structure(_answer([dict(i) for i in items], keys()), PrivacySetting)
    assert two.privacy_list is one.privacy_list and two.setting_list is one.setting_list
    # an item holding a mutable value of its own (in extras) is never shared, nor its tuple
    mutable = [{"privacy_key": "Location", "note": ["a"]}]
    first, second = (
        structure(_answer(json.loads(json.dumps(mutable)), []), PrivacySetting) for _ in range(2)
    )
    assert first.setting_list is not second.setting_list
    first.setting_list[0].extras["note"].append("changed by one answer")
    assert second.setting_list[0].extras["note"] == ["a"]
    # items with an unknown key are built anew each time: their tuples are never another's,
    # even as the earlier items die and their memory (and ids) are reused
    seen = []
    for index in range(200):
        odd = [{"privacy_key": "Location", "note": index}, {"privacy_key": "Camera"}]
        got = structure(_answer(odd, []), PrivacySetting)
        assert [i.extras for i in got.setting_list] == [{"note": index}, {}]
        assert got.setting_list is not one.setting_list
        seen.append(got.setting_list[0].extras["note"])
    assert seen == list(range(200))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    answers=st.lists(
        st.tuples(_RECORDS, st.lists(st.one_of(_TEXTS, st.just(7)), max_size=3)), max_size=6
    )
)
def test_answers_equal_the_reference_whatever_came_before(
    answers: list[tuple[list[dict[str, Any]], list[Any]]],
) -> None:
    """Answers from a few values (so items and tuples repeat): each equals the reference
    converter's, or fails at the same field, whatever answers came before it."""
    for items, keys in answers:
        body = _answer(items, keys)
        assert _built_setting(converter, body) == _built_setting(_REFERENCE, body)


def _built_setting(conv: Any, body: dict[str, Any]) -> PrivacySetting | str:
    try:
        return cast(PrivacySetting, conv.structure(body, PrivacySetting))
    except ResponseFormatError:
        return "error"  # with several faults, the one named may differ (see the changelog)


_SDK_ENTRIES = st.lists(
    st.fixed_dictionaries(
        {"sdk_name": _TEXTS, "sdk_list": _RECORDS},
        optional={"sdk_biz_name": _VALUES, "note": st.just(["mutable"])},
    ),
    max_size=3,
)


def test_equal_sdk_entries_share_one_instance_and_their_tuple() -> None:
    entry = {"sdk_name": "map", "sdk_biz_name": "地图", "sdk_list": [{"privacy_key": "Location"}]}
    one, two = (
        structure({"sdk_privacy_info_list": [json.loads(json.dumps(entry))]}, PrivacySetting)
        for _ in range(2)
    )
    assert two.sdk_privacy_info_list is one.sdk_privacy_info_list
    assert two.sdk_privacy_info_list[0] is one.sdk_privacy_info_list[0]
    other = structure({"sdk_privacy_info_list": [{**entry, "sdk_name": "pay"}]}, PrivacySetting)
    assert other.sdk_privacy_info_list[0].sdk_name == "pay"
    # an entry with a value of its own (extras) is its own, as is its tuple
    odd = [{**entry, "note": ["a"]}]
    first, second = (
        structure({"sdk_privacy_info_list": json.loads(json.dumps(odd))}, PrivacySetting)
        for _ in range(2)
    )
    assert first.sdk_privacy_info_list[0] is not second.sdk_privacy_info_list[0]
    first.sdk_privacy_info_list[0].extras["note"].append("changed by one answer")
    assert second.sdk_privacy_info_list[0].extras["note"] == ["a"]
    # so is an entry whose items hold values of their own: equal, but never the same
    deep = [{**entry, "sdk_list": [{"privacy_key": "Location", "note": ["a"]}]}]
    first, second = (
        structure({"sdk_privacy_info_list": json.loads(json.dumps(deep))}, PrivacySetting)
        for _ in range(2)
    )
    assert first.sdk_privacy_info_list[0] == second.sdk_privacy_info_list[0]
    assert first.sdk_privacy_info_list[0] is not second.sdk_privacy_info_list[0]
    first.sdk_privacy_info_list[0].sdk_list[0].extras["note"].append("changed")
    assert second.sdk_privacy_info_list[0].sdk_list[0].extras["note"] == ["a"]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(answers=st.lists(_SDK_ENTRIES, max_size=6))
def test_sdk_entries_equal_the_reference_whatever_came_before(
    answers: list[list[dict[str, Any]]],
) -> None:
    for entries in answers:
        body = {"errcode": 0, "sdk_privacy_info_list": entries}
        assert _built_setting(converter, body) == _built_setting(_REFERENCE, body)


# --------------------------------------- regressions of a fresh trial of the shared records


@attrs.frozen
class _Ext:  # a caller's model: WeChat sends some JSON inside a string (ext_json)
    appid: str
    ext_json: str = attrs.field(default="{}", converter=json.loads)


@attrs.frozen(eq=False)
class _Ident:  # a caller's model compared by identity
    name: str


@attrs.frozen
class _Item:
    k: str


@attrs.frozen
class _Page:  # strings and a tuple of records: what the SDK's keyed share would take
    ext_json: str = attrs.field(converter=json.loads)
    items: tuple[_Item, ...] = ()


@attrs.frozen
class _Outer:
    name: str
    items: tuple[_Item, ...] = ()


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (_Ext, {"appid": "wx1", "ext_json": '{"pages": ["a"]}'}),
        (_Ident, {"name": "n"}),
        (_Page, {"ext_json": '{"a": 1}', "items": [{"k": "x"}]}),
        (_Outer, {"name": "n", "items": [{"k": "a"}]}),
        (_Item, {"k": "a"}),
    ],
)
def test_a_callers_models_are_never_shared(model: type, data: dict[str, Any]) -> None:
    """Regression (trial): a caller's frozen model with a converter on a str field was shared
    across answers (one caller's change seen in the other answer), or failed with a bare
    TypeError (an unhashable converted value in the keyed share's key); an ``eq=False`` model's
    instances became one. A caller's model may convert or compare as it likes: never shared."""
    first = structure(json.loads(json.dumps(data)), model)
    second = structure(json.loads(json.dumps(data)), model)
    assert first is not second
    assert first == _REFERENCE.structure(json.loads(json.dumps(data)), model) or model is _Ident
    if model is _Ext:
        first.ext_json["pages"].append("changed by the first caller")
        assert second.ext_json == {"pages": ["a"]}


class _Str(str):
    pass


def test_a_str_subclass_is_refused_whatever_came_before() -> None:
    """Regression (trial): a record of str subclasses got the shared instance of an equal
    record of plain strings once one had been seen (the reference refuses it)."""
    structure({"privacy_key": "Loc"}, SettingItem)
    structure({"setting_list": [{"privacy_key": "Cam"}]}, PrivacySetting)
    with pytest.raises(ResponseFormatError) as info:
        structure({"privacy_key": _Str("Loc")}, SettingItem)
    assert info.value.field_path == "privacy_key"
    # named as what it is (was "expected a string, got string 'Loc'": trial of issue 10)
    assert "_Str (a str subclass) 'Loc'" in str(info.value)
    with pytest.raises(ResponseFormatError) as info:
        structure({"setting_list": [{"privacy_key": _Str("Cam")}]}, PrivacySetting)
    assert info.value.field_path == "setting_list[0].privacy_key"


# ------------------------------------- a list of usual records built in one loop (issue 10)

_USUAL = st.fixed_dictionaries(
    {"privacy_key": _TEXTS, "privacy_text": _TEXTS, "privacy_label": _TEXTS}
)
#: Mostly usual records (every field, plain strings: the loop's case), now and then another.
_MOSTLY_USUAL = st.lists(
    st.one_of(_USUAL, _USUAL, _USUAL, _RECORDS.map(lambda r: r[0] if r else {})), max_size=8
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(history=st.lists(_MOSTLY_USUAL, max_size=4), lists=st.lists(_MOSTLY_USUAL, max_size=4))
def test_lists_of_usual_records_equal_the_reference_and_share_items(
    history: list[list[dict[str, Any]]], lists: list[list[dict[str, Any]]]
) -> None:
    """The loop over a list whose every item is a usual record, and the item-by-item way for
    any other list: the same answer as the reference, whatever came before; a usual record is
    the very instance its record gives alone, in an equal list too."""
    for items in history:
        _built_setting(converter, _answer(json.loads(json.dumps(items)), []))
    for items in lists:
        body = _answer(json.loads(json.dumps(items)), [])
        got = _built_setting(converter, body)
        assert got == _built_setting(_REFERENCE, _answer(json.loads(json.dumps(items)), []))
        if isinstance(got, str):
            continue
        usual = [_is_usual(item) for item in items]
        for item, built, alone in zip(items, got.setting_list, usual, strict=True):
            if alone:
                assert structure(dict(item), SettingItem) is built
        again = structure(_answer(json.loads(json.dumps(items)), []), PrivacySetting)
        if all(usual):  # the same items (the tuple too, but when the remembered list builds)
            assert all(a is b for a, b in zip(again.setting_list, got.setting_list, strict=True))


def _is_usual(item: dict[str, Any]) -> bool:
    fields = {"privacy_key", "privacy_text", "privacy_label"}
    return item.keys() == fields and all(type(v) is str for v in item.values())


@pytest.mark.parametrize("bad_at", range(5))
def test_a_bad_item_after_usual_records_is_named_by_its_index(bad_at: int) -> None:
    """Regression guard for the loop: it leaves a list at the first item that is not a usual
    record; the item-by-item way then names that item (every position of the bad item)."""
    usual = {"privacy_key": "Location", "privacy_text": "门店", "privacy_label": "位置"}
    items: list[Any] = [dict(usual) for _ in range(5)]
    items[bad_at] = {"privacy_key": ["not", "a", "string"], "privacy_text": "", "privacy_label": ""}
    with pytest.raises(ResponseFormatError) as info:
        structure(_answer(items, []), PrivacySetting)
    assert info.value.field_path == f"setting_list[{bad_at}].privacy_key"
    items[bad_at] = dict(usual, privacy_key=_Str("Location"))
    with pytest.raises(ResponseFormatError) as info:
        structure(_answer(items, []), PrivacySetting)
    assert info.value.field_path == f"setting_list[{bad_at}].privacy_key"
    items[bad_at] = dict(usual, privacy_label=None)  # null: the default, built, not shared
    got = structure(_answer(items, []), PrivacySetting)
    assert got.setting_list[bad_at] == SettingItem(privacy_key="Location", privacy_text="门店")
    assert [i.privacy_label for i in got.setting_list].count("") == 1


def test_a_model_of_the_sdk_with_no_field_but_extras_structures() -> None:
    """Regression (review): the generated record check had no condition to write for a model
    with no field but ``extras`` (a SyntaxError when its hook was built)."""
    from wxprivacy.models import _extras_field

    @attrs.frozen(kw_only=True)
    class _OnlyExtras:
        extras: Any = _extras_field()

    _OnlyExtras.__module__ = "wxprivacy.models"  # shared like the SDK's own models
    conv = build_converter()
    assert conv.structure({"note": 1}, _OnlyExtras).extras == {"note": 1}
    assert conv.structure({}, _OnlyExtras).extras == {}
