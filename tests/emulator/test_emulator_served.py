"""The emulator served by uvicorn (httptools) inside the test's own event loop."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from wxprivacy import ComponentClient
from wxprivacy.emulator import Emulator, Faults, serve, start_server
from wxprivacy.emulator._serve import http_implementation

GP = "/cgi-bin/component/getprivacysetting"
UP = "/cgi-bin/component/uploadprivacyextfile"


async def tokens(http: httpx.AsyncClient, emu: Emulator, appid: str) -> str:
    """An authorizer access token fetched over HTTP."""
    body = {
        "component_appid": emu.component_appid,
        "component_appsecret": emu.component_appsecret,
        "component_verify_ticket": emu.component_verify_ticket,
    }
    answer = await http.post("/cgi-bin/component/api_component_token", json=body)
    ctoken = answer.json()["component_access_token"]
    body = {
        "component_appid": emu.component_appid,
        "authorizer_appid": appid,
        "authorizer_refresh_token": emu.refresh_token(appid),
    }
    answer = await http.post(
        "/cgi-bin/component/api_authorizer_token",
        params={"component_access_token": ctoken},
        json=body,
    )
    return str(answer.json()["authorizer_access_token"])


def refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def emu() -> Emulator:
    emu = Emulator()
    emu.add_authorizer("wx00000000000000aa", setting={"privacy_list": ["Album"]})
    return emu


async def test_served_by_uvicorn_with_httptools_in_the_tests_loop(emu: Emulator) -> None:
    assert http_implementation() == "httptools"  # the emulator extra installs it
    server = await start_server(emu)
    assert server.url == f"http://127.0.0.1:{server.port}"
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            state = (await http.get("/_emulator/state")).json()
            assert state["authorizers"][0]["undeclared"] == ["Album"]
            token = await tokens(http, emu, "wx00000000000000aa")
            answer = await http.post(GP, params={"access_token": token}, json={})
            assert answer.json()["errcode"] == 0
            assert answer.headers["content-type"] == "application/json; encoding=utf-8"
            assert answer.headers["server"] == "uvicorn"
    finally:
        await server.aclose()
    assert refused(server.port)
    assert emu.calls[GP] == 1


async def test_start_server_on_a_socket_of_ones_own(emu: Emulator) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    async with await start_server(emu, sock=sock) as server:
        assert server.port == port
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/_emulator/calls")).json() == {"calls": {}, "faults": {}}
    assert sock.fileno() == -1  # closed with the server
    assert refused(port)


async def test_start_server_leaves_the_signal_handlers_alone(emu: Emulator) -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    async with await start_server(emu):
        assert {sig: signal.getsignal(sig) for sig in before} == before
    assert {sig: signal.getsignal(sig) for sig in before} == before


async def test_closing_does_not_wait_for_idle_keep_alive_connections(emu: Emulator) -> None:
    server = await start_server(emu)
    async with httpx.AsyncClient(base_url=server.url) as http:
        for _ in range(3):  # one kept-alive connection, idle afterwards
            assert (await http.get("/_emulator/calls")).status_code == 200
        started = time.monotonic()
        await server.aclose()
        assert time.monotonic() - started < 1.5
        with pytest.raises(httpx.TransportError):
            await http.get("/_emulator/calls")


async def test_a_held_back_answer_ends_when_the_client_gives_up(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu.faults = Faults(timeout=1.0, paths=[GP], timeout_delay=60.0)
    server = await start_server(emu)
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
        token = await tokens(http, emu, "wx00000000000000aa")
        with pytest.raises(httpx.ReadTimeout):
            await http.post(GP, params={"access_token": token}, json={}, timeout=0.2)
    started = time.monotonic()
    await server.aclose()  # nothing is left running: no graceful-shutdown timeout to wait out
    assert time.monotonic() - started < 1.0
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")]


async def test_a_reset_is_acted_out_without_an_error_log(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu.faults = Faults(reset=1.0, paths=[GP])
    caplog.set_level(logging.INFO)
    async with await start_server(emu) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            token = await tokens(http, emu, "wx00000000000000aa")
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post(GP, params={"access_token": token}, json={})
    assert emu.faults_injected["reset"] == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_chunked_body_is_read_whole(emu: Emulator) -> None:
    async with await start_server(emu) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            token = await tokens(http, emu, "wx00000000000000aa")

            async def chunks() -> AsyncIterator[bytes]:
                for piece in (b'{"privacy', b'_ver"', b": 1}"):
                    yield piece

            answer = await http.post(GP, params={"access_token": token}, content=chunks())
            assert answer.request.headers["transfer-encoding"] == "chunked"
            assert answer.json()["errcode"] == 86074  # privacy_ver 1 was read: no live version


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_uploads_over_http_through_the_client(
    emu: Emulator, transport: str, tmp_path: Path
) -> None:
    path = tmp_path / "说明 (v2).txt"
    path.write_bytes("补充说明\r\n--\r\n".encode() * 500)
    async with await start_server(emu) as server:
        async with ComponentClient(
            emu.component_appid,
            emu.component_appsecret,
            base_url=server.url,
            transport=transport,  # type: ignore[arg-type]
        ) as client:
            await client.set_component_verify_ticket(emu.component_verify_ticket)
            appid = "wx00000000000000aa"
            await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
            media_id = await client.upload_privacy_ext_file(appid, path)
    assert emu.uploaded_media_ids(appid) == {media_id}


async def test_many_clients_at_once(emu: Emulator) -> None:
    async with await start_server(emu) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            token = await tokens(http, emu, "wx00000000000000aa")
            answers = await asyncio.gather(
                *(http.post(GP, params={"access_token": token}, json={}) for _ in range(200))
            )
    assert {a.json()["errcode"] for a in answers} == {0}
    assert emu.calls[GP] == 200


def test_serve_refuses_an_unknown_server_before_binding(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="server must be 'uvicorn'"):
        serve(emu, port=0, server="gunicorn")  # type: ignore[arg-type]
