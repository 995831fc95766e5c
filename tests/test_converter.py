"""The converter reads the wire rules the models declare; its fast paths equal the reference.

The property tests build JSON for a model from its declaration (random subsets of fields present,
absent or null, lists of 0 to 10 items, unknown keys, odd-case spellings) and check that the
fast converter, the converter without fast paths and a plain constructor-based reference written
here all give the same model, and that no default is ever an ``attrs.Factory`` object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wxprivacy import ResponseFormatError, models
from wxprivacy._coerce import (
    EXTRAS,
    FLAG,
    NON_EMPTY,
    NON_NEGATIVE,
    UNIX_SECONDS,
    UNIX_SECONDS_OR_NONE,
    ResponseBody,
    int_in,
    optional_int_in,
    required_int_in,
    rule_of,
    str_in,
    str_tuple_in,
    wire,
)
from wxprivacy._converter import (
    Send,
    build_converter,
    converter,
    structure,
    unstructure,
    unstructure_request,
)
from wxprivacy._privacy_validate import (
    SET_PRIVACY_FIELDS,
    SET_PRIVACY_LIVE_FIELDS,
    SetPrivacySetting,
)
from wxprivacy.models import EMPTY_EXTRAS

FACTORY: Any = type(attrs.Factory(str))
UNKNOWN = "zz_unknown"  # no model has a field that folds to it


def _extras() -> Any:
    return attrs.field(default=EMPTY_EXTRAS, repr=False, hash=False, metadata=wire(EXTRAS))


# ----------------------------------------------------------------------------- models with
# defaults of every kind; none needs a line anywhere but here to be converted


@attrs.frozen(kw_only=True)
class FactoryDescItem:
    """PrivacyDescItem with the default of the reported defect: ``Factory(str)``."""

    privacy_key: str
    privacy_desc: str = attrs.field(factory=str)
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class FactoryDesc:
    privacy_desc_list: tuple[FactoryDescItem, ...] = attrs.field(
        default=(), metadata=wire(bare_list=True)
    )
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class SelfItem:
    """A default computed from another field (``takes_self``)."""

    privacy_key: str
    privacy_desc: str = attrs.field(
        default=attrs.Factory(lambda self: self.privacy_key.lower(), takes_self=True)
    )
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class PlainItem:
    """A plain default that is not the empty value of its type."""

    privacy_key: str = "无"
    privacy_desc: str = "未填写"
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True, slots=False)
class DictItem:
    """A dict class (not slotted) with a factory default: the fast path builds it too."""

    privacy_key: str
    privacy_desc: str = attrs.field(factory=lambda: "默认")
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class Catalogue(ResponseBody):
    """A response body with lists of each kind and defaults of each kind at the top."""

    factory_list: tuple[FactoryDescItem, ...] = ()
    self_list: tuple[SelfItem, ...] = attrs.field(factory=tuple)
    plain_list: tuple[PlainItem, ...] = ()
    dict_list: tuple[DictItem, ...] = ()
    desc: FactoryDesc | None = attrs.field(factory=lambda: FactoryDesc())
    flag: bool = attrs.field(default=True, metadata=wire(FLAG))
    when: dt.datetime | None = attrs.field(default=None, metadata=wire(UNIX_SECONDS))
    count: int = 7
    region: int | None = attrs.field(default=attrs.Factory(lambda: 1017))
    tags: tuple[str, ...] = attrs.field(factory=lambda: ("默认",))
    note: str = attrs.field(default=attrs.Factory(lambda self: f"{self.count} 项", takes_self=True))
    extras: Mapping[str, Any] = _extras()


def _all_models() -> list[type]:
    found = [getattr(models, name) for name in models.__all__]
    return [cls for cls in found if attrs.has(cls)]


MODELS = _all_models()
LOCAL_MODELS = [FactoryDescItem, FactoryDesc, SelfItem, PlainItem, DictItem, Catalogue]
REFERENCE = build_converter(fast=False)


# ----------------------------------------------------------------------------- JSON from a model


def _fields(cls: type) -> list[attrs.Attribute[Any]]:
    attrs.resolve_types(cls)
    return [f for f in attrs.fields(cls) if not rule_of(f).extras]


def _optional_of(typ: Any) -> Any:
    args = getattr(typ, "__args__", ())
    if len(args) == 2 and type(None) in args:
        return args[0] if args[1] is type(None) else args[1]
    return None


def _item_model(typ: Any) -> Any:
    args = getattr(typ, "__args__", ())
    if getattr(typ, "__origin__", None) is tuple and len(args) == 2 and attrs.has(args[0]):
        return args[0]
    return None


_TEXT = st.text(max_size=6)
_DIGITS = st.integers(0, 10**12).map(str)
# Mostly strings: lists of all-string records are what the whole-list fast path takes.
_MOSTLY_TEXT = st.one_of(_TEXT, _TEXT, _TEXT, st.integers(0, 10**15))


def _value(field: attrs.Attribute[Any], depth: int) -> st.SearchStrategy[Any]:
    """JSON the field's rule accepts."""
    rule, typ = rule_of(field), field.type
    required = field.default is attrs.NOTHING
    if rule == FLAG:
        return st.sampled_from([0, 1, True, False, "0", "1", "true", "FALSE"])
    if rule == UNIX_SECONDS:
        return st.integers(0, 4_000_000_000) | st.integers(0, 4_000_000_000).map(str) | st.just("")
    if rule == NON_EMPTY:
        return st.text(min_size=1, max_size=6) | st.integers(0, 10**9)
    if rule == NON_NEGATIVE:
        return st.integers(0, 10**6) | st.integers(0, 10**6).map(str)
    if rule == UNIX_SECONDS_OR_NONE:
        return st.integers(-5, 10**9) | _TEXT | st.floats(allow_nan=False) | _DIGITS
    if rule.structure is not None:  # a rule of the model's own (the credential rule)
        return _TEXT | st.sampled_from(["", " ", "\t\n"]) | st.integers(0, 9)
    if typ is str:
        return _MOSTLY_TEXT
    if typ is int:
        plain = st.integers(-(10**6), 10**6) | st.integers(0, 10**6).map(str)
        return plain if required else plain | st.just("")
    if typ == (int | None):
        return st.integers(-(10**6), 10**6) | _DIGITS | st.just("") | st.just(" 1040 ")
    if typ == tuple[str, ...]:
        return st.lists(_TEXT | st.integers(0, 99), max_size=10)
    item = _item_model(typ)
    if item is not None:
        return st.lists(_object(item, depth + 1), max_size=10)
    inner = _optional_of(typ)
    if inner is not None and attrs.has(inner):
        bare = [f for f in _fields(inner) if rule_of(f).bare_list]
        obj = _object(inner, depth + 1)
        return obj | _value(bare[0], depth + 1) if bare else obj
    raise AssertionError(f"no strategy for {field.name}: {typ!r}; add one")


def _object(cls: type, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object for ``cls``: required fields present, the others present, absent or null."""
    required: dict[str, Any] = {}
    optional: dict[str, Any] = {}
    for field in _fields(cls):
        value = st.deferred(lambda field=field: _value(field, depth))
        if field.default is attrs.NOTHING:
            required[field.name] = value
        else:
            optional[field.name] = st.none() | value
    optional[UNKNOWN] = st.one_of(_TEXT, _TEXT, st.none(), st.lists(st.integers(), max_size=2))
    if issubclass(cls, ResponseBody):
        optional["errcode"] = st.just(0)
        optional["errmsg"] = st.just("ok")
    return st.fixed_dictionaries(required, optional=optional)


# ----------------------------------------------------------------------------- the reference


def _scalar_hook(field: attrs.Attribute[Any]) -> Callable[[Any, Any], Any] | None:
    rule, typ = rule_of(field), field.type
    if rule.structure is not None:
        return rule.structure
    if typ is int:
        return int_in if field.default is not attrs.NOTHING else required_int_in
    hooks: dict[Any, Callable[[Any, Any], Any]] = {
        str: str_in,
        int | None: optional_int_in,
        tuple[str, ...]: str_tuple_in,
    }
    return hooks.get(typ)


def reference(cls: type, obj: Any) -> Any:
    """Structure canonical-key JSON with nothing but the constructor and the value hooks."""
    fields = {f.name: f for f in _fields(cls)}
    if not isinstance(obj, dict):  # a bare list for the model's bare_list field
        (name,) = [n for n, f in fields.items() if rule_of(f).bare_list]
        obj = {name: obj}
    kwargs: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    for key, value in obj.items():
        field = fields.get(key)
        if field is None:
            if not (issubclass(cls, ResponseBody) and key in cls.envelope):
                extras[key] = value
            continue
        if value is None and field.default is not attrs.NOTHING:
            continue  # the constructor applies the default
        hook = _scalar_hook(field)
        if hook is not None:
            kwargs[key] = hook(value, None)
        elif (item := _item_model(field.type)) is not None:
            kwargs[key] = tuple(reference(item, sub) for sub in value)
        else:
            kwargs[key] = reference(_optional_of(field.type), value)
    if extras:
        kwargs["extras"] = extras
    return cls(**kwargs)


def _odd(cls: type, obj: Any, spell: Callable[[str], str]) -> Any:
    """The same JSON with every known key spelled another way (case, white space, alias)."""
    fields = {f.name: f for f in _fields(cls)}
    if not isinstance(obj, dict):
        (bare,) = [f for f in fields.values() if rule_of(f).bare_list]
        return [_odd(_item_model(bare.type), sub, spell) for sub in obj]
    out: dict[str, Any] = {}
    for key, value in obj.items():
        field = fields.get(key)
        if field is None:
            out[key if key == UNKNOWN else spell(key)] = value
            continue
        aliases = rule_of(field).aliases
        name = spell(aliases[0] if aliases and spell("x") != "x" else key)
        if value is not None and (item := _item_model(field.type)) is not None:
            value = [_odd(item, sub, spell) for sub in value]
        elif value is not None and attrs.has(inner := _optional_of(field.type) or type(None)):
            value = _odd(inner, value, spell)
        out[name] = value
    return out


def assert_no_factory(value: Any) -> None:
    """No attribute anywhere in the model tree is an ``attrs.Factory`` object."""
    if isinstance(value, tuple):
        for item in value:
            assert_no_factory(item)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            inner = getattr(value, field.name)
            assert not isinstance(inner, FACTORY), (type(value).__name__, field.name)
            assert_no_factory(inner)


SPELLINGS: list[Callable[[str], str]] = [
    str.upper,
    str.title,
    lambda key: f" {key}\t",
    lambda key: key[:1].upper() + key[1:],
]


@pytest.mark.parametrize("cls", MODELS + LOCAL_MODELS, ids=lambda cls: cls.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_equals_the_reference(cls: type, data: st.DataObject) -> None:
    obj = data.draw(_object(cls))
    expected = reference(cls, obj)
    fast = structure(obj, cls)
    assert fast == expected
    assert REFERENCE.structure(obj, cls) == expected
    assert_no_factory(fast)
    again = structure(obj, cls)  # a remembered list gives the same result
    assert again == expected
    odd = _odd(cls, obj, data.draw(st.sampled_from(SPELLINGS)))
    assert structure(odd, cls) == expected
    assert REFERENCE.structure(odd, cls) == expected


@pytest.mark.parametrize("cls", MODELS + LOCAL_MODELS, ids=lambda cls: cls.__name__)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_lists_of_every_length_build_like_the_constructor(cls: type, data: st.DataObject) -> None:
    lists = [f for f in _fields(cls) if _item_model(f.type) is not None]
    if not lists:
        return
    field = data.draw(st.sampled_from(lists))
    item = _item_model(field.type)
    size = data.draw(st.integers(0, 10))
    items = [data.draw(_object(item)) for _ in range(size)]
    base = data.draw(_object(cls))
    base[field.name] = items
    result = structure(base, cls)
    assert result == reference(cls, base)
    built = getattr(result, field.name)
    assert len(built) == size and all(type(x) is item for x in built)
    assert_no_factory(result)


# ----------------------------------------------------------------------------- the defect


def test_a_factory_default_in_a_five_item_list_is_a_value() -> None:
    # The reported case: privacy_desc with a Factory(str) default, and a privacy_desc_list long
    # enough for the whole-list fast path, which used to store the Factory object itself.
    for size in (5, 2):
        raw = {"privacy_desc_list": [{"privacy_key": f"K{i}"} for i in range(size)]}
        desc = structure(raw, FactoryDesc)
        assert [item.privacy_desc for item in desc.privacy_desc_list] == [""] * size
        assert all(type(item.privacy_desc) is str for item in desc.privacy_desc_list)
        assert desc == FactoryDesc(
            privacy_desc_list=tuple(FactoryDescItem(privacy_key=f"K{i}") for i in range(size))
        )


def test_takes_self_and_plain_defaults_in_long_lists() -> None:
    raw = [{"privacy_key": f"Key{i}"} for i in range(6)]
    built = structure({"self_list": raw, "plain_list": [{}] * 6}, Catalogue)
    assert [i.privacy_desc for i in built.self_list] == [f"key{i}" for i in range(6)]
    assert built.plain_list == (PlainItem(),) * 6
    assert built.note == "7 项" and built.region == 1017 and built.tags == ("默认",)
    nulls = structure({"count": None, "region": None, "note": None, "desc": None}, Catalogue)
    assert nulls == Catalogue()


# ----------------------------------------------------------------------------- declarations


def test_a_new_model_needs_nothing_but_its_declaration() -> None:
    @attrs.frozen(kw_only=True)
    class Answer(ResponseBody):
        done: bool = attrs.field(default=False, metadata=wire(FLAG))
        nick: str = attrs.field(default="", metadata=wire(aliases=("nick_Name",)))
        extras: Mapping[str, Any] = _extras()

    answer = structure({"ErrCode": 0, "DONE": "1", "nick_name": "x", "more": 1}, Answer)
    assert answer == Answer(done=True, nick="x", extras={"more": 1})
    assert unstructure(answer) == {"done": 1, "nick": "x", "more": 1}


@attrs.frozen(kw_only=True)
class Converted:
    """A converter on a field with a value and a default, and one with a factory default."""

    privacy_key: str = attrs.field(default="x", converter=str.upper)
    privacy_desc: str = attrs.field(factory=lambda: "d", converter=str.upper)
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class Validated:
    privacy_key: str = attrs.field(default="", validator=attrs.validators.max_len(3))
    extras: Mapping[str, Any] = _extras()


@attrs.define(kw_only=True)
class PostInit:
    privacy_key: str = ""
    seen: list[str] = attrs.field(factory=list, metadata=wire(structure=lambda v, _: v))
    extras: Mapping[str, Any] = _extras()

    def __attrs_post_init__(self) -> None:
        self.seen.append(self.privacy_key)


def test_the_generated_constructor_does_what_the_attrs_constructor_does() -> None:
    # converters run on values and on defaults (plain and factory), as in __init__
    assert structure({"privacy_key": "ab", "privacy_desc": "cd"}, Converted) == Converted(
        privacy_key="ab", privacy_desc="cd"
    )
    built = structure({}, Converted)
    assert (built.privacy_key, built.privacy_desc) == ("X", "D")
    assert built == Converted()
    # a validator or __attrs_post_init__: the constructor itself runs (cattrs' function)
    assert structure({"privacy_key": "abc"}, Validated) == Validated(privacy_key="abc")
    with pytest.raises(ValueError, match="Length of"):
        structure({"privacy_key": "abcd"}, Validated)
    assert structure({"privacy_key": "k"}, PostInit).seen == ["k"]
    # a required key that is missing, and a wrong type, are named as before
    with pytest.raises(ResponseFormatError) as info:
        structure({"privacy_desc": "x"}, FactoryDescItem)
    assert info.value.field_path == "privacy_key"
    with pytest.raises(ResponseFormatError) as info:
        structure({"privacy_key": ["x"]}, PlainItem)
    assert info.value.field_path == "privacy_key"


def test_a_field_without_a_rule_for_its_type_is_refused_when_first_used() -> None:
    @attrs.frozen
    class Odd:
        flag: bool = False

    Odd.__module__ = "wxprivacy.models"  # an SDK model must state its wire rules
    with pytest.raises(TypeError, match=r"Odd\.flag: no wire rule"):
        converter.get_structure_hook(Odd)


@attrs.frozen
class Inner:
    count: int


@attrs.frozen
class Mine:  # a caller's class, as ComponentClient.call(model=...) receives
    flag: bool
    names: list[str]
    inner: Inner
    extra: dict[str, int] = attrs.Factory(dict)


def test_a_callers_model_gets_cattrs_rules_and_typed_refusals() -> None:
    data = {"FLAG": True, "Names": ["a"], "INNER": {"Count": 2}, "extra": {"x": 1}}
    assert structure(data, Mine) == Mine(True, ["a"], Inner(2), {"x": 1})
    with pytest.raises(ResponseFormatError) as info:
        structure({"flag": True, "names": [], "inner": {"count": "many"}}, Mine)
    assert info.value.field_path == "inner.count"


def test_every_model_is_slotted_and_states_its_extras_by_rule() -> None:
    for cls in MODELS:
        assert attrs.inspect(cls).is_slotted, cls
        extras = [f.name for f in attrs.fields(cls) if rule_of(f).extras]
        assert extras == ["extras"], cls


def test_errors_keep_naming_the_field_path() -> None:
    raw = {"privacy_desc_list": [{"privacy_key": "a"}] * 4 + [{"privacy_key": 1.5}]}
    with pytest.raises(ResponseFormatError) as info:
        structure(raw, FactoryDesc)
    assert info.value.field_path == "privacy_desc_list[4].privacy_key"
    with pytest.raises(ResponseFormatError) as info:
        structure({"self_list": [{"privacy_key": "a"}, {"privacy_desc": "x"}]}, Catalogue)
    assert info.value.field_path == "self_list[1].privacy_key"
    assert "required key is missing" in str(info.value)


# ----------------------------------------------------------------------------- request bodies


def test_request_bodies_are_unstructure_kept_to_the_listed_fields() -> None:
    owner = models.OwnerSetting(
        contact_qq="1",
        notice_method="弹窗",
        store_region=0,
        extras={"contact_WeChat": "wx", "contact_phone": "never"},
    )
    item = models.SettingItem(privacy_key="k", privacy_text="t", privacy_label="标签")
    request = SetPrivacySetting(privacy_ver=2, owner_setting=owner, setting_list=(item,))
    body = unstructure_request(request, SET_PRIVACY_FIELDS)
    assert list(body) == ["privacy_ver", "owner_setting", "setting_list"]
    assert body["owner_setting"] == {
        "contact_phone": "",
        "contact_email": "",
        "contact_qq": "1",
        "contact_weixin": "",
        "notice_method": "弹窗",
        "store_expire_timestamp": "",
    }
    assert body["setting_list"] == [{"privacy_key": "k", "privacy_text": "t"}]
    live = unstructure_request(attrs.evolve(request, setting_list=()), SET_PRIVACY_LIVE_FIELDS)
    assert list(live) == ["privacy_ver", "owner_setting"]
    region = attrs.evolve(owner, store_region=1017, ext_file_media_id="m")
    assert unstructure_request(attrs.evolve(request, owner_setting=region), SET_PRIVACY_FIELDS)[
        "owner_setting"
    ] == {**body["owner_setting"], "ext_file_media_id": "m", "store_region": 1017}


def test_a_model_missing_from_the_field_list_is_refused() -> None:
    owner = models.OwnerSetting(contact_qq="1", notice_method="n")
    request = SetPrivacySetting(
        privacy_ver=2, owner_setting=owner, sdk_privacy_info_list=(models.SdkPrivacyInfo(),)
    )
    fields = {SetPrivacySetting: Send(("privacy_ver", "sdk_privacy_info_list"))}
    with pytest.raises(TypeError, match="SdkPrivacyInfo is not part of this request"):
        unstructure_request(request, fields)
    # a field the request does not list is not written, whatever it holds
    assert list(unstructure_request(request, SET_PRIVACY_LIVE_FIELDS)) == [
        "privacy_ver",
        "owner_setting",
    ]
