"""The transport argument, the sharded httpx pool and the emulator's HTTP server, over sockets."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_factory import APPID as SURFACE_APPID
from client_factory import make as surface_make
from fakes import FakeWeChat
from transports import serve_on_localhost

from wxprivacy import (
    AccessToken,
    ComponentClient,
    InvalidArgumentError,
    MemoryTokenStore,
    PermissionDeniedError,
    PrivacySetting,
    ResponseFormatError,
    RetryPolicy,
    TransportError,
    paths,
)
from wxprivacy._aiohttp_backend import AiohttpBackend
from wxprivacy._http import create_backend
from wxprivacy._httpx_backend import HttpxBackend, ShardedTransport
from wxprivacy.emulator import Emulator, EmulatorServer, Faults, start_server

GP = "/cgi-bin/component/getprivacysetting"
KINDS = ["httpx", "aiohttp"]
ROOT = str(Path(__file__).resolve().parent.parent)


@pytest.fixture
async def served() -> AsyncIterator[tuple[Emulator, EmulatorServer]]:
    emu = Emulator(authorizers=40, seed=11)
    async with await start_server(emu) as server:
        yield emu, server


async def client_for(
    emu: Emulator, url: str, kind: str | None, **kwargs: object
) -> ComponentClient:
    client = ComponentClient(
        emu.component_appid,
        emu.component_appsecret,
        base_url=url,
        transport=kind,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    await client.set_component_verify_ticket(emu.component_verify_ticket)
    for appid in emu.authorizer_appids:
        await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
    return client


async def test_default_transport_is_aiohttp() -> None:
    async with ComponentClient("wx0000000000000000", "secret") as client:
        assert isinstance(client._wire.backend, AiohttpBackend)  # no httpx objects per call


async def test_httpx_transport_is_pools_of_four() -> None:
    async with ComponentClient("wx0000000000000000", "secret", transport="httpx") as client:
        backend = client._wire.backend
        assert isinstance(backend, HttpxBackend)
        transport = backend.http._transport
        assert isinstance(transport, ShardedTransport)
        assert transport.in_flight == [0] * 25  # 100 connections


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [1, 3, 10, 64, 250])
async def test_max_connections_bounds_what_is_in_flight(
    served: tuple[Emulator, EmulatorServer], kind: str, size: int
) -> None:
    emu, server = served
    emu.latency = 0.05  # every call holds its connection long enough to overlap
    client = await client_for(emu, server.url, kind, max_connections=size)
    async with client:
        appids = emu.authorizer_appids[:20]
        for appid in appids:
            await client.authorizer_access_token(appid)
        peak = [0]
        gate = client._wire._gate
        assert gate is not None

        async def watch() -> None:
            while True:
                peak[0] = max(peak[0], gate.in_use)
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        calls = (client.get_privacy_setting(a) for a in appids * 3)
        await asyncio.gather(*calls, return_exceptions=True)  # some authorizers answer 61007
        watcher.cancel()
        assert peak[0] == min(size, 60)  # every slot used, never more
        backend: Any = client._wire.backend
        if kind == "aiohttp":
            assert backend._session.connector.limit == size
        else:
            pools = backend.http._transport._pools
            assert sum(p._pool._max_connections for p in pools) >= size


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10", 65_536])
def test_max_connections_must_be_a_positive_int(bad: object) -> None:
    with pytest.raises(
        InvalidArgumentError, match="max_connections must be an int from 1 to 65535"
    ):
        ComponentClient("wx0000000000000000", "secret", max_connections=bad)  # type: ignore[arg-type]


async def test_unknown_transport_is_rejected() -> None:
    with pytest.raises(InvalidArgumentError, match="transport must be one of 'aiohttp', 'httpx'"):
        ComponentClient("wx0000000000000000", "secret", transport="requests")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="transport must be one of"):
        create_backend("h2")  # type: ignore[arg-type]


async def test_transport_with_a_callers_client_is_rejected() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(InvalidArgumentError, match="either http_client or transport"):
            ComponentClient("wx0000000000000000", "secret", http_client=http, transport="httpx")


@pytest.mark.parametrize("kind", [*KINDS, None])
async def test_batch_over_real_http_matches_ground_truth(
    served: tuple[Emulator, EmulatorServer], kind: str | None
) -> None:
    emu, server = served
    async with await client_for(emu, server.url, kind) as client:
        results = await client.get_privacy_settings(emu.authorizer_appids, concurrency=8)
    assert list(results) == emu.authorizer_appids
    for appid, result in results.items():
        if isinstance(result, PrivacySetting):
            assert sorted(result.undeclared_keys) == emu.expected_undeclared(appid)
        else:
            assert isinstance(result, PermissionDeniedError), result
    assert emu.calls[GP] == 40
    assert emu.calls["/cgi-bin/component/api_authorizer_token"] == 40
    assert emu.calls["/cgi-bin/component/api_component_token"] == 1


async def test_sharded_pool_spreads_requests_over_its_pools(
    served: tuple[Emulator, EmulatorServer],
) -> None:
    emu, server = served
    emu.latency = 0.05
    transport = ShardedTransport(shards=4, connections_per_shard=2)
    peaks: list[list[int]] = []

    async def one(http: httpx.AsyncClient) -> None:
        response = await http.get(server.url + "/cgi-bin/component/nothing_here")
        peaks.append(transport.in_flight)
        assert response.status_code == 404

    async with httpx.AsyncClient(transport=transport) as http:
        await asyncio.gather(*(one(http) for _ in range(16)))
        assert transport.in_flight == [0, 0, 0, 0]
    # 16 requests over 4 pools: the least busy pool takes each, so none holds more than 4
    assert max(max(p) for p in peaks) <= 4
    assert emu.calls["/cgi-bin/component/nothing_here"] == 16


@pytest.mark.parametrize("kind", KINDS)
async def test_reset_mid_response_may_have_been_sent(
    served: tuple[Emulator, EmulatorServer], kind: str
) -> None:
    emu, server = served
    emu.faults = Faults(reset=1.0, paths=[GP])
    once = RetryPolicy(max_attempts=1)
    async with await client_for(emu, server.url, kind, retry=once) as client:
        with pytest.raises(TransportError) as info:
            await client.get_privacy_setting(emu.authorizer_appids[0])
    assert info.value.maybe_sent is True
    assert emu.faults_injected["reset"] == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_refused_connection_proves_nothing_was_sent(kind: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        emu = Emulator(authorizers=1)
        once = RetryPolicy(max_attempts=1)
        async with await client_for(emu, f"http://127.0.0.1:{port}", kind, retry=once) as client:
            with pytest.raises(TransportError) as info:
                await client.get_privacy_setting(emu.authorizer_appids[0])
    assert info.value.maybe_sent is False


@pytest.mark.parametrize("kind", KINDS)
async def test_held_back_answer_is_a_read_timeout(
    served: tuple[Emulator, EmulatorServer], kind: str
) -> None:
    emu, server = served
    emu.faults = Faults(timeout=1.0, paths=[GP], timeout_delay=5.0)
    once = RetryPolicy(max_attempts=1)
    async with await client_for(
        emu, server.url, kind, retry=once, timeout=httpx.Timeout(0.3)
    ) as client:
        with pytest.raises(TransportError, match="Timeout") as info:
            await client.get_privacy_setting(emu.authorizer_appids[0])
    assert info.value.maybe_sent is True


@pytest.mark.parametrize("kind", KINDS)
async def test_truncated_body_is_a_format_error(
    served: tuple[Emulator, EmulatorServer], kind: str
) -> None:
    emu, server = served
    emu.faults = Faults(truncated=1.0, paths=[GP])
    configured = [a for a in emu.authorizer_appids if emu.profile(a) == "configured"][0]
    async with await client_for(emu, server.url, kind) as client:
        with pytest.raises(ResponseFormatError):
            await client.get_privacy_setting(configured)
    assert emu.calls[GP] == 1  # a body WeChat did send is not re-requested


async def test_server_keeps_connections_alive_and_honours_close(
    served: tuple[Emulator, EmulatorServer],
) -> None:
    _, server = served
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for _ in range(2):  # two requests on one connection
            writer.write(b"GET /_emulator/calls HTTP/1.1\r\nhost: x\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            assert b'"calls"' in await reader.readexactly(length)
        writer.write(b"GET /nowhere HTTP/1.1\r\nconnection: close\r\n\r\n")
        answer = await reader.read()  # the server closes after answering
        assert answer.startswith(b"HTTP/1.1 404 Not Found\r\n")
        assert b"connection: close" in answer
    finally:
        writer.close()
        await writer.wait_closed()


async def test_server_rejects_chunked_and_garbage(served: tuple[Emulator, EmulatorServer]) -> None:
    """uvicorn answers 400 and closes on a malformed chunked body and on a garbage request."""
    _, server = served
    host, port = server.url.removeprefix("http://").split(":")
    for raw in (
        b"POST /x HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        b"NONSENSE\r\n\r\n",
    ):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(raw)
        assert (await asyncio.wait_for(reader.read(), 10)).startswith(b"HTTP/1.1 400")
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("server", ["asyncio", "uvicorn"])
async def test_both_servers_run_from_the_command_line(server: str) -> None:
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "wxprivacy.emulator", "--port", "0", "--authorizers", "3", "--server", server),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=20)).decode()
        url = line.split()[-1]
        async with httpx.AsyncClient(base_url=url) as http:
            state = (await http.get("/_emulator/state")).json()
        assert len(state["authorizers"]) == 3
    finally:
        proc.terminate()
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=10)
    assert proc.returncode == 0, stderr.decode(errors="replace")


# -- regressions from the issue-6 trial (each with the exact input that failed) -------------------


async def _duplicate_content_length(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    with contextlib.suppress(Exception):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
    writer.close()


async def test_aiohttp_protocol_error_is_typed_and_redacted() -> None:
    server = await asyncio.start_server(_duplicate_content_length, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    component, appid, secret_token = "wx0000000000000000", "wxa000000000000000", "AT-never-0123"
    store = MemoryTokenStore()
    await store.set_authorizer_tokens(component, appid, AccessToken(secret_token, 4e9), "refresh")

    async def no_sleep(_s: float) -> None:
        return None

    try:
        async with ComponentClient(
            component,
            "secret",
            token_store=store,
            base_url=f"http://127.0.0.1:{port}",
            transport="aiohttp",
            retry=RetryPolicy(max_attempts=2),
            sleep=no_sleep,
        ) as client:
            with pytest.raises(TransportError) as info:
                await client.get_privacy_setting(appid)
    finally:
        server.close()
        await server.wait_closed()
    assert secret_token not in str(info.value)


# -- regressions from a new-user trial (each with the exact failing input) ------------------------


async def test_gzip_header_with_plain_body_is_a_format_error() -> None:
    fake = FakeWeChat()
    client = await surface_make(fake)
    await client.authorizer_access_token(SURFACE_APPID)
    fake.script[paths.GET_PRIVACY_SETTING] = [
        lambda _r: httpx.Response(200, content=b"not gzip", headers={"Content-Encoding": "gzip"})
    ]
    with pytest.raises(ResponseFormatError, match="DecodingError"):
        await client.get_privacy_setting(SURFACE_APPID)


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_no_cookie_is_kept_or_sent_over_the_sdks_own_clients(transport: str) -> None:
    """A cookie one authorizer's answer sets is never sent with another's request, over either
    client the SDK makes (``transport="httpx"`` kept them: noticed in an earlier round); the
    server is named ``localhost`` (:func:`transports.serve_on_localhost`)."""
    from aiohttp import web

    from wxprivacy._deadline import Progress
    from wxprivacy._exchange import build_request

    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Cookie"))
        response = web.json_response({"errcode": 0})
        response.set_cookie("session", request.query.get("access_token", ""))
        return response

    runner, base = await serve_on_localhost(handler)
    url = base + "/x"
    client = ComponentClient("wx0000000000000000", "s" * 32, transport=transport)  # type: ignore[arg-type]
    try:
        for index in range(4):
            request = build_request("POST", url, token=("access_token", f"t{index}"))
            answer = await client._wire.backend.send(request, Progress())
            assert answer.status == 200
        assert seen == [None] * 4
    finally:
        await client.aclose()
        await runner.cleanup()
