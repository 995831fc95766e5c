"""Sans-I/O decoding: bytes -> dict or the right typed error."""

from __future__ import annotations

import json

import pytest
from client_factory import APPID as SURFACE_APPID
from client_factory import make as surface_make
from fakes import FakeWeChat, raw
from fixture_data import fixture_bytes

from wxprivacy import (
    PrivacyConfigError,
    QuotaExceededError,
    ResponseFormatError,
    TokenInvalidError,
    TransportError,
    paths,
)
from wxprivacy._wire import decode_response, redact, split_rid

EP = "/cgi-bin/component/getprivacysetting"


def test_rid_is_split_from_errmsg() -> None:
    assert split_rid("access_token expired rid: 6553f164-0badc0de-00c0ffee") == (
        "access_token expired",
        "6553f164-0badc0de-00c0ffee",
    )
    assert split_rid("x, rid: 65ec5fd8-0000aaaa-bbbbcccc") == ("x", "65ec5fd8-0000aaaa-bbbbcccc")
    assert split_rid("reach max api daily quota limit hint: [AbCdEf01234567]") == (
        "reach max api daily quota limit hint: [AbCdEf01234567]",
        None,
    )


@pytest.mark.parametrize(
    ("name", "cls", "code", "text", "rid"),
    [
        (
            "error_40001.json",
            TokenInvalidError,
            40001,
            "invalid credential, access_token is invalid or not latest",
            "6553f100-1a2b3c4d-5e6f7081",
        ),
        (
            "error_86072.json",
            PrivacyConfigError,
            86072,
            "store_expire_timestamp参数无效。如果是编码格式不对，也会报这个错",
            "6553f358-01020304-05060708",
        ),
        (
            "error_87072.json",
            PrivacyConfigError,
            87072,
            "store_expire_timestamp参数无效",
            "6553f2f4-55667788-99aabbcc",
        ),
        (
            "error_45009_legacy_hint.json",
            QuotaExceededError,
            45009,
            "reach max api daily quota limit hint: [AbCdEf01234567]",
            None,
        ),
        (
            "error_61004.json",
            Exception,
            61004,
            "access clientip is not registered requestIP: 203.0.113.7",
            "6553f4e8-21436587-a9cbed0f",
        ),
    ],
)
def test_error_fixtures_decode_to_typed_errors(
    name: str, cls: type, code: int, text: str, rid: str | None
) -> None:
    with pytest.raises(cls) as info:
        decode_response(200, fixture_bytes(name), endpoint=EP)
    err = info.value
    assert (err.errcode, err.rid, err.endpoint) == (code, rid, EP)
    assert err.errmsg.startswith(text)


def test_errcode_as_string_is_coerced() -> None:
    with pytest.raises(TokenInvalidError):
        decode_response(200, b'{"errcode": "40001", "errmsg": "x"}', endpoint=EP)


@pytest.mark.parametrize(
    ("status", "body", "needle"),
    [
        (200, b"", "empty response from"),
        (200, b"   ", "empty response from"),
        (200, b"<html>502 Bad Gateway</html>", "is not valid JSON"),
        (200, b"[1, 2]", "JSON list, not an object"),
        (200, b'"ok"', "JSON str, not an object"),
        (200, b'{"errcode": "forty", "errmsg": "x"}', "errcode"),
        (404, b"<html>Not Found</html>", "unexpected HTTP 404"),
    ],
)
def test_malformed_bodies_raise_format_error(status: int, body: bytes, needle: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        decode_response(status, body, endpoint=EP)
    assert needle in str(info.value)
    assert info.value.status_code == status


def test_5xx_is_a_transport_error() -> None:
    with pytest.raises(TransportError) as info:
        decode_response(503, b"busy", endpoint=EP)
    assert info.value.status_code == 503


def test_raw_control_characters_parse() -> None:
    body = b'{"errcode": 0, "errmsg": "ok", "note": "line1\nline2\ttab"}'
    assert decode_response(200, body, endpoint=EP)["note"] == "line1\nline2\ttab"


def test_redact_hides_tokens_in_urls() -> None:
    url = "https://api.weixin.qq.com/x?component_access_token=SECRET1&a=1&access_token=SECRET2"
    assert "SECRET" not in redact(url)
    assert "a=1" in redact(url)


def test_format_error_snippet_is_short_and_redacted() -> None:
    body = b"<html>" + b"x" * 5000 + b"?access_token=SECRET</html>"
    with pytest.raises(ResponseFormatError) as info:
        decode_response(200, body, endpoint=EP)
    assert len(str(info.value)) < 250
    assert "SECRET" not in str(info.value)


# -- regressions from a new-user trial (each with the exact failing input) ------------------------


async def test_huge_errmsg_is_cut() -> None:
    fake = FakeWeChat()
    client = await surface_make(fake)
    await client.authorizer_access_token(SURFACE_APPID)
    fake.script[paths.GET_PRIVACY_SETTING] = [
        raw(200, json.dumps({"errcode": 86072, "errmsg": "x" * 1_000_000}).encode())
    ]
    with pytest.raises(PrivacyConfigError) as info:
        await client.get_privacy_setting(SURFACE_APPID)
    assert len(info.value.errmsg) <= 501


# -- numbers read by one rule: expires_in and errcode (re-check of the issue-12 trial) -------------

_LIFETIMES_REFUSED = [
    b"1" + b"0" * 400,  # was a bare OverflowError (int too large to convert to float)
    b'"1' + b"0" * 400 + b'"',
    b"1e400",
    b"99999999999999999999",
    b"1e300",
    b'"1_0"',
    b'"\xd9\xa1\xd9\xa0"',  # Arabic-Indic digits
    b"0",
    b"-5",
    b"true",
    b"31622401",  # a year and a day
    b"7200.5",
]


@pytest.mark.parametrize("raw_value", _LIFETIMES_REFUSED)
def test_an_impossible_token_lifetime_is_refused_by_name(raw_value: bytes) -> None:
    from wxprivacy._wire import require_seconds

    data = decode_response(200, b'{"expires_in":%s,"t":"\t"}' % raw_value, endpoint="/e")
    with pytest.raises(ResponseFormatError) as info:
        require_seconds(data, "expires_in", endpoint="/e", default=7200.0)
    assert info.value.field_path == "expires_in"


@pytest.mark.parametrize(("raw_value", "seconds"), [(b"7200", 7200.0), (b'" 600 "', 600.0)])
def test_a_token_lifetime_in_range_is_read(raw_value: bytes, seconds: float) -> None:
    from wxprivacy._wire import require_seconds

    data = decode_response(200, b'{"expires_in":%s}' % raw_value, endpoint="/e")
    assert require_seconds(data, "expires_in", endpoint="/e", default=1.0) == seconds


@pytest.mark.parametrize(
    ("raw_code", "kind"),
    [
        (b'"4_5011"', ResponseFormatError),  # int() reads it; no integer field does
        ('"\u0664\u0665\u0660\u0661\u0661"'.encode(), ResponseFormatError),
        (b"45011.0", QuotaExceededError),  # an exact integral float, as every integer field
        (b'" 45011 "', QuotaExceededError),
        (b"1" + b"0" * 400, ResponseFormatError),
    ],
)
def test_errcode_follows_the_rule_of_every_integer_field(raw_code: bytes, kind: type) -> None:
    with pytest.raises(kind):
        decode_response(200, b'{"errcode":%s,"errmsg":"x"}' % raw_code, endpoint="/e")
