"""Transient failures are retried per RetryPolicy and end in typed errors; permanent ones not."""

from __future__ import annotations

import logging

import httpx
import pytest
from client_factory import APPID as SURFACE_APPID
from client_factory import make as surface_make
from fakes import APPSECRET, COMPONENT_APPID, TICKET, FakeWeChat, errcode, raises, raw

from wxprivacy import (
    ComponentClient,
    InvalidArgumentError,
    MinuteQuotaExceededError,
    PermissionDeniedError,
    QuotaExceededError,
    ReauthorizationRequiredError,
    ResponseFormatError,
    RetryPolicy,
    SystemBusyError,
    TransportError,
    paths,
)

CT = "/cgi-bin/component/api_component_token"
GP = "/cgi-bin/component/getprivacysetting"
APPID = "wxa000000000000000"


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def client_for(
    fake: FakeWeChat, sleeps: Sleeps, retry: RetryPolicy | None = None
) -> ComponentClient:
    client = ComponentClient(
        COMPONENT_APPID, APPSECRET, http_client=fake.client(), retry=retry, sleep=sleeps
    )
    await client.set_component_verify_ticket(TICKET)
    return client


@pytest.mark.parametrize(
    "failure",
    [
        errcode(-1, "system error"),
        raw(502, b"<html>Bad Gateway</html>"),
        raw(503, b""),
        raw(429, b"slow down"),
        raises(httpx.ReadTimeout("timed out")),
        raises(httpx.ConnectError("connection refused")),
        raises(httpx.RemoteProtocolError("peer closed connection")),
        raises(httpx.ReadError("connection reset by peer")),
    ],
    ids=["errcode-1", "502", "503-empty", "429", "read-timeout", "connect", "protocol", "reset"],
)
async def test_transient_failures_are_retried(failure: object) -> None:
    fake, sleeps = FakeWeChat(), Sleeps()
    client = await client_for(fake, sleeps)
    fake.script[CT] = [failure, failure]  # type: ignore[list-item]
    assert (await client.component_access_token()).startswith("ctoken-")
    assert fake.calls[CT] == 3
    assert len(sleeps.waits) == 2


async def test_backoff_is_bounded_exponential_with_jitter() -> None:
    fake, sleeps = FakeWeChat(), Sleeps()
    policy = RetryPolicy(max_attempts=6, initial_backoff=0.5, max_backoff=2.0)
    client = await client_for(fake, sleeps, policy)
    fake.script[CT] = [errcode(-1)] * 6
    with pytest.raises(SystemBusyError) as info:
        await client.component_access_token()
    assert info.value.errcode == -1
    assert fake.calls[CT] == 6
    assert len(sleeps.waits) == 5
    assert all(0 <= w <= 2.0 for w in sleeps.waits)
    bounds = [min(2.0, 0.5 * 2**i) for i in range(5)]
    assert all(w <= b for w, b in zip(sleeps.waits, bounds, strict=True))


async def test_exhausted_transport_retries_raise_typed_error() -> None:
    fake, sleeps = FakeWeChat(), Sleeps()
    client = await client_for(fake, sleeps, RetryPolicy(max_attempts=2))
    fake.script[CT] = [raises(httpx.ReadTimeout("timed out"))] * 2
    with pytest.raises(TransportError) as info:
        await client.component_access_token()
    assert info.value.endpoint == CT
    assert "ReadTimeout" in str(info.value)
    assert fake.calls[CT] == 2


async def test_exhausted_5xx_names_the_status() -> None:
    fake, sleeps = FakeWeChat(), Sleeps()
    client = await client_for(fake, sleeps, RetryPolicy(max_attempts=2))
    fake.script[CT] = [raw(502, b"<html>bad gateway</html>")] * 2
    with pytest.raises(TransportError) as info:
        await client.component_access_token()
    assert info.value.status_code == 502
    # The token endpoint's answers are never quoted, only measured (issue 9 §5).
    assert "HTTP 502" in str(info.value) and "24 bytes, not quoted" in str(info.value)
    assert "bad gateway" not in str(info.value)


async def test_exhausted_5xx_quotes_the_body_of_a_privacy_endpoint() -> None:
    fake, sleeps = FakeWeChat(), Sleeps()
    client = await client_for(fake, sleeps, RetryPolicy(max_attempts=2))
    await client.set_authorizer_refresh_token(APPID, "refresh-0")
    fake.script[GP] = [raw(502, b"<html>bad gateway</html>")] * 2
    with pytest.raises(TransportError) as info:
        await client.get_privacy_setting(APPID)
    assert info.value.status_code == 502
    assert "bad gateway" in str(info.value)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (45009, QuotaExceededError),
        (45011, MinuteQuotaExceededError),
        (61023, ReauthorizationRequiredError),
        (61003, ReauthorizationRequiredError),
        (48001, PermissionDeniedError),
        (61007, PermissionDeniedError),
        (86074, Exception),
    ],
)
async def test_permanent_codes_are_not_retried(code: int, cls: type[Exception]) -> None:
    fake, sleeps = FakeWeChat(), Sleeps()
    client = await client_for(fake, sleeps)
    fake.script[CT] = [errcode(code)]
    with pytest.raises(cls):
        await client.component_access_token()
    assert fake.calls[CT] == 1
    assert sleeps.waits == []


async def test_html_body_is_a_format_error_with_status_and_length() -> None:
    fake, sleeps = FakeWeChat(), Sleeps()
    client = await client_for(fake, sleeps)
    fake.script[CT] = [raw(200, b"<html><body>maintenance</body></html>")]
    with pytest.raises(ResponseFormatError) as info:
        await client.component_access_token()
    assert "HTTP 200" in str(info.value) and "37 bytes, not quoted" in str(info.value)
    assert "maintenance" not in str(info.value)
    assert fake.calls[CT] == 1


async def test_html_body_of_a_privacy_endpoint_is_quoted() -> None:
    fake, sleeps = FakeWeChat(), Sleeps()
    client = await client_for(fake, sleeps)
    await client.set_authorizer_refresh_token(APPID, "refresh-0")
    fake.script[GP] = [raw(200, b"<html><body>maintenance</body></html>")]
    with pytest.raises(ResponseFormatError) as info:
        await client.get_privacy_setting(APPID)
    assert "HTTP 200" in str(info.value) and "maintenance" in str(info.value)
    assert fake.calls[GP] == 1


async def test_retries_are_logged_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    fake, sleeps = FakeWeChat(), Sleeps()
    client = await client_for(fake, sleeps)
    fake.script[CT] = [errcode(-1, "system error")]
    with caplog.at_level(logging.WARNING, logger="wxprivacy"):
        await client.component_access_token()
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("wxprivacy")
    ]
    assert len(warnings) == 1
    assert "retrying /cgi-bin/component/api_component_token" in warnings[0].getMessage()


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"initial_backoff": 0}, {"max_backoff": -1.0}]
)
def test_retry_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidArgumentError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_retry_policy_defaults() -> None:
    assert RetryPolicy() == RetryPolicy(max_attempts=4, initial_backoff=0.5, max_backoff=8.0)


# -- regressions from a new-user trial (each with the exact failing input) ------------------------


async def test_61039_is_not_retried_in_band_but_marked_retryable() -> None:
    fake = FakeWeChat()
    client = await surface_make(fake)
    await client.authorizer_access_token(SURFACE_APPID)
    fake.script[paths.GET_PRIVACY_SETTING] = [errcode(61039, "privacy check task unfinished")]
    with pytest.raises(Exception) as info:
        await client.get_privacy_setting(SURFACE_APPID)
    assert getattr(info.value, "errcode", None) == 61039
    assert getattr(info.value, "retryable", False) is True
    assert fake.calls[paths.GET_PRIVACY_SETTING] == 1
