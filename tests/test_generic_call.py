"""Issue 13 §1: any WeChat endpoint through ``ComponentClient.call``, with the token chain,
retries, typed errors and the converter of the wrapped endpoints.

Unwrapped endpoints: ``GET /wxa/security/get_code_privacy_info`` (the emulator and a mock),
``POST /cgi-bin/openapi/quota/get`` and ``POST /cgi-bin/openapi/rid/get`` (mocks).
"""

from __future__ import annotations

import json
from typing import Any, Literal

import attrs
import httpx
import pytest
from client_factory import started

from wxprivacy import (
    AccessToken,
    ComponentClient,
    InvalidArgumentError,
    MemoryTokenStore,
    PrivacyInterfaceError,
    PrivacySetting,
    ResponseFormatError,
    RetryPolicy,
    TransportError,
)
from wxprivacy.emulator import Emulator

C = "wx0000000000000000"
A = "wx1111111111111111"
CODE_PRIVACY = "/wxa/security/get_code_privacy_info"
QUOTA = "/cgi-bin/openapi/quota/get"
RID = "/cgi-bin/openapi/rid/get"
NO_WAIT = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002)


@attrs.frozen
class QuotaNumbers:
    daily_limit: int
    used: int
    remain: int


@attrs.frozen
class ApiQuota:
    quota: QuotaNumbers


@attrs.frozen
class Unresolvable:
    inner: NoSuchType  # type: ignore[name-defined]  # noqa: F821 - unresolvable on purpose


@attrs.frozen
class Positive:
    count: int = attrs.field(validator=attrs.validators.gt(0))


@attrs.frozen
class Counts:
    counts: dict[str, int]
    kind: Literal["a", "b"] = "a"


@attrs.frozen
class CodePrivacy:
    without_auth_list: list[str]
    without_conf_list: list[str]


async def emulated() -> tuple[Emulator, ComponentClient, httpx.AsyncClient]:
    emu = Emulator(authorizers=6, seed=5)
    http = httpx.AsyncClient(transport=emu.transport())
    client = ComponentClient(emu.component_appid, emu.component_appsecret, http_client=http)
    await client.set_component_verify_ticket(emu.component_verify_ticket)
    for appid in emu.authorizer_appids:
        await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
    return emu, client, http


async def test_an_unwrapped_endpoint_of_the_emulator_with_its_typed_errors() -> None:
    emu, client, http = await emulated()
    async with http:
        appid = next(a for a in emu.authorizer_appids if emu.authorizer(a).permission_18)
        emu.authorizer(appid).code_checks_pending = 1  # the code's check is not finished yet
        with pytest.raises(PrivacyInterfaceError) as info:  # the errcode table's class for 61039
            await client.call(CODE_PRIVACY, method="GET", authorizer_appid=appid)
        assert info.value.errcode == 61039 and info.value.retryable
        data = await client.call(CODE_PRIVACY, method="GET", authorizer_appid=appid)
        assert set(data) >= {"without_auth_list", "without_conf_list"}
        typed = await client.call(
            CODE_PRIVACY, method="GET", authorizer_appid=appid, model=CodePrivacy
        )
        assert typed == CodePrivacy(data["without_auth_list"], data["without_conf_list"])


async def test_a_wrapped_endpoint_through_call_gives_the_same_model() -> None:
    emu, client, http = await emulated()
    async with http:
        appid = next(a for a in emu.authorizer_appids if emu.authorizer(a).permission_18)
        via_call = await client.call(
            "/cgi-bin/component/getprivacysetting",
            {"privacy_ver": 2},
            authorizer_appid=appid,
            idempotent=True,
            model=PrivacySetting,
        )
        assert via_call == await client.get_privacy_setting(appid)


def mocked(answer: Any) -> tuple[ComponentClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request, len(seen))

    store = MemoryTokenStore()
    client = ComponentClient(
        C,
        "secret",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handle)),
        token_store=store,
        retry=NO_WAIT,
    )
    return client, seen


async def warm(client: ComponentClient) -> None:
    store = client.token_store
    await store.set_authorizer_tokens(C, A, AccessToken("authorizer-token-1", 4e9), "refresh")
    async with store.lock(C, "component") as fence:
        await store.set_component_token(C, AccessToken("component-token-1", 4e9), fence=fence)


async def test_a_component_call_with_another_token_name_and_odd_case_keys() -> None:
    def answer(request: httpx.Request, _n: int) -> httpx.Response:
        body = {
            "errcode": 0,
            "errmsg": "ok",
            "Quota": {"Daily_Limit": 10000, "USED": 3, "remain": 9997},
        }
        return httpx.Response(200, json=body)

    client, seen = mocked(answer)
    await warm(client)
    quota = await client.call(QUOTA, {"cgi_path": "/cgi-bin/component/getprivacysetting"},
                              token_param="access_token", model=ApiQuota)  # fmt: skip
    assert quota == ApiQuota(QuotaNumbers(10000, 3, 9997))  # keys folded as for the SDK's models
    request = seen[0]
    assert request.method == "POST" and request.url.path == QUOTA
    assert dict(request.url.params) == {"access_token": "component-token-1"}
    assert json.loads(request.content) == {"cgi_path": "/cgi-bin/component/getprivacysetting"}


@pytest.mark.parametrize("idempotent", [None, False, True])
async def test_a_post_is_sent_again_only_when_idempotent(idempotent: bool | None) -> None:
    def answer(_request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            return httpx.Response(503)  # it may have reached WeChat
        return httpx.Response(
            200, json={"errcode": 0, "errmsg": "ok", "request": {"cost_in_ms": 5}}
        )

    client, seen = mocked(answer)
    await warm(client)
    call = client.call(RID, {"rid": "6489c365-3f78500b-2005fdda"}, authorizer_appid=A,
                       idempotent=idempotent)  # fmt: skip
    if idempotent:
        assert (await call)["request"] == {"cost_in_ms": 5}
        assert len(seen) == 2
    else:
        with pytest.raises(TransportError):
            await call
        assert len(seen) == 1  # a POST is not re-sent unless the caller says it may be
    assert dict(seen[0].url.params) == {"access_token": "authorizer-token-1"}


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
async def test_a_rejected_token_is_refreshed_once_and_the_call_made_again(errcode: int) -> None:
    def answer(request: httpx.Request, n: int) -> httpx.Response:
        path = request.url.path
        if path.endswith("api_component_token"):
            return httpx.Response(200, json={"component_access_token": "ct", "expires_in": 7200})
        if path.endswith("api_authorizer_token"):
            token = {"authorizer_access_token": "authorizer-token-2", "expires_in": 7200}
            return httpx.Response(200, json={**token, "authorizer_refresh_token": "r"})
        if request.url.params["access_token"] == "authorizer-token-1":
            return httpx.Response(200, json={"errcode": errcode, "errmsg": "invalid credential"})
        return httpx.Response(
            200, json={"errcode": 0, "without_auth_list": [], "without_conf_list": []}
        )

    client, seen = mocked(answer)
    await warm(client)
    await client.set_component_verify_ticket("ticket")
    data = await client.call(CODE_PRIVACY, method="GET", authorizer_appid=A)
    assert data["without_auth_list"] == []
    sent = [r.url.params.get("access_token") for r in seen if r.url.path == CODE_PRIVACY]
    assert sent == ["authorizer-token-1", "authorizer-token-2"]


async def test_an_answer_that_does_not_fit_the_model_names_the_field() -> None:
    def answer(_request: httpx.Request, _n: int) -> httpx.Response:
        return httpx.Response(
            200, json={"errcode": 0, "quota": {"daily_limit": "lots", "used": 1, "remain": 1}}
        )

    client, _seen = mocked(answer)
    await warm(client)
    with pytest.raises(ResponseFormatError, match="daily_limit"):
        await client.call(QUOTA, {}, token_param="access_token", model=ApiQuota)


@pytest.mark.parametrize(
    ("endpoint", "kwargs"),
    [
        ("https://evil.example/x", {}),
        ("/cgi-bin/x?access_token=abc", {}),
        ("//evil.example/x", {}),
        ("/x#frag", {}),
        ("wxa/no-slash", {}),
        (CODE_PRIVACY, {"method": "PUT"}),
        (CODE_PRIVACY, {"method": "GET", "body": {"a": 1}}),
        (CODE_PRIVACY, {"body": {"a": 1}, "files": {"f": ("a", b"b", "text/plain")}}),
        (CODE_PRIVACY, {"body": {"a": object()}}),
        (CODE_PRIVACY, {"token_param": "access_token&x=1"}),
        (CODE_PRIVACY, {"authorizer_appid": " wx1111111111111111"}),
        (CODE_PRIVACY, {"model": dict}),
        # found by the trial: dot segments, which HTTP libraries collapse (the token would leave
        # base_url), a non-bool idempotent, a model the converter cannot build
        ("/../x/y", {}),
        ("/wxa/../cgi-bin/component/api_component_token", {}),
        ("/..", {}),
        ("/wxa/./get_category", {}),
        (CODE_PRIVACY, {"idempotent": "yes"}),
        (CODE_PRIVACY, {"model": Unresolvable}),
    ],
)
async def test_bad_calls_are_refused_before_anything_is_sent(
    endpoint: str, kwargs: dict[str, Any]
) -> None:
    client, seen = mocked(lambda _r, _n: httpx.Response(200, json={"errcode": 0}))
    body = kwargs.pop("body", None)
    with pytest.raises(InvalidArgumentError):
        await client.call(endpoint, body, **kwargs)
    assert seen == []


@pytest.mark.parametrize(
    ("model", "answer"),
    [
        (Positive, {"count": -1}),  # the class's own validator refuses it
        (Counts, {"counts": [1, 2]}),  # a list where a dict is declared
        (Counts, {"counts": {"x": "many"}}),
        (Counts, {"counts": {}, "kind": "c"}),  # outside the Literal
    ],
)
async def test_an_answer_that_a_callers_model_refuses_is_a_response_format_error(
    model: type, answer: dict[str, Any]
) -> None:
    """Found by the trial: bare AttributeError, ValueError and cattrs errors escaped."""
    client, _seen = mocked(lambda _r, _n: httpx.Response(200, json={"errcode": 0, **answer}))
    await warm(client)
    with pytest.raises(ResponseFormatError):
        await client.call(QUOTA, {}, token_param="access_token", model=model)


# -- regressions from the issue-13 trial (a fresh clone, the README, then breaking it) -----------


async def test_a_404_says_to_check_the_path_and_not_that_it_carries_credentials() -> None:
    """Was: ``unexpected HTTP 404 from /wxa/memberauth: 13 bytes, not quoted (answers from this
    endpoint carry credentials)``."""
    from wxprivacy import ResponseFormatError

    emu = Emulator(authorizers=1)
    appid = emu.authorizer_appids[0]
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = await started(emu, http)
        await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
        with pytest.raises(ResponseFormatError) as caught:
            await client.call("/wxa/getprivacysettin", authorizer_appid=appid, idempotent=True)
        await client.aclose()
    assert "is the endpoint path right?" in str(caught.value)
    assert "carry credentials" not in str(caught.value)
