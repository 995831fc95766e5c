"""parse_event builds typed events from decrypted XML and refuses anything dangerous or partial."""

from __future__ import annotations

import datetime as dt

import pytest
from callback_helpers import CASES

from wxprivacy.callback import (
    AuthorizedEvent,
    ComponentVerifyTicketEvent,
    MalformedMessageError,
    UnauthorizedEvent,
    UnknownEvent,
    UpdateAuthorizedEvent,
    parse_event,
)

UTC = dt.UTC


def _at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


def test_ticket_event() -> None:
    event = parse_event(CASES["component_verify_ticket"]["plaintext_xml"].encode())
    assert event == ComponentVerifyTicketEvent(
        appid="wx0000000000000000",
        create_time=_at(1700000000),
        component_verify_ticket="ticket@@@placeholder-ticket-value",
    )
    assert event.create_time.tzinfo is UTC


def test_authorized_event_with_cdata_expiry() -> None:
    event = parse_event(CASES["authorized"]["plaintext_xml"].encode())
    assert isinstance(event, AuthorizedEvent)
    assert not isinstance(event, UpdateAuthorizedEvent)
    assert event.authorizer_appid == "wx1111111111111111"
    assert event.authorization_code == "queryauthcode@@@placeholder-auth-code"
    assert event.pre_auth_code == "preauthcode@@@placeholder-pre-auth-code"
    # An absolute Unix timestamp, one hour after CreateTime.
    assert event.authorization_code_expired_time == _at(1700004200)
    assert event.authorization_code_expired_time - event.create_time == dt.timedelta(hours=1)


def test_updateauthorized_event() -> None:
    event = parse_event(CASES["updateauthorized"]["plaintext_xml"].encode())
    assert isinstance(event, UpdateAuthorizedEvent)
    assert not isinstance(event, AuthorizedEvent)
    assert event.authorization_code == "queryauthcode@@@placeholder-auth-code-2"
    assert event.authorization_code_expired_time == _at(1700005400)


def test_unauthorized_event() -> None:
    event = parse_event(CASES["unauthorized"]["plaintext_xml"].encode())
    assert event == UnauthorizedEvent(
        appid="wx0000000000000000",
        create_time=_at(1700001200),
        authorizer_appid="wx1111111111111111",
    )


def test_plain_values_and_whitespace_accepted() -> None:
    xml = b"""<xml>
      <AppId> wx0000000000000000 </AppId>
      <CreateTime>1573485628</CreateTime>
      <InfoType>authorized</InfoType>
      <AuthorizerAppid>wx1111111111111111</AuthorizerAppid>
      <AuthorizationCode>code</AuthorizationCode>
      <AuthorizationCodeExpiredTime>1573489228</AuthorizationCodeExpiredTime>
    </xml>"""
    event = parse_event(xml)
    assert isinstance(event, AuthorizedEvent)
    assert event.appid == "wx0000000000000000"
    assert event.authorization_code_expired_time == _at(1573489228)
    assert event.pre_auth_code is None


def test_small_expiry_read_as_lifetime() -> None:
    xml = (
        b"<xml><AppId>a</AppId><CreateTime>1700000000</CreateTime><InfoType>authorized</InfoType>"
        b"<AuthorizerAppid>b</AuthorizerAppid><AuthorizationCode>c</AuthorizationCode>"
        b"<AuthorizationCodeExpiredTime>3600</AuthorizationCodeExpiredTime></xml>"
    )
    event = parse_event(xml)
    assert isinstance(event, AuthorizedEvent)
    assert event.authorization_code_expired_time == _at(1700003600)


def test_unknown_info_type() -> None:
    xml = (
        b"<xml><AppId><![CDATA[wx0000000000000000]]></AppId><CreateTime>1700000000</CreateTime>"
        b"<InfoType><![CDATA[notify_third_fasteregister]]></InfoType>"
        b"<status>0</status><auth_code><![CDATA[secret-code]]></auth_code></xml>"
    )
    event = parse_event(xml)
    assert isinstance(event, UnknownEvent)
    assert event.info_type == "notify_third_fasteregister"
    assert event.appid == "wx0000000000000000"
    assert event.create_time == _at(1700000000)
    assert event.fields["auth_code"] == "secret-code"
    assert "secret-code" not in repr(event)
    with pytest.raises(TypeError):
        event.fields["status"] = "1"  # type: ignore[index]


def test_unknown_info_type_without_times() -> None:
    event = parse_event(b"<xml><InfoType>something_new</InfoType><CreateTime>x</CreateTime></xml>")
    assert event == UnknownEvent(info_type="something_new")
    assert event.create_time is None and event.appid is None


@pytest.mark.parametrize(
    "xml",
    [
        b"<xml><AppId>a</AppId><CreateTime>1</CreateTime></xml>",  # no InfoType
        b"<xml><InfoType>component_verify_ticket</InfoType><AppId>a</AppId>"
        b"<CreateTime>1</CreateTime></xml>",  # no ticket
        b"<xml><InfoType>component_verify_ticket</InfoType><AppId>a</AppId>"
        b"<CreateTime>soon</CreateTime><ComponentVerifyTicket>t</ComponentVerifyTicket></xml>",
        b"<xml><InfoType>unauthorized</InfoType><AppId>a</AppId><CreateTime>1</CreateTime></xml>",
        b"<xml><InfoType>authorized</InfoType><AppId>a</AppId><CreateTime>1</CreateTime>"
        b"<AuthorizerAppid>b</AuthorizerAppid><AuthorizationCode>c</AuthorizationCode></xml>",
        b"<xml><InfoType>unauthorized</InfoType><AppId>a</AppId><CreateTime>"
        b"99999999999999999999</CreateTime><AuthorizerAppid>b</AuthorizerAppid></xml>",
        b"<xml><InfoType>authorized</InfoType>",  # truncated
        b"",
        b"not xml",
    ],
)
def test_incomplete_or_broken_messages_rejected(xml: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        parse_event(xml)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><InfoType>unauthorized</InfoType><AppId>&lol3;</AppId></xml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><InfoType>&xxe;</InfoType></xml>"""
BARE_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE xml SYSTEM "http://example.invalid/x.dtd">
<xml><InfoType>unauthorized</InfoType></xml>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY, BARE_DTD])
def test_dtd_and_entities_refused(xml: bytes) -> None:
    with pytest.raises(MalformedMessageError) as info:
        parse_event(xml)
    assert "passwd" not in str(info.value)


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_and_str_hide_secrets(name: str) -> None:
    event = parse_event(CASES[name]["plaintext_xml"].encode())
    text = repr(event) + str(event)
    for secret in ("ticket@@@", "queryauthcode@@@", "preauthcode@@@"):
        assert secret not in text
    assert "wx0000000000000000" in text


def test_events_are_frozen() -> None:
    event = parse_event(CASES["component_verify_ticket"]["plaintext_xml"].encode())
    with pytest.raises(AttributeError):
        event.appid = "x"  # type: ignore[misc]
