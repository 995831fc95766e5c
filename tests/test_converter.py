"""The converter's fast paths build what the model's own constructor builds, defaults included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from wxprivacy._serde import structure
from wxprivacy.models import EMPTY_EXTRAS

FACTORY: Any = type(attrs.Factory(str))


@attrs.frozen(kw_only=True, slots=False)
class FactoryDescItem:
    """PrivacyDescItem with the default of the reported defect: ``Factory(str)``."""

    privacy_key: str
    privacy_desc: str = attrs.field(factory=str)
    extras: Mapping[str, Any] = attrs.field(default=EMPTY_EXTRAS, repr=False, hash=False)


@attrs.frozen(kw_only=True, slots=False)
class FactoryDesc:
    privacy_desc_list: tuple[FactoryDescItem, ...] = ()
    extras: Mapping[str, Any] = attrs.field(default=EMPTY_EXTRAS, repr=False, hash=False)


@attrs.frozen(kw_only=True, slots=False)
class SelfItem:
    """A default computed from another field (``takes_self``)."""

    privacy_key: str
    privacy_desc: str = attrs.field(
        default=attrs.Factory(lambda self: self.privacy_key.lower(), takes_self=True)
    )
    extras: Mapping[str, Any] = attrs.field(default=EMPTY_EXTRAS, repr=False, hash=False)


@attrs.frozen(kw_only=True, slots=False)
class SelfList:
    self_list: tuple[SelfItem, ...] = ()
    extras: Mapping[str, Any] = attrs.field(default=EMPTY_EXTRAS, repr=False, hash=False)


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


def test_a_takes_self_default_in_a_long_list_is_computed() -> None:
    raw = [{"privacy_key": f"Key{i}"} for i in range(6)]
    built = structure({"self_list": raw}, SelfList).self_list
    assert [item.privacy_desc for item in built] == [f"key{i}" for i in range(6)]
    assert not any(isinstance(item.privacy_desc, FACTORY) for item in built)
