"""Typed models of WeChat's privacy-guideline, privacy-interface and authorization data.

The models are frozen, slotted attrs classes whose attribute names are the official lower-case
WeChat keys. Each states its own wire rules, and the one converter (:mod:`wxprivacy._converter`)
reads them, so a new model needs no change anywhere else:

* a field whose wire form is not plain from its type carries a rule in its metadata
  (``metadata=wire(FLAG)``: 0/1 read as a bool; ``wire(UNIX_SECONDS)``; other spellings of the
  key, ``wire(aliases=...)``; a model that may arrive as a bare list, ``wire(bare_list=True)``);
* a model that is a whole response body derives from ``ResponseBody`` (the converter drops the
  ``errcode``/``errmsg`` envelope at its top level).

Every model has ``extras``: the keys WeChat sent that the model does not know, with their JSON
values untouched, so that writing a model back loses nothing. It is left out of ``repr`` and
``hash`` but takes part in ``==``. Credentials are left out of ``repr`` as well. Models survive
``pickle``, ``copy.copy`` and ``copy.deepcopy``.

Sequences are tuples; the constructors accept any iterable (a list is fine) and turn it into a
tuple.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Final

import attrs

from ._coerce import (
    EXTRAS,
    FLAG,
    NON_EMPTY,
    NON_NEGATIVE,
    UNIX_SECONDS,
    UNIX_SECONDS_OR_NONE,
    ResponseBody,
    Wire,
    as_tuple,
    wire,
)
from ._keys import ReadOnlyMapping, WireError
from ._token_endpoints import present

__all__ = [
    "AuthorizationInfo",
    "CodePrivacyInfo",
    "AuthorizerDetails",
    "AuthorizerInfo",
    "AuthorizerListItem",
    "AuthorizerPage",
    "FuncInfo",
    "FuncscopeCategory",
    "OwnerSetting",
    "PreAuthCode",
    "PrivacyDesc",
    "PrivacyDescItem",
    "PrivacyInterface",
    "PrivacyInterfaceList",
    "PrivacySetting",
    "SdkPrivacyInfo",
    "SettingItem",
    "TypeInfo",
]

#: ``func_info`` id of permission set 18 (development management), which the privacy APIs need.
PRIVACY_PERMISSION_SET: Final = 18

#: The shared, read-only default of every ``extras`` attribute.
EMPTY_EXTRAS: Final[Mapping[str, Any]] = ReadOnlyMapping()


def _extras_field(*, kw_only: bool | None = None) -> Any:
    return attrs.field(
        default=EMPTY_EXTRAS, repr=False, hash=False, kw_only=kw_only, metadata=wire(EXTRAS)
    )


def _credential_in(value: Any, _: Any = None) -> str:
    """A credential in WeChat's answer: blank or not a string is ``""`` (see
    :func:`wxprivacy._token_endpoints.present`, the one rule for tokens from WeChat)."""
    if value is None:
        raise WireError("expected a string, got null")  # the field's default applies
    return present(value) or ""


#: A token or code from WeChat, where blank means absent.
_CREDENTIAL: Final = Wire(structure=_credential_in)


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
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
    contact_weixin: str = attrs.field(default="", metadata=wire(aliases=("contact_WeChat",)))
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


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class PrivacyDesc:
    """The catalogue of configurable ``privacy_key`` values: ``privacy_desc``.

    Attributes:
        privacy_desc_list: every official key with its human name, in WeChat's order.
        extras: keys the model does not know, with their raw JSON values.
    """

    privacy_desc_list: tuple[PrivacyDescItem, ...] = attrs.field(
        default=(), converter=as_tuple, metadata=wire(bare_list=True)
    )
    extras: Mapping[str, Any] = _extras_field()


@attrs.frozen(kw_only=True)
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
    sdk_list: tuple[SettingItem, ...] = attrs.field(default=(), converter=as_tuple)
    extras: Mapping[str, Any] = _extras_field()


@attrs.frozen(kw_only=True)
class PrivacySetting(ResponseBody):
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

    code_exist: bool = attrs.field(default=False, metadata=wire(FLAG))
    privacy_list: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    setting_list: tuple[SettingItem, ...] = attrs.field(default=(), converter=as_tuple)
    update_time: _dt.datetime | None = attrs.field(default=None, metadata=wire(UNIX_SECONDS))
    owner_setting: OwnerSetting | None = None
    privacy_desc: PrivacyDesc | None = None
    sdk_privacy_info_list: tuple[SdkPrivacyInfo, ...] = attrs.field(default=(), converter=as_tuple)
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


# ----------------------------------------------------------------------------- privacy interfaces


@attrs.frozen(kw_only=True)
class PrivacyInterface:
    """One gated front-end API and its application state: ``interface_list[]``.

    Returned by ``GET /wxa/security/get_privacy_interface``. Numbers may arrive as numeric
    strings; they are coerced.

    Attributes:
        api_name: the API, case-sensitive, e.g. ``"wx.getLocation"``.
        api_ch_name: its Chinese name.
        api_desc: what it does.
        status: 1 not applied, 2 no permission, 3 under review, 4 rejected, 5 enabled
            (other values are kept as sent).
        apply_time: when it was last applied for, an aware UTC datetime (WeChat sends Unix
            seconds); ``None`` before any.
        audit_id: id of the last application, ``None`` before any.
        fail_reason: why the application was rejected (or the permission is missing).
        api_link: link to the API's documentation.
        group_name: the group the API belongs to (e.g. location).
        extras: keys the model does not know, with their raw JSON values.
    """

    api_name: str
    api_ch_name: str = ""
    api_desc: str = ""
    status: int = 0
    apply_time: _dt.datetime | None = attrs.field(default=None, metadata=wire(UNIX_SECONDS))
    audit_id: int | None = None
    fail_reason: str = ""
    api_link: str = ""
    group_name: str = ""
    extras: Mapping[str, Any] = _extras_field()

    @property
    def enabled(self) -> bool:
        """Whether the API may be used (status 5)."""
        return self.status == 5

    @property
    def under_review(self) -> bool:
        """Whether an application is being reviewed (status 3); another one gets 61031."""
        return self.status == 3


@attrs.frozen(kw_only=True)
class CodePrivacyInfo(ResponseBody):
    """The answer of ``GET /wxa/security/get_code_privacy_info``: privacy APIs the uploaded code
    uses that are not ready for review.

    Attributes:
        without_auth_list: APIs used without permission (no approved application yet).
        without_conf_list: APIs used without being declared in ``app.json`` / ``ext.json``.
        extras: keys the model does not know, with their raw JSON values.
    """

    without_auth_list: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    without_conf_list: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    extras: Mapping[str, Any] = _extras_field()

    @property
    def ready(self) -> bool:
        """Whether nothing is missing: both lists are empty."""
        return not self.without_auth_list and not self.without_conf_list


@attrs.frozen(kw_only=True)
class PrivacyInterfaceList(ResponseBody):
    """The answer of ``GET /wxa/security/get_privacy_interface``.

    Attributes:
        interface_list: every gated API WeChat lists for the Mini Program.
        extras: keys the model does not know, with their raw JSON values.
    """

    interface_list: tuple[PrivacyInterface, ...] = attrs.field(default=(), converter=as_tuple)
    extras: Mapping[str, Any] = _extras_field()

    def get(self, api_name: str) -> PrivacyInterface | None:
        """Return the entry for ``api_name`` (exact, case-sensitive match), or ``None``."""
        return next((item for item in self.interface_list if item.api_name == api_name), None)


# ----------------------------------------------------------------------------- authorization


@attrs.frozen(kw_only=True)
class PreAuthCode(ResponseBody):
    """A pre-authorization code from ``/cgi-bin/component/api_create_preauthcode``.

    Attributes:
        pre_auth_code: the code (hidden from ``repr``); goes into the authorization page URL.
            An answer with an empty one is a ``ResponseFormatError``.
        expires_in: its lifetime in seconds, as WeChat returned it (600 or 1800 have been seen).
        extras: keys the model does not know, with their raw JSON values.
    """

    pre_auth_code: str = attrs.field(repr=False, metadata=wire(NON_EMPTY))
    expires_in: int = 0
    extras: Mapping[str, Any] = _extras_field()


@attrs.frozen(kw_only=True)
class FuncscopeCategory:
    """``func_info[].funcscope_category``: one permission set.

    Attributes:
        id: the permission set id (18 = development management, needed by the privacy APIs).
        extras: keys the model does not know, with their raw JSON values.
    """

    id: int = 0
    extras: Mapping[str, Any] = _extras_field()


@attrs.frozen(kw_only=True)
class FuncInfo:
    """One granted permission set: ``func_info[]``.

    Attributes:
        funcscope_category: the set, or ``None`` when WeChat did not send it.
        extras: keys the model does not know (e.g. ``confirm_info``), with their raw values.
    """

    funcscope_category: FuncscopeCategory | None = None
    extras: Mapping[str, Any] = _extras_field()

    @property
    def id(self) -> int | None:
        """The permission set id, or ``None`` when absent."""
        return None if self.funcscope_category is None else self.funcscope_category.id


@attrs.frozen(kw_only=True)
class AuthorizationInfo(ResponseBody):
    """``authorization_info``: what an authorizer granted, and (from ``api_query_auth``) tokens.

    Returned by ``/cgi-bin/component/api_query_auth`` (with tokens) and inside
    ``/cgi-bin/component/api_get_authorizer_info`` (refresh token only). Token fields are
    ``""`` when WeChat sent none and are hidden from ``repr``.

    Attributes:
        authorizer_appid: the authorized account.
        authorizer_access_token: its access token (``api_query_auth`` only).
        expires_in: the access token's lifetime in seconds (0 when absent).
        authorizer_refresh_token: its long-lived refresh token.
        func_info: the granted permission sets.
        extras: keys the model does not know, with their raw JSON values.
    """

    authorizer_appid: str = ""
    authorizer_access_token: str = attrs.field(default="", repr=False)
    expires_in: int = 0
    authorizer_refresh_token: str = attrs.field(default="", repr=False)
    func_info: tuple[FuncInfo, ...] = attrs.field(default=(), converter=as_tuple)
    extras: Mapping[str, Any] = _extras_field()

    @property
    def func_ids(self) -> frozenset[int]:
        """The ids of the granted permission sets."""
        return frozenset(item.id for item in self.func_info if item.id is not None)

    @property
    def has_privacy_permission(self) -> bool:
        """Whether permission set 18 (needed by every privacy endpoint) was granted."""
        return PRIVACY_PERMISSION_SET in self.func_ids


@attrs.frozen(kw_only=True)
class TypeInfo:
    """``service_type_info`` / ``verify_type_info`` of an authorizer: ``{"id": n}``.

    Attributes:
        id: the type id (see WeChat's table; ``-1`` is "not verified" for verify_type_info).
        extras: keys the model does not know, with their raw JSON values.
    """

    id: int = 0
    extras: Mapping[str, Any] = _extras_field()


@attrs.frozen(kw_only=True)
class AuthorizerInfo:
    """``authorizer_info`` from ``/cgi-bin/component/api_get_authorizer_info``.

    The CamelCase ``MiniProgramInfo`` object (present only for Mini Programs) stays in
    ``extras`` untouched; :attr:`mini_program_info` returns it.

    Attributes:
        nick_name: the account's name (may be ``""``).
        head_img: URL of its avatar (may be ``""``).
        service_type_info: account type.
        verify_type_info: verification type.
        user_name: the original id (``gh_...``).
        principal_name: the legal entity.
        alias: the WeChat id, if any.
        qrcode_url: URL of its QR code.
        signature: its description.
        extras: keys the model does not know, with their raw JSON values.
    """

    nick_name: str = ""
    head_img: str = ""
    service_type_info: TypeInfo | None = None
    verify_type_info: TypeInfo | None = None
    user_name: str = ""
    principal_name: str = ""
    alias: str = ""
    qrcode_url: str = ""
    signature: str = ""
    extras: Mapping[str, Any] = _extras_field()

    @property
    def mini_program_info(self) -> Mapping[str, Any] | None:
        """The raw ``MiniProgramInfo`` object (any key case); ``None`` for other accounts."""
        for key, value in self.extras.items():
            if key.strip().lower() == "miniprograminfo" and isinstance(value, Mapping):
                return value
        return None

    @property
    def is_mini_program(self) -> bool:
        """Whether the account is a Mini Program (``MiniProgramInfo`` is present)."""
        return self.mini_program_info is not None


@attrs.frozen(kw_only=True)
class AuthorizerDetails(ResponseBody):
    """The answer of ``/cgi-bin/component/api_get_authorizer_info``.

    Attributes:
        authorizer_info: the account's profile, or ``None`` when absent.
        authorization_info: what it granted (refresh token hidden from ``repr``), or ``None``.
        extras: keys the model does not know, with their raw JSON values.
    """

    authorizer_info: AuthorizerInfo | None = None
    authorization_info: AuthorizationInfo | None = None
    extras: Mapping[str, Any] = _extras_field()


@attrs.frozen
class AuthorizerListItem:
    """One entry of ``/cgi-bin/component/api_get_authorizer_list``.

    Attributes:
        authorizer_appid: the authorized account's appid (an answer without one is a
            ``ResponseFormatError``).
        refresh_token: its current ``authorizer_refresh_token`` (hidden from ``repr``); ``""``
            when WeChat sent none, or only white space.
        auth_time: when it authorized the platform, an aware UTC datetime (WeChat sends Unix
            seconds); ``None`` when absent, 0 or unreadable.
        extras: keys the model does not know, with their raw JSON values (keyword only).
    """

    authorizer_appid: str = attrs.field(metadata=wire(NON_EMPTY))
    refresh_token: str = attrs.field(default="", repr=False, metadata=wire(_CREDENTIAL))
    auth_time: _dt.datetime | None = attrs.field(default=None, metadata=wire(UNIX_SECONDS_OR_NONE))
    extras: Mapping[str, Any] = _extras_field(kw_only=True)


@attrs.frozen
class AuthorizerPage(ResponseBody):
    """One page of ``/cgi-bin/component/api_get_authorizer_list``.

    Attributes:
        total_count: how many authorizers the platform has in all (an integer >= 0).
        list: the authorizers on this page.
        extras: keys the model does not know, with their raw JSON values (keyword only).
    """

    total_count: int = attrs.field(metadata=wire(NON_NEGATIVE))
    list: tuple[AuthorizerListItem, ...] = attrs.field(default=(), converter=as_tuple)
    extras: Mapping[str, Any] = _extras_field(kw_only=True)
