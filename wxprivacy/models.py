"""Typed models of the privacy-guideline data returned by ``getprivacysetting``.

The models are plain frozen attrs classes whose attribute names are the official lower-case WeChat
keys. They know nothing about the wire: folding odd-case keys, coercing numbers sent as strings and
keeping unknown keys is done by the one converter in :mod:`wxprivacy._serde`.

Every model has ``extras``: the keys WeChat sent that the model does not know, with their JSON
values untouched, so that writing a model back loses nothing. It is left out of ``repr`` and
``hash`` but takes part in ``==``.

Sequences are tuples; the constructors accept any iterable (a list is fine) and turn it into a
tuple.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs

__all__ = [
    "OwnerSetting",
    "PrivacyDesc",
    "PrivacyDescItem",
    "PrivacySetting",
    "SdkPrivacyInfo",
    "SettingItem",
]

#: The shared, read-only default of every ``extras`` attribute.
EMPTY_EXTRAS: Final[Mapping[str, Any]] = MappingProxyType({})


def _extras_field() -> Any:
    return attrs.field(default=EMPTY_EXTRAS, repr=False, hash=False)


def _as_tuple(items: Iterable[Any]) -> tuple[Any, ...]:
    """Turn any iterable except a string into a tuple (a tuple is returned as is)."""
    if type(items) is tuple:
        return items
    if isinstance(items, str | bytes):
        raise TypeError(f"expected an iterable of items, got {type(items).__name__}")
    return tuple(items)


@attrs.frozen(kw_only=True, slots=False)
class SettingItem:
    """One declared kind of user information and why it is collected.

    Used for the items of ``setting_list`` (``getprivacysetting`` / ``setprivacysetting``,
    ``/cgi-bin/component/getprivacysetting``) and of an SDK's ``sdk_list``.

    Attributes:
        privacy_key: the kind of information: an official key such as ``"UserInfo"`` or
            ``"Location"``, or a custom string (any text, Chinese included).
        privacy_text: the purpose, shown to users after "为了" (so it should not start with it).
        privacy_label: the Chinese name of the key; often ``""`` in real responses.
        extras: keys the model does not know, with their raw JSON values.
    """

    privacy_key: str
    privacy_text: str = ""
    privacy_label: str = ""
    extras: Mapping[str, Any] = _extras_field()


@attrs.frozen(kw_only=True, slots=False)
class OwnerSetting:
    """The collector's (developer's) contact details and storage policy: ``owner_setting``.

    Part of ``getprivacysetting`` / ``setprivacysetting`` (``/cgi-bin/component/...``). All
    fields are strings as WeChat sends them, except ``store_region``.

    Attributes:
        contact_phone: phone number; one of the four contacts must be filled (else 86069).
        contact_email: e-mail address.
        contact_qq: QQ number, as a string.
        contact_weixin: WeChat ID (docs sometimes spell the key ``contact_WeChat``).
        store_expire_timestamp: storage period as ``"<digits>天"`` (e.g. ``"30天"``) or ``""``;
            not a timestamp despite its name.
        ext_file_media_id: media id of a custom guideline file from ``uploadprivacyextfile``.
        notice_method: how users are told about changes (e.g. a pop-up); required when setting.
        store_region: undocumented numeric storage-region code (seen 0, 1017, 1037, 1040), or
            ``None`` when WeChat did not send it.
        extras: keys the model does not know, with their raw JSON values.
    """

    contact_phone: str = ""
    contact_email: str = ""
    contact_qq: str = ""
    contact_weixin: str = ""
    store_expire_timestamp: str = ""
    ext_file_media_id: str = ""
    notice_method: str = ""
    store_region: int | None = None
    extras: Mapping[str, Any] = _extras_field()

    @property
    def has_contact(self) -> bool:
        """Whether at least one of the four contact fields is non-blank (WeChat requires one)."""
        return any(
            value.strip()
            for value in (
                self.contact_phone,
                self.contact_email,
                self.contact_qq,
                self.contact_weixin,
            )
        )


@attrs.frozen(kw_only=True, slots=False)
class PrivacyDescItem:
    """One entry of the catalogue of configurable keys: ``privacy_desc.privacy_desc_list[]``.

    Attributes:
        privacy_key: an official key, e.g. ``"Location"``.
        privacy_desc: its human name, e.g. ``"位置信息"``.
        extras: keys the model does not know, with their raw JSON values.
    """

    privacy_key: str
    privacy_desc: str = ""
    extras: Mapping[str, Any] = _extras_field()


@attrs.frozen(kw_only=True, slots=False)
class PrivacyDesc:
    """The catalogue of configurable ``privacy_key`` values: ``privacy_desc``.

    Attributes:
        privacy_desc_list: every official key with its human name, in WeChat's order.
        extras: keys the model does not know, with their raw JSON values.
    """

    privacy_desc_list: tuple[PrivacyDescItem, ...] = attrs.field(default=(), converter=_as_tuple)
    extras: Mapping[str, Any] = _extras_field()


@attrs.frozen(kw_only=True, slots=False)
class SdkPrivacyInfo:
    """A third-party SDK used by the Mini Program and what it collects: ``sdk_privacy_info_list[]``.

    Part of ``getprivacysetting`` / ``setprivacysetting`` (``/cgi-bin/component/...``).

    Attributes:
        sdk_name: the SDK's name.
        sdk_biz_name: the legal name of the SDK's provider.
        sdk_list: what the SDK collects and why.
        extras: keys the model does not know, with their raw JSON values.
    """

    sdk_name: str = ""
    sdk_biz_name: str = ""
    sdk_list: tuple[SettingItem, ...] = attrs.field(default=(), converter=_as_tuple)
    extras: Mapping[str, Any] = _extras_field()


@attrs.frozen(kw_only=True, slots=False)
class PrivacySetting:
    """A Mini Program's user-privacy guideline, as read by ``getprivacysetting``.

    Endpoint: ``POST /cgi-bin/component/getprivacysetting`` with ``{"privacy_ver": 1|2}``. The
    envelope (``errcode``/``errmsg``) is not stored.

    Attributes:
        code_exist: whether code was recently uploaded with the commit API (wire: 0/1).
        privacy_list: the ``privacy_key`` values detected in the uploaded code.
        setting_list: the declared kinds of information and their purposes.
        update_time: when the guideline was last changed, an aware UTC datetime; ``None`` when
            never configured (wire: Unix seconds, 0 meaning never).
        owner_setting: the developer's contact details, or ``None`` when absent.
        privacy_desc: the catalogue of configurable keys, or ``None`` when absent.
        sdk_privacy_info_list: the third-party SDKs and what they collect.
        extras: keys the model does not know, with their raw JSON values.
    """

    code_exist: bool = False
    privacy_list: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)
    setting_list: tuple[SettingItem, ...] = attrs.field(default=(), converter=_as_tuple)
    update_time: _dt.datetime | None = None
    owner_setting: OwnerSetting | None = None
    privacy_desc: PrivacyDesc | None = None
    sdk_privacy_info_list: tuple[SdkPrivacyInfo, ...] = attrs.field(default=(), converter=_as_tuple)
    extras: Mapping[str, Any] = _extras_field()

    @property
    def declared_keys(self) -> frozenset[str]:
        """The ``privacy_key`` values declared in ``setting_list``."""
        return frozenset(item.privacy_key for item in self.setting_list)

    @property
    def undeclared_keys(self) -> tuple[str, ...]:
        """Keys detected in the code (``privacy_list``) but not declared in ``setting_list``.

        In ``privacy_list`` order, each key once. A non-empty result means the guideline is
        incomplete and an audit may be rejected.
        """
        declared = self.declared_keys
        return tuple(key for key in dict.fromkeys(self.privacy_list) if key not in declared)

    @property
    def has_contact(self) -> bool:
        """Whether ``owner_setting`` exists and has at least one non-blank contact field."""
        return self.owner_setting is not None and self.owner_setting.has_contact
