"""Regression tests for the defects a new-user trial found (each with the exact failing input)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from clock import FakeClock as Clock
from fakes import APPSECRET, COMPONENT_APPID, TICKET, FakeWeChat, errcode, no_sleep, raw

from wxprivacy import (
    ComponentClient,
    InvalidArgumentError,
    PrivacyConfigError,
    ResponseFormatError,
    RetryPolicy,
    TransportError,
)
from wxprivacy._redact import redact
from wxprivacy._serde import loads
from wxprivacy.audit import dumps_line

CT = "/cgi-bin/component/api_component_token"
AT = "/cgi-bin/component/api_authorizer_token"
GP = "/cgi-bin/component/getprivacysetting"
APPID = "wxa000000000000000"


async def make(fake: FakeWeChat, **kwargs: object) -> ComponentClient:
    client = ComponentClient(
        COMPONENT_APPID,
        APPSECRET,
        http_client=fake.client(),
        sleep=no_sleep,
        **kwargs,  # type: ignore[arg-type]
    )
    await client.set_component_verify_ticket(TICKET)
    await client.set_authorizer_refresh_token(APPID, "refresh-0")
    return client


async def test_html_page_echoing_the_url_does_not_leak_the_token() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    token = await client.authorizer_access_token(APPID)
    page = f"<html>Blocked: POST {GP}?access_token={token} </html>".encode()
    fake.script[GP] = [raw(200, page)]
    with pytest.raises(ResponseFormatError) as info:
        await client.get_privacy_setting(APPID)
    assert token not in str(info.value)
    assert "access_token=***" in str(info.value)


async def test_error_body_echoing_the_json_request_does_not_leak_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeWeChat()
    client = await make(fake, retry=RetryPolicy(max_attempts=2))
    echo = json.dumps(
        {
            "component_appsecret": APPSECRET,
            "component_verify_ticket": TICKET,
            "component_appid": "x",
        }
    ).encode()
    fake.script[CT] = [raw(502, echo), raw(502, echo)]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TransportError) as info:
        await client.component_access_token()
    text = str(info.value) + "\n".join(r.getMessage() for r in caplog.records)
    assert APPSECRET not in text and TICKET not in text
    # Answers of the token endpoint are never quoted (issue 9 §5); elsewhere the echo is redacted.
    assert f"{len(echo)} bytes, not quoted" in str(info.value)
    assert '"component_appsecret":"***"' in redact(echo.decode()).replace(" ", "")


def test_lone_surrogate_is_repaired_and_the_audit_line_can_be_written() -> None:
    body = (
        b'{"errcode":0,"setting_list":'
        b'[{"privacy_key":"UserInfo","privacy_text":"\\ud83d broken emoji"}]}'
    )
    data = loads(body)
    assert data["setting_list"][0]["privacy_text"] == "\ufffd broken emoji"
    line = dumps_line({"authorizer_appid": "wx1", "text": "\ud83d raw surrogate"})
    assert line.endswith(b"\n") and json.loads(line)["authorizer_appid"] == "wx1"


async def test_gzip_header_with_plain_body_is_a_format_error() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    await client.authorizer_access_token(APPID)
    fake.script[GP] = [
        lambda _r: httpx.Response(200, content=b"not gzip", headers={"Content-Encoding": "gzip"})
    ]
    with pytest.raises(ResponseFormatError, match="DecodingError"):
        await client.get_privacy_setting(APPID)


@pytest.mark.parametrize("base_url", ["http://[::1", "ftp://example.com", "api.weixin.qq.com", ""])
def test_bad_base_url_is_rejected_at_construction(base_url: str) -> None:
    with pytest.raises(InvalidArgumentError, match="base_url"):
        ComponentClient(COMPONENT_APPID, APPSECRET, base_url=base_url)


async def test_blank_rotated_refresh_token_keeps_the_old_one() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    answer = {
        "authorizer_access_token": "tok",
        "expires_in": 7200,
        "authorizer_refresh_token": "   ",
    }
    fake.script[AT] = [lambda _r: httpx.Response(200, json=answer)]
    assert await client.authorizer_access_token(APPID) == "tok"
    assert await client.authorizer_access_token(APPID) == "tok"
    assert fake.calls[AT] == 1
    assert await client.token_store.get_refresh_token(COMPONENT_APPID, APPID) == "refresh-0"


async def test_short_lived_token_is_not_refreshed_on_every_call() -> None:
    fake = FakeWeChat()
    clock = Clock()
    client = await make(fake, clock=clock)
    short = {"authorizer_access_token": "tok", "expires_in": 200, "authorizer_refresh_token": "r"}
    fake.script[AT] = [lambda _r: httpx.Response(200, json=short)]
    for _ in range(5):
        await client.authorizer_access_token(APPID)
    assert fake.calls[AT] == 1
    clock.now += 101  # past half its lifetime: refreshed early
    await client.authorizer_access_token(APPID)
    assert fake.calls[AT] == 2


async def test_a_single_string_is_not_a_list_of_appids() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    with pytest.raises(InvalidArgumentError, match="not a single string"):
        await client.get_privacy_settings("wxabc")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        client.iter_privacy_settings("wxabc")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="privacy_ver"):
        client.iter_privacy_settings([APPID], privacy_ver=3)  # raised at once, not at anext
    assert fake.calls == {}


async def test_huge_errmsg_is_cut() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    await client.authorizer_access_token(APPID)
    fake.script[GP] = [raw(200, json.dumps({"errcode": 86072, "errmsg": "x" * 1_000_000}).encode())]
    with pytest.raises(PrivacyConfigError) as info:
        await client.get_privacy_setting(APPID)
    assert len(info.value.errmsg) <= 501


async def test_61039_is_not_retried_in_band_but_marked_retryable() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    await client.authorizer_access_token(APPID)
    fake.script[GP] = [errcode(61039, "privacy check task unfinished")]
    with pytest.raises(Exception) as info:
        await client.get_privacy_setting(APPID)
    assert getattr(info.value, "errcode", None) == 61039
    assert getattr(info.value, "retryable", False) is True
    assert fake.calls[GP] == 1
