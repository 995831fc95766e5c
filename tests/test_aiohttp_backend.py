"""wxprivacy._aiohttp_backend: URLs built from their parts equal aiohttp's own parse; no cookies
kept; each answer's connection back in the pool. (Exchanges, errors and deadlines over this
backend: ``test_exchange.py``, ``test_transport.py`` and the tests run ``over_each_transport``.)"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from transports import serve_on_localhost
from yarl import URL

from wxprivacy import TransportError, _aiohttp_backend
from wxprivacy._aiohttp_backend import AiohttpBackend, _Urls
from wxprivacy._deadline import Progress
from wxprivacy._exchange import ExchangeError, build_request
from wxprivacy._http import WireClient
from wxprivacy._retry import RetryPolicy

BASES = (
    "https://api.weixin.qq.com",
    "http://127.0.0.1:8000",
    "HTTP://API.Weixin.QQ.com:443",
    "https://api.weixin.qq.com:443",
    "http://[::1]:8080",
    "http://例子.测试",
    "relative/path",
    "http://h/frag#x",
)
ENDPOINTS = ("/cgi-bin/component/getprivacysetting", "/a b/%7Euser/", "/q?already=1", "")


@settings(max_examples=400)
@given(
    base=st.sampled_from(BASES),
    endpoint=st.sampled_from(ENDPOINTS),
    token=st.text(max_size=40),
    query=st.none() | st.text(max_size=20),
)
def test_a_url_from_its_parts_is_the_url_aiohttp_parses(
    base: str, endpoint: str, token: str, query: str | None
) -> None:
    """Whatever the token (percent-encoded by build_request when it must be) or query: the
    URL handed to aiohttp is the one ``yarl.URL(url)`` gives, to the byte."""
    url = build_request("POST", base + endpoint, token=("access_token", token)).url
    if query is not None:
        url = f"{base}{endpoint}?{query}"
    urls = _Urls()
    for _ in range(2):  # the part before the query parsed, then remembered
        try:
            expected = URL(url)
        except ValueError:
            with pytest.raises(ValueError):
                urls(url)
            return
        built = urls(url)
        assert str(built) == str(expected) and built == expected
        assert built.raw_query_string == expected.raw_query_string


def test_the_remembered_bases_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_aiohttp_backend, "_MAX_BASES", 4)
    urls = _Urls()
    for index in range(50):
        assert str(urls(f"http://h/{index}?access_token=t")) == f"http://h/{index}?access_token=t"
        assert len(urls._bases) <= 4


async def test_no_cookie_is_kept_or_sent_and_connections_are_reused() -> None:
    """A cookie one authorizer's answer sets is never sent with another's request; every
    answer's connection goes back to the pool (one connection for sequential calls)."""
    seen: list[tuple[str | None, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        transport = request.transport
        seen.append((request.headers.get("Cookie"), id(transport)))
        response = web.json_response({"errcode": 0})
        response.set_cookie("session", request.query.get("access_token", ""))
        return response

    runner, url = await serve_on_localhost(handler)
    backend = AiohttpBackend()
    try:
        for index in range(5):
            request = build_request("POST", url + "/x", token=("access_token", f"t{index}"))
            answer = await backend.send(request, Progress())
            assert answer.status == 200 and answer.body == b'{"errcode": 0}'
        assert [cookie for cookie, _ in seen] == [None] * 5
        assert len({connection for _, connection in seen}) == 1
        assert backend._exchanges == {}
    finally:
        await backend.aclose()
        await runner.cleanup()


async def test_a_send_cancelled_while_reading_releases_its_connection() -> None:
    started, done = asyncio.Event(), asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = 100
        await response.prepare(request)
        await response.write(b'{"errcode":')
        started.set()
        await done.wait()
        return response

    runner, url = await serve_on_localhost(handler)
    backend = AiohttpBackend()
    try:
        task = asyncio.ensure_future(backend.send(build_request("GET", url + "/x"), Progress()))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert backend._exchanges == {}
        connector = backend._session.connector
        assert connector is not None and not connector._acquired  # nothing held
    finally:
        done.set()
        await backend.aclose()
        await runner.cleanup()


async def test_an_answer_too_large_releases_its_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused part way (too large, read in chunks): the connection is not left held."""
    monkeypatch.setattr(_aiohttp_backend, "MAX_ANSWER_BYTES", 1000)
    done = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: no Content-Length
        await response.prepare(request)
        for _ in range(10):
            await response.write(b"x" * 500)
        await done.wait()
        return response

    runner, url = await serve_on_localhost(handler)
    backend = AiohttpBackend()
    try:
        with pytest.raises(ExchangeError):
            await backend.send(build_request("GET", url + "/x"), Progress())
        connector = backend._session.connector
        assert connector is not None and not connector._acquired
    finally:
        done.set()
        await backend.aclose()
        await runner.cleanup()


@pytest.mark.parametrize("base_url", ["http://[", "http://ａ@&%'"])
async def test_a_url_yarl_refuses_is_a_transport_error_as_before(base_url: str) -> None:
    """Regression (trial): a base URL the client accepts but yarl refuses made the call end
    with a bare ValueError from building the URL; aiohttp refuses it itself, as it did before
    (InvalidUrlClientError), and the call gets its TransportError, the token not shown."""
    assert _Urls()(base_url + "/x?access_token=SECRET") == base_url + "/x?access_token=SECRET"
    wire = WireClient(
        AiohttpBackend(), base_url=base_url, retry=RetryPolicy(max_attempts=1), clock=time.time
    )
    try:
        with pytest.raises(TransportError) as info:
            await wire.call("GET", "/cgi-bin/x", token=("access_token", "SECRET"))
        assert "InvalidUrlClientError" in str(info.value) and "SECRET" not in str(info.value)
    finally:
        await wire.aclose()
