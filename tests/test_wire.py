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
