"""Typed authorization events and the XML parser that builds them.

Implements the payloads of the "授权事件接收URL" (WeChat docs
``doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/component_verify_ticket.html`` and
``.../Before_Develop/authorize_event.html``): ``component_verify_ticket``, ``authorized``,
``updateauthorized`` and ``unauthorized``; every other ``InfoType`` becomes an
:class:`UnknownEvent`.
"""

from __future__ import annotations

import datetime as _dt
import types
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import ClassVar, Final

import attrs
import defusedxml
import defusedxml.ElementTree as SafeET

from ._errors import MalformedMessageError

__all__ = [
    "AuthorizedEvent",
    "ComponentVerifyTicketEvent",
    "Event",
    "UnauthorizedEvent",
    "UnknownEvent",
    "UpdateAuthorizedEvent",
    "parse_event",
    "parse_xml",
]

_HIDDEN: Final = "'***'"
# Below this an AuthorizationCodeExpiredTime cannot be an absolute time (it would predate 2001):
# read it as a lifetime in seconds counted from CreateTime, as the doc's wording suggests.
_ABSOLUTE_AFTER: Final = 1_000_000_000


def _hide(_: object) -> str:
    return _HIDDEN


def _hide_optional(value: object) -> str:
    return "None" if value is None else _HIDDEN


def _freeze(value: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(value))


def _count_fields(value: Mapping[str, str]) -> str:
    return f"<{len(value)} fields>"


@attrs.frozen(kw_only=True)
class ComponentVerifyTicketEvent:
    """``InfoType`` ``component_verify_ticket``: the ticket WeChat pushes every 10 minutes.

    Attributes:
        appid: the third-party platform appid the push is for.
        create_time: when WeChat created the push (aware UTC datetime).
        component_verify_ticket: the ticket (valid about 12 hours); hidden from ``repr()``.
    """

    INFO_TYPE: ClassVar[str] = "component_verify_ticket"

    appid: str
    create_time: _dt.datetime
    component_verify_ticket: str = attrs.field(repr=_hide)


@attrs.frozen(kw_only=True)
class _AuthorizationCodeEvent:
    """Fields shared by ``authorized`` and ``updateauthorized``."""

    appid: str
    create_time: _dt.datetime
    authorizer_appid: str
    authorization_code: str = attrs.field(repr=_hide)
    authorization_code_expired_time: _dt.datetime
    pre_auth_code: str | None = attrs.field(default=None, repr=_hide_optional)


@attrs.frozen(kw_only=True)
class AuthorizedEvent(_AuthorizationCodeEvent):
    """``InfoType`` ``authorized``: an account authorized the platform.

    Attributes:
        appid: the third-party platform appid.
        create_time: when WeChat created the push (aware UTC datetime).
        authorizer_appid: the Mini Program / Official Account that authorized.
        authorization_code: the code to exchange with ``api_query_auth``; hidden from ``repr()``.
        authorization_code_expired_time: when the code expires (aware UTC datetime; WeChat sends
            an absolute Unix timestamp, about one hour after ``create_time``).
        pre_auth_code: the pre-authorization code used, if sent; hidden from ``repr()``.
    """

    INFO_TYPE: ClassVar[str] = "authorized"


@attrs.frozen(kw_only=True)
class UpdateAuthorizedEvent(_AuthorizationCodeEvent):
    """``InfoType`` ``updateauthorized``: an authorizer changed the granted permission sets.

    Same attributes as :class:`AuthorizedEvent`; exchange ``authorization_code`` again with
    ``api_query_auth`` to get the new permission list and tokens.
    """

    INFO_TYPE: ClassVar[str] = "updateauthorized"


@attrs.frozen(kw_only=True)
class UnauthorizedEvent:
    """``InfoType`` ``unauthorized``: an account revoked the platform's authorization.

    Attributes:
        appid: the third-party platform appid.
        create_time: when WeChat created the push (aware UTC datetime).
        authorizer_appid: the account that revoked; its tokens are no longer valid.
    """

    INFO_TYPE: ClassVar[str] = "unauthorized"

    appid: str
    create_time: _dt.datetime
    authorizer_appid: str


@attrs.frozen(kw_only=True)
class UnknownEvent:
    """Any other ``InfoType`` (e.g. ``notify_third_fasteregister``); accepted and ignored.

    Attributes:
        info_type: the ``InfoType`` value.
        appid: the ``AppId`` element, if present.
        create_time: the ``CreateTime`` element as an aware UTC datetime, if present and numeric.
        fields: every top-level element's tag → stripped text (read-only mapping); hidden from
            ``repr()`` because unknown payloads may carry secrets.
    """

    info_type: str
    appid: str | None = None
    create_time: _dt.datetime | None = None
    fields: Mapping[str, str] = attrs.field(
        factory=dict,
        converter=_freeze,
        repr=_count_fields,
        eq=False,
        hash=False,
    )


Event = (
    ComponentVerifyTicketEvent
    | AuthorizedEvent
    | UpdateAuthorizedEvent
    | UnauthorizedEvent
    | UnknownEvent
)


def parse_xml(xml: bytes) -> ET.Element:
    """Parse untrusted XML with defusedxml, refusing DTDs, entities and external references.

    Raises:
        MalformedMessageError: not well-formed, or declares a DTD/entities.
    """
    try:
        return SafeET.fromstring(xml, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        raise MalformedMessageError("XML with a DTD or entity declarations is refused") from None
    except ET.ParseError as exc:
        raise MalformedMessageError(f"XML is not well-formed ({exc.position!r})") from None


def _fields(root: ET.Element) -> dict[str, str]:
    fields: dict[str, str] = {}
    for child in root:
        if isinstance(child.tag, str) and child.tag not in fields:
            fields[child.tag] = (child.text or "").strip()
    return fields


_MAX_TIME_DIGITS = 12
"""Digits a time in seconds may have (12 reach past the year 30000)."""


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise MalformedMessageError(f"element <{name}> is missing or empty")
    return value


def seconds_of(value: str) -> int | None:
    """Return a Unix time written as 1 to 12 ASCII digits, else ``None``.

    Stricter than ``int()``: no signs, spaces, underscores or non-ASCII digits (``"²"`` passes
    ``str.isdigit``), and never thousands of digits (Python refuses to convert those).
    """
    if 0 < len(value) <= _MAX_TIME_DIGITS and value.isascii() and value.isdigit():
        return int(value)
    return None


def _timestamp(fields: Mapping[str, str], name: str) -> int:
    value = seconds_of(_required(fields, name))
    if value is None:
        raise MalformedMessageError(f"element <{name}> is not a Unix time in seconds")
    return value


def _utc(seconds: int, name: str) -> _dt.datetime:
    try:
        return _dt.datetime.fromtimestamp(seconds, _dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedMessageError(f"element <{name}> is out of range") from None


def parse_event(xml: bytes) -> Event:
    """Parse a decrypted authorization-event message into a typed event.

    Values may be plain text or CDATA-wrapped; surrounding whitespace is stripped.

    Args:
        xml: the decrypted message (UTF-8 XML bytes), as returned by
            :meth:`MessageCrypto.decrypt`.

    Returns:
        A :class:`ComponentVerifyTicketEvent`, :class:`AuthorizedEvent`,
        :class:`UpdateAuthorizedEvent`, :class:`UnauthorizedEvent` or, for any other
        ``InfoType``, an :class:`UnknownEvent`.

    Raises:
        MalformedMessageError: not well-formed XML, a DTD/entity declaration, a missing or empty
            required element, or a non-integer time.
    """
    fields = _fields(parse_xml(xml))
    info_type = _required(fields, "InfoType")
    if info_type == ComponentVerifyTicketEvent.INFO_TYPE:
        return ComponentVerifyTicketEvent(
            appid=_required(fields, "AppId"),
            create_time=_utc(_timestamp(fields, "CreateTime"), "CreateTime"),
            component_verify_ticket=_required(fields, "ComponentVerifyTicket"),
        )
    if info_type in (AuthorizedEvent.INFO_TYPE, UpdateAuthorizedEvent.INFO_TYPE):
        created = _timestamp(fields, "CreateTime")
        expires = _timestamp(fields, "AuthorizationCodeExpiredTime")
        if expires < _ABSOLUTE_AFTER:
            expires += created
        cls = AuthorizedEvent if info_type == AuthorizedEvent.INFO_TYPE else UpdateAuthorizedEvent
        return cls(
            appid=_required(fields, "AppId"),
            create_time=_utc(created, "CreateTime"),
            authorizer_appid=_required(fields, "AuthorizerAppid"),
            authorization_code=_required(fields, "AuthorizationCode"),
            authorization_code_expired_time=_utc(expires, "AuthorizationCodeExpiredTime"),
            pre_auth_code=fields.get("PreAuthCode") or None,
        )
    if info_type == UnauthorizedEvent.INFO_TYPE:
        return UnauthorizedEvent(
            appid=_required(fields, "AppId"),
            create_time=_utc(_timestamp(fields, "CreateTime"), "CreateTime"),
            authorizer_appid=_required(fields, "AuthorizerAppid"),
        )
    create_time: _dt.datetime | None = None
    raw_time = seconds_of(fields.get("CreateTime", ""))
    if raw_time is not None:
        try:
            create_time = _utc(raw_time, "CreateTime")
        except MalformedMessageError:
            create_time = None
    return UnknownEvent(
        info_type=info_type,
        appid=fields.get("AppId") or None,
        create_time=create_time,
        fields=fields,
    )
