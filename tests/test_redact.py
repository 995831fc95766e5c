"""redact(): secrets are removed by their key and by what they look like, wherever text is cut."""

from __future__ import annotations

import json
import logging

import pytest
from client_factory import APPID as SURFACE_APPID
from client_factory import make as surface_make
from fakes import APPSECRET, TICKET, FakeWeChat, raw

from wxprivacy import (
    ResponseFormatError,
    RetryPolicy,
    TransportError,
    paths,
)
from wxprivacy._keys import describe
from wxprivacy._redact import carries_credentials, is_secret_name, redact, redact_at
from wxprivacy._redact import redact as redact_text

TOKEN = "80_" + "Hk5vQ2xZ-p9Lw_" * 7  # 101 characters, the shape of an access token
SHORT = "s3cr3t"  # too short to look like a token: only its key gives it away


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"authorizer_refresh_token": "s3cr3t"}', '{"authorizer_refresh_token": "***"}'),
        ('{"component_appsecret":"s3cr3t","a":1}', '{"component_appsecret":"***","a":1}'),
        (
            '{"refresh_token" : "s3cr3t" , "b": "s3cr3t"}',
            '{"refresh_token" : "***" , "b": "s3cr3t"}',
        ),
        # cut inside the value: the rest of the text is the value
        ('{"authorizer_access_token":"s3cr3t', '{"authorizer_access_token":"***'),
        ('{"pre_auth_code":"s3cr3t\\', '{"pre_auth_code":"***'),
        # escapes inside the value, and an escaped key
        ('{"ticket":"s3\\"cr\\u0033t","x":"y"}', '{"ticket":"***","x":"y"}'),
        ('{"authorizer\\u005frefresh_token":"s3cr3t"}', '{"authorizer\\u005frefresh_token":"***"}'),
        # a value that is not a string
        (
            '{"component_access_token": 12345, "expires_in": 7200}',
            '{"component_access_token": ***, "expires_in": 7200}',
        ),
        # text inside a value is never taken for a key
        (
            '{"errmsg": "bad \\"token\\": \\"here\\"", "y": "keep"}',
            '{"errmsg": "bad \\"token\\": \\"here\\"", "y": "keep"}',
        ),
        # query strings, prose and Python reprs
        ("/x?component_access_token=s3cr3t&a=1", "/x?component_access_token=***&a=1"),
        ("invalid refresh_token: s3cr3t, rid", "invalid refresh_token: ***, rid"),
        ("{'authorizer_refresh_token': 's3cr3t'}", "{'authorizer_refresh_token': '***'}"),
        ("access_token is invalid or not latest", "access_token is invalid or not latest"),
        # XML, whole or cut
        (
            "<ComponentVerifyTicket><![CDATA[s3cr3t]]></ComponentVerifyTicket><AppId>wx1</AppId>",
            "<ComponentVerifyTicket>***</ComponentVerifyTicket><AppId>wx1</AppId>",
        ),
        ("<xml><AuthorizationCode>s3cr3", "<xml><AuthorizationCode>***"),
        # readable things stay: appids, hints, snake_case names, the envelope
        (
            "wx0000000000000000 hint: [AbCdEf01234567] authorizer_refresh_token",
            "wx0000000000000000 hint: [AbCdEf01234567] authorizer_refresh_token",
        ),
        (
            '{"errcode":61023,"errmsg":"refresh_token is invalid"}',
            '{"errcode":61023,"errmsg":"refresh_token is invalid"}',
        ),
    ],
)
def test_values_after_secret_keys_are_removed(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "key",
    [
        "Authorizer_Refresh_Token",
        "AUTHORIZER_ACCESS_TOKEN",
        " component_verify_ticket ",
        "EncodingAESKey",
        "encoding_aes_key",
        "Pre_Auth_Code",
        "authorization_code",
        "component_secret",
        "authorizer\\u005Frefresh\\u005ftoken",
    ],
)
def test_odd_spellings_of_secret_keys_are_recognised(key: str) -> None:
    assert is_secret_name(key)
    assert SHORT not in redact(f'{{"{key}": "{SHORT}", "a": 1}}')


@pytest.mark.parametrize("key", ["errcode", "errmsg", "privacy_key", "authorizer_appid", "code"])
def test_ordinary_keys_are_not_secret(key: str) -> None:
    assert not is_secret_name(key)


@pytest.mark.parametrize(
    "text",
    [
        f"gateway said {TOKEN} and left",
        f'{{"data": "{TOKEN}"}}',
        f"<p>{TOKEN}</p>",
        f"{TOKEN[:40]}",
        "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",  # an EncodingAESKey
        "0123456789abcdef0123456789abcdef",  # an appsecret
        "refreshtoken@@@Zx9_Zx9_Zx9_Zx9_Zx9_",
    ],
)
def test_token_looking_runs_are_removed_without_a_key(text: str) -> None:
    redacted = redact(text)
    assert "***" in redacted
    for start in range(len(text) - 11):
        piece = text[start : start + 12]
        if any(c.isdigit() or c.isupper() for c in piece):
            assert piece not in redacted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gateway: 80_Hk5vQ", "gateway: ***"),  # 8 characters, stopped by the end: a cut token
        ("gateway: 80_Hk5v", "gateway: 80_Hk5v"),  # 7 are kept
        ("gateway: 80_Hk5vQ.", "gateway: 80_Hk5vQ."),  # not at the end: too short for a token
        ("invalid appid wx0123456789abcdef", "invalid appid wx0123456789abcdef"),
        ("invalid appid wx0123456789ABCDEF", "invalid appid ***"),  # not an appid's shape
        ("closed by peer_connection", "closed by peer_connection"),  # no digit, no capital
    ],
)
def test_a_run_stopped_by_the_end_of_the_text_counts_from_8_characters(
    text: str, expected: str
) -> None:
    assert redact(text) == expected


def test_redaction_is_idempotent() -> None:
    text = f'{{"authorizer_access_token":"{TOKEN}","expires_in":7200,"refresh_token":"{SHORT}'
    once = redact(text)
    assert redact(once) == once
    assert once == '{"authorizer_access_token":"***","expires_in":7200,"refresh_token":"***'


def test_redact_at_maps_a_position_into_the_redacted_text() -> None:
    text = f"abc {TOKEN} xyz"
    assert redact_at(text, 1) == ("abc *** xyz", 1)
    assert redact_at(text, 4 + 50) == ("abc *** xyz", 4)  # inside the token: on its mask
    assert redact_at(text, len(text) - 2) == ("abc *** xyz", len("abc *** xyz") - 2)
    assert redact_at("nothing here", 5) == ("nothing here", 5)


@pytest.mark.parametrize(
    ("endpoint", "carries"),
    [
        ("/cgi-bin/component/api_component_token", True),
        ("/cgi-bin/component/api_authorizer_token", True),
        ("/cgi-bin/component/api_query_auth", True),
        ("/cgi-bin/component/api_get_authorizer_list", True),
        ("/cgi-bin/component/api_get_authorizer_info", True),
        ("/cgi-bin/component/api_create_preauthcode", True),
        ("/cgi-bin/stable_token", True),
        ("/cgi-bin/component/getprivacysetting", False),
        ("/cgi-bin/component/setprivacysetting", False),
        ("/cgi-bin/component/uploadprivacyextfile", False),
        ("/wxa/security/get_privacy_interface", False),
        ("/wxa/security/apply_privacy_interface", False),
        ("", False),
    ],
)
def test_credential_endpoints(endpoint: str, carries: bool) -> None:
    assert carries_credentials(endpoint) is carries


def test_describe_never_quotes_a_token() -> None:
    shown = describe(TOKEN)
    assert shown == "string '***'"
    assert describe("ok") == "string 'ok'"


# -- regressions from a new-user trial (each with the exact failing input) ------------------------


async def test_html_page_echoing_the_url_does_not_leak_the_token() -> None:
    fake = FakeWeChat()
    client = await surface_make(fake)
    token = await client.authorizer_access_token(SURFACE_APPID)
    page = f"<html>Blocked: POST {paths.GET_PRIVACY_SETTING}?access_token={token} </html>".encode()
    fake.script[paths.GET_PRIVACY_SETTING] = [raw(200, page)]
    with pytest.raises(ResponseFormatError) as info:
        await client.get_privacy_setting(SURFACE_APPID)
    assert token not in str(info.value)
    assert "access_token=***" in str(info.value)


async def test_error_body_echoing_the_json_request_does_not_leak_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeWeChat()
    client = await surface_make(fake, retry=RetryPolicy(max_attempts=2))
    echo = json.dumps(
        {
            "component_appsecret": APPSECRET,
            "component_verify_ticket": TICKET,
            "component_appid": "x",
        }
    ).encode()
    fake.script[paths.COMPONENT_TOKEN] = [raw(502, echo), raw(502, echo)]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TransportError) as info:
        await client.component_access_token()
    text = str(info.value) + "\n".join(r.getMessage() for r in caplog.records)
    assert APPSECRET not in text and TICKET not in text
    # Answers of the token endpoint are never quoted (issue 9 §5); elsewhere the echo is redacted.
    assert f"{len(echo)} bytes, not quoted" in str(info.value)
    assert '"component_appsecret":"***"' in redact_text(echo.decode()).replace(" ", "")
