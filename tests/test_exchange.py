"""The exchange (``_exchange.py``) and its two backends against raw HTTP answers, on both.

Regressions from the trial of the native aiohttp exchange (issue 10), each the exact answer that
failed: a chunked body cut short (was a non-retried ResponseFormatError on aiohttp),
``Content-Encoding: br`` (was retried 4 times as a network error), ``aclose()`` under a call in
flight (was a TransportError, or a result and leaked sockets on ``transport="httpx"``),
``aclose()`` from another loop (was silent or a bare RuntimeError), bytes after a credential
answer (aiohttp quoted them), and an answer past the size limit (read whole).
"""

from __future__ import annotations

import asyncio
import gc
import json
import warnings
from collections.abc import Callable

import pytest

from wxprivacy import (
    ClientClosedError,
    ComponentClient,
    PrivacySetting,
    ResponseFormatError,
    RetryPolicy,
    TransportError,
    WrongEventLoopError,
)
from wxprivacy.emulator import Emulator, start_server

C = "wx0000000000000000"
A = "wx1111111111111111"
GP = "/cgi-bin/component/getprivacysetting"
KINDS = ["aiohttp", "httpx"]
FAST = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
SECRET_TOKEN = "authorizer-token-s3cr3t-value"

Answer = Callable[[int], bytes]


def _json(body: dict[str, object]) -> bytes:
    data = json.dumps(body).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data) + data


TOKENS = {
    "/cgi-bin/component/api_component_token": _json(
        {"component_access_token": "component-token", "expires_in": 7200}
    ),
    "/cgi-bin/component/api_authorizer_token": _json(
        {
            "authorizer_access_token": SECRET_TOKEN,
            "expires_in": 7200,
            "authorizer_refresh_token": "refresh",
        }
    ),
}


class RawServer:
    """Answers the token endpoints normally and getprivacysetting with ``answer(n)`` bytes (the
    n-th request, from 1), then closes the connection."""

    def __init__(self, answer: Answer, token_answer: bytes | None = None) -> None:
        self.answer = answer
        self.token_answer = token_answer
        self.requests = 0
        self.url = ""

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            path = head.split(b" ")[1].split(b"?")[0].decode()
            if path == GP:
                self.requests += 1
                writer.write(self.answer(self.requests))
            elif path.endswith("api_authorizer_token") and self.token_answer is not None:
                writer.write(self.token_answer)
            else:
                writer.write(TOKENS[path])
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def _client(url: str, kind: str, **kwargs: object) -> ComponentClient:
    client = ComponentClient(C, "secret", base_url=url, transport=kind, **kwargs)  # type: ignore[arg-type]
    await client.set_component_verify_ticket("ticket")
    await client.set_authorizer_refresh_token(A, "refresh")
    return client


PRIVACY = json.dumps({"errcode": 0, "errmsg": "ok", "code_exist": 1}).encode()
GOOD = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(PRIVACY) + PRIVACY


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cut", [0, 1, 10, 50])
async def test_a_chunked_body_cut_short_is_a_network_error_and_retried(kind: str, cut: int) -> None:
    def answer(n: int) -> bytes:
        if n == 1:
            return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n" + PRIVACY[:cut]
        return GOOD

    async with RawServer(answer) as server:
        async with await _client(server.url, kind, retry=FAST) as client:
            assert isinstance(await client.get_privacy_setting(A), PrivacySetting)
    assert server.requests == 2  # retried once, like any network failure


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("encoding", [b"br", b"zstd", b"gzip", b"deflate", b"x-unknown"])
async def test_a_body_that_contradicts_its_encoding_is_not_retried(
    kind: str, encoding: bytes
) -> None:
    def answer(_n: int) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n"
            % (encoding, len(PRIVACY))
            + PRIVACY
        )

    async with RawServer(answer) as server:
        async with await _client(server.url, kind, retry=FAST) as client:
            try:
                outcome: object = await client.get_privacy_setting(A)
            except (ResponseFormatError, TransportError) as exc:
                outcome = exc
    # httpx passes an encoding it does not know through as is; aiohttp refuses it: either way,
    # no network error and no retry
    assert isinstance(outcome, PrivacySetting | ResponseFormatError), outcome
    assert server.requests == 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("attempts", [1, 4])
async def test_a_call_cut_by_aclose_says_the_client_was_closed(kind: str, attempts: int) -> None:
    emu = Emulator(authorizers=8, seed=2)
    async with await start_server(emu) as server:
        client = ComponentClient(
            emu.component_appid,
            emu.component_appsecret,
            base_url=server.url,
            transport=kind,  # type: ignore[arg-type]
            retry=RetryPolicy(max_attempts=attempts),
            max_connections=4,
        )
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        for appid in emu.authorizer_appids:
            await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
            await client.authorizer_access_token(appid)
        emu.latency = 0.3
        calls = [asyncio.create_task(client.get_privacy_setting(a)) for a in emu.authorizer_appids]
        await asyncio.sleep(0.05)
        await client.aclose()
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(o, ClientClosedError) for o in outcomes), outcomes
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        gc.collect()  # no socket left open


@pytest.mark.parametrize("kind", KINDS)
def test_aclose_on_another_loop_is_refused(kind: str) -> None:
    async def serve_and_use() -> tuple[ComponentClient, RawServer]:
        server = RawServer(lambda _n: GOOD)
        await server.__aenter__()
        client = await _client(server.url, kind)
        await client.get_privacy_setting(A)
        return client, server

    loop = asyncio.new_event_loop()
    try:
        client, server = loop.run_until_complete(serve_and_use())
        with pytest.raises(WrongEventLoopError, match="aclose"):
            asyncio.run(client.aclose())
        loop.run_until_complete(client.aclose())  # on its own loop it closes
        loop.run_until_complete(server.__aexit__())
    finally:
        loop.close()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "extra", [b"garbage after the body", b"HTTP/1.1 999 " + SECRET_TOKEN.encode(), b"\x00" * 40]
)
async def test_a_broken_credential_answer_is_never_quoted(kind: str, extra: bytes) -> None:
    body = json.dumps(
        {
            "authorizer_access_token": SECRET_TOKEN,
            "expires_in": 7200,
            "authorizer_refresh_token": "r",
        }
    ).encode()
    broken = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body + extra
    async with RawServer(lambda _n: GOOD, token_answer=broken) as server:
        async with await _client(server.url, kind, retry=RetryPolicy(max_attempts=1)) as client:
            try:
                await client.authorizer_access_token(A)
            except (TransportError, ResponseFormatError) as exc:
                text = f"{exc} {exc!r}"
                assert SECRET_TOKEN not in text
                assert "authorizer_access_token" not in text.replace("/api_authorizer_token", "")


def _big(kind: str) -> bytes:
    import gzip

    size = 16 * 1024 * 1024 + 1  # one byte past the limit, after decompression
    data = b'{"errcode":0,"pad":"' + b"x" * (size - 22) + b'"}'
    if kind == "gzip":
        packed = gzip.compress(data, compresslevel=1)  # a few KB on the wire
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
        return head % len(packed) + packed
    if kind == "chunked":
        step = 1 << 20
        parts = [data[i : i + step] for i in range(0, len(data), step)]
        chunks = b"".join(b"%x\r\n" % len(part) + part + b"\r\n" for part in parts)
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data) + data


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", ["plain", "gzip", "chunked"])
async def test_an_answer_past_the_size_limit_is_refused_not_retried(kind: str, shape: str) -> None:
    """Found by the trial: a 300 KB gzip answer that expands to 300 MB was read whole."""
    big = _big(shape)
    async with RawServer(lambda _n: big) as server:
        async with await _client(server.url, kind, retry=FAST) as client:
            with pytest.raises(ResponseFormatError, match="AnswerTooLarge"):
                await client.get_privacy_setting(A)
    assert server.requests == 1
