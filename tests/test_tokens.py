"""The token chain: caching, single flight, invalid-token handling, missing credentials."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from client_factory import APPID as SURFACE_APPID
from client_factory import make as surface_make
from clock import FakeClock
from clock import FakeClock as Clock
from fakes import APPSECRET, COMPONENT_APPID, TICKET, FakeWeChat, errcode, no_sleep
from transports import over_each_transport  # noqa: F401 - the fixture below

from wxprivacy import (
    ComponentClient,
    ComponentCredentialError,
    MemoryTokenStore,
    MissingRefreshTokenError,
    MissingVerifyTicketError,
    QuotaExceededError,
    ReauthorizationRequiredError,
    TokenInvalidError,
    paths,
)
from wxprivacy._tokens import EARLY_RETRY_DELAY

pytestmark = pytest.mark.usefixtures("over_each_transport")

CT = "/cgi-bin/component/api_component_token"
AT = "/cgi-bin/component/api_authorizer_token"


async def make(fake: FakeWeChat, *, clock: Clock | None = None, appids: int = 1) -> ComponentClient:
    client = ComponentClient(
        COMPONENT_APPID,
        APPSECRET,
        **fake.wire(),
        clock=clock or Clock(),
        sleep=no_sleep,
        token_store=MemoryTokenStore(clock=clock or Clock()),
    )
    await client.set_component_verify_ticket(TICKET)
    for i in range(appids):
        await client.set_authorizer_refresh_token(f"wxa{i:015d}", f"refresh-{i}")
    return client


async def test_token_requests_are_exactly_right() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    token = await client.authorizer_access_token("wxa000000000000000")
    assert token.startswith("atoken-wxa000000000000000")
    first, second = fake.requests
    assert first.method == "POST" and first.url.path == CT and first.url.query == b""
    assert json.loads(first.content) == {
        "component_appid": COMPONENT_APPID,
        "component_appsecret": APPSECRET,
        "component_verify_ticket": TICKET,
    }
    assert first.headers["content-type"].startswith("application/json")
    assert second.url.path == AT
    assert dict(second.url.params) == {"component_access_token": fake.component_tokens[0]}
    assert json.loads(second.content) == {
        "component_appid": COMPONENT_APPID,
        "authorizer_appid": "wxa000000000000000",
        "authorizer_refresh_token": "refresh-0",
    }


async def test_second_call_uses_the_cache() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    a = await client.authorizer_access_token("wxa000000000000000")
    b = await client.authorizer_access_token("wxa000000000000000")
    assert a == b
    assert fake.calls == {CT: 1, AT: 1}


async def test_tokens_refresh_before_expiry_margin() -> None:
    fake = FakeWeChat()
    clock = Clock()
    client = await make(fake, clock=clock)
    first = await client.authorizer_access_token("wxa000000000000000")
    clock.now += 7200 - 301  # still outside the 300 s margin
    assert await client.authorizer_access_token("wxa000000000000000") == first
    clock.now += 2  # inside the margin: refresh
    assert await client.authorizer_access_token("wxa000000000000000") != first
    assert fake.calls[AT] == 2
    assert fake.calls[CT] == 2  # the component token had the same lifetime


async def test_failed_early_refresh_keeps_serving_the_valid_token() -> None:
    fake = FakeWeChat()
    clock = Clock()
    client = await make(fake, clock=clock)
    first = await client.authorizer_access_token("wxa000000000000000")
    clock.now += 7200 - 200  # inside the margin, still valid
    fake.script[CT] = [errcode(48001, "api unauthorized")]
    fake.script[AT] = [errcode(48001, "api unauthorized")]
    # the component refresh fails but its old token still serves; the authorizer refresh fails too
    assert await client.authorizer_access_token("wxa000000000000000") == first
    assert fake.calls == {CT: 2, AT: 2}


async def test_fifty_concurrent_calls_make_one_refresh_each() -> None:
    fake = FakeWeChat(delay=0.01)
    client = await make(fake)
    tokens = await asyncio.gather(
        *(client.authorizer_access_token("wxa000000000000000") for _ in range(50))
    )
    assert len(set(tokens)) == 1
    assert fake.calls == {CT: 1, AT: 1}


async def test_twenty_authorizers_three_calls_each() -> None:
    fake = FakeWeChat(delay=0.005)
    client = await make(fake, appids=20)
    calls = [client.authorizer_access_token(f"wxa{i:015d}") for i in range(20) for _ in range(3)]
    await asyncio.gather(*calls)
    assert fake.calls == {CT: 1, AT: 20}


async def test_cancelled_leader_does_not_strand_waiters() -> None:
    fake = FakeWeChat(delay=0.05)
    client = await make(fake)
    leader = asyncio.create_task(client.authorizer_access_token("wxa000000000000000"))
    await asyncio.sleep(0.01)  # the leader's refresh is in flight
    waiters = [
        asyncio.create_task(client.authorizer_access_token("wxa000000000000000")) for _ in range(5)
    ]
    await asyncio.sleep(0)
    leader.cancel()
    results = await asyncio.gather(*waiters)
    assert len(set(results)) == 1
    assert leader.cancelled()
    assert fake.calls == {CT: 1, AT: 1}


async def test_failed_refresh_reaches_every_waiter_and_next_call_retries() -> None:
    fake = FakeWeChat(delay=0.01)
    client = await make(fake)
    fake.script[AT] = [errcode(61023, "refresh_token is invalid")]
    results = await asyncio.gather(
        *(client.authorizer_access_token("wxa000000000000000") for _ in range(10)),
        return_exceptions=True,
    )
    assert all(isinstance(r, ReauthorizationRequiredError) and r.errcode == 61023 for r in results)
    assert fake.calls[AT] == 1
    assert (await client.authorizer_access_token("wxa000000000000000")).startswith("atoken-")
    assert fake.calls[AT] == 2


async def test_rotated_refresh_token_is_stored() -> None:
    fake = FakeWeChat(rotate=True)
    client = await make(fake)
    await client.authorizer_access_token("wxa000000000000000")
    stored = await client.token_store.get_refresh_token(COMPONENT_APPID, "wxa000000000000000")
    assert stored == fake.refresh_tokens["wxa000000000000000"] != "refresh-0"


async def test_empty_refresh_token_in_answer_keeps_the_old_one() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    fake.script[AT] = [
        lambda _r: httpx.Response(
            200,
            json={
                "authorizer_access_token": "x",
                "expires_in": 7200,
                "authorizer_refresh_token": "",
            },
        )
    ]
    await client.authorizer_access_token("wxa000000000000000")
    assert (
        await client.token_store.get_refresh_token(COMPONENT_APPID, "wxa000000000000000")
        == "refresh-0"
    )


async def test_component_token_rejected_on_authorizer_token_is_refreshed_once() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    fake.script[AT] = [errcode(42001, "access_token expired")]
    await client.authorizer_access_token("wxa000000000000000")
    assert fake.calls == {CT: 2, AT: 2}
    assert dict(fake.requests[-1].url.params)["component_access_token"] == fake.component_tokens[1]


async def test_component_token_rejected_twice_raises_without_looping() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    fake.script[AT] = [errcode(40001, "invalid credential"), errcode(40001, "invalid credential")]
    with pytest.raises(TokenInvalidError) as info:
        await client.authorizer_access_token("wxa000000000000000")
    assert info.value.errcode == 40001
    assert fake.calls == {CT: 2, AT: 2}


async def test_40001_from_component_token_endpoint_means_bad_credentials() -> None:
    fake = FakeWeChat()
    client = await make(fake)
    fake.script[CT] = [errcode(40001, "invalid credential")]
    with pytest.raises(ComponentCredentialError) as info:
        await client.component_access_token()
    assert info.value.errcode == 40001
    assert fake.calls == {CT: 1}


async def test_missing_ticket_sends_nothing() -> None:
    fake = FakeWeChat()
    client = ComponentClient(COMPONENT_APPID, APPSECRET, **fake.wire())
    await client.set_authorizer_refresh_token("wxa000000000000000", "refresh-0")
    with pytest.raises(MissingVerifyTicketError):
        await client.authorizer_access_token("wxa000000000000000")
    assert fake.calls == {}


async def test_missing_refresh_token_sends_nothing() -> None:
    fake = FakeWeChat()
    client = await make(fake, appids=0)
    with pytest.raises(MissingRefreshTokenError) as info:
        await client.authorizer_access_token("wxa000000000000009")
    assert info.value.authorizer_appid == "wxa000000000000009"
    assert fake.calls == {}


async def test_ticket_expires_after_twelve_hours() -> None:
    clock = Clock()
    store = MemoryTokenStore(clock=clock)
    await store.set_verify_ticket(COMPONENT_APPID, TICKET, ttl=60)  # never shorter than 12 h
    clock.now += 12 * 3600 - 1
    assert await store.get_verify_ticket(COMPONENT_APPID) == TICKET
    clock.now += 2
    assert await store.get_verify_ticket(COMPONENT_APPID) is None


async def test_compare_and_invalidate_keeps_a_newer_token() -> None:
    from wxprivacy import AccessToken

    store = MemoryTokenStore()
    await store.set_authorizer_tokens(COMPONENT_APPID, "wxa", AccessToken("new", 2e9), "r")
    assert not await store.invalidate_authorizer_token(COMPONENT_APPID, "wxa", "old")
    assert (await store.get_authorizer_token(COMPONENT_APPID, "wxa")) == AccessToken("new", 2e9)
    assert await store.invalidate_authorizer_token(COMPONENT_APPID, "wxa", "new")
    assert await store.get_authorizer_token(COMPONENT_APPID, "wxa") is None


async def test_secrets_never_logged_or_shown(
    caplog: pytest.LogCaptureFixture,
    over_each_transport: str,  # noqa: F811 - the fixture's value
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeWeChat()
    client = await make(fake)
    fake.script[AT] = [errcode(-1, "system error"), errcode(40001, "invalid credential")]
    token = await client.authorizer_access_token("wxa000000000000000")
    fake.script[CT] = [errcode(40001, "invalid credential")]
    await client.token_store.invalidate_component_token(COMPONENT_APPID, fake.component_tokens[-1])
    with pytest.raises(ComponentCredentialError) as info:
        await client.component_access_token()
    secrets = [APPSECRET, TICKET, token, "refresh-0", *fake.component_tokens]
    text = "\n".join(r.getMessage() for r in caplog.records) + repr(client) + str(info.value)
    assert "api_authorizer_token" in text  # the retry was logged...
    for secret in secrets:
        assert secret not in text  # ...without any secret
    if over_each_transport != "aiohttp":  # the aiohttp backend logs no request lines
        assert "HTTP Request" in text  # httpx's own line is there, redacted


@pytest.mark.parametrize("calls", [1, 10, 40])
async def test_a_failed_early_refresh_waits_before_trying_again(
    calls: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 11 §5: 10 calls inside the margin after a failed early refresh used to make 20
    extra api_component_token requests and log 10 warnings. Now: one attempt, one warning, the
    valid token serves, and the next attempt comes EARLY_RETRY_DELAY seconds later."""
    fake = FakeWeChat()
    clock = Clock()
    client = await make(fake, clock=clock)
    first = await client.component_access_token()
    clock.now += 7200 - 200  # inside the margin, still valid
    # a refusal that is not a quota (a 45009 holds the endpoint for the day: see below)
    fake.script[CT] = [errcode(48001, "api unauthorized")] * 3
    with caplog.at_level(logging.WARNING, logger="wxprivacy"):
        for _ in range(calls):
            assert await client.component_access_token() == first
            clock.now += 0.5
    assert fake.calls[CT] == 2  # the first fetch and one early attempt
    assert sum("early refresh" in r.getMessage() for r in caplog.records) == 1
    clock.now += EARLY_RETRY_DELAY  # the delay has passed: one more attempt (refused again)
    assert await client.component_access_token() == first
    assert fake.calls[CT] == 3


async def test_no_backoff_once_the_token_is_no_longer_usable() -> None:
    fake = FakeWeChat()
    clock = Clock()
    client = await make(fake, clock=clock)
    first = await client.component_access_token()
    clock.now += 7200 - 40  # inside the margin, 10 s before the token stops being usable
    fake.script[CT] = [errcode(48001, "api unauthorized")]
    assert await client.component_access_token() == first
    clock.now += 15  # within the back-off, but the old token is no longer usable: fetch now
    assert await client.component_access_token() != first
    assert fake.calls[CT] == 3


async def test_a_45009_at_api_component_token_is_not_sent_again_until_the_reset() -> None:
    """Issue 14 §1: the daily quota of api_component_token is spent (it cannot be cleared, per
    WeChat staff): early refreshes stop asking, the valid token serves until it stops being
    usable, then the call fails at once, unsent, with the 45009; lifting the hold (after the
    reset) sends again."""
    fake = FakeWeChat()
    clock = Clock()
    client = await make(fake, clock=clock)
    first = await client.component_access_token()
    clock.now += 7200 - 200  # inside the margin, still valid
    fake.script[CT] = [errcode(45009, "reach max api daily quota limit")]
    assert await client.component_access_token() == first
    for _ in range(3):
        clock.now += EARLY_RETRY_DELAY
        assert await client.component_access_token() == first
    assert fake.calls[CT] == 2  # the first fetch and the refused early attempt
    clock.now += 200  # the token is no longer usable
    with pytest.raises(QuotaExceededError, match="not sent"):
        await client.component_access_token()
    assert fake.calls[CT] == 2
    await client.rate_limiter.store.release(COMPONENT_APPID, f"daily:{CT}")
    assert await client.component_access_token() != first
    assert fake.calls[CT] == 3


# -- regressions from a new-user trial (each with the exact failing input) ------------------------


async def test_short_lived_token_is_not_refreshed_on_every_call() -> None:
    fake = FakeWeChat()
    clock = FakeClock()
    client = await surface_make(fake, clock=clock)
    short = {"authorizer_access_token": "tok", "expires_in": 200, "authorizer_refresh_token": "r"}
    fake.script[paths.AUTHORIZER_TOKEN] = [lambda _r: httpx.Response(200, json=short)]
    for _ in range(5):
        await client.authorizer_access_token(SURFACE_APPID)
    assert fake.calls[paths.AUTHORIZER_TOKEN] == 1
    clock.now += 101  # past half its lifetime: refreshed early
    await client.authorizer_access_token(SURFACE_APPID)
    assert fake.calls[paths.AUTHORIZER_TOKEN] == 2
